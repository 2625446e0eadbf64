"""Inverse-variance pooling agrees with metafor's rma.uni to relative 1e-6.

Fixtures: tests/reference/fixtures/pooling.json, written by
tests/reference/pooling.R (metafor's rma(), predict(pi.type=) and confint()
with convergence tightened so that the reference is the exact root).
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import load_fixture
from srma import meta, meta_batch

CASES = load_fixture("pooling.json")["cases"]
RTOL = 1e-6
ATOL = 1e-10  # for values that are exactly zero in metafor (tau² at the boundary)

SCALAR_FIELDS = (
    "estimate",
    "se",
    "statistic",
    "pvalue",
    "ci_lower",
    "ci_upper",
    "df",
    "tau2",
    "q",
    "q_pvalue",
    "i2",
    "h2",
    "tau2_ci_lower",
    "tau2_ci_upper",
    "i2_ci_lower",
    "i2_ci_upper",
    "h2_ci_lower",
    "h2_ci_upper",
)


def _expected(value: float | None) -> float:
    return np.nan if value is None else float(value)


def _case_id(case: dict) -> str:
    return f"{case['dataset']}-{case['method']}-{case['test']}"


def test_fixture_covers_every_method_and_test() -> None:
    methods = {case["method"] for case in CASES}
    tests = {case["test"] for case in CASES}
    assert methods == {"EE", "DL", "HE", "HS", "SJ", "ML", "REML", "PM", "EB", "PMM"}
    assert tests == {"z", "t", "knha", "adhoc"}
    datasets = {case["dataset"].split("_")[0] for case in CASES}
    assert {"bcg", "normand1999", "hine1989", "yusuf1985", "collins1985a"} <= datasets
    assert "raudenbush1985" in datasets


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_meta_matches_metafor(case: dict) -> None:
    result = meta(case["yi"], case["vi"], method=case["method"], test=case["test"])
    expected = case["result"]
    assert result.k == expected["k"]
    for field in SCALAR_FIELDS:
        if field not in expected:
            continue
        ours = getattr(result, field)
        np.testing.assert_allclose(
            np.nan if ours is None else ours,
            _expected(expected[field]),
            rtol=RTOL,
            atol=ATOL,
            err_msg=field,
        )
    np.testing.assert_allclose(result.weights, expected["weights"], rtol=RTOL, atol=ATOL)
    if case["method"] != "EE":
        np.testing.assert_allclose(
            [result.pi_lower, result.pi_upper],
            [expected["pi_lower_riley"], expected["pi_upper_riley"]],
            rtol=RTOL,
            atol=ATOL,
        )


@pytest.mark.parametrize("pi_type", ["default", "t"])
def test_prediction_interval_types_match_metafor(pi_type: str) -> None:
    for case in CASES:
        if case["method"] == "EE":
            continue
        result = meta(
            case["yi"], case["vi"], method=case["method"], test=case["test"], pi_type=pi_type
        )
        np.testing.assert_allclose(
            [result.pi_lower, result.pi_upper],
            [case["result"][f"pi_lower_{pi_type}"], case["result"][f"pi_upper_{pi_type}"]],
            rtol=RTOL,
            atol=ATOL,
            err_msg=_case_id(case),
        )


@pytest.mark.parametrize("method", ["EE", "DL", "REML", "PM", "SJ"])
@pytest.mark.parametrize("test", ["z", "knha"])
def test_batch_of_all_fixtures_matches_metafor(method: str, test: str) -> None:
    """All data sets padded into one batch give metafor's numbers row by row."""
    cases = [c for c in CASES if c["method"] == method and c["test"] == test]
    width = max(len(c["yi"]) for c in cases)
    Y = np.full((len(cases), width), np.nan)
    V = np.full((len(cases), width), np.nan)
    for row, case in enumerate(cases):
        Y[row, : len(case["yi"])] = case["yi"]
        V[row, : len(case["vi"])] = case["vi"]
    batch = meta_batch(Y, V, method=method, test=test)
    for field in ("estimate", "se", "ci_lower", "ci_upper", "q", "i2"):
        expected = [_expected(c["result"][field]) for c in cases]
        np.testing.assert_allclose(getattr(batch, field), expected, rtol=RTOL, atol=ATOL)
    if method != "EE":
        expected = [_expected(c["result"]["tau2"]) for c in cases]
        np.testing.assert_allclose(batch.tau2, expected, rtol=RTOL, atol=ATOL)
