"""The recall curve of a screening simulation, as ASReview plots it.

Recall (relevant records found / all relevant) against the number of records
screened, for one or more simulations of the same labelled set, with the
expected curve of screening in random order (the diagonal, recall = k / N)
and, for each simulation, a mark where 95% recall is reached: the horizontal
distance from that mark to the diagonal is the work saved (WSS@95, Cohen et
al. 2006, J Am Med Inform Assoc 13:206-219).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from srma.figures.axes import new_axes
from srma.figures.text import literal, no_tex
from srma.review.screen.simulation import Simulation

COLOURS = ("#1f4e79", "#b22222", "#2e7d32", "#6a1b9a")


def recall_plot(simulations: Sequence[Simulation], *, title: str | None = None) -> Figure:
    """Recall curves of ``simulations`` (same data set) with the random-order diagonal."""
    if not simulations:
        raise ValueError("no simulation to draw")
    n_records = simulations[0].n_records
    if any(s.n_records != n_records for s in simulations):
        raise ValueError("the simulations are of data sets of different sizes")
    fig, ax = new_axes(6.5, 5.0)
    screened = np.arange(0, n_records + 1)
    ax.plot(screened, screened / n_records, color="grey", linestyle="--", linewidth=1,
            label="random order (expected)")  # fmt: skip
    for simulation, colour in zip(simulations, COLOURS, strict=False):
        recall = np.concatenate([[0.0], simulation.recall])
        at95 = simulation.screened_to_recall[0.95]
        label = literal(
            f"{simulation.model.replace('_', ' ')}: 95% recall after {at95} "
            f"(WSS@95 {simulation.wss95:.3f}, RRF@10 {simulation.rrf10:.3f})"
        )
        ax.step(screened, recall, where="post", color=colour, linewidth=1.5, label=label)
        ax.plot([at95], [recall[at95]], marker="o", markerfacecolor="none", color=colour,
                markersize=7)  # fmt: skip
    ax.axhline(0.95, color="grey", linewidth=0.6, linestyle=":")
    ax.set_xlim(0, n_records)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(f"Records screened (of {n_records})")
    ax.set_ylabel(f"Recall ({simulations[0].n_relevant} relevant records)")
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    if title:
        ax.set_title(literal(title), loc="left", fontsize=11)
    fig.tight_layout()
    return no_tex(fig)
