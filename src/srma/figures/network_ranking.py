"""The rankogram of a network: each treatment's probabilities of every rank, with SUCRA.

:func:`rankogram` draws, for every treatment, the probability of ranking 1st
(best), 2nd, ... T-th as bars and the cumulative probability of ranking r-th or
better as a line, whose area under it over ``T - 1`` is SUCRA (Salanti, Ades &
Ioannidis 2011, J Clin Epidemiol 64:163, fig. 3).  Panels are ordered by SUCRA,
best first.  The probabilities come from
:func:`srma.stats.network.ranking.rank_probabilities` (seeded draws from the
network estimates' normal distribution); nothing is recomputed here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from srma.figures.axes import new_figure
from srma.figures.network import FONT_SIZE, NODE_COLOUR
from srma.figures.text import literal, no_tex
from srma.formatting import format_number

#: Size of one treatment's panel and the most panels in a row, in inches.
PANEL_WIDTH = 2.1
PANEL_HEIGHT = 1.75
PANELS_PER_ROW = 4
CUMULATIVE_COLOUR = "#b35900"


def rankogram(
    treatments: Sequence[str],
    probabilities: ArrayLike,
    *,
    sucra: ArrayLike,
    draws: int,
    small_values_good: bool,
    title: str | None = None,
) -> Figure:
    """Draw one panel per treatment (best SUCRA first): bars ``probabilities[t, r]`` of
    rank ``r + 1`` and the cumulative line ``sum_{s <= r} probabilities[t, s]``.

    ``probabilities`` is treatment x rank (each row sums to 1); ``sucra`` per treatment;
    ``draws`` the number of draws they come from (said in the footnote).
    """
    p = np.asarray(probabilities, dtype=float)
    scores = np.asarray(sucra, dtype=float)
    count = len(treatments)
    if p.shape != (count, count) or scores.shape != (count,):
        raise ValueError(
            f"rankogram needs a {count} x {count} matrix of rank probabilities and {count} "
            f"SUCRA values, got {p.shape} and {scores.shape}"
        )
    order = np.argsort(-scores, kind="stable")
    columns = min(count, PANELS_PER_ROW)
    rows = -(-count // columns)
    head = 0.45 if title else 0.15
    foot = 0.45
    width, height = columns * PANEL_WIDTH, head + rows * PANEL_HEIGHT + foot
    fig = new_figure(width, height)
    ranks = np.arange(1, count + 1)
    for slot, t in enumerate(order):
        row, column = divmod(slot, columns)
        left = (column * PANEL_WIDTH + 0.45) / width
        bottom = (foot + (rows - 1 - row) * PANEL_HEIGHT + 0.35) / height
        ax = fig.add_axes(
            (left, bottom, (PANEL_WIDTH - 0.6) / width, (PANEL_HEIGHT - 0.7) / height)
        )
        ax.bar(ranks, p[t], color=NODE_COLOUR, width=0.7, gid="rank-probability")
        ax.plot(ranks, np.cumsum(p[t]), color=CUMULATIVE_COLOUR, marker="o", markersize=2.5,
                linewidth=1.0, gid="cumulative")  # fmt: skip
        ax.set_ylim(0, 1.02)
        ax.set_xlim(0.4, count + 0.6)
        ax.set_xticks(ranks if count <= 10 else ranks[:: max(1, count // 8)])
        ax.tick_params(labelsize=FONT_SIZE - 2, length=2)
        for side in ("right", "top"):
            ax.spines[side].set_visible(False)
        ax.set_title(
            literal(f"{treatments[t]}\nSUCRA {format_number(100 * scores[t], 1)}%"),
            fontsize=FONT_SIZE - 1, loc="left", pad=3,
        )  # fmt: skip
        if column == 0:
            ax.set_ylabel("Probability", fontsize=FONT_SIZE - 2)
        if row == rows - 1:
            ax.set_xlabel("Rank (1 = best)", fontsize=FONT_SIZE - 2)
    better = "smaller" if small_values_good else "larger"
    fig.text(
        0.05 / width, 0.08 / height,
        f"Bars: probability of each rank; line: of that rank or better ({draws:,} draws, "
        f"{better} values better). SUCRA: area under the line (Salanti 2011)",
        fontsize=FONT_SIZE - 2, color="0.35", ha="left", va="bottom", gid="footnote",
    )  # fmt: skip
    if title:
        fig.text(0.05 / width, 1 - 0.08 / height, literal(title), fontsize=10, ha="left",
                 va="top")  # fmt: skip
    return no_tex(fig)
