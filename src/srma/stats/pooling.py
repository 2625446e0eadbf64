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

User weights ``a_i`` (metafor's ``rma.uni(weights=)``): tau² is estimated by the
method as usual (``GENQ``, the generalised Q estimator, at the weights ``a``), and
the pooled effect by weighted least squares at ``a``: ``mu_a = sum a_i y_i / sum
a_i`` with the sandwich variance ``Var(mu_a) = sum a_i² (v_i + tau²) / (sum
a_i)²`` (metafor's ``vb = (X'AX)^-1 X'A M A X (X'AX)^-1``, ``M = diag(v + tau²)``).
Under ``knha``/``adhoc`` that variance is multiplied by ``s² = sum w_i (y_i -
mu)² / (k - 1)`` at the inverse-variance weights ``w_i = 1/(v_i + tau²)`` and
their mean ``mu`` (as metafor 3.8-1 does); Q, I², H² and the Q-profile interval
of tau² do not involve the weights.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from srma.stats.batch import Batch, FloatArray
from srma.stats.heterogeneity import (
    cochran_q,
    h2_from_q,
    h2_from_tau2,
    i2_from_q,
    i2_from_tau2,
    q_profile_interval,
)
from srma.stats.inference import (
    critical_value,
    degrees_of_freedom,
    prediction_df,
    prediction_interval,
    residuals_vanish,
    two_sided_pvalue,
    wald_interval,
)
from srma.stats.tau2 import Tau2Estimate, estimate_tau2, generalised_q_moments, weighted_sums
from srma.vocabulary import (
    COMMON_EFFECT_METHODS,
    KNAPP_HARTUNG_TESTS,
    PI_TYPES,
    TESTS,
    USER_WEIGHT_METHODS,
)

__all__ = ["COMMON_EFFECT_METHODS", "PI_TYPES", "TESTS", "PooledArrays", "pool", "pool_in_blocks"]


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


def pool(
    batch: Batch,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    pi_type: str = "riley",
    tau2_interval: bool = True,
    tau2: FloatArray | None = None,
    weights: FloatArray | None = None,
) -> PooledArrays:
    """Pool every row of ``batch`` by inverse variance, or at user weights.

    ``method`` is ``"EE"`` (common effect; ``"FE"`` and ``"CE"`` are aliases)
    or a tau² estimator of :data:`srma.vocabulary.TAU2_METHODS`.  Rows with
    k = 1 return the study itself with a z-based interval and NaN for every
    heterogeneity field; rows with k = 0 are NaN throughout.  With
    ``tau2_interval=False`` the Q-profile interval (two more root searches) is
    skipped and its fields, with those of I² and H², are NaN: for leave-one-out,
    GOSH and simulations that do not report it.  ``tau2`` fixes tau² per row
    instead of estimating it (metafor's ``rma(tau2=)``); ``method`` then only
    names the model.  ``weights`` (shaped like ``batch.y``, > 0 where present)
    pools at those weights instead of ``1/(v + tau²)`` (see the module's
    docstring); ``method="GENQ"`` needs them.  The Q-profile interval of tau²
    is NaN for ``GENQ`` (metafor's interval for it, ``confint(type = "GENQ")``,
    needs the distribution of a weighted sum of chi² variables).
    """
    if test not in TESTS or pi_type not in PI_TYPES or not 0.0 < level < 1.0:
        # a programming error: user input is checked by srma.analysis.validation
        raise ValueError(f"invalid test {test!r}, pi_type {pi_type!r} or level {level!r}")
    common = method in COMMON_EFFECT_METHODS
    _ = batch.standardised  # computed once here and carried into every sub-batch
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
            fitted = _estimate_tau2(batch, estimate_rows, method, weights)
            tau2[estimate_rows] = fitted.tau2
            converged[estimate_rows] = fitted.converged
            iterations[estimate_rows] = fitted.iterations

    with np.errstate(divide="ignore", invalid="ignore"):
        sums = weighted_sums(batch, tau2)
        estimate = sums.mean
        variance = sums.variance_of_mean
        if weights is not None:
            estimate, variance, weights_percent = _at_user_weights(batch, weights, tau2)
        # t-based tests on k - 1 df; a single study falls back to z (df NaN)
        df_reported = degrees_of_freedom(test, k)
        if test in KNAPP_HARTUNG_TESTS:
            # Var(mu) s² = (m / s1) (s² q1 / m) / (k - 1) = s_y² q1 / (s1 (k - 1)): no tiny m
            # divided by (variances of 1e-300) or huge one multiplied by
            exact = residuals_vanish(sums.q1, sums.s1, np.abs(batch.standardised.rho).max(axis=1))
            if weights is None:
                kh = np.ldexp(sums.q1 / sums.s1, 2 * sums.exponent) / df_reported
            else:
                kh = sums.q / df_reported * variance
            kh = np.where(exact, 0.0, kh)
            if test == "adhoc":
                kh = np.maximum(kh, variance)
            variance = np.where(several, kh, variance)
        se = np.sqrt(variance)
        statistic = estimate / se
        crit = critical_value(level, df_reported)
        pvalue = two_sided_pvalue(statistic, df_reported)
        ci_lower, ci_upper = wald_interval(estimate, se, crit)

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
            if tau2_interval and method not in USER_WEIGHT_METHODS:
                interval = q_profile_interval(batch, level)
                tau2_ci_lower, tau2_ci_upper = interval.lower, interval.upper
            else:
                tau2_ci_lower = tau2_ci_upper = np.full(n, np.nan)
            i2_ci_lower = i2_from_tau2(tau2_ci_lower, typical)
            i2_ci_upper = i2_from_tau2(tau2_ci_upper, typical)
            h2_ci_lower = h2_from_tau2(tau2_ci_lower, typical)
            h2_ci_upper = h2_from_tau2(tau2_ci_upper, typical)
            pi_crit = critical_value(level, prediction_df(pi_type, test, k))
            pi_lower, pi_upper = prediction_interval(estimate, se, tau2, pi_crit)

        # relative weights u_i = m / (v_i + tau²) (no overflow with tiny variances)
        if weights is None:
            relative = np.where(batch.mask, sums.unit[:, None] / (batch.v + tau2[:, None]), 0.0)
            weights_percent = 100.0 * relative / sums.s1[:, None]

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
        weights=weights_percent,
        converged=converged,
        iterations=iterations,
    )


def _estimate_tau2(
    batch: Batch, rows: NDArray[np.intp], method: str, weights: FloatArray | None
) -> Tau2Estimate:
    """tau² of the given rows by ``method``; ``GENQ`` at the user's ``weights``."""
    if method in USER_WEIGHT_METHODS:
        if weights is None:
            # a programming error: srma.analysis.meta refuses GENQ without weights
            raise ValueError("method GENQ needs weights")
        return generalised_q_moments(batch.rows(rows), np.asarray(weights)[rows])
    return estimate_tau2(batch.rows(rows), method)


def _at_user_weights(
    batch: Batch, weights: FloatArray, tau2: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``mu_a``, ``Var(mu_a)`` and the weights in percent at user weights ``a``.

    ``mu_a = sum a y / sum a``, ``Var(mu_a) = sum a² (v + tau²) / (sum a)²``,
    with ``a`` taken relative to its largest value per row (the factor cancels)
    and the effects standardised (``y = c + s rho``) so that no sum overflows.
    """
    a = np.where(batch.mask, np.asarray(weights, dtype=np.float64), 0.0)
    alpha = a / a.max(axis=1)[:, None]
    sum_alpha = alpha.sum(axis=1)
    standard = batch.standardised
    rho = np.where(batch.mask, standard.rho, 0.0)
    estimate = standard.centre + np.ldexp((alpha * rho).sum(axis=1) / sum_alpha, standard.exponent)
    marginal = np.where(batch.mask, batch.v + tau2[:, None], 0.0)
    variance = (alpha * alpha * marginal).sum(axis=1) / sum_alpha**2
    return estimate, variance, 100.0 * alpha / sum_alpha[:, None]


#: Rows per block in :func:`pool_in_blocks`: large enough to amortise numpy's
#: per-call overhead, small enough for a block's arrays to stay in cache.
BLOCK_ROWS = 16384

#: Engines of :func:`pool_in_blocks`: ``numpy`` (the reference), ``compiled`` (the numba
#: kernel of :mod:`srma.stats.kernel` wherever it covers the call; an error without numba)
#: and ``auto`` (compiled for batches of at least :data:`COMPILED_MIN_ROWS` rows when numba
#: can be imported and compile, numpy otherwise).
ENGINES = ("auto", "numpy", "compiled")

#: Rows from which ``engine="auto"`` uses the compiled kernel: below it, importing numba
#: (about 0.3 s) and loading the cached kernel cost more than the numpy path saves.
COMPILED_MIN_ROWS = 100_000

#: Methods the compiled kernel computes (the others always take the numpy path).
COMPILED_METHODS = ("REML",)

#: Environment variable giving the default engine (``auto`` when unset).
ENGINE_VARIABLE = "SRMA_BATCH_ENGINE"


def _compiled_fields(
    batch: Batch, engine: str, method: str, workers: int | None, **settings: object
) -> dict[str, NDArray[np.generic]] | None:
    """Every field by the compiled kernel, or None where the numpy path is to be used."""
    if engine == "numpy" or method not in COMPILED_METHODS:
        return None
    if engine == "auto" and batch.y.shape[0] < COMPILED_MIN_ROWS:
        return None
    from srma.stats import kernel

    try:
        kernel.load()
    except Exception as error:  # numba missing, or it cannot compile or cache here
        if engine == "compiled":
            message = f"engine='compiled' needs numba (pip install srma[fast]): {error}"
            raise RuntimeError(message) from error
        return None
    return kernel.fit_batch(
        batch.y, batch.v, batch.mask, block_rows=BLOCK_ROWS, workers=workers, **settings
    )


def pool_in_blocks(
    batch: Batch,
    *,
    method: str = "REML",
    test: str = "z",
    level: float = 0.95,
    pi_type: str = "riley",
    tau2_interval: bool = True,
    workers: int | None = None,
    engine: str | None = None,
) -> PooledArrays:
    """:func:`pool` on blocks of rows, spread over threads, results joined.

    Same numbers as :func:`pool` on the whole batch; numpy releases the GIL
    inside its loops, so ``workers`` threads (default: the machine's cores)
    run blocks side by side.  ``engine`` (:data:`ENGINES`; default: the
    ``SRMA_BATCH_ENGINE`` environment variable, else ``auto``) chooses the
    numpy path or the compiled kernel of :mod:`srma.stats.kernel`, which gives
    the same numbers to 1e-12 (REML only; other methods always use numpy).
    """
    engine = engine or os.environ.get(ENGINE_VARIABLE) or "auto"
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; expected one of {', '.join(ENGINES)}")
    settings = {"test": test, "level": level, "pi_type": pi_type, "tau2_interval": tau2_interval}
    compiled = _compiled_fields(batch, engine, method, workers, **settings)
    if compiled is not None:
        return PooledArrays(**compiled)
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
