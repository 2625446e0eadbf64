"""Bad extraction input on purpose: each problem named by sheet and cell (or line and column),
nothing stored from a file that fails, nothing lost from earlier imports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from conftest import srma
from test_extract_helpers import fill, header, included_project, labels

GOOD = {
    "n_randomised": 20,
    "n_analysed": 18,
    "value_type": "final value",
    "dispersion": "SD",
    "mean": 12.1,
    "sd": 3.5,
    "source": "Table 2",
}


@pytest.fixture
def project(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SRMA_DATABASE_URL", database_url)
    return included_project(tmp_path / "review")


def event_count(project: Path) -> int:
    return json.loads(srma("verify", project, "--json"))["events"]


def cell_of(path: Path, sheet: str, label: str, arm: str, column: str) -> str:
    book = load_workbook(path)
    ws = book[sheet]
    number = header(ws)[column]
    row = next(r for r in ws.iter_rows(min_row=2) if r[1].value == label and r[2].value == arm)
    return row[number - 1].coordinate


def test_every_problem_is_named_and_nothing_is_stored(project: Path, tmp_path: Path) -> None:
    names = labels(project)
    form = tmp_path / "ana.xlsx"
    srma("extract", "form", project, "--reviewer", "Ana", "-o", form)
    fill(
        form,
        rows={("NIHSS", names[0], "MSC", "90 days"): GOOD},
        characteristics={(names[0], "design"): "parallel RCT"},
    )
    srma("extract", "import", project, form, "--reviewer", "Ana")
    before = event_count(project)
    bad = tmp_path / "bad.xlsx"
    fill(
        form,
        out=bad,
        rows={
            ("NIHSS", names[1], "MSC", "90 days"): {**GOOD, "mean": "abc"},
            ("NIHSS", names[1], "control", "90 days"): {**GOOD, "sd": None, "dispersion": None},
            ("NIHSS", names[2], "MSC", "90 days"): {**GOOD, "n_analysed": 25},
            ("adverse events", names[0], "MSC", "end of follow-up"): {"events": 12, "total": 10},
        },
        characteristics={(names[1], "dose"): "5 million cells", (names[1], "design"): "RCT"},
    )
    out = srma("extract", "import", project, bad, "--reviewer", "Ana", code=1)
    expected = [
        f"sheet 'NIHSS', cell {cell_of(bad, 'NIHSS', names[1], 'MSC', 'mean')}: expected a "
        "number, got 'abc'",
        f"sheet 'NIHSS', cell {cell_of(bad, 'NIHSS', names[1], 'control', 'mean')}: a mean "
        "needs its dispersion",
        f"sheet 'NIHSS', cell {cell_of(bad, 'NIHSS', names[2], 'MSC', 'n_analysed')}: "
        "n_analysed (25) is larger than n_randomised (20)",
        f"sheet 'adverse events', cell "
        f"{cell_of(bad, 'adverse events', names[0], 'MSC', 'events')}: events (12) exceed the "
        "total (10)",
        "expected a number in million cells, got '5 million cells' (write the number only; "
        "the unit is million cells)",
        "expected one of: parallel RCT, crossover RCT, cluster RCT, non-randomised controlled; "
        "got 'RCT'",
    ]
    flat = " ".join(out.split())
    for message in expected:
        assert message in flat, message
    assert "nothing stored" in out and event_count(project) == before
    problems = json.loads(
        srma("extract", "import", project, bad, "--reviewer", "Ana", "--json", code=1)
    )["problems"]
    assert len(problems) == 6 and all(p["where"].startswith("sheet '") for p in problems)
    # the earlier import is intact: a fresh form still holds it
    fresh = tmp_path / "fresh.xlsx"
    srma("extract", "form", project, "--reviewer", "Ana", "-o", fresh)
    ws = load_workbook(fresh)["NIHSS"]
    row = next(r for r in ws.iter_rows(min_row=2) if r[1].value == names[0] and r[2].value == "MSC")
    assert row[header(ws)["mean"] - 1].value == 12.1 and row[header(ws)["source"] - 1].value == (
        "Table 2"
    )


def test_unknown_studies_arms_units_and_edited_headers(project: Path, tmp_path: Path) -> None:
    names = labels(project)
    form = tmp_path / "ana.xlsx"
    srma("extract", "form", project, "--reviewer", "Ana", "-o", form)
    book = load_workbook(form)
    nihss = book["NIHSS"]
    columns = header(nihss)
    nihss.cell(row=2, column=columns["arm"], value="placebo")
    nihss.cell(row=3, column=columns["study_id"], value=999)
    nihss.cell(row=1, column=columns["sd"], value="SD (points)")
    traits = book["characteristics"]
    dose = next(r for r in traits.iter_rows(min_row=2) if r[2].value == "dose")
    dose[3].value, dose[4].value = "billion cells", 2
    book.save(form)
    out = " ".join(srma("extract", "import", project, form, "--reviewer", "Ana", code=1).split())
    assert (
        f"sheet 'NIHSS', cell {nihss.cell(row=1, column=columns['sd']).coordinate}: expected "
        "the header 'sd', found 'SD (points)'" in out
    )
    # the header is checked first; fix it and the rows are checked
    book["NIHSS"].cell(row=1, column=columns["sd"], value="sd")
    book.save(form)
    out = " ".join(srma("extract", "import", project, form, "--reviewer", "Ana", code=1).split())
    assert f"sheet 'NIHSS', cell C2: {names[0]} has no arm 'placebo' for this outcome" in out
    assert "sheet 'NIHSS', cell A3: unknown study id 999" in out
    assert (
        f"sheet 'characteristics', cell D{dose[0].row}: the unit of 'dose' is "
        "'million cells' (from the protocol), found 'billion cells'" in out
    )


def test_forms_of_another_project_or_reviewer_are_refused(
    project: Path, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    other = tmp_path / "other"
    other_url = f"sqlite:///{other / 'srma.db'}"
    monkeypatch.setenv("SRMA_DATABASE_URL", other_url)
    included_project(other)
    monkeypatch.setenv("SRMA_DATABASE_URL", database_url)
    form = tmp_path / "other.xlsx"
    srma("extract", "form", other, "--reviewer", "Ana", "-o", form, "--db", other_url)
    out = srma("extract", "import", project, form, "--reviewer", "Ana", code=1)
    assert "this workbook belongs to another project ('Extraction')" in out
    mine = tmp_path / "ana.xlsx"
    srma("extract", "form", project, "--reviewer", "Ana", "-o", mine)
    assert "this workbook is Ana's form" in srma(
        "extract", "import", project, mine, "--reviewer", "Ben", code=1
    )
    assert "import it with --consensus" not in srma(
        "extract", "import", project, mine, "--reviewer", "Ana", "--consensus", code=1
    )
    assert "not a consensus workbook" in srma(
        "extract", "import", project, mine, "--reviewer", "Ana", "--consensus", code=1
    )
    assert "unknown reviewer 'Zed'" in srma(
        "extract", "form", project, "--reviewer", "Zed", "-o", mine, code=1
    )


def test_latin1_and_bad_rows_of_the_long_csv_form(project: Path, tmp_path: Path) -> None:
    names = labels(project)
    latin = tmp_path / "latin.csv"
    latin.write_bytes(f"study,field,value\n{names[0]},country,Espa\u00f1a\n".encode("latin-1"))
    out = srma("extract", "import", project, latin, "--reviewer", "Ana", code=1)
    assert "line 2: not UTF-8 text (byte 0xf1" in out and "save the CSV as UTF-8" in out
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "study,outcome,arm,time_point,field,value\n"
        f"{names[0]},,,,country,Spain\n"
        f"{names[0]},,,,country,France\n"
        f"{names[0]},NIHSS,placebo,90 days,mean,3\n"
        f"{names[0]},NIHSS,MSC,6 months,mean,3\n"
        f"{names[0]},QoL,MSC,90 days,mean,3\n"
        f"{names[0]},NIHSS,MSC,90 days,colour,3\n"
        f"Nobody 1999,,,,country,Spain\n",
        encoding="utf-8",
    )
    out = " ".join(srma("extract", "import", project, bad, "--reviewer", "Ana", code=1).split())
    for message in (
        "line 3, column 'field': repeats line 2",
        f"line 4, column 'arm': {names[0]} has no arm 'placebo' for NIHSS",
        "line 5, column 'time_point': unknown time point '6 months' for NIHSS",
        "line 6, column 'outcome': unknown outcome 'QoL'",
        "line 7, column 'field': unknown field 'colour'",
        "line 8, column 'study': unknown study 'Nobody 1999'",
    ):
        assert message in out, message
    unknown = tmp_path / "unknown.csv"
    unknown.write_text("study,field,value,colour\n", encoding="utf-8")
    assert "line 1, column 4: unknown column 'colour'" in srma(
        "extract", "import", project, unknown, "--reviewer", "Ana", code=1
    )


def test_submissions_need_required_fields_and_are_never_taken_back(
    project: Path, tmp_path: Path
) -> None:
    names = labels(project)
    form = tmp_path / "ana.xlsx"
    srma("extract", "form", project, "--reviewer", "Ana", "-o", form)
    fill(form, characteristics={(names[0], "design"): "parallel RCT"}, submitted=(names[0],))
    out = " ".join(srma("extract", "import", project, form, "--reviewer", "Ana", code=1).split())
    assert (
        f"sheet 'studies', cell E2: {names[0]} cannot be submitted: required cell source empty"
        in out
    )
    assert "cannot be submitted: required design, cell source empty" in srma(
        "extract", "submit", project, "--study", names[0], "--reviewer", "Ana", code=1
    )
    fill(form, characteristics={(names[0], "cell source"): "other"})
    srma("extract", "import", project, form, "--reviewer", "Ana")
    book = load_workbook(form)
    book["studies"]["E2"] = "no"
    book.save(form)
    out = " ".join(srma("extract", "import", project, form, "--reviewer", "Ana", code=1).split())
    assert "a submission cannot be taken back" in out


# --- any cell content is a value or a named problem, never a crash --------------------------


@pytest.fixture(scope="module")
def csv_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import os

    saved = os.environ.pop("SRMA_DATABASE_URL", None)
    try:
        return included_project(tmp_path_factory.mktemp("fuzz") / "review")
    finally:
        if saved is not None:
            os.environ["SRMA_DATABASE_URL"] = saved


class _RolledBackError(Exception):
    pass


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    field=st.sampled_from(["mean", "sd", "n_analysed", "dispersion", "value_type"]),
    value=st.one_of(
        st.text(max_size=12), st.floats(allow_nan=True).map(repr), st.integers(-5, 10**6).map(str)
    ),
)
def test_any_value_is_stored_or_named(
    csv_project: Path, tmp_path_factory, field: str, value: str
) -> None:
    from srma.review.extract.context import load_extraction
    from srma.review.extract.importing import import_form
    from srma.review.extract.reading import FormError
    from srma.review.project import open_project

    opened = open_project(csv_project)
    try:
        with opened.store.transaction() as session:
            extraction = load_extraction(session, opened)
            label = next(iter(extraction.studies)).label
        path = tmp_path_factory.mktemp("csv") / "form.csv"
        import csv

        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(
                [
                    ("study", "outcome", "arm", "time_point", "field", "value"),
                    (label, "NIHSS", "MSC", "90 days", field, value),
                ]
            )
        try:
            with opened.store.transaction() as session:
                extraction = load_extraction(session, opened)
                result = import_form(session, extraction, path, reviewer="Ana")
                assert result.values_changed in (0, 1)
                raise _RolledBackError
        except FormError as error:
            assert error.problems and all(p.where.startswith("line 2") for p in error.problems)
        except _RolledBackError:
            pass
        assert opened.store.verify().events == 24
    finally:
        opened.close()


def test_hostile_text_is_kept_as_data_everywhere(project: Path, tmp_path: Path) -> None:
    names = labels(project)
    hostile = tmp_path / "hostile.csv"
    source = '\x1b]0;pwned\x07=HYPERLINK("http://x")'
    hostile.write_text(
        "study,field,value,source\n"
        f'{names[0]},country,"=HYPERLINK(""http://x"",""y"")","{source}"\n'
        f"{names[0]},design,parallel RCT,\n{names[0]},cell source,other,\n",
        encoding="utf-8",
    )
    for name in ("Ana", "Ben"):
        srma("extract", "import", project, hostile, "--reviewer", name)
        srma("extract", "submit", project, "--study", names[0], "--reviewer", name)
    form = tmp_path / "form.xlsx"
    srma("extract", "form", project, "--reviewer", "Ana", "-o", form)
    row = next(
        r
        for r in load_workbook(form)["characteristics"].iter_rows(min_row=2)
        if r[2].value == "country"
    )
    value = row[4]
    assert value.value == '=HYPERLINK("http://x","y")' and value.data_type == "s"
    assert value.quotePrefix and "\x1b" not in str(row[5].value)
    # the form reads back as it was written: nothing changed
    assert "0 of" in srma("extract", "import", project, form, "--reviewer", "Ana")
    export = tmp_path / "export.csv"
    srma("extract", "export", project, "--outcome", "NIHSS", "-o", export)
    assert "'=HYPERLINK" in export.read_text(encoding="utf-8")
    assert "\x1b" not in srma("extract", "compare", project)
