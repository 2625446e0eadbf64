"""Reading database exports: the real RIS and CSV files of ASReview's test data."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import SHARED
from srma import InputError
from srma.review.identify.records import embase_source, parse_ris, read_records

EXPORTS = SHARED / "fixtures" / "exports"
FILES = sorted(p for p in EXPORTS.iterdir() if p.name != "LICENSE")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_nothing_is_lost(path: Path) -> None:
    result = read_records(path)
    assert result.records_read == len(result.records) + len(result.problems)
    assert len(result.sha256) == 64
    for record in result.records:
        assert record.title or record.abstract or record.doi
        assert record.source_file == str(path) and record.source_line >= 1


@pytest.mark.parametrize(
    ("name", "count", "title", "year", "doi", "authors"),
    [
        (
            "embase.ris",
            6,
            "Duplication cysts: Diagnosis, management",
            2014,
            "10.4103/2303-9027.138783",
            2,
        ),
        (
            "scopus.ris",
            6,
            "Stress and the brain-gut axis",
            2020,
            "10.1016/j.psyneuen.2019.104501",
            4,
        ),
        ("ovid_psycinfo.ris", 6, "The influence of self-criticism", 2019, "10.1002/cpp.2398", 5),
        (
            "web_of_science.txt",
            10,
            "Holding Yourself Captive",
            2018,
            "10.1016/j.jarmac.2018.03.001",
            3,
        ),
        ("pubmed_endnote.txt", 6, "Boswellia serrata", 2011, "10.2165/11586800-000000000-00000", 3),
    ],
)
def test_fields_of_each_dialect(name, count, title, year, doi, authors) -> None:
    result = read_records(EXPORTS / name)
    assert len(result.records) == count
    first = result.records[0]
    assert first.title.startswith(title)
    assert first.year == year and first.doi == doi and len(first.authors) == authors


def test_ovid_lines_after_er_are_reported_not_counted() -> None:
    result = read_records(EXPORTS / "ovid_psycinfo.ris")
    assert result.problems == () and len(result.notes) == 6
    assert "tag NL outside a record" in result.notes[0].message


def test_multiline_keywords_and_csv_problems() -> None:
    rayyan = read_records(EXPORTS / "ris_issue_992.txt")
    assert "Joint Commission" in rayyan.records[0].keywords
    table = read_records(EXPORTS / "duplicate_records.csv")
    assert len(table.records) == 10 and [p.line for p in table.problems] == [12, 13, 14, 15]


def test_bad_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.ris"
    empty.write_text("   \n")
    with pytest.raises(InputError, match="empty"):
        read_records(empty)
    latin = tmp_path / "latin.ris"
    latin.write_bytes("TY  - JOUR\nTI  - Ensayo clínico\nER  - \n".encode("latin-1"))
    assert read_records(latin).records[0].title == "Ensayo clínico"
    with pytest.raises(InputError, match="no such file"):
        read_records(tmp_path / "missing.ris")


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_any_text_parses_without_losing_records(text: str) -> None:
    records, problems, read, _ = parse_ris("TY  - JOUR\n" + text + "\nER  - \n", "x.ris")
    assert read == len(records) + len(problems)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_shared_exports_are_detected_as_before(path: Path) -> None:
    expected = "csv" if path.suffix == ".csv" else "ris"
    assert read_records(path).format == expected


def test_csv_reads_keywords_column() -> None:
    embase = read_records(EXPORTS / "embase.csv")
    keywords = embase.records[0].keywords
    assert keywords[:2] == ("article", "bronchogenic duplication cyst (diagnosis, surgery)")
    assert keywords[-1] == "symptomatology"


def test_embase_csv_source_column_and_open_url_doi() -> None:
    records = read_records(EXPORTS / "embase.csv").records
    fields = [(r.journal, r.year, r.volume, r.issue, r.pages, r.doi) for r in records]
    assert fields[0] == (
        "Endoscopic Ultrasound",
        2014,
        "3",
        "3",
        "152-160",
        "10.4103/2303-9027.138783",
    )
    assert fields[1] == ("Cancer", 2004, "102", "4", "253-258", "10.1002/cncr.20369")
    # no issue: "International Journal of Surgery Case Reports (2019) 54 (83-86)"
    assert fields[2] == (
        "International Journal of Surgery Case Reports", 2019, "54", "", "83-86",
        "10.1016/j.ijscr.2018.11.060",
    )  # fmt: skip
    assert records[0].authors == ("Liu R.", "Adler D.G.")
    assert records[1].authors[:2] == ("Eloubeidi M.A.", "Cohn M.")


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Cancer (2004) 102:4 (253-258). Date of Publication: 25 Aug 2004",
         {"journal": "Cancer", "year": "2004", "volume": "102", "issue": "4", "pages": "253-258"}),
        ("PLoS ONE (2020) 15:3 Article Number: e0229812. Date of Publication: 1 Mar 2020",
         {"journal": "PLoS ONE", "year": "2020", "volume": "15", "issue": "3",
          "pages": "e0229812"}),
        ("Journal of Things (2021). Date of Publication: 2021",
         {"journal": "Journal of Things", "year": "2021", "volume": "", "issue": "",
          "pages": ""}),
        ("The Lancet", None),
    ],
)  # fmt: skip
def test_embase_source_cell(cell: str, expected: dict[str, str] | None) -> None:
    assert embase_source(cell) == expected


def test_a_plain_source_column_stays_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text('title,source,year,authors\nA trial,The Lancet,2020,"Smith, John"\n')
    (record,) = read_records(path).records
    assert (record.journal, record.year, record.authors) == ("The Lancet", 2020, ("Smith, John",))


@pytest.mark.parametrize("name", ["ovid_psycinfo.ris", "ovid_zotero.ris"])
def test_ovid_no_specified_pages_are_no_pages(name: str) -> None:
    records = read_records(EXPORTS / name).records
    pages = [record.pages for record in records]
    assert pages == ["", "847-856", "26-33", "", "", ""]
    assert not any("Specified" in page for page in pages)


def test_a_csv_whose_quoted_cell_holds_ris_lines_is_read_as_a_table(tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text('title,abstract\n"Real\nTY  - JOUR\nTI  - forged","x"\n"Second","y"\n')
    result = read_records(export)
    assert (result.format, result.records_read, len(result.records)) == ("csv", 2, 2)
    assert result.records[0].title == "Real\nTY  - JOUR\nTI  - forged"
