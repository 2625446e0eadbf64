"""The long CSV form, for scripts: one row per study, outcome, arm, time point and field.

Columns (``study``, ``field`` and ``value`` are required; the others may be
left out): ``study_id``, ``study`` (its label), ``outcome`` (blank for a study
characteristic), ``arm`` (for time-to-event and generic outcomes the
comparison, ``"MSC vs control"``), ``time_point``, ``field``, ``value``,
``source``, ``digitised`` (yes/no), ``comment``.  The file must be UTF-8
(a byte-order mark is fine): other encodings are refused with the line of the
first byte that is not UTF-8, rather than guessed.  A row whose value is blank
clears that value; items the file does not mention keep theirs.  The long form
names no reviewer and no project: ``--reviewer`` says whose values they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Mapping
from pathlib import Path

from srma.errors import InputError
from srma.review.extract.forms import PROVENANCE, FormSpec, ItemKey, RowKey, SheetSpec
from srma.review.extract.reading import FormError, ReadForm, file_hash
from srma.review.extract.studies import Studies, Study
from srma.review.extract.values import (
    Entry,
    Problem,
    clean_text,
    is_blank,
    parse_value,
    parse_yes_no,
)

COLUMNS = ("study_id", "study", "outcome", "arm", "time_point", "field", "value", *PROVENANCE)
REQUIRED = ("study", "field", "value")


def decoded_text(path: Path) -> str:
    """A CSV file's text: UTF-8 (a byte-order mark is fine), else FormError with the line
    of the first byte that is not."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        byte = data[error.start : error.start + 1].hex()
        raise FormError(
            str(path),
            [
                Problem(
                    f"line {line}",
                    f"not UTF-8 text (byte 0x{byte}; Latin-1 or Windows-1252?): "
                    "save the CSV as UTF-8",
                )
            ],
        ) from None


def unquoted(text: str) -> str:
    """Text as written before :func:`~srma.text_safety.spreadsheet_cell` quoted it."""
    from srma.text_safety import FORMULA_TRIGGERS

    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_TRIGGERS) else text


def _scope(form: FormSpec, outcome: str) -> SheetSpec | None:
    if not outcome:
        return form.sheet("")
    exact = form.sheet(outcome)
    if exact is not None:
        return exact
    return next((s for s in form.sheets if s.scope and s.scope.lower() == outcome.lower()), None)


def read_longform(path: Path, form: FormSpec) -> ReadForm:
    """Read the long CSV form against ``form``; raise :class:`FormError` with every problem."""
    name = str(path)
    reader = csv.reader(io.StringIO(decoded_text(path), newline=""))
    header = [h.strip() for h in next(reader, [])]
    problems: list[Problem] = []
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
    if problems:
        raise FormError(name, problems)
    position = {title: header.index(title) for title in COLUMNS if title in header}
    rows = {s.scope: set(s.rows) for s in form.sheets}
    seen: dict[ItemKey, int] = {}
    entries: list[Entry] = []
    bad: set[tuple[int, str, str, str]] = set()
    for line, values in enumerate(reader, start=2):
        if all(is_blank(v) for v in values):
            continue
        cell: Mapping[str, str] = {
            t: unquoted(values[i].strip() if i < len(values) else "") for t, i in position.items()
        }
        entry = _entry(form, rows, cell, line, problems, bad)
        if entry is None:
            continue
        if entry.key in seen:
            problems.append(
                Problem(f"line {line}, column 'field'", f"repeats line {seen[entry.key]}")
            )
            continue
        seen[entry.key] = line
        entries.append(entry)
    return ReadForm(
        name,
        file_hash(path),
        form.assessment,
        None,
        False,
        tuple(entries),
        problems=tuple(problems),
        bad_rows=frozenset(bad),
    )


def cell_study(
    studies: Studies,
    cell: Mapping[str, str],
    where: Callable[[str], str],
    problems: list[Problem],
) -> Study | None:
    """The study a long-form line names: by ``study_id`` (its ``study`` label, if given, must
    match) or else by label; None, with a problem at the column, when it names none."""
    column = "study_id" if cell.get("study_id") else "study"
    try:
        if column == "study_id":
            study = studies.find(f"#{cell['study_id']}")
            if cell.get("study") and cell["study"].lower() != study.label.lower():
                raise InputError(
                    f"study {study.id} is labelled {study.label!r}, not {cell['study']!r}"
                )
            return study
        return studies.find(cell["study"])
    except InputError as error:
        problems.append(Problem(where(column), error.reason))
        return None


def _entry(
    form: FormSpec,
    rows: Mapping[str, set[RowKey]],
    cell: Mapping[str, str],
    line: int,
    problems: list[Problem],
    bad: set[tuple[int, str, str, str]],
) -> Entry | None:
    """One row of the long form as an entry (None, with a problem, when it is wrong)."""

    def where(column: str) -> str:
        return f"line {line}, column {column!r}"

    study = cell_study(form.studies, cell, where, problems)
    if study is None:
        return None
    sheet = _scope(form, cell.get("outcome", ""))
    if sheet is None:
        known = ", ".join(s.scope for s in form.sheets if s.scope)
        problems.append(
            Problem(
                where("outcome"),
                f"unknown outcome {cell['outcome']!r}; the protocol's are: "
                f"{known} (blank for a study characteristic)",
            )
        )
        return None
    field = sheet.field(cell["field"])
    if field is None:
        known = ", ".join(f.name for f in sheet.fields)
        problems.append(
            Problem(where("field"), f"unknown field {cell['field']!r}; expected one of: {known}")
        )
        return None
    arm, time = " ".join(cell.get("arm", "").split()), " ".join(cell.get("time_point", "").split())
    if sheet.layout == "long":
        if arm or time:
            problems.append(
                Problem(
                    where("arm" if arm else "time_point"),
                    "a study characteristic has no arm or time point",
                )
            )
            return None
    elif RowKey(study.id, arm, time) not in rows[sheet.scope]:
        arms = sorted({r.arm for r in rows[sheet.scope] if r.study == study.id})
        times = sorted({r.time for r in rows[sheet.scope] if r.study == study.id})
        if arm not in arms:
            problems.append(
                Problem(
                    where("arm"),
                    f"{study.label} has no arm {arm!r} for "
                    f"{sheet.scope} (its arms: "
                    f"{', '.join(arms) or 'none'})",
                )
            )
        else:
            problems.append(
                Problem(
                    where("time_point"),
                    f"unknown time point {time!r} for {sheet.scope}; "
                    f"expected one of: {', '.join(times)}",
                )
            )
        return None
    try:
        value, written = parse_value(field, cell["value"])
    except ValueError as error:
        problems.append(Problem(where("value"), str(error)))
        bad.add((study.id, sheet.scope, arm, time))
        return None
    try:
        digitised = parse_yes_no(cell.get("digitised"), name="digitised")
    except ValueError as error:
        problems.append(Problem(where("digitised"), str(error)))
        return None
    if value is None:  # a blank value clears it; its source and comment go with it
        return Entry(
            ItemKey(study.id, sheet.scope, arm, time, field.name), None, None, cell=f"line {line}"
        )
    return Entry(
        ItemKey(study.id, sheet.scope, arm, time, field.name),
        value,
        written,
        clean_text(cell.get("source", "")),
        digitised,
        clean_text(cell.get("comment", "")),
        "",
        f"line {line}",
    )


def write_longform(path: Path, form: FormSpec, values: Mapping[ItemKey, Entry]) -> Path:
    """The long form of ``form`` with ``values`` filled in: a row per item (UTF-8, CRLF)."""
    from srma.text_safety import spreadsheet_cell

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for sheet in form.sheets:
            keys = (
                [ItemKey(s, "", "", "", f) for s, f in sheet.long_rows]
                if sheet.layout == "long"
                else [
                    ItemKey(r.study, sheet.scope, r.arm, r.time, f.name)
                    for r in sheet.rows
                    for f in sheet.fields
                ]
            )
            for key in keys:
                entry = values.get(key)
                label = form.studies.by_id[key.study].label
                row = (
                    key.study,
                    label,
                    key.scope,
                    key.arm,
                    key.time,
                    key.field,
                    (entry.written or entry.value) if entry and entry.value else "",
                    entry.source if entry else "",
                    "yes" if entry and entry.digitised else "",
                    entry.comment if entry else "",
                )
                writer.writerow(
                    [spreadsheet_cell(v) if i not in (0, 6) else v for i, v in enumerate(row)]
                )
    return path
