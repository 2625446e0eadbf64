"""Effect sizes agree with metafor's escalc (tests/reference/effects.R) to relative 1e-6."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import load_fixture
from srma import InputError, SrmaWarning, effect_sizes

CASES = load_fixture("effects.json")["cases"]


def _case_id(case: dict) -> str:
    options = "-".join(str(value) for value in (case["settings"] or {}).values())
    return f"{case['name']}-{case['measure']}-{options}"


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_effect_sizes_match_escalc(case: dict) -> None:
    frame = pd.DataFrame(case["input"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        out = effect_sizes(frame, case["measure"], **(case["settings"] or {}))
    expected_yi = np.array([np.nan if x is None else x for x in case["yi"]], dtype=float)
    expected_vi = np.array([np.nan if x is None else x for x in case["vi"]], dtype=float)
    # metafor keeps an infinite yi where no correction applies; srma marks it missing
    expected_yi[~np.isfinite(expected_yi) | ~np.isfinite(expected_vi)] = np.nan
    expected_vi[np.isnan(expected_yi)] = np.nan
    np.testing.assert_allclose(out["yi"], expected_yi, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(out["vi"], expected_vi, rtol=1e-6, atol=1e-12)


def test_fixture_covers_every_measure() -> None:
    assert {c["measure"] for c in CASES} == {
        "MD",
        "SMD",
        "ROM",
        "RR",
        "OR",
        "RD",
        "PETO",
        "COR",
        "ZCOR",
    }


def test_double_zero_studies_are_dropped_for_ratios_with_a_warning_naming_them() -> None:
    frame = pd.DataFrame(
        {
            "study": ["A", "B", "C"],
            "events1": [0, 2, 3],
            "total1": [10, 10, 10],
            "events2": [0, 1, 4],
            "total2": [10, 10, 10],
        }
    )
    with pytest.warns(SrmaWarning, match=r"A \(row 1\)"):
        out = effect_sizes(frame, "OR")
    assert np.isnan(out.loc[0, "yi"]) and np.isfinite(out.loc[1:, "yi"]).all()
    rd = effect_sizes(frame, "RD")
    assert rd.loc[0, "yi"] == 0.0


def test_canonical_and_mapped_columns_and_cells() -> None:
    frame = pd.DataFrame({"a": [5], "b": [15], "c": [10], "d": [10]})
    by_cells = effect_sizes(frame, "RR")
    by_events = effect_sizes(
        pd.DataFrame({"e1": [5], "n1": [20], "e2": [10], "n2": [20]}),
        "RR",
        events1="e1",
        total1="n1",
        events2="e2",
        total2="n2",
    )
    assert by_cells["yi"].iloc[0] == pytest.approx(np.log(0.5))
    assert by_events["yi"].iloc[0] == pytest.approx(np.log(0.5))


def test_generic_inputs() -> None:
    frame = pd.DataFrame({"yi": [0.5, -0.2], "sei": [0.1, 0.2]})
    out = effect_sizes(frame, "GEN")
    np.testing.assert_allclose(out["vi"], [0.01, 0.04])
    ci = pd.DataFrame({"yi": [2.0], "ci_lower": [1.0], "ci_upper": [4.0]})
    out = effect_sizes(ci, "GEN", log=True)
    assert out["yi"].iloc[0] == pytest.approx(np.log(2.0))
    assert np.sqrt(out["vi"].iloc[0]) == pytest.approx(np.log(4.0) / (2 * 1.959963984540054))
    p = pd.DataFrame({"yi": [0.3], "pvalue": [0.05]})
    assert np.sqrt(effect_sizes(p, "GEN")["vi"].iloc[0]) == pytest.approx(0.3 / 1.959963984540054)


@pytest.mark.parametrize(
    ("measure", "frame", "column", "row", "message"),
    [
        (
            "SMD",
            {
                "mean1": [1, 2],
                "sd1": [1, -1],
                "n1": [10, 10],
                "mean2": [0, 0],
                "sd2": [1, 1],
                "n2": [10, 10],
            },
            "sd1",
            2,
            "standard deviation must be > 0",
        ),
        (
            "MD",
            {
                "mean1": [1, 2],
                "sd1": [1, 1],
                "n1": [10, 1],
                "mean2": [0, 0],
                "sd2": [1, 1],
                "n2": [10, 10],
            },
            "n1",
            2,
            "at least 2",
        ),
        (
            "MD",
            {
                "mean1": [1, "abc"],
                "sd1": [1, 1],
                "n1": [10, 10],
                "mean2": [0, 0],
                "sd2": [1, 1],
                "n2": [10, 10],
            },
            "mean1",
            2,
            "expected a number",
        ),
        (
            "RR",
            {"events1": [12, 3], "total1": [10, 10], "events2": [1, 1], "total2": [10, 10]},
            "events1",
            1,
            "exceed",
        ),
        ("OR", {"a": [1, -2], "b": [5, 5], "c": [1, 1], "d": [5, 5]}, "b", None, None),
        ("COR", {"r": [0.5, 1.2], "n": [20, 30]}, "r", 2, r"\[-1, 1\]"),
        ("GEN", {"yi": [0.1], "vi": [0.0]}, "vi", 1, "must be > 0"),
        ("GEN", {"yi": [0.1], "pvalue": [1.5]}, "pvalue", 1, r"\(0, 1\]"),
    ],
)
def test_bad_input_names_row_and_column(measure, frame, column, row, message) -> None:
    if message is None:  # negative cell: reported on column 'a', row 2
        column, row, message = "a", 2, "negative"
    with pytest.raises(InputError, match=message) as error:
        effect_sizes(pd.DataFrame(frame), measure, source="data.csv")
    assert error.value.column == column
    assert error.value.row == row
    assert error.value.file == "data.csv"
    assert "data.csv" in str(error.value)


def test_missing_column_and_unknown_measure() -> None:
    with pytest.raises(InputError, match="missing column"):
        effect_sizes(pd.DataFrame({"mean1": [1]}), "MD")
    with pytest.raises(InputError, match="unknown measure"):
        effect_sizes(pd.DataFrame({"yi": [1]}), "HR2")


def test_blank_cells_give_missing_effects_not_errors() -> None:
    frame = pd.DataFrame(
        {
            "mean1": [1.0, None],
            "sd1": [1, 1],
            "n1": [10, 10],
            "mean2": [0, 0],
            "sd2": [1, 1],
            "n2": [10, 10],
        }
    )
    out = effect_sizes(frame, "SMD")
    assert np.isfinite(out.loc[0, "yi"]) and np.isnan(out.loc[1, "yi"])


counts = st.integers(min_value=0, max_value=500)


@settings(max_examples=200, deadline=None)
@given(
    e1=counts,
    extra1=st.integers(1, 500),
    e2=counts,
    extra2=st.integers(1, 500),
    measure=st.sampled_from(["RR", "OR", "RD", "PETO"]),
)
def test_swapping_arms_negates_the_effect(e1, extra1, e2, extra2, measure) -> None:
    frame = pd.DataFrame(
        {"events1": [e1], "total1": [e1 + extra1], "events2": [e2], "total2": [e2 + extra2]}
    )
    swapped = pd.DataFrame(
        {"events1": [e2], "total1": [e2 + extra2], "events2": [e1], "total2": [e1 + extra1]}
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        one, two = effect_sizes(frame, measure), effect_sizes(swapped, measure)
    if np.isnan(one["yi"].iloc[0]):
        assert np.isnan(two["yi"].iloc[0])
        return
    assert one["yi"].iloc[0] == pytest.approx(-two["yi"].iloc[0], abs=1e-12)
    assert one["vi"].iloc[0] == pytest.approx(two["vi"].iloc[0], rel=1e-12)
    assert one["vi"].iloc[0] > 0


@settings(max_examples=200, deadline=None)
@given(
    means=st.lists(st.floats(-100, 100), min_size=2, max_size=2),
    sds=st.lists(st.floats(0.01, 50), min_size=2, max_size=2),
    ns=st.lists(st.integers(2, 1000), min_size=2, max_size=2),
    measure=st.sampled_from(["MD", "SMD"]),
)
def test_continuous_effects_are_finite_with_positive_variance(means, sds, ns, measure) -> None:
    frame = pd.DataFrame(
        {
            "mean1": [means[0]],
            "sd1": [sds[0]],
            "n1": [ns[0]],
            "mean2": [means[1]],
            "sd2": [sds[1]],
            "n2": [ns[1]],
        }
    )
    out = effect_sizes(frame, measure)
    assert np.isfinite(out["yi"].iloc[0]) and out["vi"].iloc[0] > 0
