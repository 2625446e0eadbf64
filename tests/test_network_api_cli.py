"""``srma network``: JSON and summary from arm and contrast tables; errors in one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from network_cases import CASES
from srma.cli import app

runner = CliRunner()


@pytest.fixture
def dogliotti_csv(tmp_path: Path) -> Path:
    path = tmp_path / "dogliotti.csv"
    frame = pd.DataFrame(CASES["dogliotti2014"]["data"]).rename(
        columns={"events": "stroke", "treatment": "drug"}
    )
    frame.to_csv(path, index=False)
    return path


def test_arm_table_gives_the_rma_mv_estimates_as_json(dogliotti_csv: Path) -> None:
    case = CASES["dogliotti2014"]
    result = runner.invoke(
        app, ["network", str(dogliotti_csv), "--treatment", "drug", "--measure", "OR",
              "--col", "events=stroke", "--method", "REML", "--reference", case["reference"],
              "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["reference"] == case["reference"] and out["treatments"] == case["treatments"]
    estimates = [row["estimate"] for row in out["estimates"]]
    assert estimates == pytest.approx(case["models"]["REML"]["beta"], rel=1e-6)
    assert out["tau2"] == pytest.approx(case["models"]["REML"]["tau2"], rel=1e-6)
    assert out["q_df"] == case["models"]["REML"]["qe_df"]
    n = len(case["treatments"])
    assert len(out["league"]) == n * (n - 1)
    assert "WASPO" in result.stderr  # the warning about the left-out study goes to stderr


def test_contrast_table_and_summary(tmp_path: Path) -> None:
    path = tmp_path / "pairs.csv"
    pd.DataFrame({
        "study": ["a", "b", "c"], "t1": ["x", "y", "y"], "t2": ["z", "z", "x"],
        "d": [0.2, 0.5, 0.1], "se": [0.1, 0.2, 0.15],
    }).to_csv(path, index=False)  # fmt: skip
    result = runner.invoke(
        app, ["network", str(path), "--treatment", "t1", "--treatment2", "t2", "--yi", "d",
              "--sei", "se", "--method", "EE", "--reference", "z"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Against z:" in result.stdout and "3 treatments" in result.stdout


def test_bad_input_is_one_line_naming_the_file(tmp_path: Path, dogliotti_csv: Path) -> None:
    result = runner.invoke(
        app, ["network", str(dogliotti_csv), "--treatment", "drug", "--measure", "OR",
              "--col", "events=stroke", "--reference", "Warfarin"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and str(dogliotti_csv) in result.stderr
    assert "'Warfarin' is not in the data" in result.stderr
    result = runner.invoke(app, ["network", str(dogliotti_csv), "--method", "PM",
                                 "--measure", "OR"])  # fmt: skip
    assert result.exit_code == 1 and "--method" in result.stderr
    result = runner.invoke(app, ["network", str(dogliotti_csv)])
    assert result.exit_code == 1 and "give --measure" in result.stderr


def test_league_csv_and_rankogram(tmp_path: Path, dogliotti_csv: Path) -> None:
    """--league-csv writes the square league table (odds ratios, the row's against the
    column's) as the report shows it; --seed and --draws reach the SUCRA of --json."""
    case = CASES["dogliotti2014"]
    league, picture = tmp_path / "league.csv", tmp_path / "ranks.png"
    args = [
        "network", str(dogliotti_csv), "--treatment", "drug", "--measure", "OR",
        "--col", "events=stroke", "--method", "REML", "--reference", case["reference"],
    ]  # fmt: skip
    result = runner.invoke(
        app, [*args, "--json", "--seed", "7", "--draws", "500",
              "--league-csv", str(league), "--rankogram", str(picture)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["seed"] == 7 and out["draws"] == 500
    table = pd.read_csv(league, index_col=0, keep_default_na=False)
    assert list(table.index) == list(table.columns) == case["treatments"]
    first, second = case["treatments"][1], case["reference"]
    [pair] = [r for r in out["league"] if r["treatment"] == first and r["vs"] == second]
    odds = [float(np.exp(pair[c])) for c in ("estimate", "ci_lower", "ci_upper")]
    assert table.loc[first, second] == f"{odds[0]:.2f} [{odds[1]:.2f}, {odds[2]:.2f}]"
    assert table.loc[first, first] == first
    assert picture.stat().st_size > 0
    again = runner.invoke(app, [*args, "--json", "--seed", "7", "--draws", "500"])
    assert json.loads(again.stdout)["sucra"] == out["sucra"]
    bad = runner.invoke(app, [*args, "--draws", "0"])
    assert bad.exit_code != 0 and "--draws" in bad.output
    wrong = runner.invoke(app, [*args, "--league-csv", str(tmp_path / "league.txt")])
    assert wrong.exit_code != 0 and ".csv" in wrong.output
