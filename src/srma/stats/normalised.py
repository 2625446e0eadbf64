"""NMD, the normalised mean difference of animal studies with a sham group.

Vesterinen, Sena, Egan, Hirst, Churolov, Currie, Antonic, Howells & Macleod
(2014), "Meta-analysis of data from animal studies: a practical guide",
J Neurosci Methods 221:92-102, the CAMARADES method: the effect of a
treatment is the percentage of the deficit that the lesion (or disease
model) causes which the treatment recovers.  With the treated group
``1`` (``m1, sd1, n1``), the untreated lesion control ``2`` (``m2, sd2, n2``)
and the mean of sham-operated animals ``m_sham``,

    NMD = 100 (m2 - m1) / (m2 - m_sham)
    SD1* = 100 sd1 / (m2 - m_sham),    SD2* = 100 sd2 / (m2 - m_sham)
    SE = sqrt(SD1*² / n1 + SD2*² / n2)

so an NMD of 100 is full recovery, 0 none.  The sham group's SD and size do
not enter: its mean is the reference point of the scale.  The studies are then
pooled by inverse variance as any other effect (``vi = SE²``).  Where no sham
group is reported, ``m_sham`` is the value of a normal animal (0 for an
infarct volume).

The paper's ratio works in either direction of the scale.  Given a direction,
the deficit's size ``|m2 - m_sham|`` scales instead and the sign follows the
direction: ``100 (m2 - m1) / |m2 - m_sham|`` when lower is better,
``100 (m1 - m2) / |m2 - m_sham|`` when higher is better.  The two agree
whenever the lesion moved the control group the bad way; they differ where it
did not, which the paper's ratio silently turns around.

Nothing here validates (see :mod:`srma.analysis.effect_families_continuous`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from srma.stats.effects import EffectArrays, _float

#: Which end of an outcome's scale is good (the words of srma's protocol).
DIRECTIONS = ("lower is better", "higher is better")


def normalised_mean_difference(
    mean1: ArrayLike,
    sd1: ArrayLike,
    n1: ArrayLike,
    mean2: ArrayLike,
    sd2: ArrayLike,
    n2: ArrayLike,
    mean_sham: ArrayLike,
    *,
    direction: str | None = None,
) -> EffectArrays:
    """NMD in percent and its variance, group 1 treated and group 2 the lesion control.

    ``direction=None`` is Vesterinen et al.'s signed ratio; ``"lower is
    better"`` or ``"higher is better"`` scale by the deficit's size and sign by
    the direction (module docstring).  ``n2`` may be fractional: a shared
    control group's size split among the comparisons it serves.
    """
    if direction is not None and direction not in DIRECTIONS:
        raise ValueError(
            f"direction must be one of {', '.join(DIRECTIONS)} or None, got {direction!r}"
        )
    m1, s1, size1, m2, s2, size2, sham = _float(mean1, sd1, n1, mean2, sd2, n2, mean_sham)
    deficit = m2 - sham
    scale = deficit if direction is None else np.abs(deficit)
    improvement = m1 - m2 if direction == "higher is better" else m2 - m1
    with np.errstate(divide="ignore", invalid="ignore"):
        scaled_sd1, scaled_sd2 = 100.0 * s1 / scale, 100.0 * s2 / scale
        return 100.0 * improvement / scale, scaled_sd1**2 / size1 + scaled_sd2**2 / size2
