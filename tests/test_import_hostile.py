"""Hostile exports (issue 10): nothing lost silently, nothing rewritten, no traceback, no hang.

The inputs are in tests/fixtures/hostile_imports/ (see its README): real
records with one kind of damage or one variant of a format each.  Every
result keeps ``records_read == stored + problems``, and every record that
the damage did not touch comes back as it was.
"""

from __future__ import annotations

import datetime
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from srma import InputError
from srma.review.identify import records as records_module
from srma.review.identify.counting import record_starts
from srma.review.identify.decoding import decode_export
from srma.review.identify.importing import import_files
from srma.review.identify.records import ImportResult, parse_ris, read_records
from srma.review.project import init_project

HOSTILE = Path(__file__).parent / "fixtures" / "hostile_imports"
EXPORTS = Path(__file__).parent / "fixtures" / "exports"


def check(result: ImportResult) -> ImportResult:
    """The invariant, and every problem and note pointing into the file."""
    assert result.records_read == len(result.records) + len(result.problems)
    for item in result.problems + result.notes:
        assert item.file == result.path and item.line >= 1
    return result


def read(name: str) -> ImportResult:
    return check(read_records(HOSTILE / name))


def titles(result: ImportResult) -> list[str]:
    return [record.title for record in result.records]


def problems(result: ImportResult) -> list[tuple[int, str]]:
    return [(problem.line, problem.message) for problem in result.problems]


# --- RIS separators and damaged start tags -------------------------------------------------

SEPARATORS = sorted(p.name for p in HOSTILE.glob("ris_separator_*.ris"))


def test_there_is_a_fixture_for_each_of_the_twelve_separators() -> None:
    assert len(SEPARATORS) == 12


@pytest.mark.parametrize("name", SEPARATORS)
def test_every_ris_separator_variant_reads_as_the_standard_one(name: str) -> None:
    standard = read("ris_separator_2sp_dash_space.ris")
    variant = read(name)
    assert variant.format == "ris" and variant.problems == ()
    assert [(r.title, r.doi, r.authors, r.journal, r.pages) for r in variant.records] == [
        (r.title, r.doi, r.authors, r.journal, r.pages) for r in standard.records
    ]
    assert len(variant.records) == 3


@pytest.mark.parametrize(
    ("name", "line", "start"),
    [
        ("ris_damaged_ty_with_er.ris", 16, "TY"),
        ("ris_damaged_ty_without_er.ris", 15, "TY"),
        ("medline_pmld.nbib", 75, "PMID"),
        ("wos_damaged_pt.txt", 39, "PT"),
    ],
)
def test_a_damaged_start_tag_is_a_problem_not_notes(name: str, line: int, start: str) -> None:
    result = read(name)
    message = f"record at line {line} has no {start} start tag; its fields were not imported"
    assert (line, message) in problems(result)
    assert not any(note.line == line for note in result.notes)


def test_the_records_around_a_damaged_ty_keep_their_own_fields() -> None:
    intact = read("ris_separator_2sp_dash_space.ris").records
    for name in ("ris_damaged_ty_with_er.ris", "ris_damaged_ty_without_er.ris"):
        result = read(name)
        assert [(r.title, r.doi, r.journal) for r in result.records] == [
            (r.title, r.doi, r.journal) for r in (intact[0], intact[2])
        ]


def test_medline_pmid_with_a_space_before_the_hyphen_is_read() -> None:
    result = read("medline_pmid_space.nbib")
    assert result.problems == () and len(result.records) == 3
    assert result.records[1].pmid == "29459515"


@pytest.mark.parametrize(
    "line", ["Ty  - JOUR", "ty  - JOUR", "TY !- JOUR", "TZ  - JOUR", "TY  = JOUR", "XY  - CHAP"]
)
def test_any_damaged_ty_line_is_reported(line: str) -> None:
    text = f"TY  - JOUR\nTI  - One\nER  - \n\n{line}\nTI  - Two\nER  - \n"
    records, found, read_count, _ = parse_ris(text, "x.ris")
    assert [r.title for r in records] == ["One"] and read_count == 2
    assert [p.line for p in found] == [5]


def test_a_tag_of_its_own_outside_a_record_stays_a_note() -> None:
    records, found, _, notes = parse_ris("TY  - JOUR\nTI  - One\nER  - \nNL  - J Res\n", "x.ris")
    assert len(records) == 1 and found == []
    assert [(n.line, n.message) for n in notes] == [(4, "tag NL outside a record, ignored")]


# --- BibTeX --------------------------------------------------------------------------------

HICKS = (
    "Outcomes of inflammatory bowel disease surgery in obese versus non-obese patients: "
    "a meta-analysis."
)
ALCESTE = "Holding Yourself Captive: Perceptions of Custody During Interviews and Interrogations"


@pytest.mark.parametrize(
    "name",
    [
        "bibtex_type_underscore_digits.bib",
        "bibtex_two_on_a_line.bib",
        "bibtex_string_macros.bib",
        "bibtex_parentheses_comment_preamble.bib",
    ],
)
def test_bibtex_variants_are_read(name: str) -> None:
    result = read(name)
    assert result.problems == () and titles(result) == [HICKS, ALCESTE]
    hicks, alceste = result.records
    assert hicks.journal == "Techniques in coloproctology" and hicks.pages == "947-955"
    assert alceste.journal == "JOURNAL OF APPLIED RESEARCH IN MEMORY AND COGNITION"
    assert alceste.doi == "10.1016/j.jarmac.2018.03.001"


def test_bibtex_types_macros_and_lines() -> None:
    types = read("bibtex_type_underscore_digits.bib")
    assert [r.type for r in types.records] == ["journal_article", "article2"]
    macros = read("bibtex_string_macros.bib")
    assert macros.records[0].fields["month"] == "October" and macros.records[0].year == 2019
    assert [r.source_line for r in read("bibtex_two_on_a_line.bib").records] == [1, 1]


def test_bibtex_latex_becomes_unicode() -> None:
    (record,) = read("bibtex_latex_accents.bib").records
    assert record.title.endswith("in the fault diagnosis of rotors in induction machines")
    assert record.journal == "IEEE Latin America Transactions" and record.pages == "339-343"
    assert record.fields["address"] == (
        "Universidad Simón Bolívar, Caracas, Venezuela; Departamento de Electrónica Y "
        "Circuitos, Universidad Simón Bolívar"
    )


def test_a_bibtex_entry_whose_at_is_damaged_is_reported() -> None:
    result = read("bibtex_damaged_at.bib")
    assert titles(result) == [HICKS, ALCESTE]
    ((line, message),) = problems(result)
    assert line == 13 and message.startswith("lines 13-25 hold BibTeX fields without an @type{key")


@pytest.mark.parametrize(
    ("junk", "read_count"),
    [
        ("@article{broken, title = {never closed,\n", 3),
        ('@article{quoted, title = "never closed,\n', 3),
        ("@article{nokey title = {x}}\n", 3),
        ("@string{broken = }\n", 2),
        ("@comment{never closed\n", 2),
    ],
)
def test_a_broken_item_between_bibtex_entries_costs_only_itself(junk: str, read_count: int) -> None:
    text = f"@article{{a, title = {{One}}}}\n{junk}\n@article{{b, title = {{Two}}}}\n"
    records, _problems, count, _notes = records_module.parse_bibtex(text, "x.bib")
    assert [r.title for r in records] == ["One", "Two"] and count == read_count


# --- tables ----------------------------------------------------------------------------------

EMBASE_TITLES = [
    "Duplication cysts: Diagnosis, management, and the role of endoscopic ultrasound",
    "Endoscopic ultrasound-guided fine-needle aspiration in the diagnosis of foregut "
    "duplication cysts: The value of demonstrating detached ciliary tufts in cyst fluid",
]


@pytest.mark.parametrize("name", ["csv_trailing_delimiter.csv", "csv_blank_first_lines.csv"])
def test_trailing_delimiters_and_blank_first_lines(name: str) -> None:
    result = read(name)
    assert result.problems == () and len(result.records) == 3
    assert titles(result)[:2] == EMBASE_TITLES
    first = result.records[0]
    assert (first.journal, first.year, first.authors) == (
        "Endoscopic Ultrasound", 2014, ("Liu R.", "Adler D.G."),
    )  # fmt: skip


def test_an_unclosed_quote_costs_its_row_only() -> None:
    result = read("csv_unclosed_quote.csv")
    ((line, message),) = problems(result)
    assert line == 2 and "a quote opened on this line is not closed" in message
    assert titles(result)[0] == EMBASE_TITLES[1] and len(result.records) == 2


def test_rows_with_extra_or_missing_cells_are_reported_by_line() -> None:
    result = read("csv_extra_and_missing_cells.csv")
    assert problems(result) == [
        (3, "row has 5 cells, the header 4; not imported"),
        (4, "row has 3 cells, the header 4; not imported"),
    ]
    assert titles(result) == EMBASE_TITLES[:1]


def test_duplicate_column_names_take_the_first_filled_cell() -> None:
    assert titles(read("csv_duplicate_columns.csv")) == EMBASE_TITLES


def test_ieee_xplore_columns() -> None:
    result = read("ieee_xplore.csv")
    viola = result.records[0]
    assert viola.title.startswith("Influence of the motor load inertia")
    assert viola.journal == "IEEE Latin America Transactions" and viola.year == 2005
    assert viola.authors == ("Viola, J.", "Strefezza, M.", "Restrepo, J.")
    assert (viola.volume, viola.issue, viola.pages) == ("3", "4", "339-343")
    assert viola.doi == "10.1109/tla.2005.1642429" and viola.abstract.startswith("During")


def test_a_csv_with_a_trailing_delimiter_on_every_line(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("title,abstract,\nFirst title,An abstract,\n")
    (record,) = check(read_records(path)).records
    assert (record.title, record.abstract) == ("First title", "An abstract")


def test_a_one_megabyte_cell_is_a_problem_of_its_row(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text(f'title,abstract\nOne,a\nTwo,"{"x" * 1_000_000}\nThree,c\n')
    result = check(read_records(path))
    assert titles(result) == ["One", "Three"] and [p.line for p in result.problems] == [3]


def _workbook(path: Path) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Export"
    sheet.append(["Document Title", "Publication Year", "DOI"])
    sheet.append([EMBASE_TITLES[0], 2014, "10.4103/2303-9027.138783"])
    sheet["A4"] = EMBASE_TITLES[1]
    sheet["B4"] = datetime.datetime(2004, 1, 2)
    sheet["C4"] = '=CONCAT("10.1002/", "cncr.20369")'
    sheet["A5"] = "A case of completely isolated enteric duplication cyst"
    sheet["B5"] = 2019.0
    workbook.save(path)
    return path


def test_xlsx_formula_without_a_saved_value_names_sheet_and_cell(tmp_path: Path) -> None:
    result = check(read_records(_workbook(tmp_path / "export.xlsx")))
    assert problems(result) == [
        (3, "row has no title, abstract or DOI"),
        (
            4,
            'Export!C4 holds a formula with no saved value (=CONCAT("10.1002/", "cncr.20369")); '
            "open and save the file in Excel, or export it as CSV",
        ),
    ]
    assert [(r.source_line, r.year) for r in result.records] == [(2, 2014), (5, 2019)]


def test_a_zip_that_is_no_workbook(tmp_path: Path) -> None:
    import zipfile

    path = tmp_path / "export.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(HOSTILE / "ris_utf8.ris", "export.ris")
    with pytest.raises(InputError, match=r"export\.xlsx.*a ZIP archive, not an Excel workbook"):
        read_records(path)


# --- encodings, NUL, binary -----------------------------------------------------------------


def _reference() -> list[tuple[str, str, str, object]]:
    result = read("ris_utf8.ris")
    return [(r.title, r.abstract, r.doi, r.fields.get("author_address")) for r in result.records]


@pytest.mark.parametrize("name", ["ris_cp1252.ris", "ris_utf16le_no_bom.ris", "ris_utf8.ris"])
def test_whole_file_encodings_read_as_utf8(name: str) -> None:
    result = read(name)
    assert [
        (r.title, r.abstract, r.doi, r.fields.get("author_address")) for r in result.records
    ] == (_reference())


def test_latin1_reads_its_accents() -> None:
    (viola, _alceste) = read("ris_latin1.ris").records
    assert viola.fields["author_address"] == ["Universidad Simón Bolívar, Caracas, Venezuela"]


def test_one_bad_byte_damages_its_line_only() -> None:
    result = read("ris_utf8_one_bad_byte.ris")
    reference = _reference()
    got = [(r.title, r.abstract, r.doi, r.fields.get("author_address")) for r in result.records]
    assert got[0] == reference[0] and got[2] == reference[2]
    # a line with no UTF-8 character is single-byte text: 0xF6 is the ö of Windows-1252
    assert got[1][0] == reference[1][0].replace("motor", "mötor", 1)
    assert got[1][3] == reference[1][3]  # the accents of the same record survive
    assert [(n.line, n.message) for n in result.notes] == [
        (18, "line 18 holds bytes that are not UTF-8; they were read as Windows-1252")
    ]


def test_a_bad_byte_on_a_line_with_utf8_characters_becomes_u_fffd(tmp_path: Path) -> None:
    path = tmp_path / "export.ris"
    data = (
        (HOSTILE / "ris_utf8.ris").read_bytes().replace("“Harmless".encode(), b"\xe2\x80Harmless")
    )
    path.write_bytes(data)
    result = check(read_records(path))
    assert result.records[0].title.endswith("of the \ufffdHarmless Error” Rule")
    assert result.records[1].fields["author_address"] == _reference()[1][3]
    assert [n.message for n in result.notes] == [
        "line 5 holds bytes that are not UTF-8; they were replaced by U+FFFD"
    ]
    texts = str([(r.title, r.abstract, r.fields) for r in result.records])
    assert "\u00e2\u0080" not in texts and "Ã" not in texts


def test_a_byte_inserted_in_utf16_shifts_only_its_line() -> None:
    result = read("ris_utf16_shifted_byte.ris")
    reference = _reference()
    got = [(r.title, r.abstract, r.doi, r.fields.get("author_address")) for r in result.records]
    assert got[0] == reference[0] and got[2] == reference[2]
    assert got[1][1:] == reference[1][1:]


def test_a_nul_makes_its_record_a_problem() -> None:
    result = read("ris_nul_in_record.ris")
    assert len(result.records) == 2 and [r.title for r in result.records] == [
        t for t, *_ in (_reference()[0], _reference()[2])
    ]
    ((line, message),) = problems(result)
    assert line == 14 and message.startswith("line 18 holds a NUL byte")


def test_a_binary_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "export.ris"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(InputError, match=r"export\.ris.*cannot decode the file as text"):
        read_records(path)


def test_decoding_one_bad_byte_in_a_single_byte_file_is_windows_1252() -> None:
    decoded = decode_export("Ensayo clínico\n".encode("cp1252"), "x")
    assert (decoded.text, decoded.encoding) == ("Ensayo clínico\n", "windows-1252")


def test_campaign_seed7_case831_junk_does_not_make_a_latin1_file_utf8() -> None:
    """Random bytes inserted into a Latin-1 file held a valid UTF-8 sequence by chance;
    the whole file was then read as UTF-8 and every Latin-1 letter became U+FFFD."""
    result = read("campaign_seed7_case831.nbib")
    reference = read_records(EXPORTS / "pubmed_medline_latin1.nbib")
    assert [(r.title, r.abstract, r.doi) for r in result.records[1:]] == [
        (r.title, r.abstract, r.doi) for r in reference.records[1:]
    ]
    assert "Hauptstraße" in result.records[3].fields["AD"][0]


def test_campaign_seed20261203_case819_a_junk_line_of_valid_utf8_in_a_latin1_file() -> None:
    """The junk held a line break, and the line after it was valid UTF-8 (``\\xca\\x94``):
    that line alone made the Latin-1 file UTF-8.  Lines without a UTF-8 character are
    now read as Windows-1252 whatever the rest of the file is."""
    result = read("campaign_seed20261203_case819.nbib")
    reference = read_records(EXPORTS / "pubmed_medline_latin1.nbib")
    assert [(r.title, r.abstract, r.doi) for r in result.records[1:]] == [
        (r.title, r.abstract, r.doi) for r in reference.records[1:]
    ]
    assert "Hauptstraße" in result.records[3].fields["AD"][0]


def test_campaign_seed11_case4941_a_quote_that_runs_to_the_end_of_the_file() -> None:
    """A junk line opened a quote in the last cell that nothing closed: the row ran to the
    end of the file with as many cells as the header, and swallowed the rows after it."""
    result = read("campaign_seed11_case4941.csv")
    assert [r.title for r in result.records] == ["a", "a", "b", "c", "d", "e", "g", "h", "i"]
    assert (9, (
        "a quote opened on this line is not closed, so the row ran on to line 17; "
        "lines 9-10 were not imported"
    )) in problems(result)  # fmt: skip


# --- the record counter and the invariant ---------------------------------------------------


@pytest.mark.parametrize(
    "path",
    sorted(p for p in EXPORTS.iterdir() if p.suffix != ".md"),
    ids=lambda p: p.name,
)
def test_the_counter_agrees_with_the_readers_on_real_exports(path: Path) -> None:
    result = read_records(path)
    text = decode_export(path.read_bytes(), str(path)).text
    starts = record_starts(result.format, text)
    assert len(starts) == result.records_read
    assert sorted(starts) == sorted(
        [r.source_line for r in result.records] + [p.line for p in result.problems]
    )


def test_a_record_a_reader_loses_is_reported_at_its_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def losing(text: str, path: str):  # a reader with a bug: it drops the second record
        records, found, _read, notes = parse_ris(text, path)
        return records[:1] + records[2:], found, len(records) - 1 + len(found), notes

    monkeypatch.setitem(records_module._TEXT_PARSERS, "ris", losing)
    result = check(read_records(HOSTILE / "ris_utf8.ris"))
    assert result.records_read == 3 and len(result.records) == 2
    assert problems(result) == [
        (14, "looks like the start of a RIS record (TY tag), but no record was read from it")
    ]


# --- no hang ---------------------------------------------------------------------------------

_HANG_SCRIPT = """
import gzip, sys, time
from pathlib import Path
from srma.review.identify.records import read_records
folder = Path(sys.argv[1])
junk = "x{" * 250_000 + "@a{" * 100_000 + ", = \\" " * 50_000
entries = "".join(
    f"@article{{k{i}, title = {{Entry {i} on {{IBD}}}}, "
    f"author = {{M{{\\\\\\"u}}ller, A.}}, year = 2020}}\\n"
    for i in range(100_000)
)
files = {
    "junk.ris": "TY  - JOUR\\nTI  - One\\nAB  - " + junk + "\\nER  - \\n",
    "junk.bib": "@article{a, title = {One}}\\n" + junk + "\\n@article{b, title={Two}}\\n",
    "junk.csv": "title,abstract\\nOne,a\\n" + junk + "\\nTwo,b\\n",
    "junk.nbib": "PMID- 1\\nTI  - One\\nAB  - " + junk + "\\n",
    "many.bib": entries,
    "letters.bib": "@article{a, title={One}}\\n" + "x" * 10**6 + "\\n@article{b, title={Two}}\\n",
    "spaces.csv": "title,source\\nOne," + " " * 100_000 + "x\\nTwo,y\\n",
}
for name, text in files.items():
    (folder / name).write_text(text)
for packed in sorted(Path(sys.argv[2]).glob("campaign_*.gz")):  # hangs the campaign found
    files[packed.stem] = ""
    (folder / packed.stem).write_bytes(gzip.decompress(packed.read_bytes()))
for name in files:
    started = time.perf_counter()
    result = read_records(folder / name)
    assert result.records_read == len(result.records) + len(result.problems)
    print(name, len(result.records), round(time.perf_counter() - started, 2))
"""


def test_a_megabyte_of_junk_and_100_000_bibtex_entries_do_not_hang(tmp_path: Path) -> None:
    """A generous guard (issue 10 asks for no hang): the junk files take well under a second,
    the 100,000 entries a few seconds (bibtexparser 1.x took about five minutes).

    ``letters.bib`` took minutes before the search for stray BibTeX fields between
    entries was anchored at word starts; ``spaces.csv`` exercises the Embase Source
    pattern on a long cell.
    """
    completed = subprocess.run(
        [sys.executable, "-c", _HANG_SCRIPT, str(tmp_path), str(HOSTILE)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr
    stored = dict(line.split()[:2] for line in completed.stdout.splitlines())
    assert stored == {
        "junk.ris": "1", "junk.bib": "2", "junk.csv": "2", "junk.nbib": "1", "many.bib": "100000",
        "letters.bib": "2", "spaces.csv": "2",
        "campaign_seed7_case985.bib": "3",  # a megabyte of "x" between two entries
    }  # fmt: skip


# --- two imports at once ---------------------------------------------------------------------


def test_two_imports_of_one_file_at_once(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The import that stores second gets one clear line, and stores nothing."""
    from srma.review.identify import importing

    folder = tmp_path / "review"
    project = init_project(folder, title="Race", url=database_url)
    other = init_project(tmp_path / "other", title="Race", url=database_url)
    export = shutil.copy(HOSTILE / "ris_utf8.ris", tmp_path / "export.ris")
    repeated = importing._repeated_search
    raced: list[bool] = []

    def racing(*args: object) -> int | None:  # runs after the file was found not imported
        found = repeated(*args)
        if not raced:
            raced.append(True)
            import_files(other, [export])  # the other import commits first
        return found

    monkeypatch.setattr(importing, "_repeated_search", racing)
    with pytest.raises(
        InputError, match=r"export\.ris: another srma import stored this file at the same time"
    ):
        import_files(project, [export])
    monkeypatch.undo()
    (again,) = import_files(project, [export])
    assert again.already_imported_as == 1
    project.close()
    other.close()
