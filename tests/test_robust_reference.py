"""The cluster-robust sandwich against clubSandwich 0.5.8 and metafor's robust().

Fixtures: tests/reference/fixtures/robust.json from tests/reference/robust.R
(dat.assink2016 and dat.bangertdrowns2004 with rma.uni; dat.konstantopoulos2011
with a three-level rma.mv).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import load_fixture
from srma.stats.robust import cluster_robust, robust_tests

FIXTURE = load_fixture("robust.json")
CASES = FIXTURE["cases"]
RTOL = 1e-6


def _design(case: dict[str, Any]) -> np.ndarray:
    return np.asarray(case["X"], dtype=float).reshape(len(case["yi"]), -1)


def _three_level_covariance(case: dict[str, Any]) -> np.ndarray:
    """``M = diag(v) + sigma²_district [same district] + sigma²_school I`` from the fit."""
    district = np.asarray(case["district"])
    same = (district[:, None] == district[None, :]).astype(float)
    sigma2_district, sigma2_school = case["sigma2"]
    vi = np.asarray(case["vi"])
    return np.diag(vi) + sigma2_district * same + sigma2_school * np.eye(vi.size)


def _weights(case: dict[str, Any]) -> np.ndarray:
    if case["kind"] == "rma.uni":
        return 1.0 / (np.asarray(case["vi"]) + case["tau2"])
    return np.linalg.inv(_three_level_covariance(case))


def _residuals(case: dict[str, Any]) -> np.ndarray:
    return np.asarray(case["yi"]) - _design(case) @ np.atleast_1d(case["beta"])


SANDWICH_CASES = [(case, sandwich) for case in CASES for sandwich in case["sandwiches"]]


def test_the_three_level_covariance_is_the_one_metafor_fitted() -> None:
    for case in CASES:
        if case["kind"] == "rma.mv":
            np.testing.assert_allclose(
                _three_level_covariance(case), np.asarray(case["marginal_covariance"]), rtol=1e-12
            )


@pytest.mark.parametrize(
    ("case", "sandwich"),
    SANDWICH_CASES,
    ids=[f"{case['name']}-{sandwich['type']}" for case, sandwich in SANDWICH_CASES],
)
def test_vcov_se_df_and_pvalues_match_clubsandwich(
    case: dict[str, Any], sandwich: dict[str, Any]
) -> None:
    X = _design(case)
    arrays = cluster_robust(
        X, _weights(case), _residuals(case), case["cluster"], adjust=sandwich["type"]
    )
    p = X.shape[1]
    np.testing.assert_allclose(
        arrays.vcov[0], np.asarray(sandwich["vcov"]).reshape(p, p), rtol=RTOL, atol=1e-12
    )
    np.testing.assert_allclose(arrays.se[0], sandwich["se"], rtol=RTOL)
    np.testing.assert_allclose(arrays.df[0], sandwich["df"], rtol=RTOL)
    tests = robust_tests(case["beta"], arrays, test="satterthwaite", level=0.95, n_params=p)
    np.testing.assert_allclose(tests["statistic"][0], sandwich["statistic"], rtol=RTOL)
    np.testing.assert_allclose(tests["pvalue"][0], sandwich["pvalue"], rtol=RTOL)
    np.testing.assert_allclose(tests["ci_lower"][0], sandwich["ci_lower"], rtol=RTOL)
    np.testing.assert_allclose(tests["ci_upper"][0], sandwich["ci_upper"], rtol=RTOL)
    # clubSandwich's naive-tp: the same statistic on J - p df
    naive = robust_tests(case["beta"], arrays, test="t", level=0.95, n_params=p)
    np.testing.assert_allclose(naive["df"][0], sandwich["df_tp"], rtol=RTOL)
    np.testing.assert_allclose(naive["pvalue"][0], sandwich["pvalue_tp"], rtol=RTOL)
    if "wald" in sandwich:
        wald = arrays.wald_test(case["beta"], np.eye(p)[1:])
        for name in ("statistic", "df_num", "df_denom", "pvalue"):
            np.testing.assert_allclose(wald[name][0], sandwich["wald"][name], rtol=RTOL)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_metafor_robust_is_cr1p_with_j_minus_p_df(case: dict[str, Any]) -> None:
    X = _design(case)
    p = X.shape[1]
    arrays = cluster_robust(X, _weights(case), _residuals(case), case["cluster"], adjust="CR1p")
    reference = case["metafor_robust"]
    np.testing.assert_allclose(
        arrays.vcov[0], np.asarray(reference["vcov"]).reshape(p, p), rtol=RTOL
    )
    tests = robust_tests(case["beta"], arrays, test="t", level=0.95, n_params=p)
    for name in ("statistic", "pvalue", "ci_lower", "ci_upper"):
        np.testing.assert_allclose(tests[name][0], reference[name], rtol=RTOL)
    np.testing.assert_allclose(tests["df"][0], reference["df"], rtol=RTOL)


def test_cr2_with_a_target_other_than_the_working_variances() -> None:
    case = FIXTURE["targeted"]
    X = np.asarray(case["X"], dtype=float)
    vi = np.asarray(case["vi"])
    arrays = cluster_robust(
        X,
        1.0 / (vi + case["tau2"]),
        np.asarray(case["yi"]) - X @ np.asarray(case["beta"]),
        case["cluster"],
        adjust="CR2",
        working_covariance=vi,
    )
    np.testing.assert_allclose(arrays.vcov[0], np.asarray(case["vcov"]), rtol=RTOL)
    np.testing.assert_allclose(arrays.df[0], case["df"], rtol=RTOL)


def test_a_batch_of_fits_gives_each_fit_its_own_sandwich() -> None:
    case = next(c for c in CASES if c["name"] == "assink_year_pubstatus")
    X = _design(case)
    w = _weights(case)
    r = _residuals(case)
    batch = cluster_robust(
        np.stack([X, X]), np.stack([w, 2.0 * w]), np.stack([r, -r]), case["cluster"]
    )
    alone = cluster_robust(X, w, r, case["cluster"])
    np.testing.assert_allclose(batch.vcov[0], alone.vcov[0], rtol=1e-12)
    # doubling every weight leaves the sandwich unchanged; flipping residuals too
    np.testing.assert_allclose(batch.vcov[1], alone.vcov[0], rtol=1e-10)
    np.testing.assert_allclose(batch.df[1], alone.df[0], rtol=1e-10)


def test_the_order_of_the_rows_does_not_matter() -> None:
    case = next(c for c in CASES if c["kind"] == "rma.mv" and np.size(c["beta"]) == 2)
    order = np.random.default_rng(1).permutation(len(case["yi"]))
    X, w, r = _design(case), _weights(case), _residuals(case)
    cluster = np.asarray(case["cluster"])
    shuffled = cluster_robust(X[order], w[np.ix_(order, order)], r[order], cluster[order])
    original = cluster_robust(X, w, r, cluster)
    np.testing.assert_allclose(shuffled.vcov, original.vcov, rtol=1e-10)
    np.testing.assert_allclose(shuffled.df, original.df, rtol=1e-10)


def test_one_cluster_and_unknown_adjustments_are_programming_errors() -> None:
    X = np.ones((3, 1))
    with pytest.raises(ValueError, match="two clusters"):
        cluster_robust(X, np.ones(3), np.zeros(3), ["a", "a", "a"])
    with pytest.raises(ValueError, match="adjust"):
        cluster_robust(X, np.ones(3), np.zeros(3), ["a", "b", "c"], adjust="CR9")


@settings(max_examples=30, deadline=None)
@given(k=st.integers(3, 12), seed=st.integers(0, 2**16))
def test_one_study_per_cluster_gives_the_hc0_and_hc2_sandwiches(k: int, seed: int) -> None:
    """With singleton clusters, CR0 is White's HC0 and CR2 for the intercept-only model is
    HC2: ``sum w_i² r_i² / (1 - h_i) / (sum w)²`` with leverages ``h_i = w_i / sum w``
    (MacKinnon & White 1985)."""
    rng = np.random.default_rng(seed)
    w = rng.uniform(0.5, 20.0, k)
    y = rng.normal(size=k)
    mean = np.sum(w * y) / np.sum(w)
    r = y - mean
    labels = np.arange(k)
    cr0 = cluster_robust(np.ones((k, 1)), w, r, labels, adjust="CR0")
    assert cr0.vcov[0, 0, 0] == pytest.approx(np.sum(w**2 * r**2) / np.sum(w) ** 2, rel=1e-10)
    cr2 = cluster_robust(np.ones((k, 1)), w, r, labels, adjust="CR2")
    leverage = w / np.sum(w)
    hc2 = np.sum(w**2 * r**2 / (1.0 - leverage)) / np.sum(w) ** 2
    assert cr2.vcov[0, 0, 0] == pytest.approx(hc2, rel=1e-10)


def test_contrast_df_of_unit_vectors_are_the_coefficient_df_and_scale_free() -> None:
    case = next(c for c in CASES if c["name"] == "assink_year_pubstatus")
    arrays = cluster_robust(_design(case), _weights(case), _residuals(case), case["cluster"])
    np.testing.assert_allclose(arrays.contrast_df(np.eye(3)), arrays.df, rtol=1e-12)
    contrast = np.array([[0.0, 1.0, -1.0]])
    np.testing.assert_allclose(
        arrays.contrast_df(5.0 * contrast), arrays.contrast_df(contrast), rtol=1e-12
    )
