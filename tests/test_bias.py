"""Small-study effects agree with metafor (regtest, ranktest, trimfill, fsn) and with lm().

Fixtures: tests/reference/fixtures/bias.json from tests/reference/bias.R
(metafor 3.8-1).  Peters' and Harbord's tests are checked against R's lm()
fits of the published formulas (Peters et al. 2006; Harbord et al. 2006).

Undefined tests: the functions of one test (egger_test, rank_test,
trim_and_fill, peters_test, harbord_test) raise InputError; small_study_tests
leaves the test None and says why in its notes.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import kendalltau

from conftest import load_fixture
from srma import meta
from srma.analysis.bias import (
    LOW_POWER_NOTE,
    egger_test,
    fail_safe_n,
    funnel_contours,
    harbord_test,
    peters_test,
    rank_test,
    small_study_tests,
    trim_and_fill,
)
from srma.errors import InputError
from srma.stats import bias as engine
from srma.stats.batch import as_batch

FIXTURE = load_fixture("bias.json")
CASES = FIXTURE["cases"]
BINARY = FIXTURE["binary"]
RTOL = 1e-6


def _close(ours, reference, name: str) -> None:
    if reference is None:
        assert ours is None or np.all(np.isnan(np.asarray(ours, dtype=float))), name
        return
    np.testing.assert_allclose(
        np.asarray(ours, dtype=float),
        np.asarray(reference, dtype=float).reshape(np.shape(ours)),
        rtol=RTOL,
        atol=1e-12,
        err_msg=name,
    )


def _id(case: dict) -> str:
    return f"{case['dataset']}-{case['method']}-{case['test']}"


def _result(case: dict):
    return meta(case["yi"], case["vi"], method=case["method"], test=case["test"])


def _padded(cases: list[dict], field: str) -> np.ndarray:
    width = max(len(case[field]) for case in cases)
    out = np.full((len(cases), width), np.nan)
    for row, case in enumerate(cases):
        out[row, : len(case[field])] = case[field]
    return out


# --- against metafor -------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_egger_matches_regtest(case: dict) -> None:
    result = _result(case)
    for reference in case["regressions"]:
        test = egger_test(
            result, model=reference["model"], predictor=reference["predictor"], ni=case["ni"]
        )
        label = f"{reference['model']}/{reference['predictor']}"
        for field in (
            "statistic",
            "pvalue",
            "coefficient",
            "coefficient_se",
            "limit_estimate",
            "limit_ci_lower",
            "limit_ci_upper",
        ):
            _close(getattr(test, field), reference[field], f"{label} {field}")
        _close(test.df, reference["df"], f"{label} df")
        if reference["model"] == "rma":
            _close(test.tau2, reference["tau2"], f"{label} tau2")
        assert test.k == len(case["yi"])


@pytest.mark.parametrize("case", CASES[::4], ids=_id)
def test_egger_bias_coefficient_is_the_intercept_on_precision(case: dict) -> None:
    """Egger's original regression of y/se on 1/se (OLS) has our slope as its intercept."""
    classic = egger_test(_result(case))
    _close(classic.intercept, case["egger_snd"]["intercept"], "intercept")
    _close(classic.coefficient_se, case["egger_snd"]["intercept_se"], "intercept se")
    assert classic.to_dict()["intercept"] == classic.coefficient
    assert egger_test(_result(case), model="rma").intercept is None


@pytest.mark.parametrize("case", CASES[::4], ids=_id)
def test_rank_test_matches_ranktest(case: dict) -> None:
    test = rank_test(_result(case))
    _close(test.tau, case["begg"]["tau"], "tau")
    _close(test.pvalue, case["begg"]["pvalue"], "pvalue")
    assert test.exact == case["begg"]["exact"]


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_trim_and_fill_matches_trimfill(case: dict) -> None:
    result = _result(case)
    for reference in case["trimfill"]:
        side = None if reference["side_asked"] == "estimated" else reference["side_asked"]
        fill = trim_and_fill(result, estimator=reference["estimator"], side=side)
        label = f"{reference['estimator']}/{reference['side_asked']}"
        assert (fill.k0, fill.side) == (reference["k0"], reference["side"]), label
        assert fill.side_estimated == (side is None)
        _close(fill.k0_se, reference["se_k0"], f"{label} se_k0")
        _close(fill.k0_pvalue, reference["p_k0"], f"{label} p_k0")
        # the filled estimate does not depend on the test
        _close(fill.estimate, reference["metafor_estimate"], f"{label} metafor estimate")
        if reference["metafor_test"] == case["test"]:
            for field in ("se", "ci_lower", "ci_upper"):
                _close(getattr(fill, field), reference[f"metafor_{field}"], f"{label} {field}")
        # srma refits the filled data with the model's own test
        for field in ("estimate", "se", "ci_lower", "ci_upper", "pvalue"):
            _close(getattr(fill, field), reference[field], f"{label} refit {field}")
        if case["method"] != "EE":
            _close(fill.tau2, reference["tau2"], f"{label} tau2")
        _close(fill.imputed_yi, reference["imputed_y"] if fill.k0 else [], f"{label} imputed y")
        _close(fill.imputed_vi, reference["imputed_v"] if fill.k0 else [], f"{label} imputed v")
        assert fill.filled.k == len(case["yi"]) + fill.k0
        assert fill.imputed_labels == tuple(f"Filled {i + 1}" for i in range(fill.k0))


@pytest.mark.parametrize("case", CASES[::4], ids=_id)
def test_fail_safe_n_matches_fsn(case: dict) -> None:
    result = _result(case)
    reference = case["failsafe"]
    rosenthal = fail_safe_n(result, "Rosenthal")
    assert rosenthal.n == reference["rosenthal"]
    _close(rosenthal.pvalue, reference["rosenthal_p"], "rosenthal p")
    assert fail_safe_n(result, "Rosenthal", alpha=0.01).n == reference["rosenthal_01"]
    orwin = fail_safe_n(result, "Orwin")
    assert orwin.n == reference["orwin"]
    _close(orwin.target, reference["orwin_target"], "orwin target")
    _close(orwin.mean_effect, reference["orwin_mean"], "orwin mean")
    assert fail_safe_n(result, "Orwin", weighted=True).n == reference["orwin_weighted"]
    assert fail_safe_n(result, "Orwin", target=0.1).n == reference["orwin_target_01"]
    rosenberg = fail_safe_n(result, "Rosenberg")
    assert rosenberg.n == reference["rosenberg"]
    _close(rosenberg.pvalue, reference["rosenberg_p"], "rosenberg p")
    _close(rosenberg.mean_effect, reference["rosenberg_mean"], "rosenberg mean")
    assert fail_safe_n(result, "Rosenberg", alpha=0.01).n == reference["rosenberg_01"]


@pytest.mark.parametrize("binary", BINARY, ids=lambda b: b["dataset"])
def test_peters_and_harbord_match_lm(binary: dict) -> None:
    counts = pd.DataFrame({key: binary[key] for key in ("events1", "total1", "events2", "total2")})
    for name, function in (("peters", peters_test), ("harbord", harbord_test)):
        test = function(counts)
        assert test.k == binary["k_used"]
        for field, value in binary[name].items():
            _close(getattr(test, field), value, f"{name} {field}")
    # the same through small_study_tests, with cells a, b, c, d renamed by keyword
    cells = pd.DataFrame(
        {
            "A": counts["events1"],
            "B": counts["total1"] - counts["events1"],
            "C": counts["events2"],
            "D": counts["total2"] - counts["events2"],
        }
    )
    result = meta(counts, measure="OR", method="DL")
    tests = small_study_tests(result, counts=cells, a="A", b="B", c="C", d="D")
    _close(tests.peters.pvalue, binary["peters"]["pvalue"], "peters via small_study_tests")
    _close(tests.harbord.pvalue, binary["harbord"]["pvalue"], "harbord via small_study_tests")


# --- the batch layer: one row per data set, unequal k ---------------------------------


@pytest.mark.parametrize("method,test", [("EE", "z"), ("REML", "knha")])
def test_batched_rows_equal_the_reference(method: str, test: str) -> None:
    cases = [c for c in CASES if c["method"] == method and c["test"] == test]
    batch = as_batch(_padded(cases, "yi"), _padded(cases, "vi"))
    classic = engine.egger_classic(batch)
    mixed = engine.egger_mixed(batch, method=method, test=test)
    rank = engine.begg(batch)
    fill = engine.trim_and_fill(batch, method=method, estimator="L0", test=test)
    rosenthal = engine.fail_safe_rosenthal(batch)
    for row, case in enumerate(cases):
        lm = next(r for r in case["regressions"] if r["model"] == "lm" and r["predictor"] == "sei")
        rma = next(
            r for r in case["regressions"] if r["model"] == "rma" and r["predictor"] == "sei"
        )
        _close(classic.pvalue[row], lm["pvalue"], f"{case['dataset']} classic p")
        _close(classic.limit_estimate[row], lm["limit_estimate"], f"{case['dataset']} est")
        _close(mixed.statistic[row], rma["statistic"], f"{case['dataset']} mixed statistic")
        _close(rank.pvalue[row], case["begg"]["pvalue"], f"{case['dataset']} begg")
        reference = next(
            f for f in case["trimfill"] if f["estimator"] == "L0" and f["side_asked"] == "estimated"
        )
        assert fill.k0[row] == reference["k0"] and fill.side[row] == reference["side"]
        _close(fill.filled.estimate[row], reference["estimate"], f"{case['dataset']} filled")
        _close(fill.filled.ci_lower[row], reference["ci_lower"], f"{case['dataset']} filled lb")
        k0 = reference["k0"]
        _close(fill.imputed_y[row, :k0], reference["imputed_y"] if k0 else [], "imputed")
        assert np.isnan(fill.imputed_y[row, k0:]).all()
        assert rosenthal.n[row] == case["failsafe"]["rosenthal"]


def test_exact_kendall_p_values_match_scipy() -> None:
    rng = np.random.default_rng(7)
    for n in (3, 4, 7, 12, 30, 60):
        for _ in range(5):
            x, y = rng.normal(size=n), rng.normal(size=n) + 0.3 * np.arange(n)
            ours = engine.kendall(x[None], y[None], np.ones((1, n), dtype=bool))
            reference = kendalltau(x, y, method="exact")
            assert ours.exact[0]
            _close(ours.tau[0], reference.statistic, f"tau n={n}")
            _close(ours.pvalue[0], reference.pvalue, f"p n={n}")
    # above 170 studies (where R's exact computation overflows) and with ties: normal
    x, y = rng.normal(size=200), rng.normal(size=200)
    big = engine.kendall(x[None], y[None], np.ones((1, 200), dtype=bool))
    assert not big.exact[0]
    _close(big.pvalue[0], kendalltau(x, y, method="asymptotic").pvalue, "p n=200")
    tied = np.round(rng.normal(size=25), 1)
    ties = engine.kendall(tied[None], y[None, :25], np.ones((1, 25), dtype=bool))
    assert not ties.exact[0]
    _close(ties.pvalue[0], kendalltau(tied, y[:25]).pvalue, "p with ties")


# --- the result object and its JSON ---------------------------------------------------


def test_json_has_what_the_cli_prints() -> None:
    case = next(c for c in CASES if c["dataset"] == "hackshaw1998" and c["method"] == "REML")
    tests = small_study_tests(_result(case))
    payload = json.loads(json.dumps(tests.to_dict(), allow_nan=False))
    assert {"statistic", "df", "pvalue", "intercept", "limit_estimate"} <= set(payload["egger"])
    assert payload["egger"]["intercept"] == pytest.approx(case["egger_snd"]["intercept"], RTOL)
    lm = case["regressions"][0]
    assert payload["egger"]["limit_estimate"] == pytest.approx(lm["limit_estimate"], RTOL)
    assert {"statistic", "pvalue", "coefficient"} <= set(payload["egger_mixed"])
    assert {"tau", "pvalue"} <= set(payload["begg"])
    assert {"k0", "side", "estimate", "ci_lower", "ci_upper", "imputed"} <= set(payload["trimfill"])
    assert len(payload["trimfill"]["imputed"]) == payload["trimfill"]["k0"] == 7
    assert set(payload["failsafe"]) == {"rosenthal", "orwin", "rosenberg"}
    assert payload["low_power"] is False and payload["low_power_note"] is None
    assert payload["peters"] is None and payload["notes"] == []
    assert "Egger (classic, on sei)" in tests.summary()


def test_fewer_than_ten_studies_say_so() -> None:
    result = meta([0.1, 0.5, 0.3, 0.2], [0.04, 0.02, 0.05, 0.03], method="DL")
    tests = small_study_tests(result)
    assert tests.low_power and tests.low_power_note == LOW_POWER_NOTE
    assert tests.to_dict()["low_power_note"] == LOW_POWER_NOTE
    assert "Cochrane Handbook 13.3.5.4" in tests.summary()
    assert tests.egger is not None and tests.trimfill is not None


def test_too_few_studies() -> None:
    two = meta([0.1, 0.5], [0.04, 0.02], method="EE")
    for function in (egger_test, rank_test, trim_and_fill):
        with pytest.raises(InputError, match="at least 3 studies"):
            function(two)
    tests = small_study_tests(two)
    assert tests.egger is None and tests.begg is None and tests.trimfill is None
    assert any("at least 3 studies" in note for note in tests.notes)
    assert tests.failsafe["rosenthal"].n is not None  # fail-safe N needs no regression


def test_equal_variances_leave_tests_undefined() -> None:
    same = meta([0.1, 0.5, 0.3, 0.2], [0.04] * 4, method="EE")
    for function in (egger_test, rank_test, trim_and_fill):
        with pytest.raises(InputError, match=r"same variance|does not vary"):
            function(same)
    assert trim_and_fill(same, side="left").k0 >= 0  # a given side needs no slope
    tests = small_study_tests(same)
    assert tests.egger is None and tests.egger_mixed is None and tests.begg is None
    assert len(tests.notes) == 4


def test_bad_options_raise_input_errors() -> None:
    result = meta([0.1, 0.5, 0.3, 0.2], [0.04, 0.02, 0.05, 0.03], method="DL")
    with pytest.raises(InputError, match=r"unknown estimator .Q0."):
        trim_and_fill(result, estimator="Q0")
    with pytest.raises(InputError, match="side"):
        small_study_tests(result, side="up")
    with pytest.raises(InputError, match="needs the study sizes"):
        egger_test(result, predictor="ninv")
    with pytest.raises(InputError, match="one size per study"):
        egger_test(result, predictor="ninv", ni=[10, 20])
    with pytest.raises(InputError, match="model"):
        egger_test(result, model="glm")
    with pytest.raises(InputError, match="type"):
        fail_safe_n(result, "REM")
    with pytest.raises(InputError, match="tables"):
        peters_test({"events1": [0, 0], "total1": [10, 10], "events2": [0, 1], "total2": [9, 9]})


def test_oscillating_trim_and_fill_is_reported() -> None:
    """k0 alternates between 2 and 0 here; metafor's trimfill fails on it too."""
    yi = [
        2.0,
        -1.8,
        -0.7,
        1.0,
        0.3,
        -1.0,
        -0.9,
        0.1,
        -1.1,
        -0.7,
        -0.7,
        -1.7,
        0.8,
        -1.4,
        -0.1,
        -0.9,
        -0.4,
        -0.3,
        -0.9,
        -0.7,
        0.5,
        -2.4,
        1.5,
        -0.3,
    ]
    vi = [
        1.39885896,
        0.59275917,
        0.01469527,
        0.12787817,
        1.5240495,
        1.1726751,
        0.56170624,
        0.74753335,
        0.4351603,
        0.78595677,
        1.67101027,
        0.87462225,
        1.54491316,
        1.99864644,
        0.64171675,
        1.23816538,
        1.00186736,
        1.08977901,
        0.40465869,
        1.23717523,
        0.31008904,
        1.96651574,
        0.67940758,
        1.90318496,
    ]
    result = meta(yi, vi, method="HE")
    with pytest.raises(RuntimeError, match="did not converge"):
        trim_and_fill(result, estimator="L0")
    tests = small_study_tests(result)
    assert tests.trimfill is None and any("did not converge" in n for n in tests.notes)
    assert tests.egger is not None


def test_orwin_with_zero_target_is_unbounded() -> None:
    result = meta([0.1, 0.5, 0.3, 0.2], [0.04, 0.02, 0.05, 0.03], method="DL")
    assert fail_safe_n(result, "Orwin", target=0.0).n is None


def test_count_based_models_are_refitted_by_inverse_variance() -> None:
    binary = next(b for b in BINARY if b["dataset"] == "bcg")
    counts = pd.DataFrame({key: binary[key] for key in ("events1", "total1", "events2", "total2")})
    # a Mantel-Haenszel result (only its method matters here)
    result = dataclasses.replace(meta(counts, measure="OR", method="DL", test="knha"), method="MH")
    tests = small_study_tests(result, counts=counts)
    assert tests.method == "EE" and tests.egger_mixed is not None and tests.peters is not None


def test_funnel_contours() -> None:
    result = meta([0.1, 0.5, 0.3, 0.2], [0.04, 0.02, 0.05, 0.03], method="DL")
    contours = funnel_contours(result)
    assert set(contours.levels) == {0.10, 0.05, 0.01}
    lower, upper = (np.asarray(part) for part in contours.levels[0.05])
    assert np.allclose(lower, -upper) and np.all(np.diff(upper) >= 0)
    assert upper[-1] == pytest.approx(1.959963984540054 * contours.se[-1])
    assert contours.se[0] == 0.0 and contours.se[-1] == pytest.approx(np.sqrt(0.05) * 1.05)
    assert contours.levels[0.01][1][-1] > contours.levels[0.10][1][-1]
    assert json.dumps(contours.to_dict())
    shifted = funnel_contours(result, (0.05,), null=1.0, points=5)
    assert np.allclose(np.asarray(shifted.levels[0.05][0]) + np.asarray(shifted.levels[0.05][1]), 2)
    with pytest.raises(InputError):
        funnel_contours(result, (0.0,))


# --- properties -----------------------------------------------------------------------

studies = st.integers(3, 14).flatmap(
    lambda k: st.tuples(
        arrays(np.float64, k, elements=st.floats(-3, 3)),
        arrays(np.float64, k, elements=st.floats(0.01, 1.0)),
    )
)


@settings(max_examples=60, deadline=None)
@given(
    data=studies,
    method=st.sampled_from(["EE", "DL", "REML"]),
    estimator=st.sampled_from(["L0", "R0"]),
)
def test_properties(data, method: str, estimator: str) -> None:
    yi, vi = data
    result = meta(yi, vi, method=method)
    tests = small_study_tests(result, estimator=estimator)
    for test in (tests.egger, tests.egger_mixed, tests.begg):
        assert test is None or 0.0 <= test.pvalue <= 1.0
    assert tests.low_power == (len(yi) < 10)
    for value in tests.failsafe.values():
        assert value.n is None or value.n >= 0
    if tests.trimfill is None:
        assert any("trim-and-fill" in note for note in tests.notes)
        return
    fill = tests.trimfill
    assert 0 <= fill.k0 < len(yi) and len(fill.imputed_yi) == fill.k0
    assert np.isfinite(fill.estimate)
    mirrored = trim_and_fill(meta(-yi, vi, method=method), estimator=estimator)
    assert mirrored.side_slope == -fill.side_slope
    if fill.side_slope == 0:  # no side to flip (identical effects)
        return
    assert mirrored.k0 == fill.k0
    assert {mirrored.side, fill.side} == {"left", "right"}
    assert mirrored.estimate == pytest.approx(-fill.estimate, rel=1e-9, abs=1e-9)
    assert np.allclose(np.sort(mirrored.imputed_yi), np.sort(-np.asarray(fill.imputed_yi)))


@settings(max_examples=40, deadline=None)
@given(
    rows=st.lists(studies, min_size=1, max_size=6),
    estimator=st.sampled_from(["L0", "R0"]),
    side=st.sampled_from([None, "left", "right"]),
)
def test_batch_properties(rows, estimator: str, side: str | None) -> None:
    width = max(len(y) for y, _ in rows)
    y = np.full((len(rows), width), np.nan)
    v = np.full((len(rows), width), np.nan)
    for i, (yi, vi) in enumerate(rows):
        y[i, : len(yi)], v[i, : len(vi)] = yi, vi
    batch = as_batch(y, v)
    for fit in (engine.egger_classic(batch), engine.egger_mixed(batch), engine.begg(batch)):
        p = fit.pvalue[np.isfinite(fit.pvalue)]
        assert np.all((p >= 0) & (p <= 1))
    fill = engine.trim_and_fill(batch, estimator=estimator, side=side)
    assert np.all(fill.k0 >= 0) and np.all(fill.k0 < batch.k) and fill.converged.all()
    assert np.array_equal(np.isfinite(fill.imputed_y).sum(axis=1), fill.k0)
    flipped = engine.trim_and_fill(
        as_batch(-y, v),
        estimator=estimator,
        side=None if side is None else {"left": "right", "right": "left"}[side],
    )
    defined = (side is not None) | (np.isfinite(fill.slope) & (fill.slope != 0))
    assert np.array_equal(flipped.k0[defined], fill.k0[defined])
    np.testing.assert_allclose(
        flipped.filled.estimate[defined], -fill.filled.estimate[defined], rtol=1e-9, atol=1e-9
    )
    for fsn in (engine.fail_safe_rosenthal(batch), engine.fail_safe_rosenberg(batch)):
        assert np.all(fsn.n >= 0)
