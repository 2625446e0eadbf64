"""Effect sizes and their sampling variances, vectorised over any array shape.

Every function returns ``(yi, vi)``; the formulas are those of metafor's
``escalc`` (Viechtbauer 2010) with its default variance types, and of
Borenstein et al. (2009), *Introduction to Meta-Analysis*, chapters 4-6.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import gammaln
from scipy.stats import norm

from srma.stats.batch import FloatArray

EffectArrays = tuple[FloatArray, FloatArray]

#: Where a continuity correction goes (metafor's ``to=``).
CONTINUITY_TARGETS = ("only0", "all", "if0all", "none")


def _float(*arrays: ArrayLike) -> list[FloatArray]:
    return [np.asarray(a, dtype=np.float64) for a in arrays]


def mean_difference(
    mean1: ArrayLike,
    sd1: ArrayLike,
    n1: ArrayLike,
    mean2: ArrayLike,
    sd2: ArrayLike,
    n2: ArrayLike,
) -> EffectArrays:
    """MD: ``yi = m1 - m2``, ``vi = sd1²/n1 + sd2²/n2`` (no equal-variance assumption)."""
    m1, s1, n1_, m2, s2, n2_ = _float(mean1, sd1, n1, mean2, sd2, n2)
    return m1 - m2, s1**2 / n1_ + s2**2 / n2_


def small_sample_correction(df: ArrayLike) -> FloatArray:
    """Hedges' exact correction ``c(m) = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2))``.

    Hedges (1981), J Educ Stat 6:107-128; computed on the log scale; NaN for m <= 1.
    """
    m = np.asarray(df, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.exp(gammaln(m / 2.0) - 0.5 * np.log(m / 2.0) - gammaln((m - 1.0) / 2.0))
    return np.where(m > 1, value, np.nan)


def standardized_mean_difference(
    mean1: ArrayLike,
    sd1: ArrayLike,
    n1: ArrayLike,
    mean2: ArrayLike,
    sd2: ArrayLike,
    n2: ArrayLike,
) -> EffectArrays:
    """SMD as Hedges' g: ``g = c(m) (m1 - m2) / s_pooled``, ``m = n1 + n2 - 2``.

    ``s_pooled = sqrt(((n1-1) sd1² + (n2-1) sd2²) / m)``; variance (metafor's
    default, large-sample): ``vi = 1/n1 + 1/n2 + g² / (2 (n1 + n2))``.
    """
    m1, s1, a, m2, s2, b = _float(mean1, sd1, n1, mean2, sd2, n2)
    df = a + b - 2.0
    pooled_sd = np.sqrt(((a - 1.0) * s1**2 + (b - 1.0) * s2**2) / df)
    g = small_sample_correction(df) * (m1 - m2) / pooled_sd
    return g, 1.0 / a + 1.0 / b + g**2 / (2.0 * (a + b))


def log_ratio_of_means(
    mean1: ArrayLike,
    sd1: ArrayLike,
    n1: ArrayLike,
    mean2: ArrayLike,
    sd2: ArrayLike,
    n2: ArrayLike,
) -> EffectArrays:
    """ROM: ``yi = log(m1/m2)``, ``vi = sd1²/(n1 m1²) + sd2²/(n2 m2²)``.

    Hedges, Gurevitch & Curtis (1999), Ecology 80:1150-1156.
    """
    m1, s1, a, m2, s2, b = _float(mean1, sd1, n1, mean2, sd2, n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(m1 / m2), s1**2 / (a * m1**2) + s2**2 / (b * m2**2)


def double_zero(a: FloatArray, b: FloatArray, c: FloatArray, d: FloatArray) -> FloatArray:
    """Studies with no events in either arm, or only events in both (metafor's ``drop00``)."""
    return ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))


def continuity_corrected(
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike,
    d: ArrayLike,
    *,
    add: float = 0.5,
    to: str = "only0",
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Cells with ``add`` added: to studies with a zero cell (``only0``), to every
    study (``all``), to every study if any has a zero cell (``if0all``), or to none."""
    if to not in CONTINUITY_TARGETS:
        raise ValueError(f"to must be one of {', '.join(CONTINUITY_TARGETS)}, got {to!r}")
    cells = _float(a, b, c, d)
    if to == "none" or add == 0:
        return tuple(cells)  # type: ignore[return-value]
    zero = (cells[0] == 0) | (cells[1] == 0) | (cells[2] == 0) | (cells[3] == 0)
    if to == "all":
        target = np.ones_like(zero)
    elif to == "if0all":
        target = np.broadcast_to(bool(np.any(zero)), zero.shape)
    else:
        target = zero
    return tuple(np.where(target, cell + add, cell) for cell in cells)  # type: ignore[return-value]


def log_risk_ratio(a: FloatArray, b: FloatArray, c: FloatArray, d: FloatArray) -> EffectArrays:
    """RR: ``yi = log((a/n1)/(c/n2))``, ``vi = 1/a - 1/n1 + 1/c - 1/n2`` (counts corrected)."""
    n1, n2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(a / n1) - np.log(c / n2), 1 / a - 1 / n1 + 1 / c - 1 / n2


def log_odds_ratio(a: FloatArray, b: FloatArray, c: FloatArray, d: FloatArray) -> EffectArrays:
    """OR: ``yi = log(ad/bc)``, ``vi = 1/a + 1/b + 1/c + 1/d`` (Woolf 1955)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d


def risk_difference(a: FloatArray, b: FloatArray, c: FloatArray, d: FloatArray) -> EffectArrays:
    """RD: ``yi = p1 - p2``, ``vi = p1(1-p1)/n1 + p2(1-p2)/n2``."""
    n1, n2 = a + b, c + d
    p1, p2 = a / n1, c / n2
    return p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2


def peto_log_odds_ratio(a: FloatArray, b: FloatArray, c: FloatArray, d: FloatArray) -> EffectArrays:
    """Peto's one-step log odds ratio: ``yi = (a - E) / V``, ``vi = 1 / V``.

    ``E = n1 (a + c) / N`` and ``V = (a + c)(b + d) n1 n2 / (N² (N - 1))``
    (Yusuf et al. 1985, Prog Cardiovasc Dis 27:335-371).
    """
    n1, n2 = a + b, c + d
    total = n1 + n2
    expected = (a + c) * n1 / total
    variance = (a + c) * (b + d) * (n1 / total) * (n2 / total) / (total - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (a - expected) / variance, 1 / variance


def correlation(r: ArrayLike, n: ArrayLike) -> EffectArrays:
    """COR: raw correlation, ``vi = (1 - r²)² / (n - 1)``."""
    r_, n_ = _float(r, n)
    return r_, (1 - r_**2) ** 2 / (n_ - 1)


def fisher_z(r: ArrayLike, n: ArrayLike) -> EffectArrays:
    """ZCOR: Fisher's z, ``yi = atanh(r)``, ``vi = 1 / (n - 3)`` (Fisher 1921)."""
    r_, n_ = _float(r, n)
    with np.errstate(divide="ignore"):
        return np.arctanh(r_), 1 / (n_ - 3)


def from_standard_error(estimate: ArrayLike, se: ArrayLike) -> EffectArrays:
    """A reported estimate with its standard error: ``vi = se²``."""
    y, s = _float(estimate, se)
    return y, s**2


def from_confidence_interval(
    estimate: ArrayLike,
    ci_lower: ArrayLike,
    ci_upper: ArrayLike,
    *,
    level: float = 0.95,
    log: bool = False,
) -> EffectArrays:
    """A reported estimate with its CI: ``se = (upper - lower) / (2 z_{1-alpha/2})``.

    With ``log=True`` the estimate and limits are ratios and are analysed on
    the log scale (Cochrane Handbook 6.3.2 and 6.5.2.2).
    """
    y, lower, upper = _float(estimate, ci_lower, ci_upper)
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            y, lower, upper = np.log(y), np.log(lower), np.log(upper)
    se = (upper - lower) / (2.0 * norm.isf((1.0 - level) / 2.0))
    return y, se**2


def from_p_value(estimate: ArrayLike, pvalue: ArrayLike) -> EffectArrays:
    """A reported estimate with its two-sided p-value: ``se = |y| / z_{1-p/2}``.

    Cochrane Handbook 6.3.2; undefined for p = 1 or a zero estimate.
    """
    y, p = _float(estimate, pvalue)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.abs(y) / norm.isf(p / 2.0)
    return y, se**2
