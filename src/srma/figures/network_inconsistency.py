"""Figures of inconsistency in a network: the node-split forest and the net heat plot.

* :func:`node_split_forest`: for each comparison with both direct and indirect evidence
  (``result.node_split``), the direct, indirect and network estimates with their CIs and
  the p-value of direct minus indirect, as netmeta's ``forest.netsplit`` draws them
  (comparisons with direct evidence only are left out, as there, and counted in a
  footnote).
* :func:`net_heat_plot`: the net heat plot of Krahn, Binder & König (2013, BMC Med Res
  Methodol 13:35) from a :class:`~srma.stats.network.inconsistency.NetHeat`.

Nothing is recomputed: the numbers come from the result or the net heat matrix.
"""

from __future__ import annotations

import numpy as np
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from scipy.cluster.hierarchy import leaves_list, linkage
from scipy.spatial.distance import pdist
from scipy.stats import norm

from srma.analysis.network import NetworkResult
from srma.figures.axes import new_figure, ratio_axis
from srma.figures.network import (
    CHAR_INCHES,
    FONT_SIZE,
    NODE_COLOUR,
    PLOT_WIDTH,
    ROW_INCHES,
    TITLE_INCHES,
    _better,
    _is_ratio,
    _measure_name,
)
from srma.figures.text import literal, no_tex
from srma.formatting import format_estimate_ci, format_p
from srma.stats.network.inconsistency import NetHeat

#: Marker and colour of each kind of estimate in the node-split forest.
SPLIT_STYLES = {
    "Direct": ("s", NODE_COLOUR),
    "Indirect": ("D", "#b35900"),
    "Network": ("o", "black"),
}
#: The net heat matrix is drawn between -HEAT_LIMIT and HEAT_LIMIT (netmeta caps at 8).
HEAT_LIMIT = 8.0
#: Designs whose inconsistency contribution is at most this are left out (netmeta's
#: ``sqrt(.Machine$double.eps)``).
HEAT_TOLERANCE = float(np.sqrt(np.finfo(float).eps))
HEAT_CELL_INCHES = 0.45


def node_split_forest(result: NetworkResult, *, title: str | None = None) -> Figure:
    """Direct, indirect and network estimate of every comparison with indirect evidence.

    One block per comparison ``treatment vs vs`` (``result.node_split`` order), headed by
    the comparison and the p-value of ``direct - indirect`` (SIDE, König et al. 2013);
    rows Direct, Indirect, Network with ``estimate [lower, upper]`` at ``result.level``
    (Wald intervals, ``estimate ± z se``, as netmeta's ``netsplit``).  OR and RR on a log
    axis in natural units.  Comparisons with direct evidence only have no indirect
    estimate to compare and are left out (counted in the footnote).
    """
    split = [row for row in result.node_split if row.indirect is not None]
    left_out = len(result.node_split) - len(split)
    if not split:
        raise ValueError(
            "no comparison has both direct and indirect evidence: the network has no loop, "
            "so there is nothing to split"
        )
    ratio = _is_ratio(result)
    show = np.exp if ratio else np.asarray
    z = float(norm.isf((1 - result.level) / 2))
    lines: list[tuple[str, str, float, float, str]] = []  # label, kind, estimate, se, gid
    for row in split:
        lines.append((f"{row.treatment} vs {row.vs}", "", np.nan, np.nan, "comparison"))
        for kind, estimate, se in (
            ("Direct", row.direct, row.direct_se),
            ("Indirect", row.indirect, row.indirect_se),
            ("Network", row.network, row.network_se),
        ):
            lines.append((kind, kind, float(estimate), float(se), "estimate"))
    estimate = np.array([line[2] for line in lines])
    se = np.array([line[3] for line in lines])
    shown = [show([e, e - z * s, e + z * s]) for e, s in zip(estimate, se, strict=True)]
    texts = [
        "" if not line[1] else format_estimate_ci(*(float(v) for v in values))
        for line, values in zip(lines, shown, strict=True)
    ]
    labels = [literal(line[0]) if not line[1] else f"   {line[1]}" for line in lines]
    label_width = max(len(label) for label in labels) * CHAR_INCHES + 0.3
    text_width = max(len(text) for text in [*texts, "Estimate [95% CI]"]) * CHAR_INCHES + 0.3
    p_width = 1.1
    height = TITLE_INCHES + ROW_INCHES * (len(lines) + 1) + 1.3
    width = label_width + PLOT_WIDTH + text_width + p_width + 0.2
    fig = new_figure(width, height)
    bottom = 1.25 / height
    top = 1 - (TITLE_INCHES + ROW_INCHES) / height
    ax = fig.add_axes((label_width / width, bottom, PLOT_WIDTH / width, top - bottom))
    positions = np.arange(len(lines))[::-1].astype(float)
    values = np.array(shown)
    for kind, (marker, colour) in SPLIT_STYLES.items():
        rows = [i for i, line in enumerate(lines) if line[1] == kind]
        ax.hlines(positions[rows], values[rows, 1], values[rows, 2], color=colour, linewidth=1.0)
        ax.plot(
            values[rows, 0], positions[rows], marker, color=colour, markersize=5,
            linestyle="none", label=kind, gid=f"split-{kind.lower()}",
        )  # fmt: skip
    ax.axvline(1.0 if ratio else 0.0, color="black", linewidth=0.8)
    finite = values[np.isfinite(values[:, 0])]
    if ratio:
        ratio_axis(ax)
        ax.set_xlim(min(finite[:, 1].min(), 0.9) / 1.2, max(finite[:, 2].max(), 1.1) * 1.2)
    ax.set_ylim(-0.7, len(lines) - 0.3)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=FONT_SIZE - 1)
    scale = " (log scale)" if ratio else ""
    ax.set_xlabel(
        literal(f"{_measure_name(result)}{scale}, first treatment vs second; {_better(result)}"),
        fontsize=FONT_SIZE,
    )
    transform = ax.get_yaxis_transform()
    left = -label_width / PLOT_WIDTH + 0.05 / PLOT_WIDTH
    text_x = 1.0 + 0.2 / PLOT_WIDTH
    p_x = 1.0 + (text_width + p_width - 0.1) / PLOT_WIDTH
    header = len(lines) - 0.3 + 0.05
    bold = {"weight": "bold", "fontsize": FONT_SIZE, "transform": transform, "va": "bottom"}
    percent = round(100 * result.level)
    ax.text(left, header, "Comparison", ha="left", clip_on=False, **bold)
    ax.text(text_x, header, f"Estimate [{percent}% CI]", ha="left", clip_on=False, **bold)
    ax.text(p_x, header, "p (dir. − ind.)", ha="right", clip_on=False, **bold)
    block = 0
    for position, label, text, line in zip(positions, labels, texts, lines, strict=True):
        common = {"fontsize": FONT_SIZE, "transform": transform, "va": "center", "clip_on": False}
        if line[4] == "comparison":
            ax.text(left, position, label, ha="left", weight="bold", gid="comparison", **common)
            pvalue = split[block].pvalue
            ax.text(
                p_x, position, format_p(pvalue).removeprefix("p ").removeprefix("= "),
                ha="right", gid="split-pvalue", **common,
            )  # fmt: skip
            block += 1
        else:
            ax.text(left, position, label, ha="left", gid="kind", **common)
            ax.text(text_x, position, text, ha="left", gid="estimate", **common)
    fig.legend(
        *ax.get_legend_handles_labels(), loc="center", ncol=3, frameon=False,
        fontsize=FONT_SIZE - 1,
        bbox_to_anchor=((label_width + PLOT_WIDTH / 2) / width, 0.45 / height),
    )  # fmt: skip
    note = f"Direct, indirect (back-calculated, SIDE) and network estimates ({result.method})"
    if left_out:
        note += (
            f"; {left_out} comparison{'s' if left_out > 1 else ''} with direct evidence only "
            "not shown"
        )
    fig.text(0.05 / width, 0.08 / height, literal(note), fontsize=FONT_SIZE - 1,
             color="0.35", ha="left", va="bottom", gid="footnote")  # fmt: skip
    heading = title or f"Node-splitting: direct vs indirect evidence ({result.method})"
    fig.text(0.05 / width, 1 - 0.08 / height, literal(heading), fontsize=10, ha="left", va="top")
    return no_tex(fig)


def heat_designs(heat: NetHeat, *, cluster: bool = True) -> list[int]:
    """The designs a net heat plot shows, in the order it shows them.

    Designs whose inconsistency contribution ``|Q_inc_d|`` is at most
    :data:`HEAT_TOLERANCE` are left out (netmeta's ``showall = FALSE``: designs in a
    tree-like part of the network, or whose removal cuts it, carry no inconsistency).
    With ``cluster``, the rest are ordered as netmeta orders them: complete-linkage
    hierarchical clustering on the Manhattan distances between the rows of ``-matrix``
    plus those between its columns.
    """
    kept = np.flatnonzero(np.abs(np.asarray(heat.q_inconsistency)) > HEAT_TOLERANCE)
    if not cluster or kept.size < 3:
        return kept.tolist()
    part = -np.asarray(heat.matrix)[np.ix_(kept, kept)]
    distance = pdist(part, "cityblock") + pdist(part.T, "cityblock")
    return kept[leaves_list(linkage(distance, method="complete"))].tolist()


def net_heat_plot(heat: NetHeat, *, cluster: bool = True, title: str | None = None) -> Figure:
    """The net heat plot (Krahn, Binder & König 2013, section "Net heat plot").

    Cell (row ``d``, column ``e``) is coloured by ``heat.matrix[d, e]``, the fall in the
    inconsistency contribution of design ``d`` when design ``e`` is detached (given its
    own parameters): red where detaching ``e`` lowers the inconsistency in ``d`` (the
    evidence of ``e`` conflicts with that of ``d``), blue where it raises it (``e``
    supports ``d``); the diagonal is ``Q_inc_d`` itself.  The colour scale runs from
    ``-8`` to ``8`` (netmeta caps the values there), so pale cells mean little change.
    Designs without inconsistency are left out and the rest clustered
    (:func:`heat_designs`).

    netmeta also draws, in each cell, a grey square whose area is the contribution of
    design ``e``'s direct estimate to design ``d``'s network estimate (the design-level
    hat matrix); :class:`NetHeat` does not carry that matrix, and it is defined per
    comparison of a multi-arm design rather than per design, so the squares are left out
    here: the colours, which locate the inconsistency, are drawn alone.
    """
    shown = heat_designs(heat, cluster=cluster)
    if len(shown) < 2:
        raise ValueError(
            "the net heat plot needs at least two designs contributing to inconsistency; "
            f"this network has {len(shown)} (no loop, or only one loop of designs)"
        )
    names = [literal(heat.design_names[d]) for d in shown]
    matrix = np.asarray(heat.matrix)[np.ix_(shown, shown)]
    count = len(shown)
    # the names are drawn one point smaller than FONT_SIZE, so narrower by 8/9
    longest = max(len(name) for name in names) * CHAR_INCHES * (FONT_SIZE - 1) / FONT_SIZE + 0.2
    side = count * HEAT_CELL_INCHES
    bar = 0.9
    head = 0.4 if title else 0.1
    footnote = (
        "Rows: designs; columns: the design detached. Red: less inconsistency once detached; "
        "blue: more"
    )
    # at least as wide as the footnote (drawn two points smaller than FONT_SIZE)
    width = max(longest + side + bar, len(footnote) * CHAR_INCHES * (FONT_SIZE - 2) / FONT_SIZE)
    height = head + longest + side + 0.55
    fig = new_figure(width, height)
    ax = fig.add_axes((longest / width, 0.55 / height, side / width, side / height))
    norm_ = Normalize(-HEAT_LIMIT, HEAT_LIMIT)
    image = ax.imshow(
        np.clip(matrix, -HEAT_LIMIT, HEAT_LIMIT), cmap="RdBu_r", norm=norm_,
        extent=(0, count, count, 0), interpolation="nearest", gid="heat",
    )  # fmt: skip
    ax.set_xticks(np.arange(count) + 0.5, names, rotation=90, fontsize=FONT_SIZE - 1)
    ax.set_yticks(np.arange(count) + 0.5, names, fontsize=FONT_SIZE - 1)
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    ax.set_xticks(np.arange(count + 1), minor=True)
    ax.set_yticks(np.arange(count + 1), minor=True)
    ax.grid(which="minor", color="white", linewidth=1.0)
    ax.tick_params(which="minor", length=0)
    colourbar_ax = fig.add_axes(
        ((longest + side + 0.15) / width, 0.55 / height, 0.15 / width, side / height)
    )
    colourbar = fig.colorbar(image, cax=colourbar_ax)
    colourbar.ax.tick_params(labelsize=FONT_SIZE - 1)
    fig.text(
        0.05 / width, 0.08 / height, footnote,
        fontsize=FONT_SIZE - 2, color="0.35", ha="left", va="bottom", gid="footnote",
    )  # fmt: skip
    if title:
        fig.text(0.05 / width, 1 - 0.08 / height, literal(title), fontsize=10, ha="left",
                 va="top")  # fmt: skip
    return no_tex(fig)
