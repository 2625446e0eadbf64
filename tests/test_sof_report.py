"""Summary of findings tables: the HTML fragment, the standalone page, DOCX, CSV, profile."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from srma import meta
from srma.analysis.bias import small_study_tests
from srma.analysis.grade import GradeInputs, Override, assess_certainty
from srma.datasets import load
from srma.report.sof import (
    PAGE_TEXT_MM,
    SOF_COLUMNS,
    SOF_WIDTHS_MM,
    evidence_profile_frame,
    sof_frame,
    sof_html,
    write_sof_csv,
    write_sof_docx,
    write_sof_html,
)


@pytest.fixture(scope="module")
def certainties():
    bcg = load("bcg")
    result = meta(bcg, measure="RR")
    binary = assess_certainty(
        GradeInputs(
            "Tuberculosis",
            result,
            direction="lower is better",
            small_study=small_study_tests(result),
            control_risks=(bcg["events2"] / bcg["total2"]).tolist(),
            participants=int((bcg["total1"] + bcg["total2"]).sum()),
            follow_up="3 to 20 years",
            importance="critical",
            indirectness=Override(-1, "vaccine strains differ", "A. Reviewer"),
        )
    )
    normand = load("normand1999")
    continuous = assess_certainty(
        GradeInputs("Length of stay <b>&", meta(normand, measure="SMD"), importance="important")
    )
    return [binary, continuous]


def test_sof_rows_follow_gradepro(certainties) -> None:
    frame = sof_frame(certainties)
    assert list(frame.columns) == [*SOF_COLUMNS, "Footnotes"]
    first, second = frame.iloc[0], frame.iloc[1]
    absolute = certainties[0].absolute
    assert first["Outcomes"] == "Tuberculosis (follow-up: 3 to 20 years)"
    assert first["Risk with comparator"] == f"{round(absolute.assumed_per_1000)} per 1,000 c"
    assert first["Relative effect (95% CI)"].startswith("RR 0.49 (0.34 to 0.70)")
    assert first["No of participants (studies)"].endswith("(13 RCTs)")
    assert first["Certainty of the evidence (GRADE)"].startswith("⊕◯◯◯ Very low a,b")
    assert "a. Inconsistency" in first["Footnotes"] and "b. Indirectness" in first["Footnotes"]
    assert second["Risk with intervention"].startswith("SMD 0.54 lower")
    assert second["Relative effect (95% CI)"] == "—"


def test_evidence_profile_words(certainties) -> None:
    profile = evidence_profile_frame(certainties)
    row = profile.iloc[0]
    assert row["Inconsistency"] == "very serious a"
    assert row["Indirectness"] == "serious b"
    assert row["Risk of bias"] == "not serious"
    assert row["Importance"] == "CRITICAL"


def test_html_fragment_is_escaped_and_complete(certainties) -> None:
    html = sof_html(certainties, title="Summary <i>", population="adults")
    assert html.lstrip().startswith("<section") and html.rstrip().endswith("</section>")
    assert "Length of stay &lt;b&gt;&amp;" in html and "<b>&" not in html
    assert "Summary &lt;i&gt;" in html
    for certainty in certainties:
        for note in certainty.footnotes:
            assert note.split(":")[0] in html
    assert "Evidence profile" in html


def test_standalone_files(certainties, tmp_path: Path) -> None:
    page = write_sof_html(certainties, tmp_path / "sof.html", title="SoF")
    text = page.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in text and "<script" not in text
    csv = pd.read_csv(write_sof_csv(certainties, tmp_path / "sof.csv"))
    assert list(csv["Outcomes"]) == list(sof_frame(certainties)["Outcomes"])
    profile = pd.read_csv(write_sof_csv(certainties, tmp_path / "p.csv", profile=True))
    assert "Imprecision" in profile.columns


def test_docx_opens_again_with_the_table(certainties, tmp_path: Path) -> None:
    from docx import Document

    path = write_sof_docx(certainties, tmp_path / "sof.docx", title="SoF", population="adults")
    document = Document(str(path))
    sof, profile = document.tables
    assert [cell.text for cell in sof.rows[0].cells] == list(SOF_COLUMNS)
    assert sof.rows[1].cells[0].text == "Tuberculosis (follow-up: 3 to 20 years)"
    assert sof.rows[2].cells[0].text == "Length of stay <b>&"
    assert "⊕" in sof.rows[1].cells[5].text
    paragraphs = "\n".join(p.text for p in document.paragraphs)
    assert "a. Inconsistency" in paragraphs and "Population: adults" in paragraphs
    assert len(profile.rows) == 3
    assert sum(SOF_WIDTHS_MM) <= PAGE_TEXT_MM
    assert abs(sof.rows[0].cells[6].width.mm - SOF_WIDTHS_MM[6]) < 0.1


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium")
def test_html_renders_in_chromium(certainties, tmp_path: Path) -> None:
    page = write_sof_html(certainties, tmp_path / "sof.html", title="SoF")
    png = tmp_path / "sof.png"
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--screenshot={png}",
            "--window-size=1400,1200",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    from PIL import Image

    image = Image.open(png).convert("L")
    assert image.size == (1400, 1200)
    assert image.getextrema()[0] < 100  # text was drawn, not a blank page
