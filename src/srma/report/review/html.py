"""The review report as one self-contained HTML file (Jinja2, autoescaped, figures as SVG).

It reuses the one-outcome report's safety: the Content-Security-Policy that
allows no script, inline SVG checked to be inert (:func:`srma.report.document._svg`),
text with characters XML does not allow replaced, and long tables written to
CSV beside the report (:func:`srma.report.document.written_aside`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from markupsafe import Markup

from srma import __version__
from srma.report.document import (
    CONTENT_SECURITY_POLICY,
    ReportContent,
    _finalize,
    _html_table,
    written_aside,
)
from srma.report.review.blocks import Heading, Items, Picture, Report, Sof, Table, Text
from srma.report.review.render import RenderedPicture

NO_SOF = "No outcome has been rated with GRADE yet, so there is no summary of findings."


def write_review_html(
    report: Report, path: Path, holder: ReportContent, rendered: Mapping[int, RenderedPicture]
) -> Path:
    """Write ``report`` to ``path`` with its pictures as ``rendered`` (by block index, SVG);
    ``holder`` keeps ``max_rows`` and the CSVs written."""
    environment = Environment(
        loader=PackageLoader("srma.report", "templates"), autoescape=True, finalize=_finalize
    )
    counters = {"figure": 0, "table": 0}
    blocks: list[dict[str, Any]] = []
    for index, block in enumerate(report.blocks):
        if isinstance(block, Heading):
            blocks.append({"kind": "heading", "level": block.level + 1, "text": block.text})
        elif isinstance(block, Text):
            blocks.append({"kind": "text", "text": block.text, "note": block.note})
        elif isinstance(block, Items):
            blocks.append({"kind": "items", "entries": list(block.items)})
        elif isinstance(block, Table):
            counters["table"] += 1
            caption = f"Table {counters['table']}. {block.caption}"
            aside = written_aside(block.frame, path, block.name, holder)
            blocks.append({"kind": "table", "table": _html_table(block.frame, caption, aside)})
        elif isinstance(block, Picture):
            counters["figure"] += 1
            blocks.append(
                {
                    "kind": "figure",
                    "svg": rendered[index].svg,
                    "caption": f"Figure {counters['figure']}. {block.caption}",
                }
            )
        elif isinstance(block, Sof):
            if block.part is None:
                blocks.append({"kind": "text", "text": NO_SOF, "note": False})
            else:  # srma.report.sof writes the fragment with its own autoescaped template
                blocks.append({"kind": "raw", "html": Markup(block.part.html)})
    text = environment.get_template("review.html.j2").render(
        title=report.title,
        version=__version__,
        csp=CONTENT_SECURITY_POLICY,
        blocks=blocks,
        references=report.references,
    )
    path.write_text(text, encoding="utf-8")
    return path
