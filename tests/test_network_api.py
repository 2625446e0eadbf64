"""network_meta's data formats and its diagnoses of bad input, each with the study named."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from network_cases import CASES
from srma import InputError, SrmaWarning, effect_sizes, network_meta
from srma.stats.covariance import smd_shared_control_covariance


def _senn() -> pd.DataFrame:
    return pd.DataFrame(CASES["senn2013"]["data"])


def _pairs_of(arms: pd.DataFrame) -> pd.DataFrame:
    """Every pair of arms of each study as a contrast row (netmeta's pairwise() layout)."""
    rows = []
    for name, group in arms.groupby("study", sort=False):
        records = group.to_dict("records")
        for i, first in enumerate(records):
            for second in records[i + 1 :]:
                rows.append({
                    "study": name, "treatment": first["treatment"],
                    "treatment2": second["treatment"],
                    "yi": first["mean"] - second["mean"],
                    "vi": first["sd"] ** 2 / first["n"] + second["sd"] ** 2 / second["n"],
                })  # fmt: skip
    return pd.DataFrame(rows)


@pytest.mark.parametrize("method", ["EE", "DL", "REML"])
def test_contrast_table_with_all_pairs_equals_the_arm_table(method: str) -> None:
    arms = _senn()
    by_arm = network_meta(arms, measure="MD", method=method, reference="placebo")
    by_pair = network_meta(
        _pairs_of(arms), treatment2="treatment2", vi="vi", method=method, reference="placebo"
    )
    np.testing.assert_allclose(by_pair.basic_estimate, by_arm.basic_estimate, rtol=1e-9)
    np.testing.assert_allclose(by_pair.basic_vcov, by_arm.basic_vcov, rtol=1e-9)
    assert by_pair.q == pytest.approx(by_arm.q, rel=1e-10)


def test_estimates_do_not_depend_on_the_reference() -> None:
    arms = _senn()
    placebo = network_meta(arms, measure="MD", method="REML", reference="placebo")
    other = network_meta(arms, measure="MD", method="REML", reference="metformin")
    a = {(r.treatment, r.vs): r.estimate for r in placebo.league}
    b = {(r.treatment, r.vs): r.estimate for r in other.league}
    assert a.keys() == b.keys()
    np.testing.assert_allclose([a[key] for key in a], [b[key] for key in a], rtol=1e-6, atol=1e-9)
    assert other.tau2 == pytest.approx(placebo.tau2, rel=1e-7)


def test_two_arm_smd_is_escalc_and_multi_arm_covariance_is_gleser_olkin() -> None:
    arms = _senn().rename(columns={"mean": "m"})
    result = network_meta(arms, measure="SMD", method="EE", reference="placebo", mean="m")
    data = result.contrasts
    first = arms[arms.study == "De Fronzo (1995)"].set_index("treatment")
    expected = effect_sizes(
        pd.DataFrame([{
            "mean1": first.m["metformin"], "sd1": first.sd["metformin"], "n1": first.n["metformin"],
            "mean2": first.m["placebo"], "sd2": first.sd["placebo"], "n2": first.n["placebo"],
        }]),
        "SMD",
    )  # fmt: skip
    row = data.studies.index("De Fronzo (1995)")
    at = np.flatnonzero(data.study == row)[0]
    assert data.y[at] == pytest.approx(expected.yi[0], rel=1e-12)
    assert data.V[at, at] == pytest.approx(expected.vi[0], rel=1e-12)
    three = data.studies.index("Willms (1999)")
    rows = np.flatnonzero(data.study == three)
    willms = arms[arms.study == "Willms (1999)"].set_index("treatment")
    go = smd_shared_control_covariance(
        data.y[rows], willms.n[["acarbose", "metformin"]].to_numpy(), willms.n["placebo"]
    )
    assert data.V[rows[0], rows[1]] == pytest.approx(go[0, 1], rel=1e-12)


def test_a_study_with_one_arm_is_named() -> None:
    arms = pd.concat([_senn(), pd.DataFrame([{"study": "Lone (2020)", "treatment": "placebo",
                                              "mean": 0.1, "sd": 1.0, "n": 20}])])  # fmt: skip
    with pytest.raises(InputError, match=r"'Lone \(2020\)' has one arm"):
        network_meta(arms, measure="MD")


def test_two_arms_of_one_treatment_are_named() -> None:
    arms = _senn()
    arms.loc[1, "treatment"] = "metformin"
    with pytest.raises(InputError, match=r"'De Fronzo \(1995\)' has two arms of treatment"):
        network_meta(arms, measure="MD")


def test_a_missing_reference_is_named_with_its_likely_spelling() -> None:
    with pytest.raises(InputError, match=r"'Placebo' is not in the data \(did you mean 'placebo'"):
        network_meta(_senn(), measure="MD", reference="Placebo")


def test_a_treatment_spelt_two_ways_warns_with_both_spellings() -> None:
    arms = _senn()
    arms.loc[3, "treatment"] = "Placebo "  # stripped: still "Placebo", not "placebo"
    with pytest.warns(SrmaWarning, match=r"'placebo' and 'Placebo' differ only"):
        result = network_meta(arms, measure="MD", reference="placebo")
    assert "Placebo" in result.treatments


def test_inconsistent_multi_arm_variances_are_named() -> None:
    pairs = _pairs_of(_senn())
    willms = np.flatnonzero(pairs.study == "Willms (1999)")
    pairs.loc[willms[0], "vi"] = 10.0  # larger than the other two pairs together
    with pytest.raises(InputError, match=r"'Willms \(1999\)': the variances of its pairs"):
        network_meta(pairs, treatment2="treatment2", vi="vi")


def test_a_multi_arm_contrast_study_needs_all_its_pairs() -> None:
    pairs = _pairs_of(_senn())
    willms = np.flatnonzero(pairs.study == "Willms (1999)")
    with pytest.raises(InputError, match=r"'Willms \(1999\)' compares 3 treatments in 2 rows"):
        network_meta(pairs.drop(index=willms[0]), treatment2="treatment2", vi="vi")


def test_zero_cells_are_corrected_per_study_and_all_zero_studies_left_out() -> None:
    case = CASES["dogliotti2014"]
    with pytest.warns(SrmaWarning, match=r"left out 1 studies .*'WASPO, 2007'"):
        result = network_meta(pd.DataFrame(case["data"]), measure="OR",
                              reference=case["reference"], method="EE")  # fmt: skip
    assert "WASPO, 2007" not in result.contrasts.studies
    hassel = CASES["hasselblad1998"]
    with pytest.warns(SrmaWarning, match=r"0.5 added to every cell of every arm"):
        network_meta(pd.DataFrame(hassel["data"]), measure="OR", reference=hassel["reference"])


def test_a_disconnected_network_is_analysed_by_subnetwork() -> None:
    arms = _senn()
    extra = pd.DataFrame([
        {"study": "X1", "treatment": "diet", "mean": -0.5, "sd": 1.0, "n": 40},
        {"study": "X1", "treatment": "exercise", "mean": -0.9, "sd": 1.1, "n": 42},
        {"study": "X2", "treatment": "diet", "mean": -0.4, "sd": 1.2, "n": 30},
        {"study": "X2", "treatment": "exercise", "mean": -0.6, "sd": 1.0, "n": 31},
    ])  # fmt: skip
    with pytest.warns(SrmaWarning, match="disconnected: 2 subnetworks"):
        result = network_meta(pd.concat([arms, extra]), measure="MD", method="EE",
                              reference="placebo")  # fmt: skip
    alone = network_meta(arms, measure="MD", method="EE", reference="placebo")
    np.testing.assert_allclose(result.basic_estimate, alone.basic_estimate, rtol=1e-12)
    (sub,) = result.subnetworks
    assert sub.treatments == ("diet", "exercise") and sub.reference == "diet"
    w = np.array([1 / (1.0 / 40 + 1.21 / 42), 1 / (1.44 / 30 + 1.0 / 31)])
    pooled = (w @ np.array([-0.4, -0.2])) / w.sum()
    assert sub.estimates[0].estimate == pytest.approx(pooled, rel=1e-12)


def test_bad_options_and_values_are_rejected() -> None:
    with pytest.raises(InputError, match="network_meta"):
        network_meta(_senn(), measure="MD", method="PM")
    with pytest.raises(InputError, match="network_meta"):
        network_meta(_senn(), measure="MD", test="t")
    arms = _senn()
    arms.loc[4, "sd"] = 0.0
    with pytest.raises(InputError, match="standard deviation must be > 0") as error:
        network_meta(arms, measure="MD")
    assert error.value.row == 5 and error.value.column == "sd"


def test_result_serialises_and_summarises() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SrmaWarning)
        result = network_meta(_senn(), measure="MD", method="DL", reference="placebo")
    out = json.loads(json.dumps(result.to_dict()))
    assert out["reference"] == "placebo" and len(out["estimates"]) == 9
    assert len(out["league"]) == 90 and out["q_df"] == 18
    league = result.league_frame()
    assert league.loc["metformin", "placebo"] == pytest.approx(result.basic_estimate[2])
    assert "Against placebo" in result.summary()


def test_an_arm_without_a_variance_is_named() -> None:
    arms = pd.DataFrame({
        "study": ["a", "a", "b", "b"], "treatment": ["x", "y", "x", "y"],
        "events": [0, 3, 2, 4], "total": [10, 10, 12, 12],
    })  # fmt: skip
    with pytest.raises(InputError, match=r"study 'a': the arm of 'x' has no RD estimate"):
        network_meta(arms, measure="RD", add=0.0)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_the_fit_does_not_depend_on_the_order_of_the_rows(seed: int) -> None:
    arms = _senn()
    shuffled = arms.sample(frac=1.0, random_state=np.random.default_rng(seed).integers(2**31))
    a = network_meta(arms, measure="MD", method="REML", reference="placebo")
    b = network_meta(shuffled, measure="MD", method="REML", reference="placebo")
    np.testing.assert_allclose(b.basic_estimate, a.basic_estimate, rtol=1e-7, atol=1e-10)
    assert b.tau2 == pytest.approx(a.tau2, rel=1e-7)
    assert b.q == pytest.approx(a.q, rel=1e-10)


def test_negative_implied_arm_variances_are_named_with_the_row() -> None:
    # three pairs whose variances imply a negative variance for one arm: with v_ab = v_ac =
    # 0.1 and v_bc = 1.0, s_a = (0.1 + 0.1 - 1.0) / 2 = -0.4
    pairs = pd.DataFrame({
        "study": ["tri", "tri", "tri", "two"], "treatment": ["b", "c", "c", "b"],
        "treatment2": ["a", "a", "b", "a"], "yi": [0.2, 0.5, 0.3, 0.1],
        "vi": [0.1, 0.1, 1.0, 0.2],
    })  # fmt: skip
    with pytest.raises(
        InputError, match=r"'tri': the variances of its pairs are inconsistent"
    ) as error:
        network_meta(pairs, treatment2="treatment2", vi="vi", source="pairs.csv")
    assert "a -0.4" in str(error.value)
    assert (error.value.file, error.value.row, error.value.column) == ("pairs.csv", 1, "vi")


def test_bad_input_names_the_file_row_and_column() -> None:
    arms = pd.concat([_senn(), pd.DataFrame([{"study": "Lone (2020)", "treatment": "placebo",
                                              "mean": 0.1, "sd": 1.0, "n": 20}])])  # fmt: skip
    with pytest.raises(InputError, match="has one arm") as error:
        network_meta(arms, measure="MD", source="senn.csv")
    assert (error.value.file, error.value.row, error.value.column) == (
        "senn.csv",
        len(arms),
        "treatment",
    )
    with pytest.raises(InputError, match="is not in the data") as error:
        network_meta(_senn(), measure="MD", reference="insulin", source="senn.csv")
    assert "the treatments are acarbose, " in str(error.value)
    counts = pd.DataFrame({
        "study": ["a", "a", "b", "b"], "treatment": ["x", "y", "x", "y"],
        "events": [3, 12, 2, 4], "total": [10, 10, 12, 12],
    })  # fmt: skip
    with pytest.raises(InputError, match="events must not exceed the group size") as error:
        network_meta(counts, measure="OR", source="counts.csv")
    assert (error.value.file, error.value.row, error.value.column) == ("counts.csv", 2, "events")


def test_rank_options_are_validated() -> None:
    with pytest.raises(InputError, match=r"network_meta\(\): .*draws"):
        network_meta(_senn(), measure="MD", draws=0)
    with pytest.raises(InputError, match=r"network_meta\(\): .*seed"):
        network_meta(_senn(), measure="MD", seed=-1)
    with pytest.raises(InputError, match=r"network_meta\(\): .*small_values"):
        network_meta(_senn(), measure="MD", small_values="low")
