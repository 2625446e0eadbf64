"""Bad risk-of-bias forms: every problem named with its sheet and cell (or line and column)
and what was expected, and nothing stored from a file that has one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import srma
from test_extract_helpers import included_project, labels
from test_rob_project_helpers import LOW, fill


@pytest.fixture
def project(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SRMA_DATABASE_URL", database_url)
    return included_project(tmp_path / "review")


def events(project: Path) -> int:
    from sqlalchemy import func, select

    from srma.review.project import open_project
    from srma.store import Event

    opened = open_project(project)
    try:
        with opened.store.transaction() as session:
            return int(session.execute(select(func.count(Event.id))).scalar_one())
    finally:
        opened.close()


def problems(project: Path, form: Path, *options: str, reviewer: str = "Ana") -> list[tuple[str, str]]:  # fmt: skip  # noqa: E501
    before = events(project)
    found = json.loads(
        srma("rob", "import", project, form, "--reviewer", reviewer, "--json", *options, code=1)
    )
    assert found["stored"] == 0 and events(project) == before
    return [(p["where"], p["message"]) for p in found["problems"]]


def test_every_problem_is_named_and_nothing_is_stored(project: Path, tmp_path: Path) -> None:
    names = labels(project)
    form = tmp_path / "ana.xlsx"
    srma("rob", "form", project, "--reviewer", "Ana", "-o", form)
    fill(
        form,
        {
            (names[0], "NIHSS"): {**LOW, "1.1": "maybe"},  # not an answer
            (names[1], "NIHSS"): {**LOW, "2.6": None},  # asked, not answered
            (names[2], "NIHSS"): {**LOW, "2.4": "Y"},  # answered, not asked
            (names[3], "NIHSS"): {**LOW, "D5 judgement": "High"},  # override without reason
            (names[4], "NIHSS"): {**LOW, "D1 judgement": "Lowish", "D5 reason": "why not"},
            (names[5], "NIHSS"): {**LOW, "3.1": None, "overall judgement": "Low"},
            (names[5], "Barthel index"): {**LOW, "3.1": "N", "3.2": "Y"},  # fine
        },
        submitted=(names[0],),
    )
    sheet = "sheet 'risk of bias'"
    assert problems(project, form) == [
        (f"{sheet}, cell D2", "'maybe' is not an answer to 1.1; expected Y/PY/PN/N/NI"),
        (
            f"{sheet}, cell P5",
            "rob2 D2 (Bias due to deviations from intended interventions): question 2.6 is not "
            "answered, and it is asked; expected Y/PY/PN/N/NI",
        ),
        (
            f"{sheet}, cell N8",
            "rob2 D2 (Bias due to deviations from intended interventions): question 2.4 is "
            "answered 'Y', but it is asked only if Y/PY to 2.3 (2.3 is NA); expected no answer "
            "or NA",
        ),
        (
            f"{sheet}, cell AS11",
            "rob2 D5 (Bias in selection of the reported result): the judgement 'High' overrides "
            "the proposed 'Low'; an override needs a reason",
        ),
        (
            f"{sheet}, cell H14",
            "'Lowish' is not a judgement of rob2; expected one of Low, Some concerns, High",
        ),
        (
            f"{sheet}, cell AS14",
            "rob2 D5 (Bias in selection of the reported result): a reason is recorded only for "
            "an override, and 'Low' is the tool's proposal",
        ),
        (
            f"{sheet}, cell AU17",
            "the overall judgement comes once every domain is judged (D3 not assessed yet)",
        ),
        (
            "sheet 'studies', cell E2",
            f"{names[0]} cannot be submitted: not judged yet: NIHSS: D1; Barthel index: D1, D2, "
            "D3, D4, D5; adverse events: D1, D2, D3, D4, D5",
        ),
    ]
    # fixed, it imports; a study with a domain not judged cannot be submitted
    fill(
        form,
        {
            (names[0], "NIHSS"): {"1.1": "Y"},
            (names[1], "NIHSS"): {"2.6": "PY"},
            (names[2], "NIHSS"): {"2.4": None},
            (names[3], "NIHSS"): {"D5 reason": "the registry lists another primary outcome"},
            (names[4], "NIHSS"): {"D1 judgement": None, "D5 reason": None},
            (names[5], "NIHSS"): {"3.1": "Y"},
        },
    )
    assert problems(project, form) == [
        (
            "sheet 'studies', cell E2",
            f"{names[0]} cannot be submitted: not judged yet: Barthel index: D1, D2, D3, D4, "
            "D5; adverse events: D1, D2, D3, D4, D5",
        )
    ]
    fill(form, {}, submitted=())
    from openpyxl import load_workbook

    book = load_workbook(form)
    book["studies"]["E2"].value = "no"
    book.save(form)
    stored = json.loads(srma("rob", "import", project, form, "--reviewer", "Ana", "--json"))
    assert stored["studies_changed"] == names and stored["submitted"] == []
    refused = srma("rob", "submit", project, "--study", names[0], "--reviewer", "Ana", code=1)
    assert "not judged yet: Barthel index: D1, D2, D3, D4, D5" in refused


def test_unknown_rows_and_edited_headers(project: Path, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    names = labels(project)
    form = tmp_path / "ana.xlsx"
    srma("rob", "form", project, "--reviewer", "Ana", "-o", form)
    book = load_workbook(form)
    sheet = book["risk of bias"]
    sheet["A2"].value = 999  # an unknown study
    sheet["B3"].value = "Somebody 1999"  # a label that is not the study's
    sheet["C4"].value = "mortality"  # an outcome the protocol does not have
    sheet["A6"].value, sheet["B6"].value, sheet["C6"].value = (  # a row twice
        sheet["A5"].value,
        sheet["B5"].value,
        sheet["C5"].value,
    )
    book.save(form)
    found = problems(project, form)
    assert found[0] == (
        "sheet 'risk of bias', cell A2",
        "unknown study id 999 (rows are matched by study_id; write a fresh form if studies "
        "changed)",
    )
    assert found[1][0] == "sheet 'risk of bias', cell B3" and "labelled" in found[1][1]
    assert found[2] == (
        "sheet 'risk of bias', cell C4",
        "unknown outcome 'mortality'; the protocol's outcomes are: NIHSS, Barthel index, "
        "adverse events",
    )
    assert found[3][0] == "sheet 'risk of bias', cell A6" and "repeats row 5" in found[3][1]
    book = load_workbook(form)
    book["risk of bias"]["D1"].value = "1.1 random?"
    book.save(form)
    assert problems(project, form) == [
        (
            "sheet 'risk of bias', cell D1",
            "expected the header '1.1', found '1.1 random?' (headers must stay as srma wrote them)",
        )
    ]
    assert names  # the project's studies are untouched


def test_a_form_of_another_reviewer_project_tool_or_assessment(
    project: Path, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = labels(project)
    ana = tmp_path / "ana.xlsx"
    srma("rob", "form", project, "--reviewer", "Ana", "-o", ana)
    fill(ana, {(names[0], "NIHSS"): LOW})
    assert problems(project, ana, reviewer="Ben") == [
        ("sheet 'srma'", "this workbook is Ana's form; an assessor imports only their own "
         "(Ben was given)"),
    ]  # fmt: skip
    refused = srma("rob", "import", project, ana, "--consensus", "--reviewer", "Cy", code=1)
    assert "no study has been submitted by every assessor it needs yet" in refused
    extraction = tmp_path / "extraction.xlsx"
    srma("extract", "form", project, "--reviewer", "Ana", "-o", extraction)
    assert problems(project, extraction) == [
        (
            "sheet 'srma'",
            "this is a form of 'extraction', not a risk-of-bias form (import it with its own "
            "command)",
        )
    ]
    # the protocol's tool changes: a form for the old one is refused
    protocol = project / "review.toml"
    text = protocol.read_text(encoding="utf-8")
    protocol.write_text(text.replace('tool = "rob2"', 'tool = "robins-i"'), encoding="utf-8")
    [(where, message)] = problems(project, ana)
    assert where == "sheet 'srma'" and message.startswith(
        "a form for rob2 at result level (effect of assignment); the protocol now says "
        "robins-i at result level (effect of assignment)"
    )
    protocol.write_text(text, encoding="utf-8")
    # another project's form
    monkeypatch.setenv("SRMA_DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    other = included_project(tmp_path / "other")
    found = problems(other, ana)
    assert found == [
        (
            "sheet 'srma'",
            "this workbook belongs to another project ('Extraction'); write a form for this one "
            "with `srma rob form`",
        )
    ]
    monkeypatch.setenv("SRMA_DATABASE_URL", database_url)


def test_long_form_problems(project: Path, tmp_path: Path) -> None:
    names = labels(project)
    form = tmp_path / "ana.csv"
    form.write_text(
        "study,outcome,field,value\n"
        f"{names[0]},NIHSS,1.1,Y\n"
        f"{names[0]},NIHSS,9.9,Y\n"
        "Nobody 2000,NIHSS,1.1,Y\n"
        f"{names[0]},mortality,1.1,Y\n"
        f"{names[0]},NIHSS,1.1,N\n",
        encoding="utf-8",
    )
    found = problems(project, form)
    assert found[0][0] == "line 3, column 'field'" and "unknown field '9.9'" in found[0][1]
    assert found[1][0] == "line 4, column 'study'" and "unknown study 'Nobody 2000'" in found[1][1]
    assert found[2] == (
        "line 5, column 'outcome'",
        "unknown outcome 'mortality'; the protocol's outcomes are: NIHSS, Barthel index, "
        "adverse events",
    )
    assert found[3] == ("line 6, column 'field'", "repeats line 2")
    assert found[4][0] == "line 2, column 'value' (1.2)" and "1.2 is not answered" in found[4][1]
    form.write_bytes("study,field,value\nM\xfcller 2001,1.1,Y\n".encode("latin-1"))
    assert problems(project, form) == [
        ("line 2", "not UTF-8 text (byte 0xfc; Latin-1 or Windows-1252?): save the CSV as UTF-8")
    ]
    form.write_text("study,domain,value\n", encoding="utf-8")
    assert problems(project, form)[0][0] == "line 1, column 2"


def test_resolve_names_what_is_wrong(project: Path, tmp_path: Path) -> None:
    names = labels(project)
    for name in ("Ana", "Ben"):
        form = tmp_path / f"{name}.xlsx"
        srma("rob", "form", project, "--reviewer", name, "-o", form)
        rows = {(label, o): LOW for label in names for o in ("NIHSS", "Barthel index", "adverse events")}  # fmt: skip  # noqa: E501
        fill(form, rows, submitted=tuple(names))
        srma("rob", "import", project, form, "--reviewer", name)
    resolve = ("rob", "resolve", project, "--study", names[0], "--reviewer", "Cy")
    assert "give --outcome (NIHSS, Barthel index, adverse events)" in srma(
        *resolve, "--domain", "D1", "--value", "Low", code=1
    )
    assert "unknown question or domain 'D9'" in srma(
        *resolve, "--outcome", "NIHSS", "--domain", "D9", "--value", "Low", code=1
    )
    refused = srma(*resolve, "--outcome", "NIHSS", "--domain", "D1", "--value", "Poor", code=1)
    assert "'Poor' is not a judgement of rob2; expected one of Low, Some concerns, High" in refused
    refused = srma(*resolve, "--outcome", "NIHSS", "--domain", "D1", "--value", "Low",
                   "--reason", "because", code=1)  # fmt: skip
    assert "a reason is recorded only for an override" in refused
