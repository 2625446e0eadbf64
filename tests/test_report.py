"""The HTML and DOCX reports: content from result objects, rendering in headless Chromium.

Chromium (Debian's chromium package) is installed by `make test`; the browser
test needs it and fails, rather than skips, without it.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from conftest import SHARED
from srma import meta, small_study_tests
from srma.cli import app
from srma.datasets import load
from srma.report.document import Outcome, build_report, write_docx, write_html
from srma.report.methods import methods_paragraph
from srma.review.appraise.risk_of_bias import read_rob
from srma.review.flow.prisma import read_prisma

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


@pytest.fixture(scope="module")
def report_files(tmp_path_factory) -> tuple[Path, Path, object]:
    folder = tmp_path_factory.mktemp("report")
    trials = load("normand1999")
    result = meta(trials, measure="MD", method="REML", test="knha")
    bcg = load("bcg")
    rr = meta(bcg, measure="RR", method="DL")
    content = build_report(
        "Review report",
        [
            Outcome("Length of stay", result, arms=trials),
            Outcome("Tuberculosis", rr, arms=bcg, small_study=small_study_tests(rr)),
        ],
        rob=read_rob(
            SHARED / "reference" / "huang2024_rob.csv", "rob1", label_columns=["study", "year"]
        ),
        prisma=read_prisma(SHARED / "reference" / "huang2024_prisma.csv"),
    )
    html = write_html(content, folder / "report.html")
    docx = write_docx(content, folder / "report.docx")
    return html, docx, (result, rr)


def _chromium(*args: str, user_data: Path) -> subprocess.CompletedProcess:
    browser = shutil.which("chromium")
    assert browser is not None, "chromium is needed (make test installs Debian's chromium)"
    return subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={user_data}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_html_holds_the_numbers_of_the_results(report_files) -> None:
    html, _, (result, rr) = report_files
    text = html.read_text()
    assert f"{result.estimate:.2f} (95% CI {result.ci_lower:.2f} to {result.ci_upper:.2f}" in text
    exp = rr.back_transformed()
    assert f"Pooled RR {exp['estimate']:.2f}" in text
    assert "Hartung-Knapp-Sidik-Jonkman" in text  # methods follow the settings used
    assert "DerSimonian R, Laird N (1986)" in text
    assert text.count("<svg") >= 6  # PRISMA, two RoB, two forests, a funnel: inlined
    assert "<img" not in text and "<link" not in text  # self-contained


def test_methods_paragraph_follows_the_settings() -> None:
    trials = load("normand1999")
    text, references = methods_paragraph(meta(trials, measure="SMD", method="EE"))
    assert "common-effect" in text and "prediction interval" not in text
    text, references = methods_paragraph(meta(trials, measure="SMD", method="PM", test="adhoc"))
    assert "Paule-Mandel" in text and "ad hoc" in text
    assert any("Paule RC" in ref for ref in references)


def test_report_renders_in_headless_chromium_without_console_errors(report_files, tmp_path):
    html, _, _ = report_files
    control = tmp_path / "control.html"
    control.write_text('<html><body><script>console.error("srma-control")</script></body></html>')
    seen = _chromium("--dump-dom", control.as_uri(), user_data=tmp_path / "a")
    assert "srma-control" in seen.stderr  # the console check can see an error
    rendered = _chromium("--dump-dom", html.as_uri(), user_data=tmp_path / "b")
    assert rendered.returncode == 0
    assert "Review report" in rendered.stdout and "<svg" in rendered.stdout
    console = [line for line in rendered.stderr.splitlines() if ":CONSOLE" in line]
    assert console == []
    shot = tmp_path / "shot.png"
    _chromium(
        f"--screenshot={shot}", "--window-size=1200,1600", html.as_uri(), user_data=tmp_path / "c"
    )
    assert shot.stat().st_size > 20_000


def test_docx_has_headings_tables_and_figures(report_files) -> None:
    from docx import Document

    _, docx, (result, _) = report_files
    document = Document(str(docx))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert {"Study selection", "Risk of bias", "Length of stay", "References"} <= set(headings)
    # per outcome: the results table and the per-study data, as in the HTML
    assert len(document.tables) == 4
    assert document.tables[0].rows[-1].cells[0].text == "Total"
    assert document.tables[0].rows[-1].cells[1].text == f"{result.estimate:.2f}"
    assert document.tables[1].rows[0].cells[0].text == "study"
    assert len(document.tables[1].rows) == result.k + 1
    assert len(document.inline_shapes) >= 6


def test_docx_is_a4_with_readable_forest_text_and_right_aligned_numbers(report_files) -> None:
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from PIL import Image

    from srma.report.document import DOCX_DPI

    _, docx, _ = report_files
    document = Document(str(docx))
    for section in document.sections:
        sides = sorted([section.page_width.mm, section.page_height.mm])
        assert sides == pytest.approx([210.0, 297.0], abs=0.5)
        assert 15 <= section.left_margin.mm <= 25
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    figures = [text for text in captions if text.startswith("Figure")]
    forests = [i for i, text in enumerate(figures) if "Forest plot" in text]
    assert [figures[i] for i in forests] == [
        "Figure 4. Forest plot of Length of stay: Mean difference, random effects (REML).",
        "Figure 5. Forest plot of Tuberculosis: Risk ratio, random effects (DL).",
    ]
    assert any(c.startswith("Table 1. Length of stay: per-study") for c in captions)
    # the drawn width of each forest (pixels / dpi) against its printed width
    shapes = list(document.inline_shapes)
    for index in forests:
        shape = shapes[index]
        blob = document.part.related_parts[
            shape._inline.graphic.graphicData.pic.blipFill.blip.embed
        ]
        drawn = Image.open(io.BytesIO(blob.blob)).size[0] / DOCX_DPI
        printed = shape.width.inches
        assert 8.0 * printed / drawn >= 7.0 - 1e-6  # the smallest forest text is 8 pt drawn
    numbers = document.tables[0].rows[1].cells[1].paragraphs[0]
    names = document.tables[0].rows[1].cells[0].paragraphs[0]
    assert numbers.alignment == WD_ALIGN_PARAGRAPH.RIGHT and names.alignment is None


def test_references_follow_the_methods_used(report_files) -> None:
    html, _, _ = report_files
    text = html.read_text()
    references = text[text.index("<h2>References</h2>") :]
    for cited in (
        "Viechtbauer W (2005)",  # REML
        "DerSimonian R, Laird N (1986)",
        "Hartung J, Knapp G (2001)",
        "Egger M, Davey Smith G",
        "Begg CB, Mazumdar M (1994)",
        "Duval S, Tweedie R (2000)",
        "Viechtbauer W (2007)",  # Q-profile
        "Higgins JPT, Thompson SG, Spiegelhalter DJ (2009)",  # prediction interval
    ):
        assert cited in references, cited
    assert "Mantel N, Haenszel W" not in references  # not used
    assert 'class="num">' in text and "Forest plot of Tuberculosis" in text


def test_cli_report(tmp_path: Path) -> None:
    data = tmp_path / "bcg.csv"
    load("bcg").to_csv(data, index=False)
    out, docx = tmp_path / "r.html", tmp_path / "r.docx"
    run = CliRunner().invoke(
        app,
        [
            "report",
            str(data),
            "--measure",
            "RR",
            "-o",
            str(out),
            "--docx",
            str(docx),
            "--prisma",
            str(SHARED / "reference" / "huang2024_prisma.csv"),
        ],
    )
    assert run.exit_code == 0, run.output
    assert "Study selection" in out.read_text() and docx.stat().st_size > 10_000
    table = tmp_path / "characteristics.csv"
    table.write_text("study,country,dose\nTrial A,Korea,1e6 cells/kg\n")
    run = CliRunner().invoke(
        app,
        ["report", str(data), "--measure", "RR", "-o", str(out), "--characteristics", str(table)],
    )
    assert run.exit_code == 0, run.output
    assert "Characteristics of included studies" in out.read_text()
    assert "1e6 cells/kg" in out.read_text()
    run = CliRunner().invoke(app, ["report", str(data), "--measure", "RR", "-o", "r.txt"])
    assert run.exit_code == 1 and "must end in .html" in run.stderr


def test_cli_report_favours_label_columns_and_unmatched_rob_warning(tmp_path: Path) -> None:
    data = tmp_path / "trials.csv"
    data.write_text(
        "study,events1,total1,events2,total2\n"
        "Bang 2005,4,50,9,50\nChung 2021,6,60,10,61\nSmith 2012,3,40,7,42\n"
    )
    rob = tmp_path / "rob.csv"
    rob.write_text(
        "Author,Year,D1,D2,D3,D4,D5,Overall\n"
        "Bang,2005,Low,Low,Low,Low,Low,Low\n"
        "Chung,2021,Low,Some concerns,Low,Low,Low,Some concerns\n"
        "NA,2019,High,Low,Low,Low,Low,High\n"
    )
    out = tmp_path / "r.html"
    run = CliRunner().invoke(
        app,
        [
            "report",
            str(data),
            "--measure",
            "RR",
            "-o",
            str(out),
            "--rob",
            str(rob),
            "--tool",
            "rob2",
            "--label-columns",
            "author,year",
            "--favours",
            "treatment,placebo",
            "--no-bias",
        ],
    )
    assert run.exit_code == 0, run.output
    warnings = [line for line in run.output.splitlines() if line.startswith("warning:")]
    assert len(warnings) == 1
    assert "1 of 3" in warnings[0] and "NA 2019" in warnings[0]
    text = out.read_text()
    assert "Favours treatment" in text and "Favours placebo" in text
    assert "Risk ratio (log scale)" in text
    bad = CliRunner().invoke(
        app, ["report", str(data), "--measure", "RR", "-o", str(out), "--favours", "only one"]
    )
    assert bad.exit_code != 0 and "--favours expects two labels" in bad.output


def test_a_table_longer_than_max_rows_goes_to_a_csv_beside_the_report(tmp_path: Path) -> None:
    import csv

    from docx import Document

    bcg = load("bcg")
    bcg.loc[0, "author"] = "=HYPERLINK(1)"  # a label a spreadsheet would run
    rr = meta(bcg, measure="RR", method="DL", label="author")
    content = build_report(
        "Long", [Outcome("TB", rr, arms=bcg, label="author")], characteristics=bcg, max_rows=5
    )
    html = write_html(content, tmp_path / "r.html")
    write_docx(content, tmp_path / "r.docx")
    text = html.read_text()
    for name in ("r_outcome1_studies.csv", "r_outcome1_data.csv", "r_characteristics.csv"):
        assert f"written to {name} beside this report" in text
        assert (tmp_path / name).exists()
    assert "<td" not in text  # no table is printed: each has more than 5 rows
    with (tmp_path / "r_outcome1_studies.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == rr.k + 1 and rows[-1]["Study"] == "Total"
    assert rows[0]["Study"] == "'=HYPERLINK(1)"  # neutralised
    exp = rr.back_transformed()
    assert float(rows[-1]["Estimate"]) == pytest.approx(exp["estimate"], rel=1e-12)
    assert "14 rows, more than the 5 a report prints" in text  # 13 studies and the total
    document = Document(str(tmp_path / "r.docx"))
    assert len(document.tables) == 0
    notes = [p.text for p in document.paragraphs if "beside this report" in p.text]
    assert len(notes) == 3
    # the forest of 13 studies over max_rows = 5 is drawn condensed
    assert "13 studies exceed max_rows = 5" in text


def test_report_command_takes_max_rows(tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    data = tmp_path / "bcg.csv"
    load("bcg").to_csv(data, index=False)
    args = ["report", str(data), "--measure", "RR", "-o", str(out), "--max-rows", "4"]
    done = CliRunner().invoke(app, args)
    assert done.exit_code == 0, done.output
    assert (tmp_path / "r_outcome1_studies.csv").exists()
    assert (tmp_path / "r_outcome1_data.csv").exists()
