"""Measures of association from 2x2 tables, and dichotomised effect sizes.

Formulas and default variance types are those of metafor's ``escalc``
(3.8-1; Viechtbauer 2010, J Stat Softw 36(3)).  For a table with cells
``a, b`` (events, non-events in group 1) and ``c, d`` (group 2), ``n1 = a +
b``, ``n2 = c + d``, ``N = n1 + n2``, the margins' proportions ``p1. = n1/N``,
``p2. = n2/N``, ``p.1 = (a + c)/N``, ``p.2 = (b + d)/N`` and the odds ratio
``OR = (a d) / (b c)``:

* PHI, the phi coefficient ``(a d - b c) / sqrt(n1 n2 (a + c)(b + d))``, with
  the large-sample variance (``vtype="LS"``; Bishop, Fienberg & Holland 1975,
  *Discrete Multivariate Analysis*, eq. 11.3-7)::

      (1/N) [1 - phi² + phi (1 + phi²/2) (p1. - p2.)(p.1 - p.2) / sqrt(p1. p2. p.1 p.2)
             - (3/4) phi² ((p1. - p2.)² / (p1. p2.) + (p.1 - p.2)² / (p.1 p.2))]

* YUQ, Yule's (1900) Q ``(OR - 1) / (OR + 1)``, ``vi = (1 - Q²)² / 4 · s²``;
* YUY, Yule's (1912) Y ``(sqrt OR - 1) / (sqrt OR + 1)``, ``vi = (1 - Y²)² / 16 · s²``,

  with ``s² = 1/a + 1/b + 1/c + 1/d`` the variance of the log odds ratio
  (Bishop, Fienberg & Holland 1975, sect. 11.2);
* OR2DN, the log odds ratio as a standardised mean difference under normal
  latent scores (Cox 1970): ``log OR / 1.65``, ``vi = s² / 1.65²``;
* OR2DL, the same under logistic scores (Hasselblad & Hedges 1995, Psychol Bull
  117:167-178): ``sqrt(3)/π · log OR``, ``vi = 3/π² · s²``;

and from two groups' means, SDs and sizes:

* RPB, the point-biserial correlation ``d / sqrt(d² + h)`` with ``d = (m1 - m2)
  / s_p`` (the pooled SD, no bias correction), ``h = m/n1 + m/n2``, ``m = n1 +
  n2 - 2``, and ``vi = h² / (h + d²)³ · (1/n1 + 1/n2 + d² / (2 N))`` (Jacobs &
  Viechtbauer 2017, Res Synth Methods 8:161-180, eq. 13).

YUQ, YUY, OR2DN and OR2DL take cells already corrected with
:func:`srma.stats.effects.continuity_corrected`; PHI is computed from the
cells as given (escalc's default ``add = 0`` for it).  Nothing here validates.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from srma.stats.batch import FloatArray
from srma.stats.effects import continuity_corrected, log_odds_ratio

EffectArrays = tuple[FloatArray, FloatArray]

#: Cox's (1970) divisor of the log odds ratio under normal latent scores.
COX_DIVISOR = 1.65


def _float(*arrays: ArrayLike) -> list[FloatArray]:
    """The inputs as float arrays of one broadcast shape (fresh copies)."""
    return [np.array(a, dtype=np.float64) for a in np.broadcast_arrays(*map(np.asarray, arrays))]


def phi_coefficient(a: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike) -> EffectArrays:
    """PHI and its large-sample variance (see the module's notes)."""
    a_, b_, c_, d_ = _float(a, b, c, d)
    n1, n2, events, non_events = a_ + b_, c_ + d_, a_ + c_, b_ + d_
    total = n1 + n2
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = (a_ * d_ - b_ * c_) / np.sqrt(n1 * n2 * events * non_events)
        row1, row2 = n1 / total, n2 / total
        col1, col2 = events / total, non_events / total
        vi = (
            1.0
            - phi**2
            + phi
            * (1.0 + phi**2 / 2.0)
            * (row1 - row2)
            * (col1 - col2)
            / np.sqrt(row1 * row2 * col1 * col2)
            - 0.75
            * phi**2
            * ((row1 - row2) ** 2 / (row1 * row2) + (col1 - col2) ** 2 / (col1 * col2))
        ) / total
    return phi, vi


def yules_q(a: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike) -> EffectArrays:
    """YUQ: ``Q = (OR - 1) / (OR + 1)``, ``vi = (1 - Q²)² s² / 4``."""
    log_or, s2 = log_odds_ratio(a, b, c, d)
    with np.errstate(over="ignore", invalid="ignore"):
        q = np.tanh(log_or / 2.0)  # (OR - 1) / (OR + 1), finite for OR = 0 and infinite
        return q, 0.25 * (1.0 - q**2) ** 2 * s2


def yules_y(a: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike) -> EffectArrays:
    """YUY: ``Y = (sqrt OR - 1) / (sqrt OR + 1)``, ``vi = (1 - Y²)² s² / 16``."""
    log_or, s2 = log_odds_ratio(a, b, c, d)
    with np.errstate(over="ignore", invalid="ignore"):
        y = np.tanh(log_or / 4.0)  # (sqrt OR - 1) / (sqrt OR + 1)
        return y, (1.0 - y**2) ** 2 * s2 / 16.0


def odds_ratio_to_smd_normal(
    a: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike
) -> EffectArrays:
    """OR2DN: ``log OR / 1.65``, ``vi = s² / 1.65²`` (Cox 1970)."""
    log_or, s2 = log_odds_ratio(a, b, c, d)
    return log_or / COX_DIVISOR, s2 / COX_DIVISOR**2


def odds_ratio_to_smd_logistic(
    a: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike
) -> EffectArrays:
    """OR2DL: ``sqrt(3)/π · log OR``, ``vi = 3/π² · s²`` (Hasselblad & Hedges 1995)."""
    log_or, s2 = log_odds_ratio(a, b, c, d)
    return np.sqrt(3.0) / np.pi * log_or, 3.0 / np.pi**2 * s2


TABLE_ASSOCIATION_MEASURES = {
    "PHI": phi_coefficient,
    "YUQ": yules_q,
    "YUY": yules_y,
    "OR2DN": odds_ratio_to_smd_normal,
    "OR2DL": odds_ratio_to_smd_logistic,
}

#: Measures escalc computes without a continuity correction by default (``add = 0``).
UNCORRECTED_ASSOCIATIONS = frozenset({"PHI"})


def table_association_effect(
    measure: str,
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike,
    d: ArrayLike,
    *,
    add: float = 0.5,
    to: str = "only0",
) -> EffectArrays:
    """PHI, YUQ, YUY, OR2DN or OR2DL from the cells, as escalc computes them.

    ``add, to`` as :func:`srma.stats.effects.continuity_corrected`, for all
    but PHI (computed from the cells as given).
    """
    if measure not in TABLE_ASSOCIATION_MEASURES:
        raise ValueError(
            f"measure must be one of {', '.join(TABLE_ASSOCIATION_MEASURES)}, got {measure!r}"
        )
    if measure in UNCORRECTED_ASSOCIATIONS:
        return TABLE_ASSOCIATION_MEASURES[measure](a, b, c, d)
    return TABLE_ASSOCIATION_MEASURES[measure](*continuity_corrected(a, b, c, d, add=add, to=to))


def point_biserial_correlation(
    mean1: ArrayLike,
    sd1: ArrayLike,
    n1: ArrayLike,
    mean2: ArrayLike,
    sd2: ArrayLike,
    n2: ArrayLike,
) -> EffectArrays:
    """RPB from two groups' means, SDs and sizes (see the module's notes)."""
    m1, s1, size1, m2, s2, size2 = _float(mean1, sd1, n1, mean2, sd2, n2)
    total = size1 + size2
    df = total - 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        pooled_sd = np.sqrt(((size1 - 1.0) * s1**2 + (size2 - 1.0) * s2**2) / df)
        d = (m1 - m2) / pooled_sd
        h = df / size1 + df / size2
        yi = d / np.sqrt(d**2 + h)
        vi = h**2 / (h + d**2) ** 3 * (1.0 / size1 + 1.0 / size2 + d**2 / (2.0 * total))
    return yi, vi
