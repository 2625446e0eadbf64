"""Reading PubMed MEDLINE, Web of Science plain text, BibTeX and XLSX exports.

The fixtures in ``tests/fixtures/exports`` hold real records of the shared
exports written in these formats (see its README), so that one paper is read
from several formats with the same title, DOI and year.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from srma import InputError
from srma.review.identify.records import (
    ImportResult,
    detect_format,
    parse_bibtex,
    parse_medline,
    parse_wos,
    read_records,
)

FIXTURES = Path(__file__).parent / "fixtures" / "exports"
MEDLINE = FIXTURES / "pubmed_medline.nbib"
MEDLINE_LATIN1 = FIXTURES / "pubmed_medline_latin1.nbib"
WOS = FIXTURES / "web_of_science_plain.txt"
BIBTEX = FIXTURES / "mixed_sources.bib"

BOSWELLIA_DOI = "10.2165/11586800-000000000-00000"
CAPTIVE_DOI = "10.1016/j.jarmac.2018.03.001"


def assert_invariant(result: ImportResult) -> None:
    """Nothing is lost, and everything points back to its file and line."""
    assert result.records_read == len(result.records) + len(result.problems)
    for record in result.records:
        assert record.title or record.abstract or record.doi
        assert record.source_file == result.path and record.source_line >= 1
    for problem in result.problems + result.notes:
        assert problem.file == result.path and problem.line >= 1


@pytest.mark.parametrize(
    ("path", "kind", "read", "stored"),
    [
        (MEDLINE, "medline", 5, 4),
        (MEDLINE_LATIN1, "medline", 5, 4),
        (WOS, "wos", 4, 3),
        (BIBTEX, "bibtex", 6, 4),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else None,
)
def test_every_fixture_keeps_the_invariant(path: Path, kind: str, read: int, stored: int) -> None:
    result = read_records(path)
    assert (result.format, result.records_read, len(result.records)) == (kind, read, stored)
    assert_invariant(result)


def test_medline_fields() -> None:
    result = read_records(MEDLINE)
    first = result.records[0]
    assert first.title == (
        "Boswellia serrata: an overall assessment of in vitro, preclinical, "
        "pharmacokinetic and clinical data"
    )
    assert first.authors == ("Abdel-Tawab, Mona", "Werz, Oliver", "Schubert-Zsilavecz, Manfred")
    assert (first.year, first.journal, first.volume, first.issue, first.pages) == (
        2011,
        "Clinical pharmacokinetics",
        "50",
        "6",
        "349-69",
    )
    assert (first.doi, first.pmid, first.type) == (BOSWELLIA_DOI, "21553931", "Journal Article")
    assert first.abstract.startswith("Non-steroidal anti-inflammatory drug (NSAID) intake")
    assert first.abstract.endswith("pharmacological studies and clinical trials.")
    assert "Boswellia/*chemistry" in first.keywords and len(first.keywords) == 10
    assert first.fields["AD"] == [
        "Central Laboratory of German Pharmacists, Eschborn, Germany. m.tawab@zentrallabor.com"
    ]
    assert [r.source_line for r in result.records] == [1, 75, 164, 226]
    berens = result.records[3]
    assert berens.pmid == "31627144" and berens.doi == "10.1016/j.jpsychores.2019.109836"
    assert berens.pages == "109836" and berens.keywords == ()


def test_medline_record_without_title_abstract_or_doi_is_reported() -> None:
    result = read_records(MEDLINE)
    assert [(p.line, p.message) for p in result.problems] == [
        (283, "record has no title, abstract or DOI")
    ]
    assert "27452660" not in {r.pmid for r in result.records}


def test_medline_prefers_full_author_names_and_reads_ot_keywords() -> None:
    text = (
        "PMID- 1\nTI  - A title\nAU  - Doe J\nOT  - first\nOT  - second\nMH  - Humans\n"
        "LID - S0000 [pii]\nAID - 10.1000/XYZ [doi]\n"
    )
    records, problems, read, notes = parse_medline(text, "x.nbib")
    assert (read, problems, notes) == (1, [], [])
    assert records[0].authors == ("Doe J",)
    assert records[0].keywords == ("Humans", "first", "second")
    assert records[0].doi == "10.1000/xyz"


def test_latin1_medline_reads_as_the_utf8_one() -> None:
    utf8, latin1 = read_records(MEDLINE), read_records(MEDLINE_LATIN1)
    assert [r.title for r in latin1.records] == [r.title for r in utf8.records]
    assert [r.doi for r in latin1.records] == [r.doi for r in utf8.records]
    assert (
        latin1.records[3]
        .fields["AD"][0]
        .startswith("Institute of Psychology, Heidelberg University, Hauptstraße 47-51")
    )
    assert latin1.sha256 != utf8.sha256


def test_wos_fields() -> None:
    result = read_records(WOS)
    first = result.records[0]
    assert first.title == (
        "Holding Yourself Captive: Perceptions of Custody During Interviews and Interrogations"
    )
    assert first.authors == ("Alceste, Fabiana", "Luke, Timothy J.", "Kassin, Saul M.")
    assert (first.year, first.volume, first.issue, first.pages, first.doi) == (
        2018,
        "7",
        "3",
        "387-397",
        CAPTIVE_DOI,
    )
    assert first.journal == "JOURNAL OF APPLIED RESEARCH IN MEMORY AND COGNITION"
    assert first.type == "Article"
    assert first.keywords[:4] == (
        "Police custody",
        "Interview",
        "Interrogation",
        "Perception of freedom",
    )
    assert first.keywords[-2:] == ("ACTORS", "SELF")
    assert len(first.fields["C1"]) == 3
    third = result.records[2]
    assert third.authors == ("Brimbal, L", "Dianiska, RE", "Swanner, JK", "Meissner, CA")
    assert third.keywords[4] == "resistance"
    assert [r.source_line for r in result.records] == [3, 39, 71]
    assert [(p.line, p.message) for p in result.problems] == [
        (104, "record has no title, abstract or DOI")
    ]


def test_wos_stray_end_and_missing_end() -> None:
    text = "FN Clarivate Analytics Web of Science\nVR 1.0\nER\nPT J\nTI One\nPT J\nTI Two\nER\nEF\n"
    records, problems, read, _ = parse_wos(text, "x.txt")
    assert [r.title for r in records] == ["One", "Two"] and read == 3
    assert [(p.line, p.message) for p in problems] == [(3, "ER without a PT before it")]


def test_bibtex_fields_and_problems() -> None:
    result = read_records(BIBTEX)
    rudnik = result.records[0]
    assert rudnik.title.startswith("The importance of cognitive flexibility")
    assert "({IBD})" not in rudnik.title and "(IBD)" in rudnik.abstract
    assert rudnik.authors == (
        "Rudnik, Agata",
        "Piotrowicz, Grazyna",
        "Basinska, Malgorzata A.",
        "Rashedi, Vahid",
    )
    assert (rudnik.year, rudnik.pages, rudnik.doi, rudnik.type) == (
        2019,
        "121-128",
        "10.5114/pg.2018.81081",
        "article",
    )
    assert rudnik.keywords[1] == "Crohn's disease"
    assert [r.source_line for r in result.records] == [6, 19, 39, 58]
    assert result.records[2].pmid == "21553931"
    assert [(p.line, p.message) for p in result.problems] == [
        (31, "BibTeX entry 'shen2019traditional' could not be parsed"),
        (52, "record has no title, abstract or DOI"),
    ]


def test_bibtex_entry_without_key_is_reported() -> None:
    text = (
        "@article{,\n  title = {No key}\n}\n\n@book{k1,\n  title = {A {Book}},\n  year = 1999\n}\n"
    )
    records, problems, read, _ = parse_bibtex(text, "x.bib")
    assert read == 2 and [(r.title, r.year, r.source_line) for r in records] == [
        ("A Book", 1999, 5)
    ]
    assert [(p.line, p.message) for p in problems] == [(1, "BibTeX entry has no key")]


def test_same_papers_across_formats() -> None:
    def by_doi(path: Path) -> dict[str, tuple[str, int | None]]:
        return {r.doi: (r.title, r.year) for r in read_records(path).records}

    medline, wos, bibtex = by_doi(MEDLINE), by_doi(WOS), by_doi(BIBTEX)
    assert medline[BOSWELLIA_DOI] == bibtex[BOSWELLIA_DOI]
    assert wos[CAPTIVE_DOI] == bibtex[CAPTIVE_DOI]


def write_xlsx(path: Path) -> Path:
    """An XLSX export of three real records (pubmed_zotero.ris) and one empty row."""
    frame = pd.DataFrame(
        {
            "Title": [
                "The importance of cognitive flexibility and flexibility in coping with stress "
                "for the quality of life in inflammatory bowel disease patients during "
                "biological therapy. A preliminary report.",
                "Outcomes of inflammatory bowel disease surgery in obese versus non-obese "
                "patients: a meta-analysis.",
                "",
                "Mindfulness-Based Cognitive Therapy Experiences in Youth With Inflammatory "
                "Bowel Disease and Depression: Protocol for a Mixed Methods Qualitative Study.",
            ],
            "Authors": [
                "Rudnik, Agata; Piotrowicz, Grazyna; Basinska, Malgorzata A.; Rashedi, Vahid",
                "Hicks, G.; Abdulaal, A.; Slesser, A. A. P.; Mohsen, Y.",
                "",
                "Ewais, Tatjana; Begun, Jakob; Kenny, Maura; Headey, Alan; Kisely, Steve",
            ],
            "Year": [2019, 2019, None, 2019],
            "Journal": ["Przeglad gastroenterologiczny", "Techniques in coloproctology", "", ""],
            "Volume": [14, 23, None, 8],
            "Issue": [2, 10, None, 7],
            "Start Page": ["121", "947", "", "e14432"],
            "End Page": ["128", "955", "", ""],
            "DOI": ["10.5114/pg.2018.81081", "10.1007/s10151-019-02080-0", "", "10.2196/14432"],
            "Keywords": ["biological treatment; Crohn's disease", "Obesity; Surgery", "", ""],
        }
    )
    frame.to_excel(path, index=False)
    return path


def test_xlsx_rows_are_numbered_as_in_excel(tmp_path: Path) -> None:
    result = read_records(write_xlsx(tmp_path / "export.xlsx"))
    assert result.format == "xlsx" and result.records_read == 4
    assert_invariant(result)
    hicks = result.records[1]
    assert hicks.title.startswith("Outcomes of inflammatory bowel disease surgery")
    assert (hicks.year, hicks.volume, hicks.issue, hicks.pages, hicks.doi) == (
        2019,
        "23",
        "10",
        "947-955",
        "10.1007/s10151-019-02080-0",
    )
    assert hicks.authors[2] == "Slesser, A. A. P." and hicks.keywords == ("Obesity", "Surgery")
    assert result.records[2].pages == "e14432"
    assert [r.source_line for r in result.records] == [2, 3, 5]
    assert [(p.line, p.message) for p in result.problems] == [
        (4, "row has no title, abstract or DOI")
    ]


def test_xlsx_detected_by_content_and_broken_workbook(tmp_path: Path) -> None:
    renamed = write_xlsx(tmp_path / "export.xlsx").rename(tmp_path / "export.dat")
    assert read_records(renamed).format == "xlsx"
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(InputError, match=r"broken\.xlsx.*Excel workbook"):
        read_records(broken)


def test_tsv_with_volume_issue_pages_keywords(tmp_path: Path) -> None:
    path = tmp_path / "export.tsv"
    path.write_text(
        "title\tvolume\tissue\tpages\tkeywords\nA trial\t7\t3\t387-397\tone; two\n\t\t\t\t\n"
    )
    result = read_records(path)
    assert result.format == "tsv" and result.records_read == 2
    record = result.records[0]
    assert (record.volume, record.issue, record.pages, record.keywords) == (
        "7",
        "3",
        "387-397",
        ("one", "two"),
    )
    assert [p.line for p in result.problems] == [3]


@pytest.mark.parametrize(
    ("text", "suffix", "kind"),
    [
        ("TY  - JOUR\nER  - \n", ".txt", "ris"),
        ("PMID- 1\nTI  - x\n", ".txt", "medline"),
        ("FN Clarivate Analytics Web of Science\nVR 1.0\n", ".txt", "wos"),
        ("PT J\nTI x\nER\n", ".csv", "wos"),
        ("% a comment\n@Article{key,\n title={x}}\n", ".txt", "bibtex"),
        ("title,abstract\nx,y\n", ".txt", "csv"),
        ("title\tabstract\nx\ty\n", ".txt", "tsv"),
        ("just some words\n", ".nbib", "medline"),
        ("just some words\n", ".bib", "bibtex"),
        ("just some words\n", ".doc", None),
    ],
)
def test_detect_format(text: str, suffix: str, kind: str | None) -> None:
    assert detect_format(text, suffix) == kind


def test_bad_files(tmp_path: Path) -> None:
    unknown = tmp_path / "notes.doc"
    unknown.write_text("nothing to read here\n")
    with pytest.raises(InputError, match=r"notes\.doc.*not a recognised export"):
        read_records(unknown)
    no_records = tmp_path / "empty.nbib"
    no_records.write_text("OWN - NLM\n")
    with pytest.raises(InputError, match=r"empty\.nbib.*no medline records"):
        read_records(no_records)
    binary = tmp_path / "binary.bib"
    binary.write_bytes(b"@article{a,\x00\x00\x01}")
    with pytest.raises(InputError, match=r"binary\.bib.*cannot decode"):
        read_records(binary)
    utf16 = tmp_path / "utf16.bib"
    utf16.write_bytes("@article{k, title={Ensayo clínico}}\n".encode("utf-16"))
    assert read_records(utf16).records[0].title == "Ensayo clínico"


_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300)
_LINES = st.lists(
    st.one_of(
        st.sampled_from(
            [
                *("PMID- 1", "TI  - t", "AB  - a", "      y", ""),
                *("PT J", "ER", "EF", "AU x", "   z"),
                *("@misc{k,", "title = {t},", "}", "@article{", "@string{s = {x}}"),
            ]
        ),
        _TEXT,
    ),
    max_size=30,
).map("\n".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    head=st.sampled_from(
        ["PMID- 1\n", "FN Clarivate Analytics Web of Science\nVR 1.0\n", "@article{k,\n", ""]
    ),
    body=_LINES,
)
def test_any_text_keeps_the_invariant(head: str, body: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.txt"
        path.write_text(head + body, encoding="utf-8")
        try:
            result = read_records(path)
        except InputError as error:
            assert str(path) in str(error)
            return
        assert_invariant(result)
