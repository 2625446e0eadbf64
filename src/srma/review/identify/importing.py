"""Importing database exports into a project, in one transaction.

Every file is read first (:func:`srma.review.identify.records.read_records`); a file
that cannot be read at all stops the command before anything is written.
Then all files are stored in one transaction: an import batch per file (its
source database, search date, SHA-256 and counts, which feed the PRISMA
diagram), its records, and its problems.  A file whose content was imported
before (same SHA-256) is reported and skipped.  So is a *repeated search*: a
file from the same source whose records are, one for one, the records of one
earlier import (same DOI, else the same normalised title), as when a search
is exported twice; it would count the same records twice in the PRISMA
diagram.  For every stored file, ``records_read == records_stored + len(problems)``.
Two imports of the same file at the same time: the one that commits second
gets an :class:`~srma.errors.InputError` saying so, and stores nothing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.identify.dedup import normalise_doi, normalise_title
from srma.review.identify.records import (
    ImportProblem,
    ImportResult,
    Record,
    read_records,
    without_cycle_collection,
)
from srma.review.identify.sources import source_display_name
from srma.review.project import Project
from srma.store import ImportBatch, ImportProblemRow, RecordRow
from srma.store.bulk import insert_rows


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
    repeat_of: int | None = None

    @property
    def skipped(self) -> str | None:
        """Why nothing of the file was stored (one line), or None when it was stored."""
        if self.already_imported_as is not None:
            return f"{self.path}: already imported (import {self.already_imported_as}); skipped"
        if self.repeat_of is not None:
            return (
                f"{self.path}: repeats the search of import {self.repeat_of} ({self.source}: "
                "the same records); skipped, so that PRISMA counts them once"
            )
        return None

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
            "repeat_of": self.repeat_of,
        }


def latest_today() -> date:
    """Today's date where it is latest on Earth (UTC+14): no search can have run after it."""
    return (datetime.now(UTC) + timedelta(hours=14)).date()


def _check_date(search_date: str | None) -> str | None:
    """The search date as ``YYYY-MM-DD``; not a date, or a date in the future, is refused."""
    if search_date is None:
        return None
    try:
        searched = date.fromisoformat(search_date)
    except ValueError as error:
        message = f"--search-date {search_date!r} is not a date like 2024-03-31"
        raise InputError(message) from error
    if searched > latest_today():
        message = (
            f"--search-date {searched.isoformat()} is in the future: give the day the search ran"
        )
        raise InputError(message)
    return searched.isoformat()


def guess_source(result: ImportResult) -> str:
    """The database a file came from: its records' DB/DP tags if they agree, else the file name."""
    names = Counter(
        str(values[0]).strip()
        for record in result.records
        for key in ("name_of_database", "database_provider")
        if isinstance(values := record.fields.get(key), list) and values and str(values[0]).strip()
    )
    if names:
        return source_display_name(names.most_common(1)[0][0])
    return source_display_name(re.sub(r"[_\-]+", " ", Path(result.path).stem).strip())


def same_records(new: Sequence[tuple[str, str]], earlier: Sequence[tuple[str, str]]) -> bool:
    """Whether the ``(doi, title)`` pairs of ``new`` are, one for one, those of ``earlier``.

    Each new record must match a different earlier record: by DOI, else by
    normalised title when the two records do not have different DOIs.  Both
    lists must be as long, and not empty.
    """
    if not new or len(new) != len(earlier):
        return False
    prepared = [(normalise_doi(doi), normalise_title(title)) for doi, title in earlier]
    by_doi: dict[str, list[int]] = {}
    by_title: dict[str, list[int]] = {}
    for index, (doi, title) in enumerate(prepared):
        if doi:
            by_doi.setdefault(doi, []).append(index)
        if title:
            by_title.setdefault(title, []).append(index)
    taken: set[int] = set()
    for raw_doi, raw_title in new:
        doi, title = normalise_doi(raw_doi), normalise_title(raw_title)
        match = next((i for i in by_doi.get(doi, []) if i not in taken), None) if doi else None
        if match is None and title:
            match = next(
                (
                    i
                    for i in by_title.get(title, [])
                    if i not in taken and not (doi and prepared[i][0] and prepared[i][0] != doi)
                ),
                None,
            )
        if match is None:
            return False
        taken.add(match)
    return True


def _repeated_search(
    session: Session, result: ImportResult, source: str, searched: str | None
) -> int | None:
    """The earlier import (same source, same or no search date) that ``result`` repeats."""
    candidates = session.scalars(
        select(ImportBatch).where(ImportBatch.records_stored == len(result.records))
    ).all()
    new = [(record.doi, record.title) for record in result.records]
    for batch in candidates:
        if source_display_name(batch.source) != source:
            continue
        if searched and batch.search_date and searched != batch.search_date:
            continue  # the search run again on another day: a new search
        rows = session.execute(
            select(RecordRow.doi, RecordRow.title).where(RecordRow.import_id == batch.id)
        ).all()
        if same_records(new, [(row.doi or "", row.title or "") for row in rows]):
            return batch.id
    return None


#: The columns of a stored record, in the order of :func:`_record_row`.
RECORD_COLUMNS = (
    "import_id", "source_line", "title", "abstract", "authors", "year", "journal", "volume",
    "issue", "pages", "doi", "pmid", "keywords", "type", "fields",
)  # fmt: skip


def _record_row(record: Record, import_id: int) -> tuple[object, ...]:
    """The values of :data:`RECORD_COLUMNS` for ``record``."""
    return (
        import_id, record.source_line, record.title, record.abstract, list(record.authors),
        record.year, record.journal, record.volume, record.issue, record.pages, record.doi,
        record.pmid, list(record.keywords), record.type,
        {str(k): v for k, v in record.fields.items()},
    )  # fmt: skip


def import_files(
    project: Project,
    paths: Sequence[str | Path],
    *,
    source: str | None = None,
    search_date: str | None = None,
    imported_by: str | None = None,
    on_stored: Callable[[int], None] | None = None,
    chunk_size: int = 500,
    allow_repeat: bool = False,
) -> tuple[FileImport, ...]:
    """Read ``paths`` and store them in one transaction; return what happened to each file.

    The source is stored by its display name (:func:`source_display_name`).
    A file already imported (same SHA-256) is skipped (``already_imported_as``),
    and so is a repeated search (``repeat_of``: the import whose records it
    repeats, from the same source and search date) unless ``allow_repeat``.
    ``on_stored(n)`` is called after each chunk of ``n`` records is written
    (for a progress bar); nothing is committed until every file is stored.
    """
    if not paths:
        raise InputError("no files to import")
    searched = _check_date(search_date)
    with without_cycle_collection():
        results = [read_records(path) for path in paths]
        return _store_or_explain(
            project, results, source, searched, imported_by, on_stored, chunk_size, allow_repeat
        )


def _store_or_explain(
    project: Project,
    results: Sequence[ImportResult],
    source: str | None,
    searched: str | None,
    imported_by: str | None,
    on_stored: Callable[[int], None] | None,
    chunk_size: int,
    allow_repeat: bool,
) -> tuple[FileImport, ...]:
    """:func:`_store`, a failure caused by another command running at the same time told
    as an :class:`~srma.errors.InputError`."""
    try:
        return _store(project, results, source, searched, imported_by, on_stored, chunk_size,
                      allow_repeat)  # fmt: skip
    except IntegrityError as error:  # another import stored one of the files first
        raise _concurrent_import(project, results) from error
    except OperationalError as error:
        if "locked" not in str(error).lower():
            raise
        message = (
            "the project's database is busy: another srma command is writing to it; "
            "nothing was imported, run the import again when it has finished"
        )
        raise InputError(message) from error


def _concurrent_import(project: Project, results: Sequence[ImportResult]) -> InputError:
    """The error for an import whose file another import, running at the same time, stored."""
    digests = {result.sha256: result.path for result in results}
    with project.store.transaction() as session:
        stored = session.execute(
            select(ImportBatch.sha256, ImportBatch.id)
            .where(ImportBatch.sha256.in_(digests))
            .order_by(ImportBatch.id.desc())  # the newest: files imported before were skipped
        ).first()
    if stored is None:
        message = (
            "the project changed while the files were stored (another import ran at the same time)"
        )
        file = None
    else:
        message = f"another srma import stored this file at the same time (import {stored.id})"
        file = digests[stored.sha256]
    return InputError(f"{message}; nothing of this command was stored, run it again", file=file)


def _store(
    project: Project,
    results: Sequence[ImportResult],
    source: str | None,
    searched: str | None,
    imported_by: str | None,
    on_stored: Callable[[int], None] | None,
    chunk_size: int,
    allow_repeat: bool,
) -> tuple[FileImport, ...]:
    """Store what :func:`import_files` read, in one transaction."""
    outcomes: list[FileImport] = []
    with project.store.transaction() as session:
        seen: dict[str, int] = dict(
            session.execute(select(ImportBatch.sha256, ImportBatch.id)).all()
        )
        for result in results:
            name = source_display_name(source) if source else guess_source(result)
            repeat = None
            if result.sha256 not in seen and not allow_repeat:
                repeat = _repeated_search(session, result, name, searched)
            if repeat is not None:
                outcomes.append(
                    FileImport(
                        result.path, result.format, name, result.sha256, result.records_read, 0,
                        result.problems, result.notes, None, None, repeat,
                    )
                )  # fmt: skip
                continue
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
            for start in range(0, len(result.records), chunk_size):
                chunk = result.records[start : start + chunk_size]
                rows = (_record_row(record, batch.id) for record in chunk)
                insert_rows(session, RecordRow.__table__, RECORD_COLUMNS, rows)
                if on_stored is not None:
                    on_stored(len(chunk))
            outcomes.append(
                FileImport(
                    result.path, result.format, name, result.sha256, result.records_read,
                    len(result.records), result.problems, result.notes, batch.id, None,
                )
            )  # fmt: skip
    return tuple(outcomes)
