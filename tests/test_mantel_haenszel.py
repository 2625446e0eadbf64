"""Mantel-Haenszel and Peto pooling agree with metafor's rma.mh and rma.peto.

Fixtures: tests/reference/fixtures/mh_*.json, written by tests/reference/mh.R
(dat.bcg, dat.hine1989, each table of dat.yusuf1985, two outcomes of
dat.collins1985a and constructed tables with zero and double-zero cells; metafor's
defaults everywhere, and for the last two groups also other settings of add, to,
drop00, correct and level).  Every number is compared at relative 1e-6; an
absolute tolerance is used only where metafor's value is exactly zero.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from conftest import FIXTURES, load_fixture
from srma.stats.mantel_haenszel import (
    ODDS_RATIO_TESTS,
    MantelHaenszelArrays,
    PetoArrays,
    mantel_haenszel,
    peto,
)

GROUPS = ("bcg", "hine1989", "yusuf1985", "collins1985a", "zeros")
RTOL = 1e-6
ZERO_ATOL = 1e-12

SCALARS = ("estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper")
HETEROGENEITY = ("q", "q_df", "q_pvalue", "i2", "h2")
OR_TESTS = (
    "cochran_statistic",
    "cochran_pvalue",
    "cmh_statistic",
    "cmh_pvalue",
    "breslow_day_statistic",
    "breslow_day_pvalue",
    "tarone_statistic",
    "tarone_pvalue",
)
PER_STUDY = ("yi", "vi", "weights")
ROW_FIELDS = (*SCALARS, *HETEROGENEITY)


def _number(value: Any) -> float:
    """A fixture number: mh.R writes non-finite values as "NA", "NaN", "Inf", "-Inf"."""
    if value is None or value in ("NA", "NaN"):
        return np.nan
    if value == "Inf":
        return np.inf
    if value == "-Inf":
        return -np.inf
    return float(value)


def _numbers(value: Any) -> np.ndarray:
    if isinstance(value, list):
        return np.array([_number(v) for v in value], dtype=float)
    return np.array(_number(value))


def _cases() -> list[tuple[str, dict, dict]]:
    cases = []
    for group in GROUPS:
        for analysis in load_fixture(f"mh_{group}.json")["analyses"]:
            for fit in analysis["fits"]:
                cases.append((group, analysis, fit))
    return cases


CASES = _cases()


def _case_id(case: tuple[str, dict, dict]) -> str:
    _, analysis, fit = case
    o = fit["options"]
    settings_ = f"add={o['add']},to={o['to']},drop00={o['drop00']},correct={o['correct']}"
    return f"{analysis['name']}-{fit['measure']}-{settings_}-level={o['level']}".replace(" ", "")


def _keywords(fit: dict) -> dict[str, Any]:
    o = fit["options"]
    keywords: dict[str, Any] = {
        "level": o["level"],
        "add": tuple(o["add"]),
        "to": tuple(o["to"]),
        "drop00": tuple(o["drop00"]),
    }
    if fit["method"] == "MH":
        keywords["correct"] = o["correct"]
    return keywords


def _run(fit: dict, a, b, c, d, mask) -> MantelHaenszelArrays | PetoArrays:
    if fit["method"] == "MH":
        return mantel_haenszel(a, b, c, d, mask, fit["measure"], **_keywords(fit))
    return peto(a, b, c, d, mask, **_keywords(fit))


def _cells(analysis: dict) -> list[np.ndarray]:
    return [np.array(analysis[cell], dtype=float)[None, :] for cell in "abcd"]


def assert_matches(ours: Any, reference: Any, what: str) -> None:
    """Equal NaN and infinite values; relative 1e-6 elsewhere; absolute 1e-12 at exact zeros."""
    ours = np.asarray(ours, dtype=float)
    reference = np.asarray(reference, dtype=float)
    assert ours.shape == reference.shape, what
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(reference), err_msg=f"{what}: NaN")
    finite = np.isfinite(reference)
    np.testing.assert_array_equal(ours[~finite], reference[~finite], err_msg=f"{what}: Inf")
    zero = finite & (reference == 0)
    np.testing.assert_allclose(ours[zero], 0.0, rtol=0, atol=ZERO_ATOL, err_msg=f"{what}: zero")
    rest = finite & ~zero
    np.testing.assert_allclose(ours[rest], reference[rest], rtol=RTOL, atol=0, err_msg=what)


def _heterogeneity_defined(fit: dict) -> bool:
    """Where srma reports Q; metafor prints Q = 0, p = 1, I² = 0, H² = 1 elsewhere."""
    result = fit["result"]
    if fit["method"] == "PETO":
        return result["k_pos"] > 1 and result["k_yi"] > 1
    return result["k_yi"] > 1


def assert_row_matches(row: Any, index: int, analysis: dict, fit: dict) -> None:
    """Row ``index`` of a result against one metafor fit (every field mh.R records)."""
    k = len(analysis["a"])
    if "error" in fit:
        # metafor refuses (rma.peto: no table has both outcomes; rma.mh and rma.peto:
        # every table dropped, k = 0): srma reports every number as undefined
        assert "never occurred" in fit["error"] or "k = 0" in fit["error"]
        if "k = 0" in fit["error"]:
            assert row.k[index] == 0
        for field in ROW_FIELDS:
            assert np.isnan(getattr(row, field)[index]), field
        return
    expected = fit["result"]
    assert row.k[index] == expected["k"]
    assert row.k_yi[index] == expected["k_yi"]
    if "k_pos" in expected:
        assert row.k_pos[index] == expected["k_pos"]
    for field in SCALARS:
        assert_matches(getattr(row, field)[index], _numbers(expected[field]), field)
    if _heterogeneity_defined(fit):
        for field in HETEROGENEITY:
            assert_matches(getattr(row, field)[index], _numbers(expected[field]), field)
    else:
        for field in HETEROGENEITY:
            assert np.isnan(getattr(row, field)[index]), field
    if fit["measure"] == "OR" and fit["method"] == "MH":
        for field in OR_TESTS:
            assert_matches(getattr(row, field)[index], _numbers(expected[field]), field)
    elif fit["method"] == "MH":
        for field in OR_TESTS:
            assert np.isnan(getattr(row, field)[index]), field
    a, b, c, d = (np.array(analysis[cell], dtype=float) for cell in "abcd")
    double_zero = ((a == 0) & (c == 0)) | ((b == 0) & (d == 0))
    drop_q, drop_pool = fit["options"]["drop00"]
    np.testing.assert_array_equal(row.dropped[index, :k], double_zero & (drop_q or drop_pool))
    for field in ("yi", "vi"):
        assert_matches(getattr(row, field)[index, :k], _numbers(expected[field]), field)
    # metafor's weights() are NA for the tables left out of the pooling; srma's are 0
    weights = _numbers(expected["weights"])
    if drop_pool:
        weights = np.where(double_zero, 0.0, weights)
    assert_matches(row.weights[index, :k], weights, "weights")


# --- against metafor ------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_matches_metafor(case: tuple[str, dict, dict]) -> None:
    _, analysis, fit = case
    cells = _cells(analysis)
    result = _run(fit, *cells, np.ones_like(cells[0], dtype=bool))
    assert_row_matches(result, 0, analysis, fit)


def _signature(fit: dict) -> str:
    return json.dumps([fit["method"], fit["measure"], fit["options"]], sort_keys=True)


def _batches() -> dict[str, list[tuple[dict, dict]]]:
    """Every analysis fitted with the same method, measure and settings, across all files."""
    batches: dict[str, list[tuple[dict, dict]]] = defaultdict(list)
    for _, analysis, fit in CASES:
        batches[_signature(fit)].append((analysis, fit))
    return {key: value for key, value in batches.items() if len(value) > 1}


BATCHES = _batches()


@pytest.mark.parametrize("signature", sorted(BATCHES))
def test_batch_of_data_sets_matches_each_alone(signature: str) -> None:
    """Analyses of different k in one padded, masked batch give their own numbers.

    Padding holds NaN, and each row's tables are scattered over the columns in a
    different random order, so that only the mask tells what is present.
    """
    members = BATCHES[signature]
    width = max(len(analysis["a"]) for analysis, _ in members) + 3
    rng = np.random.default_rng(20240601)
    shape = (len(members), width)
    cells = [np.full(shape, np.nan) for _ in range(4)]
    mask = np.zeros(shape, dtype=bool)
    columns = []
    for row, (analysis, _) in enumerate(members):
        k = len(analysis["a"])
        where = np.sort(rng.choice(width, size=k, replace=False))
        columns.append(where)
        for cell, name in zip(cells, "abcd", strict=True):
            cell[row, where] = analysis[name]
        mask[row, where] = True
    fit = members[0][1]
    batch = _run(fit, *cells, mask)
    for row, (analysis, own_fit) in enumerate(members):
        alone = _run(own_fit, *_cells(analysis), np.ones((1, len(analysis["a"])), dtype=bool))
        for field in (*ROW_FIELDS, "k", "k_yi"):
            np.testing.assert_allclose(
                getattr(batch, field)[row],
                getattr(alone, field)[0],
                rtol=1e-12,
                atol=1e-14,
                err_msg=f"{analysis['name']}: {field}",
            )
        where = columns[row]
        for field in ("yi", "vi", "weights", "dropped"):
            np.testing.assert_allclose(
                getattr(batch, field)[row, where].astype(float),
                getattr(alone, field)[0].astype(float),
                rtol=1e-12,
                atol=1e-14,
            )
        absent = ~mask[row]
        assert np.isnan(batch.yi[row, absent]).all()
        assert (batch.weights[row, absent] == 0).all() or np.isnan(batch.estimate[row])
        assert not batch.dropped[row, absent].any()
        # and straight against metafor, with the tables in their scattered places
        compact = dataclasses.replace(
            batch, **{f: getattr(batch, f)[:, where] for f in ("yi", "vi", "weights", "dropped")}
        )
        assert_row_matches(compact, row, analysis, own_fit)


def test_fixtures_cover_what_was_asked() -> None:
    methods = {(fit["method"], fit["measure"]) for _, _, fit in CASES}
    assert methods == {("MH", "OR"), ("MH", "RR"), ("MH", "RD"), ("PETO", "PETO")}
    names = {analysis["name"] for _, analysis, _ in CASES}
    assert {"bcg", "hine1989", "collins1985a_bleeding", "zeros_mixed"} <= names
    assert sum(name.startswith("yusuf1985_table") for name in names) == 6
    for group in GROUPS:
        meta = load_fixture(f"mh_{group}.json")["meta"]
        assert meta["metafor_version"] == "3.8.1"
        assert (FIXTURES / f"mh_{group}.json").is_file()
    # the default batch of yusuf1985 tables has rows of different k
    default = [
        len(analysis["a"])
        for group, analysis, fit in CASES
        if group == "yusuf1985" and fit["method"] == "MH" and fit["measure"] == "OR"
    ]
    assert len(set(default)) > 1
    # the edge cases are there: a dropped double-zero table, an undefined MH estimate,
    # a single table in Q, and rma.peto refusing
    assert any("error" in fit for _, _, fit in CASES)
    results = [fit["result"] for _, _, fit in CASES if "result" in fit]
    assert any(r["k_yi"] < r["k"] for r in results)
    assert any(r["estimate"] == "NA" for r in results)
    assert any(r["k_yi"] == 1 for r in results)


# --- behaviour ----------------------------------------------------------------------


def test_double_zero_tables_are_dropped_from_q_but_pooled_by_default() -> None:
    a, b = np.array([[0.0, 4, 6]]), np.array([[10.0, 6, 4]])
    c, d = np.array([[0.0, 2, 3]]), np.array([[12.0, 8, 7]])
    mask = np.ones_like(a, dtype=bool)
    result = mantel_haenszel(a, b, c, d, mask, "RD")
    assert result.dropped.tolist() == [[True, False, False]]
    assert result.k[0] == 3 and result.k_yi[0] == 2
    assert np.isnan(result.yi[0, 0]) and result.weights[0, 0] > 0  # RD: pooled
    both = mantel_haenszel(a, b, c, d, mask, "RD", drop00=(True, True))
    assert both.k[0] == 2 and both.weights[0, 0] == 0
    assert both.estimate[0] != result.estimate[0]
    kept = mantel_haenszel(a, b, c, d, mask, "RD", drop00=False)
    assert not kept.dropped.any() and kept.k_yi[0] == 3


def test_undefined_results_are_nan_and_raise_no_warning() -> None:
    # no events in group 1: MH OR and RR undefined; no events at all: Peto undefined
    a, b = np.array([[0.0, 0], [0, 0]]), np.array([[10.0, 9], [10, 9]])
    c, d = np.array([[2.0, 1], [0, 0]]), np.array([[8.0, 9], [10, 9]])
    mask = np.ones_like(a, dtype=bool)
    for measure in ("OR", "RR"):
        result = mantel_haenszel(a, b, c, d, mask, measure)
        assert np.isnan(result.estimate).all() and np.isnan(result.ci_lower).all()
    result = peto(a, b, c, d, mask)
    assert np.isfinite(result.estimate[0]) and np.isnan(result.estimate[1])
    assert np.isnan(result.weights[1]).all()


def test_empty_rows_are_undefined() -> None:
    cells = [np.array([[3.0, 5.0], [np.nan, np.nan]]) for _ in range(4)]
    mask = np.array([[True, True], [False, False]])
    for result in (mantel_haenszel(*cells, mask, "OR"), peto(*cells, mask)):
        assert result.k.tolist() == [2, 0]
        assert np.isnan(result.estimate[1])


def test_settings_are_carried() -> None:
    cells = [np.array([[3.0, 5.0]])] * 4
    mask = np.ones((1, 2), dtype=bool)
    result = mantel_haenszel(*cells, mask, "RR", level=0.9, add=0.25, to="all", correct=False)
    assert result.measure == "RR" and result.level == 0.9 and result.correct is False
    assert result.add == (0.25, 0.0) and result.to == ("all", "none")
    assert result.drop00 == (True, False)
    assert peto(*cells, mask, drop00=(False, True)).drop00 == (False, True)


def test_odds_ratio_test_names_are_fields() -> None:
    names = {field.name for field in dataclasses.fields(MantelHaenszelArrays)}
    assert set(ODDS_RATIO_TESTS) <= names


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"measure": "PETO"}, "OR, RR or RD"),
        ({"to": "sometimes"}, "to must be one of"),
        ({"add": (0.5, 0.5, 0.5)}, "one value or a pair"),
        ({"level": 95}, "level"),
    ],
)
def test_invalid_settings_are_refused(keywords: dict, message: str) -> None:
    cells = [np.array([[3.0, 5.0]])] * 4
    arguments = {"measure": "OR", **keywords}
    with pytest.raises(ValueError, match=message):
        mantel_haenszel(*cells, np.ones((1, 2), dtype=bool), **arguments)


def test_cells_of_different_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="share one shape"):
        peto(np.ones((1, 3)), np.ones((1, 3)), np.ones((1, 2)), np.ones((1, 3)), True)


# --- properties -----------------------------------------------------------------------


@st.composite
def table_batches(draw: st.DrawFn) -> tuple[list[np.ndarray], np.ndarray]:
    """Random valid 2x2 tables, (batch, k), with a random mask and NaN where absent."""
    batch = draw(st.integers(1, 4))
    k = draw(st.integers(1, 8))
    counts = draw(hnp.arrays(np.int64, (4, batch, k), elements=st.integers(0, 40)))
    mask = draw(hnp.arrays(np.bool_, (batch, k)))
    cells = [np.where(mask, counts[i].astype(float), np.nan) for i in range(4)]
    return cells, mask


def _fits(cells: list[np.ndarray], mask: np.ndarray, **keywords: Any) -> list[Any]:
    return [
        mantel_haenszel(*cells, mask, "OR", **keywords),
        mantel_haenszel(*cells, mask, "RR", **keywords),
        mantel_haenszel(*cells, mask, "RD", **keywords),
        peto(*cells, mask, **{k: v for k, v in keywords.items() if k != "correct"}),
    ]


SETTINGS = st.fixed_dictionaries(
    {
        "add": st.sampled_from([0.5, 0.25, (0.5, 0.5)]),
        "to": st.sampled_from(["only0", "all", "if0all", ("only0", "if0all")]),
        "drop00": st.sampled_from([True, False, (True, True)]),
        "level": st.sampled_from([0.95, 0.8]),
    }
)


def _row_values(result: Any) -> dict[str, np.ndarray]:
    return {
        field.name: np.asarray(getattr(result, field.name), dtype=float)
        for field in dataclasses.fields(result)
        if isinstance(getattr(result, field.name), np.ndarray)
        and getattr(result, field.name).ndim == 1
    }


@settings(max_examples=200, deadline=None)
@given(data=table_batches(), options=SETTINGS)
def test_random_tables_give_sane_results(data, options) -> None:
    """No crash and no warning; intervals hold the estimate; weights sum to 100."""
    cells, mask = data
    for result in _fits(cells, mask, **options):
        estimate = result.estimate
        # se = 0 (e.g. RD when every table has events only) leaves z and p undefined
        defined = np.isfinite(estimate) & np.isfinite(result.se) & (result.se > 0)
        assert (result.ci_lower[defined] <= estimate[defined]).all()
        assert (estimate[defined] <= result.ci_upper[defined]).all()
        assert ((result.pvalue[defined] >= 0) & (result.pvalue[defined] <= 1)).all()
        assert (result.k <= mask.sum(axis=1)).all()
        assert (result.k_yi <= mask.sum(axis=1)).all()
        assert not result.dropped[~mask].any()
        assert np.isnan(result.yi[~mask]).all()
        q = result.q[np.isfinite(result.q)]
        assert (q >= 0).all()
        i2 = result.i2[np.isfinite(result.i2)]
        assert ((i2 >= 0) & (i2 <= 100)).all()
        total = result.weights.sum(axis=1)
        finite = np.isfinite(total) & (result.k > 0)
        np.testing.assert_allclose(total[finite], 100.0, rtol=1e-9)


@settings(max_examples=150, deadline=None)
@given(data=table_batches(), options=SETTINGS, seed=st.integers(0, 10_000))
def test_permuting_studies_changes_nothing(data, options, seed) -> None:
    cells, mask = data
    order = np.random.default_rng(seed).permutation(mask.shape[1])
    first = _fits(cells, mask, **options)
    second = _fits([cell[:, order] for cell in cells], mask[:, order], **options)
    for one, other in zip(first, second, strict=True):
        for field, values in _row_values(one).items():
            np.testing.assert_allclose(
                _row_values(other)[field], values, rtol=1e-7, atol=1e-9, err_msg=field
            )
        for field in ("yi", "vi", "weights", "dropped"):
            np.testing.assert_allclose(
                getattr(other, field).astype(float),
                getattr(one, field)[:, order].astype(float),
                rtol=1e-9,
                atol=1e-12,
            )


@settings(max_examples=100, deadline=None)
@given(data=table_batches(), options=SETTINGS)
def test_each_row_of_a_batch_is_its_own_analysis(data, options) -> None:
    cells, mask = data
    together = _fits(cells, mask, **options)
    for row in range(mask.shape[0]):
        present = mask[row]
        alone = _fits(
            [cell[row : row + 1, present] for cell in cells],
            mask[row : row + 1, present],
            **options,
        )
        for batch_result, own in zip(together, alone, strict=True):
            for field, values in _row_values(own).items():
                np.testing.assert_allclose(
                    _row_values(batch_result)[field][row],
                    values[0],
                    rtol=1e-9,
                    atol=1e-12,
                    err_msg=field,
                )


def test_a_table_with_an_empty_group_is_left_out_of_breslow_day() -> None:
    """A deliberate difference: metafor 3.8-1 gives BD = TA = Inf, p = 0, k_pos = 4 here.

    The third table has no one in group 2 (``c = d = 0``), so it says nothing about
    the odds ratio; srma's tests are those of the other three tables (metafor's
    values for them: BD 0.3182766, TA 0.3178036, p 0.8528784).
    """
    a, b = np.array([[2.0, 1, 3, 5]]), np.array([[3.0, 2, 1, 4]])
    c, d = np.array([[1.0, 0, 2, 2]]), np.array([[2.0, 0, 2, 6]])
    with_empty = mantel_haenszel(a, b, c, d, np.ones((1, 4), dtype=bool), "OR")
    present = np.array([[True, False, True, True]])
    without = mantel_haenszel(a, b, c, d, present, "OR")
    assert with_empty.k_pos[0] == without.k_pos[0] == 3
    for result in (with_empty, without):
        assert result.breslow_day_statistic[0] == pytest.approx(0.3182766, rel=1e-6)
        assert result.tarone_statistic[0] == pytest.approx(0.3178036, rel=1e-6)
        assert result.breslow_day_pvalue[0] == pytest.approx(0.8528784, rel=1e-6)
