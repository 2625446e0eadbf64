"""review_overview: what the report says about how the review was done, read from the
example project; a blinded study's values never reach it."""

from __future__ import annotations

import json

import pandas as pd

from review_report_support import build_project, overview_and_table
from srma.datasets import load


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
