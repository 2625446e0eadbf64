"""One outcome's planned analyses on its reconciled export, on logs replayed in memory: the
numbers are those of the analysis functions on the exported table (metafor-checked in their
own tests), and every follow-up not run says why (k = 0 or 1, all studies at high risk, no
judgements, one subgroup level, missing characteristics, too few studies, data a policy
cannot fit), and a blinded study contributes no number."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from srma.analysis.meta import meta
from srma.analysis.metareg import meta_regression
from srma.analysis.policies import apply_policy
from srma.analysis.sensitivity import leave_one_out
from srma.analysis.subgroups import subgroup_analysis
from srma.review.decision_log import LoggedEvent
from srma.review.extract.assessment import assessment_state
from srma.review.extract.export import export_outcome
from srma.review.extract.forms import extraction_form
from srma.review.extract.studies import studies_of
from srma.review.project import PROTOCOL_TEMPLATE
from srma.review.protocol import validate_protocol
from srma.review.state import replay
from srma.review.synthesize.analyze import analyze_outcome
from srma.review.synthesize.plan import plan_for

PLAN = """
[[outcomes]]
name = "score"
measure = "MD"
direction = "lower is better"
data = "continuous"
time_points = ["12 weeks"]
mid = 2.5

[[outcomes]]
name = "deaths"
measure = "RR"
direction = "lower is better"
data = "binary"
assumed_risk = 0.2

[risk_of_bias]
tool = "rob2"
level = "study"

[analysis]
policy = "{policy}"
sensitivity = ["leave-one-out", "exclude high risk of bias"]

[[subgroups]]
name = "route of administration"
field = "route"

[[subgroups]]
name = "cell source"

[[metaregressions]]
moderators = ["dose"]

[grade]
design = "randomised"
"""
ROUTES = ("intravenous", "intra-arterial")


def protocol(policy: str = "huang2024"):  # type: ignore[no-untyped-def]
    template = PROTOCOL_TEMPLATE.format(title="T")
    text = template[: template.index("[[outcomes]]")] + PLAN.replace("{policy}", policy)
    return validate_protocol(tomllib.loads(text), text, "review.toml")


class Log:
    """Events written as srma writes them; two extractors, every study submitted by both."""

    def __init__(self, records: int, policy: str = "huang2024") -> None:
        self.events: list[LoggedEvent] = []
        self.records = records
        self.protocol = protocol(policy)
        for stage in ("title_abstract", "full_text"):
            for record in range(1, records + 1):
                for name in ("Ana", "Ben"):
                    self.add(name, "screening", record, stage=stage, decision="include")

    def add(self, reviewer, kind, record, *, stage=None, decision=None, payload=None):  # type: ignore[no-untyped-def]
        number = len(self.events) + 1
        moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=number)
        self.events.append(
            LoggedEvent(
                number, moment, reviewer, kind, stage, record, decision, None, None, None, payload
            )
        )

    def values(self, study: int, rows: dict, reviewers=("Ana", "Ben")) -> None:  # type: ignore[no-untyped-def]
        for name in reviewers:
            values = [
                {"scope": scope, "arm": arm, "time": time, "field": field, "value": str(value)}
                for (scope, arm, time), fields in rows.items()
                for field, value in fields.items()
            ]
            self.add(name, "extraction", study, payload={"values": values})
            self.add(name, "extraction_submit", study, payload={})

    def export(self, outcome: str):  # type: ignore[no-untyped-def]
        state = replay(self.events, list(range(1, self.records + 1)), required=2)
        people = {r: ([f"Author{r}, A."], 2000 + r) for r in range(1, self.records + 1)}
        studies = studies_of(state, people, self.protocol)
        form = extraction_form(self.protocol, studies)
        return export_outcome(form, assessment_state(state), self.protocol, outcome)

    def analyze(self, outcome: str, rob=None, note: str = "no judgements"):  # type: ignore[no-untyped-def]
        found = self.protocol.outcome(outcome)
        plan = plan_for(self.protocol, found)
        return analyze_outcome(
            self.protocol, plan, self.export(outcome), data_version="v", rob=rob, rob_note=note
        )


def continuous(n: int, mean: float, sd: float) -> dict:
    return {
        "n_randomised": n,
        "n_analysed": n,
        "value_type": "final value",
        "dispersion": "SD",
        "mean": mean,
        "sd": sd,
    }


def trial_log(k: int, *, routes=None, doses=None, cells=None, policy="huang2024", reviewers=None):  # type: ignore[no-untyped-def]
    """k studies of the continuous outcome, with route, dose and cell source."""
    log = Log(k, policy)
    for study in range(1, k + 1):
        n1, n2 = 20 + 3 * study, 22 + 2 * study
        effect = -3.0 + 2.5 * np.sin(study)
        characteristics = {
            "route": (routes or ROUTES)[study % len(routes or ROUTES)],
            "dose": (doses[study - 1] if doses else 10 * study),
            "cell source": (cells[study - 1] if cells else "bone marrow"),
        }
        rows = {
            ("score", "MSC", "12 weeks"): continuous(n1, 20 + effect, 6 + study % 3),
            ("score", "control", "12 weeks"): continuous(n2, 20, 7 - study % 2),
            ("", "", ""): {name: value for name, value in characteristics.items() if value != ""},
        }
        log.values(study, rows, reviewers=(reviewers or {}).get(study, ("Ana", "Ben")))
    return log


def usable(analysis) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    return analysis.table[analysis.table["missing"] == ""]


def test_the_policy_and_follow_ups_equal_the_analysis_functions_on_the_export() -> None:
    log = trial_log(12)
    analysis = log.analyze("score", rob={i: "Low" if i % 3 else "High" for i in range(1, 13)})
    data = usable(analysis)
    assert analysis.k == 12 and analysis.measure == "MD" and not analysis.missing
    expected = apply_policy(analysis.policy.policy, data, label="study")
    assert analysis.policy.result == expected.result
    assert analysis.policy.decisions[-len(expected.decisions) :] == expected.decisions
    # huang2024 uses SMD; the protocol's measure MD is analysed, and the decision says so
    assert analysis.policy.decisions[0].startswith("measure MD as the protocol's outcome says")
    result = analysis.policy.result
    [loo] = analysis.follow_up("leave_one_out")
    assert loo.done and loo.result == leave_one_out(result)
    [without] = analysis.follow_up("exclude_high_risk")
    kept = data[[i % 3 != 0 for i in data["study_id"]]]
    refit = meta(kept, measure="MD", method=result.method, test=result.test, label="study")
    assert without.result.estimate == pytest.approx(refit.estimate, rel=1e-12)
    assert without.result.k == 8 and "4 of 12 studies at high risk excluded" in without.reason
    assert analysis.without_high_risk is without.result
    route, cells = analysis.follow_up("subgroup")
    direct = subgroup_analysis(data, "route", measure="MD", method=result.method, label="study")
    assert route.done and route.variable == "route"
    assert route.result.q_between == pytest.approx(direct.q_between, rel=1e-12)
    assert not cells.done and "one level (bone marrow) among the 12 studies" in cells.reason
    [regression] = analysis.follow_up("metaregression")
    direct = meta_regression(data, "~ dose", measure="MD", method="DL", label="study")
    assert regression.result.to_dict() == direct.to_dict()
    [bias] = analysis.follow_up("small_study")
    assert bias.done and bias.result.egger is not None
    # GRADE's inputs: participants per arm, judgements by label
    assert analysis.participants_intervention == int(data["n1"].sum())
    assert analysis.participants == int(data["n1"].sum() + data["n2"].sum())
    assert analysis.rob_overall["Author3 2003"] == "High" and analysis.design == "randomised"
    assert analysis.outcome.mid == 2.5
    keys = set(analysis.to_dict())
    assert {"result", "policy", "follow_ups", "missing", "notes", "grade_inputs"} <= keys


def test_no_usable_data_k_0() -> None:
    log = trial_log(4)
    analysis = log.analyze("deaths")
    assert analysis.policy is None and analysis.k == 0
    assert "no study has usable data for deaths" in analysis.notes[0]
    assert [(m.study, m.reason) for m in analysis.missing] == [
        (f"Author{i} {2000 + i}", "not reported") for i in range(1, 5)
    ]
    assert analysis.follow_ups and all(
        not f.done and f.reason == "not run: no usable data" for f in analysis.follow_ups
    )
    assert "k = 0" in analysis.summary()


def test_one_study() -> None:
    log = Log(3)
    log.values(
        1,
        {
            ("deaths", "MSC", ""): {"events": 3, "total": 30},
            ("deaths", "control", ""): {"events": 6, "total": 30},
        },
    )
    analysis = log.analyze("deaths")
    assert analysis.k == 1 and len(analysis.missing) == 2
    assert any(note.startswith("one study") for note in analysis.notes)
    [loo] = analysis.follow_up("leave_one_out")
    [bias] = analysis.follow_up("small_study")
    assert not loo.done or loo.reason  # huang2024 asks only under random effects
    assert "leave-one-out needs 3 studies" in loo.reason
    assert "k = 1, fewer than 10 studies" in bias.reason
    assert analysis.control_risks == (0.2,)
    assert analysis.policy.result.estimate == pytest.approx(np.log(0.5), rel=1e-12)


def test_all_studies_at_high_risk_and_no_judgements() -> None:
    log = trial_log(5)
    [without] = log.analyze("score", rob={i: "High" for i in range(1, 6)}).follow_up(
        "exclude_high_risk"
    )
    assert not without.done and "all 5 studies at high risk of bias" in without.reason
    [without] = log.analyze("score", rob=None, note="the protocol has no [risk_of_bias]").follow_up(
        "exclude_high_risk"
    )
    assert "not run: the protocol has no [risk_of_bias]" in without.reason
    [without] = log.analyze("score", rob={}).follow_up("exclude_high_risk")
    assert "none of the 5 studies has a reconciled risk-of-bias judgement" in without.reason
    [without] = log.analyze("score", rob={1: "Low", 2: None}).follow_up("exclude_high_risk")
    assert "no study at high risk" in without.reason
    assert "4 without an overall judgement kept: Author2 2002, Author3 2003" in without.reason


def test_subgroup_with_missing_values_and_too_few_for_small_study_tests() -> None:
    log = trial_log(6, routes=("intravenous", "intra-arterial", ""))
    analysis = log.analyze("score")
    route = analysis.follow_up("subgroup")[0]
    assert route.done
    assert "2 without a value for route left out: Author2 2002, Author5 2005" in route.reason
    data = usable(analysis)
    direct = subgroup_analysis(
        data[data["route"] != ""],
        "route",
        measure="MD",
        method=analysis.policy.result.method,
        label="study",
    )
    assert route.result.q_between == pytest.approx(direct.q_between, rel=1e-12)
    [bias] = analysis.follow_up("small_study")
    assert not bias.done and "k = 6, fewer than 10 studies (small_study_min_k" in bias.reason
    # hassanein2024 runs no small-study tests: said so
    [bias] = trial_log(6, policy="hassanein2024").analyze("score").follow_up("small_study")
    assert bias.reason == "not part of policy hassanein2024"


def test_a_meta_regression_the_data_cannot_support_says_why() -> None:
    analysis = trial_log(6, doses=[5] * 6).analyze("score")
    [regression] = analysis.follow_up("metaregression")
    assert not regression.done and regression.reason.startswith("not run: ")
    assert "fewer than 10 studies per moderator" not in regression.reason


def test_a_policy_the_data_cannot_satisfy() -> None:
    log = Log(3)
    for study in (1, 2, 3):
        log.values(
            study,
            {
                ("deaths", "MSC", ""): {"events": 0, "total": 30},
                ("deaths", "control", ""): {"events": 0, "total": 30},
            },
        )
    analysis = log.analyze("deaths")
    assert analysis.policy is None
    assert analysis.notes[-1].startswith("policy huang2024 gives no estimate for deaths: ")
    assert "no events in one of the groups" in analysis.notes[-1]
    assert all(f.reason == "not run: the policy could not be applied" for f in analysis.follow_ups)


def test_a_blinded_study_is_missing_with_its_reason_and_gives_no_number() -> None:
    log = trial_log(5, reviewers={2: ("Ana",)})
    analysis = log.analyze("score")
    assert [(m.study, m.reason) for m in analysis.missing] == [
        ("Author2 2002", "blinded: 1 of 2 extractors submitted")
    ]
    assert "Author2 2002" not in analysis.policy.result.labels and analysis.k == 4
    row = analysis.table.set_index("study").loc["Author2 2002"]
    assert np.isnan(row["mean1"]) and np.isnan(row["sd2"])


def test_a_custom_policy_from_the_protocol() -> None:
    text = PROTOCOL_TEMPLATE.format(title="T")
    text = (
        text[: text.index("[[outcomes]]")]
        + PLAN.replace("{policy}", "custom")
        + (
            '\n[analysis.custom]\nalways_random = true\nrandom_method = "PM"\ntest = "knha"\n'
            'leave_one_out = "always"\nprediction_interval = true\n'
        )
    )
    custom = validate_protocol(tomllib.loads(text), text, "review.toml")
    log = trial_log(4)
    log.protocol = custom
    analysis = log.analyze("score")
    result = analysis.policy.result
    assert (result.method, result.test, analysis.policy.policy.name) == ("PM", "knha", "custom")
    direct = meta(usable(analysis), measure="MD", method="PM", test="knha", label="study")
    assert result.estimate == pytest.approx(direct.estimate, rel=1e-12)
    assert result.pi_lower == pytest.approx(direct.pi_lower, rel=1e-12)
    assert analysis.follow_up("leave_one_out")[0].done
    assert replace(analysis, stale=True).stale
