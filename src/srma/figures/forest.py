"""A forest plot drawn from a :class:`~srma.analysis.results.MetaResult`.

Nothing is recomputed here: per-study intervals and weights come from
``result.to_frame()``, the diamond, prediction interval and heterogeneity line
from the result's fields.  Ratio measures are drawn on a log axis in their
natural (exponentiated) units.  The figure grows with the number of studies
and the length of the labels, so nothing is clipped.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Polygon

from srma.analysis.results import MetaResult, format_p
from srma.figures.axes import ratio_axis

ROW_INCHES = 0.28
CHAR_INCHES = 0.075
FONT_SIZE = 9
SHORT_MODEL = {"EE": "common effect", "MH": "common effect, M-H", "PETO": "common effect, Peto"}


def _transform(result: MetaResult):
    return np.exp if result.is_ratio else (lambda values: values)


def _label_for_measure(result: MetaResult) -> str:
    names = {
        "MD": "Mean difference",
        "SMD": "Std. mean difference",
        "RR": "Risk ratio",
        "OR": "Odds ratio",
        "RD": "Risk difference",
        "PETO": "Peto odds ratio",
        "ROM": "Ratio of means",
        "COR": "Correlation",
        "ZCOR": "Fisher's z",
    }
    name = names.get(result.measure or "", "Effect")
    return f"{name} ({round(100 * result.level)}% CI)"


def _interval_text(estimate: float, lower: float, upper: float) -> str:
    return f"{estimate:.2f} [{lower:.2f}, {upper:.2f}]"


def forest_plot(
    result: MetaResult,
    *,
    favours: tuple[str, str] | None = None,
    title: str | None = None,
) -> Figure:
    """Draw the forest plot of ``result``; returns the matplotlib figure."""
    table = result.to_frame()
    transform = _transform(result)
    k = len(table)
    rows = k + 4  # studies, gap, pooled, heterogeneity line, test line
    label_width = max(len("Study"), *(len(label) for label in table["label"])) * CHAR_INCHES
    label_width = max(label_width, 2.2)  # room for the "Total" and interval rows
    width = label_width + 7.2
    bottom_inches = 1.45 if favours else 1.2
    height = rows * ROW_INCHES + bottom_inches + 0.45 + (0.3 if title else 0.0)
    fig = plt.figure(figsize=(width, height))
    left = (label_width + 0.3) / width
    plot_width = 3.4 / width
    bottom = bottom_inches / height
    top = 1.0 - (0.45 + (0.3 if title else 0.0)) / height
    ax = fig.add_axes((left, bottom, plot_width, top - bottom))
    y_study = np.arange(k, 0, -1) + 3.0
    y_pooled = 2.0

    estimate = transform(table["yi"].to_numpy())
    lower = transform(table["ci_lower"].to_numpy())
    upper = transform(table["ci_upper"].to_numpy())
    weights = table["weight"].to_numpy()
    finite = np.isfinite(estimate)
    sizes = 20.0 + 180.0 * np.sqrt(np.where(np.isfinite(weights), weights, 0.0) / 100.0)
    ax.hlines(y_study[finite], lower[finite], upper[finite], color="black", linewidth=1.0)
    ax.scatter(
        estimate[finite], y_study[finite], s=sizes[finite], marker="s", color="#1f4e79", zorder=3
    )

    pooled = transform(np.array([result.estimate, result.ci_lower, result.ci_upper]))
    diamond = Polygon(
        [
            (pooled[1], y_pooled),
            (pooled[0], y_pooled + 0.35),
            (pooled[2], y_pooled),
            (pooled[0], y_pooled - 0.35),
        ],
        closed=True,
        facecolor="black",
        edgecolor="black",
    )
    ax.add_patch(diamond)
    if result.pi_lower is not None:
        pi = transform(np.array([result.pi_lower, result.pi_upper]))
        ax.hlines(y_pooled - 0.6, pi[0], pi[1], color="#b22222", linewidth=2.0)

    null = 1.0 if result.is_ratio else 0.0
    ax.axvline(null, color="grey", linewidth=0.8)
    ax.axvline(pooled[0], color="grey", linewidth=0.6, linestyle=":")
    if result.is_ratio:
        ratio_axis(ax)
    values = np.concatenate([lower[finite], upper[finite], pooled, [null]])
    if result.pi_lower is not None:
        values = np.concatenate([values, pi])
    low, high = np.nanmin(values), np.nanmax(values)
    if result.is_ratio:
        pad = (high / low) ** 0.05
        ax.set_xlim(low / pad, high * pad)
    else:
        pad = 0.05 * (high - low or 1.0)
        ax.set_xlim(low - pad, high + pad)
    ax.set_ylim(0.3, rows + 0.2)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    ax.tick_params(axis="x", labelsize=FONT_SIZE - 1)
    ax.set_xlabel(_label_for_measure(result), fontsize=FONT_SIZE)

    def text(x_inches: float, y: float, content: str, **kwargs) -> None:
        fig_x = x_inches / width
        fig_y = ax.transData.transform((ax.get_xlim()[0], y))[1] / fig.dpi / height
        fig.text(fig_x, fig_y, content, fontsize=FONT_SIZE, va="center", **kwargs)

    fig.canvas.draw()
    header = rows + 0.2 - 0.6
    text(0.15, header, "Study", weight="bold")
    right = label_width + 0.3 + 3.4 + 0.25
    text(right, header, "Estimate [CI]", weight="bold")
    text(right + 2.2, header, "Weight", weight="bold")
    for row in range(k):
        text(0.15, y_study[row], str(table["label"].iloc[row]))
        if finite[row]:
            text(right, y_study[row], _interval_text(estimate[row], lower[row], upper[row]))
            text(right + 2.2, y_study[row], f"{weights[row]:.1f}%")
        else:
            text(right, y_study[row], "not estimable")
    model = SHORT_MODEL.get(result.method, f"random effects, {result.method}")
    text(0.15, y_pooled, f"Total ({model})", weight="bold")
    text(right, y_pooled, _interval_text(*pooled), weight="bold")
    text(right + 2.2, y_pooled, "100.0%", weight="bold")
    if result.pi_lower is not None:
        text(0.15, y_pooled - 0.6, "Prediction interval", color="#b22222")
        text(right, y_pooled - 0.6, f"[{pi[0]:.2f}, {pi[1]:.2f}]", color="#b22222")
    heterogeneity = []
    if result.tau2 is not None:
        heterogeneity.append(f"Tau² = {result.tau2:.4f}")
    if result.q is not None:
        heterogeneity.append(
            f"Chi² = {result.q:.2f}, df = {result.q_df:.0f} ({format_p(result.q_pvalue)}); "
            f"I² = {result.i2:.0f}%"
        )
    statistic = "Z" if result.df is None else f"t({result.df:.0f})"
    overall = (
        f"Test for overall effect: {statistic} = {abs(result.statistic):.2f} "
        f"({format_p(result.pvalue)})"
    )
    fig.text(
        0.15 / width,
        0.42 / height,
        ("Heterogeneity: " + "; ".join(heterogeneity)) if heterogeneity else "",
        fontsize=FONT_SIZE - 1,
    )
    fig.text(0.15 / width, 0.2 / height, overall, fontsize=FONT_SIZE - 1)
    if favours:
        favours_y = (bottom_inches - 0.72) / height
        fig.text(left, favours_y, f"Favours {favours[0]}", fontsize=FONT_SIZE - 1, ha="left")
        fig.text(
            left + plot_width,
            favours_y,
            f"Favours {favours[1]}",
            fontsize=FONT_SIZE - 1,
            ha="right",
        )
    if title:
        fig.suptitle(
            title, x=0.15 / width, ha="left", fontsize=FONT_SIZE + 2, y=1.0 - 0.15 / height
        )
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save as SVG, PNG (300 dpi) or PDF by the file's suffix, reproducibly."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".svg", ".png", ".pdf"):
        raise ValueError(f"unsupported figure format {suffix!r}; use .svg, .png or .pdf")
    metadata = {
        "svg": {"Date": None},
        "pdf": {"CreationDate": None, "ModDate": None},
        "png": {"Software": None},
    }[suffix[1:]]
    with matplotlib.rc_context({"svg.hashsalt": "srma", "svg.fonttype": "none"}):
        fig.savefig(path, dpi=300, metadata=metadata)
    return path
