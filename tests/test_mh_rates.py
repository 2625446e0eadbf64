"""Mantel-Haenszel pooling of incidence rates (IRR, IRD) against metafor's rma.mh."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import srma
from counts_more_fixture import numbers, reference, table
from srma.analysis.sensitivity import leave_one_out
from srma.cli import app
from srma.errors import InputError
from srma.stats.mantel_haenszel import mantel_haenszel_rates

FITS = reference()["mh"]
FIELDS = ("estimate", "se", "statistic", "pvalue", "ci_lower", "ci_upper", "q", "q_pvalue", "i2",
          "h2")  # fmt: skip


def _id(fit: dict) -> str:
    settings = ",".join(f"{key}={value}" for key, value in fit["settings"].items())
    return f"{fit['data']}-{fit['measure']}" + (f"-{settings}" if settings else "")


def _approx(value: float | None, expected: float | None) -> None:
    if expected is None:
        assert value is None or np.isnan(value)
    else:
        assert value == pytest.approx(expected, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("fit", FITS, ids=_id)
def test_stats_layer_equals_rma_mh(fit: dict) -> None:
    frame, _ = table(fit["data"])
    x1, t1, x2, t2 = (frame[name].to_numpy()[None, :] for name in ("x1i", "t1i", "x2i", "t2i"))
    arrays = mantel_haenszel_rates(
        x1, t1, x2, t2, np.ones(x1.shape, dtype=bool), fit["measure"], **fit["settings"]
    )
    for name in (*FIELDS, "mh_statistic", "mh_pvalue"):
        _approx(float(getattr(arrays, name)[0]), fit[name])
    assert int(arrays.k[0]) == fit["k"] and int(arrays.k_yi[0]) == fit["k_yi"]
    np.testing.assert_allclose(arrays.weights[0], fit["weights"], rtol=1e-9)
    np.testing.assert_allclose(arrays.yi[0], numbers(fit["yi"]), rtol=1e-10)
    np.testing.assert_allclose(arrays.vi[0], numbers(fit["vi"]), rtol=1e-10)


def test_a_batch_of_two_analyses_equals_each_alone() -> None:
    frame, _ = table("nielweise2008")
    cells = [frame[name].to_numpy() for name in ("x1i", "t1i", "x2i", "t2i")]
    mask = np.ones((2, cells[0].size), dtype=bool)
    mask[1, :3] = False
    batch = mantel_haenszel_rates(*(np.tile(c, (2, 1)) for c in cells), mask, "IRR")
    alone = mantel_haenszel_rates(*(c[None, 3:] for c in cells), mask[:1, 3:], "IRR")
    assert batch.estimate[1] == pytest.approx(alone.estimate[0], rel=1e-14)
    assert batch.se[1] == pytest.approx(alone.se[0], rel=1e-14)
    assert batch.q[1] == pytest.approx(alone.q[0], rel=1e-12)


@pytest.mark.parametrize("fit", [fit for fit in FITS if "correct" not in fit["settings"]], ids=_id)
def test_meta_with_method_mh_equals_rma_mh(fit: dict) -> None:
    frame, columns = table(fit["data"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = srma.meta(frame, measure=fit["measure"], method="MH", **fit["settings"], **columns)
    for name in FIELDS:
        _approx(getattr(result, name), fit[name])
    assert result.k == fit["k"]
    np.testing.assert_allclose(result.weights, fit["weights"], rtol=1e-9)
    if fit["measure"] == "IRR":
        _approx(result.extra["mh_statistic"], fit["mh_statistic"])
        _approx(result.extra["mh_pvalue"], fit["mh_pvalue"])
        assert result.back_transformed()["estimate"] == pytest.approx(np.exp(fit["estimate"]))
        assert "Mantel-Haenszel test: MH = " in result.summary()
    else:
        assert result.extra == {} and result.back_transformed() is None


def test_leave_one_out_refits_the_rates_as_metafor() -> None:
    expected = reference()["leave_one_out"]
    frame, columns = table(expected["data"])
    result = srma.meta(frame, measure="IRR", method="MH", **columns)
    rows = leave_one_out(result).to_frame()
    np.testing.assert_allclose(rows["estimate"], expected["estimate"], rtol=1e-6)
    np.testing.assert_allclose(rows["se"], expected["se"], rtol=1e-6)
    np.testing.assert_allclose(rows["q"], expected["q"], rtol=1e-6)


def test_double_zero_study_is_pooled_with_weight_zero_and_named() -> None:
    frame, columns = table("rate_edge")
    with pytest.warns(srma.SrmaWarning, match="pooled but left out of Q: Rate 3"):
        result = srma.meta(frame, measure="IRR", method="MH", label="study", **columns)
    assert result.k == 5 and result.weights[2] == 0.0


def test_rate_measures_need_person_time_columns() -> None:
    frame = pd.DataFrame({"events1": [3], "total1": [10], "events2": [4], "total2": [10]})
    with pytest.raises(InputError, match="'time1', 'time2' not found"):
        srma.meta(frame, measure="IRR", method="MH")
    with pytest.raises(InputError, match="needs measure OR, RR or RD"):
        srma.meta(frame, measure="IRR", method="PETO")


def test_bad_person_time_names_the_row_with_method_mh() -> None:
    frame, columns = table("hart1999")
    frame.loc[3, "t2i"] = 0.0
    with pytest.raises(InputError, match="person-time must be > 0") as error:
        srma.meta(frame, measure="IRD", method="MH", source="hart.csv", **columns)
    assert (error.value.row, error.value.column) == (4, "t2i")


def test_cli_meta_pools_rates_by_mantel_haenszel(tmp_path) -> None:
    frame, _ = table("hart1999")
    path = tmp_path / "hart.csv"
    frame.rename(
        columns={"x1i": "events1", "t1i": "time1", "x2i": "events2", "t2i": "time2"}
    ).to_csv(path, index=False)
    result = CliRunner().invoke(
        app, ["meta", str(path), "--measure", "IRR", "--method", "MH", "--json"]
    )
    assert result.exit_code == 0, result.output
    fit = next(f for f in FITS if f["data"] == "hart1999" and f["measure"] == "IRR")
    payload = json.loads(result.stdout)
    assert payload["estimate"] == pytest.approx(fit["estimate"], rel=1e-6)
    assert payload["extra"]["mh_statistic"] == pytest.approx(fit["mh_statistic"], rel=1e-6)


def test_subgroups_pool_each_group_by_mantel_haenszel_rates() -> None:
    frame, columns = table("hart1999")
    frame["group"] = ["a", "a", "b", "b", "a", "b"]
    split = srma.subgroup_analysis(frame, "group", measure="IRD", method="MH", **columns)
    for name, subgroup in zip(split.groups, split.subgroups, strict=True):
        alone = srma.meta(frame[frame["group"] == name], measure="IRD", method="MH", **columns)
        assert subgroup.estimate == pytest.approx(alone.estimate, rel=1e-12)
        assert subgroup.se == pytest.approx(alone.se, rel=1e-12)
        assert subgroup.q == pytest.approx(alone.q, rel=1e-10)
