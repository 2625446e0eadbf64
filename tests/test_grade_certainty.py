"""assess_certainty: the start by design, overrides, clamping, the JSON keys of issue 12."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from srma import meta
from srma.analysis.bias import small_study_tests
from srma.analysis.grade import LEVELS, GradeInputs, Override, assess_certainty, symbols
from srma.datasets import load
from srma.errors import InputError

DOMAIN_KEYS = {"rating", "proposed", "reason", "overridden_by"}


def _precise(measure: str = "MD"):
    """A consistent, precise result: nothing to rate down."""
    y = np.array([0.50, 0.52, 0.48, 0.51])
    return meta(y, np.full(4, 0.001), labels=["A", "B", "C", "D"], measure=measure)


def test_start_by_design() -> None:
    result = _precise()
    assert assess_certainty(GradeInputs("o", result)).certainty == "high"
    observational = assess_certainty(GradeInputs("o", result, design="observational"))
    assert observational.start == "low" and observational.certainty == "low"
    preclinical = assess_certainty(GradeInputs("o", result, design="preclinical"))
    assert preclinical.start == "high" and "Hooijmans" in preclinical.start_reason


def test_overrides_replace_the_proposal_with_a_reason() -> None:
    result = _precise()
    override = Override(-2, "outcome assessors unblinded in every trial", "J. Doe")
    certainty = assess_certainty(GradeInputs("o", result, overrides={"risk_of_bias": override}))
    rob = certainty.domain("risk_of_bias")
    assert (rob.rating, rob.proposed, rob.overridden_by) == (-2, 0, "J. Doe")
    assert certainty.certainty == "low"
    assert any("unblinded" in note and "J. Doe" in note for note in certainty.footnotes)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"risk_of_bias": Override(1, "r", "x")}, "rating must be one of 0, -1, -2"),
        ({"large_effect": Override(-1, "r", "x")}, "rating must be one of 0, 1, 2"),
        ({"imprecision": Override(-1, " ", "x")}, "a reason is required"),
        ({"imprecision": Override(-1, "r", "")}, "reviewer must be named"),
        ({"bias": Override(-1, "r", "x")}, "override of 'bias'"),
    ],
)
def test_bad_overrides(overrides: dict[str, Override], message: str) -> None:
    with pytest.raises(InputError, match=message):
        assess_certainty(GradeInputs("o", _precise(), overrides=overrides))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("design", "cohort", "design must be one of"),
        ("direction", "up", "direction must be"),
        ("assumed_risk", 1.2, "between 0 and 1"),
        ("participants", -3, "whole number"),
        ("importance", "vital", "importance must be"),
    ],
)
def test_bad_inputs(field: str, value: object, message: str) -> None:
    with pytest.raises(InputError, match=message):
        assess_certainty(GradeInputs("o", _precise("RR"), **{field: value}))


def test_upgrades_for_observational_evidence() -> None:
    result = _precise("RR")  # log RR about 0.5: RR 1.65, not large
    big = replace(result, estimate=math.log(6), ci_lower=math.log(4), ci_upper=math.log(9))
    certainty = assess_certainty(
        GradeInputs("o", big, design="observational", control_risks=[0.1] * 4, participants=10**6)
    )
    assert certainty.domain("large_effect").rating == 2
    assert certainty.certainty == "high"  # low + 2
    capped = assess_certainty(
        GradeInputs(
            "o",
            big,
            control_risks=[0.1] * 4,
            participants=10**6,
            overrides={"large_effect": Override(2, "very large", "x")},
        )
    )
    assert capped.score == 4  # randomised high + 2 stays high


def test_json_keys_of_the_issue() -> None:
    bcg = load("bcg")
    result = meta(bcg, measure="RR")
    certainty = assess_certainty(
        GradeInputs(
            "tuberculosis",
            result,
            direction="lower is better",
            small_study=small_study_tests(result),
            control_risks=(bcg["events2"] / bcg["total2"]).tolist(),
            participants=int((bcg["total1"] + bcg["total2"]).sum()),
        )
    )
    out = certainty.to_dict()
    assert out["certainty"] in {"high", "moderate", "low", "very low"}
    assert set(out["domains"]) == {
        "risk_of_bias",
        "inconsistency",
        "indirectness",
        "imprecision",
        "publication_bias",
    }
    for domain in out["domains"].values():
        assert set(domain) >= DOMAIN_KEYS
        assert domain["rating"] in (0, -1, -2) and domain["reason"]
    assert set(out["absolute"]) >= {
        "assumed_risk",
        "risk_with_intervention",
        "difference_per_1000",
        "difference_ci_lower",
        "difference_ci_upper",
    }
    # BCG: I² 92%, Q p < 0.0001, PI 0.13 to 1.78 across the null: very serious inconsistency
    assert out["domains"]["inconsistency"]["rating"] == -2
    median = float(np.median(bcg["events2"] / bcg["total2"]))
    assert out["absolute"]["assumed_risk"] == pytest.approx(median)
    assert out["absolute"]["difference_per_1000"] == pytest.approx(
        1000 * median * (math.exp(result.estimate) - 1)
    )


def test_continuous_outcome_has_no_absolute_and_reads_the_smd() -> None:
    certainty = assess_certainty(GradeInputs("o", _precise("SMD")))
    out = certainty.to_dict()
    assert "absolute" not in out
    assert "moderate effect" in out["interpretation"] and "Cohen" in out["interpretation"]


def test_binary_without_comparator_risk_says_so() -> None:
    certainty = assess_certainty(GradeInputs("o", _precise("RR")))
    assert certainty.to_dict()["absolute"] is None
    assert any("Absolute effect not computed" in note for note in certainty.footnotes)


def test_symbols() -> None:
    assert [symbols(s) for s in (4, 3, 2, 1)] == ["⊕⊕⊕⊕", "⊕⊕⊕◯", "⊕⊕◯◯", "⊕◯◯◯"]
    assert symbols(-3) == "⊕◯◯◯" and symbols(9) == "⊕⊕⊕⊕"


ratings = st.sampled_from([0, -1, -2])


@settings(max_examples=60, deadline=None)
@given(
    design=st.sampled_from(["randomised", "observational", "preclinical"]),
    domains=st.lists(ratings, min_size=5, max_size=5),
    ups=st.lists(st.sampled_from([0, 1, 2]), min_size=2, max_size=2),
    acr=st.floats(0.001, 0.999),
    log_ratio=st.floats(-8, 8),
    half_width=st.floats(0.0, 5.0),
)
def test_certainty_is_always_one_of_four_levels(
    design: str,
    domains: list[int],
    ups: list[int],
    acr: float,
    log_ratio: float,
    half_width: float,
) -> None:
    result = replace(
        _precise("OR"),
        estimate=log_ratio,
        ci_lower=log_ratio - half_width,
        ci_upper=log_ratio + half_width,
    )
    names = ["risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias"]
    overrides = {n: Override(r, "judged", "x") for n, r in zip(names, domains, strict=True)}
    overrides |= {
        n: Override(r, "judged", "x")
        for n, r in zip(["large_effect", "dose_response"], ups, strict=True)
    }
    certainty = assess_certainty(
        GradeInputs("o", result, design=design, assumed_risk=acr, overrides=overrides)
    )
    assert certainty.certainty in LEVELS.values()
    start = 2 if design == "observational" else 4
    assert certainty.score == max(1, min(4, start + sum(domains) + sum(ups)))
    absolute = certainty.absolute
    assert absolute is not None
    assert 0.0 <= absolute.risk_ci_lower <= absolute.risk_with_intervention <= 1.0
    assert absolute.risk_ci_upper <= 1.0


@pytest.mark.parametrize(
    ("estimate", "lower", "upper", "direction", "words", "favours"),
    [
        (-0.5, -0.8, -0.2, "lower is better", "reduces", "favours the intervention"),
        (-0.5, -0.8, -0.2, "higher is better", "reduces", "favours the comparator"),
        (0.5, 0.2, 0.8, "higher is better", "increases", "favours the intervention"),
        (0.1, -0.2, 0.4, "higher is better", "little to no difference", "no clear difference"),
    ],
)
def test_plain_language_statement_follows_direction(
    estimate: float, lower: float, upper: float, direction: str, words: str, favours: str
) -> None:
    """GRADE's informative statements (Santesso et al., J Clin Epidemiol 2020;119:126)."""
    result = replace(_precise(), estimate=estimate, ci_lower=lower, ci_upper=upper)
    overrides = {"imprecision": Override(0, "judged precise", "x")}
    certainty = assess_certainty(
        GradeInputs("pain", result, direction=direction, overrides=overrides)
    )
    assert certainty.certainty == "high"
    assert words in certainty.statement and certainty.conclusion == favours
    low = assess_certainty(
        GradeInputs(
            "pain",
            result,
            direction=direction,
            overrides={**overrides, "risk_of_bias": Override(-2, "r", "x")},
        )
    )
    assert "may " in low.statement
    very_low = assess_certainty(
        GradeInputs(
            "pain",
            result,
            design="observational",
            overrides={**overrides, "risk_of_bias": Override(-1, "r", "x")},
        )
    )
    assert very_low.statement.startswith("The evidence is very uncertain")
