"""Risk-of-bias figures: the traffic-light plot and the summary bar plot (robvis's layouts).

Colours follow the Cochrane convention (green low, yellow some concerns or
unclear, red high, dark red critical, blue no information) or a colour-blind
safe palette (robvis's "colourblind"); each judgement also has a symbol, so
the figures read in black and white.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from srma.errors import InputError
from srma.figures.axes import new_figure
from srma.figures.symbols import centred_texts
from srma.figures.text import literal, no_tex
from srma.review.appraise.risk_of_bias import RobAssessment

PALETTES: dict[str, dict[str, str]] = {
    "cochrane": {
        "Low": "#02C100",
        "Some concerns": "#E2DF07",
        "Unclear": "#E2DF07",
        "Moderate": "#E2DF07",
        "High": "#BF0000",
        "Serious": "#BF0000",
        "Critical": "#820000",
        "No information": "#4EA1F7",
    },
    "colourblind": {
        "Low": "#FED98E",
        "Some concerns": "#FE9929",
        "Unclear": "#FE9929",
        "Moderate": "#FE9929",
        "High": "#D95F0E",
        "Serious": "#D95F0E",
        "Critical": "#993404",
        "No information": "#FFFFFF",
    },
}
SYMBOLS = {
    "Low": "+",
    "Some concerns": "-",
    "Unclear": "?",
    "Moderate": "-",
    "High": "x",
    "Serious": "x",
    "Critical": "!",
    "No information": "?",
}


def _palette(name: str) -> dict[str, str]:
    if name not in PALETTES:
        raise InputError(f"unknown palette {name!r}; expected {', '.join(PALETTES)}")
    return PALETTES[name]


def traffic_light(
    assessment: RobAssessment, *, palette: str = "cochrane", title: str | None = None
) -> Figure:
    """One row per study, one coloured dot with a symbol per domain (and overall).

    The dots are one scatter per judgement and the symbols one collection per symbol
    (:mod:`srma.figures.symbols`), so the figure draws in a second at 300 studies.
    """
    colours = _palette(palette)
    columns = [f"D{i + 1}" for i in range(len(assessment.domains))]
    grid = [list(row) for row in assessment.judgements]
    if assessment.overall is not None:
        columns.append("Overall")
        for row, overall in zip(grid, assessment.overall, strict=True):
            row.append(overall)
    n_rows, n_cols = len(grid), len(columns)
    label_width = max(len(s) for s in assessment.studies) * 0.075 + 0.3
    domain_lines = len(assessment.domains) + 2
    width = max(label_width + 0.55 * n_cols + 0.6, 6.5)
    height = 0.42 * n_rows + 0.9 + 0.2 * domain_lines + (0.3 if title else 0)
    fig = new_figure(width, height)
    legend_height = (0.2 * domain_lines + 0.2) / height
    ax = fig.add_axes(
        (
            label_width / width,
            legend_height + 0.02,
            (0.55 * n_cols) / width,
            1 - legend_height - (0.55 + (0.3 if title else 0)) / height,
        )
    )
    # one collection per judgement for the dots and per symbol for the marks, whatever k
    rows, cols = np.divmod(np.arange(n_rows * n_cols), n_cols)
    flat = [judgement for row in grid for judgement in row]
    for judgement in dict.fromkeys(flat):
        chosen = np.array([j == judgement for j in flat])
        ax.scatter(
            cols[chosen],
            rows[chosen],
            s=380,
            color=colours[judgement],
            edgecolors="#555555",
            linewidths=0.5,
            zorder=2,
        )
    for marks in centred_texts(
        cols,
        rows,
        [SYMBOLS[j] for j in flat],
        transform=ax.transData,
        fontsize=10,
        fontweight="bold",
        zorder=3,
    ):
        ax.add_collection(marks, autolim=False)
    ax.set_xlim(-0.6, n_cols - 0.4)
    ax.set_ylim(n_rows - 0.4, -0.6)
    ax.set_xticks(range(n_cols), columns)
    ax.xaxis.tick_top()
    ax.set_yticks(range(n_rows), [literal(study) for study in assessment.studies])
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_axisbelow(True)
    ax.grid(color="#e0e0e0", linewidth=0.8)
    lines = [literal(f"D{i + 1}: {name}") for i, name in enumerate(assessment.domains)]
    fig.text(
        0.02, legend_height - 0.02, "Domains:\n" + "\n".join(lines), fontsize=8, va="top", ha="left"
    )
    used = [j for j in assessment.tool.judgements if any(j in row for row in grid)]
    handles = [
        Patch(facecolor=colours[j], edgecolor="#555555", label=literal(f"{SYMBOLS[j]}  {j}"))
        for j in used
    ]
    fig.legend(
        handles=handles,
        loc="lower right",
        fontsize=8,
        frameon=False,
        title="Judgement",
        title_fontsize=8,
    )
    if title:
        fig.suptitle(literal(title), x=0.02, ha="left", fontsize=11)
    return no_tex(fig)


def summary_plot(
    assessment: RobAssessment,
    *,
    weighted: bool = False,
    palette: str = "cochrane",
    title: str | None = None,
) -> Figure:
    """Stacked bars: the share of studies (or of weight) with each judgement, per domain."""
    colours = _palette(palette)
    shares = assessment.proportions(weighted=weighted)
    labels = list(shares.index)
    label_width = max(len(s) for s in labels) * 0.075 + 0.4
    width = label_width + 6.0
    height = 0.4 * len(labels) + 1.5 + (0.3 if title else 0)
    fig = new_figure(width, height)
    ax = fig.add_axes(
        (
            label_width / width,
            0.9 / height,
            5.6 / width,
            1 - (1.35 + (0.3 if title else 0)) / height,
        )
    )
    left = np.zeros(len(labels))
    for judgement in assessment.tool.judgements:
        values = shares[judgement].to_numpy()
        if not values.any():
            continue
        ax.barh(
            range(len(labels)),
            values,
            left=left,
            color=colours[judgement],
            edgecolor="#555555",
            linewidth=0.5,
            label=literal(judgement),
            height=0.7,
        )
        left += values
    ax.set_yticks(range(len(labels)), [literal(label) for label in labels])
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 25, 50, 75, 100], ["0%", "25%", "50%", "75%", "100%"])
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4, fontsize=8, frameon=False)
    if title:
        fig.suptitle(literal(title), x=0.02, ha="left", fontsize=11)
    return no_tex(fig)
