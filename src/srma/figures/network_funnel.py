"""The comparison-adjusted funnel plot of a network (Chaimani & Salanti 2012, Res Synth
Methods 3:161; Chaimani et al. 2013, PLoS ONE 8:e76654; netmeta's ``funnel.netmeta``).

Each point is one pairwise comparison of one study, ``y_iXY - mu_XY`` against its
standard error, ``X`` before ``Y`` in the user's ``order`` and ``mu_XY`` the direct
estimate of ``XY`` under the fitted model (:mod:`srma.stats.network.funnel`); points
are coloured and shaped by comparison, with the pseudo confidence limits ``0 ± z se``
and, optionally, Egger's test on the adjusted effects.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from scipy.stats import norm

from srma.analysis.network import NetworkResult
from srma.errors import InputError
from srma.figures.axes import new_axes, ratio_axis
from srma.figures.network import _is_ratio, _measure_name
from srma.figures.text import literal, no_tex
from srma.formatting import format_p
from srma.stats.network.funnel import ComparisonAdjusted, adjusted_egger, comparison_adjusted

#: Markers cycled through the comparisons with matplotlib's ten tab10 colours: seven
#: markers against ten colours make 70 distinct pairs before one repeats.
MARKERS = ("o", "s", "D", "^", "v", "P", "X")


def funnel_order(result: NetworkResult, order: Sequence[str] | None) -> np.ndarray:
    """``order`` (treatment names, every treatment once) as indices of the result's
    treatments; None: the result's own order.  An unknown, missing or repeated name
    raises :class:`InputError` naming it."""
    names = list(result.treatments)
    if order is None:
        return np.arange(len(names))
    given = [str(name).strip() for name in order]
    unknown = [name for name in given if name not in names]
    if unknown:
        raise InputError(
            f"funnel order names {', '.join(map(repr, unknown))}, not a treatment of the "
            f"network; the treatments are {', '.join(names)}"
        )
    repeated = sorted({name for name in given if given.count(name) > 1})
    if repeated:
        raise InputError(f"funnel order names {', '.join(map(repr, repeated))} more than once")
    missing = [name for name in names if name not in given]
    if missing:
        raise InputError(
            f"funnel order must name every treatment; missing {', '.join(map(repr, missing))}"
        )
    return np.array([names.index(name) for name in given], dtype=np.int64)


def adjusted_points(
    result: NetworkResult, order: Sequence[str] | None = None
) -> ComparisonAdjusted:
    """The funnel's points for ``result`` (direct estimates at its fitted covariance,
    ``V + tau² S``: the random-effects direct estimates unless the model is EE)."""
    return comparison_adjusted(
        result.contrasts, result.total_covariance, funnel_order(result, order)
    )


def comparison_adjusted_funnel(
    result: NetworkResult,
    *,
    order: Sequence[str] | None = None,
    egger: bool = False,
    title: str | None = None,
) -> Figure:
    """Draw the comparison-adjusted funnel plot.

    ``order`` names every treatment, in the order that gives the comparisons a meaning
    (e.g. oldest to newest: every point is then old minus new; netmeta requires it, here
    it defaults to the result's order, which is rarely meaningful).  The y axis is the
    standard error (inverted), the x axis the adjusted effect (centred at 0; OR and RR
    as ratios on a log axis, centred at 1); dashed lines are ``0 ± z se`` at
    ``result.level``.  With ``egger``, Egger's regression on the adjusted effects
    (:func:`srma.stats.network.funnel.adjusted_egger`) is drawn as a line and its
    p-value given in the legend.  Multi-arm studies give every pair of their arms, so
    their points are correlated (the test treats them as independent, as netmeta does).
    """
    points = adjusted_points(result, order)
    names = result.treatments
    ratio = _is_ratio(result)
    show = np.exp if ratio else np.asarray
    top = float(points.se.max()) * 1.08
    fig, ax = new_axes(7.5, 5.0)
    grid = np.linspace(0.0, top, 50)
    z = float(norm.isf((1 - result.level) / 2))
    ax.plot(show(-z * grid), grid, color="black", linestyle="--", linewidth=0.8)
    ax.plot(show(z * grid), grid, color="black", linestyle="--", linewidth=0.8)
    ax.axvline(show(0.0), color="black", linewidth=0.8)
    comparisons = list(
        dict.fromkeys(zip(points.treat1.tolist(), points.treat2.tolist(), strict=True))
    )
    for index, (first, second) in enumerate(comparisons):
        rows = (points.treat1 == first) & (points.treat2 == second)
        ax.scatter(
            show(points.adjusted[rows]), points.se[rows], marker=MARKERS[index % len(MARKERS)],
            color=f"C{index % 10}", s=30, zorder=3, gid="comparison",
            label=literal(f"{names[first]} vs {names[second]}"),
        )  # fmt: skip
    if egger:
        test = adjusted_egger(points, level=result.level)
        intercept, slope = float(test.limit_estimate[0]), float(test.coefficient[0])
        if np.isfinite(slope):
            ax.plot(
                show(intercept + slope * grid), grid, color="#b22222", linewidth=1.0,
                label=f"Egger's test ({format_p(float(test.pvalue[0]))})", gid="egger",
            )  # fmt: skip
    if ratio:
        ratio_axis(ax)
    ax.set_ylim(top, 0.0)
    ax.set_ylabel("Standard error")
    unit = _measure_name(result) + (" (log scale)" if ratio else "")
    ax.set_xlabel(literal(f"{unit} centred at the comparison's direct estimate"))
    ax.legend(
        fontsize=7 if len(comparisons) > 15 else 8, loc="upper left", bbox_to_anchor=(1.02, 1.0),
        frameon=False, ncol=2 if len(comparisons) > 24 else 1,
    )  # fmt: skip
    heading = title or "Comparison-adjusted funnel plot"
    ax.set_title(literal(heading), loc="left", fontsize=11)
    fig.tight_layout()
    return no_tex(fig)
