"""Incidence rates IR, IRLN, IRS, IRR, IRD: escalc's values, zero counts, bad input."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import srma
from counts_more_fixture import case_id, cases, check_against_escalc, reference, table
from srma.errors import InputError
from srma.stats import effects_rates as rates


@pytest.mark.parametrize("case", cases({"IR", "IRLN", "IRS", "IRR", "IRD"}), ids=case_id)
def test_effects_equal_escalc(case: dict) -> None:
    check_against_escalc(case)


def test_double_zero_studies_are_dropped_for_irr_by_default_and_named() -> None:
    frame, columns = table("rate_edge")
    with pytest.warns(srma.SrmaWarning, match=r"left out 1 double-zero .*Rate 3 \(row 3\)"):
        out = srma.effect_sizes(frame, "IRR", **columns)
    assert np.isnan(out["yi"].iloc[2])
    kept = srma.effect_sizes(frame, "IRR", drop00=False, **columns)
    assert kept["yi"].iloc[2] == pytest.approx(np.log((0.5 / 80) / (0.5 / 95)))
    ird = srma.effect_sizes(frame, "IRD", **columns)  # a rate difference of 0 is defined
    assert np.isfinite(ird["yi"]).all()


def test_zero_events_in_one_group_correct_both_groups() -> None:
    frame = pd.DataFrame({"events1": [0], "time1": [100.0], "events2": [4], "time2": [90.0]})
    out = srma.effect_sizes(frame, "IRR")
    assert out["yi"].iloc[0] == pytest.approx(np.log(0.5 / 100) - np.log(4.5 / 90))
    assert out["vi"].iloc[0] == pytest.approx(1 / 0.5 + 1 / 4.5)


@given(
    st.integers(1, 500),
    st.floats(1.0, 1e5),
    st.integers(1, 500),
    st.floats(1.0, 1e5),
)
def test_swapping_groups_negates_irr_and_ird(x1: int, t1: float, x2: int, t2: float) -> None:
    for measure in ("IRR", "IRD"):
        forward = rates.two_group_rate_effect(measure, x1, t1, x2, t2)
        backward = rates.two_group_rate_effect(measure, x2, t2, x1, t1)
        assert forward[0] == pytest.approx(-backward[0], rel=1e-12, abs=1e-15)
        assert forward[1] == pytest.approx(backward[1], rel=1e-12)


def test_log_rate_back_transforms_to_the_pooled_rate() -> None:
    fit = next(f for f in reference()["pooled"] if f["measure"] == "IRLN")
    frame, columns = table(fit["data"])
    result = srma.meta(frame, measure="IRLN", method=fit["method"], **columns)
    natural = result.back_transformed()
    assert natural is not None
    assert natural["estimate"] == pytest.approx(fit["back"]["estimate"], rel=1e-6)
    assert "incidence rate = " in result.summary()


@pytest.mark.parametrize(
    ("measure", "column", "value", "message"),
    [
        ("IR", "events", -1.0, "events must be >= 0"),
        ("IR", "time", 0.0, "person-time must be > 0"),
        ("IRR", "time2", -5.0, "person-time must be > 0"),
        ("IRD", "events1", -2.0, "events must be >= 0"),
    ],
)
def test_bad_input_names_row_and_column(
    measure: str, column: str, value: float, message: str
) -> None:
    frame = pd.DataFrame(
        {
            "events": [3.0, 4.0],
            "time": [100.0, 120.0],
            "events1": [3.0, 4.0],
            "time1": [100.0, 120.0],
            "events2": [5.0, 6.0],
            "time2": [90.0, 80.0],
        }
    )
    frame.loc[1, column] = value
    with pytest.raises(InputError, match=message) as error:
        srma.effect_sizes(frame, measure, source="rates.csv")
    assert (error.value.row, error.value.column, error.value.file) == (2, column, "rates.csv")


def test_missing_person_time_column_is_named() -> None:
    frame = pd.DataFrame({"events": [3, 4]})
    with pytest.raises(InputError, match="'time' not found"):
        srma.effect_sizes(frame, "IRLN")


def test_missing_counts_leave_the_row_out_without_error() -> None:
    frame = pd.DataFrame({"events": [3.0, np.nan], "time": [100.0, 50.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = srma.effect_sizes(frame, "IR")
    assert np.isnan(out["yi"].iloc[1]) and out["yi"].iloc[0] == pytest.approx(0.03)
