"""What a form holds: its sheets, their rows (study x arm x time point) and fields.

A form is generic: an *assessment* (data extraction now, risk of bias later)
of items per study, per study x outcome, or per study x outcome x arm x time
point, by one reviewer.  Every item is named by an :class:`ItemKey`: the study,
the scope (the outcome, or "" for the study itself), the arm (or comparison),
the time point and the field.  A sheet is *wide* (a row per study x arm x time
point, a column per field: outcome data) or *long* (a row per study x field:
study characteristics, or risk-of-bias judgements).

The outcome fields follow the Cochrane Handbook (version 6.4), chapter 6:
continuous data per arm as a mean with its SD, SE or CI, or a median with
its IQR and/or range (6.5.2); dichotomous data as events and total (6.4);
time-to-event data as a hazard ratio with its CI or as O - E and V (6.8);
and a generic estimate with its SE or CI (6.3).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from srma.review.extract.studies import Studies, Study
from srma.review.extract.vocabulary import PER_ARM
from srma.review.protocol import Outcome, Protocol


class ItemKey(NamedTuple):
    """Which item a value is: study id, scope (outcome or ""), arm, time point, field."""

    study: int
    scope: str
    arm: str
    time: str
    field: str


class RowKey(NamedTuple):
    """Which row of a wide sheet: study id, arm (or comparison), time point."""

    study: int
    arm: str
    time: str


@dataclass(frozen=True)
class FieldSpec:
    """One field: ``kind`` is number, count (a whole number >= 0), choice, text, date or
    yes/no; ``unit`` for numbers; ``help`` for the header's note."""

    name: str
    kind: str
    choices: tuple[str, ...] = ()
    unit: str = ""
    required: bool = False
    help: str = ""


NUMBER_KINDS = ("number", "count")
#: How a continuous arm's spread is reported.
DISPERSIONS = ("SD", "SE", "95% CI", "90% CI", "99% CI", "IQR", "range", "IQR and range")
VALUE_TYPES = ("final value", "change from baseline")
CI_LEVELS = ("95%", "90%", "99%")
YES_NO = ("yes", "no")


def _n(name: str, help: str) -> FieldSpec:
    return FieldSpec(name, "count", help=help)


def _x(name: str, help: str) -> FieldSpec:
    return FieldSpec(name, "number", help=help)


#: The fields of each data type, in the order of the sheet's columns.
DATA_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "continuous": (
        _n("n_randomised", "participants randomised to the arm"),
        _n("n_analysed", "participants analysed for this outcome (must not exceed n_randomised)"),
        FieldSpec("value_type", "choice", VALUE_TYPES, help="final value or change from baseline"),
        FieldSpec(
            "dispersion",
            "choice",
            DISPERSIONS,
            help="what the spread is: SD, SE or a CI of the mean (fill mean and it), "
            "or IQR and/or range of the median (fill median and them)",
        ),
        _x("mean", "the arm's mean"),
        _x("sd", "standard deviation (dispersion SD)"),
        _x("se", "standard error of the mean (dispersion SE)"),
        _x("ci_lower", "lower limit of the mean's CI (dispersion 95%, 90% or 99% CI)"),
        _x("ci_upper", "upper limit of the mean's CI"),
        _x("median", "the arm's median (dispersion IQR, range, IQR and range)"),
        _x("q1", "first quartile (dispersion IQR)"),
        _x("q3", "third quartile (dispersion IQR)"),
        _x("minimum", "smallest value (dispersion range)"),
        _x("maximum", "largest value (dispersion range)"),
    ),
    "binary": (
        _n("n_randomised", "participants randomised to the arm"),
        _n("total", "participants analysed (the denominator; must not exceed n_randomised)"),
        _n("events", "participants with the event (at most total)"),
    ),
    "time-to-event": (
        _x("hr", "hazard ratio (experimental vs comparator) with its CI"),
        _x("ci_lower", "lower limit of the HR's CI"),
        _x("ci_upper", "upper limit of the HR's CI"),
        FieldSpec("ci_level", "choice", CI_LEVELS, help="level of the CI (blank: 95%)"),
        _x("o_minus_e", "observed minus expected events (log-rank), with its variance"),
        _x("variance", "variance V of O - E"),
    ),
    "generic": (
        _x("estimate", "the comparison's estimate, on the scale it is analysed on"),
        _x("se", "its standard error"),
        _x("ci_lower", "lower limit of its CI"),
        _x("ci_upper", "upper limit of its CI"),
        FieldSpec("ci_level", "choice", CI_LEVELS, help="level of the CI (blank: 95%)"),
    ),
}

#: Columns that every data row carries after its fields: where its values came from.
PROVENANCE = ("source", "digitised", "comment")


@dataclass(frozen=True)
class SheetSpec:
    """A sheet of a form: its scope (outcome name; "" for the study itself), layout
    (``wide`` or ``long``), data type (row checks; None for long sheets), fields and rows.

    Wide rows are :class:`RowKey`; long rows are ``(study, field name)``.
    """

    scope: str
    layout: str
    data: str | None
    fields: tuple[FieldSpec, ...]
    rows: tuple[RowKey, ...] = ()
    long_rows: tuple[tuple[int, str], ...] = ()

    def field(self, name: str) -> FieldSpec | None:
        return next((f for f in self.fields if f.name == name), None)


@dataclass(frozen=True)
class FormSpec:
    """A whole form: the assessment it belongs to, its sheets, the studies of the review
    and the ids of those the form covers (in label order)."""

    assessment: str
    sheets: tuple[SheetSpec, ...]
    studies: Studies
    ids: tuple[int, ...]

    def sheet(self, scope: str) -> SheetSpec | None:
        return next((s for s in self.sheets if s.scope == scope), None)


def characteristic_fields(protocol: Protocol) -> tuple[FieldSpec, ...]:
    """The protocol's ``[[extraction.fields]]`` as form fields."""
    return tuple(
        FieldSpec(f.name, f.type, f.choices, f.unit, f.required) for f in protocol.extraction.fields
    )


def outcome_rows(outcome: Outcome, study: Study) -> list[RowKey]:
    """The rows of ``study`` for ``outcome``: per arm (continuous, binary) or per
    comparison (time-to-event, generic), at every time point."""
    if outcome.data in PER_ARM:
        arms = [a.name for a in study.arms_in(outcome.arms)]
    else:
        arms = list(study.comparisons(outcome.arms))
    return [RowKey(study.id, arm, time) for time in outcome.time_points for arm in arms]


def extraction_form(
    protocol: Protocol, studies: Studies, *, only: Sequence[int] | None = None
) -> FormSpec:
    """The extraction form of ``studies`` (or of the studies ``only`` names)."""
    chosen = [s for s in studies if only is None or s.id in only]
    characteristics = characteristic_fields(protocol)
    sheets = [
        SheetSpec(
            "",
            "long",
            None,
            characteristics,
            long_rows=tuple((s.id, f.name) for s in chosen for f in characteristics),
        )
    ]
    for outcome in protocol.outcomes:
        if outcome.data is None:
            continue
        rows = tuple(row for s in chosen for row in outcome_rows(outcome, s))
        sheets.append(
            SheetSpec(outcome.name, "wide", outcome.data, DATA_FIELDS[outcome.data], rows)
        )
    return FormSpec("extraction", tuple(sheets), studies, tuple(s.id for s in chosen))
