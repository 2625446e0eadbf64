"""se(tau²) and the profile-likelihood interval of tau² agree with metafor 3.8-1.

Fixtures: tests/reference/fixtures/univariate_more.json from
tests/reference/univariate_more.R (``se.tau2`` of rma.uni for every estimator,
with and without a moderator; ``confint(type = "PL")``), relative 1e-6.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import load_fixture
from srma import meta
from srma.analysis.meta import Tau2Interval, tau2_confint
from srma.analysis.metareg import meta_regression
from srma.cli import app
from srma.errors import InputError
from srma.stats.batch import as_batch, regression_batch
from srma.stats.tau2 import (
    estimate_tau2,
    generalised_q_moments,
    profile_likelihood_interval,
    tau2_standard_error,
)

FIXTURE = load_fixture("univariate_more.json")
DATASETS = FIXTURE["datasets"]


def _id(case: dict) -> str:
    return f"{case['dataset']}-{case['moderators'] or 'none'}-{case['method']}"


@pytest.mark.parametrize("case", FIXTURE["tau2_se"], ids=_id)
def test_standard_error_of_tau2_matches_metafor(case: dict) -> None:
    X = np.array(case["X"], dtype=float)
    if X.shape[1] == 1:
        batch = as_batch(case["yi"], case["vi"])
    else:
        batch = regression_batch(case["yi"], case["vi"], X)
    tau2 = estimate_tau2(batch, case["method"]).tau2
    np.testing.assert_allclose(tau2, case["tau2"], rtol=1e-6, atol=1e-9)
    se = tau2_standard_error(batch, tau2, case["method"])
    if case["tau2_se"] is None:
        assert np.isnan(se[0])
    else:
        np.testing.assert_allclose(se, case["tau2_se"], rtol=1e-6)


@pytest.mark.parametrize("case", [c for c in FIXTURE["tau2_se"] if not c["moderators"]], ids=_id)
def test_meta_reports_tau2_se(case: dict) -> None:
    result = meta(np.array(case["yi"]), np.array(case["vi"]), method=case["method"])
    if case["tau2_se"] is None:
        assert result.tau2_se is None
    else:
        np.testing.assert_allclose(result.tau2_se, case["tau2_se"], rtol=1e-6)
    assert result.to_dict()["tau2_se"] == result.tau2_se


def test_tau2_se_is_none_where_undefined() -> None:
    fixed = meta(np.array([0.1, 0.5, 0.3]), np.array([0.1, 0.2, 0.1]), tau2=0.05)
    assert fixed.tau2 == 0.05 and fixed.tau2_se is None
    with pytest.warns(UserWarning, match="k = 1"):
        single = meta(np.array([0.1]), np.array([0.1]))
    assert single.tau2_se is None


def test_dl_standard_error_is_the_variance_of_q() -> None:
    """DL: se = sqrt(Var Q) / (sum w - sum w²/sum w) with Biggerstaff & Tweedie's Var Q."""
    y, v = np.array([0.1, 0.8, -0.2, 0.5]), np.array([0.05, 0.1, 0.2, 0.08])
    w = 1 / v
    s1, s2, s3 = w.sum(), (w**2).sum(), (w**3).sum()
    trace_p = s1 - s2 / s1
    tau2 = estimate_tau2(as_batch(y, v), "DL").tau2[0]
    variance_q = 2 * 3 + 4 * tau2 * trace_p + 2 * tau2**2 * (s2 - 2 * s3 / s1 + (s2 / s1) ** 2)
    se = tau2_standard_error(as_batch(y, v), np.array([tau2]), "DL")[0]
    np.testing.assert_allclose(se, np.sqrt(variance_q) / trace_p, rtol=1e-12)


def _pl_id(case: dict) -> str:
    return f"{case['dataset']}-{case['moderators'] or 'none'}-{case['method']}-{case['level']}"


@pytest.mark.parametrize("case", FIXTURE["profile"], ids=_pl_id)
def test_profile_likelihood_interval_matches_metafor(case: dict) -> None:
    data = DATASETS[case["dataset"]]
    if case["moderators"]:
        frame = pd.DataFrame({"yi": data["yi"], "vi": data["vi"], "ablat": FIXTURE["bcg_ablat"]})
        fit = meta_regression(frame, "~ ablat", method=case["method"], level=case["level"])
    else:
        fit = meta(np.array(data["yi"]), np.array(data["vi"]), method=case["method"],
                   level=case["level"])  # fmt: skip
    interval = tau2_confint(fit, "PL")
    assert isinstance(interval, Tau2Interval) and interval.converged
    np.testing.assert_allclose(interval.tau2, case["tau2"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(interval.lower, case["lower"], rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(interval.upper, case["upper"], rtol=1e-6)
    assert interval.to_dict()["type"] == "PL"


def test_profile_interval_batch_equals_one_by_one() -> None:
    rows = [DATASETS[name] for name in ("bcg", "lee2004")]
    k = max(len(row["yi"]) for row in rows)
    y = np.full((2, k), np.nan)
    v = np.full((2, k), np.nan)
    for i, row in enumerate(rows):
        y[i, : len(row["yi"])], v[i, : len(row["vi"])] = row["yi"], row["vi"]
    batch = as_batch(y, v)
    tau2 = estimate_tau2(batch, "REML").tau2
    lower, upper, _ = profile_likelihood_interval(batch, tau2, "REML", 0.95)
    for i, row in enumerate(rows):
        one = as_batch(row["yi"], row["vi"])
        low1, up1, _ = profile_likelihood_interval(one, tau2[i : i + 1], "REML", 0.95)
        np.testing.assert_allclose([lower[i], upper[i]], [low1[0], up1[0]], rtol=1e-10)


def test_tau2_confint_bad_input() -> None:
    y, v = np.array([0.1, 0.8, -0.2, 0.5]), np.array([0.05, 0.1, 0.2, 0.08])
    with pytest.raises(InputError, match="method ML or REML, not DL"):
        tau2_confint(meta(y, v, method="DL"))
    with pytest.raises(InputError, match="unknown type 'QQ'"):
        tau2_confint(meta(y, v), "QQ")
    with pytest.raises(InputError, match="level"):
        tau2_confint(meta(y, v), level=1.5)
    with pytest.raises(InputError, match="needs a result of meta"):
        tau2_confint({"tau2": 0.1})
    with pytest.warns(UserWarning, match="k = 1"):
        single = meta(y[:1], v[:1])
    with pytest.raises(InputError, match="more studies than coefficients"):
        tau2_confint(single)


@pytest.mark.parametrize(
    "case",
    FIXTURE["genq"],
    ids=lambda c: f"{c['dataset']}-{c['weights_scheme']}-{c['test']}",
)
def test_generalised_q_estimate_and_se_match_metafor(case: dict) -> None:
    batch = as_batch(case["yi"], case["vi"])
    weights = np.array([case["weights"]])
    tau2 = generalised_q_moments(batch, weights).tau2
    np.testing.assert_allclose(tau2, case["tau2"], rtol=1e-6, atol=1e-12)
    se = tau2_standard_error(batch, tau2, "GENQ", weights)
    np.testing.assert_allclose(se, case["tau2_se"], rtol=1e-6)


def test_generalised_q_needs_weights() -> None:
    batch = as_batch([0.1, 0.5, 0.2], [0.1, 0.1, 0.1])
    with pytest.raises(ValueError, match="GENQ needs weights"):
        tau2_standard_error(batch, np.array([0.0]), "GENQ")
    with pytest.raises(ValueError, match="no standard error"):
        tau2_standard_error(batch, np.array([0.0]), "XYZ")


def test_meta_json_carries_tau2_se(tmp_path: Path) -> None:
    data = FIXTURE["datasets"]["bcg"]
    path = tmp_path / "bcg.csv"
    pd.DataFrame({"yi": data["yi"], "vi": data["vi"]}).to_csv(path, index=False)
    result = CliRunner().invoke(
        app, ["meta", str(path), "--yi", "yi", "--vi", "vi", "--method", "DL", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    expected = next(c for c in FIXTURE["tau2_se"] if c["dataset"] == "bcg" and c["method"] == "DL")
    np.testing.assert_allclose(payload["tau2_se"], expected["tau2_se"], rtol=1e-6)


def test_subgroup_results_carry_no_tau2_se() -> None:
    """A subgroup's tau² may be shared across subgroups (common_tau2): meta() alone
    reports se(tau²)."""
    from srma import subgroup_analysis

    data = FIXTURE["datasets"]["bcg"]
    frame = pd.DataFrame({"yi": data["yi"], "vi": data["vi"],
                          "group": ["a", "b"] * 6 + ["a"]})  # fmt: skip
    result = subgroup_analysis(frame, "group", method="REML")
    assert all(group.tau2_se is None for group in result.subgroups)
    assert meta(frame, method="REML").tau2_se is not None
