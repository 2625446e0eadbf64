"""srma.meta_mv against metafor's rma.mv (fixtures from tests/reference/multilevel.R).

Three-level models (Konstantopoulos 2011, Assink & Wibbelink 2016; REML and ML, with
moderators, z and t tests), a bivariate model with known V and an unstructured
covariance (Berkey et al. 1998), AR(1) and heteroscedastic AR(1) over time points with
V built for an autocorrelation of 0.97 (Ishak et al. 2007), and a contrast-based network
meta-analysis with multi-arm covariances and rho fixed at 1/2 (Senn et al. 2013):
coefficients, standard errors, tests, variance components, fit statistics, QE, QM,
multilevel I² and profile-likelihood intervals, at relative 1e-6.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import srma
from srma.errors import SrmaWarning

FIXTURES = Path(__file__).parent / "reference" / "fixtures"
CASES = json.loads((FIXTURES / "multilevel.json").read_text())["cases"]
LRT = json.loads((FIXTURES / "multilevel_lrt.json").read_text())
RTOL = 1e-6
ATOL = 1e-9


def _vector(value: Any) -> np.ndarray:
    return np.atleast_1d(np.asarray(value, dtype=float))


def _fit(case: dict[str, Any]) -> srma.MultilevelResult:
    frame = pd.DataFrame(case["data"])
    V = "vi" if case["V"] is None else np.asarray(case["V"], dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SrmaWarning)  # a reference fit converges, says nothing
        return srma.meta_mv(
            frame, "yi", V, random=case["random"], mods=case["mods"], method=case["method"],
            struct=case.get("struct", "CS"), rho=case.get("rho"), test=case["test"],
        )  # fmt: skip


@pytest.fixture(scope="module", params=CASES, ids=[case["name"] for case in CASES])
def fitted(request: pytest.FixtureRequest) -> tuple[dict[str, Any], srma.MultilevelResult]:
    return request.param, _fit(request.param)


def close(actual: Any, expected: Any, rtol: float = RTOL) -> None:
    np.testing.assert_allclose(_vector(actual), _vector(expected), rtol=rtol, atol=ATOL)


def test_coefficients(fitted: tuple[dict[str, Any], srma.MultilevelResult]) -> None:
    case, result = fitted
    expected = case["result"]
    assert result.k == expected["k"] and result.p == expected["p"]
    rows = result.coefficients
    close([r.estimate for r in rows], expected["beta"])
    close([r.se for r in rows], expected["se"])
    close([r.statistic for r in rows], expected["statistic"])
    close([r.pvalue for r in rows], expected["pvalue"])
    close([r.ci_lower for r in rows], expected["ci_lower"])
    close([r.ci_upper for r in rows], expected["ci_upper"])
    close(result.vcov, expected["vcov"])
    if case["test"] == "t":
        assert result.df == pytest.approx(_vector(expected["ddf"])[0])


def test_variance_components(fitted: tuple[dict[str, Any], srma.MultilevelResult]) -> None:
    case, result = fitted
    expected = case["result"]
    by_kind: dict[str, list[float]] = {"sigma2": [], "tau2": [], "rho": []}
    for component in result.variance_components:
        by_kind[component.parameter.split(".")[0]].append(component.estimate)
    # metafor reports 0 for the kinds a model lacks (tau2 and rho without an inner | outer term)
    nested = any(text.split("|")[0].strip() == "~ 1" for text in case["random"])
    structured = any(text.split("|")[0].strip() != "~ 1" for text in case["random"])
    kinds = (["sigma2"] if nested else []) + (["tau2", "rho"] if structured else [])
    for kind in kinds:
        close(by_kind[kind], expected[kind])
    if nested:
        levels = [c.n_levels for c in result.variance_components if c.parameter[:6] == "sigma2"]
        close(levels, expected["s_nlevels"])


def test_fit_statistics_and_tests(fitted: tuple[dict[str, Any], srma.MultilevelResult]) -> None:
    case, result = fitted
    expected = case["result"]
    for name in ("loglik", "deviance", "aic", "bic", "aicc"):
        close(getattr(result, name), expected[name])
    close(result.q, expected["qe"])
    assert result.q_df == expected["qe_df"]
    close(result.q_pvalue, expected["qe_pvalue"])
    if result.qm is None:
        assert _vector(expected["qm_df"])[0] == 0 or expected["p"] == 1
    else:
        close(result.qm.statistic, expected["qm"])
        close(result.qm.pvalue, expected["qm_pvalue"])
        degrees = _vector(expected["qm_df"])
        close([result.qm.df, *([] if result.qm.df2 is None else [result.qm.df2])],
              degrees[np.isfinite(degrees)])  # fmt: skip


def test_multilevel_i2(fitted: tuple[dict[str, Any], srma.MultilevelResult]) -> None:
    case, result = fitted
    expected = case["result"]["i2"]
    if expected is None:
        return
    assert result.i2 is not None
    close(list(result.i2.values()), expected["levels"])
    close(result.i2_total, expected["total"])


def test_profile_intervals(fitted: tuple[dict[str, Any], srma.MultilevelResult]) -> None:
    case, result = fitted
    for interval in case["result"]["profile"] or []:
        kind, index = interval["name"], interval["index"]
        components = [c for c in result.variance_components if c.parameter.startswith(kind)]
        component = components[index - 1]
        close(component.estimate, interval["estimate"])
        close([component.ci_lower, component.ci_upper],
              [interval["ci_lower"], interval["ci_upper"]], rtol=RTOL)  # fmt: skip


@pytest.mark.parametrize("case", LRT["cases"], ids=[c["name"] for c in LRT["cases"]])
def test_likelihood_ratio_test(case: dict[str, Any]) -> None:
    frame = pd.DataFrame(LRT["data"])
    full = srma.meta_mv(frame, random=case["full"]["random"], mods=case["full"]["mods"],
                        method=case["method"])  # fmt: skip
    reduced = srma.meta_mv(frame, random=case["reduced"]["random"],
                           mods=case["reduced"]["mods"], method=case["method"])  # fmt: skip
    test = srma.likelihood_ratio_test(full, reduced)
    close(test.statistic, case["statistic"])
    assert test.df == case["df"]
    close(test.pvalue, case["pvalue"])
