"""The whole-review report (`write_review_report`) of the example review (BCG trials) taken
through extraction and risk of bias, with its planned analyses run by srma's functions:
every number as the result objects hold it, every part present or its absence said in
words, the HTML clean in headless Chromium, the DOCX on A4 with its figures and styled
tables."""

from __future__ import annotations

import html
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from review_report_support import (
    build_project,
    outcome_analysis,
    overview_and_table,
    review_analysis,
)
from srma.formatting import format_ci, format_number, format_p
from srma.report.document import A4_MM, MARGIN_MM, result_sentence
from srma.report.review import SofPart, write_review_report
from srma.report.review.blocks import Picture
from srma.report.review.sections import build_review_report
from test_report import _chromium


@pytest.fixture(scope="module")
def example(tmp_path_factory):  # type: ignore[no-untyped-def]
    folder = build_project(tmp_path_factory.mktemp("review") / "bcg")
    return overview_and_table(folder)


@pytest.fixture(scope="module")
def analysis(example):  # type: ignore[no-untyped-def]
    overview, table = example
    return review_analysis(
        outcome_analysis(overview, table),
        outcome_analysis(overview, table, keep=1),
        outcome_analysis(overview, table, keep=0),
    )


@pytest.fixture(scope="module")
def written(example, analysis, tmp_path_factory):  # type: ignore[no-untyped-def]
    overview, _ = example
    folder = tmp_path_factory.mktemp("out")
    sof = SofPart(
        '<section id="sof"><h2>Summary of findings (test part)</h2></section>',
        lambda document: document.add_paragraph("Summary of findings (test part)"),
    )
    html_path, docx_path = write_review_report(
        overview, analysis, folder / "report.html", folder / "report.docx", sof=sof,
        evidence_by="allocation", figures_dir=folder / "figures",
    )  # fmt: skip
    return html_path, docx_path, folder


def text_of(path: Path) -> str:
    return html.unescape(path.read_text(encoding="utf-8"))


def test_every_pooled_and_follow_up_number_is_the_result_objects(analysis, written) -> None:
    text = text_of(written[0])
    full = analysis.outcomes[0]
    result = full.policy.result
    assert result_sentence(result) in text
    assert f"tau² = {format_number(result.tau2, 4)}" in text
    for decision in full.policy.decisions:
        assert f"<li>{decision}</li>" in text
    [loo] = full.follow_up("leave_one_out")
    for row in loo.result.to_records():  # back-transformed, as the forest plot shows them
        ci = format_ci(np.exp(row["ci_lower"]), np.exp(row["ci_upper"]))
        assert f'>{format_number(np.exp(row["estimate"]))}</td><td class="text">{ci}<' in text
    [high] = full.follow_up("exclude_high_risk")
    assert result_sentence(high.result) in text
    [groups] = full.follow_up("subgroup")
    assert f"df = 2, {format_p(groups.result.pvalue_between)}" in text
    [regression] = full.follow_up("metaregression")
    assert f">{format_number(regression.result.estimate[1], 4)}<" in text
    assert f"R² = {format_number(regression.result.r2, 1)}%" in text
    [bias] = full.follow_up("small_study")
    assert f"Egger's test: bias {format_number(bias.result.egger.coefficient)}" in text
    participants = int(full.table[["total1", "total2"]].to_numpy(float).sum())
    assert f"13 studies, {participants:,} participants".replace(",", "") in text.replace(",", "")


def test_methods_are_written_from_what_was_done(written) -> None:
    text = text_of(written[0])
    assert "13 records read, 13 stored" in text and "0 duplicates merged" in text
    assert "screened by 2 reviewers (Ana and Ben), 2 reviewers per record" in text
    # every record included by both: kappa undefined, said in words
    assert "Cohen's kappa could not be computed (kappa is undefined" in text
    assert "extracted by 2 extractors per study (Ana and Ben)" in text
    assert "1 discrepancy resolved" in text and "No conversion was needed" in text
    assert "Cochrane risk-of-bias tool (RoB 1)" in text and "Higgins JPT, Altman DG" in text
    assert "analysis policy 'modern'" in text and "Page MJ" in text
    assert "Viechtbauer W (2005)" in text  # REML, from methods_paragraph


def test_each_part_present_or_its_absence_said(written) -> None:
    text = text_of(written[0])
    for heading in ("Protocol", "Methods", "Results", "Study selection", "Risk of bias",
                    "Characteristics of included studies", "Evidence by allocation",
                    "Summary of findings", "What is missing", "References"):  # fmt: skip
        assert re.search(rf"<h[234]>{re.escape(heading)}</h[234]>", text), heading
    assert "Population: people without tuberculosis" in text
    # k = 1: said, follow-ups not done with their reasons
    assert "Only one study has usable data" in text
    assert "from 1 study with" in text and "from 1 studies" not in text
    assert "Not done: fewer than 3 studies." in text
    # k = 0: no pooled result, the studies without data listed with why
    assert "No pooled result: no study has usable data for tuberculosis" in text
    assert "Outcomes without any pooled result: tuberculosis (end of follow-up)" in text
    assert text.count("no events reported for this outcome (test)") == 2 * (12 + 13)
    assert '<section id="sof"><h2>Summary of findings (test part)' in text
    assert "Traceback" not in text


def test_evidence_tables_group_the_studies_by_a_characteristic(example, written) -> None:
    overview, _ = example
    text = text_of(written[0])
    counts = overview.characteristics["allocation"].value_counts()
    for group, count in counts.items():
        assert f"Studies with allocation {group} ({count})." in text


def test_without_sof_rob_or_characteristic_the_report_says_why(example, analysis) -> None:
    overview, _ = example
    bare = replace(overview, rob=None)
    report = build_review_report(bare, analysis, evidence_by="route of administration")
    said = " ".join(getattr(b, "text", "") for b in report.blocks)
    assert "Risk of bias was not assessed: the protocol plans no assessment." in said
    assert "The protocol plans no risk-of-bias assessment." in said
    assert "No evidence table by route of administration: the protocol extracts no " in said
    sof = [b for b in report.blocks if type(b).__name__ == "Sof"]
    assert sof and sof[0].part is None  # written as "no outcome has been rated with GRADE yet"
    # no RoB: forest plots without RoB columns, and no note claiming judgements
    forests = [b for b in report.blocks if isinstance(b, Picture) and b.redraw is not None]
    assert forests and all("risk-of-bias" not in b.caption for b in forests)


def test_one_reviewer_and_missing_characteristics_are_said(example, analysis) -> None:
    overview, _ = example
    alone = tuple(
        replace(s, reviewers=("Ana",), agreement=(),
                agreement_problem=f"agreement needs two reviewers; at {s.stage} there are 1")
        for s in overview.screening
    )  # fmt: skip
    empty = overview.characteristics.assign(latitude=None)
    report = build_review_report(replace(overview, screening=alone, characteristics=empty),
                                 analysis)  # fmt: skip
    said = " ".join(getattr(b, "text", "") for b in report.blocks)
    assert "Agreement between reviewers could not be computed: agreement needs two" in said
    assert "Not reported by any study (or not yet reconciled): latitude." in said


def test_all_studies_at_high_risk(example) -> None:
    overview, table = example
    rob = overview.rob.assessment
    high = {s for s, o in zip(rob.studies, rob.overall, strict=True) if o == "High"}
    only = table[table["study"].isin(high)]
    outcome = outcome_analysis(overview, only)
    report = build_review_report(overview, review_analysis(outcome))
    said = " ".join(getattr(b, "text", "") for b in report.blocks)
    assert "Every study of this outcome is at high overall risk of bias" in said
    [excluded] = outcome.follow_up("exclude_high_risk")
    assert not excluded.done


def test_html_opens_in_chromium_without_console_errors(written, tmp_path) -> None:
    html_path = written[0]
    control = tmp_path / "control.html"
    control.write_text('<html><body><script>console.error("srma-control")</script></body></html>')
    seen = _chromium("--dump-dom", control.as_uri(), user_data=tmp_path / "c")
    assert "srma-control" in seen.stderr  # the console check can see an error
    rendered = _chromium("--dump-dom", html_path.as_uri(), user_data=tmp_path / "a")
    assert rendered.returncode == 0 and "What is missing" in rendered.stdout
    assert [line for line in rendered.stderr.splitlines() if ":CONSOLE" in line] == []
    text = text_of(html_path)
    assert "<script" not in text and "<img" not in text and "<link" not in text
    assert "script-src 'none'" in text
    shot = tmp_path / "shot.png"
    _chromium(f"--screenshot={shot}", "--window-size=1200,3000", html_path.as_uri(),
              user_data=tmp_path / "b")  # fmt: skip
    assert shot.stat().st_size > 50_000


def test_docx_is_a4_with_every_figure_and_styled_tables(example, analysis, written) -> None:
    from docx import Document

    overview, _ = example
    _, docx_path, folder = written
    document = Document(str(docx_path))
    for section in document.sections:
        size = sorted((section.page_width.mm, section.page_height.mm))
        assert size == pytest.approx(A4_MM, abs=0.05)  # stored in twentieths of a point
        for side in (section.left_margin, section.right_margin, section.top_margin):
            assert side.mm == pytest.approx(MARGIN_MM, abs=0.05)
    report = build_review_report(overview, analysis, evidence_by="allocation")
    figures = sum(isinstance(b, Picture) for b in report.blocks)
    assert len(document.inline_shapes) == figures == len(list((folder / "figures").iterdir()))
    captions = [p.text for p in document.paragraphs if p.style.name == "Caption"]
    numbers = [int(c.split()[1].rstrip(".")) for c in captions if c.startswith("Figure")]
    assert numbers == list(range(1, figures + 1))
    for table in document.tables:
        assert table.style.name == "Table Grid"
        assert 'w:fill="E4ECF4"' in table.rows[0].cells[0]._tc.xml
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert {"Methods", "Summary of findings", "What is missing", "References"} <= set(headings)
    assert "Summary of findings (test part)" in [p.text for p in document.paragraphs]
    for shape in document.inline_shapes:  # no figure wider than a landscape text width
        assert shape.width.mm <= A4_MM[1] - 2 * MARGIN_MM + 0.05


def test_long_tables_go_to_csv_beside_the_report(example, analysis, tmp_path) -> None:
    overview, _ = example
    html_path, _ = write_review_report(overview, analysis, tmp_path / "r.html", max_rows=5)
    text = text_of(html_path)
    assert "written to r_characteristics.csv beside this report" in text
    assert (tmp_path / "r_missing.csv").exists()


def test_text_from_data_cannot_run_or_break_either_format(example, analysis, tmp_path) -> None:
    from docx import Document

    overview, _ = example
    hostile = "<script>alert(1)</script>\x07 =cmd"
    odd = replace(overview, characteristics=overview.characteristics.assign(allocation=hostile))
    html_path, docx_path = write_review_report(
        odd, analysis, tmp_path / "r.html", tmp_path / "r.docx", evidence_by="allocation",
        max_rows=None,
    )  # fmt: skip
    raw = html_path.read_text(encoding="utf-8")
    assert "<script" not in raw and "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert "\x07" not in raw
    cells = {c.text for table in Document(str(docx_path)).tables for c in table.columns[1].cells}
    assert any(c.startswith("<script>alert(1)</script>") and "\x07" not in c for c in cells)
