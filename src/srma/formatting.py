"""The one way srma prints numbers: estimates, intervals, p-values and counts.

Every summary, table, figure and report formats its numbers through these
functions, so that the same value reads the same everywhere.  Undefined
values (None, NaN) print as ``NA``.

* :func:`format_number` -- a value with a fixed number of decimals;
* :func:`format_ci` -- an interval, ``0.12 to 0.34`` (or ``[0.12, 0.34]``);
* :func:`format_p` -- ``p = 0.0123``, ``p < 0.0001``;
* :func:`format_count` -- an integer such as k or df, never ``5.0``.

Layer 0: imports nothing from srma.
"""

from __future__ import annotations

import math

__all__ = [
    "NA",
    "P_DIGITS",
    "P_FLOOR",
    "format_ci",
    "format_count",
    "format_estimate_ci",
    "format_number",
    "format_p",
    "format_p_value",
]

NA = "NA"
#: Numbers this large are written in scientific notation (``1.30e+12``), not as
#: a line of digits that runs off a table or a figure.
SCIENTIFIC_FROM = 1e9
#: p-values are printed with this many decimals ...
P_DIGITS = 4
#: ... and below this floor as ``< 0.0001``.
P_FLOOR = 1e-4


def _undefined(value: object) -> bool:
    if value is None:
        return True
    try:
        return math.isnan(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return True


def format_number(value: float | None, digits: int = 2) -> str:
    """``value`` with ``digits`` decimals; ``NA`` when undefined; ``-0.00`` is shown as ``0.00``.

    Infinite values are written ``inf``/``-inf``; values of magnitude
    :data:`SCIENTIFIC_FROM` or more with ``digits`` decimals of scientific notation.
    """
    if _undefined(value):
        return NA
    number = float(value)  # type: ignore[arg-type]
    if math.isinf(number):
        return "inf" if number > 0 else "-inf"
    if abs(number) >= SCIENTIFIC_FROM:
        return f"{number:.{digits}e}"
    text = f"{number:.{digits}f}"
    if text.startswith("-") and float(text) == 0.0:
        text = text[1:]
    return text


def format_count(value: float | None) -> str:
    """An integer count (k, df, n): ``5``, never ``5.0``; a non-integer df keeps 2 decimals."""
    if _undefined(value):
        return NA
    number = float(value)  # type: ignore[arg-type]
    if number.is_integer():
        return str(int(number))
    return format_number(number, 2)


def format_ci(
    lower: float | None, upper: float | None, digits: int = 2, *, style: str = "to"
) -> str:
    """An interval: ``0.12 to 0.34`` (``style="to"``) or ``[0.12, 0.34]`` (``style="brackets"``)."""
    low, high = format_number(lower, digits), format_number(upper, digits)
    if style == "brackets":
        return f"[{low}, {high}]"
    if style != "to":
        raise ValueError(f"style must be 'to' or 'brackets', got {style!r}")
    return f"{low} to {high}"


def format_estimate_ci(
    estimate: float | None, lower: float | None, upper: float | None, digits: int = 2
) -> str:
    """``0.52 [0.31, 0.73]``: an estimate and its interval, as in a forest plot's column."""
    return f"{format_number(estimate, digits)} {format_ci(lower, upper, digits, style='brackets')}"


def format_p_value(value: float | None) -> str:
    """The p-value alone: ``0.0123``, ``< 0.0001`` or ``NA`` (for table cells)."""
    if _undefined(value):
        return NA
    number = float(value)  # type: ignore[arg-type]
    if number < P_FLOOR:
        return f"< {P_FLOOR:.{P_DIGITS}f}"
    return f"{min(number, 1.0):.{P_DIGITS}f}"


def format_p(value: float | None) -> str:
    """``p = 0.0123``, ``p < 0.0001`` or ``p = NA``."""
    text = format_p_value(value)
    return f"p {text}" if text.startswith("<") else f"p = {text}"
