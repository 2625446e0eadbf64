"""Heterogeneity statistics: Cochran's Q, I², H² and the Q-profile interval for tau².

References: Cochran (1954) Biometrics 10:101-129; Higgins & Thompson (2002)
Stat Med 21:1539-1558; Viechtbauer (2007) Stat Med 26:37-52 (Q-profile);
metafor's ``rma.uni`` and ``confint.rma.uni`` (Viechtbauer 2010).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from srma.stats.batch import Batch, FloatArray, quantile_per_df
from srma.stats.inference import chi2_lower_quantile, chi2_pvalue, chi2_upper_quantile
from srma.stats.tau2 import (
    generalised_q_equation,
    q_equation_upper,
    q_sums,
    solve_tau2_equation,
    weighted_sums,
)


@dataclass(frozen=True)
class CochranQ:
    """Cochran's Q with inverse-variance weights ``1/v_i`` and the typical variance."""

    q: FloatArray
    df: FloatArray
    pvalue: FloatArray
    typical_variance: FloatArray


def cochran_q(batch: Batch) -> CochranQ:
    """``Q = sum (y_i - mu_EE)² / v_i`` on ``k - 1`` df.

    The typical within-study variance (Higgins & Thompson 2002, eq. 9) is
    ``s² = (k - 1) / (sum w_i - sum w_i² / sum w_i)`` with ``w_i = 1/v_i``.
    """
    sums = weighted_sums(batch, np.zeros(batch.y.shape[0]))
    df = (batch.k - 1).astype(np.float64)
    q = np.maximum(sums.q, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        # (k - 1) / tr P at tau² = 0, from the scaled sums: m (k - 1) / (s1 - s2 / s1)
        typical = sums.unit * (df / sums.trace_p_scaled)
    return CochranQ(q=q, df=df, pvalue=chi2_pvalue(q, df), typical_variance=typical)


def i2_from_tau2(tau2: FloatArray, typical_variance: FloatArray) -> FloatArray:
    """``I² = 100 tau² / (tau² + s²)`` in percent (Higgins & Thompson 2002)."""
    return 100.0 * tau2 / (typical_variance + tau2)


def h2_from_tau2(tau2: FloatArray, typical_variance: FloatArray) -> FloatArray:
    """``H² = (tau² + s²) / s²`` (Higgins & Thompson 2002)."""
    return tau2 / typical_variance + 1.0


def i2_from_q(q: FloatArray, df: FloatArray) -> FloatArray:
    """``I² = max(0, 100 (Q - df) / Q)``, the form used with a common-effect model."""
    above = q > df
    # divided before it is scaled to a percentage, so that a Q near the largest double cannot
    # overflow
    return np.where(above, 100.0 * ((q - df) / np.where(above, q, 1.0)), 0.0)


def h2_from_q(q: FloatArray, df: FloatArray) -> FloatArray:
    """``H² = Q / df``."""
    return q / df


@dataclass(frozen=True)
class Tau2Interval:
    """A confidence interval for tau²."""

    lower: FloatArray
    upper: FloatArray


def q_profile_interval(batch: Batch, level: float) -> Tau2Interval:
    """The Q-profile confidence interval for tau² (Viechtbauer 2007).

    The bounds solve ``Q(tau²) = chi²_{k-1, 1-alpha/2}`` (lower) and
    ``Q(tau²) = chi²_{k-1, alpha/2}`` (upper), where ``Q(tau²) = sum w_i
    (y_i - mu_w)²`` with ``w_i = 1/(v_i + tau²)`` decreases in tau²; a bound
    whose equation has no positive root is 0, and one beyond the largest double
    (effects 1e150 apart at a level of 0.999999) is NaN.
    """
    df = (batch.k - 1).astype(np.float64)
    alpha = 1.0 - level
    start = np.zeros(batch.y.shape[0])
    bounds = []
    for quantile in (
        quantile_per_df(chi2_upper_quantile, alpha / 2, df),
        quantile_per_df(chi2_lower_quantile, alpha / 2, df),
    ):
        bracket = q_equation_upper(batch, quantile)
        beyond = np.isinf(bracket)
        # Q decreases in tau², so the upper bound lies beyond the lower one: start there.
        solution = solve_tau2_equation(
            batch,
            generalised_q_equation(quantile),
            bounds[0] if bounds else start,
            evaluate=q_sums,
            upper=np.where(beyond, 1.0, bracket),
        )
        bounds.append(np.where(beyond, np.nan, solution.tau2))
    return Tau2Interval(lower=bounds[0], upper=bounds[1])
