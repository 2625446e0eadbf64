"""One family of estimators of the between-study variance tau², for any design matrix.

The model is ``y = X beta + u + e`` with ``u ~ N(0, tau² I)`` and ``e ~
N(0, diag(v))``: the random-effects meta-analysis is the intercept-only case
``X = 1`` (p = 1), a meta-regression has p >= 1 columns.  Every estimator is
written once, in terms of the projection

    ``W = diag(w)``, ``w_i = 1/(v_i + tau²)``, ``A = (X'WX)^-1``,
    ``P = W - W X A X'W``

and the quantities built from it (Viechtbauer 2005; Harville 1977):

* ``y'Py = sum w_i r_i²`` (the generalised Q; ``r = y - X beta_w``),
* ``y'PPy = sum w_i² r_i²``, ``y'PPPy = sum w_i³ r_i² - (X'W²r)' A (X'W²r)``,
* ``tr P = sum w_i - tr(A X'W²X)``,
* ``tr PP = sum w_i² - 2 tr(A X'W³X) + tr((A X'W²X)²)``,
* ``log det X'WX``.

:func:`projection` evaluates them: for a :class:`~srma.stats.batch.Batch`
(``X = 1``) by the sums they reduce to (``A = 1/sum w``, so ``tr P = sum w -
sum w² / sum w``, ``tr PP = sum w² - 2 sum w³ / sum w + (sum w² / sum w)²``,
``y'PPPy = sum w³ r² - (sum w² r)² / sum w``), which is what makes a million
fits a second possible; for a :class:`~srma.stats.batch.RegressionBatch` by
batched linear algebra.  The estimators, the likelihoods and the solver
never know which.

Estimators (``k`` studies, ``p`` coefficients; each truncated at 0):

* ``DL`` DerSimonian & Laird (1986): ``(y'Py - (k - p)) / tr P`` at ``w = 1/v``.
* ``HE`` Hedges (1983): ``(RSS - tr(P_OLS V)) / (k - p)`` with the unweighted
  (OLS) projection; for p = 1 ``sum (y_i - ybar)²/(k-1) - mean(v)``.
* ``HS`` Hunter & Schmidt (2004): ``(y'Py - k) / sum w_i`` at ``w = 1/v``.
* ``SJ`` Sidik & Jonkman (2005): ``tau0² y'Py / (k - p)`` at
  ``w = 1/(v + tau0²)``, ``tau0² = sum (y_i - ybar)² / k``.
* ``ML``: root of ``y'PPy = tr W`` (Viechtbauer 2005, eq. 10).
* ``REML``: root of ``y'PPy = tr P`` (Viechtbauer 2005, eq. 12).
* ``PM`` Paule & Mandel (1982): root of ``y'Py = k - p``; ``EB`` (Morris 1983;
  Berkey et al. 1995) solves ``k/(k-p) y'Py = k``, the same equation.
* ``PMM`` median-unbiased Paule-Mandel (Viechtbauer 2021, metafor's
  ``method = "PMM"``): root of ``y'Py = chi²_{k-p, 0.5}``.

The numbers agree with metafor's ``rma.uni`` (Viechtbauer 2010, J Stat Softw
36(3)) with and without ``mods`` (tests/reference/pooling.R, metareg.R).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2

from srma.stats.batch import (
    Batch,
    FloatArray,
    RegressionBatch,
    masked_sum,
    quantile_per_df,
)
from srma.stats.roots import solve_decreasing

#: Either batch layout: intercept-only (``Batch``) or with a design matrix.
AnyBatch = Batch | RegressionBatch


@dataclass(frozen=True)
class Tau2Estimate:
    """tau² per row, with how the estimate was reached."""

    tau2: FloatArray
    converged: NDArray[np.bool_]
    iterations: NDArray[np.int64]


# --- the projection, for X = 1 and for any X -------------------------------------


@dataclass(frozen=True)
class WeightedSums:
    """The projection quantities for ``X = 1``, from sums of the weights and residuals."""

    sum_w: FloatArray
    sum_w2: FloatArray
    sum_w3: FloatArray
    q: FloatArray  # sum w r²  = y'Py
    q2: FloatArray  # sum w² r² = y'PPy
    q3: FloatArray  # y'PPPy = sum w³ r² - (sum w² r)² / sum w
    mean: FloatArray

    @property
    def ypy(self) -> FloatArray:
        return self.q

    @property
    def yppy(self) -> FloatArray:
        return self.q2

    @property
    def ypppy(self) -> FloatArray:
        return self.q3

    @property
    def trace_p(self) -> FloatArray:
        return self.sum_w - self.sum_w2 / self.sum_w

    @property
    def trace_pp(self) -> FloatArray:
        ratio = self.sum_w2 / self.sum_w
        return self.sum_w2 - 2.0 * self.sum_w3 / self.sum_w + ratio * ratio

    @property
    def logdet_xtwx(self) -> FloatArray:
        return np.log(self.sum_w)


def weighted_sums(batch: Batch, tau2: FloatArray) -> WeightedSums:
    """:func:`projection` for ``X = 1``: sums of ``w_i = 1/(v_i + tau²)`` and the residuals."""
    return sums_at_weights(batch, np.where(batch.mask, 1.0 / (batch.v + tau2[:, None]), 0.0))


def sums_at_weights(batch: Batch, w: FloatArray) -> WeightedSums:
    """The X = 1 projection sums at given weights ``w`` (zero where a study is absent)."""
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
class Fit:
    """Weighted least squares at given tau², with the projection quantities (any X)."""

    beta: FloatArray  # (batch, p)
    inverse: FloatArray  # A = (X'WX)^-1, (batch, p, p)
    residuals: FloatArray  # (batch, k)
    weights: FloatArray  # (batch, k)
    ypy: FloatArray
    yppy: FloatArray
    ypppy: FloatArray
    trace_p: FloatArray
    trace_pp: FloatArray

    @property
    def sum_w(self) -> FloatArray:
        return self.weights.sum(axis=1)

    @property
    def sum_w2(self) -> FloatArray:
        return (self.weights**2).sum(axis=1)

    @property
    def logdet_xtwx(self) -> FloatArray:
        return -np.linalg.slogdet(self.inverse)[1]


def weighted_fit(batch: RegressionBatch, tau2: FloatArray) -> Fit:
    """:func:`projection` for any X: ``beta = A X'W y`` and the quantities above."""
    return fit_at_weights(batch, np.where(batch.mask, 1.0 / (batch.v + tau2[:, None]), 0.0))


def fit_at_weights(batch: RegressionBatch, w: FloatArray) -> Fit:
    """Weighted least squares and the projection quantities at given weights ``w``."""
    X = batch.X
    xtwx = np.einsum("bki,bk,bkj->bij", X, w, X)
    inverse = np.linalg.inv(xtwx)
    beta = np.einsum("bij,bkj,bk->bi", inverse, X, w * batch.y)
    residuals = np.where(batch.mask, batch.y - np.einsum("bkj,bj->bk", X, beta), 0.0)
    wr = w * residuals
    w2 = w * w
    xtw2x = np.einsum("bki,bk,bkj->bij", X, w2, X)
    xtw3x = np.einsum("bki,bk,bkj->bij", X, w2 * w, X)
    a_xtw2x = inverse @ xtw2x
    xtw2r = np.einsum("bki,bk->bi", X, w * wr)
    return Fit(
        beta=beta,
        inverse=inverse,
        residuals=residuals,
        weights=w,
        ypy=(wr * residuals).sum(axis=1),
        yppy=(wr * wr).sum(axis=1),
        ypppy=(w * wr * wr).sum(axis=1) - np.einsum("bi,bij,bj->b", xtw2r, inverse, xtw2r),
        trace_p=w.sum(axis=1) - np.trace(a_xtw2x, axis1=1, axis2=2),
        trace_pp=w2.sum(axis=1)
        - 2.0 * np.trace(inverse @ xtw3x, axis1=1, axis2=2)
        + np.einsum("bij,bji->b", a_xtw2x, a_xtw2x),
    )


def projection(batch: AnyBatch, tau2: FloatArray) -> WeightedSums | Fit:
    """The projection quantities at tau²: cheap sums for ``X = 1``, linear algebra otherwise."""
    if isinstance(batch, RegressionBatch):
        return weighted_fit(batch, tau2)
    return weighted_sums(batch, tau2)


def _moments_at_weights(batch: AnyBatch, a: FloatArray) -> tuple[FloatArray, ...]:
    """``y'P_a y``, ``tr P_a`` and ``tr(P_a V)`` for the projection at weights ``a``.

    ``P_a = A - A X (X'AX)^-1 X'A`` with ``A = diag(a)``; its diagonal is
    ``a_i - a_i² x_i'(X'AX)^-1 x_i`` (``a_i - a_i² / sum a`` for X = 1).
    """
    if isinstance(batch, RegressionBatch):
        fit = fit_at_weights(batch, a)
        leverage = np.einsum("bki,bij,bkj->bk", batch.X, fit.inverse, batch.X)
        diagonal = a - a * a * leverage
        return fit.ypy, fit.trace_p, (diagonal * batch.v).sum(axis=1)
    # X = 1: only the sums these three need
    sum_a = a.sum(axis=1)
    r = batch.y - (a * batch.y).sum(axis=1)[:, None] / sum_a[:, None]
    a2 = a * a
    trace_p = sum_a - a2.sum(axis=1) / sum_a
    trace_pv = (a * batch.v).sum(axis=1) - (a2 * batch.v).sum(axis=1) / sum_a
    return (a * r * r).sum(axis=1), trace_p, trace_pv


def _unweighted_residual_ss(batch: AnyBatch) -> FloatArray:
    """``sum (y_i - ybar)²`` about the unweighted mean ``ybar`` (whatever X is)."""
    ybar = masked_sum(batch.y, batch.mask) / batch.k
    return masked_sum((batch.y - ybar[:, None]) ** 2, batch.mask)


# --- likelihoods -------------------------------------------------------------------


def restricted_loglik(batch: AnyBatch, tau2: FloatArray) -> FloatArray:
    """Restricted log-likelihood up to a constant (Harville 1977; Viechtbauer 2005).

    ``-1/2 [sum log(v_i + tau²) + log det X'WX + y'Py]``.
    """
    sums = projection(batch, tau2)
    log_variance = masked_sum(np.log(batch.v + tau2[:, None]), batch.mask)
    return -0.5 * (log_variance + sums.logdet_xtwx + sums.ypy)


def profile_loglik(batch: AnyBatch, tau2: FloatArray) -> FloatArray:
    """Log-likelihood at the ML coefficients, up to a constant.

    ``-1/2 [sum log(v_i + tau²) + y'Py]``.
    """
    sums = projection(batch, tau2)
    log_variance = masked_sum(np.log(batch.v + tau2[:, None]), batch.mask)
    return -0.5 * (log_variance + sums.ypy)


# --- closed-form estimators --------------------------------------------------------


def _closed_form(tau2: FloatArray) -> Tau2Estimate:
    n = tau2.shape[0]
    return Tau2Estimate(
        tau2=np.maximum(tau2, 0.0),
        converged=np.ones(n, dtype=bool),
        iterations=np.zeros(n, dtype=np.int64),
    )


def common_effect(batch: AnyBatch) -> Tau2Estimate:
    """The common-effect (``EE``) model: tau² = 0."""
    return _closed_form(np.zeros(batch.y.shape[0]))


def generalised_q_moments(batch: AnyBatch, weights: FloatArray) -> Tau2Estimate:
    """The generalised Q (method of moments) estimator with weights ``a_i``.

    ``E[y'P_a y] = tr(P_a V) + tau² tr P_a`` gives
    ``tau² = max(0, (y'P_a y - tr(P_a V)) / tr P_a)`` (DerSimonian & Kacker
    2007, Contemp Clin Trials 28:105-114; metafor's ``method="GENQ"`` with
    ``weights``).  ``a = 1/v`` is DerSimonian-Laird's estimator and ``a = 1``
    Hedges'.  ``weights`` is shaped like ``batch.y`` (ignored where absent).
    """
    a = np.where(batch.mask, np.asarray(weights, dtype=np.float64), 0.0)
    ypy, trace_p, trace_pv = _moments_at_weights(batch, a)
    return _closed_form((ypy - trace_pv) / trace_p)


def dersimonian_laird(batch: AnyBatch) -> Tau2Estimate:
    """DerSimonian & Laird (1986): generalised Q moments at ``a_i = 1/v_i``.

    ``tr(P_a V) = k - p`` there, so ``tau² = max(0, (y'Py - (k - p)) / tr P)`` at tau² = 0.
    """
    return generalised_q_moments(batch, 1.0 / batch.v)


def hedges(batch: AnyBatch) -> Tau2Estimate:
    """Hedges (1983): generalised Q moments at ``a_i = 1`` (the OLS projection).

    ``tau² = max(0, (RSS - tr(P_OLS V)) / (k - p))``; for ``X = 1``
    ``sum (y_i - ybar)²/(k-1) - mean(v_i)``.
    """
    return generalised_q_moments(batch, np.ones_like(batch.v))  # keeps the column-major layout


def hunter_schmidt(batch: AnyBatch) -> Tau2Estimate:
    """Hunter & Schmidt (2004): ``tau² = max(0, (y'Py - k) / sum w_i)`` at ``w_i = 1/v_i``."""
    sums = projection(batch, np.zeros(batch.y.shape[0]))
    return _closed_form((sums.ypy - batch.k) / sums.sum_w)


def sidik_jonkman(batch: AnyBatch) -> Tau2Estimate:
    """Sidik & Jonkman (2005): one step from ``tau0² = sum (y_i - ybar)²/k``.

    ``tau² = tau0² y'Py / (k - p)`` with ``w_i = 1/(v_i + tau0²)``.
    """
    tau0 = _unweighted_residual_ss(batch) / batch.k
    sums = projection(batch, tau0)
    return _closed_form(tau0 * sums.ypy / (batch.k - batch.p))


# --- estimating equations and their solver ----------------------------------------

Equation = Callable[[Any, NDArray[np.intp]], tuple[FloatArray, FloatArray]]


def reml_equation(sums: Any, rows: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
    """REML score ``y'PPy - tr P`` and minus its derivative ``2 y'PPPy - tr PP``.

    Uses ``dP/dtau² = -PP`` (Harville 1977), so Newton's step is exact and
    converges quadratically near the root, unlike Fisher scoring.
    """
    return sums.yppy - sums.trace_p, 2.0 * sums.ypppy - sums.trace_pp


def ml_equation(sums: Any, rows: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
    """ML score ``y'PPy - sum w_i`` and minus its derivative ``2 y'PPPy - sum w_i²``."""
    return sums.yppy - sums.sum_w, 2.0 * sums.ypppy - sums.sum_w2


def generalised_q_equation(target: FloatArray) -> Equation:
    """``y'Py - target`` and minus its derivative, ``y'PPy`` (``d y'Py / dtau² = -y'PPy``)."""

    def equation(sums: Any, rows: NDArray[np.intp]) -> tuple[FloatArray, FloatArray]:
        return sums.ypy - target[rows], sums.yppy

    return equation


@dataclass(frozen=True)
class QSums:
    """What the generalised Q equations need for ``X = 1`` (cheaper than all sums)."""

    sum_w: FloatArray
    q: FloatArray
    q2: FloatArray
    mean: FloatArray

    @property
    def ypy(self) -> FloatArray:
        return self.q

    @property
    def yppy(self) -> FloatArray:
        return self.q2


def q_sums(batch: Batch, tau2: FloatArray) -> QSums:
    """The generalised Q statistic at tau² and minus its derivative, for ``X = 1``."""
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


#: Grid of multiples of the bracket's upper end on which a likelihood that is
#: decreasing at tau² = 0 is searched for an interior maximum.
BOUNDARY_GRID = 4.0 ** -np.arange(12, -1, -1)


def solve_tau2_equation(
    batch: Any,
    equation: Equation,
    start: FloatArray,
    *,
    evaluate: Callable[[Any, FloatArray], Any] | None = None,
    loglik: Callable[[Any, FloatArray], FloatArray] | None = None,
    upper: FloatArray | None = None,
) -> Tau2Estimate:
    """Solve an estimating equation in tau², positive below its root, on every row.

    ``evaluate(batch, tau2)`` computes what ``equation`` needs (default:
    :func:`projection`); ``batch`` is a :class:`Batch`, a
    :class:`RegressionBatch` or any object with ``y``, ``v``, ``mask``, ``k``
    and ``rows()``.  Rows where the equation is
    already <= 0 at tau² = 0 get tau² = 0 (the estimate truncated at the
    boundary) unless ``loglik`` is given: a likelihood can fall at 0 and still
    peak higher further on, so those rows are scanned on a grid, and an
    interior root replaces 0 when its ``loglik`` is larger.  ``upper``, when
    given, is a tau² known to make the equation <= 0 (no search for one).
    """
    evaluate = evaluate or projection
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
    spread = _unweighted_residual_ss(batch) / np.maximum(k - 1, 1)
    max_v = np.where(batch.mask, batch.v, 0.0).max(axis=1)
    mean_v = masked_sum(batch.v, batch.mask) / k
    return 2.0 * spread + max_v, 1e-14 * mean_v


# --- iterative estimators ----------------------------------------------------------


def restricted_maximum_likelihood(batch: AnyBatch) -> Tau2Estimate:
    """REML: root of ``y'PPy = tr P`` (Viechtbauer 2005, eq. 12), started at Hedges'."""
    return solve_tau2_equation(batch, reml_equation, hedges(batch).tau2, loglik=restricted_loglik)


def maximum_likelihood(batch: AnyBatch) -> Tau2Estimate:
    """ML: root of ``y'PPy = sum w_i`` (Viechtbauer 2005, eq. 10), started at Hedges'."""
    return solve_tau2_equation(batch, ml_equation, hedges(batch).tau2, loglik=profile_loglik)


def paule_mandel(batch: AnyBatch) -> Tau2Estimate:
    """Paule & Mandel (1982): root of the generalised ``y'Py = k - p``, started at DL's.

    The empirical Bayes estimator (Morris 1983; Berkey et al. 1995) solves
    ``k/(k-p) y'Py = k``, the same equation, so ``EB`` shares this code.
    """
    target = (batch.k - batch.p).astype(np.float64)
    return solve_tau2_equation(batch, generalised_q_equation(target), dersimonian_laird(batch).tau2)


def median_unbiased_paule_mandel(batch: AnyBatch) -> Tau2Estimate:
    """Median-unbiased Paule-Mandel: root of ``y'Py = chi²_{k-p, 0.5}``, started at DL's.

    Viechtbauer (2021), metafor's ``method="PMM"``.
    """
    target = quantile_per_df(chi2.ppf, 0.5, batch.k - batch.p)
    return solve_tau2_equation(batch, generalised_q_equation(target), dersimonian_laird(batch).tau2)


TAU2_ESTIMATORS: dict[str, Callable[[AnyBatch], Tau2Estimate]] = {
    "EE": common_effect,
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


def estimate_tau2(batch: AnyBatch, method: str) -> Tau2Estimate:
    """tau² by the named method (``EE`` or a key of :data:`srma.vocabulary.TAU2_METHODS`).

    Works for the intercept-only model (a :class:`Batch`) and for a
    meta-regression (a :class:`RegressionBatch`) alike.  An unknown method is
    a programming error (user input is checked in :mod:`srma.analysis.validation`).
    """
    try:
        estimator = TAU2_ESTIMATORS[method]
    except KeyError:
        raise ValueError(
            f"unknown tau² method {method!r}; expected one of {', '.join(TAU2_ESTIMATORS)}"
        ) from None
    return estimator(batch)
