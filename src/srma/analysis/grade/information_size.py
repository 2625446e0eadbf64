"""The optimal information size (OIS): the participants one adequately powered trial needs.

GRADE guidelines 6 (Guyatt et al., J Clin Epidemiol 2011;64:1283-1293) rates
a body of evidence down for imprecision when it holds fewer participants than
a conventional sample-size calculation for a single trial gives, with two-sided
alpha 0.05 and power 0.80:

* binary (two proportions, the normal approximation with the pooled variance
  under the null, as R's ``power.prop.test``; Fleiss 1981 without continuity
  correction): ``n = (z_{1-α/2} √(2 p̄ q̄) + z_{1-β} √(p₁q₁ + p₂q₂))² / (p₁ − p₂)²``
  per group, ``p₁`` the comparator risk, ``p₂ = p₁ (1 − RRR)``, ``p̄`` their mean;
  RRR 25% unless the MID says otherwise (GRADE 6 names RR 0.75 as appreciable
  benefit);
* continuous: ``n = 2 (z_{1-α/2} + z_{1-β})² / δ²`` per group, ``δ`` in SD units
  (the normal approximation; R's t-based ``power.t.test`` asks about one more
  participant per group).

The OIS is twice ``ceil(n)``.  tests/reference/grade_ois.R records R's values.
"""

from __future__ import annotations

import math
from statistics import NormalDist
from typing import Final

ALPHA: Final = 0.05
POWER: Final = 0.80
#: The relative risk reduction an OIS of a binary outcome is powered for, by default.
DEFAULT_RRR: Final = 0.25


def _quantiles(alpha: float, power: float) -> tuple[float, float]:
    normal = NormalDist()
    return normal.inv_cdf(1.0 - alpha / 2.0), normal.inv_cdf(power)


def binary_group_size(
    comparator_risk: float, rrr: float = DEFAULT_RRR, *, alpha: float = ALPHA, power: float = POWER
) -> float:
    """Participants per group to detect a relative risk reduction ``rrr`` (not rounded)."""
    p1 = comparator_risk
    p2 = comparator_risk * (1.0 - rrr)
    mean = (p1 + p2) / 2.0
    z_alpha, z_beta = _quantiles(alpha, power)
    spread = z_alpha * math.sqrt(2.0 * mean * (1.0 - mean)) + z_beta * math.sqrt(
        p1 * (1.0 - p1) + p2 * (1.0 - p2)
    )
    return spread**2 / (p1 - p2) ** 2


def continuous_group_size(delta_sd: float, *, alpha: float = ALPHA, power: float = POWER) -> float:
    """Participants per group to detect ``delta_sd`` standard deviations (not rounded)."""
    z_alpha, z_beta = _quantiles(alpha, power)
    return 2.0 * (z_alpha + z_beta) ** 2 / delta_sd**2


def binary_ois(
    comparator_risk: float, rrr: float = DEFAULT_RRR, *, alpha: float = ALPHA, power: float = POWER
) -> int:
    """Total participants to detect a relative risk reduction ``rrr`` from ``comparator_risk``."""
    return 2 * math.ceil(binary_group_size(comparator_risk, rrr, alpha=alpha, power=power))


def continuous_ois(delta_sd: float, *, alpha: float = ALPHA, power: float = POWER) -> int:
    """Total participants to detect a difference of ``delta_sd`` standard deviations."""
    return 2 * math.ceil(continuous_group_size(delta_sd, alpha=alpha, power=power))
