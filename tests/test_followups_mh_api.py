"""Mantel-Haenszel and Peto results: the tests they expose and the follow-ups that refit them.

Reference numbers: tests/reference/fixtures/followups_mh.json
(tests/reference/followups_mh.R): Cochran's and the Cochran-Mantel-Haenszel
tests of rma.mh with correct = TRUE and FALSE.  metafor has no influence()
for rma.mh / rma.peto; srma's leave-one-out diagnostics are checked here
against the metafor-checked leave-one-out refits they are defined from.
"""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import load_fixture
from srma import InputError, SrmaWarning, meta
from srma.analysis.sensitivity import (
    cumulative,
    gosh,
    influence_diagnostics,
    leave_one_out,
    refit,
)
from srma.report.jsonable import to_jsonable
from srma.stats.mantel_haenszel import ODDS_RATIO_TESTS, mantel_haenszel

CASES = load_fixture("followups_mh.json")["cases"]
DEFAULT = {"add": [0.5, 0], "to": ["only0", "none"], "drop00": [True, False], "correct": True}


def _frame(case: dict) -> pd.DataFrame:
    return pd.DataFrame({key: case[key] for key in "abcd"})


def _meta(case: dict, **settings):
    method = case["method"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        return meta(
            _frame(case),
            measure="OR" if method == "PETO" else case["measure"],
            method=method,
            **settings,
        )


def _value(x) -> float:
    return np.nan if x in (None, "NA", "NaN") else float(x)


OR_CASES = [c for c in CASES if "tests" in c and c["options"] == DEFAULT]


@pytest.mark.parametrize("case", OR_CASES, ids=lambda c: c["dataset"])
def test_cmh_and_cochran_tests_match_metafor_with_and_without_correction(case: dict) -> None:
    result = _meta(case)
    assert set(ODDS_RATIO_TESTS) <= set(result.extra)
    for name, reference in case["tests"].items():
        np.testing.assert_allclose(
            _value(result.extra[name]), _value(reference), rtol=1e-6, atol=1e-12, err_msg=name
        )
    cells = [np.array([case[key]], dtype=float) for key in "abcd"]
    plain = mantel_haenszel(*cells, np.ones_like(cells[0], bool), "OR", correct=False)
    np.testing.assert_allclose(plain.cmh_statistic, plain.cmh_statistic_uncorrected)
    np.testing.assert_allclose(
        plain.cmh_statistic[0], _value(case["tests"]["cmh_statistic_uncorrected"]), rtol=1e-6
    )


def test_tests_appear_in_to_dict_and_summary() -> None:
    case = next(c for c in OR_CASES if c["dataset"] == "bcg")
    result = _meta(case)
    out = json.loads(json.dumps(to_jsonable(result.to_dict()), allow_nan=False))
    assert out["extra"]["cmh_statistic_uncorrected"] == pytest.approx(
        float(case["tests"]["cmh_statistic_uncorrected"]), rel=1e-6
    )
    assert out["tables"]["a"] == case["a"] and out["tables"]["add"] == [0.5, 0.0]
    text = result.summary()
    assert "Cochran-Mantel-Haenszel test: CMH = " in text
    assert f"{float(case['tests']['cmh_statistic']):.2f}" in text
    assert "without continuity correction" in text and "Tarone" in text


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c["options"] == DEFAULT and c["dataset"] in ("bcg", "zeros_mixed")],
    ids=lambda c: f"{c['dataset']}-{c['measure']}",
)
def test_influence_of_counts_comes_from_the_refits_by_the_same_method(case: dict) -> None:
    result = _meta(case)
    diagnostics = influence_diagnostics(result)
    deleted = leave_one_out(result)  # metafor-checked (test_followups_mh_reference)
    assert diagnostics.method == case["method"] and diagnostics.notes
    estimate = np.array(deleted.values["estimate"], dtype=float)
    se = np.array(deleted.values["se"], dtype=float)
    change = result.estimate - estimate

    def column(name: str) -> np.ndarray:
        return np.array([np.nan if x is None else x for x in getattr(diagnostics, name)])

    np.testing.assert_allclose(column("cooks_distance"), change**2 / result.se**2, rtol=1e-12)
    np.testing.assert_allclose(column("dfbetas"), change / result.se, rtol=1e-12)
    np.testing.assert_allclose(column("covariance_ratio"), se**2 / result.se**2, rtol=1e-12)
    y, v = np.array(result.yi), np.array(result.vi)
    np.testing.assert_allclose(column("rstudent"), (y - estimate) / np.sqrt(v + se**2), rtol=1e-9)
    np.testing.assert_allclose(column("q_deleted"), np.array(deleted.values["q"], float))
    np.testing.assert_allclose(column("weight"), result.weights)
    assert all(x is None for x in diagnostics.hat + diagnostics.dffits + diagnostics.tau2_deleted)
    flagged = (np.nan_to_num(column("cooks_distance")) > 0.454936423119573) | (
        np.abs(np.nan_to_num(column("dfbetas"))) > 1
    )
    assert list(diagnostics.influential) == list(flagged)
    assert len(diagnostics.to_records()) == len(result.labels)


def test_refits_are_by_mantel_haenszel_not_inverse_variance() -> None:
    case = next(c for c in CASES if c["dataset"] == "bcg" and c["measure"] == "RR")
    result = _meta(case)
    table = leave_one_out(result)
    inverse_variance = leave_one_out(meta(result.yi, result.vi, method="EE"))
    assert table.method == "MH"
    assert not np.allclose(table.values["estimate"], inverse_variance.values["estimate"])
    assert all(x is None for x in table.values["tau2"] + table.values["pi_lower"])
    masks = np.ones((2, result.k), dtype=bool)
    masks[1, 0] = False
    rows = refit(result, masks)
    assert rows["estimate"][0] == pytest.approx(result.estimate, rel=1e-12)
    assert rows["estimate"][1] == pytest.approx(table.values["estimate"][0], rel=1e-12)


def test_cumulative_by_column_and_decreasing() -> None:
    case = next(c for c in CASES if c["dataset"] == "bcg" and c["measure"] == "OR")
    result = _meta(case)
    frame = _frame(case).assign(year=case["key"])
    by_column = cumulative(result, "year", data=frame)
    by_keys = cumulative(result, order=case["key"])
    assert by_column.order_by == "year" and by_column.labels == by_keys.labels
    assert by_column.values == by_keys.values
    assert by_column.to_dict()["rows"] == by_column.to_records()
    descending = cumulative(result, order=case["key"], decreasing=True)
    years = np.array(case["key"])
    first = int(np.flatnonzero(years == years.max())[0])  # ties keep the data's order
    assert descending.labels[0] == result.labels[first]
    with pytest.raises(InputError, match="needs data="):
        cumulative(result, "year")
    with pytest.raises(InputError, match="not found"):
        cumulative(result, "month", data=frame)
    with pytest.raises(InputError, match="a value for every study"):
        cumulative(result, "year", data=frame.assign(year=[np.nan, *case["key"][1:]]))
    with pytest.raises(InputError, match="rows for"):
        cumulative(result, "year", data=frame.iloc[1:])


def test_follow_ups_need_the_tables() -> None:
    case = next(c for c in CASES if c["dataset"] == "bcg" and c["measure"] == "OR")
    result = dataclasses.replace(_meta(case), tables=None)
    for follow_up in (leave_one_out, cumulative, gosh, influence_diagnostics):
        with pytest.raises(InputError, match="carries no 2x2 tables"):
            follow_up(result)


def test_trim_and_fill_refuses_count_methods() -> None:
    from srma import small_study_tests, trim_and_fill

    case = next(c for c in CASES if c["dataset"] == "bcg" and c["measure"] == "OR")
    for method in ("MH", "PETO"):
        result = _meta({**case, "method": method})
        with pytest.raises(InputError, match=r"not defined for an? .* result.*method='EE'"):
            trim_and_fill(result)
        tests = small_study_tests(result)
        assert tests.trimfill is None
        assert any("trim-and-fill is not defined" in note for note in tests.notes)
    inverse_variance = meta(result.yi, result.vi, method="EE")
    assert trim_and_fill(inverse_variance).filled.method == "EE"


@pytest.mark.parametrize("method", ["MH", "REML"])
def test_cumulative_by_column_of_a_table_with_omitted_rows(method: str) -> None:
    case = next(c for c in CASES if c["dataset"] == "bcg" and c["measure"] == "OR")
    table = _frame(case).assign(year=case["key"], study=[f"T{i}" for i in range(len(case["a"]))])
    table.loc[3, "a"] = np.nan  # omitted: missing counts
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        result = meta(table, measure="OR", method=method)
        complete = meta(table.drop(index=3), measure="OR", method=method)
    assert result.omitted == ("T3",)
    by_column = cumulative(result, "year", data=table)
    expected = cumulative(complete, "year", data=table.drop(index=3))
    assert by_column.labels == expected.labels and "T3" not in by_column.labels
    assert by_column.values == expected.values
    # labels that cannot tell the omitted row apart
    clash = table.assign(study=["T0"] * len(table))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        ambiguous = meta(clash, measure="OR", method=method)
    with pytest.raises(InputError, match="cannot be told apart"):
        cumulative(ambiguous, "year", data=clash)
