"""PHI, YUQ, YUY, OR2DN, OR2DL from 2x2 tables and RPB from means: escalc's values, bad input,
and ``srma effects --measure`` on the command line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import srma
from counts_more_fixture import case_id, cases, check_against_escalc, table
from srma.cli import app
from srma.errors import InputError
from srma.stats import effects_association as association

TABLE_MEASURES = {"PHI", "YUQ", "YUY", "OR2DN", "OR2DL"}


@pytest.mark.parametrize("case", cases(TABLE_MEASURES | {"RPB"}), ids=case_id)
def test_effects_equal_escalc(case: dict) -> None:
    check_against_escalc(case)


def test_events_and_totals_give_the_same_effects_as_cells() -> None:
    frame, columns = table("bcg")
    events = pd.DataFrame(
        {
            "events1": frame["tpos"],
            "total1": frame["tpos"] + frame["tneg"],
            "events2": frame["cpos"],
            "total2": frame["cpos"] + frame["cneg"],
        }
    )
    for measure in TABLE_MEASURES:
        from_cells = srma.effect_sizes(frame, measure, **columns)
        from_events = srma.effect_sizes(events, measure)
        np.testing.assert_allclose(from_events["yi"], from_cells["yi"], rtol=1e-13)
        np.testing.assert_allclose(from_events["vi"], from_cells["vi"], rtol=1e-13)


cell = st.integers(1, 400)


@given(cell, cell, cell, cell)
def test_yules_q_and_y_lie_in_minus_one_one_and_follow_the_odds_ratio(
    a: int, b: int, c: int, d: int
) -> None:
    q, _ = association.yules_q(a, b, c, d)
    y, _ = association.yules_y(a, b, c, d)
    odds_ratio = (a * d) / (b * c)
    assert -1 <= q <= 1 and -1 <= y <= 1
    assert q == pytest.approx((odds_ratio - 1) / (odds_ratio + 1), rel=1e-9, abs=1e-12)
    assert np.sign(q) == np.sign(y) == np.sign(np.log(odds_ratio))


@given(cell, cell, cell, cell)
def test_phi_is_the_correlation_of_the_two_binary_variables(a: int, b: int, c: int, d: int) -> None:
    group = np.repeat([1.0, 1.0, 0.0, 0.0], [a, b, c, d])
    event = np.repeat([1.0, 0.0, 1.0, 0.0], [a, b, c, d])
    phi, vi = association.phi_coefficient(a, b, c, d)
    assert phi == pytest.approx(np.corrcoef(group, event)[0, 1], rel=1e-9, abs=1e-12)
    assert vi >= 0 or np.isclose(vi, 0.0)


def test_dichotomised_smds_rescale_the_log_odds_ratio() -> None:
    log_or, s2 = np.log((10 * 30) / (20 * 5)), 1 / 10 + 1 / 20 + 1 / 5 + 1 / 30
    normal = association.odds_ratio_to_smd_normal(10, 20, 5, 30)
    logistic = association.odds_ratio_to_smd_logistic(10, 20, 5, 30)
    assert normal == pytest.approx((log_or / 1.65, s2 / 1.65**2))
    assert logistic == pytest.approx((np.sqrt(3) / np.pi * log_or, 3 / np.pi**2 * s2))


def test_phi_with_an_empty_margin_is_left_out_with_a_warning() -> None:
    frame = pd.DataFrame({"study": ["A", "B"], "a": [0, 4], "b": [10, 6], "c": [0, 3], "d": [8, 7]})
    with pytest.warns(srma.SrmaWarning, match=r"PHI is undefined \(an empty margin.*A \(row 1\)"):
        out = srma.effect_sizes(frame, "PHI")
    assert np.isnan(out["yi"].iloc[0]) and np.isfinite(out["yi"].iloc[1])


def test_bad_cells_and_sds_name_row_and_column() -> None:
    frame = pd.DataFrame({"a": [3, -1], "b": [10, 6], "c": [2, 3], "d": [8, 7]})
    with pytest.raises(InputError, match="count must be >= 0") as error:
        srma.effect_sizes(frame, "YUQ", source="t.csv")
    assert (error.value.row, error.value.column) == (2, "a")
    frame, columns = table("normand1999")
    frame.loc[4, "sd2i"] = 0.0
    with pytest.raises(InputError, match="standard deviation must be > 0") as error:
        srma.effect_sizes(frame, "RPB", **columns)
    assert (error.value.row, error.value.column) == (5, "sd2i")


@pytest.mark.parametrize("measure", ["YUQ", "RPB"])
def test_cli_effects_computes_the_measure(tmp_path: Path, measure: str) -> None:
    name = "bcg" if measure == "YUQ" else "normand1999"
    frame, columns = table(name)
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    args = ["effects", str(path), "--measure", measure, "--json"]
    for role, column in columns.items():
        args += ["--col", f"{role}={column}"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    expected = next(case for case in cases({measure}) if case["data"] == name)
    np.testing.assert_allclose([row["yi"] for row in rows], expected["yi"], rtol=1e-10)


def test_cli_effects_reports_bad_input_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    pd.DataFrame({"events": [3, 12], "total": [10, 10]}).to_csv(path, index=False)
    result = CliRunner().invoke(app, ["effects", str(path), "--measure", "PLO"])
    assert result.exit_code != 0
    assert "must not exceed the group size" in result.output and "Traceback" not in result.output
