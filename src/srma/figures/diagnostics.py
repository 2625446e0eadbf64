"""Diagnostic figures: Baujat, GOSH, bubble (meta-regression), L'Abbé and radial (Galbraith).

Each draws a result object computed elsewhere; nothing is re-estimated here.
References: Baujat et al. (2002) Stat Med 21:2641-2652; Olkin, Dahabreh &
Trikalinos (2012) Res Synth Methods 3:214-223; Thompson & Higgins (2002) Stat
Med 21:1559-1573 (bubble plots); L'Abbé, Detsky & O'Rourke (1987) Ann Intern
Med 107:224-233; Galbraith (1988) Stat Med 7:889-894.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from srma.analysis.metareg import MetaRegressionResult
from srma.analysis.results import MetaResult
from srma.analysis.sensitivity import BaujatResult, GoshResult
from srma.figures.axes import new_axes
from srma.figures.text import literal, no_tex
from srma.formatting import format_number, format_p
from srma.vocabulary import RATIO_MEASURES

POINT = "#1f4e79"
ACCENT = "#b22222"


def baujat_plot(result: BaujatResult, *, title: str | None = None) -> Figure:
    """Each study's contribution to heterogeneity (x) against its influence on the result (y)."""
    fig, ax = new_axes(6.5, 5.0)
    x, y = np.asarray(result.heterogeneity_contribution), np.asarray(result.influence_on_result)
    ax.scatter(x, y, color=POINT, s=20)
    for label, xi, yi in zip(result.labels, x, y, strict=True):
        ax.annotate(literal(label), (xi, yi), textcoords="offset points", xytext=(4, 3), fontsize=7)
    ax.set_xlabel("Squared Pearson residual (contribution to heterogeneity)")
    ax.set_ylabel("Influence on the pooled result")
    if title:
        ax.set_title(literal(title), loc="left", fontsize=11)
    fig.tight_layout()
    return no_tex(fig)


def gosh_plot(result: GoshResult, *, title: str | None = None) -> Figure:
    """Pooled estimate against I² of every fitted subset (hexagonal bins for many subsets)."""
    fig, ax = new_axes(6.5, 5.0)
    usable = np.isfinite(result.estimate) & np.isfinite(result.i2)
    if usable.sum() > 5000:
        image = ax.hexbin(
            result.estimate[usable],
            result.i2[usable],
            gridsize=80,
            bins="log",
            cmap="Blues",
            mincnt=1,
        )
        fig.colorbar(image, ax=ax, label="subsets (log scale)")
    else:
        ax.scatter(result.estimate[usable], result.i2[usable], s=6, alpha=0.4, color=POINT)
    ax.set_xlabel("Pooled estimate")
    ax.set_ylabel("I² (%)")
    kind = "all" if result.exact else "a random sample of"
    ax.set_title(
        literal(title or f"GOSH: {kind} {result.subsets:,} subsets ({result.method})"),
        loc="left",
        fontsize=11,
    )
    fig.tight_layout()
    return no_tex(fig)


def bubble_plot(
    result: MetaRegressionResult, moderator: str, *, title: str | None = None
) -> Figure:
    """Effects against a continuous moderator, bubbles sized by weight, with the fitted line."""
    data = result.bubble_data(moderator)
    studies, line = data["studies"], data["line"]
    fig, ax = new_axes(6.5, 5.0)
    ax.fill_between(
        line[moderator],
        line["ci_lower"],
        line["ci_upper"],
        color=POINT,
        alpha=0.15,
        label="95% CI" if result.level == 0.95 else "CI",
    )
    ax.plot(line[moderator], line["prediction"], color=POINT, label="Fitted")
    ax.plot(line[moderator], line["pi_lower"], color=POINT, linestyle=":", label="Prediction")
    ax.plot(line[moderator], line["pi_upper"], color=POINT, linestyle=":")
    ax.scatter(
        studies[moderator],
        studies["yi"],
        s=20 + 10 * studies["weight"],
        facecolors="none",
        edgecolors="black",
    )
    ax.set_xlabel(literal(moderator))
    ax.set_ylabel(
        literal(
            f"{result.measure or 'Effect'}"
            + (" (log scale)" if result.measure in RATIO_MEASURES else "")
        )
    )
    ax.legend(fontsize=8, frameon=False)
    ax.set_title(
        literal(title or f"Meta-regression on {moderator} ({format_p(result.pvalue[1])})"),
        loc="left",
        fontsize=11,
    )
    fig.tight_layout()
    return no_tex(fig)


def labbe_plot(
    counts: pd.DataFrame, result: MetaResult | None = None, *, title: str | None = None
) -> Figure:
    """Event risk in group 1 against group 2, one bubble per study (``events1, total1, ...``).

    With a pooled risk ratio or odds ratio, its line ``p1 = f(p2)`` is drawn too.
    """
    p1 = counts["events1"] / counts["total1"]
    p2 = counts["events2"] / counts["total2"]
    size = counts["total1"] + counts["total2"]
    fig, ax = new_axes(5.5, 5.5)
    ax.scatter(p2, p1, s=20 + 200 * size / size.max(), facecolors="none", edgecolors=POINT)
    grid = np.linspace(0.0, 1.0, 101)
    ax.plot(grid, grid, color="grey", linewidth=0.8, label="No effect")
    if result is not None and result.estimate is not None and result.measure in ("RR", "OR"):
        ratio = float(np.exp(result.estimate))
        if result.measure == "RR":
            fitted = np.clip(ratio * grid, 0, 1)
        else:
            odds = ratio * grid / (1 - np.where(grid < 1, grid, np.nan))
            fitted = odds / (1 + odds)
        pooled = f"Pooled {result.measure} = {format_number(ratio)}"
        ax.plot(grid, fitted, color=ACCENT, label=pooled)
    limit = min(1.0, 1.1 * float(max(p1.max(), p2.max())))  # zoom in on rare events
    ax.set_xlim(0, limit)
    ax.set_ylim(0, limit)
    ax.set_xlabel("Event risk, group 2")
    ax.set_ylabel("Event risk, group 1")
    ax.legend(fontsize=8, frameon=False)
    if title:
        ax.set_title(literal(title), loc="left", fontsize=11)
    fig.tight_layout()
    return no_tex(fig)


def radial_plot(result: MetaResult, *, title: str | None = None) -> Figure:
    """Galbraith's plot: ``y_i / se_i`` against ``1 / se_i``, the pooled slope and ±2 bands."""
    frame = result.to_frame()
    precision = 1.0 / frame["se"]
    z = frame["yi"] / frame["se"]
    fig, ax = new_axes(6.0, 5.0)
    ax.scatter(precision, z, color=POINT, s=20)
    grid = np.linspace(0.0, float(precision.max()) * 1.05, 50)
    ax.plot(grid, result.estimate * grid, color=ACCENT, label="Pooled estimate")
    ax.plot(grid, result.estimate * grid + 2, color=ACCENT, linestyle=":", label="±2")
    ax.plot(grid, result.estimate * grid - 2, color=ACCENT, linestyle=":")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set_xlabel("Precision (1 / SE)")
    ax.set_ylabel("Standardised effect (y / SE)")
    ax.legend(fontsize=8, frameon=False)
    if title:
        ax.set_title(literal(title), loc="left", fontsize=11)
    fig.tight_layout()
    return no_tex(fig)
