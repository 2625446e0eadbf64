"""Importing database exports into a project, in one transaction.

Every file is read first (:func:`srma.review.identify.records.read_records`); a file
that cannot be read at all stops the command before anything is written.
Then all files are stored in one transaction: an import batch per file (its
source database, search date, SHA-256 and counts, which feed the PRISMA
diagram), its records, and its problems.  A file whose content was imported
before (same SHA-256) is reported and skipped.  For every file,
``records_read == records_stored + len(problems)``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import insert, select

from srma.errors import InputError
from srma.review.identify.records import ImportProblem, ImportResult, Record, read_records
from srma.review.project import Project
from srma.store import ImportBatch, ImportProblemRow, RecordRow


@dataclass(frozen=True)
class FileImport:
    """What happened to one file."""

    path: str
    format: str
    source: str
    sha256: str
    records_read: int
    records_stored: int
    problems: tuple[ImportProblem, ...]
    notes: tuple[ImportProblem, ...]
    import_id: int | None
    already_imported_as: int | None

    def to_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "format": self.format,
            "source": self.source,
            "sha256": self.sha256,
            "records_read": self.records_read,
            "records_stored": self.records_stored,
            "problems": [problem.__dict__ for problem in self.problems],
            "notes": [note.__dict__ for note in self.notes],
            "import_id": self.import_id,
            "already_imported_as": self.already_imported_as,
        }


def _check_date(search_date: str | None) -> str | None:
    if search_date is None:
        return None
    try:
        return date.fromisoformat(search_date).isoformat()
    except ValueError as error:
        raise InputError(f"search date {search_date!r} is not a date like 2024-03-31") from error


def guess_source(result: ImportResult) -> str:
    """The database a file came from: its records' DB/DP tags if they agree, else the file name."""
    names = Counter(
        str(values[0]).strip()
        for record in result.records
        for key in ("name_of_database", "database_provider")
        if isinstance(values := record.fields.get(key), list) and values and str(values[0]).strip()
    )
    if names:
        return names.most_common(1)[0][0]
    return re.sub(r"[_\-]+", " ", Path(result.path).stem).strip() or "unknown"


def _record_row(record: Record, import_id: int) -> dict[str, object]:
    return {
        "import_id": import_id,
        "source_line": record.source_line,
        "title": record.title,
        "abstract": record.abstract,
        "authors": list(record.authors),
        "year": record.year,
        "journal": record.journal,
        "volume": record.volume,
        "issue": record.issue,
        "pages": record.pages,
        "doi": record.doi,
        "pmid": record.pmid,
        "keywords": list(record.keywords),
        "type": record.type,
        "fields": {str(k): v for k, v in record.fields.items()},
    }


def import_files(
    project: Project,
    paths: Sequence[str | Path],
    *,
    source: str | None = None,
    search_date: str | None = None,
    imported_by: str | None = None,
    on_stored: Callable[[int], None] | None = None,
    chunk_size: int = 500,
) -> tuple[FileImport, ...]:
    """Read ``paths`` and store them in one transaction; return what happened to each file.

    ``on_stored(n)`` is called after each chunk of ``n`` records is written
    (for a progress bar); nothing is committed until every file is stored.
    """
    if not paths:
        raise InputError("no files to import")
    searched = _check_date(search_date)
    results = [read_records(path) for path in paths]
    outcomes: list[FileImport] = []
    with project.store.transaction() as session:
        seen: dict[str, int] = dict(
            session.execute(select(ImportBatch.sha256, ImportBatch.id)).all()
        )
        for result in results:
            name = source or guess_source(result)
            if result.sha256 in seen:
                outcomes.append(
                    FileImport(
                        result.path, result.format, name, result.sha256, result.records_read, 0,
                        result.problems, result.notes, None, seen[result.sha256],
                    )
                )  # fmt: skip
                continue
            batch = ImportBatch(
                path=str(Path(result.path).resolve()),
                file_name=Path(result.path).name,
                format=result.format,
                sha256=result.sha256,
                source=name,
                search_date=searched,
                records_read=result.records_read,
                records_stored=len(result.records),
                imported_by=imported_by,
            )
            session.add(batch)
            session.flush()
            seen[result.sha256] = batch.id
            problem_rows = [
                {"import_id": batch.id, "line": p.line, "message": p.message, "kind": kind}
                for kind, items in (("problem", result.problems), ("note", result.notes))
                for p in items
            ]
            if problem_rows:
                session.execute(insert(ImportProblemRow), problem_rows)
            rows = [_record_row(record, batch.id) for record in result.records]
            for start in range(0, len(rows), chunk_size):
                chunk = rows[start : start + chunk_size]
                session.execute(insert(RecordRow), chunk)
                if on_stored is not None:
                    on_stored(len(chunk))
            outcomes.append(
                FileImport(
                    result.path, result.format, name, result.sha256, result.records_read,
                    len(result.records), result.problems, result.notes, batch.id, None,
                )
            )  # fmt: skip
    return tuple(outcomes)
