"""Deduplication across the real exports of ASReview's test data."""

from __future__ import annotations

from conftest import SHARED
from srma.review.dedup import find_duplicates, normalise
from srma.review.records import Record, read_records

EXPORTS = SHARED / "fixtures" / "exports"


def _record(
    title: str, *, doi: str = "", year: int | None = 2020, authors=("Smith, J",), volume: str = ""
) -> Record:
    return Record(
        title=title,
        abstract="",
        authors=tuple(authors),
        year=year,
        journal="",
        volume=volume,
        issue="",
        pages="",
        doi=doi,
        pmid="",
        keywords=(),
        type="JOUR",
        source_file="x.ris",
        source_line=1,
    )


def test_ovid_exports_of_the_same_six_papers_are_found_by_doi() -> None:
    psycinfo = read_records(EXPORTS / "ovid_psycinfo.ris").records
    zotero = read_records(EXPORTS / "ovid_zotero.ris").records
    result = find_duplicates(psycinfo + zotero)
    assert len(result.clusters) == 6 and result.duplicates_removed == 6
    assert all(len(cluster) == 2 for cluster in result.clusters)
    assert {pair.reason for pair in result.pairs} == {"same DOI"}


def test_fuzzy_titles_conflicts_and_empty_titles() -> None:
    records = [
        _record("Mesenchymal stem cells for acute ischemic stroke: a randomized trial"),
        _record("Mesenchymal Stem Cells for Acute Ischaemic Stroke - a Randomised Trial."),
        _record(
            "Mesenchymal stem cells for acute ischemic stroke: a randomized trial",
            authors=("Nguyen, T",),
            volume="12",
        ),
        _record("Something else entirely about dementia care", year=None),
        _record("", year=None),
        _record("", year=None),
    ]
    result = find_duplicates(records)
    decisions = {(p.first, p.second): p for p in result.pairs}
    assert decisions[(0, 1)].decision == "duplicate"
    assert decisions[(0, 2)].decision == "review"
    assert "different first authors" in decisions[(0, 2)].reason
    assert (4, 5) not in decisions  # no titles: never a fuzzy match
    assert result.clusters == ((0, 1),)


def test_normalise() -> None:
    assert normalise("Ischémie  cérébrale: l'AVC!") == "ischemie cerebrale l avc"
