"""Funnel plots, standard or contour-enhanced, drawn from result objects.

Standard error on the y axis (inverted, as in RevMan and metafor), effect on
the x axis (ratio measures on a log axis, in natural units); the pseudo 95%
confidence limits around the pooled estimate; optionally the contours of
p < 0.10, 0.05, 0.01 around the null (Peters et al. 2008), the studies imputed
by trim-and-fill (open red rings, apart from the filled observed dots) and
Egger's regression line.  Every number comes from the ``MetaResult``,
``FunnelContours``, ``TrimFillResult`` or ``RegressionTest`` passed in.
"""

from __future__ import annotations

import itertools

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from scipy.stats import norm

from srma.analysis.bias import FunnelContours, TrimFillResult
from srma.analysis.results import MetaResult
from srma.figures.axes import new_axes, ratio_axis
from srma.figures.text import literal, no_tex
from srma.formatting import format_p
from srma.stats.bias import RegressionTest

#: More points than this are drawn as one image in a vector file (SVG, PDF).
MAX_VECTOR_POINTS = 2000
#: Shades from the widest region inwards (metafor's contour-enhanced funnel uses greys).
CONTOUR_SHADES = ("#c8c8c8", "#8f8f8f")
#: Observed studies are filled dots; studies imputed by trim-and-fill open rings in red,
#: the colour of the trim-and-fill estimate's line.
STUDY_COLOUR = "#1f4e79"
IMPUTED_COLOUR = "#b22222"


def _marker_area(points: int) -> float:
    """matplotlib's default marker area (36 pt²) up to 100 points, shrinking as
    ``1/sqrt(n)`` beyond, so that a funnel of many studies still shows its shape."""
    return 36.0 * min(1.0, (100.0 / max(points, 1)) ** 0.5)


def funnel_plot(
    result: MetaResult,
    *,
    contours: FunnelContours | None = None,
    trimfill: TrimFillResult | None = None,
    egger: RegressionTest | None = None,
    title: str | None = None,
) -> Figure:
    """Draw the funnel plot of ``result`` with the optional layers."""
    frame = result.to_frame()
    ratio = result.is_ratio
    show = np.exp if ratio else (lambda values: np.asarray(values, dtype=float))
    se = frame["se"].to_numpy()
    top = float(np.nanmax(se)) * 1.05
    fig, ax = new_axes(8.0, 5.0)
    handles: list[Patch] = []
    if contours is not None:
        grid = np.asarray(contours.se)
        levels = sorted(contours.levels)  # smallest p first: the widest bounds
        shades = {
            level: CONTOUR_SHADES[min(i, len(CONTOUR_SHADES) - 1)] for i, level in enumerate(levels)
        }
        shades[levels[-1]] = "white"  # inside the narrowest bounds: not significant
        for level in levels:
            lower, upper = (np.asarray(part) for part in contours.levels[level])
            ax.fill_betweenx(
                grid, show(lower), show(upper), color=shades[level], zorder=0, linewidth=0
            )
        for wider, narrower in itertools.pairwise(levels):
            handles.append(
                Patch(
                    facecolor=shades[wider], edgecolor="grey", label=f"{narrower:g} > p > {wider:g}"
                )
            )
        handles.append(Patch(facecolor="white", edgecolor="grey", label=f"p > {levels[-1]:g}"))
        handles.append(
            Patch(facecolor="white", edgecolor="white", label=f"outside: p < {levels[0]:g}")
        )
    grid = np.linspace(0.0, top, 50)
    crit = norm.isf((1.0 - result.level) / 2.0)
    centre = result.estimate
    ax.plot(show(centre - crit * grid), grid, color="black", linestyle="--", linewidth=0.8)
    ax.plot(show(centre + crit * grid), grid, color="black", linestyle="--", linewidth=0.8)
    ax.axvline(show(centre), color="black", linewidth=0.8)
    # many points are one image in SVG and PDF, not one element each, and smaller
    many = len(frame) > MAX_VECTOR_POINTS
    ax.scatter(
        show(frame["yi"]),
        se,
        s=_marker_area(len(frame)),
        color=STUDY_COLOUR,
        zorder=3,
        label="Studies",
        rasterized=many,
    )
    if trimfill is not None and trimfill.k0:
        ax.scatter(
            show(trimfill.imputed_yi),
            np.sqrt(trimfill.imputed_vi),
            s=_marker_area(len(frame)),
            facecolors="none",
            edgecolors=IMPUTED_COLOUR,
            linewidths=1.2,
            zorder=4,
            label=f"Imputed ({trimfill.k0})",
            rasterized=trimfill.k0 > MAX_VECTOR_POINTS,
        )
        ax.axvline(
            show(trimfill.filled.estimate),
            color=IMPUTED_COLOUR,
            linewidth=0.8,
            linestyle=":",
            label="Trim-and-fill estimate",
        )
    if egger is not None and egger.limit_estimate is not None:
        # Egger's fitted line: y = limit + bias * se
        ax.plot(
            show(egger.limit_estimate + egger.coefficient * grid),
            grid,
            color="#b22222",
            linewidth=1.0,
            label=f"Egger's line ({format_p(egger.pvalue)})",
        )
    if ratio:
        ratio_axis(ax)
    ax.set_ylim(top, 0.0)
    ax.set_ylabel("Standard error")
    ax.set_xlabel(literal(f"{result.measure or 'Effect'}" + (" (log scale)" if ratio else "")))
    points, names = ax.get_legend_handles_labels()
    ax.legend(
        [*points, *handles],
        [*names, *(h.get_label() for h in handles)],
        fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.0),
        frameon=False,
    )
    if title:
        ax.set_title(literal(title), loc="left", fontsize=11)
    fig.tight_layout()  # after the legend, which sits right of the axes
    return no_tex(fig)
