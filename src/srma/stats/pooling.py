"""Inverse-variance pooling of many meta-analyses at once.

The pooled estimate is ``mu = sum w_i y_i / sum w_i`` with ``w_i = 1/(v_i +
tau²)`` (tau² = 0 for the common-effect model), ``Var(mu) = 1 / sum w_i``.

Tests of the pooled effect:

* ``z``: Wald test with the normal distribution.
* ``t``: the same statistic against t with ``k - 1`` df.
* ``knha``: Knapp & Hartung (2003), Hartung & Knapp (2001), Sidik & Jonkman
  (2002): ``Var(mu)`` multiplied by ``s² = sum w_i (y_i - mu)² / (k - 1)`` and
  t with ``k - 1`` df.
* ``adhoc``: the same with ``s²`` truncated below at 1 (Knapp & Hartung's ad hoc
  correction; Röver, Knapp & Friede 2015, BMC Med Res Methodol 15:99).

Prediction interval: ``mu ± crit * sqrt(Var(mu) + tau²)``.  ``pi_type="riley"``
(the srma default) uses t with ``k - 2`` df (Higgins, Thompson & Spiegelhalter
2009, J R Stat Soc A 172:137-159; Riley et al. 2011, BMJ 342:d549);
``"default"`` uses metafor's default (normal for the z test, t with ``k - 1`` df
otherwise); ``"t"`` uses t with ``k - 1`` df.  The numbers agree with metafor's
``rma.uni`` and ``predict(..., pi.type=)``.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray
from scipy.stats import norm
from scipy.stats import t as student_t

from srma.stats.batch import Batch, FloatArray, quantile_per_df
from srma.stats.heterogeneity import (
    cochran_q,
    h2_from_q,
    h2_from_tau2,
    i2_from_q,
    i2_from_tau2,
    q_profile_interval,
)
from srma.stats.tau2 import estimate_tau2, weighted_sums

COMMON_EFFECT_METHODS = frozenset({"EE", "FE", "CE"})
TESTS = ("z", "t", "knha", "adhoc")
PI_TYPES = ("riley", "default", "t")


@dataclass(frozen=True)
class PooledArrays:
    """Results of a batch of inverse-variance meta-analyses, one entry per row.

    Every array is shaped ``(batch,)`` except ``weights`` ``(batch, k)``, in
    percent of the total.  Undefined values are NaN (for example, the
    heterogeneity fields when k = 1, or ``df`` under the z test).
    """

    k: NDArray[np.int64]
    estimate: FloatArray
    se: FloatArray
    statistic: FloatArray
    pvalue: FloatArray
    df: FloatArray
    ci_lower: FloatArray
    ci_upper: FloatArray
    pi_lower: FloatArray
    pi_upper: FloatArray
    tau2: FloatArray
    tau2_ci_lower: FloatArray
    tau2_ci_upper: FloatArray
    i2: FloatArray
    i2_ci_lower: FloatArray
    i2_ci_upper: FloatArray
    h2: FloatArray
    h2_ci_lower: FloatArray
    h2_ci_upper: FloatArray
    q: FloatArray
    q_df: FloatArray
    q_pvalue: FloatArray
    weights: FloatArray
    converged: NDArray[np.bool_]
    iterations: NDArray[np.int64]

    @property
    def tau(self) -> FloatArray:
        """Square root of tau²."""
        return np.sqrt(self.tau2)


def _critical_values(test: str, df: FloatArray, level: float) -> FloatArray:
    upper_tail = (1.0 - level) / 2.0
    if test == "z":
        return np.full(df.shape, norm.isf(upper_tail))
    return np.where(df > 0, quantile_per_df(student_t.isf, upper_tail, np.maximum(df, 1.0)), np.nan)


def _two_sided_pvalue(test: str, statistic: FloatArray, df: FloatArray) -> FloatArray:
    if test == "z":
        return 2.0 * norm.sf(np.abs(statistic))
    return np.where(df > 0, 2.0 * student_t.sf(np.abs(statistic), np.maximum(df, 1.0)), np.nan)


def pool(
    batch: Batch,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    pi_type: str = "riley",
    tau2_interval: bool = True,
    tau2: FloatArray | None = None,
) -> PooledArrays:
    """Pool every row of ``batch`` by inverse variance.

    ``method`` is ``"EE"`` (common effect; ``"FE"`` and ``"CE"`` are aliases)
    or a tau² estimator of :data:`srma.stats.tau2.TAU2_METHODS`.  Rows with
    k = 1 return the study itself with a z-based interval and NaN for every
    heterogeneity field; rows with k = 0 are NaN throughout.  With
    ``tau2_interval=False`` the Q-profile interval (two more root searches) is
    skipped and its fields, with those of I² and H², are NaN: for leave-one-out,
    GOSH and simulations that do not report it.  ``tau2`` fixes tau² per row
    instead of estimating it (metafor's ``rma(tau2=)``); ``method`` then only
    names the model.
    """
    if test not in TESTS:
        raise ValueError(f"unknown test {test!r}; expected one of {', '.join(TESTS)}")
    if pi_type not in PI_TYPES:
        raise ValueError(f"unknown pi_type {pi_type!r}; expected one of {', '.join(PI_TYPES)}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must lie between 0 and 1, got {level}")
    common = method in COMMON_EFFECT_METHODS
    k = batch.k
    n = k.shape[0]
    several = k >= 2

    converged = np.ones(n, dtype=bool)
    iterations = np.zeros(n, dtype=np.int64)
    if common:
        tau2 = np.zeros(n)
    elif tau2 is not None:
        tau2 = np.broadcast_to(np.asarray(tau2, dtype=np.float64), (n,)).copy()
    else:
        tau2 = np.zeros(n)
        estimate_rows = np.flatnonzero(several)
        if estimate_rows.size:
            fitted = estimate_tau2(batch.rows(estimate_rows), method)
            tau2[estimate_rows] = fitted.tau2
            converged[estimate_rows] = fitted.converged
            iterations[estimate_rows] = fitted.iterations

    with np.errstate(divide="ignore", invalid="ignore"):
        sums = weighted_sums(batch, tau2)
        estimate = sums.mean
        variance = 1.0 / sums.sum_w
        df = (k - 1).astype(np.float64)
        if test in ("knha", "adhoc"):
            scale = np.where(sums.q > np.finfo(float).eps, sums.q / df, 0.0)
            if test == "adhoc":
                scale = np.maximum(scale, 1.0)
            variance = np.where(several, variance * scale, variance)
        row_test_is_z = test == "z"
        se = np.sqrt(variance)
        statistic = estimate / se
        if row_test_is_z:
            df_reported = np.full(n, np.nan)
            crit = _critical_values("z", df, level)
            pvalue = _two_sided_pvalue("z", statistic, df)
        else:
            df_reported = np.where(several, df, np.nan)
            crit = np.where(
                several, _critical_values(test, df, level), _critical_values("z", df, level)
            )
            pvalue = np.where(
                several,
                _two_sided_pvalue(test, statistic, df),
                _two_sided_pvalue("z", statistic, df),
            )
        ci_lower = estimate - crit * se
        ci_upper = estimate + crit * se

        heterogeneity = cochran_q(batch)
        if common:
            i2 = i2_from_q(heterogeneity.q, heterogeneity.df)
            h2 = h2_from_q(heterogeneity.q, heterogeneity.df)
            nan = np.full(n, np.nan)
            tau2_ci_lower = tau2_ci_upper = i2_ci_lower = i2_ci_upper = nan
            h2_ci_lower = h2_ci_upper = pi_lower = pi_upper = nan
        else:
            typical = heterogeneity.typical_variance
            i2 = i2_from_tau2(tau2, typical)
            h2 = h2_from_tau2(tau2, typical)
            if tau2_interval:
                interval = q_profile_interval(batch, level)
                tau2_ci_lower, tau2_ci_upper = interval.lower, interval.upper
            else:
                tau2_ci_lower = tau2_ci_upper = np.full(n, np.nan)
            i2_ci_lower = i2_from_tau2(tau2_ci_lower, typical)
            i2_ci_upper = i2_from_tau2(tau2_ci_upper, typical)
            h2_ci_lower = h2_from_tau2(tau2_ci_lower, typical)
            h2_ci_upper = h2_from_tau2(tau2_ci_upper, typical)
            pi_crit = _prediction_critical_values(pi_type, test, k, level)
            half_width = pi_crit * np.sqrt(variance + tau2)
            pi_lower = estimate - half_width
            pi_upper = estimate + half_width

        weights = np.where(batch.mask, 1.0 / (batch.v + tau2[:, None]), 0.0)
        weights = 100.0 * weights / sums.sum_w[:, None]

    undefined_heterogeneity = ~several
    tau2_out = np.where(several, tau2, np.nan)

    def heterogeneity_field(values: FloatArray) -> FloatArray:
        return np.where(undefined_heterogeneity, np.nan, values)

    return PooledArrays(
        k=k,
        estimate=estimate,
        se=se,
        statistic=statistic,
        pvalue=pvalue,
        df=df_reported,
        ci_lower=ci_lower,
        ci_upper=ci_upper,
        pi_lower=heterogeneity_field(pi_lower),
        pi_upper=heterogeneity_field(pi_upper),
        tau2=tau2_out,
        tau2_ci_lower=heterogeneity_field(tau2_ci_lower),
        tau2_ci_upper=heterogeneity_field(tau2_ci_upper),
        i2=heterogeneity_field(i2),
        i2_ci_lower=heterogeneity_field(i2_ci_lower),
        i2_ci_upper=heterogeneity_field(i2_ci_upper),
        h2=heterogeneity_field(h2),
        h2_ci_lower=heterogeneity_field(h2_ci_lower),
        h2_ci_upper=heterogeneity_field(h2_ci_upper),
        q=heterogeneity_field(heterogeneity.q),
        q_df=heterogeneity_field(heterogeneity.df),
        q_pvalue=heterogeneity_field(heterogeneity.pvalue),
        weights=weights,
        converged=converged,
        iterations=iterations,
    )


def _prediction_critical_values(
    pi_type: str, test: str, k: NDArray[np.int64], level: float
) -> FloatArray:
    """Critical value of the prediction interval, as metafor's ``predict(pi.type=)``."""
    upper_tail = (1.0 - level) / 2.0
    if pi_type == "default" and test == "z":
        return np.full(k.shape, norm.isf(upper_tail))
    df = (k - 2) if pi_type == "riley" else (k - 1)
    return quantile_per_df(student_t.isf, upper_tail, np.maximum(df, 1))


#: Rows per block in :func:`pool_in_blocks`: large enough to amortise numpy's
#: per-call overhead, small enough for a block's arrays to stay in cache.
BLOCK_ROWS = 16384


def pool_in_blocks(
    batch: Batch,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    pi_type: str = "riley",
    tau2_interval: bool = True,
    workers: int | None = None,
) -> PooledArrays:
    """:func:`pool` on blocks of rows, spread over threads, results joined.

    Same numbers as :func:`pool` on the whole batch; numpy releases the GIL
    inside its loops, so ``workers`` threads (default: the machine's cores)
    run blocks side by side.
    """
    n = batch.y.shape[0]
    if n <= BLOCK_ROWS:
        return pool(
            batch,
            method=method,
            test=test,
            level=level,
            pi_type=pi_type,
            tau2_interval=tau2_interval,
        )
    starts = range(0, n, BLOCK_ROWS)

    def run(start: int) -> PooledArrays:
        rows = np.arange(start, min(start + BLOCK_ROWS, n))
        return pool(
            batch.rows(rows),
            method=method,
            test=test,
            level=level,
            pi_type=pi_type,
            tau2_interval=tau2_interval,
        )

    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as executor:
        parts = list(executor.map(run, starts))
    return PooledArrays(
        **{
            item.name: np.concatenate([getattr(part, item.name) for part in parts])
            for item in fields(PooledArrays)
        }
    )
