"""One tau² family: the intercept-only meta-regression is the meta-analysis.

The estimators of :mod:`srma.stats.tau2` are written once for any design
matrix; the intercept-only model evaluates them with cheap sums, a
meta-regression with linear algebra.  These tests check that both give the
same numbers, on the engine (many random data sets at once) and on the public
functions (``meta_regression(data, "~ 1")`` against ``meta(data)``) with
hypothesis drawing the data, for every method and every test.  Agreement with
metafor itself is checked in test_pooling_reference.py (p = 1) and
test_metareg_reference.py (p >= 1, PMM included).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import srma
import srma.datasets
from conftest import load_fixture
from srma.stats.batch import as_batch, regression_batch
from srma.stats.pooling import pool
from srma.stats.regression import meta_regression as regression_engine
from srma.stats.tau2 import estimate_tau2, generalised_q_moments
from srma.vocabulary import INVERSE_VARIANCE_METHODS, TESTS

SCALAR_FIELDS = ("estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper")


def _random_batch(n: int, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    v = rng.chisquare(3, size=(n, k)) / 20 + 0.005
    tau2 = rng.uniform(0.0, 0.3, size=(n, 1)) * (rng.random((n, 1)) < 0.7)
    y = rng.normal(0.3, np.sqrt(v + tau2))
    return y, v


@pytest.mark.parametrize("method", INVERSE_VARIANCE_METHODS)
@pytest.mark.parametrize("test", TESTS)
def test_engine_intercept_only_regression_equals_pooling(method: str, test: str) -> None:
    """2000 data sets with k from 2 to 12 (absent studies masked), fitted both ways."""
    y, v = _random_batch(2000, 12, seed=hash((method, test)) % 2**32)
    rng = np.random.default_rng(7)
    present = np.arange(12)[None, :] < rng.integers(2, 13, size=(2000, 1))
    y = np.where(present, y, np.nan)
    pooled = pool(as_batch(y, v), method=method, test=test, tau2_interval=False)
    fitted = regression_engine(regression_batch(y, v, np.ones((12, 1))), method=method, test=test)
    np.testing.assert_allclose(fitted.tau2, np.nan_to_num(pooled.tau2), rtol=1e-7, atol=1e-10)
    for name in SCALAR_FIELDS:
        np.testing.assert_allclose(
            getattr(fitted, "beta" if name == "estimate" else name)[:, 0],
            getattr(pooled, name),
            rtol=1e-7,
            atol=1e-10,
            err_msg=name,
        )
    np.testing.assert_allclose(fitted.qe, pooled.q, rtol=1e-9)
    np.testing.assert_allclose(fitted.qe_pvalue, pooled.q_pvalue, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(fitted.i2, pooled.i2, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(fitted.h2, pooled.h2, rtol=1e-7)


def test_the_same_estimator_serves_both_layouts() -> None:
    """``estimate_tau2`` takes a Batch (X = 1) or a RegressionBatch and agrees on X = 1."""
    y, v = _random_batch(500, 8, seed=3)
    for method in INVERSE_VARIANCE_METHODS:
        cheap = estimate_tau2(as_batch(y, v), method)
        general = estimate_tau2(regression_batch(y, v, np.ones((8, 1))), method)
        np.testing.assert_allclose(general.tau2, cheap.tau2, rtol=1e-8, atol=1e-12, err_msg=method)
        assert cheap.converged.all() and general.converged.all()


def _close(left: float | None, right: float | None, what: str) -> None:
    """Equal to relative 1e-6, or both undefined (None, or NaN inside a coefficient tuple)."""
    left = None if left is None or np.isnan(left) else left
    right = None if right is None or np.isnan(right) else right
    if left is None or right is None:
        assert left is None and right is None, what
        return
    assert np.isclose(left, right, rtol=1e-6, atol=1e-9), f"{what}: {left} != {right}"


studies = st.integers(min_value=2, max_value=9).flatmap(
    lambda k: st.tuples(
        st.lists(st.floats(-2.0, 2.0, allow_nan=False), min_size=k, max_size=k),
        st.lists(st.floats(0.01, 1.0, allow_nan=False), min_size=k, max_size=k),
    )
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=studies)
def test_intercept_only_meta_regression_equals_meta(data: tuple[list, list]) -> None:
    """For every method and test: estimate, se, tau², CI, p, Q, I² and H² agree."""
    yi, vi = data
    frame = pd.DataFrame({"yi": yi, "vi": vi})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for method in INVERSE_VARIANCE_METHODS:
            for test in TESTS:
                pooled = srma.meta(frame, method=method, test=test)
                fitted = srma.meta_regression(frame, "~ 1", method=method, test=test)
                what = f"{method}/{test}"
                assert fitted.names == ("intercept",) and fitted.r2 is None
                _close(fitted.estimate[0], pooled.estimate, f"{what} estimate")
                _close(fitted.se[0], pooled.se, f"{what} se")
                _close(fitted.statistic[0], pooled.statistic, f"{what} statistic")
                _close(fitted.pvalue[0], pooled.pvalue, f"{what} p")
                _close(fitted.ci_lower[0], pooled.ci_lower, f"{what} ci_lower")
                _close(fitted.ci_upper[0], pooled.ci_upper, f"{what} ci_upper")
                _close(fitted.tau2 or 0.0, pooled.tau2, f"{what} tau2")
                _close(fitted.qe, pooled.q, f"{what} Q")
                _close(fitted.qe_pvalue, pooled.q_pvalue, f"{what} Q p")
                _close(fitted.i2, pooled.i2, f"{what} I2")
                _close(fitted.h2, pooled.h2, f"{what} H2")
                _close(fitted.df, pooled.df, f"{what} df")


# --- PMM everywhere the family is used ---------------------------------------------------

METAREG = load_fixture("metareg.json")["cases"]


def _bcg() -> pd.DataFrame:
    return srma.datasets.load("bcg")


def test_metareg_pmm_matches_metafor_through_the_public_function() -> None:
    case = next(
        c
        for c in METAREG
        if c["model"] == "bcg_ablat" and c["method"] == "PMM" and c["test"] == "z"
    )
    frame = pd.DataFrame({"yi": case["yi"], "vi": case["vi"], "ablat": np.array(case["X"])[:, 1]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = srma.meta_regression(frame, "~ ablat", method="PMM")
    np.testing.assert_allclose(fit.estimate, case["result"]["beta"], rtol=1e-6)
    np.testing.assert_allclose(fit.se, case["result"]["se"], rtol=1e-6)
    np.testing.assert_allclose(fit.tau2, case["result"]["tau2"], rtol=1e-6)
    np.testing.assert_allclose(fit.qm, case["result"]["qm"], rtol=1e-6)


def test_subgroups_with_a_common_tau2_work_for_pmm() -> None:
    """The common tau² is the residual tau² of the regression on the subgroups (metafor-checked)."""
    case = next(
        c
        for c in METAREG
        if c["model"] == "bcg_alloc" and c["method"] == "PMM" and c["test"] == "z"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = srma.subgroup_analysis(
            _bcg(), "alloc", measure="RR", method="PMM", common_tau2=True
        )
    assert result.common_tau2
    np.testing.assert_allclose(result.tau2_common, case["result"]["tau2"], rtol=1e-6)
    for group in result.subgroups:
        np.testing.assert_allclose(group.tau2, case["result"]["tau2"], rtol=1e-6)


def test_small_study_tests_keep_the_mixed_egger_test_and_the_side_for_pmm() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = srma.meta(_bcg(), measure="RR", method="PMM")
        tests = srma.small_study_tests(result)
    assert tests.egger_mixed is not None and tests.egger_mixed.method == "PMM"
    assert tests.trimfill is not None and tests.trimfill.side_estimated
    assert not any("PMM" in note for note in tests.notes)
    # the mixed Egger test is the meta-regression on sei with PMM
    frame = pd.DataFrame({"yi": result.yi, "vi": result.vi, "sei": np.sqrt(result.vi)})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        line = srma.meta_regression(frame, "~ sei", method="PMM")
    np.testing.assert_allclose(tests.egger_mixed.statistic, line.statistic[1], rtol=1e-10)
    np.testing.assert_allclose(tests.egger_mixed.tau2, line.tau2, rtol=1e-10)


def test_cli_metareg_with_pmm(tmp_path) -> None:
    """``srma metareg ... --method PMM`` failed before the family was one; it matches metafor."""
    import json

    from typer.testing import CliRunner

    from srma.cli import app

    case = next(
        c
        for c in METAREG
        if c["model"] == "bcg_ablat" and c["method"] == "PMM" and c["test"] == "z"
    )
    path = tmp_path / "bcg.csv"
    pd.DataFrame({"yi": case["yi"], "vi": case["vi"], "ablat": np.array(case["X"])[:, 1]}).to_csv(
        path, index=False
    )
    args = ["metareg", str(path), "--yi", "yi", "--vi", "vi", "--mods", "~ ablat"]
    result = CliRunner().invoke(app, [*args, "--method", "PMM", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output[result.output.index("{") :])
    assert payload["method"] == "PMM"
    np.testing.assert_allclose(payload["tau2"], case["result"]["tau2"], rtol=1e-6)
    estimates = [row["estimate"] for row in payload["coefficients"]]
    np.testing.assert_allclose(estimates, case["result"]["beta"], rtol=1e-6)


# --- the generalised Q (method of moments) estimator ---------------------------------

GENQ = load_fixture("tau2.json")["cases"]


@pytest.mark.parametrize("case", GENQ, ids=lambda c: c["name"])
def test_generalised_q_moments_match_metafor_genq(case: dict) -> None:
    X = np.array(case["X"], dtype=float)
    weights = np.array(case["weights"])[None, :]
    fits = [regression_batch(case["yi"], case["vi"], X)]
    if X.shape[1] == 1:
        fits.append(as_batch(case["yi"], case["vi"]))  # the X = 1 sums give the same
    for batch in fits:
        estimate = generalised_q_moments(batch, weights)
        np.testing.assert_allclose(estimate.tau2, [case["tau2"]], rtol=1e-9, atol=1e-14)


def test_dersimonian_laird_and_hedges_are_generalised_q_moments() -> None:
    """DL is the moment estimator at weights 1/v, HE at weights 1, for any X."""
    y, v = _random_batch(300, 9, seed=11)
    rng = np.random.default_rng(5)
    X = np.concatenate([np.ones((300, 9, 1)), rng.normal(size=(300, 9, 2))], axis=2)
    for batch in (as_batch(y, v), regression_batch(y, v, X)):
        np.testing.assert_allclose(
            estimate_tau2(batch, "DL").tau2, generalised_q_moments(batch, 1.0 / v).tau2
        )
        np.testing.assert_allclose(
            estimate_tau2(batch, "HE").tau2, generalised_q_moments(batch, np.ones_like(v)).tau2
        )
    # and the formulas as usually written for X = 1
    batch = as_batch(y, v)
    w = 1.0 / v
    mean = (w * y).sum(axis=1) / w.sum(axis=1)
    q = (w * (y - mean[:, None]) ** 2).sum(axis=1)
    dl = np.maximum(0.0, (q - 8) / (w.sum(axis=1) - (w**2).sum(axis=1) / w.sum(axis=1)))
    he = np.maximum(0.0, y.var(axis=1, ddof=1) - v.mean(axis=1))
    np.testing.assert_allclose(estimate_tau2(batch, "DL").tau2, dl, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(estimate_tau2(batch, "HE").tau2, he, rtol=1e-10, atol=1e-15)
