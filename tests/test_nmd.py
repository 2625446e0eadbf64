"""NMD, the normalised mean difference of animal studies (Vesterinen et al. 2014); shared controls.

No R reference exists for NMD, so the numbers are worked by hand from the
paper's formulas (J Neurosci Methods 221:92-102):

    NMD = 100 (m_control - m_treated) / (m_control - m_sham)
    SD* = 100 SD / (m_control - m_sham)   for the treated and the control group
    SE² = SD*_control² / n_control + SD*_treated² / n_treated

and the properties that follow from them are checked with hypothesis.  Columns:
group 1 treated (mean1, sd1, n1), group 2 the lesion control (mean2, sd2, n2),
mean_sham.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from srma import InputError, SrmaWarning, effect_sizes, meta
from srma.analysis.validation import OptionError
from srma.cli import app
from srma.stats.normalised import normalised_mean_difference

runner = CliRunner()

# Infarct volume (mm³; lower is better).  Sham 10; lesion control 60 (SD 12, n 10);
# treated 45 (SD 15, n 8).  Deficit = 60 - 10 = 50.
#   NMD = 100 (60 - 45) / 50 = 30 (% of the deficit recovered)
#   SD*_control = 100 * 12 / 50 = 24;  SD*_treated = 100 * 15 / 50 = 30
#   SE² = 24² / 10 + 30² / 8 = 57.6 + 112.5 = 170.1
INFARCT = {"mean1": 45.0, "sd1": 15.0, "n1": 8, "mean2": 60.0, "sd2": 12.0, "n2": 10}
# Neurological score (higher is better).  Sham 20; control 8 (SD 3, n 6); treated 14
# (SD 4, n 6).  Deficit = 8 - 20 = -12.
#   NMD = 100 (8 - 14) / (-12) = 50
#   SD*_control = 100 * 3 / 12 = 25;  SD*_treated = 100 * 4 / 12 = 33.333...
#   SE² = 25² / 6 + 33.333...² / 6 = 104.1667 + 185.1852 = 289.3519
SCORE = {"mean1": 14.0, "sd1": 4.0, "n1": 6, "mean2": 8.0, "sd2": 3.0, "n2": 6}


def _table(*rows: dict, sham: list[float]) -> pd.DataFrame:
    return pd.DataFrame(list(rows)).assign(mean_sham=sham)


def test_worked_examples_from_the_formulas() -> None:
    out = effect_sizes(_table(INFARCT, SCORE, sham=[10.0, 20.0]), "NMD")
    np.testing.assert_allclose(out["yi"], [30.0, 50.0], rtol=1e-12)
    np.testing.assert_allclose(out["vi"], [170.1, 625 / 6 + (400 / 12) ** 2 / 6], rtol=1e-12)
    assert out.loc[1, "vi"] == pytest.approx(289.3519, abs=1e-4)


def test_an_explicit_direction_agrees_where_the_lesion_caused_a_deficit() -> None:
    table = _table(INFARCT, sham=[10.0])
    paper = effect_sizes(table, "NMD")
    lower = effect_sizes(table, "NMD", direction="lower is better")
    higher = effect_sizes(_table(SCORE, sham=[20.0]), "NMD", direction="higher is better")
    assert lower.loc[0, "yi"] == paper.loc[0, "yi"] == 30.0
    assert lower.loc[0, "vi"] == paper.loc[0, "vi"]
    assert higher.loc[0, "yi"] == pytest.approx(50.0, rel=1e-12)


def test_pooled_by_inverse_variance() -> None:
    """Common effect: (30/170.1 + 50/289.35) / (1/170.1 + 1/289.35) = 37.40."""
    out = effect_sizes(_table(INFARCT, SCORE, sham=[10.0, 20.0]), "NMD")
    result = meta(out["yi"], out["vi"], method="EE")
    weights = 1 / out["vi"].to_numpy()
    expected = float(np.sum(weights * out["yi"]) / np.sum(weights))
    assert result.estimate == pytest.approx(expected, rel=1e-12)
    assert result.estimate == pytest.approx(37.40, abs=0.01)
    assert result.se == pytest.approx(float(np.sqrt(1 / weights.sum())), rel=1e-12)


# Three treatments (A, B, C) against one control group "C1" of 10 animals, and one
# treatment (D) with its own control.  Split, C1 counts 10 / 3 animals in each
# comparison: the control's part of SE² for A is 24² / (10/3) = 3 * 57.6 = 172.8,
# so SE² = 172.8 + 112.5 = 285.3.
SHARED = pd.DataFrame([INFARCT, INFARCT, INFARCT, INFARCT], index=[10, 11, 12, 13]).assign(
    study=["A", "B", "C", "D"], mean_sham=10.0, control_group=["C1", "C1", "C1", None]
)


def test_shared_control_split_divides_the_control_size_with_a_note() -> None:
    named = r"'C1' serves 3 \(A \(row 1\), B \(row 2\), C \(row 3\)\)"
    with pytest.warns(SrmaWarning, match=named):
        split = effect_sizes(SHARED, "NMD", shared_control="split")
    np.testing.assert_allclose(split["vi"], [285.3, 285.3, 285.3, 170.1], rtol=1e-12)
    np.testing.assert_allclose(split["yi"], 30.0)
    assert split.index.equals(SHARED.index)
    with warnings.catch_warnings():
        warnings.simplefilter("error", SrmaWarning)
        kept = effect_sizes(SHARED, "NMD")
    np.testing.assert_allclose(kept["vi"], 170.1, rtol=1e-12)


def test_shared_control_split_for_smd_uses_the_split_size() -> None:
    """SMD of A with n2 = 10/3: the same as an SMD computed with that n2 directly."""
    table = SHARED.rename(columns={"control_group": "ctrl"})
    with pytest.warns(SrmaWarning, match="shared control groups"):
        out = effect_sizes(table, "SMD", shared_control="split", control_group="ctrl")
    direct = effect_sizes(pd.DataFrame([{**INFARCT, "n2": 10 / 3}]), "SMD")
    assert out.loc[10, "yi"] == pytest.approx(direct.loc[0, "yi"], rel=1e-14)
    assert out.loc[10, "vi"] == pytest.approx(direct.loc[0, "vi"], rel=1e-14)
    assert out.loc[13, "vi"] == pytest.approx(effect_sizes(table.iloc[[3]], "SMD")["vi"].iloc[0])


def test_shared_control_errors() -> None:
    with pytest.raises(InputError, match="needs the column 'control_group'") as error:
        effect_sizes(SHARED.drop(columns="control_group"), "NMD", shared_control="split")
    assert error.value.column == "control_group"
    with pytest.raises(OptionError, match="unknown shared_control 'halve'"):
        effect_sizes(SHARED, "NMD", shared_control="halve")
    with pytest.raises(InputError, match=r"shared_control applies to .* not to VR"):
        effect_sizes(SHARED, "VR", shared_control="split")


def test_no_deficit_is_left_out_and_a_reversed_one_is_named() -> None:
    table = _table(INFARCT, INFARCT, sham=[60.0, 70.0]).assign(study=["E", "F"])
    with pytest.warns(SrmaWarning, match=r"control mean equals the sham mean.*E \(row 1\)"):
        out = effect_sizes(table, "NMD")
    assert out.loc[0, ["yi", "vi"]].isna().all() and np.isfinite(out.loc[1, "yi"])
    with pytest.warns(SrmaWarning, match=r"did better than the sham group.*F \(row 2\)"):
        effect_sizes(table, "NMD", direction="lower is better")


def test_bad_input_and_options() -> None:
    table = _table(INFARCT, {**INFARCT, "sd2": -1.0}, sham=[10.0, 10.0])
    with pytest.raises(InputError, match="standard deviation must be > 0") as error:
        effect_sizes(table, "NMD", source="animals.csv")
    assert (error.value.row, error.value.column, error.value.file) == (2, "sd2", "animals.csv")
    with pytest.raises(InputError, match="'mean_sham' not found"):
        effect_sizes(pd.DataFrame([INFARCT]), "NMD")
    with pytest.raises(InputError, match=r"expected a number, got 'n/a'") as error:
        effect_sizes(_table(INFARCT, sham=["n/a"]), "NMD")
    assert error.value.column == "mean_sham"
    with pytest.raises(OptionError, match="unknown direction 'up'"):
        effect_sizes(_table(INFARCT, sham=[10.0]), "NMD", direction="up")
    with pytest.raises(InputError, match="direction is an option of NMD, not of SMD"):
        effect_sizes(_table(INFARCT, sham=[10.0]), "SMD", direction="lower is better")


finite = st.floats(-1000.0, 1000.0)
spread = st.floats(0.1, 100.0)
size = st.floats(2.0, 100.0)


@settings(max_examples=60, deadline=None)
@given(
    m1=finite, m2=finite, sham=finite, s1=spread, s2=spread, n1=size, n2=size,
    scale=st.floats(0.01, 100.0), shift=finite,
)  # fmt: skip
def test_nmd_does_not_depend_on_the_units(
    m1: float, m2: float, sham: float, s1: float, s2: float, n1: float, n2: float,
    scale: float, shift: float,
) -> None:  # fmt: skip
    """Scaling all means and SDs by one constant (and shifting the means) leaves NMD as it is."""
    if abs(m2 - sham) < 1e-3:
        return
    base = normalised_mean_difference(m1, s1, n1, m2, s2, n2, sham)
    moved = normalised_mean_difference(
        scale * m1 + shift, scale * s1, n1, scale * m2 + shift, scale * s2, n2, scale * sham + shift
    )
    np.testing.assert_allclose(moved, base, rtol=1e-6, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(m1=finite, m2=finite, sham=finite, s1=spread, s2=spread, n1=size, n2=size)
def test_swapping_the_direction_flips_the_sign(
    m1: float, m2: float, sham: float, s1: float, s2: float, n1: float, n2: float
) -> None:
    if abs(m2 - sham) < 1e-3:
        return
    lower = normalised_mean_difference(m1, s1, n1, m2, s2, n2, sham, direction="lower is better")
    higher = normalised_mean_difference(m1, s1, n1, m2, s2, n2, sham, direction="higher is better")
    assert float(higher[0]) == -float(lower[0])
    assert float(higher[1]) == float(lower[1])


@settings(max_examples=60, deadline=None)
@given(
    m1=finite, m2=finite, sham=finite, s1=spread, s2=spread, n1=size, n2=size,
    comparisons=st.integers(1, 8),
)  # fmt: skip
def test_splitting_the_control_multiplies_its_variance_part(
    m1: float, m2: float, sham: float, s1: float, s2: float, n1: float, n2: float,
    comparisons: int,
) -> None:  # fmt: skip
    """SE² = treated part + control part; n2 / k multiplies the control part by k."""
    if abs(m2 - sham) < 1e-3:
        return
    _, whole = normalised_mean_difference(m1, s1, n1, m2, s2, n2, sham)
    _, split = normalised_mean_difference(m1, s1, n1, m2, s2, n2 / comparisons, sham)
    treated_part = (100 * s1 / (m2 - sham)) ** 2 / n1
    control_part = float(whole) - treated_part
    assert float(split) == pytest.approx(treated_part + comparisons * control_part, rel=1e-9)


def test_cli_effects_nmd_with_direction_and_split(tmp_path: Path) -> None:
    path = tmp_path / "animals.csv"
    SHARED.to_csv(path, index=False)
    args = ["effects", str(path), "--measure", "NMD", "--direction", "lower is better"]
    result = runner.invoke(app, [*args, "--shared-control", "split", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    np.testing.assert_allclose([row["vi"] for row in rows], [285.3, 285.3, 285.3, 170.1])
    result = runner.invoke(app, [*args, "--direction", "sideways"])
    assert result.exit_code != 0 and "unknown direction 'sideways'" in result.output
