"""Inference on estimated coefficients: critical values, p-values, Wald and prediction intervals.

One module for every place srma turns an estimate and its standard error into
a test or an interval (pooling, meta-regression, subgroups, bias tests).
Arrays carry a leading batch axis; a degrees-of-freedom array holds NaN
where the normal distribution applies, so that a batch may mix z rows (for
example k = 1) and t rows.

* Critical value ``crit = z_{1-alpha/2}`` or ``t_{df, 1-alpha/2}``, ``alpha = 1 - level``.
* Two-sided p-value ``2 P(Z > |stat|)`` or ``2 P(T_df > |stat|)``.
* Wald interval ``estimate ± crit * se``.
* Knapp-Hartung: ``Var(beta)`` times ``s² = y'Py / (k - p)`` with t on ``k - p``
  df (Hartung & Knapp 2001, Stat Med 20:3875-3889; Knapp & Hartung 2003, Stat
  Med 22:2693-2710; Sidik & Jonkman 2002); the ad hoc variant truncates ``s²``
  below at 1 (Knapp & Hartung 2003; Röver, Knapp & Friede 2015, BMC Med Res
  Methodol 15:99).  ``s² = 0`` (the studies agree exactly) is kept as 0:
  where the residuals are no larger than the rounding error of the effects
  (:func:`residuals_vanish`), ``s²`` is taken to be 0.
* Prediction interval ``estimate ± crit_pi * sqrt(se² + tau²)`` (Higgins,
  Thompson & Spiegelhalter 2009, J R Stat Soc A 172:137-159), with ``crit_pi``
  as metafor's ``predict(pi.type=)``: ``riley`` t on ``k - p - 1`` df (Riley et
  al. 2011, BMJ 342:d549), ``t`` t on ``k - p`` df, ``default`` normal under
  the z test and t on ``k - p`` df otherwise.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import special
from scipy.stats import chi2
from scipy.stats import f as f_distribution

from srma.stats.batch import FloatArray, quantile_per_df

# The tails below call scipy.special directly: they are the functions scipy.stats' own
# norm, t and chi2 evaluate (``t.isf(q, df)`` is ``-stdtrit(df, q)``, ``norm.sf(x)`` is
# ``ndtr(-x)``, ``chi2.ppf(p, df)`` is ``2 gammaincinv(df / 2, p)``), bit for bit, without
# the generic distribution wrapper's argument checks, which cost about 100 µs a call and
# were a tenth of a single ``meta()``.


def normal_upper_quantile(probability: ArrayLike) -> FloatArray:
    """``z`` with ``P(Z > z) = probability``."""
    return -special.ndtri(probability)


def t_upper_quantile(probability: ArrayLike, df: ArrayLike) -> FloatArray:
    """``t`` with ``P(T_df > t) = probability``."""
    return -special.stdtrit(df, probability)


def chi2_upper_quantile(probability: ArrayLike, df: ArrayLike) -> FloatArray:
    """``x`` with ``P(chi²_df > x) = probability``."""
    return special.chdtri(df, probability)


def chi2_lower_quantile(probability: ArrayLike, df: ArrayLike) -> FloatArray:
    """``x`` with ``P(chi²_df <= x) = probability``."""
    return 2.0 * special.gammaincinv(np.asarray(df, dtype=np.float64) / 2.0, probability)


def _as_df(df: ArrayLike | None, shape: tuple[int, ...]) -> FloatArray:
    if df is None:
        return np.full(shape, np.nan)
    return np.broadcast_to(np.asarray(df, dtype=np.float64), shape).astype(np.float64)


def degrees_of_freedom(test: str, k: ArrayLike, p: int = 1) -> FloatArray:
    """Degrees of freedom of the test: NaN (normal) under ``z``, ``k - p`` otherwise.

    Rows with ``k - p < 1`` get NaN as well: with one study there is nothing
    to estimate a t distribution from, and the normal applies.
    """
    residual = np.asarray(k, dtype=np.float64) - p
    if test == "z":
        return np.full(residual.shape, np.nan)
    return np.where(residual >= 1, residual, np.nan)


def critical_value(
    level: float, df: ArrayLike | None = None, shape: tuple[int, ...] = ()
) -> FloatArray:
    """``z_{1-alpha/2}`` where ``df`` is NaN (or None), else ``t_{df, 1-alpha/2}``."""
    upper_tail = (1.0 - level) / 2.0
    if df is None:
        return np.full(shape, normal_upper_quantile(upper_tail))
    df_arr = np.asarray(df, dtype=np.float64)
    out = np.full(df_arr.shape, normal_upper_quantile(upper_tail))
    finite = np.isfinite(df_arr)
    if finite.any():
        out[finite] = quantile_per_df(t_upper_quantile, upper_tail, df_arr[finite])
    return out


def two_sided_pvalue(statistic: ArrayLike, df: ArrayLike | None = None) -> FloatArray:
    """``2 P(Z > |stat|)`` where ``df`` is NaN (or None), else ``2 P(T_df > |stat|)``.

    ``df`` broadcasts against ``statistic`` (shape ``(batch,)`` against
    ``(batch, p)`` needs ``df[:, None]``).
    """
    stat = np.abs(np.asarray(statistic, dtype=np.float64))
    dfs = _as_df(df, stat.shape)
    t_rows = np.isfinite(dfs)
    if not t_rows.any():
        return 2.0 * special.ndtr(-stat)
    if t_rows.all():
        return 2.0 * special.stdtr(dfs, -stat)
    out = 2.0 * special.ndtr(-stat)
    out[t_rows] = 2.0 * special.stdtr(dfs[t_rows], -stat[t_rows])
    return out


def wald_interval(
    estimate: ArrayLike, se: ArrayLike, crit: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """``estimate ± crit * se``."""
    estimate = np.asarray(estimate, dtype=np.float64)
    half = np.asarray(crit, dtype=np.float64) * np.asarray(se, dtype=np.float64)
    return estimate - half, estimate + half


def residuals_vanish(
    residual_ss: ArrayLike, weight_sum: ArrayLike, largest_effect: ArrayLike
) -> NDArray[np.bool_]:
    """Whether ``sum u r² <= (4 eps max|y|)² sum u``: residuals within the effects' rounding.

    ``u`` are the weights (any common scale: relative weights do), ``r`` the
    residuals and ``max|y|`` the largest effect, in one unit of the effects.
    Scale-free: studies that agree to 1e-99 of their standard errors (variances
    of 1e200) still have a Knapp-Hartung factor, and effects that are equal have none.
    """
    floor = (4.0 * np.finfo(float).eps * np.asarray(largest_effect, dtype=np.float64)) ** 2
    return np.asarray(residual_ss) <= floor * np.asarray(weight_sum)


def prediction_df(
    pi_type: str, test: str, k: ArrayLike, p: int = 1, *, random: bool = True
) -> FloatArray:
    """Degrees of freedom of the prediction interval (NaN: normal), as ``predict(pi.type=)``.

    ``riley``: ``k - p - 1`` (``k - p`` for a common-effect model, ``random=False``);
    ``t``: ``k - p``; ``default``: normal under z, ``k - p`` otherwise.  Never below 1.
    """
    k_arr = np.asarray(k, dtype=np.float64)
    if pi_type == "default" and test == "z":
        return np.full(k_arr.shape, np.nan)
    df = k_arr - p - (1 if pi_type == "riley" and random else 0)
    return np.maximum(df, 1.0)


def prediction_interval(
    estimate: ArrayLike, se: ArrayLike, tau2: ArrayLike, crit: ArrayLike
) -> tuple[FloatArray, FloatArray]:
    """``estimate ± crit * sqrt(se² + tau²)``."""
    variance = np.asarray(se, dtype=np.float64) ** 2 + np.asarray(tau2, dtype=np.float64)
    return wald_interval(estimate, np.sqrt(variance), crit)


def chi2_pvalue(statistic: ArrayLike, df: ArrayLike) -> FloatArray:
    """Upper-tail ``P(chi²_df > statistic)`` (Cochran's Q, QE, the omnibus QM)."""
    return chi2.sf(statistic, df)


def f_pvalue(statistic: ArrayLike, df1: ArrayLike, df2: ArrayLike) -> FloatArray:
    """Upper-tail ``P(F_{df1, df2} > statistic)`` (the omnibus test under t-based tests)."""
    return f_distribution.sf(statistic, df1, df2)
