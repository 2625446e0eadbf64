"""The example review (BCG trials) taken through extraction and risk of bias, and its
planned analyses run with srma's analysis functions, for the whole-review report tests."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from conftest import srma
from srma import __version__, meta, meta_regression
from srma.analysis.bias import small_study_tests
from srma.analysis.policies import apply_policy
from srma.analysis.sensitivity import leave_one_out
from srma.analysis.subgroups import subgroup_analysis
from srma.review.extract.context import load_extraction
from srma.review.extract.export import export_outcome
from srma.review.flow.overview import ReviewOverview, review_overview
from srma.review.project import open_project
from srma.review.synthesize.results import FollowUp, MissingStudy, OutcomeAnalysis, ReviewAnalysis

OUTCOME = "tuberculosis"


def build_project(folder: Path, *, blinded: tuple[str, ...] = ()) -> Path:
    """The example project with both extractors' and assessors' forms in, submitted and
    resolved; the studies in ``blinded`` are not submitted by Ben (so stay blinded)."""
    srma("extract", "example", folder)
    forms = folder / "example"
    for kind, ana, ben in (
        ("extract", "ana.csv", "ben.csv"),
        ("rob", "rob_ana.csv", "rob_ben.csv"),
    ):
        srma(kind, "import", folder, forms / ana, "--reviewer", "Ana")
        srma(kind, "import", folder, forms / ben, "--reviewer", "Ben")
        srma(kind, "submit", folder, "--all", "--reviewer", "Ana")
        if blinded:
            labels = [s for s in _labels(forms / ana) if s not in blinded]
            srma(kind, "submit", folder, *[a for s in labels for a in ("--study", s)],
                 "--reviewer", "Ben")  # fmt: skip
        else:
            srma(kind, "submit", folder, "--all", "--reviewer", "Ben")
    if "Hart 1977" not in blinded:
        srma("extract", "resolve", folder, "--study", "Hart 1977", "--outcome", OUTCOME,
             "--arm", "BCG", "--field", "events", "--value", "62", "--reviewer", "Cy")  # fmt: skip
    if "Comstock 1974" not in blinded:
        srma("rob", "resolve", folder, "--study", "Comstock 1974", "--domain", "D1",
             "--value", "High", "--reviewer", "Cy", "--note", "systematic allocation")  # fmt: skip
    return folder


def _labels(form: Path) -> list[str]:
    return list(dict.fromkeys(pd.read_csv(form, dtype=str)["study"]))


def overview_and_table(folder: Path) -> tuple[ReviewOverview, pd.DataFrame]:
    project = open_project(folder)
    try:
        with project.store.transaction() as session:
            overview = review_overview(session, project)
            extraction = load_extraction(session, project)
            table = export_outcome(extraction.form, extraction.state, project.protocol, OUTCOME)
    finally:
        project.close()
    return overview, table.table


def outcome_analysis(
    overview: ReviewOverview, table: pd.DataFrame, *, keep: int | None = None
) -> OutcomeAnalysis:
    """The planned analyses of the outcome, run as `srma analyze` would (first ``keep``
    usable studies only, the rest listed as missing with a reason)."""
    [outcome] = overview.outcomes
    usable = table[table["missing"] == ""]
    missing = [MissingStudy(r.study, int(r.study_id), r.missing) for r in
               table[table["missing"] != ""].itertuples()]  # fmt: skip
    if keep is not None:
        dropped = usable.iloc[keep:]
        missing += [MissingStudy(r.study, int(r.study_id), "no events reported for this "
                    "outcome (test)") for r in dropped.itertuples()]  # fmt: skip
        usable = usable.iloc[:keep]
    if usable.empty:
        notes = ("no study has usable data",)
        return OutcomeAnalysis(outcome, "end of follow-up", "RR", table, "v0", None,
                               missing=tuple(missing), notes=notes)  # fmt: skip
    policy = apply_policy(overview.policy, usable, label="study")
    result = policy.result
    follow: list[FollowUp] = []
    if result.k >= 3:
        follow.append(
            FollowUp("leave_one_out", "leave-one-out", leave_one_out(result), "the policy")
        )
    else:
        follow.append(FollowUp("leave_one_out", "leave-one-out", None, "fewer than 3 studies"))
    rob = overview.rob.assessment if overview.rob is not None else None
    if rob is not None and rob.overall is not None:
        high = {s for s, o in zip(rob.studies, rob.overall, strict=True) if o == "High"}
        low = usable[~usable["study"].isin(high)]
        if len(low) >= 2:
            refit = meta(low, measure="RR", method=result.method, test=result.test, label="study")
            follow.append(FollowUp("exclude_high_risk", "excluding studies at high risk of bias",
                                   refit, "the plan"))  # fmt: skip
        else:
            follow.append(FollowUp("exclude_high_risk", "excluding studies at high risk of bias",
                                   None, f"{len(low)} studies not at high risk"))  # fmt: skip
    if usable["allocation"].nunique() >= 2 and result.k >= 3:
        found = subgroup_analysis(usable, "allocation", measure="RR", method=result.method,
                                  label="study")  # fmt: skip
        follow.append(FollowUp("subgroup", "subgroup: allocation", found, "the plan", "allocation"))
    if result.k >= 4:
        found = meta_regression(usable, "~ latitude", measure="RR", method=result.method,
                                label="study")  # fmt: skip
        follow.append(FollowUp("metaregression", "meta-regression on latitude", found,
                               "the plan", "latitude"))  # fmt: skip
    if result.k >= 3:
        tests = small_study_tests(result, counts=usable)
        follow.append(FollowUp("small_study", "small-study effects", tests, "the policy"))
    else:
        why = "fewer than 3 studies: no test for small-study effects"
        follow.append(FollowUp("small_study", "small-study effects", None, why))
    return OutcomeAnalysis(outcome, "end of follow-up", "RR", table, "v1", policy,
                           tuple(follow), tuple(missing))  # fmt: skip


def review_analysis(*outcomes: OutcomeAnalysis) -> ReviewAnalysis:
    return ReviewAnalysis("BCG vaccine against tuberculosis (srma example)", "modern",
                          outcomes, "2026-01-01T00:00:00Z", __version__)  # fmt: skip
