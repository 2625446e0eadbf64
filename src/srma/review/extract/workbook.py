"""XLSX forms (openpyxl): written for one reviewer, read back with every problem named.

A form workbook has

* ``studies``: a row per study (id, label, records, arms) and its ``submitted``
  cell (yes/no): a reviewer submits a study by setting it to yes;
* ``characteristics``: a row per study x characteristic (field, unit, value);
* a sheet per outcome: a row per study x arm (or comparison) x time point, a
  column per field;
* every data row ends in ``source`` (page, table, figure), ``digitised`` (yes
  when read off a figure) and ``comment``;
* two hidden sheets: ``srma`` (the project's identity, the reviewer, the
  assessment, whether it is a consensus form, which sheet is which outcome)
  and ``lists`` (the choices behind the drop-down lists).

Choices have drop-down lists and numbers Excel's own checks; everything is
checked again on import (:func:`read_workbook`).  Text is written as text
cells, never formulas, with Excel's quote prefix where it begins like one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from openpyxl.utils import get_column_letter

from srma.review.extract.forms import (
    NUMBER_KINDS,
    PROVENANCE,
    YES_NO,
    FieldSpec,
    FormSpec,
    ItemKey,
    RowKey,
    SheetSpec,
)
from srma.review.extract.reading import FormError, ReadForm, file_hash
from srma.review.extract.studies import VERSUS, Studies
from srma.review.extract.values import (
    Entry,
    Problem,
    clean_text,
    is_blank,
    parse_value,
    parse_yes_no,
)
from srma.text_safety import FORMULA_TRIGGERS

if TYPE_CHECKING:
    from openpyxl.worksheet.worksheet import Worksheet

FORMAT = "srma assessment form"
VERSION = "1"
STUDIES, CHARACTERISTICS, META, LISTS = "studies", "characteristics", "srma", "lists"
STUDY_COLUMNS = ("study_id", "study", "records", "arms", "submitted")
LONG_COLUMNS = ("study_id", "study", "field", "unit", "value", *PROVENANCE)
WIDE_KEYS = ("study_id", "study", "arm", "group", "time_point")
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")
SUBMITTED_NOTE = (
    "yes once your extraction of the study is complete: the other extractor's values become "
    "visible to you once they submit too, and a submission cannot be taken back"
)


def sheet_titles(form: FormSpec) -> dict[str, str]:
    """Each sheet's title by scope: ``characteristics`` for the study itself, else the
    outcome's name made a valid, unique sheet title (31 characters, no ``[]:*?/\\``)."""
    titles: dict[str, str] = {}
    taken = {STUDIES, META, LISTS, CHARACTERISTICS}
    for sheet in form.sheets:
        if sheet.scope == "":
            titles[""] = CHARACTERISTICS
            continue
        base = " ".join(_BAD_TITLE.sub(" ", sheet.scope).split()).strip("'")[:31] or "outcome"
        title, number = base, 1
        while title.lower() in taken:
            number += 1
            title = f"{base[: 31 - len(str(number)) - 3]} ({number})"
        taken.add(title.lower())
        titles[sheet.scope] = title
    return titles


def wide_columns(sheet: SheetSpec) -> tuple[str, ...]:
    return (*WIDE_KEYS, *(f.name for f in sheet.fields), *PROVENANCE)


# --- writing ------------------------------------------------------------------------------


def _text(value: str) -> str:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub(" ", value)


def put_cell(sheet: Worksheet, row: int, column: int, value: object) -> None:
    """Write one cell: text as a text cell (quote prefix where it looks like a formula)."""
    if value is None or value == "":
        return
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, str):
        cell.value = _text(value)
        cell.data_type = "s"
        if value.startswith(FORMULA_TRIGGERS):
            cell.quotePrefix = True
    else:
        cell.value = value


def _cell_value(field: FieldSpec, entry: Entry | None) -> object:
    """What a cell shows of ``entry``: numbers as numbers (at the precision written)."""
    if entry is None or entry.value is None:
        return None
    if field.kind in NUMBER_KINDS:
        written = entry.written or entry.value
        number = float(written)
        return int(number) if number.is_integer() and "." not in written else number
    return entry.value


def _decimals(entry: Entry | None) -> int:
    written = (entry.written or "") if entry is not None else ""
    if "." not in written or "e" in written.lower():
        return 0
    return len(written.split(".", 1)[1])


def write_header(sheet: Worksheet, columns: Sequence[str], notes: Mapping[str, str]) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    for number, name in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=number, value=name)
        cell.font, cell.fill = bold, fill
        if notes.get(name):
            cell.comment = Comment(notes[name], "srma")
        sheet.column_dimensions[cell.column_letter].width = max(10, min(40, len(name) + 4))
    sheet.freeze_panes = "C2"


class ChoiceLists:
    """The hidden sheet holding each list of choices, one per column."""

    def __init__(self, book: Any) -> None:
        self.sheet = book.create_sheet(LISTS)
        self.sheet.sheet_state = "hidden"
        self.where: dict[tuple[str, ...], str] = {}

    def of(self, choices: Sequence[str]) -> str:
        from openpyxl.utils import get_column_letter

        key = tuple(choices)
        if key not in self.where:
            column = len(self.where) + 1
            for row, choice in enumerate(choices, start=1):
                put_cell(self.sheet, row, column, choice)
            letter = get_column_letter(column)
            self.where[key] = f"{LISTS}!${letter}$1:${letter}${len(choices)}"
        return self.where[key]


def add_validation(sheet: Worksheet, field: FieldSpec, cells: str, lists: ChoiceLists) -> None:
    """Excel's own check on the cells of ``field`` (a drop-down list for choices)."""
    from openpyxl.worksheet.cell_range import MultiCellRange
    from openpyxl.worksheet.datavalidation import DataValidation

    if not cells:
        return
    if field.kind == "choice" or field.kind == "yes/no":
        choices = field.choices or YES_NO
        rule = DataValidation(
            type="list",
            formula1=f"={lists.of(choices)}",
            allow_blank=True,
            error=f"choose one of: {', '.join(choices)}",
        )
    elif field.kind == "count":
        rule = DataValidation(
            type="whole",
            operator="greaterThanOrEqual",
            formula1="0",
            allow_blank=True,
            error="a whole number >= 0",
        )
    elif field.kind == "number":
        unit = f" in {field.unit}" if field.unit else ""
        rule = DataValidation(
            type="decimal",
            operator="between",
            formula1="-1E+300",
            formula2="1E+300",
            allow_blank=True,
            error=f"a number{unit}",
        )
    else:
        return
    rule.showErrorMessage = True
    rule.sqref = MultiCellRange(cells)
    sheet.add_data_validation(rule)


def column_range(letter: str, rows: int) -> str:
    return f"{letter}2:{letter}{rows + 1}" if rows else ""


_YES_NO = FieldSpec("digitised", "yes/no")


def write_studies_sheet(
    book: Any,
    studies: Studies,
    ids: Sequence[int],
    submitted: Iterable[int],
    lists: ChoiceLists,
    *,
    consensus: bool,
    submitted_note: str = SUBMITTED_NOTE,
) -> None:
    """The ``studies`` sheet: a row per study and its ``submitted`` cell (yes/no)."""
    sheet = book.active
    sheet.title = STUDIES
    write_header(
        sheet,
        STUDY_COLUMNS,
        {
            "submitted": submitted_note,
            "arms": "the study's arms and their groups (srma extract arms changes them)",
        },
    )
    done = set(submitted)
    for row, study_id in enumerate(ids, start=2):
        study = studies.by_id[study_id]
        arms = "; ".join(f"{a.name} ({a.group})" for a in study.arms)
        values = (
            study.id,
            study.label,
            ", ".join(map(str, study.records)),
            arms,
            "yes" if consensus or study.id in done else "no",
        )
        for column, value in enumerate(values, start=1):
            put_cell(sheet, row, column, value)
    add_validation(sheet, FieldSpec("submitted", "yes/no"), column_range("E", len(ids)), lists)


def mark_cell(cell: Any, note: str) -> None:
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    cell.fill = PatternFill("solid", fgColor="FFF2CC")
    cell.comment = Comment(note, "srma")


def write_form(
    path: Path,
    form: FormSpec,
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
    form, the reconciled ones, and ``disagreements`` marked in yellow with each
    reviewer's value in the cell's note)."""
    from openpyxl import Workbook

    book = Workbook()
    lists = ChoiceLists(book)
    write_studies_sheet(book, form.studies, form.ids, submitted, lists, consensus=consensus)
    titles = sheet_titles(form)
    marked = disagreements or {}
    for spec in form.sheets:
        sheet = book.create_sheet(titles[spec.scope])
        if spec.layout == "long":
            write_header(
                sheet,
                LONG_COLUMNS,
                {
                    "unit": "values are written in this unit",
                    "digitised": "yes when read off a figure",
                },
            )
            cells: dict[str, list[str]] = {}
            for row, (study_id, name) in enumerate(spec.long_rows, start=2):
                field = spec.field(name)
                assert field is not None
                key = ItemKey(study_id, "", "", "", name)
                entry = values.get(key)
                label = form.studies.by_id[study_id].label
                for column, value in enumerate(
                    (
                        study_id,
                        label,
                        name,
                        field.unit,
                        _cell_value(field, entry),
                        entry.source if entry else "",
                        "yes" if entry and entry.digitised else "",
                        entry.comment if entry else "",
                    ),
                    start=1,
                ):
                    put_cell(sheet, row, column, value)
                if key in marked:
                    mark_cell(sheet.cell(row=row, column=5), marked[key])
                cells.setdefault(name, []).append(f"E{row}")
            for field in spec.fields:
                add_validation(sheet, field, " ".join(cells.get(field.name, [])), lists)
            add_validation(sheet, _YES_NO, column_range("G", len(spec.long_rows)), lists)
            continue
        columns = wide_columns(spec)
        write_header(sheet, columns, {f.name: f.help for f in spec.fields})
        groups = {a.name: a.group for s in form.studies for a in s.arms}
        first = len(WIDE_KEYS) + 1
        for row, key in enumerate(spec.rows, start=2):
            study = form.studies.by_id[key.study]
            group = "comparison" if VERSUS in key.arm else groups.get(key.arm, "")
            group = next((a.group for a in study.arms if a.name == key.arm), group)
            for column, value in enumerate((key.study, study.label, key.arm, group, key.time), 1):
                put_cell(sheet, row, column, value)
            entry_any: Entry | None = None
            for offset, field in enumerate(spec.fields):
                item = ItemKey(key.study, spec.scope, key.arm, key.time, field.name)
                entry = values.get(item)
                value = _cell_value(field, entry)
                if value is not None:
                    entry_any = entry_any or entry
                    put_cell(sheet, row, first + offset, value)
                    places = _decimals(entry)
                    if places:
                        sheet.cell(row=row, column=first + offset).number_format = (
                            "0." + "0" * places
                        )
                if item in marked:
                    mark_cell(sheet.cell(row=row, column=first + offset), marked[item])
            if entry_any is not None:
                tail = len(columns) - len(PROVENANCE) + 1
                put_cell(sheet, row, tail, entry_any.source)
                put_cell(sheet, row, tail + 1, "yes" if entry_any.digitised else None)
                put_cell(sheet, row, tail + 2, entry_any.comment)
        for offset, field in enumerate(spec.fields):
            letter = get_column_letter(first + offset)
            add_validation(sheet, field, column_range(letter, len(spec.rows)), lists)
        add_validation(
            sheet,
            _YES_NO,
            column_range(get_column_letter(len(columns) - 1), len(spec.rows)),
            lists,
        )
    meta = book.create_sheet(META)
    meta.sheet_state = "hidden"
    rows: list[tuple[str, ...]] = [
        ("format", FORMAT),
        ("version", VERSION),
        ("assessment", form.assessment),
        ("project", project_id),
        ("title", title),
        ("reviewer", reviewer),
        ("consensus", "yes" if consensus else "no"),
        ("written", datetime.now(UTC).isoformat(timespec="seconds")),
        *(("sheet", titles[s.scope], s.scope) for s in form.sheets),
    ]
    for number, values_row in enumerate(rows, start=1):
        for column, value in enumerate(values_row, start=1):
            put_cell(meta, number, column, value)
    book.save(path)
    return path


# --- reading ------------------------------------------------------------------------------


def cell_name(row: int, column: int) -> str:
    """``F7`` for row 7, column 6."""
    return f"{get_column_letter(column)}{row}"


def cell_where(sheet: str, row: int, column: int) -> str:
    return f"sheet {sheet!r}, cell {cell_name(row, column)}"


def sheet_rows(sheet: Any) -> list[tuple[object, ...]]:
    return [tuple(r) for r in sheet.iter_rows(values_only=True)]


def check_header(
    title: str, row: Sequence[object], expected: Sequence[str], problems: list[Problem]
) -> bool:
    found = list(row) + [None] * max(0, len(expected) - len(row))
    ok = True
    for column, name in enumerate(expected, start=1):
        value = found[column - 1]
        if (str(value).strip() if value is not None else "") != name:
            problems.append(
                Problem(
                    cell_where(title, 1, column),
                    f"expected the header {name!r}, found {value!r} (headers "
                    "must stay as srma wrote them)",
                )
            )
            ok = False
    for column in range(len(expected) + 1, len(found) + 1):
        if not is_blank(found[column - 1]):
            problems.append(
                Problem(cell_where(title, 1, column), f"unexpected column {found[column - 1]!r}")
            )
            ok = False
    return ok


def read_meta(
    book: Any, problems: list[Problem], *, command: str = "srma extract form"
) -> dict[str, object]:
    """The hidden ``srma`` sheet's settings (format, version, assessment, project, reviewer,
    consensus, and ``sheets``: title -> scope); ``command`` is what writes such forms."""
    if META not in book.sheetnames:
        problems.append(
            Problem(
                "",
                f"this workbook was not written by `{command}` "
                "(it has no 'srma' sheet); write one with it",
            )
        )
        return {}
    found: dict[str, object] = {"sheets": {}}
    for row in sheet_rows(book[META]):
        if not row or row[0] is None:
            continue
        if row[0] == "sheet" and len(row) >= 3:
            found["sheets"][str(row[1])] = "" if row[2] is None else str(row[2])  # type: ignore[index]
        elif len(row) >= 2:
            found[str(row[0])] = "" if row[1] is None else str(row[1])
    if found.get("format") != FORMAT:
        problems.append(Problem("sheet 'srma'", f"this workbook was not written by `{command}`"))
    elif found.get("version") != VERSION:
        problems.append(
            Problem(
                "sheet 'srma'",
                f"a form of layout version {found.get('version')!r}; this srma reads version "
                f"{VERSION}: write a fresh form with `{command}`",
            )
        )
    return found


def row_study(
    studies: Studies, title: str, row: int, values: Sequence[object], problems: list[Problem]
) -> int | None:
    """The study a row names (study_id, with the label as check), or None with a problem."""
    raw, label = values[0], values[1] if len(values) > 1 else None
    number = raw if isinstance(raw, int) and not isinstance(raw, bool) else None
    if isinstance(raw, float) and raw.is_integer():
        number = int(raw)
    if isinstance(raw, str) and raw.strip().isdigit():
        number = int(raw.strip())
    study = studies.get(number) if number is not None else None
    if study is None:
        problems.append(
            Problem(
                cell_where(title, row, 1),
                f"unknown study id {raw!r} (rows are matched by study_id; "
                "write a fresh form if studies changed)",
            )
        )
        return None
    if str(label or "").strip() != study.label:
        problems.append(
            Problem(
                cell_where(title, row, 2),
                f"study {study.id} is labelled {study.label!r}, not {label!r} "
                "(labels must stay as srma wrote them)",
            )
        )
        return None
    return study.id


def _provenance(
    title: str, row: int, values: Sequence[object], start: int, problems: list[Problem]
) -> tuple[str, bool, str]:
    source, digitised, comment = (list(values[start : start + 3]) + [None] * 3)[:3]
    try:
        flag = parse_yes_no(digitised, name="digitised")
    except ValueError as error:
        problems.append(Problem(cell_where(title, row, start + 2), str(error)))
        flag = False
    text = [clean_text(v) if not is_blank(v) else "" for v in (source, comment)]
    return text[0], flag, text[1]


#: The provenance of a blank cell: none (a row's source and comment belong to its values).
_NONE = ("", False, "")


def _read_long(
    title: str,
    spec: SheetSpec,
    rows: list[tuple[object, ...]],
    studies: Studies,
    problems: list[Problem],
    entries: list[Entry],
) -> None:
    expected = set(spec.long_rows)
    seen: dict[tuple[int, str], int] = {}
    for number, values in enumerate(rows[1:], start=2):
        values = tuple(values) + (None,) * (len(LONG_COLUMNS) - len(values))
        if all(is_blank(v) for v in values):
            continue
        study = row_study(studies, title, number, values, problems)
        if study is None:
            continue
        name = str(values[2] or "").strip()
        field = spec.field(name)
        if field is None or (study, name) not in expected:
            known = ", ".join(f.name for f in spec.fields)
            problems.append(
                Problem(
                    cell_where(title, number, 3),
                    f"unknown field {name!r}; the protocol's are: {known}",
                )
            )
            continue
        if (study, name) in seen:
            problems.append(
                Problem(
                    cell_where(title, number, 3),
                    f"repeats row {seen[(study, name)]} (same study and field)",
                )
            )
            continue
        seen[(study, name)] = number
        unit = str(values[3] or "").strip()
        if unit != field.unit:
            problems.append(
                Problem(
                    cell_where(title, number, 4),
                    f"the unit of {name!r} is {field.unit!r} (from the "
                    f"protocol), found {unit!r}; give the value in "
                    f"{field.unit or 'no unit'}",
                )
            )
            continue
        try:
            value, written = parse_value(field, values[4])
        except ValueError as error:
            problems.append(Problem(cell_where(title, number, 5), str(error)))
            continue
        source, digitised, comment = _provenance(title, number, values, 5, problems)
        entries.append(
            Entry(
                ItemKey(study, "", "", "", name),
                value,
                written,
                *(_NONE if value is None else (source, digitised, comment)),
                title,
                cell_name(number, 5),
            )
        )


def _read_wide(
    title: str,
    spec: SheetSpec,
    rows: list[tuple[object, ...]],
    studies: Studies,
    problems: list[Problem],
    entries: list[Entry],
    bad: set[tuple[int, str, str, str]],
) -> None:
    columns = wide_columns(spec)
    arms: dict[int, set[str]] = {}
    times: set[str] = set()
    for key in spec.rows:
        arms.setdefault(key.study, set()).add(key.arm)
        times.add(key.time)
    expected = set(spec.rows)
    seen: dict[RowKey, int] = {}
    first = len(WIDE_KEYS)
    for number, values in enumerate(rows[1:], start=2):
        values = tuple(values) + (None,) * (len(columns) - len(values))
        if is_blank(values[0]) and all(is_blank(v) for v in values):
            continue
        study = row_study(studies, title, number, values, problems)
        if study is None:
            continue
        arm = " ".join(str(values[2] or "").split())
        time = " ".join(str(values[4] or "").split())
        key = RowKey(study, arm, time)
        if key not in expected:
            if arm not in arms.get(study, set()):
                known = ", ".join(sorted(arms.get(study, set()))) or "none"
                problems.append(
                    Problem(
                        cell_where(title, number, 3),
                        f"{studies.by_id[study].label} has no arm {arm!r} for "
                        f"this outcome (its arms: {known}; srma extract arms "
                        "names them)",
                    )
                )
            else:
                problems.append(
                    Problem(
                        cell_where(title, number, 5),
                        f"unknown time point {time!r}; the protocol's are: "
                        f"{', '.join(sorted(times))}",
                    )
                )
            continue
        if key in seen:
            problems.append(
                Problem(
                    cell_where(title, number, 1),
                    f"repeats row {seen[key]} (same study, arm and time point)",
                )
            )
            continue
        seen[key] = number
        source, digitised, comment = _provenance(
            title, number, values, first + len(spec.fields), problems
        )
        for offset, field in enumerate(spec.fields):
            column = first + offset + 1
            try:
                value, written = parse_value(field, values[column - 1])
            except ValueError as error:
                problems.append(Problem(cell_where(title, number, column), str(error)))
                bad.add((study, spec.scope, arm, time))
                continue
            entries.append(
                Entry(
                    ItemKey(study, spec.scope, arm, time, field.name),
                    value,
                    written,
                    *(_NONE if value is None else (source, digitised, comment)),
                    title,
                    cell_name(number, column),
                )
            )


def read_studies(
    book: Any, studies: Studies, problems: list[Problem], *, consensus: bool
) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    if STUDIES not in book.sheetnames:
        problems.append(Problem("", "the workbook has no 'studies' sheet"))
        return [], []
    rows = sheet_rows(book[STUDIES])
    if not rows or not check_header(STUDIES, rows[0], STUDY_COLUMNS, problems) or consensus:
        return [], []
    yes, no = [], []
    for number, values in enumerate(rows[1:], start=2):
        values = tuple(values) + (None,) * (len(STUDY_COLUMNS) - len(values))
        if all(is_blank(v) for v in values):
            continue
        study = row_study(studies, STUDIES, number, values, problems)
        if study is None:
            continue
        try:
            flag = parse_yes_no(values[4], name="submitted")
        except ValueError as error:
            problems.append(Problem(cell_where(STUDIES, number, 5), str(error)))
            continue
        (yes if flag else no).append((study, cell_where(STUDIES, number, 5)))
    return yes, no


def read_workbook(
    path: Path,
    form: FormSpec,
    *,
    project_id: str,
    reviewer: str,
    consensus: bool = False,
) -> ReadForm:
    """Read a form workbook of this project and ``reviewer`` (a consensus form when
    ``consensus``); raise :class:`FormError` with every problem found."""
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
        meta = read_meta(book, problems)
        if problems:
            raise FormError(name, problems)
        if meta.get("project") != project_id:
            problems.append(
                Problem(
                    "sheet 'srma'",
                    f"this workbook belongs to another project "
                    f"({meta.get('title')!r}); write a form for this one with "
                    "`srma extract form`",
                )
            )
        if meta.get("assessment") != form.assessment:
            problems.append(
                Problem(
                    "sheet 'srma'",
                    f"this form is for {meta.get('assessment')}, not for {form.assessment}",
                )
            )
        owner = str(meta.get("reviewer", ""))
        if owner.lower() != reviewer.lower():
            problems.append(
                Problem(
                    "sheet 'srma'",
                    f"this workbook is {owner}'s form; a "
                    f"reviewer imports only their own ({reviewer} was given)",
                )
            )
        marked = meta.get("consensus") == "yes"
        if marked != consensus:
            problems.append(
                Problem(
                    "sheet 'srma'",
                    "a consensus workbook: import it with --consensus"
                    if marked
                    else "not a consensus workbook (written without --consensus)",
                )
            )
        if problems:
            raise FormError(name, problems)
        submitted, not_submitted = read_studies(book, form.studies, problems, consensus=consensus)
        entries: list[Entry] = []
        bad: set[tuple[int, str, str, str]] = set()
        scopes: Mapping[str, str] = meta.get("sheets", {})  # type: ignore[assignment]
        for title, scope in scopes.items():
            spec = form.sheet(scope)
            if spec is None:
                problems.append(
                    Problem(f"sheet {title!r}", f"the protocol has no outcome {scope!r} (any more)")
                )
                continue
            if title not in book.sheetnames:
                continue  # a sheet removed changes nothing
            rows = sheet_rows(book[title])
            expected = LONG_COLUMNS if spec.layout == "long" else wide_columns(spec)
            if not rows or not check_header(title, rows[0], expected, problems):
                continue
            if spec.layout == "long":
                _read_long(title, spec, rows, form.studies, problems, entries)
            else:
                _read_wide(title, spec, rows, form.studies, problems, entries, bad)
    finally:
        book.close()
    return ReadForm(
        name,
        file_hash(path),
        form.assessment,
        owner,
        consensus,
        tuple(entries),
        tuple(submitted),
        tuple(not_submitted),
        tuple(problems),
        frozenset(bad),
    )
