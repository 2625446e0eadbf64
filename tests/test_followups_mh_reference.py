"""Follow-ups of Mantel-Haenszel and Peto results refit by MH / Peto, as metafor does.

Fixture: tests/reference/fixtures/followups_mh.json from
tests/reference/followups_mh.R (leave1out, cumul, gosh and baujat on rma.mh
and rma.peto fits of dat.bcg, dat.hine1989, dat.collins1985a, dat.yusuf1985
subsets and tables with zero and double-zero cells, under several settings of
add, to, drop00 and correct).  One deliberate difference, as for rma.uni: where
a refit has fewer than two tables with an effect size (Peto: also with V > 0),
metafor prints Q = 0, p = 1, I² = 0, H² = 1 (or, for Peto, Q on 0 df) and
srma reports heterogeneity as undefined.  A table dropped from the pool
(``drop00`` second element) is not in the model: its leave-one-out and
cumulative rows are undefined, as metafor's NA, and GOSH leaves it out.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import load_fixture
from srma import SrmaWarning, meta
from srma.analysis.sensitivity import baujat, cumulative, gosh, leave_one_out
from srma.analysis.subgroups import subgroup_analysis
from srma.stats.influence import cumulative_masks, leave_one_out_masks
from srma.stats.mantel_haenszel import CountTables, pool_tables

CASES = load_fixture("followups_mh.json")["cases"]
FIELDS = (
    "estimate",
    "se",
    "statistic",
    "pvalue",
    "ci_lower",
    "ci_upper",
    "q",
    "q_pvalue",
    "i2",
    "h2",
)
#: metafor's heterogeneity of a fit with one table (srma: undefined)
ONE_TABLE = {"q": 0.0, "q_pvalue": 1.0, "i2": 0.0, "h2": 1.0}


def _numbers(values) -> np.ndarray:
    return np.array([np.nan if v in (None, "NA", "NaN") else float(v) for v in values], dtype=float)


def _id(case: dict) -> str:
    options = case["options"]
    return (
        f"{case['dataset']}-{case['measure']}-add{options['add']}-to{options['to']}"
        f"-drop{options['drop00']}-correct{options['correct']}"
    )


def _tables(case: dict) -> CountTables:
    options = case["options"]
    return CountTables(
        tuple(case["a"]),
        tuple(case["b"]),
        tuple(case["c"]),
        tuple(case["d"]),
        add=tuple(options["add"]),
        to=tuple(options["to"]),
        drop00=tuple(options["drop00"]),
        correct=options["correct"],
    )


def _result(case: dict):
    """``meta()`` of the tables, carrying the case's settings (pairs included)."""
    frame = pd.DataFrame({key: case[key] for key in "abcd"})
    method = case["method"]
    measure = "OR" if method == "PETO" else case["measure"]
    options = case["options"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        result = meta(
            frame,
            measure=measure,
            method=method,
            add=options["add"][0],
            to=options["to"][0],
            drop00=options["drop00"][0],
        )
    tables = _tables(case)
    if (options["add"][1], options["to"][1], options["drop00"][1]) == (0, "none", False):
        # meta() takes the first element of each pair; the second is its default
        assert dataclasses.replace(result.tables, correct=options["correct"]) == tables
    return dataclasses.replace(result, tables=tables)


def _compare(ours: dict, reference: dict, k_yi: np.ndarray) -> None:
    for field in FIELDS:
        expected = _numbers(reference[field])
        mine = np.asarray(ours[field], dtype=float)
        if field in ONE_TABLE:
            single = k_yi < 2
            assert np.isnan(mine[single]).all(), field
            mine, expected = mine[~single], expected[~single]
        np.testing.assert_allclose(mine, expected, rtol=1e-6, atol=1e-12, err_msg=field)


def _k_yi(case: dict, masks: np.ndarray) -> np.ndarray:
    """Tables with an effect size per refit; for Peto, also those with V > 0 (in Q)."""
    fits = pool_tables(_tables(case), masks, case["method"], case["measure"])
    return np.minimum(fits.k_yi, fits.k_pos) if case["method"] == "PETO" else fits.k_yi


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_full_fit_matches_metafor(case: dict) -> None:
    result = _result(case)
    fits = pool_tables(
        result.tables, np.ones((1, len(case["a"])), bool), case["method"], case["measure"]
    )
    _compare(
        {f: getattr(fits, f) for f in FIELDS}, {f: [case["result"][f]] for f in FIELDS}, fits.k_yi
    )


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_leave_one_out_matches_metafor(case: dict) -> None:
    result = _result(case)
    table = leave_one_out(result)
    assert table.method == case["method"]
    assert table.labels == result.labels
    k = len(case["a"])
    _compare(table.values, case["leave1out"], _k_yi(case, leave_one_out_masks(k)))


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_cumulative_matches_metafor(case: dict) -> None:
    result = _result(case)
    k = len(case["a"])
    in_order = cumulative(result)
    assert in_order.labels == result.labels and in_order.order_by is None
    _compare(in_order.values, case["cumulative"], _k_yi(case, cumulative_masks(np.arange(k))))
    by_key = cumulative(result, order=case["key"])
    permutation = np.array(case["cumulative_by_key"]["order"], dtype=np.intp)
    assert by_key.labels == tuple(result.labels[i] for i in permutation)
    _compare(by_key.values, case["cumulative_by_key"], _k_yi(case, cumulative_masks(permutation)))


@pytest.mark.parametrize("case", [c for c in CASES if "baujat" in c], ids=_id)
def test_baujat_matches_metafor(case: dict) -> None:
    coordinates = baujat(_result(case))
    pooled = _tables(case).pooled()  # metafor's baujat lists the pooled tables only
    for ours, name in (
        (coordinates.heterogeneity_contribution, "x"),
        (coordinates.influence_on_result, "y"),
    ):
        ours = np.asarray(ours, dtype=float)
        assert np.isnan(ours[~pooled]).all()
        np.testing.assert_allclose(
            ours[pooled],
            _numbers(case["baujat"][name]),
            rtol=1e-6,
            atol=1e-12,
            err_msg=name,
        )


@pytest.mark.parametrize("case", [c for c in CASES if "gosh" in c], ids=_id)
def test_gosh_matches_metafor(case: dict) -> None:
    result = gosh(_result(case))
    assert result.exact and result.method == case["method"]
    included = np.array(case["gosh"]["included"], dtype=bool)
    assert result.labels == tuple(
        label
        for label, keep in zip(_result(case).labels, _tables(case).pooled(), strict=True)
        if keep
    )
    codes = (included * (1 << np.arange(included.shape[1]))).sum(axis=1)
    rows = codes - 1  # srma numbers subsets by their bits, from 1
    np.testing.assert_array_equal(result.included[rows], included)
    np.testing.assert_array_equal(result.k[rows], case["gosh"]["k"])
    assert np.isnan(result.tau2).all()
    ours = {name: getattr(result, name)[rows] for name in ("estimate", "q", "i2", "h2")}
    k_yi = _k_yi(case, _pooled_masks(case, included))
    for name in ("estimate", "q", "i2", "h2"):
        expected = _numbers(case["gosh"][name])
        mine = ours[name]
        if name in ONE_TABLE:
            single = k_yi < 2
            assert np.isnan(mine[single]).all()
            mine, expected = mine[~single], expected[~single]
        np.testing.assert_allclose(mine, expected, rtol=1e-6, atol=1e-12, err_msg=name)


def test_single_table_heterogeneity_is_metafors_zero() -> None:
    """Where metafor fits one table it prints Q = 0, p = 1, I² = 0, H² = 1; srma: undefined."""
    case = next(c for c in CASES if c["dataset"] == "hine1989" and c["measure"] == "OR")
    table = cumulative(_result(case))
    for field, value in ONE_TABLE.items():
        assert table.values[field][0] is None
        assert float(case["cumulative"][field][0]) == value


def _pooled_masks(case: dict, included: np.ndarray) -> np.ndarray:
    """GOSH masks over the pooled tables, widened to every table."""
    pooled = _tables(case).pooled()
    masks = np.zeros((included.shape[0], pooled.size), dtype=bool)
    masks[:, pooled] = included
    return masks


def test_fixture_covers_what_it_should() -> None:
    assert {c["measure"] for c in CASES} == {"OR", "RR", "RD", "PETO"}
    assert {c["dataset"] for c in CASES} >= {
        "bcg",
        "hine1989",
        "collins1985a_deaths",
        "yusuf1985_table12",
        "zeros_mixed",
    }
    assert any(c["options"]["drop00"] == [False, False] for c in CASES)
    assert any(c["options"]["to"][1] == "if0all" for c in CASES)
    assert sum("gosh" in c for c in CASES) >= 12


def _single_settings(case: dict) -> bool:
    options = case["options"]
    return (options["add"][1], options["to"][1], options["drop00"][1]) == (0, "none", False)


@pytest.mark.parametrize(
    "case", [c for c in CASES if "subgroups" in c and _single_settings(c)], ids=_id
)
def test_subgroups_refit_by_the_method_within_each_subgroup(case: dict) -> None:
    reference = case["subgroups"]
    frame = pd.DataFrame({key: case[key] for key in "abcd"}).assign(group=reference["group"])
    options = case["options"]
    method = case["method"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        result = subgroup_analysis(
            frame,
            "group",
            measure="OR" if method == "PETO" else case["measure"],
            method=method,
            order=reference["groups"],
            add=options["add"][0],
            to=options["to"][0],
            drop00=options["drop00"][0],
        )
    assert result.groups == tuple(reference["groups"])
    for subgroup, fit in zip(result.subgroups, reference["fits"], strict=True):
        assert subgroup.method == method and subgroup.k == fit["k"]
        assert subgroup.tables is not None and subgroup.tables.k == len(subgroup.labels)
        np.testing.assert_allclose(sum(subgroup.weights), 100.0, rtol=1e-12)
        for field in FIELDS:
            ours = getattr(subgroup, field)
            expected = _numbers([fit[field]])[0]
            if ours is None and field in ONE_TABLE:
                continue  # one table with an effect size: undefined (metafor: 0 / 1)
            np.testing.assert_allclose(
                np.nan if ours is None else ours, expected, rtol=1e-6, atol=1e-12, err_msg=field
            )
    np.testing.assert_allclose(result.q_between, reference["q_between"], rtol=1e-6)
    np.testing.assert_allclose(result.pvalue_between, reference["pvalue_between"], rtol=1e-6)
    assert result.df_between == reference["df_between"] and result.test_between == "chi2"
