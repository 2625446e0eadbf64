"""Helpers for the extraction tests (no tests here): a project whose records are included
at full text, and filling a form workbook as a reviewer would in Excel."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from conftest import SHARED, srma

EXPORTS = SHARED / "fixtures" / "exports"
#: Normand (1999), length of stay in stroke-unit trials (srma.datasets "normand1999"): the
#: first six trials' per-arm data, used as real numbers to extract.
NORMAND = [
    (155, 55, 47, 156, 75, 64),
    (31, 27, 7, 32, 29, 4),
    (75, 64, 17, 71, 119, 29),
    (18, 66, 20, 18, 137, 48),
    (8, 14, 8, 13, 18, 11),
    (57, 19, 7, 52, 18, 4),
]


def included_project(
    folder: Path, *, reviewers: tuple[str, ...] = ("Ana", "Ben", "Cy"), protocol: str | None = None
) -> Path:
    """A project with scopus.ris's six records, each included at both stages by Ana and Ben."""
    from srma.review.project import open_project
    from srma.review.screen.decisions import decide

    srma("init", folder, "--title", "Extraction")
    if protocol is not None:
        (folder / "review.toml").write_text(protocol, encoding="utf-8")
    srma("import", folder, EXPORTS / "scopus.ris")
    srma("reviewer", folder, *(x for name in reviewers for x in ("--add", name)))
    opened = open_project(folder)
    try:
        for stage in ("title_abstract", "full_text"):
            with opened.store.transaction() as session:
                for record in range(1, 7):
                    for name in ("Ana", "Ben"):
                        decide(
                            session,
                            opened,
                            reviewer=name,
                            record_id=record,
                            stage=stage,
                            decision="include",
                        )
    finally:
        opened.close()
    return folder


def header(sheet) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Column number of each header of a sheet."""
    return {cell.value: cell.column for cell in sheet[1] if cell.value is not None}


def fill(
    path: Path,
    *,
    rows: Mapping[tuple[str, str, str, str], Mapping[str, object]] = {},
    characteristics: Mapping[tuple[str, str], object] = {},
    submitted: tuple[str, ...] = (),
    out: Path | None = None,
) -> Path:
    """Type values into a form workbook: ``rows`` by (sheet, study label, arm, time point),
    ``characteristics`` by (study label, field), and set ``submitted`` studies to yes."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    for (title, label, arm, time), values in rows.items():
        sheet = book[title]
        columns = header(sheet)
        for row in sheet.iter_rows(min_row=2):
            cells = {name: row[number - 1] for name, number in columns.items()}
            if (cells["study"].value, cells["arm"].value, cells["time_point"].value or "") == (
                label,
                arm,
                time,
            ):
                for name, value in values.items():
                    cells[name].value = value
                break
        else:
            raise AssertionError(f"no row {label}, {arm}, {time} in {title}")
    sheet = book["characteristics"]
    for (label, field), value in characteristics.items():
        row = next(
            r for r in sheet.iter_rows(min_row=2) if r[1].value == label and r[2].value == field
        )
        row[4].value = value
    sheet = book["studies"]
    for row in sheet.iter_rows(min_row=2):
        if row[1].value in submitted:
            row[4].value = "yes"
    target = out or path
    book.save(target)
    return target


def every_cell(path: Path) -> str:
    """Every cell of every sheet (hidden ones too), and every cell note, as one text."""
    from openpyxl import load_workbook

    book = load_workbook(path)
    found = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                found.append(str(cell.value))
                if cell.comment is not None:
                    found.append(cell.comment.text)
    return "\n".join(found)


def labels(project: Path) -> list[str]:
    """The studies' labels, in the order the forms list them."""
    import json

    return [s["study"] for s in json.loads(srma("extract", "status", project, "--json"))["studies"]]


def resolve_misread(project: Path) -> str:
    """Settle the example's one discrepancy: Hart 1977's 62 vaccinated cases (Ben read 26)."""
    return srma(
        "extract", "resolve", project, "--study", "Hart 1977", "--outcome", "tuberculosis",
        "--arm", "BCG", "--field", "events", "--value", "62", "--reviewer", "Cy",
    )  # fmt: skip
