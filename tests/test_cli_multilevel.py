"""``srma meta-mv``: the command prints meta_mv()'s summary or JSON; errors are one line."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import srma
from srma.cli import app

runner = CliRunner()
FIXTURES = Path(__file__).parent / "reference" / "fixtures"
CASES = {c["name"]: c for c in json.loads((FIXTURES / "multilevel.json").read_text())["cases"]}


@pytest.fixture()
def three_level_csv(tmp_path: Path) -> Path:
    path = tmp_path / "schools.csv"
    pd.DataFrame(CASES["konstantopoulos2011_REML"]["data"]).to_csv(path, index=False)
    return path


@pytest.fixture()
def bivariate(tmp_path: Path) -> tuple[Path, Path]:
    case = CASES["berkey1998_UN_REML"]
    data, covariance = tmp_path / "berkey.csv", tmp_path / "V.csv"
    pd.DataFrame(case["data"]).to_csv(data, index=False)
    np.savetxt(covariance, np.asarray(case["V"]), delimiter=",")  # no header
    return data, covariance


def test_json_equals_the_python_api(three_level_csv: Path) -> None:
    result = runner.invoke(
        app, ["meta-mv", str(three_level_csv), "--random", "~ 1 | district/school", "--json"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    expected = srma.meta_mv(
        pd.read_csv(three_level_csv), random="~ 1 | district/school", source=str(three_level_csv)
    ).to_dict()
    assert out == json.loads(json.dumps(expected))


def test_summary_is_printed(three_level_csv: Path) -> None:
    result = runner.invoke(
        app, ["meta-mv", str(three_level_csv), "--random", "~ 1 | district/school",
              "--method", "ML", "--test", "t"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "method: ML" in result.stdout
    assert "sigma2.2 (district/school)" in result.stdout


def test_v_file_and_struct(bivariate: tuple[Path, Path]) -> None:
    data, covariance = bivariate
    result = runner.invoke(
        app, ["meta-mv", str(data), "--V-file", str(covariance), "--random", "~ outcome | trial",
              "--struct", "UN", "--mods", "~ outcome - 1", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    expected = CASES["berkey1998_UN_REML"]["result"]
    np.testing.assert_allclose(
        [row["estimate"] for row in out["coefficients"]], expected["beta"], rtol=1e-6
    )
    assert out["struct"] == ["UN"]


def test_two_random_terms(three_level_csv: Path) -> None:
    result = runner.invoke(
        app, ["meta-mv", str(three_level_csv), "--random", "~ 1 | district",
              "--random", "~ 1 | school", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.stdout)["variance_components"]) == 2


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--random", "~ 1 | nowhere"], "grouping column 'nowhere' not found"),
        (["--random", "district"], "does not parse"),
        (["--random", "~ 1 | district", "--struct", "XYZ"], "--struct: "),
        (["--random", "~ 1 | district", "--method", "DL"], "--method: unknown method 'DL'"),
        (["--random", "~ 1 | district", "--vi", "vi", "--V-file", "V.csv"], "not both"),
    ],
)
def test_errors_are_one_line(three_level_csv: Path, arguments: list[str], message: str) -> None:
    result = runner.invoke(app, ["meta-mv", str(three_level_csv), *arguments])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0]


def test_a_v_file_of_the_wrong_size_is_refused(three_level_csv: Path, tmp_path: Path) -> None:
    covariance = tmp_path / "V.csv"
    np.savetxt(covariance, np.eye(3), delimiter=",")
    result = runner.invoke(
        app, ["meta-mv", str(three_level_csv), "--V-file", str(covariance),
              "--random", "~ 1 | district"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "it must be 56 x 56" in result.stderr


def test_a_v_file_with_a_header_and_a_bad_cell(three_level_csv: Path, tmp_path: Path) -> None:
    covariance = tmp_path / "V.csv"
    rows = ["a,b,c", "1,0,0", "0,x,0", "0,0,1"]
    covariance.write_text("\n".join(rows) + "\n")
    result = runner.invoke(
        app, ["meta-mv", str(three_level_csv), "--V-file", str(covariance),
              "--random", "~ 1 | district"],
    )  # fmt: skip
    assert result.exit_code == 1
    assert "line 3, column 2: expected a number, got 'x'" in result.stderr
