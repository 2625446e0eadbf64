"""The export: conversions (SE, CI, median with IQR or range to mean and SD), multi-arm trials
(combined, chosen, split), binary, time-to-event and generic data, the reasons a study cannot
be analysed, labels; all on logs replayed in memory."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from srma.review.decision_log import LoggedEvent
from srma.review.extract.assessment import assessment_state
from srma.review.extract.export import export_outcome
from srma.review.extract.forms import extraction_form
from srma.review.extract.studies import studies_of
from srma.review.project import PROTOCOL_TEMPLATE
from srma.review.protocol import validate_protocol
from srma.review.state import replay
from srma.stats.conversions import combine_groups, mean_sd_from_quantiles, sd_from_ci

OUTCOMES = """
[[outcomes]]
name = "score"
measure = "MD"
direction = "lower is better"
data = "continuous"
time_points = ["12 weeks"]
multi_arm = "{rule}"

[[outcomes]]
name = "deaths"
measure = "RR"
direction = "lower is better"
data = "binary"
multi_arm = "{rule}"

[[outcomes]]
name = "survival"
measure = "GEN"
direction = "higher is better"
data = "time-to-event"

[[outcomes]]
name = "generic"
measure = "GEN"
direction = "higher is better"
data = "generic"
multi_arm = "{rule}"
"""


def protocol(rule: str = "combine"):  # type: ignore[no-untyped-def]
    template = PROTOCOL_TEMPLATE.format(title="T")
    start = template.index("[[outcomes]]")
    end = template.index("[risk_of_bias]")
    text = template[:start] + OUTCOMES.replace("{rule}", rule) + template[end:]
    return validate_protocol(tomllib.loads(text), text, "review.toml")


class Log:
    """Events written by hand, as srma writes them."""

    def __init__(self, records: int) -> None:
        self.events: list[LoggedEvent] = []
        for stage in ("title_abstract", "full_text"):
            for record in range(1, records + 1):
                for name in ("Ana", "Ben"):
                    self.add(name, "screening", record, stage=stage, decision="include")
        self.records = records

    def add(self, reviewer, kind, record, *, stage=None, decision=None, payload=None):  # type: ignore[no-untyped-def]
        number = len(self.events) + 1
        moment = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=number)
        self.events.append(
            LoggedEvent(
                number, moment, reviewer, kind, stage, record, decision, None, None, None, payload
            )
        )

    def values(self, study: int, rows: dict, reviewers=("Ana", "Ben"), submit=True) -> None:  # type: ignore[no-untyped-def]
        for name in reviewers:
            values = [
                {"scope": scope, "arm": arm, "time": time, "field": field, "value": str(value)}
                for (scope, arm, time), fields in rows.items()
                for field, value in fields.items()
            ]
            self.add(name, "extraction", study, payload={"values": values})
            if submit:
                self.add(name, "extraction_submit", study, payload={})

    def export(self, outcome: str, rule: str = "combine", authors=None):  # type: ignore[no-untyped-def]
        state = replay(self.events, list(range(1, self.records + 1)), required=2)
        chosen = protocol(rule)
        people = authors or {r: ([f"Author{r}, A."], 2000 + r) for r in range(1, self.records + 1)}
        studies = studies_of(state, people, chosen)
        form = extraction_form(chosen, studies)
        return export_outcome(form, assessment_state(state), chosen, outcome).table.set_index(
            "study"
        )


def arm(n, **values):  # type: ignore[no-untyped-def]
    return {"n_randomised": n, "n_analysed": n, "value_type": "final value", **values}


def test_conversions_to_mean_and_sd() -> None:
    log = Log(5)
    rows = {
        1: ({"dispersion": "SE", "mean": 10, "se": 2}, {"dispersion": "SD", "mean": 12, "sd": 9}),
        2: (
            {"dispersion": "95% CI", "mean": 15, "ci_lower": 10, "ci_upper": 20},
            {"dispersion": "90% CI", "mean": 14, "ci_lower": 11, "ci_upper": 17},
        ),
        3: (
            {"dispersion": "IQR", "median": 20, "q1": 15, "q3": 27},
            {"dispersion": "range", "median": 22, "minimum": 5, "maximum": 40},
        ),
        4: (
            {
                "dispersion": "IQR and range",
                "median": 20,
                "q1": 15,
                "q3": 27,
                "minimum": 5,
                "maximum": 40,
            },
            {"dispersion": "SD", "mean": 21, "sd": 6},
        ),
    }
    for study, (first, second) in rows.items():
        log.values(
            study,
            {
                ("score", "MSC", "12 weeks"): arm(25, **first),
                ("score", "control", "12 weeks"): arm(25, **second),
            },
        )
    log.values(5, {("score", "MSC", "12 weeks"): {"n_randomised": 30}})
    table = log.export("score")
    assert table.loc["Author1 2001", "sd1"] == pytest.approx(10.0)  # SE sqrt(n) = 2 x 5
    assert table.loc["Author1 2001", "conversions"] == "MSC: SD from SE"
    assert table.loc["Author2 2002", "sd1"] == pytest.approx(float(sd_from_ci(10, 20, 25)))
    # the Handbook's example: n = 25, 95% CI, t quantile 2.0639, so SD = 5 x 10 / 4.128
    assert table.loc["Author2 2002", "sd1"] == pytest.approx(5 * 10 / 4.1278, rel=1e-4)
    assert table.loc["Author2 2002", "sd2"] == pytest.approx(
        float(sd_from_ci(11, 17, 25, level=0.90))
    )
    mean, sd = mean_sd_from_quantiles(25, 20, q1=15, q3=27)
    assert (table.loc["Author3 2003", "mean1"], table.loc["Author3 2003", "sd1"]) == (
        pytest.approx(float(mean)),
        pytest.approx(float(sd)),
    )
    mean, sd = mean_sd_from_quantiles(25, 20, minimum=5, q1=15, q3=27, maximum=40)
    assert table.loc["Author4 2004", "sd1"] == pytest.approx(float(sd))
    assert "Luo 2018; Shi 2020" in table.loc["Author4 2004", "conversions"]
    assert table.loc["Author5 2005", "missing"] == "not reported"
    assert np.isnan(table.loc["Author5 2005", "mean1"])
    assert (table["n1"].iloc[:4] == 25).all() and table["value_type"].iloc[0] == "final value"


def raw_arms(seed: int = 3) -> list[np.ndarray]:
    generator = np.random.default_rng(seed)
    return [generator.normal(10 + i, 2 + i, size=12 + 5 * i) for i in range(3)]


def multi_arm_log() -> Log:
    """Study 1 has two experimental arms (low and high dose) and one control; study 2 two."""
    log = Log(2)
    log.add(
        "Ana",
        "study_arms",
        1,
        payload={
            "arms": [["low", "MSC"], ["high", "MSC"], ["placebo", "control"]],
            "chosen": ["high"],
        },
    )
    data = raw_arms()
    rows = {}
    for name, values in zip(("low", "high", "placebo"), data, strict=True):
        rows[("score", name, "12 weeks")] = arm(
            len(values),
            dispersion="SD",
            mean=repr(float(values.mean())),
            sd=repr(float(values.std(ddof=1))),
        )
    for name, events, total in (("low", 3, 40), ("high", 5, 41), ("placebo", 9, 40)):
        rows[("deaths", name, "")] = {"events": events, "total": total}
    log.values(1, rows)
    log.values(
        2,
        {
            ("score", "MSC", "12 weeks"): arm(20, dispersion="SD", mean=1, sd=2),
            ("score", "control", "12 weeks"): arm(20, dispersion="SD", mean=2, sd=2),
        },
    )
    return log


def test_multi_arm_trials_combined_chosen_or_split() -> None:
    data = raw_arms()
    pooled = np.concatenate(data[:2])
    combined = multi_arm_log().export("score", "combine").loc["Author1 2001"]
    # combining two arms gives exactly the mean and SD of their pooled observations
    assert combined["n1"] == len(pooled)
    assert combined["mean1"] == pytest.approx(pooled.mean(), rel=1e-12)
    assert combined["sd1"] == pytest.approx(pooled.std(ddof=1), rel=1e-12)
    *_, s = combine_groups(
        len(data[0]),
        data[0].mean(),
        data[0].std(ddof=1),
        len(data[1]),
        data[1].mean(),
        data[1].std(ddof=1),
    )
    assert combined["sd1"] == pytest.approx(float(s), rel=1e-12)
    assert combined["multi_arm"] == "combined low + high (Handbook 6.5.2.10)"
    assert (combined["arm1"], combined["arm2"]) == ("low + high", "placebo")
    chosen = multi_arm_log().export("score", "choose").loc["Author1 2001"]
    assert chosen["n1"] == len(data[1]) and chosen["multi_arm"] == "chose high of low, high"
    split = multi_arm_log().export("score", "split")
    rows = split.loc[["Author1 2001 (low)", "Author1 2001 (high)"]]
    assert list(rows["n2"]) == [len(data[2]) / 2] * 2
    assert list(rows["n1"]) == [len(data[0]), len(data[1])]
    assert "split placebo between 2 comparisons" in rows["multi_arm"].iloc[0]
    assert split.loc["Author2 2002", "multi_arm"] == ""
    deaths = multi_arm_log().export("deaths", "combine").loc["Author1 2001"]
    assert (deaths["events1"], deaths["total1"], deaths["events2"], deaths["total2"]) == (
        8,
        81,
        9,
        40,
    )
    halves = multi_arm_log().export("deaths", "split")
    assert list(halves["events2"].iloc[:2]) == [4.5, 4.5]


def test_time_to_event_and_generic_estimates() -> None:
    log = Log(3)
    log.values(
        1, {("survival", "MSC vs control", ""): {"hr": 0.7, "ci_lower": 0.5, "ci_upper": 0.98}}
    )
    log.values(2, {("survival", "MSC vs control", ""): {"o_minus_e": -4.2, "variance": 9.5}})
    log.values(
        3,
        {
            ("generic", "MSC vs control", ""): {
                "estimate": 0.3,
                "ci_lower": 0.1,
                "ci_upper": 0.5,
                "ci_level": "90%",
            }
        },
    )
    survival = log.export("survival")
    assert survival.loc["Author1 2001", "yi"] == pytest.approx(np.log(0.7))
    z = 1.959963984540054
    assert survival.loc["Author1 2001", "sei"] == pytest.approx(
        (np.log(0.98) - np.log(0.5)) / (2 * z)
    )
    assert survival.loc["Author2 2002", "yi"] == pytest.approx(-4.2 / 9.5)
    assert survival.loc["Author2 2002", "sei"] == pytest.approx(1 / np.sqrt(9.5))
    assert "Peto" in survival.loc["Author2 2002", "conversions"]
    generic = log.export("generic")
    assert generic.loc["Author3 2003", "sei"] == pytest.approx(0.4 / (2 * 1.6448536269514722))
    assert generic.loc["Author1 2001", "missing"] == "not reported"


def test_every_study_keeps_its_row_with_the_reason() -> None:
    log = Log(4)
    log.values(1, {("score", "MSC", "12 weeks"): arm(20, dispersion="SD", mean=1, sd=2)})
    log.values(
        2,
        {
            ("score", "MSC", "12 weeks"): arm(20, dispersion="SD", mean=1, sd=2),
            ("score", "control", "12 weeks"): {
                **arm(20, dispersion="SD", mean=1, sd=2),
                "value_type": "change from baseline",
            },
        },
    )
    log.values(
        3,
        {("score", "MSC", "12 weeks"): arm(20, dispersion="SD", mean=1, sd=2)},
        reviewers=("Ana",),
    )
    log.values(
        3,
        {("score", "MSC", "12 weeks"): arm(20, dispersion="SD", mean=1.5, sd=2)},
        reviewers=("Ben",),
    )
    table = log.export("score")
    assert table.loc["Author1 2001", "missing"] == "not reported for control"
    assert table.loc["Author2 2002", "missing"].startswith(
        "final values and changes from baseline mixed"
    )
    assert table.loc["Author3 2003", "missing"] == "unresolved discrepancy: mean (MSC)"
    assert table.loc["Author4 2004", "missing"] == "blinded: 0 of 2 extractors submitted"
    assert len(table) == 4


def test_a_study_submitted_by_one_extractor_is_blinded_in_the_export() -> None:
    log = Log(1)
    log.values(
        1,
        {("score", "MSC", "12 weeks"): arm(20, dispersion="SD", mean=1, sd=2)},
        reviewers=("Ana",),
    )
    row = log.export("score").loc["Author1 2001"]
    assert row["missing"] == "blinded: 1 of 2 extractors submitted" and np.isnan(row["mean1"])


def test_labels_are_author_year_with_letters_where_they_repeat() -> None:
    log = Log(4)
    authors = {
        1: (["Lee, J."], 2010),
        2: (["Lee JH"], 2010),
        3: (["TPT Madras"], 1980),
        4: ([], None),
    }
    labels = list(log.export("score", authors=authors).index)
    assert labels == ["Lee 2010a", "Lee 2010b", "Record 4", "TPT Madras 1980"]


def test_linked_records_are_one_study_under_the_first() -> None:
    log = Log(3)
    log.add("Ana", "study_link", 1, payload={"records": [1, 3], "label": "MASTERS"})
    table = log.export("score")
    assert list(table.index) == ["Author2 2002", "MASTERS"]
    assert table.loc["MASTERS", "records"] == "1; 3"
    log.add("Ana", "study_link", 1, payload={"records": [1], "label": None})
    assert list(log.export("score").index) == ["Author1 2001", "Author2 2002", "Author3 2003"]


def test_resolutions_stand_until_a_submitter_changes_the_item() -> None:
    log = Log(1)
    log.values(
        1,
        {
            ("score", "MSC", "12 weeks"): arm(20, dispersion="SD", mean=1, sd=2),
            ("score", "control", "12 weeks"): arm(20, dispersion="SD", mean=3, sd=2),
        },
        reviewers=("Ana",),
    )
    log.values(
        1,
        {
            ("score", "MSC", "12 weeks"): arm(20, dispersion="SD", mean=1, sd=2.5),
            ("score", "control", "12 weeks"): arm(20, dispersion="SD", mean=3, sd=2),
        },
        reviewers=("Ben",),
    )
    log.add(
        "Cy",
        "extraction_resolve",
        1,
        payload={
            "values": [
                {"scope": "score", "arm": "MSC", "time": "12 weeks", "field": "sd", "value": "2.5"}
            ]
        },
    )
    assert log.export("score").loc["Author1 2001", "sd1"] == 2.5
    log.add(
        "Ana",
        "extraction",
        1,
        payload={
            "values": [
                {"scope": "score", "arm": "MSC", "time": "12 weeks", "field": "sd", "value": "2"}
            ]
        },
    )
    assert log.export("score").loc["Author1 2001", "missing"] == "unresolved discrepancy: sd (MSC)"


def test_numbers_agree_at_the_precision_reported() -> None:
    from srma.review.extract.forms import FieldSpec
    from srma.review.extract.values import parse_value

    number = FieldSpec("mean", "number")
    same = [("12.0", 12), ("12.1", "12.10"), (12.1, "12.1"), ("1e6", 1000000), ("-0", 0.0)]
    for a, b in same:
        assert parse_value(number, a)[0] == parse_value(number, b)[0], (a, b)
    for a, b in [("12.1", "12.2"), ("12.1", "12.13")]:
        assert parse_value(number, a)[0] != parse_value(number, b)[0]
    assert parse_value(number, "12.10")[1] == "12.10"  # written as reported


def test_export_columns_carry_the_characteristics() -> None:
    log = Log(2)
    for study, source in ((1, "bone marrow"), (2, "umbilical cord")):
        log.values(
            study,
            {("", "", ""): {"cell source": source, "dose": 10 * study, "design": "parallel RCT"}},
        )
    table = log.export("score")
    assert list(table["cell_source"]) == ["bone marrow", "umbilical cord"]
    assert list(table["dose"]) == [10.0, 20.0]
    assert pd.api.types.is_numeric_dtype(table["dose"])
