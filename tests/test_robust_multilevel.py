"""Cluster-robust variance of a fitted srma.meta_mv model against clubSandwich 0.5.8.

The three-level rma.mv fits of dat.konstantopoulos2011 (schools in districts,
intercept-only and with centred year) in tests/reference/fixtures/robust.json
(tests/reference/robust.R): srma fits the model itself, then ``robust()`` reads
the fit's design matrix and marginal covariance; every adjustment's vcov, se,
Satterthwaite df and p-values must match clubSandwich's coef_test.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import srma
from conftest import load_fixture

CASES = [c for c in load_fixture("robust.json")["cases"] if c["kind"] == "rma.mv"]
RTOL = 1e-6


def _fit(case: dict[str, Any]) -> srma.MultilevelResult:
    X = np.asarray(case["X"], dtype=float).reshape(len(case["yi"]), -1)
    frame = pd.DataFrame(
        {
            "yi": case["yi"],
            "vi": case["vi"],
            "district": case["district"],
            "school": np.arange(len(case["yi"])),
        }
    )
    mods = None
    if X.shape[1] > 1:
        frame["year_c"] = X[:, 1]
        mods = "~ year_c"
    return srma.meta_mv(frame, "yi", "vi", random="~ 1 | district/school", mods=mods)


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_robust_variance_of_a_three_level_fit_matches_clubsandwich(case: dict[str, Any]) -> None:
    fit = _fit(case)
    sigma2 = [row.estimate for row in fit.variance_components]
    np.testing.assert_allclose(sigma2, case["sigma2"], rtol=RTOL)
    np.testing.assert_allclose(fit.marginal_covariance, case["marginal_covariance"], rtol=RTOL)
    p = np.asarray(case["X"], dtype=float).reshape(len(case["yi"]), -1).shape[1]
    for sandwich in case["sandwiches"]:
        robust = srma.robust(fit, case["cluster"], adjust=sandwich["type"])
        assert robust.n_clusters == len(set(case["cluster"])) and robust.k == len(case["yi"])
        np.testing.assert_allclose(
            np.asarray(robust.vcov), np.asarray(sandwich["vcov"]).reshape(p, p), rtol=RTOL
        )
        rows = robust.coefficients
        np.testing.assert_allclose([r.se for r in rows], sandwich["se"], rtol=RTOL)
        np.testing.assert_allclose([r.df for r in rows], sandwich["df"], rtol=RTOL)
        np.testing.assert_allclose([r.pvalue for r in rows], sandwich["pvalue"], rtol=RTOL)


def test_robust_reads_the_cluster_column_of_the_data() -> None:
    case = CASES[0]
    fit = _fit(case)
    data = pd.DataFrame({"district": case["cluster"]})
    by_column = srma.robust(fit, "district", data=data)
    by_labels = srma.robust(fit, case["cluster"])
    assert by_column.coefficients == by_labels.coefficients
