"""Helpers for the risk-of-bias project tests (no tests here): RoB 2 answers that lead to
known judgements, and filling a risk-of-bias workbook as an assessor would in Excel."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

#: RoB 2 answers (effect of assignment) whose every domain the algorithm judges Low.
LOW = {
    "1.1": "Y", "1.2": "Y", "1.3": "N",
    "2.1": "N", "2.2": "N", "2.6": "Y",
    "3.1": "Y",
    "4.1": "N", "4.2": "N", "4.3": "N",
    "5.1": "Y", "5.2": "N", "5.3": "N",
}  # fmt: skip
#: Domain 5 with some concerns: no pre-specified analysis plan (5.1 N, 5.2/5.3 N).
NO_PLAN = {**LOW, "5.1": "N"}
#: Domain 1 with some concerns: concealment not reported (1.2 NI, 1.3 N).
NO_CONCEALMENT = {**LOW, "1.2": "NI"}


def header(sheet) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Column number of each header of a sheet."""
    return {cell.value: cell.column for cell in sheet[1] if cell.value is not None}


def fill(
    path: Path,
    rows: Mapping[tuple[str, str], Mapping[str, object]],
    *,
    submitted: tuple[str, ...] = (),
    out: Path | None = None,
) -> Path:
    """Type values into the ``risk of bias`` sheet by (study label, outcome; "" at study
    level) and column, and set ``submitted`` studies to yes."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    sheet = book["risk of bias"]
    columns = header(sheet)
    for (label, outcome), values in rows.items():
        for row in sheet.iter_rows(min_row=2):
            cells = {name: row[number - 1] for name, number in columns.items()}
            scope = cells["outcome"].value if "outcome" in cells else ""
            if (cells["study"].value, scope or "") == (label, outcome):
                for name, value in values.items():
                    cells[name].value = value
                break
        else:
            raise AssertionError(f"no row {label}, {outcome}")
    studies = book["studies"]
    for row in studies.iter_rows(min_row=2):
        if row[1].value in submitted:
            row[4].value = "yes"
    target = out or path
    book.save(target)
    return target
