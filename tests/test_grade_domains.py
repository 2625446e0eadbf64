"""Each GRADE domain rule at its boundaries (srma.analysis.grade.domains).

The thresholds are those docs/grade.md states with their sources: risk of bias
50% of the weight and the conclusion without high-risk studies (GRADE 4);
I² 50% / 75% and Q p 0.10 (GRADE 7, Cochrane Handbook 10.10.2); the CI against
the null, the MID and the optimal information size (GRADE 6); Egger p 0.10 with
k >= 10 (GRADE 5, Cochrane Handbook 13.3.5.4); ratios 2 and 5 (GRADE 9).
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from srma import meta
from srma.analysis.grade import Override
from srma.analysis.grade import domains as rules
from srma.analysis.grade.information_size import (
    binary_group_size,
    binary_ois,
    continuous_group_size,
    continuous_ois,
)
from srma.analysis.results import MetaResult
from srma.errors import InputError

FIXTURES = Path(__file__).parent / "reference" / "fixtures"


def _result(measure: str | None = "MD", **changes: object) -> MetaResult:
    base = meta(np.array([0.1, 0.3, 0.2, 0.4]), np.array([0.01, 0.02, 0.015, 0.03]),
                labels=["A", "B", "C", "D"])  # fmt: skip
    values = {"measure": measure, "weights": (40.0, 30.0, 20.0, 10.0), **changes}
    return replace(base, **values)


# --- risk of bias ---------------------------------------------------------------------


def test_no_judgements_says_so() -> None:
    rating = rules.rate_risk_of_bias(_result(), None, None)
    assert rating.rating == 0 and "no risk-of-bias judgements" in rating.reason


@pytest.mark.parametrize(
    ("judgements", "expected"),
    [
        ({"A": "high", "B": "low", "C": "low", "D": "high"}, -1),  # 50%: the majority
        ({"A": "low", "B": "high", "C": "low", "D": "high"}, 0),  # 40%
        ({"A": "high", "B": "high", "C": "low", "D": "low"}, -1),  # 70%
    ],
)
def test_weight_of_high_risk_studies(judgements: dict[str, str], expected: int) -> None:
    rating = rules.rate_risk_of_bias(_result(), judgements, None)
    assert rating.rating == expected
    assert "of the weight" in rating.reason and "no analysis without" in rating.reason
    assert rating.values["weight_high"] == sum(
        w for w, s in zip((40, 30, 20, 10), "ABCD", strict=True) if judgements[s] == "high"
    )


def test_excluding_high_risk_changes_the_conclusion() -> None:
    full = _result(ci_lower=0.05, ci_upper=0.4)
    restricted = _result(ci_lower=-0.05, ci_upper=0.3, k=2)
    minority = {"A": "low", "B": "high", "C": "low", "D": "low"}
    assert rules.rate_risk_of_bias(full, minority, restricted).rating == -1
    majority = {"A": "high", "B": "low", "C": "high", "D": "low"}  # 60%
    rating = rules.rate_risk_of_bias(full, majority, restricted)
    assert rating.rating == -2 and "the conclusion changes" in rating.reason
    same = _result(ci_lower=0.01, ci_upper=0.3, k=2)
    assert rules.rate_risk_of_bias(full, minority, same).rating == 0


def test_unknown_judgement_and_unassessed_studies() -> None:
    with pytest.raises(InputError, match=r"study 'A'.*'moderate'"):
        rules.rate_risk_of_bias(_result(), {"A": "moderate"}, None)
    rating = rules.rate_risk_of_bias(_result(), {"A": "Low", "B": "Some concerns"}, None)
    assert rating.rating == 0 and "2 studies not assessed" in rating.reason
    typo = rules.rate_risk_of_bias(_result(), {"A": "low", "Smith 2001": "high"}, None)
    assert "1 judged study is not in the analysis (Smith 2001)" in typo.reason


def test_every_study_high() -> None:
    rating = rules.rate_risk_of_bias(_result(), dict.fromkeys("ABCD", "high"), None)
    assert rating.rating == -1 and "every study is at high risk" in rating.reason


# --- inconsistency ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("i2", "q_p", "pi", "expected"),
    [
        (49.9, 0.01, (-0.1, 0.5), 0),
        (50.0, 0.09, (0.01, 0.5), -1),
        (50.0, 0.10, (0.01, 0.5), 0),
        (50.0, 0.5, (-0.1, 0.5), -1),
        (74.9, 0.001, (-0.1, 0.5), -1),
        (75.0, 0.001, (-0.1, 0.5), -2),
        (75.0, 0.001, (0.01, 0.5), -1),
        (80.0, 0.2, (-0.1, 0.5), -1),
    ],
)
def test_inconsistency_boundaries(
    i2: float, q_p: float, pi: tuple[float, float], expected: int
) -> None:
    result = _result(i2=i2, q_pvalue=q_p, pi_lower=pi[0], pi_upper=pi[1])
    rating = rules.rate_inconsistency(result)
    assert rating.rating == expected
    assert "I² = " in rating.reason and "Cochran's Q" in rating.reason


def test_inconsistency_single_study_and_common_effect() -> None:
    one = _result(k=1, i2=None)
    assert "single study" in rules.rate_inconsistency(one).reason
    common = _result(i2=80.0, q_pvalue=0.001, pi_lower=None, pi_upper=None)
    rating = rules.rate_inconsistency(common)
    assert rating.rating == -2 and "no prediction interval" in rating.reason


# --- indirectness --------------------------------------------------------------------------


def test_indirectness_is_the_reviewers() -> None:
    assert "not judged" in rules.rate_indirectness(None).reason
    judged = rules.rate_indirectness(Override(-1, "older population than planned", "AB"))
    assert judged.rating == -1 and "older population" in judged.reason
    with pytest.raises(InputError, match="rating must be one of"):
        rules.rate_indirectness(Override(-3, "x", "AB"))


# --- imprecision ---------------------------------------------------------------------------


def _imprecision(lower: float, upper: float, estimate: float, **options: object) -> int:
    settings = {"threshold": None, "threshold_source": "none", "participants": None,
                "ois": None, "ois_basis": "none", **options}  # fmt: skip
    result = _result(ci_lower=lower, ci_upper=upper, estimate=estimate)
    return rules.rate_imprecision(result, **settings).rating  # type: ignore[arg-type]


def test_imprecision_against_the_null() -> None:
    assert _imprecision(0.01, 0.4, 0.2) == 0
    assert _imprecision(-0.01, 0.4, 0.2) == -1
    assert _imprecision(0.0, 0.4, 0.2) == -1  # the null on the bound is included


def test_imprecision_against_the_mid() -> None:
    assert _imprecision(-0.6, 0.6, 0.0, threshold=0.5) == -2  # both appreciable sides
    assert _imprecision(-0.6, 0.4, 0.0, threshold=0.5) == -1
    assert _imprecision(0.3, 0.9, 0.6, threshold=0.5) == -1  # important and unimportant
    assert _imprecision(0.55, 0.9, 0.7, threshold=0.5) == 0


def test_imprecision_information_size() -> None:
    assert _imprecision(0.1, 0.4, 0.2, participants=100, ois=786) == -1
    assert _imprecision(0.1, 0.4, 0.2, participants=786, ois=786) == 0
    result = _result(ci_lower=0.1, ci_upper=0.4, estimate=0.2)
    rating = rules.rate_imprecision(result, threshold=None, threshold_source="no MID",
                                    participants=None, ois=786, ois_basis="b")  # fmt: skip
    assert rating.rating == 0 and "not given: not checked" in rating.reason


def test_optimal_information_size_against_r() -> None:
    """power.prop.test and power.t.test (R stats), tests/reference/grade_ois.R."""
    fixture = json.loads((FIXTURES / "grade_ois.json").read_text())
    for case in fixture["binary"]:
        n = binary_group_size(case["p1"], case["rrr"])
        assert n == pytest.approx(case["n"], rel=1e-6)
        assert binary_ois(case["p1"], case["rrr"]) == 2 * math.ceil(case["n"])
    for case in fixture["continuous"]:
        # the normal approximation asks about one participant per group fewer than the t test
        assert 0 < case["n_t"] - continuous_group_size(case["delta"]) < 1.1
    # 2 (1.959964 + 0.841621)^2 / 0.2^2 = 392.4 per group
    assert continuous_ois(0.2) == 786


def test_mid_on_the_scale() -> None:
    assert rules.threshold_on_scale("RR", 1.25) == pytest.approx(math.log(1.25))
    assert rules.threshold_on_scale("RR", 0.8) == pytest.approx(math.log(1.25))
    assert rules.threshold_on_scale("MD", -2.0) == 2.0
    for measure, mid in (("RR", 1.0), ("OR", -1.0), ("MD", 0.0)):
        with pytest.raises(InputError, match="minimal important difference"):
            rules.threshold_on_scale(measure, mid)


# --- publication bias ----------------------------------------------------------------------


def _small_study(k: int, egger_p: float | None, fill_ci: tuple[float, float] | None):
    egger = None if egger_p is None else SimpleNamespace(pvalue=egger_p, coefficient=1.5)
    fill = None
    if fill_ci is not None:
        fill = SimpleNamespace(k0=2, side="left", estimate=sum(fill_ci) / 2,
                               ci_lower=fill_ci[0], ci_upper=fill_ci[1])  # fmt: skip
    return SimpleNamespace(k=k, egger=egger, trimfill=fill)


def test_publication_bias_boundaries() -> None:
    result = _result(ci_lower=0.1, ci_upper=0.4)
    assert "no analysis of small-study effects" in rules.rate_publication_bias(result, None).reason
    few = rules.rate_publication_bias(result, _small_study(9, 0.001, (0.1, 0.3)))
    assert few.rating == 0 and "fewer than 10 studies" in few.reason
    assert rules.rate_publication_bias(result, _small_study(10, 0.099, (0.1, 0.3))).rating == -1
    assert rules.rate_publication_bias(result, _small_study(10, 0.10, (0.1, 0.3))).rating == 0
    changed = rules.rate_publication_bias(result, _small_study(12, 0.5, (-0.1, 0.3)))
    assert changed.rating == -1 and "the conclusion changes" in changed.reason
    undefined = rules.rate_publication_bias(result, _small_study(12, None, None))
    assert undefined.rating == 0 and "undefined" in undefined.reason


# --- rating up ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ratio", "lower", "expected"),
    [(1.99, 1.2, 0), (2.0, 1.2, 1), (0.5, 0.3, 1), (4.99, 2.0, 1), (5.0, 2.0, 2), (0.2, 0.1, 2),
     (6.0, 0.9, 0)],
)  # fmt: skip
def test_large_effect_thresholds(ratio: float, lower: float, expected: int) -> None:
    upper = max(ratio, lower) * 1.5 if ratio >= 1 else 0.9
    lo = min(lower, ratio) if ratio >= 1 else lower
    result = _result("RR", estimate=math.log(ratio), ci_lower=math.log(lo),
                     ci_upper=math.log(upper))  # fmt: skip
    assert rules.rate_large_effect(result, "observational", False).rating == expected


def test_rating_up_only_for_unblemished_observational_evidence() -> None:
    result = _result("RR", estimate=math.log(6.0), ci_lower=math.log(3), ci_upper=math.log(9))
    assert rules.rate_large_effect(result, "randomised", False).rating == 0
    blocked = rules.rate_large_effect(result, "observational", True)
    assert blocked.rating == 0 and "rated down" in blocked.reason
    assert rules.rate_large_effect(_result("MD"), "observational", False).rating == 0
    ratio_of_means = replace(result, measure="ROM")
    assert rules.rate_large_effect(ratio_of_means, "observational", False).rating == 0


def test_dose_response() -> None:
    fit = SimpleNamespace(names=("intercept", "dose"), estimate=(0.1, 0.02), pvalue=(0.5, 0.049))
    assert rules.rate_dose_response(fit, "observational", False).rating == 1
    flat = SimpleNamespace(names=("intercept", "dose"), estimate=(0.1, 0.02), pvalue=(0.5, 0.05))
    assert rules.rate_dose_response(flat, "observational", False).rating == 0
    assert "no meta-regression" in rules.rate_dose_response(None, "observational", False).reason
