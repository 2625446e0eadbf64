"""Proportions PR, PLN, PLO, PAS, PFT: escalc's values, back-transformations, bad input."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import srma
from counts_more_fixture import case_id, cases, check_against_escalc, reference, table
from srma.errors import InputError
from srma.stats import effects_proportions as proportions

PROPORTIONS = {"PR", "PLN", "PLO", "PAS", "PFT"}


@pytest.mark.parametrize("case", cases(PROPORTIONS), ids=case_id)
def test_effects_equal_escalc(case: dict) -> None:
    check_against_escalc(case)


POOLED = reference()["pooled"]


@pytest.mark.parametrize(
    "fit", POOLED, ids=lambda fit: f"{fit['data']}-{fit['measure']}-{fit['method']}"
)
def test_pooled_and_back_transformed_equal_metafor(fit: dict) -> None:
    """rma.uni, then predict(transf=...): transf.ipft.hm with the studies' n for PFT."""
    frame, columns = table(fit["data"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = srma.meta(
            frame, measure=fit["measure"], method=fit["method"], pi_type="default", **columns
        )
    for name in ("estimate", "se", "ci_lower", "ci_upper"):
        assert getattr(result, name) == pytest.approx(fit[name], rel=1e-6, abs=1e-9)
    assert (result.tau2 or 0.0) == pytest.approx(fit["tau2"], rel=1e-6, abs=1e-9)
    natural = result.back_transformed()
    assert natural is not None
    for name, value in fit["back"].items():
        if value is not None:
            assert natural[name] == pytest.approx(value, rel=1e-6, abs=1e-9)
    if fit["measure"] == "PFT":
        assert result.harmonic_mean_n == pytest.approx(fit["harmonic_mean_n"], rel=1e-12)
    payload = result.to_dict()
    assert "exp" not in payload
    assert payload["back_transformed"]["estimate"] == natural["estimate"]


def test_summary_prints_the_pooled_proportion() -> None:
    frame, columns = table("pritz1997")
    result = srma.meta(frame, measure="PFT", method="REML", **columns)
    natural = result.back_transformed()
    assert natural is not None
    assert f"proportion = {natural['estimate']:.4f}" in result.summary()


def test_natural_scale_of_study_effects_inverts_each_transform() -> None:
    frame, columns = table("debruin2009")
    p = frame["xi"].to_numpy() / frame["ni"].to_numpy()
    for measure in ("PLO", "PLN", "PAS"):
        result = srma.meta(frame, measure=measure, method="DL", **columns)
        np.testing.assert_allclose(result.natural_scale(result.yi), p, rtol=1e-12)
    result = srma.meta(frame, measure="PR", method="DL", **columns)
    assert result.natural_scale(result.yi) is None and result.back_transformed() is None


def test_miller_inverse_undoes_the_double_arcsine_at_integer_counts() -> None:
    """Miller (1978): the inverse is exact at ``p = x / n`` when n is the study's own size."""
    n = np.array([5.0, 12.0, 40.0, 40.0, 40.0])
    x = np.array([2.0, 6.0, 1.0, 39.0, 20.0])
    t = proportions.freeman_tukey_proportion(x, n)[0]
    np.testing.assert_allclose(proportions.inverse_freeman_tukey(t, n), x / n, rtol=1e-10)
    assert proportions.inverse_freeman_tukey(t[0] * 0 + 5.0, 10.0) == 1.0
    assert proportions.inverse_freeman_tukey(-0.1, 10.0) == 0.0


@given(st.floats(-15, 15))
def test_expit_is_the_inverse_of_the_logit(y: float) -> None:
    p = float(proportions.expit(y))
    assert 0.0 < p < 1.0
    assert np.log(p / (1 - p)) == pytest.approx(y, abs=1e-8)
    assert p + float(proportions.expit(-y)) == pytest.approx(1.0, abs=1e-15)


def test_inverse_arcsine_is_clipped_to_zero_and_one() -> None:
    values = proportions.inverse_arcsine([-0.2, 0.0, np.pi / 4, 2.0])
    np.testing.assert_allclose(values, [0.0, 0.0, 0.5, 1.0], atol=1e-15)


def test_zero_events_are_corrected_for_plo_and_kept_for_pft() -> None:
    frame = pd.DataFrame({"events": [0, 4], "total": [10, 10]})
    plo = srma.effect_sizes(frame, "PLO")
    assert plo["yi"].iloc[0] == pytest.approx(np.log(0.5 / 10.5))
    pft = srma.effect_sizes(frame, "PFT")
    assert pft["yi"].iloc[0] == pytest.approx(0.5 * np.arcsin(np.sqrt(1 / 11)))


def test_log_proportion_without_correction_is_undefined_with_a_warning() -> None:
    frame = pd.DataFrame({"study": ["A", "B"], "events": [0, 4], "total": [10, 10]})
    with pytest.warns(srma.SrmaWarning, match=r"PLN is undefined .* A \(row 1\)"):
        out = srma.effect_sizes(frame, "PLN", to="none")
    assert np.isnan(out["yi"].iloc[0]) and np.isfinite(out["yi"].iloc[1])


@pytest.mark.parametrize(
    ("events", "total", "column", "message"),
    [
        (-1, 10, "events", "events must be >= 0"),
        (3, 0, "total", "group size must be at least 1"),
        (11, 10, "events", "must not exceed the group size in 'total'"),
        ("x", 10, "events", "expected a number"),
    ],
)
def test_bad_counts_name_row_and_column(
    events: object, total: object, column: str, message: str
) -> None:
    frame = pd.DataFrame({"events": [2, events], "total": [10, total]})
    with pytest.raises(InputError, match=message) as error:
        srma.effect_sizes(frame, "PR", source="props.csv")
    assert error.value.row == 2 and error.value.column == column
    assert error.value.file == "props.csv"


def test_columns_map_by_keyword_and_unknown_roles_are_refused() -> None:
    frame = pd.DataFrame({"x": [3, 4], "n": [10, 12]})
    out = srma.effect_sizes(frame, "PAS", events="x", total="n")
    np.testing.assert_allclose(out["yi"], np.arcsin(np.sqrt([0.3, 4 / 12])))
    with pytest.raises(InputError, match="has no column role"):
        srma.effect_sizes(frame, "PAS", events="x", total="n", time="n")


def test_cli_meta_prints_the_back_transformed_pooled_proportion(tmp_path) -> None:
    from typer.testing import CliRunner

    from srma.cli import app

    frame, _ = table("pritz1997")
    path = tmp_path / "pritz.csv"
    frame.rename(columns={"xi": "events", "ni": "total"}).to_csv(path, index=False)
    fit = next(f for f in POOLED if f["data"] == "pritz1997" and f["measure"] == "PFT")
    result = CliRunner().invoke(app, ["meta", str(path), "--measure", "PFT", "--method", "REML"])
    assert result.exit_code == 0, result.output
    assert f"proportion = {fit['back']['estimate']:.4f}" in result.output
    result = CliRunner().invoke(app, ["effects", str(path), "--measure", "PFT", "--json"])
    assert result.exit_code == 0, result.output
    expected = next(c for c in cases({"PFT"}) if c["data"] == "pritz1997")
    assert [row["yi"] for row in json.loads(result.stdout)] == pytest.approx(expected["yi"])
