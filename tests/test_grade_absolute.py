"""Absolute effects per 1,000 against the worked examples of the Cochrane Handbook.

Sources (Cochrane Handbook for Systematic Reviews of Interventions, v5.1, 2011,
handbook-5-1.cochrane.org; the formulas are the same in v6 chapter 14):

* 12.5.4.2: "suppose the risk ratio is RR = 0.92, and an assumed control risk
  of ACR = 0.3 (300 per 1000) ... the effect on risk is 24 fewer per 1000";
* 12.5.4.3: "suppose the odds ratio is OR = 0.73, and a control risk of
  ACR = 0.3 is assumed. Then the effect on risk is 62 fewer per 1000";
* 11.5.5: "if the risk ratio is consistently 0.75, then treatment would reduce a
  control group risk of 80% to 60% ... but would reduce a control group risk of
  20% to 15%".
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from srma.analysis.grade import absolute_effect, assumed_comparator_risk
from srma.errors import InputError


def _log(value: float) -> float:
    return math.log(value)


def test_risk_ratio_handbook_12_5_4_2() -> None:
    effect = absolute_effect("RR", _log(0.92), _log(0.92), _log(0.92), 0.3, source="example")
    assert effect.risk_with_intervention == pytest.approx(0.276, rel=1e-12)
    assert round(effect.difference_per_1000) == -24
    assert effect.difference_per_1000 == pytest.approx(-24.0, rel=1e-9)


def test_odds_ratio_handbook_12_5_4_3() -> None:
    effect = absolute_effect("OR", _log(0.73), _log(0.73), _log(0.73), 0.3, source="example")
    # 0.73 x 0.3 / (1 - 0.3 + 0.73 x 0.3) = 0.219 / 0.919
    assert effect.risk_with_intervention == pytest.approx(0.219 / 0.919, rel=1e-12)
    assert round(effect.difference_per_1000) == -62


@pytest.mark.parametrize(("acr", "expected"), [(0.8, 0.6), (0.2, 0.15)])
def test_risk_ratio_handbook_11_5_5(acr: float, expected: float) -> None:
    effect = absolute_effect("RR", _log(0.75), _log(0.75), _log(0.75), acr, source="example")
    assert effect.risk_with_intervention == pytest.approx(expected, rel=1e-12)


def test_interval_maps_through_the_formula() -> None:
    effect = absolute_effect("RR", _log(0.8), _log(0.6), _log(1.1), 0.2, source="s")
    assert effect.risk_ci_lower == pytest.approx(0.12)
    assert effect.risk_ci_upper == pytest.approx(0.22)
    assert effect.difference_ci_lower == pytest.approx(-80.0)
    assert effect.difference_ci_upper == pytest.approx(20.0)
    assert effect.assumed_risk_source == "s"


def test_risk_difference_adds() -> None:
    effect = absolute_effect("RD", -0.05, -0.08, -0.02, 0.3, source="s")
    assert effect.risk_with_intervention == pytest.approx(0.25)
    assert effect.difference_per_1000 == pytest.approx(-50.0)
    assert effect.difference_ci_lower == pytest.approx(-80.0)


def test_hazard_ratio_keeps_survival_a_power() -> None:
    # under proportional hazards S_intervention = S_comparator ** HR
    effect = absolute_effect("HR", _log(0.7), _log(0.5), _log(0.9), 0.3, source="s")
    assert 1 - effect.risk_with_intervention == pytest.approx(0.7**0.7, rel=1e-12)
    assert 1 - effect.risk_ci_lower == pytest.approx(0.7**0.5, rel=1e-12)
    # for rare events the hazard ratio acts as a risk ratio
    rare = absolute_effect("HR", _log(0.7), _log(0.7), _log(0.7), 1e-6, source="s")
    assert rare.risk_with_intervention == pytest.approx(0.7e-6, rel=1e-5)


def test_peto_is_an_odds_ratio() -> None:
    peto = absolute_effect("PETO", _log(0.73), _log(0.6), _log(0.9), 0.3, source="s")
    odds = absolute_effect("OR", _log(0.73), _log(0.6), _log(0.9), 0.3, source="s")
    assert peto.risk_with_intervention == odds.risk_with_intervention


def test_risk_above_one_is_cut_with_a_note() -> None:
    effect = absolute_effect("RR", _log(2.5), _log(1.5), _log(4.0), 0.5, source="s")
    assert effect.risk_with_intervention == 1.0
    assert effect.risk_ci_lower == pytest.approx(0.75)
    assert effect.notes and "outside [0, 1]" in effect.notes[0]


@pytest.mark.parametrize("risk", [0.0, 1.0, -0.1, 1.5, float("nan")])
def test_assumed_risk_outside_the_open_interval(risk: float) -> None:
    with pytest.raises(InputError, match="between 0 and 1"):
        absolute_effect("RR", 0.0, -0.1, 0.1, risk, source="s")


def test_unknown_measure() -> None:
    with pytest.raises(InputError, match="no absolute effect for measure 'SMD'"):
        absolute_effect("SMD", 0.0, -0.1, 0.1, 0.2, source="s")


def test_undefined_effect() -> None:
    with pytest.raises(InputError, match="undefined"):
        absolute_effect("RR", float("nan"), -0.1, 0.1, 0.2, source="s")


def test_median_comparator_risk_and_protocol_risk() -> None:
    assert assumed_comparator_risk([0.1, 0.3, 0.2], None) == (
        0.2,
        "the median comparator risk of the 3 studies",
    )
    assert assumed_comparator_risk([0.25], None) == (0.25, "the comparator risk of the one study")
    value, source = assumed_comparator_risk([0.1, 0.3], 0.05)
    assert value == 0.05 and "protocol" in source
    value, source = assumed_comparator_risk([], None)
    assert value is None and "neither" in source
    value, source = assumed_comparator_risk([0.0, 0.0, 0.1], None)
    assert value is None and "median comparator risk" in source
    with pytest.raises(InputError):
        assumed_comparator_risk([0.2, 1.4], None)


@given(
    measure=st.sampled_from(["RR", "OR", "HR", "RD", "PETO"]),
    acr=st.floats(1e-6, 1 - 1e-6),
    a=st.floats(-30, 30),
    b=st.floats(-30, 30),
    c=st.floats(-30, 30),
)
def test_absolute_risks_stay_in_the_unit_interval(
    measure: str, acr: float, a: float, b: float, c: float
) -> None:
    lower, estimate, upper = sorted((a, b, c))
    if measure == "RD":
        lower, estimate, upper = (x / 30 for x in (lower, estimate, upper))
    effect = absolute_effect(measure, estimate, lower, upper, acr, source="s")
    for risk in (effect.risk_with_intervention, effect.risk_ci_lower, effect.risk_ci_upper):
        assert 0.0 <= risk <= 1.0
    assert effect.risk_ci_lower <= effect.risk_with_intervention <= effect.risk_ci_upper
    assert -1000.0 <= effect.difference_per_1000 <= 1000.0
