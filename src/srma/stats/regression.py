"""Mixed-effects meta-regression for many data sets at once.

The model is ``y = X beta + u + e`` with ``u ~ N(0, tau² I)`` and ``e ~ N(0,
diag(v))``.  With ``W = diag(w)``, ``w_i = 1/(v_i + tau²)`` and ``A = (X'WX)^-1``:

* ``beta = A X'W y``, ``Var(beta) = A`` (times ``s²`` under Knapp-Hartung);
* ``P = W - W X A X'W``, residuals ``r = y - X beta``, ``P y = w * r``;
* ``y'Py = sum w r²``, ``y'PPy = sum w² r²``, ``tr P = sum w - tr(A X'W²X)``,
  ``tr PP = sum w² - 2 tr(A X'W³X) + tr((A X'W²X)²)``,
  ``y'PPPy = sum w³ r² - (X'W² r)' A (X'W² r)``.

tau² (residual heterogeneity) is estimated as in metafor's ``rma.uni`` with
moderators (Viechtbauer 2010; Viechtbauer et al. 2015, Res Synth Methods
6:1-21); the iterative estimators use the safeguarded Newton solver of
:mod:`srma.stats.roots`.  Arrays are shaped ``(batch, k)`` for ``y``, ``v`` and
``mask`` and ``(batch, k, p)`` for ``X``; absent studies have zero weight.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.stats import chi2, norm
from scipy.stats import f as f_distribution
from scipy.stats import t as student_t

from srma.stats.batch import BoolArray, FloatArray, quantile_per_df
from srma.stats.heterogeneity import i2_from_q
from srma.stats.tau2 import solve_tau2_equation


@dataclass(frozen=True)
class RegressionBatch:
    """Data of many meta-regressions, padded to a common k."""

    y: FloatArray
    v: FloatArray
    X: FloatArray
    mask: BoolArray

    @property
    def k(self) -> NDArray[np.int64]:
        return self.mask.sum(axis=1)

    @property
    def p(self) -> int:
        return self.X.shape[2]

    def rows(self, index: NDArray[np.intp]) -> RegressionBatch:
        return RegressionBatch(self.y[index], self.v[index], self.X[index], self.mask[index])


def regression_batch(
    y: FloatArray, v: FloatArray, X: FloatArray, mask: BoolArray | None = None
) -> RegressionBatch:
    """Build a :class:`RegressionBatch`; cells with non-finite y, v or X are absent."""
    y = np.atleast_2d(np.asarray(y, dtype=np.float64))
    v = np.atleast_2d(np.asarray(v, dtype=np.float64))
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 2:
        X = X[None, :, :]
    present = np.isfinite(y) & np.isfinite(v) & np.isfinite(X).all(axis=2)
    if mask is not None:
        present &= np.atleast_2d(np.asarray(mask, dtype=bool))
    return RegressionBatch(
        y=np.where(present, y, 0.0),
        v=np.where(present, v, 1.0),
        X=np.where(present[:, :, None], X, 0.0),
        mask=present,
    )


@dataclass(frozen=True)
class Fit:
    """Weighted least squares at given weights, with the projection sums."""

    beta: FloatArray  # (batch, p)
    inverse: FloatArray  # A = (X'WX)^-1, (batch, p, p)
    residuals: FloatArray  # (batch, k)
    weights: FloatArray  # (batch, k)
    ypy: FloatArray
    yppy: FloatArray
    ypppy: FloatArray
    trace_p: FloatArray
    trace_pp: FloatArray


def weighted_fit(batch: RegressionBatch, tau2: FloatArray) -> Fit:
    """Weighted least squares with ``w_i = 1/(v_i + tau²)`` and the sums listed above."""
    w = np.where(batch.mask, 1.0 / (batch.v + tau2[:, None]), 0.0)
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


def restricted_loglik(batch: RegressionBatch, tau2: FloatArray) -> FloatArray:
    """``-1/2 [sum log(v_i + tau²) + log det(X'WX) + y'Py]``, the REML log-likelihood + const."""
    fit = weighted_fit(batch, tau2)
    xtwx_logdet = -np.linalg.slogdet(fit.inverse)[1]
    log_variance = np.where(batch.mask, np.log(batch.v + tau2[:, None]), 0.0).sum(axis=1)
    return -0.5 * (log_variance + xtwx_logdet + fit.ypy)


def profile_loglik(batch: RegressionBatch, tau2: FloatArray) -> FloatArray:
    """``-1/2 [sum log(v_i + tau²) + y'Py]``, the ML log-likelihood at beta-hat + const."""
    fit = weighted_fit(batch, tau2)
    log_variance = np.where(batch.mask, np.log(batch.v + tau2[:, None]), 0.0).sum(axis=1)
    return -0.5 * (log_variance + fit.ypy)


def _solve(
    batch: RegressionBatch,
    equation: Callable[[Fit, NDArray[np.intp]], tuple[FloatArray, FloatArray]],
    start: FloatArray,
    loglik: Callable[[RegressionBatch, FloatArray], FloatArray] | None = None,
) -> FloatArray:
    return solve_tau2_equation(batch, equation, start, evaluate=weighted_fit, loglik=loglik).tau2


def _ols_tau2(batch: RegressionBatch) -> FloatArray:
    """Hedges' estimator with moderators: ``(RSS_OLS - tr(P_OLS V)) / (k - p)``."""
    ones = np.where(batch.mask, 1.0, 0.0)
    xtx_inverse = np.linalg.inv(np.einsum("bki,bk,bkj->bij", batch.X, ones, batch.X))
    beta = np.einsum("bij,bkj,bk->bi", xtx_inverse, batch.X, ones * batch.y)
    residuals = np.where(batch.mask, batch.y - np.einsum("bkj,bj->bk", batch.X, beta), 0.0)
    leverage = np.einsum("bki,bij,bkj->bk", batch.X, xtx_inverse, batch.X)
    trace_pv = (np.where(batch.mask, (1.0 - leverage) * batch.v, 0.0)).sum(axis=1)
    return np.maximum(((residuals**2).sum(axis=1) - trace_pv) / (batch.k - batch.p), 0.0)


def residual_tau2(batch: RegressionBatch, method: str) -> FloatArray:
    """Residual heterogeneity tau² by ``method`` (EE, DL, HE, HS, SJ, ML, REML, PM, EB)."""
    n = batch.y.shape[0]
    k, p = batch.k, batch.p
    if method == "EE":
        return np.zeros(n)
    if method in ("DL", "HS"):
        fit = weighted_fit(batch, np.zeros(n))
        if method == "DL":
            return np.maximum((fit.ypy - (k - p)) / fit.trace_p, 0.0)
        return np.maximum((fit.ypy - k) / fit.weights.sum(axis=1), 0.0)
    if method == "HE":
        return _ols_tau2(batch)
    if method == "SJ":
        ybar = (batch.y * batch.mask).sum(axis=1) / k
        tau0 = (np.where(batch.mask, batch.y - ybar[:, None], 0.0) ** 2).sum(axis=1) / k
        fit = weighted_fit(batch, tau0)
        return tau0 * fit.ypy / (k - p)
    start = _ols_tau2(batch)
    if method == "REML":
        return _solve(
            batch,
            lambda fit, rows: (fit.yppy - fit.trace_p, 2 * fit.ypppy - fit.trace_pp),
            start,
            restricted_loglik,
        )
    if method == "ML":
        return _solve(
            batch,
            lambda fit, rows: (
                fit.yppy - fit.weights.sum(axis=1),
                2 * fit.ypppy - (fit.weights**2).sum(axis=1),
            ),
            start,
            profile_loglik,
        )
    if method in ("PM", "EB"):
        target = (k - p).astype(np.float64)
        return _solve(batch, lambda fit, rows: (fit.ypy - target[rows], fit.yppy), start)
    raise ValueError(f"unknown tau² method {method!r} for meta-regression")


@dataclass(frozen=True)
class RegressionArrays:
    """Results of a batch of meta-regressions."""

    k: NDArray[np.int64]
    p: int
    beta: FloatArray  # (batch, p)
    se: FloatArray  # (batch, p)
    vcov: FloatArray  # (batch, p, p)
    statistic: FloatArray  # (batch, p)
    pvalue: FloatArray  # (batch, p)
    ci_lower: FloatArray
    ci_upper: FloatArray
    df: FloatArray  # residual df for t-based tests, NaN under z
    tau2: FloatArray
    qe: FloatArray  # residual heterogeneity
    qe_df: FloatArray
    qe_pvalue: FloatArray
    qm: FloatArray  # omnibus test of the coefficients in `tested`
    qm_df1: FloatArray
    qm_df2: FloatArray  # NaN for the chi² form
    qm_pvalue: FloatArray
    i2: FloatArray
    h2: FloatArray
    fitted: FloatArray  # (batch, k)
    weights: FloatArray  # (batch, k), w_i = 1/(v_i + tau²)


def meta_regression(
    batch: RegressionBatch,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    tested: NDArray[np.intp] | None = None,
    tau2: FloatArray | None = None,
) -> RegressionArrays:
    """Fit ``y = X beta`` by weighted least squares with residual heterogeneity tau².

    ``tested`` lists the columns of X in the omnibus test QM (default: all but
    the first, the intercept).  Under ``knha``/``adhoc`` the covariance of beta
    is scaled by ``s² = y'Py/(k - p)`` (truncated below at 1 for adhoc); under
    every test but z, QM
    becomes an F statistic ``QM/m`` on ``(m, k - p)`` df and coefficients are
    tested with t on ``k - p`` df, as in metafor.  ``tau2`` fixes tau² instead
    of estimating it.
    """
    n = batch.y.shape[0]
    k, p = batch.k, batch.p
    if tested is None:
        tested = np.arange(1, p)
    if tau2 is None:
        tau2 = residual_tau2(batch, method)
    fit = weighted_fit(batch, tau2)
    vcov = fit.inverse
    df_residual = (k - p).astype(np.float64)
    if test in ("knha", "adhoc"):
        scale = np.where(fit.ypy > np.finfo(float).eps, fit.ypy / df_residual, 0.0)
        if test == "adhoc":
            scale = np.maximum(scale, 1.0)
        vcov = vcov * scale[:, None, None]
    se = np.sqrt(np.diagonal(vcov, axis1=1, axis2=2))
    with np.errstate(divide="ignore", invalid="ignore"):  # se = 0: an exact fit
        statistic = fit.beta / se
    m = len(tested)
    if m:
        sub_beta = fit.beta[:, tested]
        sub_vcov = vcov[:, tested[:, None], tested[None, :]]
        # a zero Knapp-Hartung factor makes the covariance singular: QM is then
        # undefined (metafor reports NA)
        singular = ~(np.diagonal(sub_vcov, axis1=1, axis2=2) > 0).all(axis=1)
        safe = np.where(singular[:, None, None], np.eye(m)[None], sub_vcov)
        solved = np.linalg.solve(safe, sub_beta[:, :, None])[..., 0]
        qm = np.where(singular, np.nan, np.einsum("bi,bi->b", sub_beta, solved))
    else:
        qm = np.full(n, np.nan)
    upper_tail = (1.0 - level) / 2.0
    if test == "z":
        crit = np.full(n, norm.isf(upper_tail))
        pvalue = 2.0 * norm.sf(np.abs(statistic))
        df = np.full(n, np.nan)
        qm_df2 = np.full(n, np.nan)
        qm_pvalue = chi2.sf(qm, m) if m else qm
    else:
        df = df_residual
        crit = quantile_per_df(student_t.isf, upper_tail, df)
        pvalue = 2.0 * student_t.sf(np.abs(statistic), df[:, None])
        qm = qm / m if m else qm
        qm_df2 = df
        qm_pvalue = f_distribution.sf(qm, m, df) if m else qm
    ci_lower = fit.beta - crit[:, None] * se
    ci_upper = fit.beta + crit[:, None] * se

    fixed = weighted_fit(batch, np.zeros(n))
    qe = np.maximum(fixed.ypy, 0.0)
    typical = df_residual / fixed.trace_p
    if method == "EE":
        i2 = i2_from_q(qe, df_residual)
        h2 = qe / df_residual
    else:
        i2 = 100.0 * tau2 / (typical + tau2)
        h2 = tau2 / typical + 1.0
    fitted = np.einsum("bkj,bj->bk", batch.X, fit.beta)
    return RegressionArrays(
        k=k,
        p=p,
        beta=fit.beta,
        se=se,
        vcov=vcov,
        statistic=statistic,
        pvalue=pvalue,
        ci_lower=ci_lower,
        ci_upper=ci_upper,
        df=df,
        tau2=tau2,
        qe=qe,
        qe_df=df_residual,
        qe_pvalue=chi2.sf(qe, df_residual),
        qm=qm,
        qm_df1=np.full(n, float(m)),
        qm_df2=qm_df2,
        qm_pvalue=qm_pvalue,
        i2=i2,
        h2=h2,
        fitted=fitted,
        weights=fit.weights,
    )


def multiset_permutations(labels: NDArray[np.intp], limit: int) -> NDArray[np.intp] | None:
    """Every distinct ordering of ``labels`` (rows of equal label are interchangeable).

    Returns None when there are more than ``limit``.  Uses the classic
    next-lexicographic-permutation step (Knuth, TAOCP 7.2.1.2, Algorithm L),
    which visits each distinct ordering of a multiset once; written here
    because itertools.permutations repeats orderings of tied labels.
    """
    _, counts = np.unique(labels, return_counts=True)
    log_count = np.sum(np.log(np.arange(1, labels.size + 1))) - sum(
        np.sum(np.log(np.arange(1, c + 1))) for c in counts
    )
    if log_count > np.log(limit) + 1e-9:
        return None
    current = np.sort(labels)
    out = [current.copy()]
    while True:
        j = current.size - 2
        while j >= 0 and current[j] >= current[j + 1]:
            j -= 1
        if j < 0:
            return np.array(out)
        m = current.size - 1
        while current[j] >= current[m]:
            m -= 1
        current[j], current[m] = current[m], current[j]
        current[j + 1 :] = current[j + 1 :][::-1].copy()
        out.append(current.copy())


@dataclass(frozen=True)
class PermutationArrays:
    """A permutation test of a meta-regression (Higgins & Thompson 2004)."""

    exact: bool
    iterations: int
    qm_pvalue: float
    pvalue: FloatArray  # per coefficient, two-sided on |z|


def permutation_test(
    y: FloatArray,
    v: FloatArray,
    X: FloatArray,
    *,
    method: str,
    test: str,
    iterations: int = 1000,
    rng: np.random.Generator,
    tested: NDArray[np.intp] | None = None,
) -> PermutationArrays:
    """Permute the rows of X against (y, v), refit, and compare QM and each z (or t).

    Exact (every distinct permutation of the rows of X) when there are at most
    ``iterations``, else ``iterations`` random permutations with the observed
    order counted as the first, as metafor's ``permutest`` does.  p-values are
    the share of permutations at least as extreme as the observed, with a
    tolerance of ``sqrt(machine epsilon)`` for ties.
    """
    k = y.size
    _, row_labels = np.unique(X, axis=0, return_inverse=True)
    row_labels = row_labels.ravel()
    orderings = multiset_permutations(row_labels, iterations)
    exact = orderings is not None
    if exact:
        # each ordering of labels assigns a representative row of X per label
        representative = np.array(
            [np.flatnonzero(row_labels == label)[0] for label in range(row_labels.max() + 1)]
        )
        permuted = X[representative[orderings]]
    else:
        shuffled = np.argsort(rng.random((iterations - 1, k)), axis=1)
        indices = np.vstack([np.arange(k)[None, :], shuffled])
        permuted = X[indices]
    count = permuted.shape[0]
    batch = regression_batch(
        np.broadcast_to(y, (count, k)), np.broadcast_to(v, (count, k)), permuted
    )
    observed = meta_regression(regression_batch(y, v, X), method=method, test=test, tested=tested)
    fits = meta_regression(batch, method=method, test=test, tested=tested)
    tolerance = np.sqrt(np.finfo(float).eps)
    qm_pvalue = float(np.mean(fits.qm >= observed.qm[0] - tolerance))
    pvalue = np.mean(np.abs(fits.statistic) >= np.abs(observed.statistic[0]) - tolerance, axis=0)
    return PermutationArrays(exact=exact, iterations=count, qm_pvalue=qm_pvalue, pvalue=pvalue)
