"""Small-study effects agree with metafor (regtest, ranktest, trimfill, fsn) and with lm().

Fixtures: tests/reference/fixtures/bias.json from tests/reference/bias.R.
Peters' and Harbord's tests are checked against R's lm() fits of the
published formulas (Peters et al. 2006; Harbord et al. 2006).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from conftest import load_fixture
from srma import meta, small_study_tests, trim_and_fill
from srma.analysis.bias import LOW_POWER_NOTE, funnel_contours

FIXTURE = load_fixture("bias.json")
CASES = FIXTURE["cases"]


def _close(ours, reference, name: str) -> None:
    np.testing.assert_allclose(
        np.asarray(ours, dtype=float),
        np.atleast_1d(np.asarray(reference, dtype=float)).reshape(np.shape(ours))
        if np.ndim(ours)
        else reference,
        rtol=1e-6,
        atol=1e-10,
        err_msg=name,
    )


def _result(case: dict):
    return meta(case["yi"], case["vi"], method=case["method"], test=case["test"])


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['dataset']}-{c['method']}")
def test_regression_and_rank_tests_match_metafor(case: dict) -> None:
    tests = small_study_tests(_result(case))
    for field, value in case["egger"].items():
        _close(getattr(tests.egger, field), value, f"egger {field}")
    for field, value in case["egger_mixed"].items():
        if value is None:
            assert getattr(tests.egger_mixed, field) is None
        else:
            _close(getattr(tests.egger_mixed, field), value, f"egger_mixed {field}")
    _close(tests.begg.tau, case["begg"]["tau"], "begg tau")
    _close(tests.begg.pvalue, case["begg"]["pvalue"], "begg p")
    assert tests.low_power == (len(case["yi"]) < 10)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['dataset']}-{c['method']}")
def test_trim_and_fill_matches_metafor(case: dict) -> None:
    result = _result(case)
    for reference in case["trimfill"]:
        side = None if reference["side_asked"] == "estimated" else reference["side_asked"]
        fill = trim_and_fill(result, estimator=reference["estimator"], side=side)
        assert fill.k0 == reference["k0"] and fill.side == reference["side"]
        if reference["se_k0"] is None:
            assert fill.k0_se is None
        else:
            _close(fill.k0_se, reference["se_k0"], "se_k0")
        # the filled data are refitted with the model's own test (metafor's
        # trimfill() always uses z, so its estimate is checked on its own)
        _close(fill.filled.estimate, reference["trimfill_estimate"], "trimfill estimate")
        for field in ("estimate", "se", "ci_lower", "ci_upper"):
            _close(getattr(fill.filled, field), reference[field], field)
        if fill.k0:
            _close(
                np.sort(fill.imputed_yi), np.sort(np.atleast_1d(reference["imputed_y"])), "imputed"
            )


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['dataset']}-{c['method']}")
def test_fail_safe_n_matches_metafor(case: dict) -> None:
    tests = small_study_tests(_result(case))
    reference = case["failsafe"]
    assert tests.failsafe["rosenthal"].n == reference["rosenthal"]
    assert tests.failsafe["orwin"].n == reference["orwin"]
    assert tests.failsafe["rosenberg"].n == reference["rosenberg"]
    _close(tests.failsafe["rosenthal"].pvalue, reference["rosenthal_p"], "rosenthal p")
    _close(tests.failsafe["rosenberg"].pvalue, reference["rosenberg_p"], "rosenberg p")
    _close(tests.failsafe["orwin"].target, reference["orwin_target"], "orwin target")
    weighted = small_study_tests(_result(case), orwin_target=0.1)
    assert weighted.failsafe["orwin"].n == reference["orwin_target_01"]


@pytest.mark.parametrize("binary", FIXTURE["binary"], ids=lambda b: b["dataset"])
def test_peters_and_harbord_match_lm(binary: dict) -> None:
    counts = pd.DataFrame({key: binary[key] for key in "abcd"})
    result = meta(counts, measure="OR", method="DL")
    tests = small_study_tests(result, counts=counts)
    for name in ("peters", "harbord"):
        for field, value in binary[name].items():
            _close(getattr(getattr(tests, name), field), value, f"{name} {field}")


def test_small_k_says_so_and_json_shape() -> None:
    result = meta([0.1, 0.5, 0.3, 0.2], [0.04, 0.02, 0.05, 0.03], method="DL")
    payload = small_study_tests(result).to_dict()
    assert payload["low_power_note"] == LOW_POWER_NOTE
    assert {"statistic", "df", "pvalue", "coefficient", "limit_estimate"} <= set(payload["egger"])
    assert {"tau", "pvalue"} <= set(payload["begg"])
    assert {"k0", "side", "estimate", "ci_lower", "ci_upper"} <= set(payload["trimfill"])
    assert set(payload["failsafe"]) == {"rosenthal", "orwin", "rosenberg"}
    two = small_study_tests(meta([0.1, 0.5], [0.04, 0.02], method="EE"))
    assert two.egger is None and two.trimfill is None and two.notes


def test_funnel_contours_are_symmetric_and_widen() -> None:
    result = meta([0.1, 0.5, 0.3, 0.2], [0.04, 0.02, 0.05, 0.03], method="DL")
    contours = funnel_contours(result)
    lower, upper = contours.levels[0.05]
    assert np.allclose(np.asarray(lower), -np.asarray(upper))
    assert np.all(np.diff(upper) >= 0)
    assert contours.levels[0.01][1][-1] > contours.levels[0.10][1][-1]


@settings(max_examples=60, deadline=None)
@given(
    y=st.integers(4, 15).flatmap(
        lambda k: st.tuples(
            arrays(np.float64, k, elements=st.floats(-3, 3)),
            arrays(np.float64, k, elements=st.floats(0.01, 1.0)),
        )
    ),
    method=st.sampled_from(["EE", "DL", "REML"]),
)
def test_properties(y, method) -> None:
    yi, vi = y
    result = meta(yi, vi, method=method)
    tests = small_study_tests(result)
    if np.ptp(vi) == 0:
        assert tests.egger is None and tests.begg is None and tests.notes
        return
    assert tests.egger is None or 0.0 <= tests.egger.pvalue <= 1.0
    assert 0.0 <= tests.begg.pvalue <= 1.0 or np.isnan(tests.begg.pvalue)
    if tests.trimfill is None:
        assert any("trim-and-fill" in note for note in tests.notes)
        return
    assert tests.trimfill.k0 >= 0
    mirrored = small_study_tests(meta(-yi, vi, method=method))
    assert mirrored.trimfill.k0 == tests.trimfill.k0
    if tests.trimfill.k0:
        assert {tests.trimfill.side, mirrored.trimfill.side} == {"left", "right"}
        assert mirrored.trimfill.estimate == pytest.approx(-tests.trimfill.estimate, abs=1e-8)
