"""Risk of bias in a project, end to end through the CLI: two assessors' RoB 2 workbooks
(judged per result), submit, compare with kappa per domain, resolve, export in robvis's
layout, figures and the forest plot's columns from the project."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest

from conftest import srma
from test_extract_helpers import included_project, labels
from test_rob_project_helpers import LOW, NO_CONCEALMENT, NO_PLAN, fill

OUTCOMES = ("NIHSS", "Barthel index", "adverse events")  # srma init's protocol
OVERRIDE = "outcome assessors knew the allocation (Methods, p. 4)"


@pytest.fixture
def project(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SRMA_DATABASE_URL", database_url)
    return included_project(tmp_path / "review")


def assessments(names: list[str], *, ben: bool) -> dict:
    """Every study x outcome: even studies Low throughout, odd ones with some concerns in
    domain 5 (no analysis plan); Ben differs on domain 1 of the first study's NIHSS result
    (concealment: no information) and overrides domain 4 of the third study's Barthel index."""
    rows = {}
    for number, label in enumerate(names):
        for outcome in OUTCOMES:
            rows[(label, outcome)] = dict(NO_PLAN if number % 2 else LOW)
    if ben:
        rows[(names[0], "NIHSS")] = dict(NO_CONCEALMENT)
        rows[(names[2], "Barthel index")] |= {"D4 judgement": "High", "D4 reason": OVERRIDE}
    return rows


def two_assessors(project: Path, tmp_path: Path) -> list[str]:
    names = labels(project)
    for name in ("Ana", "Ben"):
        form = tmp_path / f"{name}.xlsx"
        srma("rob", "form", project, "--reviewer", name, "-o", form)
        fill(form, assessments(names, ben=name == "Ben"), submitted=tuple(names))
        imported = json.loads(srma("rob", "import", project, form, "--reviewer", name, "--json"))
        assert imported["submitted"] == names and imported["problems"] == []
        again = json.loads(srma("rob", "import", project, form, "--reviewer", name, "--json"))
        assert again["values_changed"] == 0 and again["events"] == []  # only changes
    return names


def test_two_assessors_compare_resolve_export(project: Path, tmp_path: Path) -> None:
    names = two_assessors(project, tmp_path)
    compared = json.loads(srma("rob", "compare", project, "--json"))
    assert compared["open_studies"] == 6 and compared["blinded"] == []
    listed = [(d["study"], d["outcome"], d["domain"]) for d in compared["discrepancies"]]
    assert listed == [
        (names[0], "NIHSS", "D1"),
        (names[0], "NIHSS", "overall"),
        (names[2], "Barthel index", "D4"),
        (names[2], "Barthel index", "overall"),
    ]
    d1 = compared["discrepancies"][0]
    assert d1["judgements"] == [
        {"reviewer": "Ana", "judgement": "Low", "proposal": "Low"},
        {"reviewer": "Ben", "judgement": "Some concerns", "proposal": "Some concerns"},
    ]
    assert d1["answers"] == [
        {
            "question": "1.2",
            "values": [{"reviewer": "Ana", "answer": "Y"}, {"reviewer": "Ben", "answer": "NI"}],
        }
    ]
    d4 = compared["discrepancies"][2]["judgements"]
    assert d4[1] == {"reviewer": "Ben", "judgement": "High", "proposal": "Low"}  # an override

    [pair] = compared["agreement"]
    domains = {d["domain"]: d for d in pair["domains"]}
    assert (pair["assessments"], pair["weighting"]) == (18, "linear")
    overall = domains["overall"]
    assert (overall["items"], overall["agreed"]) == (18, 16)
    # overall, 18 results: Ana 9 Low, 9 Some concerns; Ben 7 Low, 10 Some concerns, 1 High;
    # p_o = 16/18, p_e = (9*7 + 9*10)/18^2 = 153/324: kappa = 135/171.  Linear weights
    # (1, 1/2, 0): p_o = 16.5/18, p_e = 234/324: weighted kappa = 63/90.
    assert overall["kappa"]["kappa"] == pytest.approx(135 / 171, rel=1e-12)
    assert overall["weighted_kappa"]["kappa"] == pytest.approx(63 / 90, rel=1e-12)
    kappa = overall["kappa"]
    assert kappa["ci_lower"] < kappa["kappa"] < kappa["ci_upper"]
    assert (
        domains["D2"]["kappa"]["kappa"] is None
        and "single level" in (domains["D2"]["kappa"]["problem"])
    )
    text = srma("rob", "compare", project)
    assert "4 open discrepancies" in text and "overall: 16/18 agree; kappa 0.789" in text

    # not reconciled yet: the export names what is missing and writes nothing
    out = tmp_path / "rob.csv"
    refused = srma("rob", "export", project, "--outcome", "NIHSS", "-o", out, code=1)
    assert f"{names[0]}: not reconciled: D1, overall" in refused and not out.exists()
    for domain, value in (("D1", "Low"), ("overall", "Low")):
        srma("rob", "resolve", project, "--study", names[0], "--outcome", "NIHSS",
             "--domain", domain, "--value", value, "--reviewer", "Cy")  # fmt: skip
    after = json.loads(srma("rob", "compare", project, "--json"))
    resolved = [
        (d["study"], d["domain"], d["resolved"], d["resolved_by"]) for d in after["resolved"]
    ]
    assert resolved == [(names[0], "D1", "Low", "Cy"), (names[0], "overall", "Low", "Cy")]
    srma("rob", "export", project, "--outcome", "NIHSS", "-o", out)
    expected = pd.DataFrame(
        [
            [label, "Low", "Low", "Low", "Low", *(["Some concerns"] * 2 if n % 2 else ["Low"] * 2)]
            for n, label in enumerate(names)
        ],
        columns=["Study", "D1", "D2", "D3", "D4", "D5", "Overall"],
    )
    pd.testing.assert_frame_equal(pd.read_csv(out, dtype=str), expected)
    assert out.read_bytes().startswith(b"Study,D1,D2,D3,D4,D5,Overall\r\n")

    # the Barthel index: Ben's override of D4 (High against the proposed Low) settled with a
    # reason of its own; the overall then follows the domains (High), and Low would override it
    resolve = ("rob", "resolve", project, "--study", names[2], "--outcome", "Barthel index",
               "--reviewer", "Cy")  # fmt: skip
    refused = srma(*resolve, "--domain", "D4", "--value", "High", code=1)
    assert "the judgement 'High' overrides the proposed 'Low'; an override needs a reason" in (
        refused
    )
    srma(*resolve, "--domain", "D4", "--value", "High", "--reason", OVERRIDE)
    refused = srma(*resolve, "--domain", "overall", "--value", "Low", code=1)
    assert "overrides the proposed 'High'" in refused
    srma(*resolve, "--domain", "overall", "--value", "High")
    barthel = pd.read_csv(io.StringIO(srma("rob", "export", project, "--outcome", "Barthel index")))
    assert list(barthel.loc[2, ["D4", "Overall"]]) == ["High", "High"]


def test_figures_and_forest_columns_from_the_project(project: Path, tmp_path: Path) -> None:
    names = two_assessors(project, tmp_path)
    for plot in ("traffic-light", "summary"):
        figure = tmp_path / f"{plot}.png"
        output = srma("rob", "figure", project, "--outcome", "adverse events", "--plot", plot,
                      "-o", figure)  # fmt: skip
        assert figure.stat().st_size > 10_000 and "warning" not in output
    # a study not reconciled is left out of the figure, with a warning naming it
    figure = tmp_path / "nihss.png"
    refused = srma("rob", "figure", project, "--outcome", "NIHSS", "-o", figure, code=1)
    assert "not reconciled" in refused
    output = srma("rob", "figure", project, "--outcome", "NIHSS", "--complete-only", "-o", figure)
    assert f"warning: {names[0]} left out (not reconciled: D1, overall)" in output
    # the export reads back as the CSV figure command reads robvis tables (the old form)
    export = tmp_path / "rob.csv"
    srma("rob", "export", project, "--outcome", "adverse events", "-o", export)
    old = tmp_path / "old.png"
    srma("rob", export, "--tool", "rob2", "-o", old)
    assert old.stat().st_size > 10_000
    # forest plot columns from the project, matched by study label
    from srma.review.appraise.export import reconciled_judgements, rob_assessment
    from srma.review.appraise.project import load_rob
    from srma.review.project import open_project

    opened = open_project(project)
    try:
        with opened.store.transaction() as session:
            found = reconciled_judgements(load_rob(session, opened), "adverse events")
    finally:
        opened.close()
    rob = rob_assessment(found)
    assert rob.studies == tuple(names) and rob.tool.name == "rob2"
    assert rob.overall == tuple("Some concerns" if n % 2 else "Low" for n in range(6))
    data = tmp_path / "effects.csv"
    data.write_text(
        "study,yi,vi\n" + "".join(f"{label},{0.1 * n:.1f},0.04\n" for n, label in enumerate(names))
    )
    forest = tmp_path / "forest.png"
    srma("forest", data, "--yi", "yi", "--vi", "vi", "--rob-from", project,
         "--rob-outcome", "adverse events", "-o", forest)  # fmt: skip
    assert forest.stat().st_size > 10_000
    refused = srma("forest", data, "--yi", "yi", "--vi", "vi", "--rob-from", project,
                   "-o", forest, code=1)  # fmt: skip
    assert "give --outcome (NIHSS, Barthel index, adverse events)" in refused


def test_long_form_and_consensus_workbook(project: Path, tmp_path: Path) -> None:
    names = two_assessors(project, tmp_path)
    # the long CSV form round-trips: written with the stored answers, imported unchanged
    long = tmp_path / "ana.csv"
    srma("rob", "form", project, "--reviewer", "Ana", "-o", long)
    table = pd.read_csv(long, dtype=str, keep_default_na=False)
    first = table[(table["study"] == names[0]) & (table["outcome"] == "NIHSS")]
    assert dict(zip(first["field"], first["value"], strict=True))["2.3"] == "NA"  # not asked
    again = json.loads(srma("rob", "import", project, long, "--reviewer", "Ana", "--json"))
    assert again["values_changed"] == 0
    # a script changes answers by a line each: the row is checked with what was stored,
    # so 4.3, asked only after N/PN/NI to 4.1, must be cleared when 4.1 becomes Y
    long.write_text(f"study,outcome,field,value\n{names[1]},NIHSS,4.1,Y\n", encoding="utf-8")
    refused = json.loads(
        srma("rob", "import", project, long, "--reviewer", "Ana", "--json", code=1)
    )
    assert refused["problems"] == [
        {
            "where": "line 2, column 'value' (4.3)",
            "message": "rob2 D4 (Bias in measurement of the outcome): question 4.3 is answered "
            "'N', but it is asked only if N/PN/NI to 4.1 and 4.2 (4.1 is Y, 4.2 is N); expected "
            "no answer or NA",
        }
    ]
    with long.open("a", encoding="utf-8") as handle:
        handle.write(f"{names[1]},NIHSS,4.3,\n")
    changed = json.loads(srma("rob", "import", project, long, "--reviewer", "Ana", "--json"))
    assert changed["studies_changed"] == [names[1]]
    form = tmp_path / "ana.xlsx"
    srma("rob", "form", project, "--reviewer", "Ana", "-o", form)
    from openpyxl import load_workbook

    sheet = load_workbook(form)["risk of bias"]
    head = {c.value: c.column for c in sheet[1]}
    row = next(r for r in sheet.iter_rows(min_row=2) if (r[1].value, r[2].value) == (names[1], "NIHSS"))  # fmt: skip  # noqa: E501
    # 4.1 Y (an inappropriate measurement): High proposed, and taken, as the judgement was
    # left blank (a judgement equal to its proposal is shown blank: it follows the proposal)
    assert (row[head["D4 proposal"] - 1].value, row[head["D4 judgement"] - 1].value) == (
        "High",
        None,
    )

    # consensus: reconciled answers and judgements filled in, open discrepancies marked
    consensus = tmp_path / "consensus.xlsx"
    srma("rob", "form", project, "--consensus", "--reviewer", "Cy", "-o", consensus)
    book = load_workbook(consensus)
    sheet = book["risk of bias"]
    head = {c.value: c.column for c in sheet[1]}
    row = next(r for r in sheet.iter_rows(min_row=2) if (r[1].value, r[2].value) == (names[0], "NIHSS"))  # fmt: skip  # noqa: E501
    cell = row[head["D1 judgement"] - 1]
    assert cell.value is None and cell.comment.text == "Ana: Low; Ben: Some concerns"
    assert row[head["1.2"] - 1].comment.text == "Ana: Y; Ben: NI"
    assert row[head["1.1"] - 1].value == "Y"  # agreed
    row[head["1.2"] - 1].value = "PY"
    cell.value = None  # the proposal from the settled answers: Low
    row[head["overall judgement"] - 1].value = None
    book.save(consensus)
    refused = srma("rob", "import", project, consensus, "--reviewer", "Cy", code=1)
    assert "a consensus workbook: import it with --consensus" in refused
    settled = json.loads(
        srma("rob", "import", project, consensus, "--reviewer", "Cy", "--consensus", "--json")
    )
    assert settled["values_changed"] == 3  # 1.2, D1 judgement, overall judgement
    compared = json.loads(srma("rob", "compare", project, "--json"))
    resolved = {(d["study"], d["outcome"], d["domain"]): d["resolved"] for d in compared["resolved"]}  # fmt: skip  # noqa: E501
    assert resolved[(names[0], "NIHSS", "D1")] == "Low"
    assert resolved[(names[0], "NIHSS", "overall")] == "Low"
