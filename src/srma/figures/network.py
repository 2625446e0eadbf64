"""Figures of a network meta-analysis, drawn from a :class:`~srma.analysis.network.NetworkResult`.

* :func:`network_graph`: the treatments on a circle (clockwise from the top, in the
  result's order), an edge between two treatments that some study compares, its width
  growing with the number of studies making the comparison (a multi-arm study makes every
  pair of its arms, as netmeta's ``netgraph`` counts) or with the precision of its direct
  estimate, the study count written on the edge, the edge optionally coloured by risk of
  bias; each node's area grows with the participants randomised to the treatment (or,
  without group sizes, the studies including it), written beside its label outside the
  circle.  What it counts is in :mod:`srma.figures.network_edges`.
* :func:`network_forest`: every treatment against the reference, sorted by P-score
  (Rücker & Schwarzer 2015), best first, with the estimate, its CI and the P-score as text;
  ratio measures on a log axis in natural units, as :mod:`srma.figures.forest` draws them.
* :func:`league_table_figure`: the league table, cell (row, column) the row treatment
  against the column treatment, ``estimate [lower, upper]`` on the reported scale
  (exponentiated for OR and RR), the treatments' names on the diagonal.

Nothing is recomputed: estimates, intervals and P-scores come from the result, study
counts from the contrasts it analysed.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from srma.analysis.network import LOG_MEASURES, NetworkResult
from srma.errors import InputError
from srma.figures.axes import new_figure, ratio_axis
from srma.figures.network_edges import (
    NOT_JUDGED,
    ROB_COLOURS,
    ROB_LEVELS,
    direct_precision,
    edge_risk_of_bias,
    study_counts,
)
from srma.figures.text import literal, no_tex
from srma.formatting import format_estimate_ci, format_number
from srma.vocabulary import MEASURE_NAMES

#: Colours of nodes and edges (the forest's squares) and of the league table's diagonal.
NODE_COLOUR = "#1f4e79"
EDGE_COLOUR = "#7f9fbf"
DIAGONAL_COLOUR = "#dde6f0"
FONT_SIZE = 9
#: Width of one character of FONT_SIZE text, in inches (as the forest plot sizes its columns).
CHAR_INCHES = 0.072
#: Widest edge and largest node, in points and points².
MAX_EDGE_POINTS = 8.0
MIN_EDGE_POINTS = 1.0
MAX_NODE_AREA = 600.0
MIN_NODE_AREA = 60.0
ROW_INCHES = 0.3
#: Band above a forest or league table for its title, in inches.
TITLE_INCHES = 0.35
PLOT_WIDTH = 3.0
#: Radius of the network graph's circle, in inches.
GRAPH_RADIUS = 2.0
#: Room above and below the circle for a label, and under it for the key, in inches.
LABEL_INCHES = 0.55
FOOTNOTE_INCHES = 0.3
#: Room under the graph for the risk-of-bias legend, in inches.
LEGEND_INCHES = 0.5
#: What an edge's width can follow.
EDGE_WIDTHS = ("studies", "precision")


def _is_ratio(result: NetworkResult) -> bool:
    return result.measure in LOG_MEASURES


def _measure_name(result: NetworkResult) -> str:
    return MEASURE_NAMES.get(result.measure, "Effect")


def _better(result: NetworkResult) -> str:
    return (
        "smaller values are better"
        if result.small_values == "good"
        else ("larger values are better")
    )


def _scaled(values: np.ndarray, smallest: float, largest: float) -> np.ndarray:
    """``values`` mapped linearly from ``(0, max]`` onto ``(smallest, largest]``."""
    top = float(values.max()) if values.size else 0.0
    if top <= 0:
        return np.full(values.shape, smallest)
    return smallest + (largest - smallest) * values / top


def _count_text(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def network_graph(
    result: NetworkResult,
    *,
    edge_width: str = "studies",
    risk_of_bias: Mapping[str, object] | None = None,
    title: str | None = None,
) -> Figure:
    """Draw the network: treatments on a circle, nodes sized by participants, edges by
    studies or precision, optionally coloured by risk of bias.

    Node area is proportional to the participants randomised to the treatment
    (``result.participants``, written after its label as ``name (n)``), or, where the
    table has no group sizes (GEN, contrasts), to the number of studies including it;
    the footnote says which.  Edge width (:data:`MIN_EDGE_POINTS` for the smallest to
    :data:`MAX_EDGE_POINTS` for the largest) is proportional to the number of studies
    making the comparison (``edge_width="studies"``, :func:`study_counts`) or to the
    precision of its direct estimate (``"precision"``, :func:`direct_precision`); the
    number of studies is written at the edge's middle either way.  ``risk_of_bias`` maps
    study labels to their overall judgement (:func:`risk_of_bias_levels`); each edge is
    then coloured by the majority judgement of the studies making it
    (:func:`edge_risk_of_bias`), in robvis's colours, with a legend; studies without a
    judgement count as not judged (grey) and are never dropped.
    """
    if edge_width not in EDGE_WIDTHS:
        raise InputError(f"edge_width must be one of {', '.join(EDGE_WIDTHS)}, got {edge_width!r}")
    per_treatment, per_pair = study_counts(result)
    by_participants = result.participants is not None
    node_values = (
        np.asarray(result.participants, dtype=float)
        if by_participants
        else per_treatment.astype(float)
    )
    count = len(result.treatments)
    # clockwise from the top: angle_i = pi/2 - 2 pi i / T
    angles = np.pi / 2 - 2 * np.pi * np.arange(count) / max(count, 1)
    x, y = np.cos(angles), np.sin(angles)
    labels = [
        literal(f"{name} ({_count_text(node_values[i])})")
        for i, name in enumerate(result.treatments)
    ]
    longest = max(len(label) for label in labels)
    margin = longest * CHAR_INCHES + 0.35  # room for a label beside the circle, in inches
    radius = GRAPH_RADIUS
    width, tall = 2 * (radius + margin), 2 * (radius + LABEL_INCHES)
    extra = 0.4 if title else 0.0
    key = LEGEND_INCHES if risk_of_bias is not None else 0.0
    bottom = FOOTNOTE_INCHES + key
    height = tall + bottom + extra
    fig = new_figure(width, height)
    ax = fig.add_axes((0.0, bottom / height, 1.0, tall / height))
    ax.set_axis_off()
    # the circle has radius 1 in data units and GRAPH_RADIUS inches, in both directions
    ax.set_xlim(-width / (2 * radius), width / (2 * radius))
    ax.set_ylim(-tall / (2 * radius), tall / (2 * radius))
    pairs = [(a, b) for a in range(count) for b in range(a + 1, count) if per_pair[a, b] > 0]
    studies = np.array([per_pair[a, b] for a, b in pairs], dtype=float)
    if edge_width == "precision":
        precision = direct_precision(result)
        sizes = np.array([precision[a, b] for a, b in pairs])
    else:
        sizes = studies
    colours: list[str] | str = EDGE_COLOUR
    judgements: np.ndarray | None = None
    if risk_of_bias is not None:
        judgements = edge_risk_of_bias(result, risk_of_bias)
        colours = [ROB_COLOURS[judgements[a, b]] for a, b in pairs]
    edges = LineCollection(
        [((x[a], y[a]), (x[b], y[b])) for a, b in pairs],
        linewidths=_scaled(sizes, MIN_EDGE_POINTS, MAX_EDGE_POINTS),
        colors=colours,
        zorder=1,
        gid="edges",
    )
    ax.add_collection(edges)
    for (a, b), number in zip(pairs, studies, strict=True):
        ax.text(
            (x[a] + x[b]) / 2, (y[a] + y[b]) / 2, f"{number:g}", fontsize=FONT_SIZE - 1,
            ha="center", va="center", zorder=3, gid="edge-count",
            bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none"},
        )  # fmt: skip
    ax.scatter(
        x, y, s=_scaled(node_values, MIN_NODE_AREA, MAX_NODE_AREA),
        color=NODE_COLOUR, zorder=2, gid="nodes",
    )  # fmt: skip
    for i, label in enumerate(labels):
        horizontal = "center" if abs(x[i]) < 0.2 else ("left" if x[i] > 0 else "right")
        vertical = (
            "center" if abs(y[i]) >= 0.2 or abs(x[i]) >= 0.2 else ("bottom" if y[i] > 0 else "top")
        )
        ax.text(
            1.16 * x[i], 1.16 * y[i], label, fontsize=FONT_SIZE, ha=horizontal, va=vertical,
            gid="treatment",
        )  # fmt: skip
    if title:
        fig.suptitle(literal(title), x=0.02, ha="left", fontsize=11)
    if judgements is not None:
        shown = [*ROB_LEVELS, *([NOT_JUDGED] if NOT_JUDGED in judgements else [])]
        fig.legend(
            handles=[Line2D([], [], color=ROB_COLOURS[level], linewidth=4) for level in shown],
            labels=shown, loc="center", ncol=len(shown), frameon=False,
            fontsize=FONT_SIZE - 1, title="Risk of bias (majority of the studies)",
            title_fontsize=FONT_SIZE - 1,
            bbox_to_anchor=(0.5, (FOOTNOTE_INCHES + key / 2) / height),
        )  # fmt: skip
    edge_key = (
        "edge width: precision of the direct estimate, numbers: studies"
        if edge_width == "precision"
        else "edges: studies making the comparison"
    )
    node_key = "(n): participants" if by_participants else "(n): studies including the treatment"
    fig.text(
        0.5, 0.5 * FOOTNOTE_INCHES / height, f"{edge_key[0].upper()}{edge_key[1:]}; {node_key}",
        fontsize=FONT_SIZE - 1, ha="center", va="center", color="0.35", gid="footnote",
    )  # fmt: skip
    return no_tex(fig)


def network_forest(result: NetworkResult, *, title: str | None = None) -> Figure:
    """Draw every treatment against the reference, sorted by P-score (best first).

    Columns: treatment, estimate with its CI (``level``), P-score; the plot shows the
    estimate and CI on the reported scale (log axis for OR and RR) with the line of no
    effect.  The x-axis title names the reference and the direction of benefit.
    """
    score = dict(zip(result.treatments, result.pscores, strict=True))
    rows = sorted(result.estimates, key=lambda row: -score[row.treatment])
    ratio = _is_ratio(result)
    show = np.exp if ratio else np.asarray
    labels = [literal(row.treatment) for row in rows]
    texts = [
        format_estimate_ci(*(float(v) for v in show([row.estimate, row.ci_lower, row.ci_upper])))
        for row in rows
    ]
    label_width = max(len(label) for label in [*labels, "Treatment"]) * CHAR_INCHES + 0.2
    text_width = max(len(text) for text in texts) * CHAR_INCHES + 0.3
    score_width = 0.8
    height = TITLE_INCHES + ROW_INCHES * (len(rows) + 1) + 0.8
    width = label_width + PLOT_WIDTH + text_width + score_width + 0.3
    fig = new_figure(width, height)
    bottom = 0.75 / height
    top = 1 - (TITLE_INCHES + ROW_INCHES) / height
    ax = fig.add_axes((label_width / width, bottom, PLOT_WIDTH / width, top - bottom))
    positions = np.arange(len(rows))[::-1].astype(float)
    estimates = show(np.array([row.estimate for row in rows]))
    lower = show(np.array([row.ci_lower for row in rows]))
    upper = show(np.array([row.ci_upper for row in rows]))
    ax.hlines(positions, lower, upper, color="black", linewidth=1.0)
    ax.plot(estimates, positions, "s", color=NODE_COLOUR, markersize=6, linestyle="none")
    ax.axvline(1.0 if ratio else 0.0, color="black", linewidth=0.8)
    if ratio:
        ratio_axis(ax)
        span = np.concatenate([lower, upper])
        ax.set_xlim(min(span.min(), 0.9) / 1.2, max(span.max(), 1.1) * 1.2)
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=FONT_SIZE - 1)
    percent = round(100 * result.level)
    scale = " (log scale)" if ratio else ""
    ax.set_xlabel(
        literal(f"{_measure_name(result)}{scale} vs {result.reference}; {_better(result)}"),
        fontsize=FONT_SIZE,
    )
    transform = ax.get_yaxis_transform()  # x in axes units, y in data
    left = -label_width / PLOT_WIDTH + 0.05 / PLOT_WIDTH
    text_x = 1.0 + 0.2 / PLOT_WIDTH
    score_x = 1.0 + (text_width + score_width - 0.1) / PLOT_WIDTH
    header = len(rows) - 0.3 + 0.05
    cells = {"weight": "bold", "fontsize": FONT_SIZE, "transform": transform, "va": "bottom"}
    ax.text(left, header, "Treatment", ha="left", clip_on=False, **cells)
    ax.text(text_x, header, f"Estimate [{percent}% CI]", ha="left", clip_on=False, **cells)
    ax.text(score_x, header, "P-score", ha="right", clip_on=False, **cells)
    for position, label, text, row in zip(positions, labels, texts, rows, strict=True):
        common = {"fontsize": FONT_SIZE, "transform": transform, "va": "center", "clip_on": False}
        ax.text(left, position, label, ha="left", gid="treatment", **common)
        ax.text(text_x, position, text, ha="left", gid="estimate", **common)
        ax.text(
            score_x, position, format_number(score[row.treatment], 3), ha="right",
            gid="pscore", **common,
        )  # fmt: skip
    heading = (
        title or f"Network meta-analysis ({result.method}): every treatment vs {result.reference}"
    )
    fig.text(0.05 / width, 1 - 0.08 / height, literal(heading), fontsize=10, ha="left", va="top")
    return no_tex(fig)


def league_table_figure(
    result: NetworkResult, *, digits: int = 2, title: str | None = None
) -> Figure:
    """Draw the league table: cell (row, column) is the row treatment against the column one.

    Each off-diagonal cell reads ``estimate [lower, upper]`` (``level`` CI) on the
    reported scale, exponentiated for OR and RR; the diagonal names the treatment.
    Treatments follow ``result.treatments``.
    """
    ratio = _is_ratio(result)
    display = result.league_display(digits)
    count = len(display)
    cells = [
        [literal(text) if i == j else text for j, text in enumerate(line)]
        for i, line in enumerate(display.to_numpy().tolist())
    ]
    longest = max(len(text) for line in cells for text in line)
    cell_width = longest * CHAR_INCHES + 0.25
    cell_height = 0.36
    head = 0.6 if title else 0.45
    width, height = count * cell_width + 0.2, count * cell_height + head + 0.1
    fig = new_figure(width, height)
    ax = fig.add_axes((0.1 / width, 0.1 / height, count * cell_width / width,
                       count * cell_height / height))  # fmt: skip
    ax.set_xlim(0, count)
    ax.set_ylim(count, 0)
    ax.set_axis_off()
    for i in range(count):
        for j in range(count):
            diagonal = i == j
            ax.add_patch(Rectangle(
                (j, i), 1, 1, facecolor=DIAGONAL_COLOUR if diagonal else "white",
                edgecolor="0.6", linewidth=0.6, clip_on=False,
            ))  # fmt: skip
            ax.text(
                j + 0.5, i + 0.5, cells[i][j], ha="center", va="center", fontsize=FONT_SIZE,
                weight="bold" if diagonal else "normal",
                gid="treatment" if diagonal else "cell",
            )  # fmt: skip
    percent = round(100 * result.level)
    scale = f"{_measure_name(result)} [{percent}% CI]"
    heading = title or f"League table ({result.method})"
    fig.text(0.1 / width, 1 - 0.08 / height, literal(heading), fontsize=10, ha="left", va="top")
    fig.text(
        0.1 / width, 1 - (head - 0.08) / height,
        literal(f"{scale} of the row treatment vs the column treatment (row minus column"
                + (" on the log scale, shown exponentiated" if ratio else "")
                + f"); {_better(result)}"),
        fontsize=FONT_SIZE - 1, ha="left", va="bottom", color="0.25",
    )  # fmt: skip
    return no_tex(fig)
