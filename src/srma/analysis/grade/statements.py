"""The plain-language statement of a finding, from its certainty and the side of its CI.

GRADE's informative statements (Santesso et al., GRADE guidelines 26, J Clin
Epidemiol 2020;119:126-135): high certainty "reduces", moderate "probably
reduces", low "may reduce", very low "the evidence is very uncertain about the
effect"; a CI that includes the null reads "little to no difference".  Which
side is good comes from the outcome's direction (``higher is better`` or
``lower is better``): the statement says whom the result favours.
"""

from __future__ import annotations

from typing import Final

REFERENCE: Final = "Santesso et al., J Clin Epidemiol 2020;119:126-135"
_EFFECT: Final = {
    "high": "{verb}s",
    "moderate": "probably {verb}s",
    "low": "may {verb}",
}
_NO_DIFFERENCE: Final = {
    "high": "results in little to no difference in",
    "moderate": "probably results in little to no difference in",
    "low": "may result in little to no difference in",
}


def conclusion(side: str, direction: str) -> str:
    """``favours the intervention``, ``favours the comparator`` or ``no clear difference``."""
    if side not in ("above", "below"):
        return "no clear difference"
    good = "above" if direction == "higher is better" else "below"
    return "favours the intervention" if side == good else "favours the comparator"


def statement(level: str, side: str, outcome: str, direction: str) -> str:
    """``The intervention may reduce length of stay (favours the intervention).``"""
    if level == "very low":
        return f"The evidence is very uncertain about the effect of the intervention on {outcome}."
    if side not in ("above", "below"):
        return f"The intervention {_NO_DIFFERENCE[level]} {outcome}."
    verb = "increase" if side == "above" else "reduce"
    words = _EFFECT[level].format(verb=verb)
    return f"The intervention {words} {outcome} ({conclusion(side, direction)})."
