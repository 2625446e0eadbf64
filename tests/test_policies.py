"""Analysis policies choose models as the seed reviews describe, and say why."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from srma import InputError, SrmaWarning, apply_policy, meta
from srma.datasets import load


def _quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        return apply_policy(*args, **kwargs)


def test_huang_goes_random_with_leave_one_out_when_i2_is_high() -> None:
    bcg = load("bcg")
    outcome = _quiet("huang2024", bcg)
    screening = meta(bcg, measure="RR", method="MH")
    assert outcome.measure == "RR" and outcome.screening_i2 == pytest.approx(screening.i2)
    assert screening.i2 >= 50
    assert outcome.result.method == "DL"
    expected = meta(bcg, measure="RR", method="DL")
    assert outcome.result.estimate == pytest.approx(expected.estimate)
    assert outcome.leave_one_out is not None and len(outcome.leave_one_out.labels) == 13
    assert outcome.small_study is not None and outcome.small_study.egger is not None
    assert outcome.small_study.peters is not None  # binary: counts are available
    assert any("I² = " in d and ">= 50%" in d for d in outcome.decisions)
    assert outcome.result.pi_lower is None


def test_huang_stays_common_when_i2_is_low() -> None:
    data = pd.DataFrame(
        {
            "mean1": [10.0, 11.0, 10.5, 10.2],
            "sd1": [2.0, 2.1, 1.9, 2.0],
            "n1": [30, 40, 35, 50],
            "mean2": [9.0, 10.1, 9.4, 9.3],
            "sd2": [2.0, 2.0, 2.1, 1.9],
            "n2": [30, 40, 35, 50],
        }
    )
    outcome = _quiet("huang2024", data)
    assert outcome.measure == "SMD" and outcome.result.method == "EE"
    assert outcome.screening_i2 < 50 and outcome.leave_one_out is None
    assert any("< 50%" in d for d in outcome.decisions)
    assert outcome.small_study.low_power  # four studies


def test_hassanein_and_modern() -> None:
    normand = load("normand1999")
    fixed = _quiet("hassanein2024", normand)
    assert fixed.measure == "MD" and fixed.result.method == "EE"
    assert fixed.result.estimate == pytest.approx(meta(normand, measure="MD", method="EE").estimate)
    modern = _quiet("modern", normand)
    assert modern.measure == "SMD" and modern.result.method == "REML"
    assert modern.result.test == "knha" and modern.result.pi_lower is not None
    assert modern.leave_one_out is not None
    payload = modern.to_dict()
    assert payload["policy"]["name"] == "modern" and payload["decisions"]


def test_unknown_policy_and_data_without_arms() -> None:
    with pytest.raises(InputError, match="unknown analysis policy"):
        apply_policy("nope", load("bcg"))
    with pytest.raises(InputError, match="per-arm data"):
        apply_policy("modern", pd.DataFrame({"yi": [0.1], "weight": [0.1]}))


def test_effect_sizes_are_pooled_as_given() -> None:
    data = pd.DataFrame({"yi": [0.1, 0.4, -0.2, 0.3], "sei": [0.1, 0.2, 0.15, 0.12]})
    found = apply_policy("huang2024", data)
    assert found.outcome == "generic" and found.measure == "GEN"
    expected = meta(data, measure="GEN", method=found.result.method)
    assert found.result.estimate == pytest.approx(expected.estimate, rel=1e-12)
    assert found.decisions[0].startswith("generic outcome: the effect sizes as given")
