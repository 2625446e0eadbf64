"""Effect sizes comparing the variability of two groups: VR and CVR (lnVR, lnCVR).

Nakagawa, Poulin, Mengersen, Reinhold, Engqvist, Lagisz & Senior (2015),
"Meta-analysis of variation", Methods Ecol Evol 6:143-152, with the formulas
of metafor's ``escalc`` 3.8-1.  Their lnCVR is escalc's (and srma's) ``"CVR"``
and their lnVR is ``"VR"``; both are on the log scale, so a pooled value is
reported back-transformed as a ratio.  Each log SD carries the small-sample
bias correction ``1 / (2 (n - 1))`` of Nakagawa et al. (2015), as escalc.

Every function returns ``(yi, vi)`` as float arrays broadcast from its
inputs; nothing here validates (see :mod:`srma.analysis.effect_families_continuous`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from srma.stats.effects import EffectArrays, _float


def log_variability_ratio(
    sd1: ArrayLike, n1: ArrayLike, sd2: ArrayLike, n2: ArrayLike
) -> EffectArrays:
    """VR (lnVR), the log ratio of the two groups' SDs, bias-corrected.

    ``yi = log(sd1 / sd2) + 1/(2 (n1 - 1)) - 1/(2 (n2 - 1))`` and
    ``vi = 1/(2 (n1 - 1)) + 1/(2 (n2 - 1))`` (Nakagawa et al. 2015; escalc's
    ``"VR"``).  The means are not needed.
    """
    s1, size1, s2, size2 = _float(sd1, n1, sd2, n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        half1, half2 = 1.0 / (2.0 * (size1 - 1.0)), 1.0 / (2.0 * (size2 - 1.0))
        return np.log(s1 / s2) + half1 - half2, half1 + half2


def log_cv_ratio(
    mean1: ArrayLike,
    sd1: ArrayLike,
    n1: ArrayLike,
    mean2: ArrayLike,
    sd2: ArrayLike,
    n2: ArrayLike,
) -> EffectArrays:
    """CVR (lnCVR), the log ratio of the two groups' coefficients of variation, for positive means.

    ``yi = log(sd1/m1) + 1/(2 (n1 - 1)) - log(sd2/m2) - 1/(2 (n2 - 1))`` and
    ``vi = 1/(2 (n1 - 1)) + sd1²/(n1 m1²) + 1/(2 (n2 - 1)) + sd2²/(n2 m2²)``:
    Nakagawa et al. (2015), eq. 12, without its ``-2 rho ...`` terms, which
    vanish for normal data, whose mean and variance are independent (escalc's
    ``"CVR"``).
    """
    m1, s1, size1, m2, s2, size2 = _float(mean1, sd1, n1, mean2, sd2, n2)
    with np.errstate(divide="ignore", invalid="ignore"):
        half1, half2 = 1.0 / (2.0 * (size1 - 1.0)), 1.0 / (2.0 * (size2 - 1.0))
        yi = np.log(s1 / m1) + half1 - np.log(s2 / m2) - half2
        return yi, half1 + s1**2 / (size1 * m1**2) + half2 + s2**2 / (size2 * m2**2)
