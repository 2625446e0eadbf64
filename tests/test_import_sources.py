"""Import batches: the source's display name, the search date, and repeated searches
(the same search exported twice, under another file name) on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import SHARED
from srma.errors import InputError
from srma.review.flow.status import prisma_counts
from srma.review.identify.importing import import_files, latest_today, same_records
from srma.review.identify.sources import source_display_name
from srma.review.project import Project, init_project
from srma.store import ImportBatch, RecordRow

EXPORTS = SHARED / "fixtures" / "exports"


@pytest.fixture
def project(tmp_path: Path, database_url: str) -> Project:
    opened = init_project(tmp_path / "review", title="Test review", url=database_url)
    yield opened
    opened.close()


def count(project: Project, model: type) -> int:
    with project.store.transaction() as session:
        return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("pubmed_zotero", "PubMed"),
        ("NLM", "PubMed"),
        ("pubmed medline", "PubMed"),
        ("web of science", "Web of Science"),
        ("WoS", "Web of Science"),
        ("embase", "Embase"),
        ("Embase", "Embase"),
        ("scopus export 2024", "Scopus"),
        ("Ovid MEDLINE(R) ALL", "Ovid MEDLINE"),
        ("ovid_medline", "Ovid MEDLINE"),
        ("Ovid Embase", "Ovid Embase"),
        ("ovid psycinfo", "Ovid APA PsycInfo"),
        ("APA PsycInfo", "APA PsycInfo"),
        ("MEDLINE", "MEDLINE"),
        ("Cochrane Library", "Cochrane CENTRAL"),
        ("PTSDpubs", "PTSDpubs"),
        ("hand search", "hand search"),
        ("  citation chasing ", "citation chasing"),
        ("", "unknown"),
        ("webofscience2", "webofscience2"),  # whole words only
        ("scopusish", "scopusish"),
    ],
)
def test_source_display_names(key: str, name: str) -> None:
    assert source_display_name(key) == name


def test_imports_store_display_names(project: Project) -> None:
    files = [EXPORTS / n for n in ("embase.ris", "scopus.ris", "pubmed_zotero.ris")]
    files.append(EXPORTS / "pubmed_endnote.txt")  # its DB tag says NLM
    import_files(project, files[:3])
    (endnote,) = import_files(project, files[3:], allow_repeat=True)
    assert endnote.source == "PubMed"
    (given,) = import_files(project, [EXPORTS / "ovid_psycinfo.ris"], source="ovid_medline")
    assert given.source == "Ovid MEDLINE"
    with project.store.transaction() as session:
        names = session.scalars(select(ImportBatch.source).order_by(ImportBatch.id)).all()
        counts = prisma_counts(session, project)
    assert names == ["Embase", "Scopus", "PubMed", "PubMed", "Ovid MEDLINE"]
    shown = dict(counts.database_specific)
    assert set(shown) == {"Embase", "Scopus", "PubMed", "Ovid MEDLINE"}
    assert shown["PubMed"] == 12


def test_a_search_date_in_the_future_is_refused(project: Project) -> None:
    tomorrow = (latest_today() + timedelta(days=1)).isoformat()
    with pytest.raises(InputError, match=f"--search-date {tomorrow} is in the future"):
        import_files(project, [EXPORTS / "scopus.ris"], search_date=tomorrow)
    with pytest.raises(InputError, match="--search-date '31/03/2024' is not a date"):
        import_files(project, [EXPORTS / "scopus.ris"], search_date="31/03/2024")
    assert count(project, ImportBatch) == 0
    today = date.today().isoformat()
    (stored,) = import_files(project, [EXPORTS / "scopus.ris"], search_date=today)
    assert stored.records_stored == 6


def reexported(tmp_path: Path, name: str) -> Path:
    """The same export with other bytes (line ends, a trailing line): another SHA-256."""
    data = (EXPORTS / name).read_bytes()
    copy = tmp_path / f"again_{name}"
    copy.write_bytes(data.replace(b"\r\n", b"\n") + b"\n\n")
    assert copy.read_bytes() != data
    return copy


def test_a_repeated_search_is_skipped_and_counted_once(project: Project, tmp_path: Path) -> None:
    (first,) = import_files(project, [EXPORTS / "embase.ris"], search_date="2024-03-31")
    again = reexported(tmp_path, "embase.ris")
    (repeat, scopus) = import_files(project, [again, EXPORTS / "scopus.ris"])
    assert repeat.sha256 != first.sha256
    assert (repeat.repeat_of, repeat.already_imported_as) == (first.import_id, None)
    assert (repeat.records_stored, repeat.import_id) == (0, None)
    assert "repeats the search of import" in repeat.skipped and "Embase" in repeat.skipped
    assert repeat.to_dict()["repeat_of"] == first.import_id
    assert scopus.skipped is None and scopus.records_stored == 6
    # the same records exported as CSV from the same database: the same search again
    (csv,) = import_files(project, [EXPORTS / "embase.csv"])
    assert csv.repeat_of == first.import_id
    assert count(project, ImportBatch) == 2 and count(project, RecordRow) == 12
    with project.store.transaction() as session:
        counts = prisma_counts(session, project)
    assert counts.counts["database_results"] == 12
    assert dict(counts.database_specific) == {"Embase": 6, "Scopus": 6}


def test_what_is_not_a_repeated_search(project: Project, tmp_path: Path) -> None:
    import_files(project, [EXPORTS / "embase.ris"], search_date="2024-03-31")
    again = reexported(tmp_path, "embase.ris")
    # another database that found the same records: a search of its own (PRISMA: duplicates)
    (other,) = import_files(project, [again], source="MEDLINE")
    assert other.repeat_of is None and other.records_stored == 6
    # the same database searched again on another day
    twice = reexported(tmp_path, "embase.csv")
    (later,) = import_files(project, [twice], source="Embase", search_date="2024-09-30")
    assert later.repeat_of is None and later.records_stored == 6
    # asked for
    (kept,) = import_files(project, [EXPORTS / "embase.csv"], allow_repeat=True)
    assert kept.repeat_of is None and kept.records_stored == 6
    assert count(project, ImportBatch) == 4


def test_same_records_one_for_one() -> None:
    earlier = [("10.1001/a", "Aspirin in stroke"), ("", "Rats and stroke"), ("10.1001/c", "C")]
    assert same_records(
        [("", "Rats and Stroke."), ("10.1001/C", "c"), ("https://doi.org/10.1001/a", "x")], earlier
    )
    assert not same_records(earlier[:2], earlier)  # fewer
    assert not same_records([earlier[0], earlier[0], earlier[2]], earlier)  # not one for one
    assert not same_records([("10.1001/z", "Aspirin in stroke"), *earlier[1:]], earlier)  # new DOI
    assert not same_records([], [])
