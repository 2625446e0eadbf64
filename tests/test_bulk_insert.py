"""Records are stored by one Core insert per chunk (issue 17), as the ORM insert stored them.

``import_files`` sends each chunk of records through
:func:`srma.store.bulk.insert_rows`, with the JSON columns encoded once per
row.  The rows it stores, down to the JSON text in the database, are the rows
the ORM insert of the same dicts stores, in SQLite and in PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text

from conftest import SHARED
from srma.review.identify.importing import RECORD_COLUMNS, _record_row, import_files
from srma.review.identify.records import read_records
from srma.review.project import Project, init_project
from srma.store import ImportBatch, RecordRow
from srma.store.bulk import insert_rows

EXPORTS = Path(__file__).parent / "fixtures" / "exports"
FILES = [
    SHARED / "fixtures" / "exports" / "scopus.ris",
    SHARED / "fixtures" / "exports" / "embase.csv",
    EXPORTS / "pubmed_medline_latin1.nbib",
    EXPORTS / "mixed_sources.bib",
]
COLUMNS = (
    "source_line, title, abstract, CAST(authors AS TEXT), year, journal, volume, issue, pages, "
    "doi, pmid, CAST(keywords AS TEXT), type, CAST(fields AS TEXT)"
)


@pytest.fixture
def project(tmp_path: Path, database_url: str) -> Iterator[Project]:
    opened = init_project(tmp_path / "review", title="Test review", url=database_url)
    yield opened
    opened.close()


def stored(project: Project, import_id: int) -> list[tuple[object, ...]]:
    """The rows of one import as the database holds them, JSON columns as their text."""
    query = text(f"SELECT {COLUMNS} FROM records WHERE import_id = :i ORDER BY source_line")
    with project.store.transaction() as session:
        return [tuple(row) for row in session.execute(query, {"i": import_id})]


def orm_import(project: Project, path: Path) -> int:
    """The records of ``path`` stored by the ORM insert of their dicts (the former way)."""
    result = read_records(path)
    with project.store.transaction() as session:
        batch = ImportBatch(
            path=str(path), file_name=path.name, format=result.format, sha256="0" * 64,
            source="orm", records_read=result.records_read, records_stored=len(result.records),
        )  # fmt: skip
        session.add(batch)
        session.flush()
        rows = [
            dict(zip(RECORD_COLUMNS, _record_row(r, batch.id), strict=True)) for r in result.records
        ]
        session.execute(insert(RecordRow), rows)
        return batch.id


@pytest.mark.parametrize("path", FILES, ids=lambda path: path.name)
def test_bulk_insert_stores_the_rows_the_orm_insert_stores(project: Project, path: Path) -> None:
    (outcome,) = import_files(project, [path], chunk_size=7)
    assert outcome.import_id is not None
    bulk = stored(project, outcome.import_id)
    assert len(bulk) == outcome.records_stored > 0
    assert bulk == stored(project, orm_import(project, path))
    with project.store.transaction() as session:
        records = session.scalars(
            select(RecordRow).where(RecordRow.import_id == outcome.import_id)
        ).all()
    read = read_records(path).records
    assert [(r.title, r.authors, r.keywords) for r in records] == [
        (r.title, list(r.authors), list(r.keywords)) for r in read
    ]
    assert [r.fields for r in records] == [{str(k): v for k, v in r.fields.items()} for r in read]


def test_no_rows_insert_nothing(project: Project) -> None:
    with project.store.transaction() as session:
        insert_rows(session, RecordRow.__table__, RECORD_COLUMNS, [])
        assert session.scalars(select(RecordRow)).all() == []
