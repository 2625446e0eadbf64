"""Estimators of the between-study variance tau² for many meta-analyses at once.

All functions take a :class:`~srma.stats.batch.Batch` (``y`` and ``v`` shaped
``(batch, k)`` with a mask) and return a :class:`Tau2Estimate` of arrays
shaped ``(batch,)``.  The formulas are those of the random-effects model
``y_i = mu + u_i + e_i``, ``u_i ~ N(0, tau²)``, ``e_i ~ N(0, v_i)``, written for
the intercept-only model (p = 1), where the projection matrix
``P = W - W 1 (1'W1)^-1 1'W`` reduces to sums:

* ``y'P y = sum w_i (y_i - mu_w)²``  (generalised Q)
* ``y'P P y = sum w_i² (y_i - mu_w)²``
* ``tr P = sum w_i - sum w_i² / sum w_i``
* ``tr P P = sum w_i² - 2 sum w_i³ / sum w_i + (sum w_i² / sum w_i)²``

with ``w_i = 1 / (v_i + tau²)`` and ``mu_w`` the weighted mean.  The
estimators and their estimating equations follow Viechtbauer (2005), J Educ
Behav Stat 30:261-293, and metafor's ``rma.uni`` (Viechtbauer 2010, J Stat
Softw 36(3)); every estimate is truncated at zero, as there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

from srma.stats.batch import Batch, FloatArray, masked_sum, quantile_per_df
from srma.stats.roots import solve_decreasing

#: Estimators of tau² that srma offers, with what they are.
TAU2_METHODS: dict[str, str] = {
    "DL": "DerSimonian-Laird (1986) method of moments",
    "HE": "Hedges (1983) unweighted method of moments",
    "HS": "Hunter-Schmidt (2004)",
    "SJ": "Sidik-Jonkman (2005)",
    "ML": "maximum likelihood",
    "REML": "restricted maximum likelihood",
    "PM": "Paule-Mandel (1982)",
    "EB": "empirical Bayes (Morris 1983), whose solution equals Paule-Mandel's",
    "PMM": "median-unbiased Paule-Mandel (Viechtbauer 2021)",
}


@dataclass(frozen=True)
class Tau2Estimate:
    """tau² per row, with how the estimate was reached."""

    tau2: FloatArray
    converged: NDArray[np.bool_]
    iterations: NDArray[np.int64]


@dataclass(frozen=True)
class WeightedSums:
    """The sums that every estimating equation is built from, at given tau²."""

    sum_w: FloatArray
    sum_w2: FloatArray
    sum_w3: FloatArray
    q: FloatArray  # sum w r²  = y'Py
    q2: FloatArray  # sum w² r² = y'PPy
    q3: FloatArray  # y'PPPy = sum w³ r² - (sum w² r)² / sum w
    mean: FloatArray


def weighted_sums(batch: Batch, tau2: FloatArray) -> WeightedSums:
    """Sums of the inverse-variance weights ``w_i = 1/(v_i + tau²)`` and residuals."""
    w = np.where(batch.mask, 1.0 / (batch.v + tau2[:, None]), 0.0)
    sum_w = w.sum(axis=1)
    mean = (w * batch.y).sum(axis=1) / sum_w
    wr = w * (batch.y - mean[:, None])
    w2 = w * w
    w2r = wr * w
    return WeightedSums(
        sum_w=sum_w,
        sum_w2=w2.sum(axis=1),
        sum_w3=(w2 * w).sum(axis=1),
        q=(wr * (batch.y - mean[:, None])).sum(axis=1),
        q2=(wr * wr).sum(axis=1),
        q3=(w2r * wr).sum(axis=1) - w2r.sum(axis=1) ** 2 / sum_w,
        mean=mean,
    )


@dataclass(frozen=True)
class QSums:
    """What the generalised Q equations need: ``sum w``, ``Q(tau²) = sum w r²``, ``sum w² r²``."""

    sum_w: FloatArray
    q: FloatArray
    q2: FloatArray
    mean: FloatArray


def q_sums(batch: Batch, tau2: FloatArray) -> QSums:
    """The generalised Q statistic at tau² and minus its derivative (cheaper than all sums)."""
    w = np.where(batch.mask, 1.0 / (batch.v + tau2[:, None]), 0.0)
    sum_w = w.sum(axis=1)
    mean = (w * batch.y).sum(axis=1) / sum_w
    r = batch.y - mean[:, None]
    wr = w * r
    return QSums(sum_w=sum_w, q=(wr * r).sum(axis=1), q2=(wr * wr).sum(axis=1), mean=mean)


def q_equation_upper(batch: Batch, target: FloatArray) -> FloatArray:
    """A tau² at which ``Q(tau²) <= target`` for sure: ``S / target - min v``.

    ``Q(tau²) = sum w (y - mu_w)² <= sum w (y - ybar)² <= S / (min v + tau²)``
    with ``S = sum (y - ybar)²``, since the weighted mean minimises the
    weighted sum of squares.
    """
    min_v = np.where(batch.mask, batch.v, np.inf).min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = _unweighted_residual_ss(batch) / target - min_v
    return np.where(np.isfinite(bound), np.maximum(bound, 0.0), 0.0) * (1 + 1e-12) + 1e-300


def _closed_form(tau2: FloatArray) -> Tau2Estimate:
    n = tau2.shape[0]
    return Tau2Estimate(
        tau2=np.maximum(tau2, 0.0),
        converged=np.ones(n, dtype=bool),
        iterations=np.zeros(n, dtype=np.int64),
    )


def _unweighted_residual_ss(batch: Batch) -> FloatArray:
    """``sum (y_i - ybar)²`` with the unweighted mean ``ybar``."""
    k = batch.k
    ybar = masked_sum(batch.y, batch.mask) / k
    return masked_sum((batch.y - ybar[:, None]) ** 2, batch.mask)


def dersimonian_laird(batch: Batch) -> Tau2Estimate:
    """DerSimonian & Laird (1986): ``tau² = max(0, (Q - (k-1)) / tr P)`` with ``w_i = 1/v_i``."""
    sums = weighted_sums(batch, np.zeros(batch.y.shape[0]))
    trace_p = sums.sum_w - sums.sum_w2 / sums.sum_w
    return _closed_form((sums.q - (batch.k - 1)) / trace_p)


def hedges(batch: Batch) -> Tau2Estimate:
    """Hedges (1983): ``tau² = max(0, sum (y_i - ybar)²/(k-1) - mean(v_i))``.

    The unweighted method of moments: ``(RSS - tr(PV)) / (k - 1)`` with the
    OLS projection, which for the intercept model is the formula above.
    """
    k = batch.k
    mean_v = masked_sum(batch.v, batch.mask) / k
    return _closed_form(_unweighted_residual_ss(batch) / (k - 1) - mean_v)


def hunter_schmidt(batch: Batch) -> Tau2Estimate:
    """Hunter & Schmidt (2004): ``tau² = max(0, (Q - k) / sum w_i)`` with ``w_i = 1/v_i``."""
    sums = weighted_sums(batch, np.zeros(batch.y.shape[0]))
    return _closed_form((sums.q - batch.k) / sums.sum_w)


def sidik_jonkman(batch: Batch) -> Tau2Estimate:
    """Sidik & Jonkman (2005): one step from ``tau0² = sum (y_i - ybar)²/k``.

    ``tau² = tau0² * sum w_i (y_i - mu_w)² / (k - 1)`` with ``w_i = 1/(v_i + tau0²)``.
    """
    k = batch.k
    tau0 = _unweighted_residual_ss(batch) / k
    sums = weighted_sums(batch, tau0)
    return _closed_form(tau0 * sums.q / (k - 1))


def _reml_score(sums: WeightedSums) -> tuple[FloatArray, FloatArray]:
    """REML score ``y'PPy - tr P`` and minus its derivative ``2 y'PPPy - tr PP``.

    Uses ``dP/dtau² = -PP`` (Harville 1977), so Newton's step is exact and
    converges quadratically near the root, unlike Fisher scoring.
    """
    ratio = sums.sum_w2 / sums.sum_w
    trace_p = sums.sum_w - ratio
    trace_pp = sums.sum_w2 - 2.0 * sums.sum_w3 / sums.sum_w + ratio * ratio
    return sums.q2 - trace_p, 2.0 * sums.q3 - trace_pp


def _ml_score(sums: WeightedSums) -> tuple[FloatArray, FloatArray]:
    """ML score ``y'PPy - sum w_i`` and minus its derivative ``2 y'PPPy - sum w_i²``."""
    return sums.q2 - sums.sum_w, 2.0 * sums.q3 - sums.sum_w2


def generalised_q_equation(
    target: FloatArray,
) -> Callable[[WeightedSums, NDArray[np.intp]], tuple[FloatArray, FloatArray]]:
    """``Q(tau²) - target`` and minus its derivative, ``sum w_i² (y_i - mu_w)²``."""

    def equation(sums: Any, rows: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
        return sums.q - target[rows], sums.q2

    return equation


#: Grid of multiples of the bracket's upper end on which a likelihood that is
#: decreasing at tau² = 0 is searched for an interior maximum.
BOUNDARY_GRID = 4.0 ** -np.arange(12, -1, -1)


def solve_tau2_equation(
    batch: Any,
    equation: Callable[[Any, NDArray[np.intp]], tuple[FloatArray, FloatArray]],
    start: FloatArray,
    *,
    evaluate: Callable[[Any, FloatArray], Any] | None = None,
    loglik: Callable[[Any, FloatArray], FloatArray] | None = None,
    upper: FloatArray | None = None,
) -> Tau2Estimate:
    """Solve an estimating equation in tau², positive below its root, on every row.

    ``evaluate(batch, tau2)`` computes what ``equation`` needs (default:
    :func:`weighted_sums`); ``batch`` is a :class:`Batch` or any object with
    ``y``, ``v``, ``mask``, ``k`` and ``rows()``.  Rows where the equation is
    already <= 0 at tau² = 0 get tau² = 0 (the estimate truncated at the
    boundary) unless ``loglik`` is given: a likelihood can fall at 0 and still
    peak higher further on, so those rows are scanned on a grid, and an
    interior root replaces 0 when its ``loglik`` is larger.  ``upper``, when
    given, is a tau² known to make the equation <= 0 (no search for one).
    """
    evaluate = evaluate or weighted_sums
    n = batch.y.shape[0]
    all_rows = np.arange(n)
    at_zero, _ = equation(evaluate(batch, np.zeros(n)), all_rows)
    tau2 = np.zeros(n)
    converged = np.ones(n, dtype=bool)
    iterations = np.zeros(n, dtype=np.int64)
    known_upper = upper is not None
    guess, tolerance = _bracket_scale(batch)
    upper = upper if known_upper else guess

    def solve(rows: NDArray[np.intp], lower: FloatArray, first: FloatArray) -> None:
        sub = batch.rows(rows)

        def score(x: FloatArray, index: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
            part = sub if index.size == rows.size else sub.rows(index)  # no copy while all run
            return equation(evaluate(part, x), rows[index])

        solution = solve_decreasing(
            score,
            start=first,
            upper=np.maximum(upper[rows], 2.0 * lower),
            lower=lower,
            absolute_tolerance=tolerance[rows],
            expand=not known_upper,
        )
        tau2[rows] = solution.root
        converged[rows] = solution.converged
        iterations[rows] = solution.iterations

    interior = np.flatnonzero(at_zero > 0)
    if interior.size:
        solve(interior, np.zeros(interior.size), start[interior])
    boundary = np.flatnonzero(at_zero <= 0)
    if loglik is None or boundary.size == 0:
        return Tau2Estimate(tau2, converged, iterations)

    sub = batch if boundary.size == n else batch.rows(boundary)
    grid = upper[boundary, None] * BOUNDARY_GRID[None, :]
    rising = np.column_stack(
        [equation(evaluate(sub, grid[:, j]), boundary)[0] > 0 for j in range(grid.shape[1])]
    )
    candidates = np.flatnonzero(rising.any(axis=1))
    if candidates.size == 0:
        return Tau2Estimate(tau2, converged, iterations)
    rows = boundary[candidates]
    lower = grid[candidates, rising[candidates].argmax(axis=1)]
    solve(rows, lower, lower)
    peak = batch.rows(rows)
    better = loglik(peak, tau2[rows]) > loglik(peak, np.zeros(rows.size))
    tau2[rows[~better]] = 0.0
    converged[rows[~better]] = True
    return Tau2Estimate(tau2, converged, iterations)


def _bracket_scale(batch: Any) -> tuple[FloatArray, FloatArray]:
    """A first upper end for the bracket and an absolute tolerance, per row."""
    k = batch.k
    ybar = masked_sum(batch.y, batch.mask) / k
    spread = masked_sum((batch.y - ybar[:, None]) ** 2, batch.mask) / np.maximum(k - 1, 1)
    max_v = np.where(batch.mask, batch.v, 0.0).max(axis=1)
    mean_v = masked_sum(batch.v, batch.mask) / k
    return 2.0 * spread + max_v, 1e-14 * mean_v


def restricted_loglik(batch: Batch, tau2: FloatArray) -> FloatArray:
    """Restricted log-likelihood of the intercept model, up to a constant.

    ``-1/2 [sum log(v_i + tau²) + log sum w_i + sum w_i (y_i - mu_w)²]``.
    """
    sums = weighted_sums(batch, tau2)
    log_variance = masked_sum(np.log(batch.v + tau2[:, None]), batch.mask)
    return -0.5 * (log_variance + np.log(sums.sum_w) + sums.q)


def profile_loglik(batch: Batch, tau2: FloatArray) -> FloatArray:
    """Log-likelihood of the intercept model at its ML mean, up to a constant."""
    sums = weighted_sums(batch, tau2)
    log_variance = masked_sum(np.log(batch.v + tau2[:, None]), batch.mask)
    return -0.5 * (log_variance + sums.q)


def restricted_maximum_likelihood(batch: Batch) -> Tau2Estimate:
    """REML: root of ``y'PPy = tr P`` (Viechtbauer 2005, eq. 12), started at Hedges'."""
    return solve_tau2_equation(
        batch, lambda sums, rows: _reml_score(sums), hedges(batch).tau2, loglik=restricted_loglik
    )


def maximum_likelihood(batch: Batch) -> Tau2Estimate:
    """ML: root of ``y'PPy = sum w_i`` (Viechtbauer 2005, eq. 10), started at Hedges'."""
    return solve_tau2_equation(
        batch, lambda sums, rows: _ml_score(sums), hedges(batch).tau2, loglik=profile_loglik
    )


def paule_mandel(batch: Batch) -> Tau2Estimate:
    """Paule & Mandel (1982): root of the generalised ``Q(tau²) = k - 1``.

    The empirical Bayes estimator (Morris 1983; Berkey et al. 1995) solves
    ``k/(k-1) Q(tau²) = k``, the same equation, so ``EB`` shares this code.
    """
    target = (batch.k - 1).astype(np.float64)
    return solve_tau2_equation(batch, generalised_q_equation(target), dersimonian_laird(batch).tau2)


def median_unbiased_paule_mandel(batch: Batch) -> Tau2Estimate:
    """Median-unbiased Paule-Mandel: root of ``Q(tau²) = chi²_{k-1, 0.5}``.

    Viechtbauer (2021), metafor's ``method="PMM"``.
    """
    target = quantile_per_df(chi2.ppf, 0.5, batch.k - 1)
    return solve_tau2_equation(batch, generalised_q_equation(target), dersimonian_laird(batch).tau2)


TAU2_ESTIMATORS: dict[str, Callable[[Batch], Tau2Estimate]] = {
    "DL": dersimonian_laird,
    "HE": hedges,
    "HS": hunter_schmidt,
    "SJ": sidik_jonkman,
    "ML": maximum_likelihood,
    "REML": restricted_maximum_likelihood,
    "PM": paule_mandel,
    "EB": paule_mandel,
    "PMM": median_unbiased_paule_mandel,
}


def estimate_tau2(batch: Batch, method: str) -> Tau2Estimate:
    """tau² by the named method (a key of :data:`TAU2_METHODS`)."""
    try:
        estimator = TAU2_ESTIMATORS[method]
    except KeyError:
        raise ValueError(
            f"unknown tau² method {method!r}; expected one of {', '.join(TAU2_ESTIMATORS)}"
        ) from None
    return estimator(batch)
