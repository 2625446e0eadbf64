"""Mixed-effects meta-regression for many data sets at once.

The model is ``y = X beta + u + e`` with ``u ~ N(0, tau² I)`` and ``e ~ N(0,
diag(v))``.  With ``W = diag(w)``, ``w_i = 1/(v_i + tau²)`` and ``A = (X'WX)^-1``:

* ``beta = A X'W y``, ``Var(beta) = A`` (times ``s²`` under Knapp-Hartung);
* ``P = W - W X A X'W``, residuals ``r = y - X beta``, ``P y = w * r``;
* ``y'Py = sum w r²``, ``y'PPy = sum w² r²``, ``tr P = sum w - tr(A X'W²X)``,
  ``tr PP = sum w² - 2 tr(A X'W³X) + tr((A X'W²X)²)``,
  ``y'PPPy = sum w³ r² - (X'W² r)' A (X'W² r)``.

tau² (residual heterogeneity) is estimated by the one estimator family of
:mod:`srma.stats.tau2` (DL, HE, HS, SJ, ML, REML, PM, EB, PMM), the same code
as the intercept-only model, as in metafor's ``rma.uni`` with moderators
(Viechtbauer 2010; Viechtbauer et al. 2015, Res Synth Methods 6:1-21); tests
and intervals come from :mod:`srma.stats.inference`.  Arrays are shaped
``(batch, k)`` for ``y``, ``v`` and ``mask`` and ``(batch, k, p)`` for ``X``;
absent studies have zero weight.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
from numpy.typing import NDArray

from srma.stats.batch import FloatArray, RegressionBatch, regression_batch
from srma.stats.heterogeneity import h2_from_q, h2_from_tau2, i2_from_q, i2_from_tau2
from srma.stats.inference import (
    chi2_pvalue,
    critical_value,
    degrees_of_freedom,
    f_pvalue,
    residuals_vanish,
    two_sided_pvalue,
    wald_interval,
)
from srma.stats.tau2 import (
    Fit,
    estimate_tau2,
    profile_loglik,
    restricted_loglik,
    weighted_fit,
)
from srma.vocabulary import KNAPP_HARTUNG_TESTS

__all__ = [
    "Fit",
    "PermutationArrays",
    "RegressionArrays",
    "RegressionBatch",
    "meta_regression",
    "multiset_permutations",
    "permutation_test",
    "profile_loglik",
    "regression_batch",
    "residual_tau2",
    "restricted_loglik",
    "weighted_fit",
]


def residual_tau2(batch: RegressionBatch, method: str) -> FloatArray:
    """Residual heterogeneity tau² by ``method``: ``EE`` or an estimator of :mod:`srma.stats.tau2`.

    The same estimator family as the intercept-only model: :func:`srma.stats.tau2.estimate_tau2`.
    """
    return estimate_tau2(batch, method).tau2


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
    #: tau² converged and the weighted fit kept its digits (where it did not, every number is NaN)
    converged: NDArray[np.bool_]


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

    Computed on the rescaled design (:class:`srma.stats.tau2.Fit`): ``Var(beta)
    = m D^-1 A~ D^-1`` and ``QM = beta_T' Var(beta_T)^-1 beta_T = (s² / m')
    beta~_T' A~_T^-1 beta~_T`` with ``m'`` the unit times the Knapp-Hartung
    factor, so moderators and variances of any scale give numbers where the
    answer is a double.  ``converged`` is False where tau² did not converge or
    the weighted fit lost its digits (``Fit.precise``); every number of a row
    whose fit lost its digits, or whose tau² is not a number, is NaN.
    """
    n = batch.y.shape[0]
    k, p = batch.k, batch.p
    if tested is None:
        tested = np.arange(1, p)
    converged = np.ones(n, dtype=bool)
    if tau2 is None:
        estimate = estimate_tau2(batch, method)
        tau2, converged = estimate.tau2, estimate.converged.copy()
    fit = weighted_fit(batch, np.where(np.isfinite(tau2), tau2, 0.0))
    fixed = weighted_fit(batch, np.zeros(n))
    defined = fit.precise & fixed.precise & np.isfinite(tau2)
    converged &= defined
    df_residual = (k - p).astype(np.float64)
    # Var(beta) = factor D^-1 A~ D^-1: factor = m, times the Knapp-Hartung s² = y'Py/(k - p)
    factor = fit.unit
    if test in KNAPP_HARTUNG_TESTS:
        largest = np.abs(batch.scaled.effects.rho).max(axis=1)
        exact = residuals_vanish(fit.q1, fit.s1, largest)
        with np.errstate(over="ignore", invalid="ignore"):
            # m s² = s_y² q1 / (k - p) (no division by a tiny m), or m when adhoc truncates at 1
            kh = np.ldexp(fit.q1, 2 * fit.exponent) / df_residual
            factor = np.where(exact, 0.0, kh)
            if test == "adhoc":
                factor = np.maximum(factor, fit.unit)
    vcov = fit.covariance(factor)
    se = fit.standard_errors(factor)
    beta = fit.beta
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # se = 0: an exact fit
        statistic = beta / se
    m = len(tested)
    if m:
        # QM in scaled form: beta_T = s beta~_T / d_T and Var(beta_T) = factor A~_T / (d d'),
        # so QM = (s² / factor) beta~_T' A~_T^-1 beta~_T
        sub_beta = fit.coefficients[:, tested]
        sub_inverse = fit.inverse_scaled[:, tested[:, None], tested[None, :]]
        # a zero Knapp-Hartung factor makes the covariance singular: QM is then
        # undefined (metafor reports NA)
        singular = ~((factor > 0) & np.all(np.isfinite(sub_inverse), axis=(1, 2)))
        safe = np.where(singular[:, None, None], np.eye(m)[None], sub_inverse)
        solved = np.linalg.solve(safe, sub_beta[:, :, None])[..., 0]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            quadratic = np.einsum("bi,bi->b", sub_beta, solved)
            qm = np.ldexp(quadratic / factor, 2 * fit.exponent)
        qm = np.where(singular, np.nan, qm)
    else:
        qm = np.full(n, np.nan)
    df = degrees_of_freedom(test, k, p)
    crit = critical_value(level, df)
    with np.errstate(invalid="ignore"):
        pvalue = two_sided_pvalue(statistic, df[:, None])
    if test == "z":
        qm_df2 = np.full(n, np.nan)
        qm_pvalue = chi2_pvalue(qm, m) if m else qm
    else:
        qm = qm / m if m else qm
        qm_df2 = df
        qm_pvalue = f_pvalue(qm, m, df) if m else qm
    with np.errstate(over="ignore", invalid="ignore"):
        ci_lower, ci_upper = wald_interval(beta, se, crit[:, None])

    qe = np.maximum(fixed.ypy, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        typical = fixed.unit * (df_residual / fixed.trace_p_scaled)
    if method == "EE":
        i2 = i2_from_q(qe, df_residual)
        h2 = h2_from_q(qe, df_residual)
    else:
        i2 = i2_from_tau2(tau2, typical)
        h2 = h2_from_tau2(tau2, typical)
    design = batch.scaled
    with np.errstate(over="ignore", invalid="ignore"):
        fitted = design.effects.centre[:, None] + np.ldexp(
            np.einsum("bkj,bj->bk", design.X, fit.coefficients), design.effects.exponent[:, None]
        )
    arrays = RegressionArrays(
        k=k,
        p=p,
        beta=beta,
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
        qe_pvalue=chi2_pvalue(qe, df_residual),
        qm=qm,
        qm_df1=np.full(n, float(m)),
        qm_df2=qm_df2,
        qm_pvalue=qm_pvalue,
        i2=i2,
        h2=h2,
        fitted=fitted,
        weights=fit.weights,
        converged=converged,
    )
    return _undefined_where(arrays, ~defined)


def _undefined_where(arrays: RegressionArrays, rows: NDArray[np.bool_]) -> RegressionArrays:
    """``arrays`` with every number of the given rows NaN (a fit that cannot be trusted)."""
    if not rows.any():
        return arrays
    changes = {}
    for item in fields(arrays):
        value = getattr(arrays, item.name)
        if isinstance(value, np.ndarray) and value.dtype == np.float64:
            changed = value.copy()
            changed[rows] = np.nan
            changes[item.name] = changed
    return replace(arrays, **changes)


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
