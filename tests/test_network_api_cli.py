"""``srma network``: JSON and summary from arm and contrast tables; errors in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from srma.cli import app

FIXTURES = Path(__file__).parent / "reference" / "fixtures"
CASES = {c["name"]: c for c in json.loads((FIXTURES / "network.json").read_text())["cases"]}
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
