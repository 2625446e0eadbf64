"""Effect sizes of change within one group: pre-post and matched-pairs designs.

Every function returns ``(yi, vi)`` as float arrays broadcast from its inputs,
with the formulas and default variance types (``vtype="LS"``) of metafor's
``escalc`` 3.8-1.  ``mean1`` and ``mean2`` are the means at the two occasions
(post and pre, or the two matched groups), ``n`` the number of participants
(or pairs) and ``r`` the correlation between the two measurements; the effect
is of ``mean1 - mean2``.  See Morris & DeShon (2002), Psychol Methods
7:105-125, for the choice between the change-score and raw-score
standardisations.

As in :mod:`srma.stats.effects`, nothing here validates: an impossible input
gives NaN or an infinity, and :mod:`srma.analysis.effect_families_continuous`
turns that into an error or a warning.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from srma.stats.batch import FloatArray
from srma.stats.effects import EffectArrays, _float, small_sample_correction


def change_score_sd(sd1: ArrayLike, sd2: ArrayLike, r: ArrayLike) -> FloatArray:
    """The SD of the change scores: ``sqrt(sd1² + sd2² - 2 r sd1 sd2)``.

    The variance of a difference of two correlated measurements (Morris &
    DeShon 2002); NaN where rounding or impossible inputs make it negative.
    """
    s1, s2, correlation = _float(sd1, sd2, r)
    with np.errstate(invalid="ignore"):
        return np.sqrt(s1**2 + s2**2 - 2.0 * correlation * s1 * s2)


def mean_change(
    mean1: ArrayLike, mean2: ArrayLike, sd_change: ArrayLike, n: ArrayLike
) -> EffectArrays:
    """MC, the raw mean change: ``yi = m1 - m2``, ``vi = sd_d² / n``.

    ``sd_d`` is the SD of the change scores (:func:`change_score_sd` from the
    two SDs and their correlation, or as reported); escalc's ``"MC"``.
    """
    m1, m2, sd_d, size = _float(mean1, mean2, sd_change, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        return m1 - m2, sd_d**2 / size


def standardized_mean_change_change(
    mean1: ArrayLike, mean2: ArrayLike, sd_change: ArrayLike, n: ArrayLike
) -> EffectArrays:
    """SMCC, the mean change standardised by the SD of the change scores.

    ``yi = c(n - 1) (m1 - m2) / sd_d`` with Hedges' ``c`` of
    :func:`~srma.stats.effects.small_sample_correction`, and
    ``vi = 1/n + yi² / (2n)`` (Gibbons, Hedeker & Davis 1993, J Educ Stat
    18:271-279; escalc's ``"SMCC"``, ``vtype="LS"``).
    """
    m1, m2, sd_d, size = _float(mean1, mean2, sd_change, n)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = small_sample_correction(size - 1.0) * (m1 - m2) / sd_d
        return g, 1.0 / size + g**2 / (2.0 * size)


def standardized_mean_change_raw(
    mean1: ArrayLike, mean2: ArrayLike, sd1: ArrayLike, n: ArrayLike, r: ArrayLike
) -> EffectArrays:
    """SMCR, the mean change standardised by one occasion's raw-score SD.

    ``yi = c(n - 1) (m1 - m2) / sd1`` and ``vi = 2 (1 - r)/n + yi² / (2n)``
    (Becker 1988, Br J Math Stat Psychol 41:257-278; Morris 2000, Br J Math
    Stat Psychol 53:17-29; escalc's ``"SMCR"``, ``vtype="LS"``).  ``sd1`` is
    the SD that standardises, usually the pre-test SD (escalc's ``sd1i``).
    """
    m1, m2, s1, size, correlation = _float(mean1, mean2, sd1, n, r)
    with np.errstate(divide="ignore", invalid="ignore"):
        g = small_sample_correction(size - 1.0) * (m1 - m2) / s1
        return g, 2.0 * (1.0 - correlation) / size + g**2 / (2.0 * size)


def log_ratio_of_means_paired(
    mean1: ArrayLike,
    mean2: ArrayLike,
    sd1: ArrayLike,
    sd2: ArrayLike,
    n: ArrayLike,
    r: ArrayLike,
) -> EffectArrays:
    """ROMC, the log ratio of two correlated means, for positive means.

    ``yi = log(m1 / m2)`` and
    ``vi = sd1²/(n m1²) + sd2²/(n m2²) - 2 r sd1 sd2 / (n m1 m2)``
    (Lajeunesse 2011, Ecology 92:2049-2055; escalc's ``"ROMC"``).
    """
    m1, m2, s1, s2, size, correlation = _float(mean1, mean2, sd1, sd2, n, r)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv1, cv2 = s1 / m1, s2 / m2
        return np.log(m1 / m2), (cv1**2 + cv2**2 - 2.0 * correlation * cv1 * cv2) / size
