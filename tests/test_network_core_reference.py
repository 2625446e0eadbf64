"""srma.network_meta against metafor's rma.mv (fixtures from tests/reference/network.R): the
basic estimates, their covariance, tau², Q and the log-likelihood of EE, DL, REML and ML,
and the Knapp-Hartung covariance, on four networks of metadat."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from srma import SrmaWarning, network_meta

FIXTURES = Path(__file__).parent / "reference" / "fixtures"
CASES = json.loads((FIXTURES / "network.json").read_text())["cases"]
RTOL = 1e-6


def _fit(case: dict, method: str, test: str = "z"):
    frame = pd.DataFrame(case["data"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        return network_meta(
            frame, measure=case["measure"], method=method, reference=case["reference"], test=test
        )


@pytest.fixture(scope="module", params=CASES, ids=[case["name"] for case in CASES])
def case(request: pytest.FixtureRequest) -> dict:
    return request.param


@pytest.mark.parametrize("method", ["EE", "DL", "REML", "ML"])
def test_consistency_model_matches_rma_mv(case: dict, method: str) -> None:
    expected = case["models"][method]
    result = _fit(case, method)
    assert list(result.treatments) == case["treatments"]
    assert (result.k, result.n_contrasts) == (case["k"], case["n_contrasts"])
    np.testing.assert_allclose(result.basic_estimate, expected["beta"], rtol=RTOL)
    np.testing.assert_allclose(result.basic_vcov, expected["vcov"], rtol=RTOL, atol=1e-12)
    np.testing.assert_allclose(result.tau2, expected["tau2"], rtol=RTOL, atol=1e-8)
    np.testing.assert_allclose(result.q, expected["qe"], rtol=RTOL)
    assert result.q_df == expected["qe_df"]
    if "loglik" in expected:
        np.testing.assert_allclose(result.loglik, expected["loglik"], rtol=RTOL)


def test_knapp_hartung_scales_the_covariance(case: dict) -> None:
    expected = case["models"]["REML_knha"]
    result = _fit(case, "REML", test="knha")
    np.testing.assert_allclose(result.basic_vcov, expected["vcov"], rtol=RTOL, atol=1e-12)
    assert result.df == expected["df"]
    row = result.estimates[0]
    from scipy.stats import t

    half = t.isf(0.025, expected["df"]) * np.sqrt(expected["vcov"][0][0])
    np.testing.assert_allclose(row.ci_upper - row.estimate, half, rtol=RTOL)


def test_estimates_and_league_follow_from_the_basic_parameters(case: dict) -> None:
    expected = case["models"]["REML"]
    result = _fit(case, "REML")
    beta = np.array(expected["beta"])
    vcov = np.array(expected["vcov"])
    for i, row in enumerate(result.estimates):
        assert (row.treatment, row.vs) == (case["treatments"][i + 1], case["reference"])
        np.testing.assert_allclose(row.estimate, beta[i], rtol=RTOL)
        np.testing.assert_allclose(row.se, np.sqrt(vcov[i, i]), rtol=RTOL)
    league = {(row.treatment, row.vs): row for row in result.league}
    n = len(case["treatments"])
    assert len(league) == n * (n - 1)
    a, b = case["treatments"][1], case["treatments"][2]
    pair = league[(a, b)]
    np.testing.assert_allclose(pair.estimate, beta[0] - beta[1], rtol=RTOL)
    var = vcov[0, 0] + vcov[1, 1] - 2 * vcov[0, 1]
    np.testing.assert_allclose(pair.se, np.sqrt(var), rtol=RTOL)
    assert league[(b, a)].estimate == -pair.estimate
