"""srma.subgroup_analysis on a DataFrame gives the engine's (metafor-checked) numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from conftest import load_fixture
from srma import InputError, SrmaWarning, subgroup_analysis

CASE = next(
    c
    for c in load_fixture("subgroups.json")["cases"]
    if c["dataset"] == "bcg_alloc" and c["method"] == "REML" and c["test"] == "z"
)


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "study": [f"Trial {i + 1}" for i in range(len(CASE["yi"]))],
            "yi": CASE["yi"],
            "vi": CASE["vi"],
            "allocation": CASE["group"],
        }
    )


def test_subgroups_from_a_table_match_metafor() -> None:
    result = subgroup_analysis(_frame(), "allocation", method="REML", order=CASE["groups"])
    assert result.groups == tuple(CASE["groups"])
    for subgroup, reference in zip(result.subgroups, CASE["separate"], strict=True):
        assert subgroup.k == reference["k"]
        assert subgroup.estimate == pytest.approx(reference["estimate"], rel=1e-6)
        assert subgroup.ci_upper == pytest.approx(reference["ci_upper"], rel=1e-6)
        assert len(subgroup.weights) == subgroup.k
        assert sum(subgroup.weights) == pytest.approx(100.0)
    assert result.q_between == pytest.approx(CASE["q_between"], rel=1e-6)
    assert result.pvalue_between == pytest.approx(CASE["q_between_pvalue"], rel=1e-6)
    frame = result.to_frame()
    assert list(frame["group"]) == CASE["groups"]
    assert "Test for subgroup differences: Chi²" in result.summary()
    assert result.to_dict()["subgroups"][0]["group"] == CASE["groups"][0]


def test_common_tau2_option() -> None:
    result = subgroup_analysis(
        _frame(), "allocation", method="REML", common_tau2=True, order=CASE["groups"]
    )
    assert result.tau2_common == pytest.approx(CASE["common_tau2"]["tau2"], rel=1e-6)
    assert result.q_between == pytest.approx(CASE["common_tau2"]["qm"], rel=1e-6)
    assert {s.tau2 for s in result.subgroups if s.k > 1} == {result.tau2_common}


def test_blank_subgroup_is_omitted_with_a_warning_and_bad_columns_fail() -> None:
    frame = _frame()
    frame.loc[0, "allocation"] = None
    with pytest.warns(SrmaWarning, match="Trial 1"):
        result = subgroup_analysis(frame, "allocation")
    assert sum(s.k for s in result.subgroups) == len(frame) - 1
    with pytest.raises(InputError, match="column 'route'"):
        subgroup_analysis(frame, "route")
    frame["one"] = "same"
    with pytest.raises(InputError, match="at least 2 groups"):
        subgroup_analysis(frame, "one")
    assert np.isfinite(result.q_between)
