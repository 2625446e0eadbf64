"""Profile likelihood of one variance parameter and its confidence interval.

The profile ``l_p(x) = max over the other free parameters of l(theta)`` with the
parameter held at ``x``; the ``level`` interval is where ``2 (l_max - l_p(x)) <=
chi2_1(level)`` (metafor's ``confint.rma.mv``; Hardy & Thompson 1996, Stat Med
15:619-629).  Each bound is a root of ``2 (l_max - l_p(x)) - chi2_1(level)``
found by Brent's bracketing method between the estimate and the end of the
parameter's range (0 or -1 below; above ``max(10, 100 x)`` for a variance,
widened while the profile stays inside, and 1 for a correlation); a bound is
the end of the range when the profile there is still inside the interval
(a variance's lower bound 0, as metafor reports it).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import brentq
from scipy.stats import chi2

from srma.errors import InputError
from srma.stats.multilevel.fit import MultilevelFit, maximise, metafor_start
from srma.stats.multilevel.likelihood import MultilevelProblem, build_problem
from srma.stats.multilevel.terms import FloatArray, RandomTerm

#: How often the upper end of a variance's search range is multiplied by 10.
WIDENINGS = 6


def _profile_at(
    problem: MultilevelProblem, index: int, value: float, start: FloatArray, method: str
) -> float:
    """``l_p(value)`` for a one-fit problem, maximising over the other free parameters."""
    params = problem.parameters
    free = ~params.fixed_mask
    free[index] = False
    theta = start.copy()
    theta[index] = value
    theta, _, _, _ = maximise(problem, theta, method, free=free)
    return float(problem.evaluate(theta[None], method, gradient=False).loglik[0])


def profile_loglik(
    y: np.ndarray,
    V: np.ndarray,
    X: np.ndarray,
    terms: Sequence[RandomTerm],
    parameter: str,
    values: np.ndarray,
    *,
    method: str = "REML",
) -> np.ndarray:
    """The profile (restricted) log-likelihood of ``parameter`` at each of ``values`` (one fit)."""
    problem = build_problem(y, V, X, terms)
    if problem.batch != 1:
        raise InputError("profile_loglik takes one fit (y of shape (k,))")
    index = problem.parameters.index(parameter)
    start = metafor_start(problem)[0]
    return np.array(
        [_profile_at(problem, index, float(v), start, method) for v in np.ravel(values)]
    ).reshape(np.shape(values))


def profile_interval(
    y: np.ndarray,
    V: np.ndarray,
    X: np.ndarray,
    terms: Sequence[RandomTerm],
    fit: MultilevelFit,
    parameter: str,
    *,
    level: float = 0.95,
    b: int = 0,
) -> tuple[float, float, bool]:
    """Profile-likelihood bounds ``(lower, upper, found)`` of ``parameter`` for fit ``b``.

    ``found`` is False where a bound could not be bracketed (NaN returned for it).
    """
    if not 0 < level < 1:
        raise InputError(f"level must lie in (0, 1), not {level}")
    problem = build_problem(y, V, X, terms).row(b)
    params = problem.parameters
    index = params.index(parameter)
    if params.fixed_mask[index]:
        raise InputError(f"{parameter} is fixed: it has no profile interval")
    method = fit.method
    estimate = fit.theta[b].copy()
    target = float(fit.loglik[b]) - chi2.ppf(level, 1) / 2
    value = float(estimate[index])

    def excess(x: float) -> float:
        return _profile_at(problem, index, x, estimate, method) - target

    is_variance = bool(params.is_variance[index])
    low_end = 0.0 if is_variance else max(-1.0, float(params.correlation_lower[index]))
    if excess(low_end) >= 0 or value <= low_end:
        lower = low_end
    else:
        lower = brentq(excess, low_end, value, xtol=1e-12, rtol=1e-12)
    lower_found = True
    upper, upper_found = np.nan, False
    if is_variance:
        high_end = max(10.0, 100 * value)
        for _ in range(WIDENINGS):
            if excess(high_end) < 0:
                upper, upper_found = brentq(excess, value, high_end, xtol=1e-12, rtol=1e-12), True
                break
            high_end *= 10
    elif excess(1.0 - 1e-10) >= 0:
        upper, upper_found = 1.0, True
    else:
        upper, upper_found = brentq(excess, value, 1.0 - 1e-10, xtol=1e-12, rtol=1e-12), True
    return float(lower), float(upper), bool(lower_found and upper_found)
