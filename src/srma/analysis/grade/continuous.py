"""What a summary of findings says of a continuous outcome's effect.

A mean difference is shown in the outcome's units, "higher" or "lower" with
its CI (GRADEpro's wording).  A standardised mean difference is read by
Cohen's rule of thumb: 0.2 small, 0.5 moderate, 0.8 large (Cohen 1988, as in
the Cochrane Handbook v6 15.5.3).
"""

from __future__ import annotations

from typing import Final

from srma.analysis.grade.levels import REFERENCES
from srma.formatting import format_number

#: Cohen's (1988) thresholds of |SMD| and their words, largest first.
SMD_THRESHOLDS: Final = ((0.8, "large"), (0.5, "moderate"), (0.2, "small"))


def smd_size(value: float) -> str:
    """``"large"``, ``"moderate"``, ``"small"`` or ``"smaller than small"`` for |SMD|."""
    magnitude = abs(value)
    for threshold, word in SMD_THRESHOLDS:
        if magnitude >= threshold:
            return word
    return "smaller than small"


def signed(value: float, digits: int = 2) -> str:
    """``0.45 higher`` / ``0.45 lower`` (GRADEpro's words for a difference)."""
    word = "higher" if value >= 0 else "lower"
    return f"{format_number(abs(value), digits)} {word}"


def difference_text(measure: str, estimate: float, lower: float, upper: float) -> str:
    """``MD 1.20 lower (1.90 lower to 0.50 lower)``."""
    return f"{measure} {signed(estimate)} ({signed(lower)} to {signed(upper)})"


def interpret_continuous(measure: str, estimate: float, lower: float, upper: float) -> str:
    """The effect in words; for the SMD with Cohen's size of the estimate and of each bound."""
    text = difference_text(measure, estimate, lower, upper)
    if measure != "SMD":
        return text
    size = smd_size(estimate)
    phrase = "an effect smaller than small" if size == "smaller than small" else f"a {size} effect"
    return (
        f"{text}: {phrase} by the rule of thumb (the interval runs from "
        f"{smd_size(lower)} to {smd_size(upper)}; {REFERENCES['smd']})"
    )
