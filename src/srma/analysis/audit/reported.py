"""Numbers as a paper prints them: the value and the interval its rounding allows.

A reported ``0.024`` stands for any value in ``[0.0235, 0.0245]``: half a unit
of the last printed decimal either side (statcheck's treatment of rounded test
statistics, Nuijten et al. 2016, Behav Res Methods 48:1205-1226; Epskamp &
Nuijten, the statcheck manual).  ``p < 0.001`` stands for ``[0, 0.001]``.  A
check of a reported result is failed only when no combination of values inside
these intervals is consistent.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

#: Cells read as "not reported" (besides the empty cell).
MISSING_WORDS = frozenset({"na", "n/a", "nan", "nr", "not reported"})

#: Relative slack on every rounding interval, so that a value on an interval's
#: edge (``-1.815`` from ``-1.81`` and from ``(-4.123 + 0.494) / 2``) is not lost
#: to the last bit of floating point.
EDGE_SLACK = 1e-9

_NUMBER = re.compile(
    r"^(?P<sign>[+-]?)(?P<whole>\d*)(?:\.(?P<decimals>\d*))?(?:[eE](?P<exponent>[+-]?\d+))?$"
)
_INEQUALITY = re.compile(r"^(?P<relation><=|>=|≤|≥|<|>)\s*(?P<rest>.*)$")
#: Minus signs and spaces that typesetting puts into numbers (U+2212, the en dash, a thin space).
_TYPESET = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2009": "", "\u00a0": ""})


@dataclass(frozen=True)
class Reported:
    """One reported number: ``text`` as printed, its ``value``, and the interval
    ``[low, high]`` of values that print as ``text`` (``relation`` ``<`` or ``>``
    for a bound such as ``p < 0.001``; ``=`` otherwise)."""

    text: str
    value: float
    low: float
    high: float
    relation: str = "="


def is_missing(cell: object) -> bool:
    """Whether a cell says nothing: None, NaN, blank, or a word such as ``NA`` or ``NR``."""
    if cell is None:
        return True
    if isinstance(cell, float) and math.isnan(cell):
        return True
    text = str(cell).strip()
    return text == "" or text.lower() in MISSING_WORDS


def parse_reported(cell: object, *, bounds_allowed: bool = False) -> Reported:
    """``cell`` (text as printed, or a number) as a :class:`Reported`.

    The half-width of the rounding interval is ``0.5 * 10**-d`` for ``d``
    printed decimals (scaled by the exponent in ``1.2e-5``).  A float cell
    (a table read without keeping the text) is taken as its shortest ``repr``,
    so ``0.40`` read as a float counts one decimal: pass text to keep them.
    ``bounds_allowed`` accepts ``<``, ``<=``, ``>``, ``>=`` (p-values).
    Raises ``ValueError`` for anything that is not a finite number.
    """
    if isinstance(cell, bool):
        raise ValueError(f"{cell!r} is not a number")
    text = (repr(float(cell)) if isinstance(cell, float) else str(cell)).strip()
    text = text.translate(_TYPESET)
    relation = "="
    inequality = _INEQUALITY.match(text)
    if inequality:
        if not bounds_allowed:
            raise ValueError(f"{text!r} is a bound, not a number")
        relation = inequality["relation"].replace("≤", "<=").replace("≥", ">=")
        text = inequality["rest"].strip()
    match = _NUMBER.match(text)
    if not match or not (match["whole"] or match["decimals"]):
        raise ValueError(f"{text!r} is not a number")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    decimals = len(match["decimals"] or "")
    exponent = int(match["exponent"] or 0)
    half = 0.5 * 10.0 ** (exponent - decimals) * (1.0 + EDGE_SLACK) + EDGE_SLACK * abs(value)
    printed = inequality["relation"] + text if inequality else text
    if relation.startswith("<"):
        return Reported(printed, value, -math.inf, value, "<")
    if relation.startswith(">"):
        return Reported(printed, value, value, math.inf, ">")
    return Reported(printed, value, value - half, value + half)


def overlap(low: float, high: float, other_low: float, other_high: float) -> bool:
    """Whether ``[low, high]`` and ``[other_low, other_high]`` share a value."""
    return max(low, other_low) <= min(high, other_high)
