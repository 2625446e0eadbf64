"""The area under the ROC curve (AUC, the common-language effect size) of two groups.

The AUC of two groups is ``P(X1 > X2) + P(X1 = X2)/2`` for a random member of
each: the probability that a person of group 1 scores above one of group 2
(McGraw & Wong 1992, Psychol Bull 111:361-365), the c-statistic, ``U / (n1
n2)`` of the Mann-Whitney test.  Two measures, as metafor's ``escalc`` (5.x:
``measure = "AUC"`` and ``"AUCN"``; metafor 3.8-1 has neither):

* AUC, from a reported AUC ``A`` and the group sizes, with the variance of
  Newcombe (2006, Stat Med 25:559-573, method 4) with ``(n1 - 1)(n2 - 1)`` in
  the denominator (Cho, Matthews & Harel 2019, Int Stat Rev 87:152-177),
  ``N = (n1 + n2) / 2``::

      vi = A (1 - A) / ((n1 - 1)(n2 - 1)) · (2N - 1 - (3N - 3) / ((2 - A)(1 + A)))

* AUCN, the binormal AUC from the groups' means, SDs and sizes: with ``X_g ~
  N(m_g, s_g²)``, ``X1 - X2 ~ N(m1 - m2, s1² + s2²)``, so

      A = Phi(delta),  delta = (m1 - m2) / sqrt(s1² + s2²) = d / sqrt(2),
      d = (m1 - m2) / sqrt((s1² + s2²) / 2)

  (no assumption of equal variances).  Its variance by the delta method
  (Goddard & Hinberg 1990, Stat Med 9:325-337, eqs. 3-4): ``dA = phi(delta)
  d delta``, and with ``Var(mean_g) = s_g²/n_g``, ``Var(s_g²) = 2 s_g⁴/(n_g -
  1)`` (normal data) and ``v = s1² / (s1² + s2²)``, ``Var(delta) = v/n1 + (1 -
  v)/n2 + (delta²/2)(v²/(n1 - 1) + (1 - v)²/(n2 - 1))``; ``phi(delta)² =
  exp(-d²/2) / (2 pi)`` gives::

      vi = exp(-d²/2) / (8 pi) · (d² v² / (n1 - 1) + d² (1 - v)² / (n2 - 1)
                                  + 4 v / (n1 - 1) + 4 (1 - v) / (n2 - 1))

  with ``n_g - 1`` also in the last two terms, as metafor's default
  (``vtype = "LS"``).

Swapping the groups turns ``A`` into ``1 - A`` and leaves both variances as
they are.  Nothing here validates (see :mod:`srma.analysis.effect_sizes`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import ndtr

from srma.stats.batch import FloatArray

EffectArrays = tuple[FloatArray, FloatArray]


def _float(*arrays: ArrayLike) -> list[FloatArray]:
    """The inputs as float arrays of one broadcast shape (fresh copies)."""
    return [np.array(a, dtype=np.float64) for a in np.broadcast_arrays(*map(np.asarray, arrays))]


def auc_newcombe(auc: ArrayLike, n1: ArrayLike, n2: ArrayLike) -> EffectArrays:
    """A reported AUC and its variance by Newcombe's (2006) method 4 (see the module's notes)."""
    a, size1, size2 = _float(auc, n1, n2)
    half_total = (size1 + size2) / 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        bracket = 2.0 * half_total - 1.0 - (3.0 * half_total - 3.0) / ((2.0 - a) * (1.0 + a))
        vi = a * (1.0 - a) / ((size1 - 1.0) * (size2 - 1.0)) * bracket
    return a, vi


def binormal_auc(
    mean1: ArrayLike,
    sd1: ArrayLike,
    n1: ArrayLike,
    mean2: ArrayLike,
    sd2: ArrayLike,
    n2: ArrayLike,
) -> EffectArrays:
    """The binormal AUC ``Phi((m1 - m2) / sqrt(s1² + s2²))`` and its delta-method variance."""
    m1, s1, size1, m2, s2, size2 = _float(mean1, sd1, n1, mean2, sd2, n2)
    spread = s1**2 + s2**2
    with np.errstate(divide="ignore", invalid="ignore"):
        d = (m1 - m2) / np.sqrt(spread / 2.0)
        share = s1**2 / spread
        d2 = d * d
        vi = (
            np.exp(-d2 / 2.0)
            / (8.0 * np.pi)
            * (
                d2 * share**2 / (size1 - 1.0)
                + d2 * (1.0 - share) ** 2 / (size2 - 1.0)
                + 4.0 * share / (size1 - 1.0)
                + 4.0 * (1.0 - share) / (size2 - 1.0)
            )
        )
    return ndtr(d / np.sqrt(2.0)), vi
