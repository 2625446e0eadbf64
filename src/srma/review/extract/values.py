"""One value read and checked, and the checks that the values of a row fit together.

A value is kept twice: as *written* (``12.10``) and in *canonical* form, the
number as a plain decimal without trailing zeros (``12.1``) or the choice as
the protocol spells it.  Two reviewers agree on a number when the canonical
forms are equal: the number at the precision reported, so ``12.0`` and ``12``
agree, ``12.1`` and ``12.10`` agree, ``12.1`` and ``12.2`` (or ``12.13``) do
not.  A number typed into a spreadsheet cell is read through its shortest
15-digit form, so binary floating point never makes a difference.

:func:`row_problems` checks whole rows, vectorised over the rows of a sheet:
a mean needs its dispersion and n, the dispersion type needs its numbers,
n analysed must not exceed n randomised, events must not exceed the total, an
estimate must lie inside its CI, and so on (see ``_RULES``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

import numpy as np

from srma.review.extract.forms import DISPERSIONS, NUMBER_KINDS, YES_NO, FieldSpec, ItemKey


class Problem(NamedTuple):
    """Something wrong in a file: where (``sheet 'NIHSS', cell F7`` or ``line 5, column
    'value'``) and what was expected."""

    where: str
    message: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One value as read from a form (or resolved): the item, its value (canonical and as
    written; None for an empty cell), where it came from, and the cell it was read from."""

    key: ItemKey
    value: str | None
    written: str | None
    source: str = ""
    digitised: bool = False
    comment: str = ""
    sheet: str = ""
    cell: str = ""

    def payload(self) -> dict[str, object]:
        """The entry as stored in an event's payload (empty parts left out)."""
        found: dict[str, object] = {
            "scope": self.key.scope,
            "arm": self.key.arm,
            "time": self.key.time,
            "field": self.key.field,
            "value": self.value,
        }
        if self.written is not None and self.written != self.value:
            found["written"] = self.written
        for name in ("source", "comment", "sheet", "cell"):
            if getattr(self, name):
                found[name] = getattr(self, name)
        if self.digitised:
            found["digitised"] = True
        return found

    def same(self, other: Entry | None) -> bool:
        """Whether ``other`` says the same (value, source, digitised, comment)."""
        if other is None:
            return self.value is None and not (self.source or self.comment or self.digitised)
        return (self.value, self.source, self.digitised, self.comment) == (
            other.value,
            other.source,
            other.digitised,
            other.comment,
        )


def clean_text(text: object) -> str:
    """Text as stored: on one line, runs of white space as one space, and no escape
    sequence or control character (:func:`srma.text_safety.printable`), so what a form
    shows is what was stored and reads back the same."""
    from srma.text_safety import printable

    return " ".join(printable(str(text), newlines=False, tabs=False).split())


def canonical_number(number: Decimal) -> str:
    """A decimal without exponent or trailing zeros: ``12.10`` -> ``12.1``, ``1E+6`` ->
    ``1000000``, ``-0.0`` -> ``0``."""
    if number == 0:
        return "0"
    return format(number.normalize(), "f")


def _number_text(raw: object) -> str:
    if isinstance(raw, bool):
        raise ValueError
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        return format(raw, ".15g")
    if isinstance(raw, str):
        return raw.strip()
    raise ValueError


def _expected_number(field: FieldSpec, raw: object) -> str:
    what = "a whole number >= 0" if field.kind == "count" else "a number"
    unit = f" in {field.unit}" if field.unit else ""
    text = str(raw).strip()
    hint = ""
    if re.fullmatch(r"[-+]?\d[\d.]*\s*[^\d\s].*", text):
        hint = " (write the number only" + (f"; the unit is {field.unit})" if unit else ")")
    elif re.fullmatch(r"[-+]?\d+,\d+", text):
        hint = " (use a decimal point)"
    if isinstance(raw, str) and text.startswith("="):
        hint = " (a formula; type the number reported)"
    return f"expected {what}{unit}, got {raw!r}{hint}"


def parse_number(field: FieldSpec, raw: object) -> tuple[str, str]:
    """``(canonical, written)`` of a number cell, or ``ValueError`` with what was expected."""
    try:
        written = _number_text(raw)
        number = Decimal(written)
    except (ValueError, InvalidOperation):
        raise ValueError(_expected_number(field, raw)) from None
    if not number.is_finite():
        raise ValueError(_expected_number(field, raw))
    if field.kind == "count" and (number < 0 or number != number.to_integral_value()):
        raise ValueError(_expected_number(field, raw))
    return canonical_number(number), written


def parse_choice(field: FieldSpec, raw: object) -> str:
    """The protocol's spelling of a choice (matched ignoring case and a missing ``%``)."""
    text = _number_text(raw) if isinstance(raw, int | float) else str(raw).strip()
    for choice in field.choices:
        if text == choice or text.lower() == choice.lower() or f"{text}%" == choice:
            return choice
    raise ValueError(f"expected one of: {', '.join(field.choices)}; got {raw!r}")


def parse_date(raw: object) -> str:
    """An ISO date (``YYYY-MM-DD``) from a date cell or text."""
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    try:
        return date.fromisoformat(str(raw).strip()).isoformat()
    except ValueError:
        raise ValueError(f"expected a date as YYYY-MM-DD, got {raw!r}") from None


def parse_yes_no(raw: object, *, name: str) -> bool:
    """``yes``/``no`` (also y, n, true, false, 1, 0; blank is no)."""
    if raw is None or isinstance(raw, bool):
        return bool(raw)
    text = str(raw).strip().lower()
    if text in ("", "no", "n", "false", "0"):
        return False
    if text in ("yes", "y", "true", "1"):
        return True
    raise ValueError(f"{name} must be {' or '.join(YES_NO)}, got {raw!r}")


def is_blank(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def parse_value(field: FieldSpec, raw: object) -> tuple[str | None, str | None]:
    """``(canonical, written)`` of one cell for ``field``; ``(None, None)`` when blank.

    Raises ``ValueError`` whose message says what was expected.
    """
    if is_blank(raw):
        return None, None
    if field.kind in NUMBER_KINDS:
        return parse_number(field, raw)
    if field.kind == "choice":
        choice = parse_choice(field, raw)
        return choice, choice
    if field.kind == "date":
        day = parse_date(raw)
        return day, day
    if isinstance(raw, datetime | date):
        text = parse_date(raw)
    else:
        text = _number_text(raw) if isinstance(raw, int | float) else clean_text(raw)
    return text, text


# --- rows: do the values of a row fit together? ------------------------------------------

_CI = {"95% CI": "95%", "90% CI": "90%", "99% CI": "99%"}
#: The numbers each dispersion type needs, its centre first.
NEEDS: Mapping[str, tuple[str, ...]] = {
    "SD": ("mean", "sd"),
    "SE": ("mean", "se"),
    **{ci: ("mean", "ci_lower", "ci_upper") for ci in _CI},
    "IQR": ("median", "q1", "q3"),
    "range": ("median", "minimum", "maximum"),
    "IQR and range": ("median", "q1", "q3", "minimum", "maximum"),
}
STATISTICS = (
    "mean",
    "sd",
    "se",
    "ci_lower",
    "ci_upper",
    "median",
    "q1",
    "q3",
    "minimum",
    "maximum",
)
assert set(NEEDS) == set(DISPERSIONS)

#: A rule: (rows where it is broken, the field to blame, the message with {field} holes).
Rule = tuple[np.ndarray, str, str]


class _Rows:
    """The rows of one sheet as arrays: numbers as floats (NaN blank), choices as text;
    from their ``columns`` (field -> the rows' values, None blank)."""

    def __init__(self, columns: Mapping[str, Sequence[str | None]], size: int) -> None:
        self.size = size
        self.text = {n: np.array([v or "" for v in c], dtype=object) for n, c in columns.items()}
        self.x = {n: np.array([_float(v) for v in c], dtype=float) for n, c in columns.items()}

    def has(self, name: str) -> np.ndarray:
        return self.text[name] != ""

    def no(self, name: str) -> np.ndarray:
        return self.text[name] == ""

    def any_of(self, names: Sequence[str]) -> np.ndarray:
        return np.any([self.has(n) for n in names], axis=0) if names else np.zeros(self.size, bool)


def _float(text: str | None) -> float:
    try:
        return float(text) if text else np.nan
    except ValueError:
        return np.nan


def _continuous(r: _Rows) -> list[Rule]:
    x, disp = r.x, r.text["dispersion"]
    spread = ("sd", "se", "ci_lower", "ci_upper", "q1", "q3", "minimum", "maximum")
    centre = r.has("mean") | r.has("median")
    blank = r.no("dispersion")
    rules: list[Rule] = [
        (
            blank & r.has("mean") & ~r.any_of(spread),
            "mean",
            "a mean needs its dispersion: fill its SD, SE or CI and choose the dispersion type",
        ),
        (
            blank & ~(r.has("mean") & ~r.any_of(spread)) & r.any_of(STATISTICS),
            "dispersion",
            "choose the dispersion type (" + ", ".join(DISPERSIONS) + ") of the values given",
        ),
    ]
    for kind, needed in NEEDS.items():
        chosen = disp == kind
        for name in needed:
            rules.append((chosen & r.no(name), name, f"dispersion {kind!r} needs {name}"))
        for name in STATISTICS:
            if name not in needed:
                rules.append(
                    (
                        chosen & r.has(name),
                        name,
                        f"{name} is given, but the dispersion is {kind!r}, which uses "
                        f"{', '.join(needed)}",
                    )
                )
    return [
        *rules,
        (x["sd"] <= 0, "sd", "an SD must be > 0, got {sd}"),
        (x["se"] <= 0, "se", "an SE must be > 0, got {se}"),
        (
            x["ci_lower"] >= x["ci_upper"],
            "ci_upper",
            "the CI's upper limit ({ci_upper}) must exceed its lower limit ({ci_lower})",
        ),
        (
            (x["mean"] < x["ci_lower"]) | (x["mean"] > x["ci_upper"]),
            "mean",
            "the mean ({mean}) lies outside its CI ({ci_lower} to {ci_upper})",
        ),
        (x["q1"] > x["q3"], "q3", "q3 ({q3}) is below q1 ({q1})"),
        (
            (x["median"] < x["q1"]) | (x["median"] > x["q3"]),
            "median",
            "the median ({median}) lies outside its IQR ({q1} to {q3})",
        ),
        (
            x["minimum"] > x["maximum"],
            "maximum",
            "the maximum ({maximum}) is below the minimum ({minimum})",
        ),
        (
            (x["median"] < x["minimum"]) | (x["median"] > x["maximum"]),
            "median",
            "the median ({median}) lies outside its range ({minimum} to {maximum})",
        ),
        (
            (x["q1"] < x["minimum"]) | (x["q3"] > x["maximum"]),
            "q1",
            "the IQR ({q1} to {q3}) reaches outside the range ({minimum} to {maximum})",
        ),
        (
            x["n_analysed"] > x["n_randomised"],
            "n_analysed",
            "n_analysed ({n_analysed}) is larger than n_randomised ({n_randomised})",
        ),
        (
            centre & r.no("n_analysed") & r.no("n_randomised"),
            "n_analysed",
            "the arm's data need n_analysed (or at least n_randomised)",
        ),
        (
            centre & r.no("value_type"),
            "value_type",
            "choose the value type: final value or change from baseline",
        ),
    ]


def _binary(r: _Rows) -> list[Rule]:
    x = r.x
    return [
        (r.has("events") & r.no("total"), "total", "events need the total analysed"),
        (x["events"] > x["total"], "events", "events ({events}) exceed the total ({total})"),
        (
            x["total"] > x["n_randomised"],
            "total",
            "the total analysed ({total}) is larger than n_randomised ({n_randomised})",
        ),
        (r.has("events") & (x["total"] < 1), "total", "the total must be at least 1"),
    ]


def _interval(r: _Rows, centre: str, what: str) -> list[Rule]:
    x = r.x
    return [
        (
            x["ci_lower"] >= x["ci_upper"],
            "ci_upper",
            "the CI's upper limit ({ci_upper}) must exceed its lower limit ({ci_lower})",
        ),
        (
            (x[centre] < x["ci_lower"]) | (x[centre] > x["ci_upper"]),
            centre,
            f"the {what} ({{{centre}}}) lies outside its CI ({{ci_lower}} to {{ci_upper}})",
        ),
        (
            r.has(centre) & (r.has("ci_lower") ^ r.has("ci_upper")),
            "ci_lower",
            "a CI needs both limits",
        ),
        (r.no(centre) & r.any_of(("ci_lower", "ci_upper")), centre, f"a CI needs its {what}"),
    ]


def _time_to_event(r: _Rows) -> list[Rule]:
    x = r.x
    return [
        *_interval(r, "hr", "hazard ratio"),
        (x["hr"] <= 0, "hr", "a hazard ratio must be > 0, got {hr}"),
        (x["ci_lower"] <= 0, "ci_lower", "a hazard ratio's CI limits must be > 0"),
        (
            r.has("hr") & r.no("ci_lower") & r.no("ci_upper"),
            "ci_lower",
            "the hazard ratio needs its CI",
        ),
        (r.has("o_minus_e") & r.no("variance"), "variance", "O - E needs its variance"),
        (r.has("variance") & r.no("o_minus_e"), "o_minus_e", "a variance needs its O - E"),
        (x["variance"] <= 0, "variance", "the variance must be > 0, got {variance}"),
    ]


def _generic(r: _Rows) -> list[Rule]:
    x = r.x
    return [
        *_interval(r, "estimate", "estimate"),
        (
            r.has("estimate") & r.no("se") & r.no("ci_lower") & r.no("ci_upper"),
            "se",
            "the estimate needs its SE or CI",
        ),
        (r.has("se") & r.no("estimate"), "estimate", "an SE needs its estimate"),
        (x["se"] <= 0, "se", "an SE must be > 0, got {se}"),
    ]


_RULES: Mapping[str, Callable[[_Rows], list[Rule]]] = {
    "continuous": _continuous,
    "binary": _binary,
    "time-to-event": _time_to_event,
    "generic": _generic,
}


class _Holes(dict):  # type: ignore[type-arg]
    def __missing__(self, key: str) -> str:
        return "blank"


def row_problems(
    data: str, names: Sequence[str], rows: Sequence[Mapping[str, str | None]]
) -> list[tuple[int, str, str]]:
    """Every broken rule in ``rows`` (canonical values by field): ``(row index, field,
    message)``, in row order.  ``written`` values fill the message where given."""
    columns = {n: [r.get(n) for r in rows] for n in names}
    return _problems(data, _Rows(columns, len(rows)), lambda index: rows[index].items())


def column_problems(
    data: str, columns: Mapping[str, Sequence[str | None]]
) -> list[tuple[int, str, str]]:
    """:func:`row_problems` of rows given column by column (field -> every row's value,
    None blank; all of one length), so no dict is built per row."""
    size = len(next(iter(columns.values()), []))
    return _problems(
        data, _Rows(columns, size), lambda index: ((n, c[index]) for n, c in columns.items())
    )


def _problems(
    data: str, table: _Rows, row: Callable[[int], Iterable[tuple[str, str | None]]]
) -> list[tuple[int, str, str]]:
    """The broken rules of ``table``, their messages filled from ``row(index)``'s values."""
    if not table.size:
        return []
    found = []
    for broken, name, message in _RULES[data](table):
        for index in np.flatnonzero(broken):
            holes = _Holes({k: v for k, v in row(int(index)) if v is not None})
            found.append((int(index), name, message.format_map(holes)))
    found.sort(key=lambda item: item[0])
    return found
