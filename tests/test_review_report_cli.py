"""``srma report PROJECT``: the whole review from the stored analyses (srma analyze's, run and
stored by the command), with the GRADE summary of findings of every pooled outcome, in HTML
(clean in headless Chromium) and DOCX (the summary on a landscape A4 page)."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path

import pytest

from conftest import srma
from test_analyze_project import prepared
from test_report import _chromium


@pytest.fixture(scope="module")
def written(tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = tmp_path_factory.mktemp("report")
    project = prepared(folder)
    out = srma("report", project, "-o", folder / "r.html", "--docx", folder / "r.docx")
    assert "r.html" in out and "r.docx" in out
    return project, folder / "r.html", folder / "r.docx"


def test_the_report_prints_the_stored_analysis_and_its_grade(written) -> None:  # type: ignore[no-untyped-def]
    project, page, _ = written
    # the command stored its run: the stored result is current, and equals a fresh analysis
    status = json.loads(srma("analyze", project, "--status", "--json"))
    assert [s["state"] for s in status] == ["current"]
    [outcome] = json.loads(srma("analyze", project, "--json"))["outcomes"]
    text = html.unescape(re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8")))
    text = re.sub(r"\s+", " ", text)
    grade = outcome["grade"]
    assert "BCG vaccination compared with no vaccination for people without tuberculosis" in text
    assert f"{grade['symbols']} {grade['certainty'].capitalize()}" in text
    absolute = grade["absolute"]
    assert f"{round(absolute['assumed_risk'] * 1000)} per 1,000" in text
    assert "Evidence profile" in text and "No outcome has been rated with GRADE" not in text


def test_the_report_opens_cleanly_in_chromium(written, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, page, _ = written
    control = tmp_path / "control.html"
    control.write_text('<html><body><script>console.error("srma-control")</script></body></html>')
    seen = _chromium("--dump-dom", control.as_uri(), user_data=tmp_path / "a")
    assert "srma-control" in seen.stderr  # the console check can see an error
    shown = _chromium("--dump-dom", page.as_uri(), user_data=tmp_path / "b")
    assert shown.returncode == 0 and "Summary of findings" in shown.stdout
    console = [line for line in shown.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []


def test_the_docx_holds_the_summary_on_a_landscape_page(written) -> None:  # type: ignore[no-untyped-def]
    from docx import Document
    from docx.enum.section import WD_ORIENT

    _, _, path = written
    document = Document(str(path))
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    assert "Summary of findings" in captions and "Evidence profile" in captions
    assert any(s.orientation == WD_ORIENT.LANDSCAPE for s in document.sections)
    assert document.sections[-1].orientation == WD_ORIENT.PORTRAIT
    headers = [[c.text for c in t.rows[0].cells] for t in document.tables]
    assert any("Certainty of the evidence (GRADE)" in h for h in headers)


def test_options_of_one_analysis_are_refused_for_a_project(written, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    project, _, _ = written
    out = srma("report", project, "-o", tmp_path / "r.html", "--measure", "RR", code=1)
    assert "--measure: a project's report reads these from the project" in out
    out = srma("report", project, "-o", tmp_path / "r.pdf", code=1)
    assert "the report must end in .html" in out


def test_a_forest_of_more_studies_than_forest_rows_is_condensed_with_a_table(
    written, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    project = written[0]
    page = tmp_path / "r.html"
    srma("report", project, "-o", page, "--forest-rows", "5")
    text = html.unescape(page.read_text(encoding="utf-8"))
    assert "Each study's effect and weight (the forest plot is condensed)." in text
    [outcome] = json.loads(srma("analyze", project, "--status", "--json"))
    assert outcome["state"] == "current"
    result = json.loads(srma("analyze", project, "--json"))["outcomes"][0]["result"]
    for label, weight in zip(result["labels"], result["weights"], strict=True):
        assert f">{label}</td>" in text  # every study named in the table
        assert f"{weight:.2f}" in text
    assert "12 studies exceed max_rows = 5" in text  # the condensed plot says why
