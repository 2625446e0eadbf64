"""Meta-regression agrees with metafor's rma.uni(mods = ...) to relative 1e-6.

Fixtures: tests/reference/fixtures/metareg.json from tests/reference/metareg.R
(dat.bcg with latitude, year and allocation; dat.raudenbush1985 with weeks,
setting and tester), for every tau² estimator and test.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import load_fixture
from srma.stats.regression import meta_regression, regression_batch

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
