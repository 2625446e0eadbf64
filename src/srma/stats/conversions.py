"""Conversions reviewers need when a study does not report a mean and SD.

All functions are vectorised over arrays (broadcast like numpy) and return
NaN where a conversion is undefined (a sample size below 2, a missing input).

Estimators from a median with a range and/or an interquartile range assume
roughly normal data; they are those of metafor's ``conv.fivenum`` (added in
metafor 4.0, ``method="luo/wan/shi"``, normal case):

* Luo, Wan, Liu & Tong (2018), Stat Methods Med Res 27:1785-1805, the means;
* Wan, Wang, Liu & Tong (2014), BMC Med Res Methodol 14:135, the SD from a
  range (their eq. 9) or from an IQR (eq. 16);
* Shi, Luo, Weng et al. (2020), Res Synth Methods 11:641-654, the SD from the
  five-number summary (eq. 10).

The scenarios are those of the papers: S1 = minimum, median, maximum;
S2 = minimum, first quartile, median, third quartile, maximum; S3 = first
quartile, median, third quartile.  Like ``conv.fivenum``, the expected range
and IQR of ``n`` standard normals use Blom's approximation for every ``n``;
Wan et al.'s Table 1 gives exact expected ranges for n <= 50, which differ
from it by less than 1.5% for n >= 5.

The other conversions follow the Cochrane Handbook, version 6.4, sections
6.5.2.2 (SE and CI to SD), 6.5.2.8 (SD of a change from baseline) and
6.5.2.10 with Table 6.5.a (combining groups).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm
from scipy.stats import t as student_t

from srma.stats.batch import FloatArray


def _f(*values: ArrayLike) -> list[FloatArray]:
    """The inputs as float arrays of one broadcast shape."""
    return [np.array(v, dtype=np.float64) for v in np.broadcast_arrays(*map(np.asarray, values))]


def _valid_n(n: FloatArray) -> FloatArray:
    """``n`` where it is at least 2, NaN elsewhere (the estimators need two observations)."""
    return np.where(n >= 2, n, np.nan)


def _xi(n: FloatArray) -> FloatArray:
    """``2 Φ⁻¹((n - 0.375) / (n + 0.25))``: the expected range of n standard normals."""
    return 2.0 * norm.ppf((n - 0.375) / (n + 0.25))


def _eta(n: FloatArray) -> FloatArray:
    """``2 Φ⁻¹((0.75 n - 0.125) / (n + 0.25))``: the expected IQR of n standard normals."""
    return 2.0 * norm.ppf((0.75 * n - 0.125) / (n + 0.25))


def mean_from_median_range(
    median: ArrayLike, minimum: ArrayLike, maximum: ArrayLike, n: ArrayLike
) -> FloatArray:
    """Mean from S1 (Luo et al. 2018): ``w (a + b)/2 + (1 - w) m``, ``w = 4 / (4 + n^0.75)``.

    ``a``, ``m``, ``b`` are the minimum, median and maximum.
    """
    m, a, b, size = _f(median, minimum, maximum, n)
    weight = 4.0 / (4.0 + _valid_n(size) ** 0.75)
    return weight * (a + b) / 2.0 + (1.0 - weight) * m


def mean_from_median_iqr(
    median: ArrayLike, q1: ArrayLike, q3: ArrayLike, n: ArrayLike
) -> FloatArray:
    """Mean from S3 (Luo et al. 2018): ``w (q1 + q3)/2 + (1 - w) m``, ``w = 0.7 + 0.39/n``."""
    m, lower, upper, size = _f(median, q1, q3, n)
    weight = 0.7 + 0.39 / _valid_n(size)
    return weight * (lower + upper) / 2.0 + (1.0 - weight) * m


def mean_from_five_numbers(
    minimum: ArrayLike,
    q1: ArrayLike,
    median: ArrayLike,
    q3: ArrayLike,
    maximum: ArrayLike,
    n: ArrayLike,
) -> FloatArray:
    """Mean from S2 (Luo et al. 2018).

    ``w1 (a + b)/2 + w2 (q1 + q3)/2 + (1 - w1 - w2) m`` with
    ``w1 = 2.2 / (2.2 + n^0.75)`` and ``w2 = 0.7 - 0.72 / n^0.55``.
    """
    a, lower, m, upper, b, size = _f(minimum, q1, median, q3, maximum, n)
    size = _valid_n(size)
    w1 = 2.2 / (2.2 + size**0.75)
    w2 = 0.7 - 0.72 / size**0.55
    return w1 * (a + b) / 2.0 + w2 * (lower + upper) / 2.0 + (1.0 - w1 - w2) * m


def sd_from_range(minimum: ArrayLike, maximum: ArrayLike, n: ArrayLike) -> FloatArray:
    """SD from S1 (Wan et al. 2014, eq. 9): ``(b - a) / ξ(n)``.

    ``ξ(n) = 2 Φ⁻¹((n - 0.375) / (n + 0.25))``, Blom's approximation to the
    expected range of n standard normals.
    """
    a, b, size = _f(minimum, maximum, n)
    return (b - a) / _xi(_valid_n(size))


def sd_from_iqr(q1: ArrayLike, q3: ArrayLike, n: ArrayLike) -> FloatArray:
    """SD from S3 (Wan et al. 2014, eq. 16): ``(q3 - q1) / η(n)``.

    ``η(n) = 2 Φ⁻¹((0.75 n - 0.125) / (n + 0.25))``, the expected IQR of n
    standard normals.
    """
    lower, upper, size = _f(q1, q3, n)
    return (upper - lower) / _eta(_valid_n(size))


def sd_from_five_numbers(
    minimum: ArrayLike, q1: ArrayLike, q3: ArrayLike, maximum: ArrayLike, n: ArrayLike
) -> FloatArray:
    """SD from S2 (Shi et al. 2020, eq. 10): ``w (b - a)/ξ(n) + (1 - w)(q3 - q1)/η(n)``.

    ``w = 1 / (1 + 0.07 n^0.6)``; ``ξ`` and ``η`` as in :func:`sd_from_range`
    and :func:`sd_from_iqr`.
    """
    a, lower, upper, b, size = _f(minimum, q1, q3, maximum, n)
    size = _valid_n(size)
    weight = 1.0 / (1.0 + 0.07 * size**0.6)
    return weight * (b - a) / _xi(size) + (1.0 - weight) * (upper - lower) / _eta(size)


def mean_sd_from_quantiles(
    n: ArrayLike,
    median: ArrayLike,
    *,
    minimum: ArrayLike = np.nan,
    q1: ArrayLike = np.nan,
    q3: ArrayLike = np.nan,
    maximum: ArrayLike = np.nan,
) -> tuple[FloatArray, FloatArray]:
    """``(mean, sd)`` per study from what it reports, as ``conv.fivenum`` chooses.

    S2 (Luo; Shi) where all five numbers are present, else S1 (Luo; Wan) where
    the minimum and maximum are, else S3 (Luo; Wan) where the quartiles are;
    NaN where none is complete.  Missing values are NaN.
    """
    size, m, a, lower, upper, b = _f(n, median, minimum, q1, q3, maximum)
    has_range = np.isfinite(a) & np.isfinite(b)
    has_iqr = np.isfinite(lower) & np.isfinite(upper)
    five = has_range & has_iqr
    mean = np.where(
        five,
        mean_from_five_numbers(a, lower, m, upper, b, size),
        np.where(
            has_range,
            mean_from_median_range(m, a, b, size),
            mean_from_median_iqr(m, lower, upper, size),
        ),
    )
    sd = np.where(
        five,
        sd_from_five_numbers(a, lower, upper, b, size),
        np.where(has_range, sd_from_range(a, b, size), sd_from_iqr(lower, upper, size)),
    )
    return mean, sd


def sd_from_se(se: ArrayLike, n: ArrayLike) -> FloatArray:
    """SD of a group from the standard error of its mean: ``SE sqrt(n)`` (Handbook 6.5.2.2)."""
    s, size = _f(se, n)
    return s * np.sqrt(np.where(size >= 1, size, np.nan))


def sd_from_ci(
    ci_lower: ArrayLike,
    ci_upper: ArrayLike,
    n: ArrayLike,
    *,
    level: float = 0.95,
    distribution: str = "t",
) -> FloatArray:
    """SD of a group from a CI of its mean: ``sqrt(n) (upper - lower) / (2 crit)``.

    Cochrane Handbook 6.5.2.2: ``crit`` is the ``1 - (1 - level)/2`` quantile
    of t with ``n - 1`` degrees of freedom (``distribution="t"``, the
    Handbook's advice for small samples: 2 x 2.0639 = 4.128 for n = 25 at
    95%) or of the standard normal (``distribution="z"``: 3.92 = 2 x 1.96 at
    95%, 3.29 at 90%, 5.15 at 99%).
    """
    if distribution not in ("t", "z"):
        raise ValueError(f"distribution must be 't' or 'z', got {distribution!r}")
    lower, upper, size = _f(ci_lower, ci_upper, n)
    size = _valid_n(size)
    tail = (1.0 - level) / 2.0
    crit = norm.isf(tail) if distribution == "z" else student_t.isf(tail, size - 1.0)
    return np.sqrt(size) * (upper - lower) / (2.0 * crit)


def change_sd(sd_baseline: ArrayLike, sd_final: ArrayLike, correlation: ArrayLike) -> FloatArray:
    """SD of the change from baseline (Handbook 6.5.2.8).

    ``sqrt(SD_b² + SD_f² - 2 r SD_b SD_f)`` with ``r`` the correlation between
    baseline and final values; the SD of any paired difference.  NaN for
    ``|r| > 1``.
    """
    b, f, r = _f(sd_baseline, sd_final, correlation)
    variance = b**2 + f**2 - 2.0 * r * b * f
    return np.where(np.abs(r) <= 1, np.sqrt(np.clip(variance, 0.0, None)), np.nan)


def combine_groups(
    n1: ArrayLike,
    mean1: ArrayLike,
    sd1: ArrayLike,
    n2: ArrayLike,
    mean2: ArrayLike,
    sd2: ArrayLike,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Two subgroups merged into one arm: ``(N, mean, SD)`` (Handbook 6.5.2.10, Table 6.5.a).

    ``N = N1 + N2``, ``M = (N1 M1 + N2 M2) / N``,
    ``SD² = ((N1 - 1) SD1² + (N2 - 1) SD2² + N1 N2 / N (M1 - M2)²) / (N - 1)``:
    exactly the mean and SD of the pooled observations.
    """
    a, m1, s1, b, m2, s2 = _f(n1, mean1, sd1, n2, mean2, sd2)
    total = a + b
    valid = total >= 2
    safe = np.where(valid, total, np.nan)
    mean = (a * m1 + b * m2) / safe
    variance = ((a - 1) * s1**2 + (b - 1) * s2**2 + a * b / safe * (m1 - m2) ** 2) / (safe - 1)
    return total, mean, np.sqrt(variance)
