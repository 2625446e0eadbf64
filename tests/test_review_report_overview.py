"""review_overview: what the report says about how the review was done, read from the
example project; a blinded study's values never reach it."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from review_report_support import build_project, overview_and_table
from srma.datasets import load
from srma.review.flow.overview import review_overview
from srma.review.project import open_project


def test_overview_of_the_example_review(tmp_path) -> None:
    overview, _ = overview_and_table(build_project(tmp_path / "bcg"))
    [batch] = overview.sources
    assert (batch.file, batch.records_read, batch.records_stored) == ("bcg_trials.ris", 13, 13)
    assert overview.records == 13 and overview.duplicates_merged == 0
    assert [s.reviewers for s in overview.screening] == [("Ana", "Ben")] * 2
    assert overview.prisma.counts["total_studies"] == 13
    assert overview.extraction.extractors == ("Ana", "Ben")
    assert overview.extraction.discrepancies_resolved == 1  # Hart 1977's misread events
    assert overview.rob.tool == "rob1" and overview.rob.disagreements_resolved == 1
    judged = overview.rob.assessment.to_frame().set_index("study")
    assert judged.loc["Comstock 1974"].iloc[0] == "High"  # the resolution, not Ben's Unclear
    # the characteristics are the data set's (dat.bcg), as both extractors entered them
    bcg = load("bcg")
    rows = zip(bcg.author, bcg.year, bcg.alloc, bcg.ablat, strict=True)
    expected = {f"{a.split(' ')[0].split('&')[0].strip()} {y}": (al, lat) for a, y, al, lat in rows}
    for row in overview.characteristics.itertuples(index=False):
        matched = [v for k, v in expected.items() if k.split()[0] in row.study
                   and k.endswith(row.study[-4:])]  # fmt: skip
        assert (row.allocation, float(row.latitude)) in matched
    json.dumps(overview.to_dict(), default=str)


def test_a_blinded_studys_values_are_absent(tmp_path) -> None:
    overview, table = overview_and_table(build_project(tmp_path / "bcg", blinded=("Aronson 1948",)))
    assert "Aronson 1948" not in set(overview.characteristics["study"])
    assert overview.extraction.blinded == 1 and overview.extraction.reconciled == 12
    assert any("blinded" in note for note in overview.notes)
    assert "Aronson 1948" not in set(overview.rob.assessment.studies)
    assert [label for label, _ in overview.rob.not_ready] == ["Aronson 1948"]
    dumped = json.dumps(overview.to_dict(), default=str)
    assert dumped.count("Aronson 1948") == 1  # named once, in not_ready, with no value
    row = table[table["study"] == "Aronson 1948"].iloc[0]
    assert row["missing"].startswith("blinded") and pd.isna(row["events1"])


def _screened(decisions: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime, timedelta

    from srma.review.decision_log import LoggedEvent
    from srma.review.state import replay

    events = []
    for name, chosen in decisions.items():
        for record, decision in enumerate(chosen, start=1):
            moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=len(events))
            events.append(LoggedEvent(len(events) + 1, moment, name, "screening",
                                      "title_abstract", record, decision, None, None, None,
                                      None))  # fmt: skip
    return replay(events, list(range(1, 11)), required=len(decisions))


def test_screening_kappa_and_one_reviewer_in_the_methods() -> None:
    from srma.report.review.methods import _agreement
    from srma.review.flow.overview import screening_stage

    include, exclude = "include", "exclude"
    ana = [include] * 6 + [exclude] * 4
    ben = [include] * 5 + [exclude, include] + [exclude] * 3
    stage = screening_stage(_screened({"Ana": ana, "Ben": ben}), "title_abstract")
    [pair] = stage.agreement
    # by hand: p_o = 8/10, p_e = 0.6 * 0.6 + 0.4 * 0.4 = 0.52, kappa = 0.28 / 0.48
    assert pair.observed_agreement == pytest.approx(0.8, rel=1e-12)
    assert pair.kappa == pytest.approx(0.28 / 0.48, rel=1e-12)
    assert "Ana and Ben agreed on 80.0% of 10 records, Cohen's kappa 0.58 (95% CI" in _agreement(
        stage
    )
    alone = screening_stage(_screened({"Ana": ana}), "title_abstract")
    assert alone.reviewers == ("Ana",) and alone.agreement == ()
    assert _agreement(alone) == (
        "Agreement between reviewers could not be computed: agreement needs two reviewers; "
        "at title_abstract there are 1."
    )


def test_the_conversions_are_read_from_tables_already_exported(tmp_path) -> None:
    """srma report passes the analysed tables, so no outcome is exported twice: the
    overview is the same, and its conversions are those tables' ``conversions``, once each."""
    folder = build_project(tmp_path / "bcg")
    overview, table = overview_and_table(folder)
    project = open_project(folder)
    try:
        with project.store.transaction() as session:
            reused = review_overview(session, project, exported=[table])
            given = [
                pd.DataFrame({"conversions": ["SD from SE; mean from median", "", "SD from SE"]})
            ]
            converted = review_overview(session, project, exported=given)
    finally:
        project.close()
    assert reused.to_dict() == overview.to_dict()
    assert converted.extraction.conversions == ("SD from SE", "mean from median")
