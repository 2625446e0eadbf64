"""``srma analyze`` on the example review (BCG trials): the pooled result is ``srma meta``'s on
the exported table, excluding high risk of bias follows the reconciled judgements, results
are stored with their data version (stale once a value is resolved, one transaction), and
GRADE overrides are events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from conftest import srma
from srma.datasets import load
from srma.review.project import open_project
from srma.review.synthesize.overrides import GRADE_DOMAINS, OVERRIDE_KIND, grade_overrides
from test_extract_helpers import resolve_misread

#: The fields of `srma meta --json` compared (the numbers of the pooled result).
NUMBERS = (
    "estimate",
    "se",
    "statistic",
    "pvalue",
    "ci_lower",
    "ci_upper",
    "pi_lower",
    "pi_upper",
    "tau2",
    "i2",
    "q",
    "q_pvalue",
)


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example with both extractors' and both assessors' forms imported and submitted;
    Hart 1977's misread number and Comstock 1974's judgement not yet resolved."""
    monkeypatch.delenv("SRMA_DATABASE_URL", raising=False)
    return prepared(tmp_path)


def prepared(tmp_path: Path) -> Path:
    project = tmp_path / "bcg"
    srma("extract", "example", project)
    forms = project / "example"
    for name in ("Ana", "Ben"):
        srma("extract", "import", project, forms / f"{name.lower()}.csv", "--reviewer", name)
        srma("extract", "submit", project, "--all", "--reviewer", name)
        srma("rob", "import", project, forms / f"rob_{name.lower()}.csv", "--reviewer", name)
        srma("rob", "submit", project, "--all", "--reviewer", name)
    return project


def override(project: Path, domain: str, rating: object, reason: str, code: int = 0) -> str:
    """``srma grade-override`` of the tuberculosis outcome by Cy."""
    return srma(
        "grade-override", project, "--outcome", "tuberculosis", "--domain", domain,
        "--rating", rating, "--reason", reason, "--reviewer", "Cy", code=code,
    )  # fmt: skip


def analyze(project: Path) -> dict:
    return json.loads(srma("analyze", project, "--json"))


def test_analyze_gives_srma_meta_on_the_export_and_is_stored(example: Path, tmp_path: Path) -> None:
    resolve_misread(example)
    before = json.loads(srma("analyze", example, "--status", "--json"))
    assert [s["state"] for s in before] == ["not analysed"]
    out = analyze(example)
    [outcome] = out["outcomes"]
    assert out["run"] == 1 and out["policy"] == "modern" and outcome["k"] == 13
    export = tmp_path / "tb.csv"
    srma("extract", "export", example, "--outcome", "tuberculosis", "-o", export)
    meta = json.loads(
        srma(
            "meta",
            export,
            "--measure",
            "RR",
            "--method",
            "REML",
            "--test",
            "knha",
            "--label",
            "study",
            "--json",
        )
    )
    assert set(outcome["result"]) == set(meta)
    for name in NUMBERS:
        assert outcome["result"][name] == pytest.approx(meta[name], rel=1e-9), name
    assert outcome["result"]["labels"] == meta["labels"]
    # the policy's decisions, with reasons, and every follow-up
    assert outcome["policy"]["name"] == "modern"
    assert "random effects always" in outcome["policy"]["decisions"][1]
    kinds = [f["kind"] for f in outcome["follow_ups"]]
    assert kinds == ["leave_one_out", "exclude_high_risk", "subgroup", "small_study"]
    assert all(f["reason"] for f in outcome["follow_ups"])
    # Comstock 1974's D1 is still in discrepancy: no reconciled judgement (None)
    rob = outcome["grade_inputs"]["risk_of_bias"]
    assert rob["Comstock 1974"] is None and sum(v is not None for v in rob.values()) == 12
    status = json.loads(srma("analyze", example, "--status", "--json"))
    assert [(s["state"], s["run"]) for s in status] == [("current", 1)]
    assert status[0]["data_version"] == outcome["data_version"]


def test_excluding_high_risk_follows_the_reconciled_judgements(example: Path) -> None:
    srma(
        "rob",
        "resolve",
        example,
        "--study",
        "Comstock 1974",
        "--domain",
        "D1",
        "--value",
        "High",
        "--reviewer",
        "Cy",
        "--note",
        "systematic allocation",
    )
    [outcome] = analyze(example)["outcomes"]
    # the example's overall judgement is High where allocation was not random
    bcg = load("bcg")
    high = {
        f"{a.split(' ')[0].split(',')[0]} {y}"
        for a, y, alloc in zip(bcg["author"], bcg["year"], bcg["alloc"], strict=True)
        if alloc != "random"
    }
    rob = outcome["grade_inputs"]["risk_of_bias"]
    assert {label for label, overall in rob.items() if overall == "High"} == high - {"Hart 1977"}
    without = next(f for f in outcome["follow_ups"] if f["kind"] == "exclude_high_risk")
    assert without["done"] and without["result"]["k"] == 12 - len(high - {"Hart 1977"})
    assert set(without["result"]["labels"]) == set(rob) - high


def test_stale_after_a_resolution_and_every_run_kept(example: Path) -> None:
    first = analyze(example)["outcomes"][0]
    assert first["k"] == 12
    assert first["missing"] == [
        {
            "study": "Hart 1977",
            "study_id": first["missing"][0]["study_id"],
            "reason": "unresolved discrepancy: events (BCG)",
        }
    ]
    assert "current" in srma("analyze", example, "--status")
    resolve_misread(example)
    line = srma("analyze", example, "--status").strip()
    assert line.startswith("tuberculosis (end of follow-up): stale: the data or the plan changed")
    second = analyze(example)["outcomes"][0]
    assert second["k"] == 13 and second["data_version"] != first["data_version"]
    assert json.loads(srma("analyze", example, "--status", "--json"))[0]["state"] == "current"
    opened = open_project(example)
    try:
        with opened.store.engine.connect() as connection:
            runs = connection.execute(text("SELECT run, data_version FROM analyses")).all()
        assert [r[0] for r in runs] == [1, 2]
        with pytest.raises(DBAPIError, match="append-only"), opened.store.engine.begin() as c:
            c.execute(text("UPDATE analyses SET data_version = 'x'"))
    finally:
        opened.close()


def test_an_interrupted_run_stores_nothing(example: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import srma.review.synthesize.stored as stored

    original = stored.store_analyses

    def interrupted(*args, **kwargs):  # type: ignore[no-untyped-def]
        original(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(stored, "store_analyses", interrupted)
    srma("analyze", example, code=130)  # Typer's exit status for an interrupt
    monkeypatch.setattr(stored, "store_analyses", original)
    assert "not analysed yet" in srma("analyze", example, "--status")


def test_grade_overrides_are_events(example: Path) -> None:
    bad = override(example, "mood", "-1", "x", code=1)
    assert "unknown GRADE domain 'mood'" in bad and "risk_of_bias" in bad
    bad = override(example, "large_effect", "-1", "x", code=1)
    assert "large_effect takes the ratings 0, +1, +2, not -1" in bad
    bad = override(example, "imprecision", "-1", " ", code=1)
    assert "needs its reason" in bad
    for rating, reason in ((-2, "few events"), (-1, "the CI excludes no effect")):
        override(example, "imprecision", rating, reason)
    [outcome] = analyze(example)["outcomes"]
    assert outcome["grade_inputs"]["overrides"] == {
        "imprecision": {"rating": -1, "reason": "the CI excludes no effect", "reviewer": "Cy"}
    }
    # the override is the rating GRADE uses, by its reviewer, with the proposal kept
    imprecision = outcome["grade"]["domains"]["imprecision"]
    assert imprecision["rating"] == -1 and imprecision["overridden_by"] == "Cy"
    assert imprecision["proposed"] in (0, -1, -2)
    opened = open_project(example)
    try:
        from srma.review.state import load_state

        with opened.store.transaction() as session:
            events = load_state(session, opened).events
        overrides = [e for e in events if e.kind == OVERRIDE_KIND]
        assert [e.payload["rating"] for e in overrides] == [-2, -1]
        assert grade_overrides(events) == {
            ("tuberculosis", "end of follow-up"): {
                "imprecision": (-1, "the CI excludes no effect", "Cy")
            }
        }
        assert opened.store.verify().intact
    finally:
        opened.close()
    assert set(GRADE_DOMAINS) == {
        "risk_of_bias",
        "inconsistency",
        "indirectness",
        "imprecision",
        "publication_bias",
        "large_effect",
        "dose_response",
    }


def test_grade_is_rated_from_the_stored_analyses(example: Path) -> None:
    """The certainty srma analyze gives is assess_certainty's on the inputs it shows; an
    override made after a run marks the stored result stale."""
    from srma.analysis.grade import GradeInputs, assess_certainty
    from srma.analysis.meta import meta
    from srma.review.synthesize.grading import GRADE_JUDGEMENTS

    [outcome] = analyze(example)["outcomes"]
    grade, inputs = outcome["grade"], outcome["grade_inputs"]
    assert grade["certainty"] in ("high", "moderate", "low", "very low")
    assert (
        "GRADE: the protocol states no [grade] design; randomised trials assumed"
        in (outcome["notes"])
    )
    assert set(grade["domains"]) == {
        "risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias"
    }  # fmt: skip
    for rating in grade["domains"].values():
        assert {"rating", "proposed", "reason", "overridden_by"} <= set(rating)
        assert rating["reason"]
    assert {"assumed_risk", "risk_with_intervention", "difference_per_1000",
            "difference_ci_lower", "difference_ci_upper"} <= set(grade["absolute"])  # fmt: skip
    # the same certainty from the exported table, refitted here
    table = tmp_export(example)
    usable = table[table["missing"] == ""]
    result = meta(usable, measure="RR", method=outcome["result"]["method"],
                  test=outcome["result"]["test"], label="study")  # fmt: skip
    judged = {k: GRADE_JUDGEMENTS[v.lower()] for k, v in inputs["risk_of_bias"].items() if v}
    low = usable[[judged.get(s) != "high" for s in usable["study"]]]
    expected = assess_certainty(
        GradeInputs(
            outcome="tuberculosis",
            result=result,
            direction=inputs["direction"],
            design=inputs["design"] or "randomised",
            risk_of_bias=judged,
            without_high_risk=meta(
                low, measure="RR", method=result.method, test=result.test, label="study"
            ),
            participants=inputs["participants"],
            participants_intervention=inputs["participants_intervention"],
            participants_control=inputs["participants_control"],
            control_risks=inputs["control_risks"],
            follow_up=inputs["follow_up"] or outcome["time_point"],
        )
    )
    small = {k: v for k, v in expected.to_dict().items() if k != "domains"}
    assert grade["certainty"] == expected.certainty
    for key in ("risk_of_bias", "inconsistency", "indirectness", "imprecision"):
        assert grade["domains"][key]["rating"] == expected.domain(key).rating, key
    numbers = {k: v for k, v in small["absolute"].items() if isinstance(v, float)}
    assert len(numbers) >= 6
    assert {k: grade["absolute"][k] for k in numbers} == pytest.approx(numbers, rel=1e-9)
    override(example, "inconsistency", "-2", "very different populations")
    status = srma("analyze", example, "--status")
    assert "stale" in status


def tmp_export(project: Path):  # type: ignore[no-untyped-def]
    import pandas as pd

    out = project / "tb.csv"
    srma("extract", "export", project, "--outcome", "tuberculosis", "-o", out)
    return pd.read_csv(out, keep_default_na=False)


def test_the_text_report_says_what_was_done(example: Path) -> None:
    out = srma("analyze", example)
    assert "run 1 stored" in out
    assert "RR = " in out and "policy modern:" in out
    assert "missing: Hart 1977: unresolved discrepancy: events (BCG)" in out


def test_a_project_without_included_studies_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SRMA_DATABASE_URL", raising=False)
    project = tmp_path / "empty"
    srma("init", project, "--title", "Empty")
    out = analyze(project)
    assert out["notes"] == ["no study is included at full text yet: screen the full texts first"]
    assert len(out["outcomes"]) == 4  # NIHSS at two time points, Barthel index, adverse events
    for outcome in out["outcomes"]:
        assert outcome["result"] is None and outcome["k"] == 0
        assert outcome["notes"] == [
            f"{outcome['outcome']}: nothing to analyse: no study is included at full text yet",
            "GRADE: not rated, no pooled result",
        ]
        assert outcome["grade"] is None
        assert all(not f["done"] and f["reason"] for f in outcome["follow_ups"])


def test_stored_results_on_postgresql_too(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SRMA_DATABASE_URL", database_url)
    project = prepared(tmp_path)
    assert analyze(project)["run"] == 1
    resolve_misread(project)
    assert json.loads(srma("analyze", project, "--status", "--json"))[0]["state"] == "stale"
    assert analyze(project)["run"] == 2
    opened = open_project(project, url=database_url)
    try:
        with pytest.raises(DBAPIError, match="append-only"), opened.store.engine.begin() as c:
            c.execute(text("DELETE FROM analyses"))
    finally:
        opened.close()
