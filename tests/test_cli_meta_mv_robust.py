"""``srma meta-mv --robust COLUMN``: the model and its cluster-robust tests, in text and JSON,
with the clusters lined up with the rows kept in the model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

import srma
from conftest import load_fixture
from srma.cli import app

CASE = next(c for c in load_fixture("robust.json")["cases"] if c["kind"] == "rma.mv")


def _table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "yi": CASE["yi"],
            "vi": CASE["vi"],
            "district": CASE["district"],
            "school": np.arange(len(CASE["yi"])),
        }
    )


def test_robust_json_holds_the_model_and_clubsandwich_cr2(tmp_path: Path) -> None:
    path = tmp_path / "schools.csv"
    _table().to_csv(path, index=False)
    args = ["meta-mv", str(path), "--random", "~ 1 | district/school", "--robust", "district"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    cr2 = next(s for s in CASE["sandwiches"] if s["type"] == "CR2")
    robust = out["robust"]
    assert robust["adjust"] == "CR2" and robust["n_clusters"] == 11
    np.testing.assert_allclose([r["se"] for r in robust["coefficients"]], cr2["se"], rtol=1e-6)
    np.testing.assert_allclose([r["df"] for r in robust["coefficients"]], cr2["df"], rtol=1e-6)
    assert out["model"]["k"] == len(CASE["yi"])
    text = CliRunner().invoke(app, [*args, "--adjust", "CR0"])
    assert text.exit_code == 0 and "Cluster-robust inference (CR0" in text.output


def test_rows_left_out_of_the_model_are_left_out_of_the_clusters(tmp_path: Path) -> None:
    table = _table()
    table.loc[3, "yi"] = np.nan
    path = tmp_path / "schools.csv"
    table.to_csv(path, index=False)
    args = ["meta-mv", str(path), "--random", "~ 1 | district/school", "--robust", "district"]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    kept = table.drop(index=3).reset_index(drop=True)
    fit = srma.meta_mv(kept, random="~ 1 | district/school")
    expected = srma.robust(fit, kept["district"].tolist())
    got = json.loads(result.stdout)["robust"]["coefficients"][0]
    assert got["se"] == expected.coefficients[0].se


def test_robust_names_a_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "schools.csv"
    _table().to_csv(path, index=False)
    args = ["meta-mv", str(path), "--random", "~ 1 | district/school", "--robust", "county"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0 and "county" in result.output
