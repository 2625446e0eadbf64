"""Blinding of extraction in every view: until both extractors have submitted a study, no
form, compare, export, status, audit or error shows one extractor's values to the other."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import srma
from test_extract_helpers import every_cell, fill, included_project, labels

SECRET_SOURCE = "p. 7 SECRET-SOURCE"
SECRET_COMMENT = "SECRET-COMMENT"
SECRET_MEAN = 123.456


@pytest.fixture
def project(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SRMA_DATABASE_URL", database_url)
    return included_project(tmp_path / "review")


def secret_free(text: str) -> bool:
    return not any(s in text for s in (SECRET_SOURCE, SECRET_COMMENT, str(SECRET_MEAN)))


def test_nothing_of_one_extractor_shows_before_both_submitted(
    project: Path, tmp_path: Path
) -> None:
    names = labels(project)
    first = names[0]
    ana = tmp_path / "ana.xlsx"
    srma("extract", "form", project, "--reviewer", "Ana", "-o", ana)
    values = {
        "n_randomised": 20,
        "n_analysed": 20,
        "value_type": "final value",
        "dispersion": "SD",
        "mean": SECRET_MEAN,
        "sd": 3,
        "source": SECRET_SOURCE,
        "comment": SECRET_COMMENT,
    }
    fill(
        ana,
        rows={("NIHSS", first, "MSC", "90 days"): values},
        characteristics={(first, "design"): "parallel RCT", (first, "cell source"): "other"},
        submitted=(first,),
    )
    srma("extract", "import", project, ana, "--reviewer", "Ana")

    # Ben's forms: the structure, none of Ana's values
    ben = tmp_path / "ben.xlsx"
    srma("extract", "form", project, "--reviewer", "Ben", "-o", ben)
    assert secret_free(every_cell(ben)) and first in every_cell(ben)
    ben_csv = tmp_path / "ben.csv"
    srma("extract", "form", project, "--reviewer", "Ben", "-o", ben_csv)
    assert secret_free(ben_csv.read_text()) and "parallel RCT" not in ben_csv.read_text()
    # Ana's own form keeps her values
    again = tmp_path / "ana-again.xlsx"
    srma("extract", "form", project, "--reviewer", "Ana", "-o", again)
    assert SECRET_SOURCE in every_cell(again) and str(SECRET_MEAN) in every_cell(again)

    # compare: counts only
    compared = srma("extract", "compare", project, "--json")
    assert secret_free(compared)
    result = json.loads(compared)
    assert result["discrepancies"] == [] and result["agreement"] == []
    assert {"study": first, "submitted": 1, "required": 2} in result["blinded"]
    assert secret_free(srma("extract", "compare", project))
    # export: the study keeps its row, with the reason and no number
    export = tmp_path / "nihss.csv"
    srma("extract", "export", project, "--outcome", "NIHSS", "-o", export)
    text = export.read_text()
    assert secret_free(text) and "blinded: 1 of 2 extractors submitted" in text
    # status: counts
    status = srma("extract", "status", project, "--json")
    assert secret_free(status) and json.loads(status)["reviewers"]["Ana"]["submitted"] == 1
    assert secret_free(srma("status", project, "--json"))
    # audit: the event keeps its row (who, when, study) and how many values, nothing else
    for viewer in ((), ("--reviewer", "Ben")):
        audit = tmp_path / "audit.csv"
        srma("audit", project, "--out", audit, *viewer)
        assert secret_free(audit.read_text()) and "blinded" in audit.read_text()
    srma("audit", project, "--out", audit, "--reviewer", "Ana")
    assert SECRET_SOURCE in audit.read_text()
    # errors name nothing of Ana's: Ben cannot resolve, write a consensus form, or import
    # Ana's workbook
    error = srma(
        "extract",
        "resolve",
        project,
        "--study",
        first,
        "--field",
        "design",
        "--value",
        "crossover RCT",
        "--reviewer",
        "Cy",
        code=1,
    )
    assert "still blinded (1 of 2 extractors submitted)" in error and secret_free(error)
    error = srma(
        "extract",
        "form",
        project,
        "--consensus",
        "--reviewer",
        "Cy",
        "-o",
        tmp_path / "c.xlsx",
        code=1,
    )
    assert "no study has been submitted by every extractor" in error
    error = srma("extract", "import", project, ana, "--reviewer", "Ben", code=1)
    assert "this workbook is Ana's form" in error and secret_free(error)

    # once Ben submits, the values are compared
    fill(
        ben,
        rows={("NIHSS", first, "MSC", "90 days"): {**values, "mean": 123.5}},
        characteristics={(first, "design"): "parallel RCT", (first, "cell source"): "other"},
        submitted=(first,),
    )
    srma("extract", "import", project, ben, "--reviewer", "Ben")
    result = json.loads(srma("extract", "compare", project, "--json"))
    [open_item] = result["discrepancies"]
    assert [v["value"] for v in open_item["values"]] == [str(SECRET_MEAN), "123.5"]
    audit = tmp_path / "audit.csv"
    srma("audit", project, "--out", audit, "--reviewer", "Ben")
    assert SECRET_SOURCE in audit.read_text()


# --- the same rule on any log: a property of the replay ------------------------------------


def _events(script: list[tuple[str, str, int]]):  # type: ignore[no-untyped-def]
    from srma.review.decision_log import LoggedEvent

    start = datetime(2026, 1, 1, tzinfo=UTC)
    events = []
    for number, (reviewer, action, study) in enumerate(script, start=1):
        kind = "extraction" if action == "values" else "extraction_submit"
        payload = {
            "values": [
                {
                    "scope": "",
                    "arm": "",
                    "time": "",
                    "field": "country",
                    "value": f"SECRET-{reviewer}-{number}",
                }
            ]
        }
        events.append(
            LoggedEvent(
                number,
                start + timedelta(minutes=number),
                reviewer,
                kind,
                None,
                study,
                None,
                None,
                None,
                None,
                payload if kind == "extraction" else {},
            )
        )
    return events


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["Ana", "Ben", "Cy"]),
            st.sampled_from(["values", "values", "submit"]),
            st.sampled_from([1, 2]),
        ),
        max_size=14,
    )
)
def test_no_view_of_a_replayed_log_shows_a_value_before_enough_submitted(script) -> None:
    from srma.review.extract.assessment import assessment_state
    from srma.review.state import replay

    state = replay(_events(script), [1, 2], required=2)
    extraction = assessment_state(state)
    for study in (1, 2):
        submitters = {r for r, a, s in script if a == "submit" and s == study}
        assert extraction.is_blinded(study) == (len(submitters) < 2)
        visible = {
            e.payload["values"][0]["value"]
            for e in state.audit_events(viewer="Ben")
            if e.kind == "extraction"
            and e.record_id == study
            and isinstance(e.payload["values"], list)
        }
        others = {
            f"SECRET-{r}-{n}"
            for n, (r, a, s) in enumerate(script, start=1)
            if a == "values" and s == study and r != "Ben"
        }
        if len(submitters) < 2:
            assert not (visible & others)
            items = extraction.reconciliation()
            assert study not in set(items["study"])
        else:
            assert others <= visible
