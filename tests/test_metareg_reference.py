"""Meta-regression agrees with metafor's rma.uni(mods = ...) to relative 1e-6.

Fixtures: tests/reference/fixtures/metareg.json from tests/reference/metareg.R
(dat.bcg with latitude, year and allocation; dat.raudenbush1985 with weeks,
setting and tester), for every tau² estimator and test.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import load_fixture
from srma.stats.regression import (
    meta_regression,
    permutation_test,
    regression_batch,
    restricted_loglik,
)

CASES = load_fixture("metareg.json")["cases"]
FIELDS = (
    "beta",
    "se",
    "statistic",
    "pvalue",
    "ci_lower",
    "ci_upper",
    "tau2",
    "qe",
    "qe_pvalue",
    "qm",
    "qm_pvalue",
    "i2",
    "h2",
    "fitted",
)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['model']}-{c['method']}-{c['test']}")
def test_meta_regression_matches_metafor(case: dict) -> None:
    batch = regression_batch(case["yi"], case["vi"], np.array(case["X"], dtype=float))
    result = meta_regression(batch, method=case["method"], test=case["test"])
    for field in FIELDS:
        np.testing.assert_allclose(
            getattr(result, field)[0],
            np.array(case["result"][field], dtype=float),
            rtol=1e-6,
            atol=1e-10,
            err_msg=field,
        )


def test_batch_of_models_equals_one_by_one() -> None:
    cases = [c for c in CASES if c["model"] == "bcg_ablat_year" and c["test"] == "knha"]
    yi = np.array([c["yi"] for c in cases])
    vi = np.array([c["vi"] for c in cases])
    X = np.array([c["X"] for c in cases], dtype=float)
    for method in ("DL", "REML", "PM"):
        together = meta_regression(regression_batch(yi, vi, X), method=method, test="knha")
        alone = meta_regression(regression_batch(yi[0], vi[0], X[0]), method=method, test="knha")
        np.testing.assert_allclose(together.beta[0], alone.beta[0], rtol=1e-12)
        np.testing.assert_allclose(together.tau2, alone.tau2[0], rtol=1e-12)


PERMUTATION_CASES = load_fixture("permutation.json")["cases"]


@pytest.mark.parametrize(
    "case", PERMUTATION_CASES, ids=lambda c: f"{c['model']}-{c['method']}-{c['test']}"
)
def test_exact_permutation_test_matches_metafor(case: dict) -> None:
    result = permutation_test(
        np.array(case["yi"]),
        np.array(case["vi"]),
        np.array(case["X"], dtype=float),
        method=case["method"],
        test=case["test"],
        rng=np.random.default_rng(0),
    )
    assert result.exact
    assert result.iterations == case["iterations"]
    np.testing.assert_allclose(result.qm_pvalue, case["qm_pvalue"], rtol=1e-9)
    np.testing.assert_allclose(result.pvalue, case["pvalue"], rtol=1e-9)


def test_reml_takes_the_interior_maximum_when_the_score_falls_at_zero() -> None:
    """A permutation of the first six BCG trials where the REML score is negative at
    tau² = 0 but the restricted likelihood peaks higher at tau² = 0.1253 (metafor's
    answer, and the maximum)."""
    case = PERMUTATION_CASES[0]
    X = np.column_stack([np.ones(6), [44.0, 52.0, 44.0, 13.0, 55.0, 42.0]])
    batch = regression_batch(case["yi"], case["vi"], X)
    result = meta_regression(batch, method="REML")
    np.testing.assert_allclose(result.tau2[0], 0.1253175, rtol=1e-6)
    np.testing.assert_allclose(result.qm[0], 2.452125, rtol=1e-6)
    assert restricted_loglik(batch, result.tau2) > restricted_loglik(batch, np.zeros(1))


def test_monte_carlo_permutations_are_reproducible() -> None:
    case = CASES[0]
    args = (np.array(case["yi"]), np.array(case["vi"]), np.array(case["X"], dtype=float))
    first = permutation_test(*args, method="DL", test="z", rng=np.random.default_rng(5))
    again = permutation_test(*args, method="DL", test="z", rng=np.random.default_rng(5))
    assert not first.exact and first.iterations == 1000
    assert first.qm_pvalue == again.qm_pvalue
    assert 1 / 1000 <= first.qm_pvalue <= 1
