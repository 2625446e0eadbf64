"""The optimal information size (OIS): the participants one adequately powered trial needs.

GRADE guidelines 6 (Guyatt et al., J Clin Epidemiol 2011;64:1283-1293) rates
a body of evidence down for imprecision when it holds fewer participants than
a conventional sample-size calculation for a single trial gives, with two-sided
alpha 0.05 and power 0.80:

* binary: ``n = (z_{1-α/2} + z_{1-β})² (p₁(1 − p₁) + p₂(1 − p₂)) / (p₁ − p₂)²`` per group,
  ``p₁`` the comparator risk, ``p₂ = p₁ (1 − RRR)``; RRR 25% unless the MID says
  otherwise (GRADE 6 names RR 0.75 as appreciable benefit);
* continuous: ``n = 2 (z_{1-α/2} + z_{1-β})² / δ²`` per group, ``δ`` in SD units.

The OIS is twice ``ceil(n)``.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Final

ALPHA: Final = 0.05
POWER: Final = 0.80
#: The relative risk reduction an OIS of a binary outcome is powered for, by default.
DEFAULT_RRR: Final = 0.25


def _z_sum(alpha: float, power: float) -> float:
    normal = NormalDist()
    return normal.inv_cdf(1.0 - alpha / 2.0) + normal.inv_cdf(power)


def binary_ois(
    comparator_risk: float, rrr: float = DEFAULT_RRR, *, alpha: float = ALPHA, power: float = POWER
) -> int:
    """Total participants to detect a relative risk reduction ``rrr`` from ``comparator_risk``."""
    p1 = comparator_risk
    p2 = comparator_risk * (1.0 - rrr)
    n = _z_sum(alpha, power) ** 2 * (p1 * (1 - p1) + p2 * (1 - p2)) / (p1 - p2) ** 2
    return 2 * math.ceil(n)


def continuous_ois(delta_sd: float, *, alpha: float = ALPHA, power: float = POWER) -> int:
    """Total participants to detect a difference of ``delta_sd`` standard deviations."""
    n = 2.0 * _z_sum(alpha, power) ** 2 / delta_sd**2
    return 2 * math.ceil(n)
