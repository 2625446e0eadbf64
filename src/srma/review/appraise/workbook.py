"""Risk-of-bias forms as XLSX workbooks (openpyxl): written for one assessor, read back.

A workbook has

* ``studies``: a row per study and its ``submitted`` cell (yes/no), as in data
  extraction (:mod:`srma.review.extract.workbook`, whose pieces this reuses);
* ``risk of bias``: a row per study (per study x outcome at result level):
  ``study_id``, ``study`` (and ``outcome``), then the columns of
  :mod:`srma.review.appraise.forms`, each question's cells with a drop-down
  list of its answers, each judgement's with the tool's levels; a question
  asked only after certain answers has an orange header whose note says "Only
  if ..."; srma's proposals are grey and never read;
* ``questions``: every column with its domain, the question as the source words
  it, when it is asked and the answers it takes;
* the hidden ``srma`` sheet (the project's identity, the assessor, the
  assessment ``rob``, whether it is a consensus form, the tool, effect of
  interest and level) and ``lists`` (the drop-down lists).

Everything is checked again on import (:func:`read_rob_workbook`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from srma.review.appraise.forms import ASSESSMENT, PROPOSAL, RobForm
from srma.review.appraise.rows import Cell, RobRead
from srma.review.extract.forms import FieldSpec, ItemKey
from srma.review.extract.reading import FormError, file_hash
from srma.review.extract.values import Entry, Problem, is_blank
from srma.review.extract.workbook import (
    FORMAT,
    META,
    VERSION,
    ChoiceLists,
    add_validation,
    cell_where,
    check_header,
    column_range,
    mark_cell,
    put_cell,
    read_meta,
    read_studies,
    row_study,
    sheet_rows,
    write_header,
    write_studies_sheet,
)

SHEET, QUESTIONS = "risk of bias", "questions"
COMMAND = "srma rob form"
SUBMITTED_NOTE = (
    "yes once your risk-of-bias assessment of the study is complete (every domain judged): "
    "the other assessor's answers and judgements become visible to you once they submit too, "
    "and a submission cannot be taken back"
)
_GREY, _ORANGE = "D9D9D9", "FCE4D6"


def key_columns(form: RobForm) -> tuple[str, ...]:
    """The columns that name a row: ``study_id``, ``study`` (and ``outcome``)."""
    return ("study_id", "study", "outcome") if form.level == "result" else ("study_id", "study")


def columns(form: RobForm) -> tuple[str, ...]:
    return (*key_columns(form), *(f.name for f in form.fields))


def _fill(cell: Any, colour: str) -> None:
    from openpyxl.styles import PatternFill

    cell.fill = PatternFill("solid", fgColor=colour)


def _questions_sheet(book: Any, form: RobForm) -> None:
    from openpyxl.styles import Alignment

    sheet = book.create_sheet(QUESTIONS)
    names = {d.id: d.name for d in form.domains}
    write_header(sheet, ("column", "domain", "question", "asked", "answers"), {})
    for row, field in enumerate(form.fields, start=2):
        question = field.question
        asked = "always"
        if question is not None and field.conditional:
            asked = (
                f"only {question.condition_text[:1].lower()}{question.condition_text[1:]}"
                if question.condition_text
                else "where it applies (optional)"
            )
        values = (
            field.name,
            f"{field.domain} {names.get(field.domain, 'Overall')}".strip(),
            question.text if question is not None else field.note,
            asked if question is not None else "",
            "/".join(field.choices),
        )
        for column, value in enumerate(values, start=1):
            put_cell(sheet, row, column, value)
        sheet.cell(row=row, column=3).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["C"].width = 90
    sheet.freeze_panes = "B2"


def write_rob_workbook(
    path: Path,
    form: RobForm,
    *,
    project_id: str,
    title: str,
    reviewer: str,
    values: Mapping[ItemKey, Entry],
    submitted: Iterable[int] = (),
    consensus: bool = False,
    disagreements: Mapping[ItemKey, str] | None = None,
) -> Path:
    """Write ``form`` for ``reviewer`` with ``values`` filled in (theirs; for a consensus
    form, the reconciled ones, and ``disagreements`` marked with each assessor's value in
    the cell's note)."""
    from openpyxl import Workbook

    book = Workbook()
    lists = ChoiceLists(book)
    write_studies_sheet(
        book,
        form.studies,
        form.ids,
        submitted,
        lists,
        consensus=consensus,
        submitted_note=SUBMITTED_NOTE,
    )
    sheet = book.create_sheet(SHEET)
    keys = key_columns(form)
    write_header(sheet, columns(form), {f.name: f.note for f in form.fields})
    first = len(keys) + 1
    for offset, field in enumerate(form.fields):
        head = sheet.cell(row=1, column=first + offset)
        if field.kind == PROPOSAL:
            _fill(head, _GREY)
        elif field.conditional:
            _fill(head, _ORANGE)
    marked = disagreements or {}
    for row, (study, scope) in enumerate(form.rows, start=2):
        label = form.studies.by_id[study].label
        for column, value in enumerate((study, label, scope)[: len(keys)], start=1):
            put_cell(sheet, row, column, value)
        for offset, field in enumerate(form.fields):
            key = ItemKey(study, scope, "", "", field.name)
            entry = values.get(key)
            cell = sheet.cell(row=row, column=first + offset)
            if entry is not None and entry.value is not None:
                put_cell(sheet, row, first + offset, entry.value)
            if field.kind == PROPOSAL:
                _fill(cell, _GREY)
            if key in marked:
                mark_cell(cell, marked[key])
    for offset, field in enumerate(form.fields):
        if field.choices:
            letter = get_column_letter(first + offset)
            add_validation(
                sheet,
                FieldSpec(field.name, "choice", field.choices),
                column_range(letter, len(form.rows)),
                lists,
            )
    _questions_sheet(book, form)
    meta = book.create_sheet(META)
    meta.sheet_state = "hidden"
    rows = (
        ("format", FORMAT),
        ("version", VERSION),
        ("assessment", ASSESSMENT),
        ("project", project_id),
        ("title", title),
        ("reviewer", reviewer),
        ("consensus", "yes" if consensus else "no"),
        ("written", datetime.now(UTC).isoformat(timespec="seconds")),
        ("tool", form.tool.name),
        ("effect", form.effect or ""),
        ("level", form.level),
    )
    for number, pair in enumerate(rows, start=1):
        for column, value in enumerate(pair, start=1):
            put_cell(meta, number, column, value)
    book.save(path)
    return path


def _settings_problems(
    meta: Mapping[str, object], form: RobForm, *, project_id: str, reviewer: str, consensus: bool
) -> list[Problem]:
    """Whether the workbook is this project's, assessment's, assessor's and tool's."""
    where = "sheet 'srma'"
    if meta.get("assessment") != ASSESSMENT:
        return [
            Problem(
                where,
                f"this is a form of {meta.get('assessment')!r}, not a risk-of-bias form "
                "(import it with its own command)",
            )
        ]
    problems = []
    if meta.get("project") != project_id:
        problems.append(
            Problem(
                where,
                f"this workbook belongs to another project ({meta.get('title')!r}); write a "
                f"form for this one with `{COMMAND}`",
            )
        )
    owner = str(meta.get("reviewer", ""))
    if owner.lower() != reviewer.lower():
        problems.append(
            Problem(
                where,
                f"this workbook is {owner}'s form; an assessor imports only their own "
                f"({reviewer} was given)",
            )
        )
    marked = meta.get("consensus") == "yes"
    if marked != consensus:
        problems.append(
            Problem(
                where,
                "a consensus workbook: import it with --consensus"
                if marked
                else "not a consensus workbook (written without --consensus)",
            )
        )
    written = (meta.get("tool"), meta.get("effect") or None, meta.get("level"))
    if written != (form.tool.name, form.effect, form.level):
        problems.append(
            Problem(
                where,
                f"a form for {written[0]} at {written[2]} level"
                + (f" (effect of {written[1]})" if written[1] else "")
                + f"; the protocol now says {form.tool.name} at {form.level} level"
                + (f" (effect of {form.effect})" if form.effect else "")
                + f": write a fresh form with `{COMMAND}`",
            )
        )
    return problems


def _scope(form: RobForm, raw: object) -> str | None:
    text = " ".join(str(raw or "").split())
    return next((s for s in form.scopes if s.lower() == text.lower()), None)


def _read_rows(
    form: RobForm, rows: list[tuple[object, ...]], problems: list[Problem]
) -> tuple[dict[tuple[int, str], dict[str, Cell]], int]:
    keys = key_columns(form)
    found: dict[tuple[int, str], dict[str, Cell]] = {}
    seen: dict[tuple[int, str], int] = {}
    count = 0
    width = len(columns(form))
    for number, values in enumerate(rows[1:], start=2):
        values = tuple(values) + (None,) * (width - len(values))
        if all(is_blank(v) for v in values):
            continue
        study = row_study(form.studies, SHEET, number, values, problems)
        if study is None:
            continue
        if study not in form.ids:
            problems.append(
                Problem(
                    cell_where(SHEET, number, 1),
                    f"{form.studies.by_id[study].label} is not in this form (a consensus form "
                    "holds only studies every assessor submitted)",
                )
            )
            continue
        scope = ""
        if len(keys) == 3:
            found_scope = _scope(form, values[2])
            if found_scope is None:
                problems.append(
                    Problem(
                        cell_where(SHEET, number, 3),
                        f"unknown outcome {values[2]!r}; the protocol's outcomes are: "
                        f"{', '.join(form.scopes)}",
                    )
                )
                continue
            scope = found_scope
        if (study, scope) in seen:
            problems.append(
                Problem(
                    cell_where(SHEET, number, 1),
                    f"repeats row {seen[(study, scope)]} (same study"
                    + (" and outcome)" if scope else ")"),
                )
            )
            continue
        seen[(study, scope)] = number
        cells = {}
        for offset, field in enumerate(form.fields):
            if field.kind == PROPOSAL:
                continue  # srma's, never read
            column = len(keys) + offset + 1
            cells[field.name] = Cell(
                values[column - 1],
                cell_where(SHEET, number, column),
                SHEET,
                f"{get_column_letter(column)}{number}",
            )
            count += not is_blank(values[column - 1])
        found[(study, scope)] = cells
    return found, count


def read_rob_workbook(
    path: Path, form: RobForm, *, project_id: str, reviewer: str, consensus: bool = False
) -> RobRead:
    """Read a risk-of-bias workbook of this project and ``reviewer``; raise
    :class:`~srma.review.extract.reading.FormError` listing every problem of its
    structure (its cells are checked by :func:`srma.review.appraise.rows.check_row`)."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    name = str(path)
    try:
        book = load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, KeyError, ValueError, OSError) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise FormError(name, [Problem("", f"not an XLSX workbook ({error})")]) from None
    try:
        problems: list[Problem] = []
        meta = read_meta(book, problems, command=COMMAND)
        if not problems:
            problems += _settings_problems(
                meta, form, project_id=project_id, reviewer=reviewer, consensus=consensus
            )
        if problems:
            raise FormError(name, problems)
        submitted, not_submitted = read_studies(book, form.studies, problems, consensus=consensus)
        found: dict[tuple[int, str], dict[str, Cell]] = {}
        count = 0
        if SHEET not in book.sheetnames:
            problems.append(Problem("", f"the workbook has no {SHEET!r} sheet"))
        else:
            rows = sheet_rows(book[SHEET])
            if rows and check_header(SHEET, rows[0], columns(form), problems):
                found, count = _read_rows(form, rows, problems)
    finally:
        book.close()
    return RobRead(
        name,
        file_hash(path),
        str(meta.get("reviewer", "")),
        consensus,
        found,
        tuple(submitted),
        tuple(not_submitted),
        tuple(problems),
        count,
    )
