"""A table of published pooled results, read into one :class:`PublishedRow` per row.

The columns are those of ``shared/reference/published_results.csv``; any may
be absent or empty.  Text where a number belongs, an unknown column or an
unknown measure is an :class:`~srma.errors.InputError` naming the file, the
1-based data row and the column.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from srma.analysis.audit.reported import Reported, is_missing, parse_reported
from srma.analysis.validation import column_name, shown
from srma.errors import InputError
from srma.vocabulary import MEASURE_NAMES, RATIO_MEASURES

#: Text columns: where the result comes from and what it is.
TEXT_COLUMNS = ("source", "outcome", "measure", "model", "note")
#: Counts: studies, participants, Q's degrees of freedom.
COUNT_COLUMNS = ("k", "n_total", "n_treatment", "n_control", "q_df")
#: Rounded numbers: the estimate and its interval, I² (percent) and Q.
NUMBER_COLUMNS = ("estimate", "ci_lower", "ci_upper", "i2_percent", "q")
#: p-values, which may be printed as bounds (``< 0.001``).
P_COLUMNS = ("p_value", "q_p_value", "egger_p")
#: Every column a table of published results may have.
COLUMNS = (
    "source", "outcome", "measure", "model", "k", "n_total", "n_treatment", "n_control",
    "estimate", "ci_lower", "ci_upper", "p_value", "i2_percent", "q", "q_df", "q_p_value",
    "egger_p", "note",
)  # fmt: skip


@dataclass(frozen=True)
class PublishedRow:
    """One reported pooled result; ``row`` is its 1-based data row (the header not counted)."""

    row: int
    source: str | None
    outcome: str | None
    measure: str | None
    model: str | None
    note: str | None
    numbers: dict[str, Reported]

    def get(self, column: str) -> Reported | None:
        """The reported number of ``column``, or None where the cell is empty."""
        return self.numbers.get(column)

    @property
    def ratio(self) -> bool:
        """Whether the measure is a ratio, analysed on the log scale."""
        return self.measure in RATIO_MEASURES


def _measure(cell: object, *, source: str | None, row: int) -> str | None:
    if is_missing(cell):
        return None
    text = str(cell).strip().upper()
    if text not in MEASURE_NAMES:
        raise InputError(
            f"unknown measure {shown(cell)}; expected one of {', '.join(MEASURE_NAMES)} "
            "(or an empty cell)",
            file=source,
            row=row,
            column="measure",
        )
    return text


def _text(cell: object) -> str | None:
    return None if cell is None or (isinstance(cell, float) and pd.isna(cell)) else str(cell)


def published_rows(table: pd.DataFrame, *, source: str | None = None) -> list[PublishedRow]:
    """The rows of ``table``, numbers kept as printed (text cells keep their decimals)."""
    unknown = [name for name in table.columns if str(name).strip() not in COLUMNS]
    if unknown:
        raise InputError(
            f"unknown column {column_name(unknown[0])}; the columns of a table of published "
            f"results are {', '.join(COLUMNS)}",
            file=source,
            column=str(unknown[0]),
        )
    table = table.rename(columns=lambda name: str(name).strip())
    rows = []
    for position, record in enumerate(table.to_dict(orient="records")):
        row = position + 1
        numbers: dict[str, Reported] = {}
        for column in (*COUNT_COLUMNS, *NUMBER_COLUMNS, *P_COLUMNS):
            cell = record.get(column)
            if is_missing(cell):
                continue
            try:
                numbers[column] = parse_reported(cell, bounds_allowed=column in P_COLUMNS)
            except ValueError:
                expected = "a number or a bound such as < 0.001" if column in P_COLUMNS else (
                    "a number")  # fmt: skip
                raise InputError(
                    f"expected {expected}, got {shown(cell)}", file=source, row=row, column=column
                ) from None
        rows.append(
            PublishedRow(
                row=row,
                source=_text(record.get("source")),
                outcome=_text(record.get("outcome")),
                measure=_measure(record.get("measure"), source=source, row=row),
                model=None if is_missing(record.get("model")) else str(record["model"]).strip(),
                note=_text(record.get("note")),
                numbers=numbers,
            )
        )
    return rows
