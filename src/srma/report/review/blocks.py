"""The pieces a review report is made of, written once and rendered as HTML or DOCX.

A report is a list of blocks: headings, paragraphs (with references cited),
tables (a data frame and its caption), figures (how to draw a matplotlib figure,
and its caption; a forest plot also carries how to redraw it narrower for the
page; :mod:`srma.report.review.render` draws them, in parallel processes)
and the summary-of-findings part a caller supplies.  Nothing here computes a
number: each block holds text already written from result objects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from matplotlib.figure import Figure


@dataclass(frozen=True)
class Heading:
    text: str
    level: int = 1


@dataclass(frozen=True)
class Text:
    """A paragraph; ``note`` paragraphs are set smaller (a reason, a caution)."""

    text: str
    note: bool = False


@dataclass(frozen=True)
class Items:
    """A bulleted list (the policy's decisions, the eligibility criteria)."""

    items: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Table:
    """A table; ``name`` names the CSV it is written to when longer than ``max_rows``."""

    frame: pd.DataFrame
    caption: str
    name: str


@dataclass(frozen=True, eq=False)
class Picture:
    """A figure, drawn by ``draw()`` when the report is rendered; ``redraw(plot_width)``
    draws it again with a narrower plot column (a forest plot's ``draw()`` draws it at
    :data:`srma.figures.forest.PLOT_WIDTH`)."""

    draw: Callable[[], Figure]
    caption: str
    redraw: Callable[[float], Figure] | None = None


@dataclass(frozen=True)
class SofPart:
    """The summary of findings, supplied by the caller (:mod:`srma.report.sof`).

    ``html`` is an HTML ``<section>`` fragment (autoescaped by its writer);
    ``add_to_docx`` adds the table to a python-docx ``Document``.
    """

    html: str
    add_to_docx: Callable[[Any], None]


@dataclass(frozen=True)
class Sof:
    """Where the summary of findings goes in the report (None: the reason is said instead)."""

    part: SofPart | None


Block = Heading | Text | Items | Table | Picture | Sof


@dataclass
class Report:
    """The blocks of a review report and the references they cite, in order."""

    title: str
    blocks: list[Block] = field(default_factory=list)
    references: list[str] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)

    def cite(self, *references: str) -> None:
        for reference in references:
            if reference not in self.references:
                self.references.append(reference)
