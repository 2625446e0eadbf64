"""Effect sizes and their sampling variances, vectorised over any array shape.

Every function returns ``(yi, vi)`` as float arrays broadcast from its inputs.
The formulas, variance types and edge cases are those of metafor's
``escalc`` (version 3.8-1; Viechtbauer 2010, J Stat Softw 36(3)) with its
defaults; see also Borenstein, Hedges, Higgins & Rothstein (2009),
*Introduction to Meta-Analysis*, chapters 4 to 7.

Nothing here validates: an impossible input (a negative SD, a zero cell
without a continuity correction) gives whatever the formula gives, NaN or
infinite, and :mod:`srma.analysis.effect_sizes` turns that into a clear
error or a warning.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import gammaln
from scipy.stats import norm

from srma.stats.batch import BoolArray, FloatArray
from srma.stats.inference import critical_value
from srma.vocabulary import CONTINUITY_TARGETS  # where a continuity correction goes (``to=``)

EffectArrays = tuple[FloatArray, FloatArray]
Cells = tuple[FloatArray, FloatArray, FloatArray, FloatArray]


def _float(*arrays: ArrayLike) -> list[FloatArray]:
    """The inputs as float arrays of one broadcast shape (fresh copies, never views)."""
    return [np.array(a, dtype=np.float64) for a in np.broadcast_arrays(*map(np.asarray, arrays))]


# --- continuous outcomes: two groups with mean, SD and size ----------------


def mean_difference(
    mean1: ArrayLike,
    sd1: ArrayLike,
    n1: ArrayLike,
    mean2: ArrayLike,
    sd2: ArrayLike,
    n2: ArrayLike,
) -> EffectArrays:
    """MD, the raw mean difference, without assuming equal variances.

    ``yi = m1 - m2`` and ``vi = sd1²/n1 + sd2²/n2`` (escalc's default
    ``vtype="LS"``; Borenstein et al. 2009, eq. 4.5).
    """
    m1, s1, size1, m2, s2, size2 = _float(mean1, sd1, n1, mean2, sd2, n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        return m1 - m2, s1**2 / size1 + s2**2 / size2


def small_sample_correction(df: ArrayLike) -> FloatArray:
    """Hedges' exact bias correction ``c(m) = Γ(m/2) / (sqrt(m/2) Γ((m-1)/2))``.

    Hedges (1981), J Educ Stat 6:107-128, eq. 6e; computed on the log scale
    as ``exp(lgamma(m/2) - log(sqrt(m/2)) - lgamma((m-1)/2))``, and NaN for
    ``m <= 1`` (escalc's ``.cmicalc``).  Close to ``1 - 3/(4m - 1)``.
    """
    m = np.asarray(df, dtype=np.float64)
    valid = m > 1
    safe = np.where(valid, m, 2.0)
    value = np.exp(gammaln(safe / 2.0) - 0.5 * np.log(safe / 2.0) - gammaln((safe - 1.0) / 2.0))
    return np.where(valid, value, np.nan)


def standardized_mean_difference(
    mean1: ArrayLike,
    sd1: ArrayLike,
    n1: ArrayLike,
    mean2: ArrayLike,
    sd2: ArrayLike,
    n2: ArrayLike,
) -> EffectArrays:
    """SMD as Hedges' g, bias-corrected with the exact ``c(m)``.

    ``g = c(m) (m1 - m2) / s_p`` with ``m = n1 + n2 - 2`` and the pooled SD
    ``s_p = sqrt(((n1 - 1) sd1² + (n2 - 1) sd2²) / m)``.  The variance is
    escalc's default (``vtype="LS"``, the large-sample variance of Hedges
    1982 with g in place of d; Borenstein et al. 2009, eq. 4.20):
    ``vi = 1/n1 + 1/n2 + g² / (2 (n1 + n2))``.
    """
    m1, s1, size1, m2, s2, size2 = _float(mean1, sd1, n1, mean2, sd2, n2)
    df = size1 + size2 - 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled_sd = np.sqrt(((size1 - 1.0) * s1**2 + (size2 - 1.0) * s2**2) / df)
        g = small_sample_correction(df) * (m1 - m2) / pooled_sd
        return g, 1.0 / size1 + 1.0 / size2 + g**2 / (2.0 * (size1 + size2))


def standardized_mean_difference_heteroscedastic(
    mean1: ArrayLike,
    sd1: ArrayLike,
    n1: ArrayLike,
    mean2: ArrayLike,
    sd2: ArrayLike,
    n2: ArrayLike,
) -> EffectArrays:
    """SMDH, the SMD standardised without assuming equal population variances.

    Bonett (2008), Psychol Methods 13:99-109, and (2009), Psychol Methods
    14:225-238: the difference is standardised by the square root of the
    average variance, ``s = sqrt((sd1² + sd2²) / 2)``, and bias-corrected with
    the same ``c(m)``, ``m = n1 + n2 - 2``, as Hedges' g (escalc):
    ``g = c(m) (m1 - m2) / s``.  Its variance (escalc's default
    ``vtype="LS"``, Bonett 2009, with ``c(m)²`` applied) is

    ``vi = c(m)² [g² (sd1⁴/(n1 - 1) + sd2⁴/(n2 - 1)) / (2 (sd1² + sd2²)²)
    + (sd1²/(n1 - 1) + sd2²/(n2 - 1)) / s²]``.
    """
    m1, s1, size1, m2, s2, size2 = _float(mean1, sd1, n1, mean2, sd2, n2)
    correction = small_sample_correction(size1 + size2 - 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        total_variance = s1**2 + s2**2
        g = correction * (m1 - m2) / np.sqrt(total_variance / 2.0)
        spread = g**2 * (s1**4 / (size1 - 1.0) + s2**4 / (size2 - 1.0)) / (2.0 * total_variance**2)
        location = (s1**2 / (size1 - 1.0) + s2**2 / (size2 - 1.0)) / (total_variance / 2.0)
        return g, correction**2 * (spread + location)


def log_ratio_of_means(
    mean1: ArrayLike,
    sd1: ArrayLike,
    n1: ArrayLike,
    mean2: ArrayLike,
    sd2: ArrayLike,
    n2: ArrayLike,
    *,
    correct: bool = False,
) -> EffectArrays:
    """ROM, the log ratio of means ("response ratio"), for positive means.

    ``yi = log(m1 / m2)`` and ``vi = v1 + v2`` with ``v1 = sd1²/(n1 m1²)``,
    ``v2 = sd2²/(n2 m2²)`` (Hedges, Gurevitch & Curtis 1999, Ecology
    80:1150-1156, eq. 9; escalc 3.8-1).

    With ``correct=True``, Lajeunesse's (2015, Ecology 96:2056-2063)
    second-order bias correction: ``yi = log(m1 / m2) + (v1 - v2) / 2``
    (his eq. 8) with the second-order variance
    ``vi = v1 + v2 + (v1² + v2²) / 2`` (his eq. 9; ``v1² / 2 =
    sd1⁴/(2 n1² m1⁴)``).  metafor 3.8-1 has no such option; metafor 5.1's
    ``escalc("ROM", correct=TRUE, vtype="LS2")`` computes the same pair.
    """
    m1, s1, size1, m2, s2, size2 = _float(mean1, sd1, n1, mean2, sd2, n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        variance1, variance2 = s1**2 / (size1 * m1**2), s2**2 / (size2 * m2**2)
        log_ratio = np.log(m1 / m2)
        if not correct:
            return log_ratio, variance1 + variance2
        bias = (variance1 - variance2) / 2.0
        return log_ratio + bias, variance1 + variance2 + (variance1**2 + variance2**2) / 2.0


# --- 2x2 tables: a, b = events, non-events in group 1; c, d in group 2 ------


def double_zero(a: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike) -> BoolArray:
    """Tables with no events in either group, or only events (escalc's ``drop00``)."""
    a_, b_, c_, d_ = _float(a, b, c, d)
    return ((a_ == 0) & (c_ == 0)) | ((b_ == 0) & (d_ == 0))


def continuity_corrected(
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike,
    d: ArrayLike,
    *,
    add: float = 0.5,
    to: str = "only0",
) -> Cells:
    """The four cells with ``add`` added to every cell of some tables (escalc's ``add, to``).

    ``to="only0"`` corrects the tables that have a zero cell, ``"all"`` every
    table, ``"if0all"`` every table along the last axis (one meta-analysis)
    if any of them has a zero cell, and ``"none"`` none.  Missing (NaN) cells
    never count as zero.
    """
    if to not in CONTINUITY_TARGETS:
        raise ValueError(f"to must be one of {', '.join(CONTINUITY_TARGETS)}, got {to!r}")
    cells = _float(a, b, c, d)
    zero = (cells[0] == 0) | (cells[1] == 0) | (cells[2] == 0) | (cells[3] == 0)
    if to == "none":
        target = np.zeros_like(zero)
    elif to == "all":
        target = np.ones_like(zero)
    elif to == "if0all":
        any_zero = np.any(zero, axis=-1, keepdims=True) if zero.ndim else zero
        target = np.broadcast_to(any_zero, zero.shape)
    else:
        target = zero
    a_, b_, c_, d_ = (np.where(target, cell + add, cell) for cell in cells)
    return a_, b_, c_, d_


def log_risk_ratio(a: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike) -> EffectArrays:
    """RR on the log scale: ``yi = log((a/n1) / (c/n2))``, ``vi = 1/a - 1/n1 + 1/c - 1/n2``.

    ``n1 = a + b``, ``n2 = c + d`` (Borenstein et al. 2009, eqs. 5.1-5.3).
    Pass cells already corrected with :func:`continuity_corrected`.
    """
    a_, b_, c_, d_ = _float(a, b, c, d)
    n1, n2 = a_ + b_, c_ + d_
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(a_ / n1) - np.log(c_ / n2), 1 / a_ - 1 / n1 + 1 / c_ - 1 / n2


def log_odds_ratio(a: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike) -> EffectArrays:
    """OR on the log scale: ``yi = log(ad / bc)``, ``vi = 1/a + 1/b + 1/c + 1/d``.

    Woolf (1955), Ann Hum Genet 19:251-253; Borenstein et al. 2009, eqs. 5.8-5.10.
    Pass cells already corrected with :func:`continuity_corrected`.
    """
    a_, b_, c_, d_ = _float(a, b, c, d)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(a_ / b_) - np.log(c_ / d_), 1 / a_ + 1 / b_ + 1 / c_ + 1 / d_


def risk_difference(a: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike) -> EffectArrays:
    """RD: ``yi = p1 - p2``, ``vi = p1 (1 - p1)/n1 + p2 (1 - p2)/n2``.

    ``p1 = a/n1``, ``p2 = c/n2`` (escalc's default ``vtype="LS"``; Borenstein
    et al. 2009, eqs. 5.11-5.12).  escalc computes both from the corrected
    cells, so a continuity correction moves the estimate too.
    """
    a_, b_, c_, d_ = _float(a, b, c, d)
    n1, n2 = a_ + b_, c_ + d_
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = a_ / n1, c_ / n2
        return p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2


def peto_log_odds_ratio(a: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike) -> EffectArrays:
    """Peto's one-step log odds ratio: ``yi = (a - E) / V``, ``vi = 1 / V``.

    ``E = (a + c) n1 / N`` is the expected count in cell a and
    ``V = (a + c)(b + d) n1 n2 / (N² (N - 1))`` its hypergeometric variance
    (Yusuf et al. 1985, Prog Cardiovasc Dis 27:335-371).  Like escalc, this
    is computed from the cells as given, so the default continuity
    correction applies to PETO too (unlike the pooled Peto method).

    ``a - E = -(c - E_c)`` with ``E_c = (a + c) n2 / N``; the mean of the two
    forms, and ``V`` with its factors in a fixed order, make swapping the groups
    negate ``yi`` exactly (in floating point, not just to rounding).
    """
    a_, b_, c_, d_ = _float(a, b, c, d)
    n1, n2 = a_ + b_, c_ + d_
    total = n1 + n2
    with np.errstate(divide="ignore", invalid="ignore"):
        events = a_ + c_
        observed_minus_expected = 0.5 * ((a_ - events * n1 / total) - (c_ - events * n2 / total))
        variance = events * (b_ + d_) * ((n1 / total) * (n2 / total)) / (total - 1)
        return observed_minus_expected / variance, 1 / variance


BINARY_MEASURES = {
    "RR": log_risk_ratio,
    "OR": log_odds_ratio,
    "RD": risk_difference,
    "PETO": peto_log_odds_ratio,
}


def binary_effect(
    measure: str,
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike,
    d: ArrayLike,
    *,
    add: float = 0.5,
    to: str = "only0",
    drop00: bool = False,
) -> EffectArrays:
    """RR, OR, RD or PETO from the cells of 2x2 tables, as ``escalc`` computes them.

    First tables with no events (or only events) in both groups become NaN
    when ``drop00``; then ``add`` is added as :func:`continuity_corrected`
    says, for every measure (escalc applies its correction to RD and PETO
    as well); then the measure is computed from the corrected cells.
    """
    if measure not in BINARY_MEASURES:
        raise ValueError(f"measure must be one of {', '.join(BINARY_MEASURES)}, got {measure!r}")
    cells = _float(a, b, c, d)
    if drop00:
        dropped = double_zero(*cells)
        cells = [np.where(dropped, np.nan, cell) for cell in cells]
    return BINARY_MEASURES[measure](*continuity_corrected(*cells, add=add, to=to))


# --- correlations ----------------------------------------------------------


def correlation(r: ArrayLike, n: ArrayLike) -> EffectArrays:
    """COR, the raw correlation: ``yi = r``, ``vi = (1 - r²)² / (n - 1)``.

    escalc's default ``vtype="LS"`` (Borenstein et al. 2009, eq. 6.1).
    """
    r_, n_ = _float(r, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return r_, (1 - r_**2) ** 2 / (n_ - 1)


def fisher_z(r: ArrayLike, n: ArrayLike) -> EffectArrays:
    """ZCOR, Fisher's r-to-z: ``yi = atanh(r) = ½ log((1 + r)/(1 - r))``, ``vi = 1/(n - 3)``.

    Fisher (1921), Metron 1:3-32; Borenstein et al. 2009, eqs. 6.2-6.3.
    """
    r_, n_ = _float(r, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.arctanh(r_), 1 / (n_ - 3)


# --- generic estimates reported with a standard error, CI or p-value --------


def from_standard_error(estimate: ArrayLike, se: ArrayLike) -> EffectArrays:
    """An estimate with its standard error: ``vi = se²`` (escalc with ``yi, sei``)."""
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
    """An estimate with its confidence interval: ``se = (upper - lower) / (2 z)``.

    ``z = Φ⁻¹(1 - (1 - level)/2)``, 1.959964 for a 95% interval (Cochrane
    Handbook 6.3.1).  With ``log=True`` the estimate and the limits are
    ratios (RR, OR, HR) and are analysed on the log scale (Handbook 6.3.2);
    ``yi`` is then the log of the estimate.
    """
    y, lower, upper = _float(estimate, ci_lower, ci_upper)
    if log:
        with np.errstate(divide="ignore", invalid="ignore"):
            y, lower, upper = np.log(y), np.log(lower), np.log(upper)
    se = (upper - lower) / (2.0 * critical_value(level))
    return y, se**2


def from_p_value(estimate: ArrayLike, pvalue: ArrayLike) -> EffectArrays:
    """An estimate with its two-sided p-value: ``se = |yi| / z``, ``z = Φ⁻¹(1 - p/2)``.

    Cochrane Handbook 6.3.2 (for a ratio pass the log of the estimate).
    Undefined, infinite or zero, for ``p = 1`` or an estimate of 0.
    """
    y, p = _float(estimate, pvalue)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.abs(y) / norm.isf(p / 2.0)
    return y, se**2
