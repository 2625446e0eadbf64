"""A vectorised, safeguarded root finder for the tau² estimating equations.

Every iterative tau² estimator in srma (ML, REML, PM, EB, PMM) and the
Q-profile confidence interval solves an equation ``f(tau2) = 0`` whose left
side is positive below the root and negative above it.  Plain Fisher scoring,
as metafor uses, can overshoot and fail to converge on a small share of data
sets; here each row keeps a bracket ``[lower, upper]`` with ``f(lower) > 0 >=
f(upper)``, takes the scoring step when it stays inside the bracket and shrinks faster
than bisection would, and bisects otherwise (the Newton-bisection hybrid
``rtsafe`` of Press et al., *Numerical Recipes*, 3rd ed., section 9.4).  It
always converges.

Written by hand because scipy's root finders work on one scalar equation at a
time, and srma needs a million of them solved together.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from srma.stats.batch import FloatArray

#: ``score(x, rows) -> (f, step)``: a value with the sign of the function
#: and Newton's step ``f / -f'`` (so that Newton's iterate is ``x + step``),
#: evaluated for the batch rows ``rows`` at the values ``x``.  Returning the
#: step rather than the derivative lets a caller work with rescaled values
#: (srma.stats.tau2 does) and never form a number that would overflow.
ScoreFunction = Callable[[FloatArray, NDArray[np.intp]], tuple[FloatArray, FloatArray]]

RELATIVE_TOLERANCE = 1e-12
MAX_ITERATIONS = 200
MAX_EXPANSIONS = 200


@dataclass(frozen=True)
class RootResult:
    """Roots of many equations at once, with per-row convergence."""

    root: FloatArray
    converged: NDArray[np.bool_]
    iterations: NDArray[np.int64]


def solve_decreasing(
    score: ScoreFunction,
    start: FloatArray,
    upper: FloatArray,
    absolute_tolerance: FloatArray,
    lower: FloatArray | None = None,
    expand: bool = True,
) -> RootResult:
    """Solve ``score(x) = 0`` for ``x > lower`` in every row, given ``score(lower) > 0``.

    ``upper`` is a first guess of a point where the score is <= 0; it is
    multiplied by 4 until it is one (with ``expand=False`` it is known to be
    one and is not checked).  ``start`` is the first iterate (moved to
    the middle of the bracket when outside it); ``lower`` defaults to 0.  A row
    has converged when a
    step changes ``x`` by at most ``1e-12 * x + absolute_tolerance``.
    """
    n = start.shape[0]
    lower = np.zeros(n) if lower is None else np.array(lower, dtype=np.float64, copy=True)
    upper = np.array(upper, dtype=np.float64, copy=True)
    all_rows = np.arange(n)

    rows = all_rows
    unbracketed = np.zeros(n, dtype=bool)
    for expansion in range(MAX_EXPANSIONS if expand else 0):
        f_upper, _ = score(upper[rows], rows)
        too_low = ~(f_upper <= 0)  # NaN: not known to be above the root either
        if not too_low.any():
            break
        rows = rows[too_low]
        if expansion == MAX_EXPANSIONS - 1:
            unbracketed[rows] = True  # no point found where the score is <= 0
            break
        lower[rows] = upper[rows]
        upper[rows] = np.where(upper[rows] > 0, upper[rows] * 4.0, 1.0)

    x = np.where((start >= lower) & (start < upper), start, 0.5 * (lower + upper))
    root = x.copy()
    converged = np.zeros(n, dtype=bool)
    iterations = np.zeros(n, dtype=np.int64)
    # rtsafe compares each Newton step with the step before the last one
    last_step = upper - lower
    step_before_last = last_step.copy()
    active = all_rows
    for iteration in range(1, MAX_ITERATIONS + 1):
        xa = x[active]
        f, newton_step = score(xa, active)
        # a NaN value is no evidence either way: the bracket keeps both ends
        below = f > 0
        above = f <= 0
        lower[active] = np.where(below, xa, lower[active])
        upper[active] = np.where(above, xa, upper[active])
        lo, hi = lower[active], upper[active]
        with np.errstate(invalid="ignore", over="ignore"):
            newton = xa + newton_step
        step = np.abs(newton - xa)
        tolerance = RELATIVE_TOLERANCE * np.abs(xa) + absolute_tolerance[active]
        # a Newton step below the tolerance means xa is the root (f may be exactly 0)
        at_root = np.isfinite(newton) & (step <= tolerance) & (below | above)
        shrinking = step < 0.5 * step_before_last[active]
        inside = np.isfinite(newton) & (newton > lo) & (newton < hi) & shrinking
        x_new = np.where(inside | at_root, newton, _bisect(lo, hi, absolute_tolerance[active]))
        step_before_last[active] = last_step[active]
        last_step[active] = np.abs(x_new - xa)
        valid = np.isfinite(x_new) & np.isfinite(f)
        done = (at_root | (np.abs(x_new - xa) <= tolerance) | (hi - lo <= tolerance)) & valid
        failed = ~np.isfinite(x_new) | (~np.isfinite(f) & (hi - lo <= tolerance))
        x[active] = x_new
        finished = active[done]
        root[finished] = x_new[done]
        converged[finished] = True
        iterations[finished] = iteration
        # a score that is not a number at the bracket's ends cannot be solved: stop, not converged
        given_up = active[failed & ~done]
        root[given_up] = np.nan
        iterations[given_up] = iteration
        active = active[~done & ~failed]
        if active.size == 0:
            break
    root[active] = x[active]
    iterations[active] = MAX_ITERATIONS
    converged &= ~unbracketed
    return RootResult(root=root, converged=converged, iterations=iterations)


def _bisect(lower: FloatArray, upper: FloatArray, tolerance: FloatArray) -> FloatArray:
    """The next point of the bisection: the midpoint, or the geometric mean on a wide bracket.

    A bracket spanning many orders of magnitude (``[0, 1e300]`` around a root
    of 460) takes about a thousand halvings to close; halving its logarithm
    instead takes a few dozen.  A lower end of 0 counts as ``1e14`` times the
    absolute tolerance (the scale of the variances, see
    :func:`srma.stats.tau2.solve_tau2_equation`), so that an ordinary bracket
    is halved as before.
    """
    with np.errstate(invalid="ignore", over="ignore"):
        floor = np.maximum(np.maximum(lower, 1e14 * tolerance), np.finfo(float).tiny)
        wide = upper > 1e6 * floor
        geometric = np.sqrt(floor) * np.sqrt(upper)
        return np.where(wide, geometric, 0.5 * lower + 0.5 * upper)
