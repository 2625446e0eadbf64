"""Conversions reviewers need when a study does not report a mean and SD.

All functions are vectorised over arrays.  Estimators from a median with a
range and/or an interquartile range assume roughly normal data:

* Wan et al. (2014), BMC Med Res Methodol 14:135 (SD, and means for S1-S3);
* Luo et al. (2018), Stat Methods Med Res 27:1785-1805 (optimally weighted means);
* Shi et al. (2020), Res Synth Methods 11:641-654 (SD from the five-number summary).

The scenarios are those of the papers: S1 = minimum, median, maximum; S2 =
minimum, first quartile, median, third quartile, maximum; S3 = quartiles and
median.  Other conversions follow the Cochrane Handbook, version 6.4,
sections 6.5.2.2 (SE and CI to SD), 6.5.2.8 (change-from-baseline SD) and
6.5.2.10 (combining groups).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm
from scipy.stats import t as student_t

from srma.stats.batch import FloatArray


def _f(*values: ArrayLike) -> list[FloatArray]:
    return [np.asarray(value, dtype=np.float64) for value in values]


def _xi(n: FloatArray) -> FloatArray:
    """``2 Phi^-1((n - 0.375) / (n + 0.25))``, the expected range of n normals (Wan 2014)."""
    return 2.0 * norm.ppf((n - 0.375) / (n + 0.25))


def _eta(n: FloatArray) -> FloatArray:
    """``2 Phi^-1((0.75 n - 0.125) / (n + 0.25))``, the expected IQR in SD units (Wan 2014)."""
    return 2.0 * norm.ppf((0.75 * n - 0.125) / (n + 0.25))


def mean_from_median_range(
    median: ArrayLike, minimum: ArrayLike, maximum: ArrayLike, n: ArrayLike
) -> FloatArray:
    """Luo et al. (2018), scenario S1: ``w (a + b)/2 + (1 - w) m`` with ``w = 4 / (4 + n^0.75)``."""
    m, a, b, size = _f(median, minimum, maximum, n)
    weight = 4.0 / (4.0 + size**0.75)
    return weight * (a + b) / 2.0 + (1.0 - weight) * m


def mean_from_median_iqr(
    median: ArrayLike, q1: ArrayLike, q3: ArrayLike, n: ArrayLike
) -> FloatArray:
    """Luo et al. (2018), scenario S3: ``(0.7 + 0.39/n) (q1 + q3)/2 + (0.3 - 0.39/n) m``."""
    m, lower, upper, size = _f(median, q1, q3, n)
    weight = 0.7 + 0.39 / size
    return weight * (lower + upper) / 2.0 + (1.0 - weight) * m


def mean_from_five_numbers(
    minimum: ArrayLike,
    q1: ArrayLike,
    median: ArrayLike,
    q3: ArrayLike,
    maximum: ArrayLike,
    n: ArrayLike,
) -> FloatArray:
    """Luo et al. (2018), scenario S2.

    ``w1 (a + b)/2 + w2 (q1 + q3)/2 + (1 - w1 - w2) m`` with
    ``w1 = 2.2 / (2.2 + n^0.75)`` and ``w2 = 0.7 - 0.72 / n^0.55``.
    """
    a, lower, m, upper, b, size = _f(minimum, q1, median, q3, maximum, n)
    w1 = 2.2 / (2.2 + size**0.75)
    w2 = 0.7 - 0.72 / size**0.55
    return w1 * (a + b) / 2.0 + w2 * (lower + upper) / 2.0 + (1.0 - w1 - w2) * m


def sd_from_range(minimum: ArrayLike, maximum: ArrayLike, n: ArrayLike) -> FloatArray:
    """Wan et al. (2014), scenario S1: ``(b - a) / xi(n)``."""
    a, b, size = _f(minimum, maximum, n)
    return (b - a) / _xi(size)


def sd_from_iqr(q1: ArrayLike, q3: ArrayLike, n: ArrayLike) -> FloatArray:
    """Wan et al. (2014), scenario S3: ``(q3 - q1) / eta(n)``."""
    lower, upper, size = _f(q1, q3, n)
    return (upper - lower) / _eta(size)


def sd_from_five_numbers(
    minimum: ArrayLike, q1: ArrayLike, q3: ArrayLike, maximum: ArrayLike, n: ArrayLike
) -> FloatArray:
    """Shi et al. (2020), scenario S2: ``w (b - a)/xi(n) + (1 - w)(q3 - q1)/eta(n)``.

    ``w = 1 / (1 + 0.07 n^0.6)``.
    """
    a, lower, upper, b, size = _f(minimum, q1, q3, maximum, n)
    weight = 1.0 / (1.0 + 0.07 * size**0.6)
    return weight * (b - a) / _xi(size) + (1.0 - weight) * (upper - lower) / _eta(size)


def sd_from_se(se: ArrayLike, n: ArrayLike) -> FloatArray:
    """SD of a group from the standard error of its mean: ``SE sqrt(n)`` (Handbook 6.5.2.2)."""
    s, size = _f(se, n)
    return s * np.sqrt(size)


def sd_from_ci(
    ci_lower: ArrayLike,
    ci_upper: ArrayLike,
    n: ArrayLike,
    *,
    level: float = 0.95,
    distribution: str = "t",
) -> FloatArray:
    """SD of a group from a CI of its mean: ``sqrt(n) (upper - lower) / (2 crit)``.

    ``crit`` is t with ``n - 1`` df (Handbook 6.5.2.2, for small samples) or
    the normal quantile (``distribution="z"``: 3.92 = 2 x 1.96 at 95%).
    """
    lower, upper, size = _f(ci_lower, ci_upper, n)
    tail = (1.0 - level) / 2.0
    crit = norm.isf(tail) if distribution == "z" else student_t.isf(tail, size - 1.0)
    return np.sqrt(size) * (upper - lower) / (2.0 * crit)


def change_sd(sd_baseline: ArrayLike, sd_final: ArrayLike, correlation: ArrayLike) -> FloatArray:
    """SD of a change from baseline (Handbook 6.5.2.8).

    ``sqrt(SD_b² + SD_f² - 2 r SD_b SD_f)`` with ``r`` the baseline-final correlation.
    """
    b, f, r = _f(sd_baseline, sd_final, correlation)
    return np.sqrt(b**2 + f**2 - 2.0 * r * b * f)


def combine_groups(
    n1: ArrayLike,
    mean1: ArrayLike,
    sd1: ArrayLike,
    n2: ArrayLike,
    mean2: ArrayLike,
    sd2: ArrayLike,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Two subgroups merged into one arm: ``(N, mean, SD)`` (Handbook Table 6.5.a).

    ``N = N1 + N2``, ``M = (N1 M1 + N2 M2) / N``,
    ``SD² = ((N1-1) SD1² + (N2-1) SD2² + N1 N2 / N (M1 - M2)²) / (N - 1)``.
    """
    a, m1, s1, b, m2, s2 = _f(n1, mean1, sd1, n2, mean2, sd2)
    total = a + b
    mean = (a * m1 + b * m2) / total
    variance = ((a - 1) * s1**2 + (b - 1) * s2**2 + a * b / total * (m1 - m2) ** 2) / (total - 1)
    return total, mean, np.sqrt(variance)
