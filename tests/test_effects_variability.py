"""Two-group measures beyond MD, SMD and ROM: SMDH, VR, CVR (LNCVR), and ROM bias-corrected.

SMDH, VR and CVR agree with metafor 3.8-1's escalc to relative 1e-6 on
dat.normand1999 and dat.curtis1998 (tests/reference/effects_continuous_more.R).
metafor 3.8-1 has no bias-corrected ROM, so that is checked against
Lajeunesse (2015), eqs. 8 and 9, worked by hand below.
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import load_fixture
from srma import InputError, SrmaWarning, effect_sizes
from srma.cli import app
from srma.stats import effects
from srma.vocabulary import MEASURES, RATIO_MEASURES

FIXTURE = "effects_continuous_more.json"
TWO_GROUP_MEASURES = ("SMDH", "VR", "CVR")
runner = CliRunner()


def _cases() -> list[dict]:
    return [c for c in load_fixture(FIXTURE)["cases"] if c["measure"] in TWO_GROUP_MEASURES]


def _frame(name: str) -> tuple[pd.DataFrame, dict[str, str]]:
    data = load_fixture(FIXTURE)["data"][name]
    return pd.DataFrame(data["input"]), data["columns"]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"{c['data']}-{c['measure']}")
def test_two_group_measures_match_escalc(case: dict) -> None:
    frame, columns = _frame(case["data"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", SrmaWarning)
        out = effect_sizes(frame, case["measure"], **columns)
    np.testing.assert_allclose(out["yi"], case["yi"], rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(out["vi"], case["vi"], rtol=1e-6, atol=1e-12)


def test_fixture_covers_every_measure_on_both_data_sets() -> None:
    covered = {(c["data"].removesuffix("_vr"), c["measure"]) for c in _cases()}
    assert covered == {(d, m) for d in ("normand1999", "curtis1998") for m in TWO_GROUP_MEASURES}


def test_lncvr_is_cvr_under_its_other_name() -> None:
    """Nakagawa et al. (2015) call escalc's CVR lnCVR; both names give the same numbers."""
    frame, columns = _frame("curtis1998")
    cvr, lncvr = effect_sizes(frame, "CVR", **columns), effect_sizes(frame, "lnCVR", **columns)
    pd.testing.assert_frame_equal(cvr, lncvr)
    assert {"VR", "CVR", "LNCVR", "ROMC"} <= RATIO_MEASURES and "SMDH" not in RATIO_MEASURES
    assert "CVR" in MEASURES["LNCVR"]


def test_smdh_equals_smd_when_the_variances_and_sizes_are_equal() -> None:
    """With sd1 = sd2 and n1 = n2 the average variance is the pooled one, so g agrees."""
    g, _ = effects.standardized_mean_difference(12.0, 4.0, 15, 10.0, 4.0, 15)
    gh, vh = effects.standardized_mean_difference_heteroscedastic(12.0, 4.0, 15, 10.0, 4.0, 15)
    assert float(gh) == pytest.approx(float(g), rel=1e-14)
    # Bonett's variance with s1 = s2 = s, n1 = n2 = n = 15:
    # c² [g² (2 s⁴/(n-1)) / (2 (2 s²)²) + (2 s²/(n-1)) / s²] = c² [g²/(4 (n-1)) + 2/(n-1)]
    c = float(effects.small_sample_correction(28))
    assert float(vh) == pytest.approx(c**2 * (float(gh) ** 2 / (4 * 14) + 2 / 14), rel=1e-12)


def test_bias_corrected_rom_by_hand() -> None:
    """Lajeunesse (2015), Ecology 96:2056-2063.

    m1 = 10, sd1 = 2, n1 = 5; m2 = 8, sd2 = 4, n2 = 4:
    v1 = sd1²/(n1 m1²) = 4/500 = 0.008;  v2 = sd2²/(n2 m2²) = 16/256 = 0.0625.
    Eq. 8:  lnRR = log(10/8) + (v1 - v2)/2 = 0.2231435513 - 0.02725 = 0.1958935513.
    Eq. 9:  var = v1 + v2 + (v1² + v2²)/2 = 0.0705 + (0.000064 + 0.00390625)/2
                = 0.0705 + 0.001985125 = 0.072485125.
    """
    frame = pd.DataFrame({"mean1": [10.0], "sd1": [2.0], "n1": [5], "mean2": [8.0]})
    frame = frame.assign(sd2=4.0, n2=4)
    corrected = effect_sizes(frame, "ROM", correct=True)
    assert corrected.loc[0, "yi"] == pytest.approx(0.1958935513, abs=1e-10)
    assert corrected.loc[0, "vi"] == pytest.approx(0.072485125, rel=1e-12)
    plain = effect_sizes(frame, "ROM")
    assert plain.loc[0, "yi"] == pytest.approx(math.log(1.25), rel=1e-14)
    assert plain.loc[0, "vi"] == pytest.approx(0.0705, rel=1e-12)


positive = st.floats(0.5, 100.0)


@settings(max_examples=50, deadline=None)
@given(
    mean1=positive, mean2=positive, sd1=positive, sd2=positive,
    n1=st.integers(2, 200), n2=st.integers(2, 200),
)  # fmt: skip
def test_bias_corrected_rom_swaps_sign_with_the_groups_and_adds_variance(
    mean1: float, mean2: float, sd1: float, sd2: float, n1: int, n2: int
) -> None:
    forward = effects.log_ratio_of_means(mean1, sd1, n1, mean2, sd2, n2, correct=True)
    backward = effects.log_ratio_of_means(mean2, sd2, n2, mean1, sd1, n1, correct=True)
    plain = effects.log_ratio_of_means(mean1, sd1, n1, mean2, sd2, n2)
    assert float(forward[0]) == pytest.approx(-float(backward[0]), rel=1e-9, abs=1e-12)
    assert float(forward[1]) == pytest.approx(float(backward[1]), rel=1e-12)
    assert float(forward[1]) >= float(plain[1])


def test_correct_is_rom_only_and_boolean() -> None:
    frame, columns = _frame("normand1999")
    with pytest.raises(InputError, match=r"correct=True .* is for ROM, not SMD"):
        effect_sizes(frame, "SMD", correct=True, **columns)
    with pytest.raises(InputError, match=r"effect_sizes\(\): correct must be True or False"):
        effect_sizes(frame, "ROM", correct="yes", **columns)


TWO_GROUP_ROW = {"mean1": 12.0, "sd1": 3.0, "n1": 10, "mean2": 10.0, "sd2": 2.0, "n2": 12}


def _rows(**changes: list) -> pd.DataFrame:
    frame = {role: [value, value] for role, value in TWO_GROUP_ROW.items()}
    return pd.DataFrame({**frame, **changes})


BAD_INPUT = [
    ("SMDH", _rows(sd2=[2.0, 0.0]), "sd2", 2, "standard deviation must be > 0, got 0"),
    ("SMDH", _rows(n1=[1, 10]), "n1", 1, "group size must be at least 2, got 1"),
    ("VR", _rows(sd1=[-3.0, 3.0]), "sd1", 1, "standard deviation must be > 0"),
    ("VR", _rows(n2=[12, 1]), "n2", 2, "group size must be at least 2"),
    ("CVR", _rows(mean1=[12.0, -1.0]), "mean1", 2, "mean must be > 0 for CVR"),
    ("LNCVR", _rows(mean2=[0.0, 10.0]), "mean2", 1, "mean must be > 0 for LNCVR"),
    ("CVR", _rows(sd1=["x", 3.0]), "sd1", 1, "expected a number, got 'x'"),
]


@pytest.mark.parametrize(("measure", "frame", "column", "row", "message"), BAD_INPUT)
def test_bad_input_names_row_and_column(
    measure: str, frame: pd.DataFrame, column: str, row: int, message: str
) -> None:
    with pytest.raises(InputError, match=message) as error:
        effect_sizes(frame, measure, source="groups.csv")
    assert (error.value.row, error.value.column, error.value.file) == (row, column, "groups.csv")


def test_vr_needs_no_means_and_rejects_them_as_roles() -> None:
    frame = _rows().drop(columns=["mean1", "mean2"])
    out = effect_sizes(frame, "VR")
    expected = math.log(3.0 / 2.0) + 1 / 18 - 1 / 22
    np.testing.assert_allclose(out["yi"], [expected, expected], rtol=1e-12)
    with pytest.raises(InputError, match="measure VR has no column role"):
        effect_sizes(_rows(), "VR", mean1="mean1")


def test_blank_cells_give_missing_effects_without_warnings() -> None:
    frame = _rows(sd1=[3.0, None])
    with warnings.catch_warnings():
        warnings.simplefilter("error", SrmaWarning)
        out = effect_sizes(frame, "SMDH")
    assert np.isfinite(out.loc[0, "yi"]) and out.loc[1, ["yi", "vi"]].isna().all()


def test_cli_effects_vr_and_corrected_rom(tmp_path: Path) -> None:
    frame, columns = _frame("curtis1998")
    path = tmp_path / "curtis.csv"
    frame.to_csv(path, index=False)
    flags = [arg for role, column in columns.items() for arg in ("--col", f"{role}={column}")]
    vr_roles = ("sd1", "n1", "sd2", "n2")
    vr_flags = [arg for role in vr_roles for arg in ("--col", f"{role}={columns[role]}")]
    result = runner.invoke(app, ["effects", str(path), "--measure", "VR", *vr_flags, "--json"])
    assert result.exit_code == 0, result.output
    expected = next(c for c in _cases() if c["data"] == "curtis1998_vr")
    np.testing.assert_allclose([row["yi"] for row in json.loads(result.stdout)], expected["yi"])
    result = runner.invoke(
        app, ["effects", str(path), "--measure", "ROM", *flags, "--correct", "--json"]
    )
    assert result.exit_code == 0, result.output
    yi, vi = effects.log_ratio_of_means(
        *(frame[columns[role]] for role in ("mean1", "sd1", "n1", "mean2", "sd2", "n2")),
        correct=True,
    )
    rows = json.loads(result.stdout)
    np.testing.assert_allclose([row["yi"] for row in rows], yi, rtol=1e-12)
    np.testing.assert_allclose([row["vi"] for row in rows], vi, rtol=1e-12)
