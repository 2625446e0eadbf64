"""Exporting a project's records with their screening outcome (CSV, XLSX, or RIS for reference
managers).

A row per unique record (merged duplicates are listed under the record they
were merged into): its bibliographic fields, the outcome at title and
abstract and at full text, each reviewer's latest decision and reason, and
any resolution, all replayed from the decision log.

Whatever a record's text holds, the export keeps one record per record and
nothing in it runs: text cells of CSV and XLSX that a spreadsheet would read
as a formula are neutralised (:func:`spreadsheet_safe`), and RIS values are
folded onto one line (:func:`srma.text_safety.one_line`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import rispy
from sqlalchemy import select
from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.decision_log import STAGES, kept_record
from srma.review.project import Project
from srma.review.state import ReviewState, load_state
from srma.store import ImportBatch, RecordRow
from srma.text_safety import FORMULA_TRIGGERS, one_line, spreadsheet_cell

OUTCOMES = ("include", "exclude", "conflict", "pending", "not reached")
#: The export's columns, in order.
COLUMNS = (
    "record_id", "title", "authors", "year", "journal", "volume", "issue", "pages", "doi",
    "pmid", "abstract", "source", "merged_duplicates",
    *(f"{stage}_{part}" for stage in STAGES for part in ("outcome", "decisions", "resolution")),
)  # fmt: skip


class RisRecords(rispy.RisWriter):
    """rispy's RIS writer without the ``1.``, ``2.`` line it puts before each record: a RIS
    record begins with its ``TY`` tag, and reference managers read the file as written."""

    def set_header(self, count: int) -> str:
        return ""


def screening_table(
    session: Session, project: Project, *, viewer: str | None = None, unblind: bool = False
) -> pd.DataFrame:
    """Every unique record with its outcome and decisions at each stage, as ``viewer`` may
    see them (see :func:`table_of`)."""
    state = load_state(session, project)
    rows = session.execute(
        select(RecordRow, ImportBatch.source).join(ImportBatch).order_by(RecordRow.id)
    ).all()
    return table_of(state, rows, viewer=viewer, unblind=unblind)


def _decisions_text(state: ReviewState, record: int, stage: str, *, viewer: str | None,
                    unblind: bool) -> str:  # fmt: skip
    entry = state.at(stage).get(record)
    if entry is None:
        return ""
    shown = state.visible(record, stage, viewer=viewer, unblind=unblind)
    parts = [f"{e.reviewer}: {e.decision}" + (f" ({e.reason})" if e.reason else "") for e in shown]
    if len(shown) < entry.decided:
        parts.append(f"{entry.decided} of {state.required} decided, blinded")
    return "; ".join(parts)


def table_of(
    state: ReviewState,
    rows: Sequence[tuple[RecordRow, str]],
    *,
    viewer: str | None = None,
    unblind: bool = False,
) -> pd.DataFrame:
    """One row per unique record (``rows``: the record and its source database).

    Blinding: while a record at a stage still waits for a reviewer it needs,
    its decisions column shows only the viewer's own decision and how many
    have decided ("1 of 2 decided, blinded"); ``unblind`` shows every decision
    (the caller records the unblinding in the log).
    """
    merged: dict[int, list[int]] = {}
    for record in state.merges:
        merged.setdefault(kept_record(dict(state.merges), record), []).append(record)
    table = []
    for row, source in rows:
        if row.id in state.merges or row.id not in state.records:
            continue
        entry: dict[str, object] = {
            "record_id": row.id,
            "title": row.title,
            "authors": "; ".join(row.authors),
            "year": row.year,
            "journal": row.journal,
            "volume": row.volume,
            "issue": row.issue,
            "pages": row.pages,
            "doi": row.doi,
            "pmid": row.pmid,
            "abstract": row.abstract,
            "source": source,
            "merged_duplicates": "; ".join(str(d) for d in sorted(merged.get(row.id, []))),
        }
        for stage in STAGES:
            at = state.at(stage).get(row.id)
            entry[f"{stage}_outcome"] = "not reached" if at is None else at.outcome
            entry[f"{stage}_decisions"] = _decisions_text(
                state, row.id, stage, viewer=viewer, unblind=unblind
            )
            settled = None if at is None else at.resolution
            entry[f"{stage}_resolution"] = (
                f"{settled.decision}" + (f" ({settled.reason})" if settled.reason else "")
                + f" by {settled.reviewer}"
                if settled is not None
                else ""
            )  # fmt: skip
        table.append(entry)
    return pd.DataFrame(table, columns=COLUMNS)


def select_outcome(table: pd.DataFrame, stage: str, outcomes: Sequence[str]) -> pd.DataFrame:
    """The rows whose outcome at ``stage`` is one of ``outcomes``."""
    unknown = sorted(set(outcomes) - set(OUTCOMES))
    if unknown:
        raise InputError(f"unknown outcome {unknown}; expected some of {', '.join(OUTCOMES)}")
    return table[table[f"{stage}_outcome"].isin(outcomes)]


def spreadsheet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` in which no text cell can run as a spreadsheet formula.

    Each text cell beginning with ``=``, ``+``, ``-``, ``@``, tab or carriage
    return gets a single quote in front (OWASP's advice on CSV injection;
    :func:`srma.text_safety.spreadsheet_cell`); numbers, including negative
    ones in numeric columns, and every other cell are unchanged.
    """
    return table.map(spreadsheet_cell)


def to_csv(table: pd.DataFrame, path: Path | None = None) -> str | None:
    """``table`` as CSV that keeps one row per row and runs no formula (to ``path``, or returned).

    Text cells go through :func:`spreadsheet_safe`; lines end in CRLF (RFC 4180),
    so that a cell holding a line break of any kind (a lone carriage return
    too) is quoted and stays one cell.
    """
    return spreadsheet_safe(table).to_csv(path, index=False, lineterminator="\r\n")


def _one_line_values(reference: dict[str, object]) -> dict[str, object]:
    return {
        key: [one_line(v) for v in value] if isinstance(value, list)
        else one_line(value) if isinstance(value, str) else value
        for key, value in reference.items()
    }  # fmt: skip


def _without_empty(reference: dict[str, object]) -> dict[str, object]:
    return {key: value for key, value in reference.items() if value not in ("", [], None)}


def _cell_value(value: object) -> object:
    """A pandas cell as openpyxl writes it: missing as empty, numpy numbers as Python ones,
    text without the characters XML cannot hold (as spaces)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub(" ", value)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value


def write_xlsx(table: pd.DataFrame, path: Path) -> Path:
    """``table`` as an XLSX workbook whose text cells are text, never formulas.

    Every ``str`` is stored as a text cell (openpyxl would store one beginning
    with ``=`` as a formula), and a text cell beginning with ``=``, ``+``,
    ``-``, ``@``, tab or carriage return carries Excel's quote prefix (what
    Excel stores when one types ``'=...``): the value is kept as it is and
    stays text when the cell is edited.  Characters XML cannot hold (C0
    controls other than tab, newline and carriage return) become spaces.
    """
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "records"
    sheet.append([str(c) for c in table.columns])
    for values in table.itertuples(index=False):
        sheet.append([_cell_value(v) for v in values])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                cell.data_type = "s"
                if cell.value.startswith(FORMULA_TRIGGERS):
                    cell.quotePrefix = True
    book.save(path)
    return path


def write_table(table: pd.DataFrame, path: Path) -> Path:
    """CSV (``.csv``), XLSX (``.xlsx``) or RIS (``.ris``; outcome and decisions go into notes).

    CSV and XLSX: text cells that a spreadsheet would run as a formula are
    neutralised (:func:`spreadsheet_safe`, :func:`write_xlsx`). RIS: line
    breaks and other control characters in values become spaces, so each
    record stays one record.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        to_csv(table, path)
    elif suffix == ".xlsx":
        write_xlsx(table, path)
    elif suffix == ".ris":
        references = [
            _without_empty(
                _one_line_values(
                    {
                        "type_of_reference": "JOUR",
                        "title": row["title"],
                        "authors": [a for a in str(row["authors"]).split("; ") if a],
                        "year": "" if pd.isna(row["year"]) else str(int(row["year"])),
                        "secondary_title": row["journal"],
                        "volume": row["volume"],
                        "number": row["issue"],
                        "start_page": row["pages"],
                        "doi": row["doi"],
                        "abstract": row["abstract"],
                        "id": str(row["record_id"]),
                        "notes": [
                            f"{stage}: {row[f'{stage}_outcome']}"
                            + (
                                f" ({row[f'{stage}_decisions']})"
                                if row[f"{stage}_decisions"]
                                else ""
                            )
                            for stage in STAGES
                        ],
                    }
                )
            )
            for _, row in table.iterrows()
        ]
        path.write_text(rispy.dumps(references, implementation=RisRecords), encoding="utf-8")
    else:
        raise InputError(f"{path}: export to .csv, .xlsx or .ris")
    return path
