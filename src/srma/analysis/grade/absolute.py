"""Absolute effects of a binary outcome from an assumed comparator risk (ACR), per 1,000.

For an assumed comparator risk ``ACR`` and a pooled relative effect, the risk
with the intervention is (Cochrane Handbook v6 chapter 14, v5.1 section
11.5.5; GRADE handbook, Schünemann et al. 2013, section 5.2):

* risk ratio:      ``ACR × RR``
* odds ratio:      ``OR × ACR / (1 − ACR + OR × ACR)``
* risk difference: ``ACR + RD``
* hazard ratio:    ``1 − exp(HR × ln(1 − ACR))`` (the event risk at the same time,
  under proportional hazards)

and the difference is ``1000 × (risk − ACR)`` per 1,000.  The confidence
interval maps the interval of the relative effect through the same formula
(each is increasing in the effect).  Worked examples: Cochrane Handbook v5.1
12.5.4.2 (RR 0.92, ACR 0.3: 24 fewer per 1,000) and 12.5.4.3 (OR 0.73, ACR
0.3: 62 fewer per 1,000); tests/test_grade_absolute.py checks them.  A risk
beyond [0, 1] (a risk ratio or difference with a high comparator risk) is
cut to the bound and a note says so.  The ACR is the protocol's, or the
median of the studies' comparator risks (Cochrane Handbook v5.1 11.5.6.3).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Final

from srma.analysis.grade.levels import REFERENCES
from srma.errors import InputError

#: Measures with an absolute effect, and the formula of each (PETO is an odds ratio).
FORMULAS: Final = {
    "RR": "ACR × RR",
    "OR": "OR × ACR / (1 − ACR + OR × ACR)",
    "PETO": "OR × ACR / (1 − ACR + OR × ACR)",
    "RD": "ACR + RD",
    "HR": "1 − exp(HR × ln(1 − ACR))",
}
ABSOLUTE_MEASURES: Final = frozenset(FORMULAS)
#: ``exp`` above this would overflow; the risks it gives are 1 to double precision anyway.
_LARGEST_LOG: Final = 700.0


@dataclass(frozen=True)
class AbsoluteEffect:
    """The risk with the intervention and the difference per 1,000 for one comparator risk.

    Risks are proportions; ``difference_*`` are per 1,000 (negative: fewer events).
    """

    measure: str
    assumed_risk: float
    assumed_risk_source: str
    risk_with_intervention: float
    risk_ci_lower: float
    risk_ci_upper: float
    difference_per_1000: float
    difference_ci_lower: float
    difference_ci_upper: float
    formula: str
    reference: str
    notes: tuple[str, ...] = ()

    @property
    def assumed_per_1000(self) -> float:
        return 1000.0 * self.assumed_risk

    @property
    def risk_per_1000(self) -> tuple[float, float, float]:
        """The risk with the intervention and its CI, per 1,000."""
        return (
            1000.0 * self.risk_with_intervention,
            1000.0 * self.risk_ci_lower,
            1000.0 * self.risk_ci_upper,
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["notes"] = list(self.notes)
        return out


def _risk(measure: str, effect: float, acr: float) -> float:
    """The risk with the intervention for one value of the effect (analysis scale)."""
    if measure == "RD":
        return acr + effect
    ratio = math.exp(min(effect, _LARGEST_LOG))
    if measure == "RR":
        return acr * ratio
    if measure in ("OR", "PETO"):
        return ratio * acr / (1.0 - acr + ratio * acr)
    return -math.expm1(ratio * math.log1p(-acr))  # HR


def check_risk(value: float, what: str) -> float:
    """``value`` as a risk strictly between 0 and 1, else :class:`InputError`."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a number between 0 and 1, got {value!r}") from None
    if not (0.0 < number < 1.0):
        raise InputError(f"{what} must be strictly between 0 and 1, got {value!r}")
    return number


def absolute_effect(
    measure: str,
    estimate: float,
    ci_lower: float,
    ci_upper: float,
    assumed_risk: float,
    *,
    source: str,
) -> AbsoluteEffect:
    """The absolute effect per 1,000 of a relative effect at ``assumed_risk``.

    ``estimate`` and the CI are on the analysis scale: log RR, log OR, log HR,
    or the risk difference itself (as :class:`~srma.analysis.results.MetaResult`
    holds them).  ``source`` says where the assumed risk comes from.  Raises
    :class:`InputError` for a measure without an absolute effect, a risk outside
    (0, 1) or an undefined effect.
    """
    code = str(measure).upper()
    if code not in ABSOLUTE_MEASURES:
        raise InputError(
            f"no absolute effect for measure {measure!r}: expected one of "
            f"{', '.join(sorted(ABSOLUTE_MEASURES))}"
        )
    acr = check_risk(assumed_risk, "the assumed comparator risk")
    values = []
    for name, value in (("estimate", estimate), ("ci_lower", ci_lower), ("ci_upper", ci_upper)):
        if value is None or not math.isfinite(float(value)):
            raise InputError(f"the effect's {name} is undefined: no absolute effect")
        values.append(float(value))
    if values[1] > values[2]:
        raise InputError(f"ci_lower {values[1]} is above ci_upper {values[2]}")
    notes: list[str] = []
    risks = []
    for value in values:
        risk = _risk(code, value, acr)
        if risk > 1.0 or risk < 0.0:
            notes.append(
                f"a risk of {risk:.4g} from {FORMULAS[code]} is outside [0, 1]: shown as "
                f"{min(1.0, max(0.0, risk)):g}"
            )
            risk = min(1.0, max(0.0, risk))
        risks.append(risk)
    return AbsoluteEffect(
        measure=code,
        assumed_risk=acr,
        assumed_risk_source=source,
        risk_with_intervention=risks[0],
        risk_ci_lower=risks[1],
        risk_ci_upper=risks[2],
        difference_per_1000=1000.0 * (risks[0] - acr),
        difference_ci_lower=1000.0 * (risks[1] - acr),
        difference_ci_upper=1000.0 * (risks[2] - acr),
        formula=FORMULAS[code],
        reference=REFERENCES["absolute"],
        notes=tuple(notes),
    )


def assumed_comparator_risk(
    control_risks: Sequence[float] | None, assumed_risk: float | None
) -> tuple[float | None, str]:
    """The comparator risk to use and where it comes from, or None and why there is none.

    The protocol's ``assumed_risk`` wins; otherwise the median of the studies'
    comparator risks (Cochrane Handbook v5.1 11.5.6.3: "the median control group
    risk across studies").
    """
    if assumed_risk is not None:
        return check_risk(assumed_risk, "the assumed comparator risk"), (
            "the protocol's assumed comparator risk"
        )
    risks = [float(r) for r in control_risks or () if r is not None and math.isfinite(float(r))]
    if not risks:
        return None, "no assumed comparator risk: neither the protocol nor the studies give one"
    if any(r < 0.0 or r > 1.0 for r in risks):
        raise InputError(f"comparator risks must lie in [0, 1], got {min(risks)}..{max(risks)}")
    median = statistics.median(risks)
    source = (
        "the comparator risk of the one study"
        if len(risks) == 1
        else f"the median comparator risk of the {len(risks)} studies"
    )
    if not 0.0 < median < 1.0:
        return None, f"{source} is {median:g}: no absolute effect (give an assumed risk)"
    return median, source
