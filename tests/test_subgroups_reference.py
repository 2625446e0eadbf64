"""Subgroup analyses agree with metafor (tests/reference/subgroups.R) to relative 1e-6."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import load_fixture
from srma.stats.subgroups import subgroup_analysis

CASES = load_fixture("subgroups.json")["cases"]
FIELDS = (
    "estimate",
    "se",
    "ci_lower",
    "ci_upper",
    "pvalue",
    "tau2",
    "q",
    "q_pvalue",
    "i2",
    "pi_lower",
    "pi_upper",
)


def _codes(case: dict) -> np.ndarray:
    return np.array([case["groups"].index(g) for g in case["group"]])


def _compare(arrays, references: list[dict], method: str) -> None:
    for row, reference in enumerate(references):
        assert arrays.k[row] == reference["k"]
        for field in FIELDS:
            expected = reference[field]
            ours = getattr(arrays, field)[row]
            if reference["k"] == 1 and field in (
                "tau2",
                "q",
                "q_pvalue",
                "i2",
                "pi_lower",
                "pi_upper",
            ):
                assert np.isnan(ours)  # one study: heterogeneity undefined
                continue
            if method == "EE" and field in ("pi_lower", "pi_upper"):
                assert np.isnan(ours)
                continue
            np.testing.assert_allclose(
                ours,
                np.nan if expected is None else expected,
                rtol=1e-6,
                atol=1e-10,
                err_msg=field,
            )


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['dataset']}-{c['method']}-{c['test']}")
def test_separate_tau2_matches_metafor(case: dict) -> None:
    result = subgroup_analysis(
        np.array(case["yi"]),
        np.array(case["vi"]),
        _codes(case),
        method=case["method"],
        test=case["test"],
    )
    _compare(result.subgroups, case["separate"], case["method"])
    np.testing.assert_allclose(result.q_between, case["q_between"], rtol=1e-6)
    np.testing.assert_allclose(result.pvalue_between, case["q_between_pvalue"], rtol=1e-6)
    assert result.df_between == case["q_between_df"]
    assert result.test_between == "chi2"


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c["method"] != "EE"],
    ids=lambda c: f"{c['dataset']}-{c['method']}-{c['test']}",
)
def test_common_tau2_matches_metafor(case: dict) -> None:
    result = subgroup_analysis(
        np.array(case["yi"]),
        np.array(case["vi"]),
        _codes(case),
        method=case["method"],
        test=case["test"],
        common_tau2=True,
    )
    reference = case["common_tau2"]
    np.testing.assert_allclose(result.common_tau2, reference["tau2"], rtol=1e-6, atol=1e-10)
    np.testing.assert_allclose(result.q_between, reference["qm"], rtol=1e-6)
    np.testing.assert_allclose(result.pvalue_between, reference["qm_pvalue"], rtol=1e-6)
    assert result.test_between == ("chi2" if case["test"] == "z" else "F")
    joint = reference["joint"]
    # the test of subgroup differences is the Wald-type test of equal coefficients of
    # the joint model, which is the omnibus test of rma(mods = ~ factor(group))
    np.testing.assert_allclose(result.q_between, joint["equal_statistic"], rtol=1e-6)
    np.testing.assert_allclose(result.pvalue_between, joint["equal_pvalue"], rtol=1e-6)
    assert result.df_between == joint["equal_df1"]
    if case["test"] != "z":
        assert (
            result.df_between_denominator
            == joint["equal_df2"]
            == len(case["yi"]) - len(case["groups"])
        )
    np.testing.assert_allclose(joint["tau2"], reference["tau2"], rtol=1e-6, atol=1e-10)
    for field in ("estimate", "se", "statistic", "ci_lower", "ci_upper", "pvalue"):
        np.testing.assert_allclose(
            getattr(result.subgroups, field), joint[field], rtol=1e-6, err_msg=field
        )
    if case["test"] == "z":
        assert np.isnan(result.subgroups.df).all()
    else:
        np.testing.assert_array_equal(result.subgroups.df, joint["df"])
    for field in ("pi_lower", "pi_upper"):
        np.testing.assert_allclose(
            getattr(result.subgroups, field), joint[f"{field}_riley"], rtol=1e-6, err_msg=field
        )
    for row, subgroup in enumerate(reference["subgroups"]):
        # within each subgroup, heterogeneity with tau² fixed at the common value
        for field in ("tau2", "q", "q_pvalue"):
            np.testing.assert_allclose(
                getattr(result.subgroups, field)[row],
                np.nan if subgroup[field] is None else subgroup[field],
                rtol=1e-6,
                atol=1e-10,
                err_msg=field,
            )
    default = subgroup_analysis(
        np.array(case["yi"]),
        np.array(case["vi"]),
        _codes(case),
        method=case["method"],
        test=case["test"],
        pi_type="default",
        common_tau2=True,
    )
    for field in ("pi_lower", "pi_upper"):
        np.testing.assert_allclose(
            getattr(default.subgroups, field), joint[f"{field}_default"], rtol=1e-6
        )
