"""Pre-post and matched-pairs measures (MC, SMCC, SMCR, ROMC) agree with escalc; bad input is named.

The reference values come from tests/reference/effects_continuous_more.R
(metafor 3.8-1): the pre-post data of Morris (2008), a treatment and a control
group, with the change-score SD given directly as well as from the two SDs and
their correlation.  Tolerance: relative 1e-6.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from conftest import load_fixture
from srma import InputError, SrmaWarning, effect_sizes
from srma.cli import app
from srma.stats import effects_change

FIXTURE = "effects_continuous_more.json"
CHANGE_MEASURES = ("MC", "SMCC", "SMCR", "ROMC")
runner = CliRunner()


def _cases(measures: tuple[str, ...]) -> list[dict]:
    return [case for case in load_fixture(FIXTURE)["cases"] if case["measure"] in measures]


def _frame(name: str) -> tuple[pd.DataFrame, dict[str, str]]:
    data = load_fixture(FIXTURE)["data"][name]
    return pd.DataFrame(data["input"]), data["columns"]


@pytest.mark.parametrize(
    "case", _cases(CHANGE_MEASURES), ids=lambda c: f"{c['data']}-{c['measure']}"
)
def test_change_measures_match_escalc(case: dict) -> None:
    frame, columns = _frame(case["data"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", SrmaWarning)
        out = effect_sizes(frame, case["measure"], **columns)
    np.testing.assert_allclose(out["yi"], case["yi"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(out["vi"], case["vi"], rtol=1e-6, atol=1e-12)


def test_fixture_covers_every_change_measure_in_both_groups() -> None:
    cases = _cases(CHANGE_MEASURES)
    assert {case["measure"] for case in cases} == set(CHANGE_MEASURES)
    assert {c["data"] for c in cases if c["measure"] == "SMCC"} == {
        "morris2008_treatment", "morris2008_control", "morris2008_treatment_change"
    }  # fmt: skip


def test_change_sd_given_in_some_rows_and_sd1_sd2_r_in_others() -> None:
    """A row with sd_change uses it; the others fall back on sd1, sd2 and r."""
    frame, columns = _frame("morris2008_treatment")
    change_frame, _ = _frame("morris2008_treatment_change")
    mixed = frame.assign(sd_change=change_frame["sd_change"].where(frame.index % 2 == 0))
    mixed.loc[mixed.index % 2 == 0, ["sd_post", "sd_pre", "ri"]] = np.nan
    for measure in ("MC", "SMCC"):
        expected = effect_sizes(frame, measure, **columns)
        out = effect_sizes(mixed, measure, **columns)
        np.testing.assert_allclose(out["yi"], expected["yi"], rtol=1e-12)
        np.testing.assert_allclose(out["vi"], expected["vi"], rtol=1e-12)


def test_smcr_hand_computed_from_becker() -> None:
    """Becker (1988): g = c(n-1) (m1 - m2) / sd1, v = 2 (1 - r)/n + g²/(2n).

    Morris (2008) study 1, treatment group: m_post 38.5, m_pre 30.6, sd_pre 15.0,
    n 20, r 0.47.  d = 7.9 / 15 = 0.526667; c(19) = Γ(9.5) / (sqrt(9.5) Γ(9)) =
    0.959910 (1 - 3/(4*19 - 1) = 0.96 to first order); g = 0.505553;
    v = 2 * 0.53 / 20 + 0.505553² / 40 = 0.053 + 0.006390 = 0.059390.
    """
    yi, vi = effects_change.standardized_mean_change_raw(38.5, 30.6, 15.0, 20, 0.47)
    c19 = math.gamma(9.5) / (math.sqrt(9.5) * math.gamma(9.0))
    assert c19 == pytest.approx(0.959910, abs=1e-6)
    assert float(yi) == pytest.approx(c19 * 7.9 / 15.0, rel=1e-12)
    assert float(yi) == pytest.approx(0.505553, abs=1e-6)
    assert float(vi) == pytest.approx(2 * 0.53 / 20 + float(yi) ** 2 / 40, rel=1e-12)
    assert float(vi) == pytest.approx(0.059390, abs=1e-6)


def test_romc_variance_falls_with_the_correlation() -> None:
    """The covariance term -2 r cv1 cv2 / n: r = 0 gives the independent-groups variance."""
    _, independent = effects_change.log_ratio_of_means_paired(10.0, 8.0, 2.0, 2.0, 20, 0.0)
    _, correlated = effects_change.log_ratio_of_means_paired(10.0, 8.0, 2.0, 2.0, 20, 0.6)
    assert float(independent) == pytest.approx((0.2**2 + 0.25**2) / 20)
    assert float(correlated) == pytest.approx((0.2**2 + 0.25**2 - 2 * 0.6 * 0.2 * 0.25) / 20)


PREPOST_ROW = {"mean1": 12.0, "mean2": 10.0, "sd1": 3.0, "sd2": 2.5, "n": 20, "r": 0.5}


def _rows(**changes: list) -> pd.DataFrame:
    frame = {role: [value, value] for role, value in PREPOST_ROW.items()}
    return pd.DataFrame({**frame, **changes})


BAD_INPUT = [
    ("MC", _rows(sd1=[3.0, -1.0]), "sd1", 2, "standard deviation must be > 0, got -1"),
    ("SMCC", _rows(r=[0.5, 1.5]), "r", 2, r"correlation must lie in \[-1, 1\], got 1.5"),
    ("SMCC", _rows(n=[2, 20]), "n", 1, "sample size must be at least 3, got 2"),
    ("SMCR", _rows(n=[20, 2]), "n", 2, "sample size must be at least 3, got 2"),
    ("SMCR", _rows(r=[-1.2, 0.5]), "r", 1, r"must lie in \[-1, 1\]"),
    ("ROMC", _rows(mean2=[10.0, 0.0]), "mean2", 2, "mean must be > 0 for ROMC"),
    ("ROMC", _rows(n=[20, 1]), "n", 2, "sample size must be at least 2, got 1"),
    ("MC", _rows(mean1=[1, "abc"]), "mean1", 2, "expected a number, got 'abc'"),
    ("MC", _rows(sd_change=[2.0, 0.0]), "sd_change", 2, "standard deviation must be > 0"),
]


@pytest.mark.parametrize(("measure", "frame", "column", "row", "message"), BAD_INPUT)
def test_bad_input_names_row_and_column(
    measure: str, frame: pd.DataFrame, column: str, row: int, message: str
) -> None:
    with pytest.raises(InputError, match=message) as error:
        effect_sizes(frame, measure, source="prepost.csv")
    assert (error.value.row, error.value.column, error.value.file) == (row, column, "prepost.csv")


def test_missing_spread_is_named() -> None:
    frame = _rows().drop(columns=["sd1", "sd2", "r"])
    with pytest.raises(InputError, match=r"needs the SD of the change scores \(sd_change\)"):
        effect_sizes(frame, "MC")
    with pytest.raises(InputError, match="'r' not found"):
        effect_sizes(frame.assign(sd1=3.0), "SMCR")


def test_zero_change_sd_is_left_out_with_a_warning() -> None:
    """r = 1 with equal SDs: the change scores do not vary, so MC has no variance."""
    frame = _rows(sd2=[3.0, 3.0], r=[0.5, 1.0]).assign(study=["A", "B"])
    with pytest.warns(SrmaWarning, match=r"MC is undefined .*B \(row 2\)"):
        out = effect_sizes(frame, "MC")
    assert np.isfinite(out.loc[0, "vi"]) and np.isnan(out.loc[1, ["yi", "vi"]].astype(float)).all()


def test_unknown_role_for_a_change_measure_is_rejected() -> None:
    with pytest.raises(InputError, match="measure SMCR has no column role"):
        effect_sizes(_rows(), "SMCR", sd2="sd2")


def test_cli_effects_smcr(tmp_path: Path) -> None:
    frame, columns = _frame("morris2008_treatment_smcr")
    path = tmp_path / "morris.csv"
    frame.to_csv(path, index=False)
    flags = [arg for role, column in columns.items() for arg in ("--col", f"{role}={column}")]
    result = runner.invoke(app, ["effects", str(path), "--measure", "SMCR", *flags, "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    expected = next(c for c in _cases(("SMCR",)) if c["data"] == "morris2008_treatment_smcr")
    np.testing.assert_allclose([row["yi"] for row in rows], expected["yi"], rtol=1e-6)
    np.testing.assert_allclose([row["vi"] for row in rows], expected["vi"], rtol=1e-6)
