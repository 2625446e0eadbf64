"""The long CSV risk-of-bias form, for scripts: one line per study (x outcome) and column.

Columns: ``study_id`` (optional), ``study`` (its label), ``outcome`` (blank at
study level; optional where the protocol has one outcome), ``field`` (a column
of the workbook: ``1.1``, ``D1 judgement``, ``D1 support``, ...) and
``value``.  UTF-8 only, as the extraction's long form
(:mod:`srma.review.extract.longform`).  Lines of a row that the file leaves
out keep what was stored; a blank value clears it.  ``... proposal`` lines are
srma's and never read.  The file names no assessor: ``--reviewer`` says whose
answers they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

from srma.errors import InputError
from srma.review.appraise.forms import PROPOSAL, RobForm
from srma.review.appraise.rows import Cell, RobRead
from srma.review.extract.forms import ItemKey
from srma.review.extract.longform import cell_study, decoded_text, unquoted
from srma.review.extract.reading import FormError, file_hash
from srma.review.extract.values import Entry, Problem, is_blank

COLUMNS = ("study_id", "study", "outcome", "field", "value")
REQUIRED = ("study", "field", "value")


def write_rob_longform(path: Path, form: RobForm, values: Mapping[ItemKey, Entry]) -> Path:
    """The long form of ``form`` with ``values`` filled in: a line per row and column."""
    from srma.text_safety import spreadsheet_cell

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for study, scope in form.rows:
            label = form.studies.by_id[study].label
            for field in form.fields:
                entry = values.get(ItemKey(study, scope, "", "", field.name))
                value = entry.value if entry is not None and entry.value is not None else ""
                writer.writerow(
                    [study, *(spreadsheet_cell(v) for v in (label, scope, field.name, value))]
                )
    return path


def _header(header: list[str]) -> list[Problem]:
    problems = []
    for column, title in enumerate(header):
        if title not in COLUMNS:
            problems.append(
                Problem(
                    f"line 1, column {column + 1}",
                    f"unknown column {title!r}; expected some of: {', '.join(COLUMNS)}",
                )
            )
        elif header.index(title) != column:
            problems.append(Problem(f"line 1, column {column + 1}", f"column {title!r} repeats"))
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        problems.append(Problem("line 1", f"missing column(s) {', '.join(missing)}"))
    return problems


def read_rob_longform(path: Path, form: RobForm) -> RobRead:
    """Read the long CSV form against ``form``; raise FormError listing every problem of
    its structure (the cells are checked by :func:`srma.review.appraise.rows.check_row`)."""
    name = str(path)
    reader = csv.reader(io.StringIO(decoded_text(path), newline=""))
    header = [h.strip() for h in next(reader, [])]
    problems = _header(header)
    if problems:
        raise FormError(name, problems)
    position = {title: header.index(title) for title in COLUMNS if title in header}
    rows: dict[tuple[int, str], dict[str, Cell]] = {}
    seen: dict[tuple[int, str, str], int] = {}
    count = 0
    for line, values in enumerate(reader, start=2):
        if all(is_blank(v) for v in values):
            continue
        cell = {
            t: unquoted(values[i].strip() if i < len(values) else "") for t, i in position.items()
        }

        def where(column: str, line: int = line) -> str:
            return f"line {line}, column {column!r}"

        study = cell_study(form.studies, cell, where, problems)
        if study is None:
            continue
        try:
            scope = form.scope(cell.get("outcome") or None)
        except InputError as error:
            problems.append(Problem(where("outcome"), error.reason))
            continue
        field = form.field(cell["field"])
        if field is None:
            problems.append(
                Problem(
                    where("field"),
                    f"unknown field {cell['field']!r}; expected one of: "
                    f"{', '.join(f.name for f in form.fields)}",
                )
            )
            continue
        if field.kind == PROPOSAL:
            continue  # srma's, never read
        key = (study.id, scope, field.name)
        if key in seen:
            problems.append(Problem(where("field"), f"repeats line {seen[key]}"))
            continue
        seen[key] = line
        rows.setdefault((study.id, scope), {})[field.name] = Cell(
            cell["value"], where("value"), ref=f"line {line}"
        )
        count += not is_blank(cell["value"])
    return RobRead(name, file_hash(path), None, False, rows, problems=tuple(problems), cells=count)
