"""The srma command: JSON contracts, human output and one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from srma import meta
from srma.cli import app
from srma.datasets import load

runner = CliRunner()
PUBLIC_FIELDS = (
    "k",
    "estimate",
    "se",
    "statistic",
    "pvalue",
    "ci_lower",
    "ci_upper",
    "pi_lower",
    "pi_upper",
    "tau2",
    "tau2_ci_lower",
    "tau2_ci_upper",
    "i2",
    "h2",
    "q",
    "q_df",
    "q_pvalue",
    "weights",
)


@pytest.fixture()
def normand_csv(tmp_path: Path) -> Path:
    path = tmp_path / "normand.csv"
    load("normand1999").to_csv(path, index=False)
    return path


@pytest.fixture()
def bcg_csv(tmp_path: Path) -> Path:
    path = tmp_path / "bcg.csv"
    load("bcg").to_csv(path, index=False)
    return path


def test_meta_json_has_the_public_fields_and_equals_the_api(normand_csv: Path) -> None:
    result = runner.invoke(
        app,
        [
            "meta",
            str(normand_csv),
            "--measure",
            "SMD",
            "--method",
            "REML",
            "--test",
            "knha",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(PUBLIC_FIELDS) <= set(payload)
    expected = meta(load("normand1999"), measure="SMD", method="REML", test="knha")
    assert payload["estimate"] == pytest.approx(expected.estimate, rel=1e-12)
    assert payload["tau2_ci_upper"] == pytest.approx(expected.tau2_ci_upper, rel=1e-12)
    assert "exp" not in payload


def test_ratio_measures_have_exp_and_undefined_values_are_null(bcg_csv: Path) -> None:
    result = runner.invoke(
        app, ["meta", str(bcg_csv), "--measure", "RR", "--method", "MH", "--json"]
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["tau2"] is None and payload["pi_lower"] is None
    assert payload["exp"]["estimate"] == pytest.approx(np.exp(payload["estimate"]))
    assert "NaN" not in result.stdout


def test_yi_vi_columns_and_column_mapping(tmp_path: Path) -> None:
    path = tmp_path / "effects.csv"
    pd.DataFrame(
        {"trial": ["a", "b", "c"], "logrr": [0.1, 0.3, -0.2], "var": [0.04, 0.02, 0.05]}
    ).to_csv(path, index=False)
    result = runner.invoke(
        app,
        [
            "meta",
            str(path),
            "--yi",
            "logrr",
            "--vi",
            "var",
            "--method",
            "DL",
            "--label",
            "trial",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    expected = meta([0.1, 0.3, -0.2], [0.04, 0.02, 0.05], method="DL")
    assert payload["estimate"] == pytest.approx(expected.estimate)
    assert payload["labels"] == ["a", "b", "c"]


def test_effects_json_and_csv(normand_csv: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["effects", str(normand_csv), "--measure", "MD", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert len(rows) == 9 and {"yi", "vi"} <= set(rows[0])
    assert rows[0]["yi"] == pytest.approx(55 - 75)
    out = tmp_path / "out.csv"
    result = runner.invoke(app, ["effects", str(normand_csv), "--measure", "SMD", "-o", str(out)])
    assert result.exit_code == 0 and "yi" in pd.read_csv(out)


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (
            "study,mean1,sd1,n1,mean2,sd2,n2\nA,1,2,10,0,2,10\nB,2,-1,10,0,2,10\n",
            ["--measure", "SMD"],
            "row 2, column 'sd1': standard deviation must be > 0",
        ),
        (
            "study,mean1,sd1,n1,mean2,sd2,n2\nA,1,x,10,0,2,10\n",
            ["--measure", "MD"],
            "row 1, column 'sd1': expected a number",
        ),
        ("", ["--measure", "MD"], "the file is empty"),
        ("yi,vi\n0.1,0.1\n", ["--yi", "yi", "--vi", "vi", "--method", "XX"], "unknown method"),
        ("yi,vi\n0.1,0.1\n", ["--yi", "yi"], "--yi needs --vi or --sei"),
        ("yi,vi\n0.1,-0.1\n", ["--yi", "yi", "--vi", "vi"], "sampling variance must be > 0"),
        ("yi,vi\n,\n", ["--yi", "yi", "--vi", "vi"], "no study has both"),
    ],
)
def test_bad_input_gives_one_line_and_exit_1(tmp_path: Path, content, args, message) -> None:
    path = tmp_path / "data.csv"
    path.write_text(content)
    result = runner.invoke(app, ["meta", str(path), *args])
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0], result.stderr
    assert "Traceback" not in result.output


def test_warnings_go_to_stderr_not_into_json(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    pd.DataFrame({"yi": [0.1, None, 0.3], "vi": [0.1, 0.1, 0.2]}).to_csv(path, index=False)
    result = runner.invoke(app, ["meta", str(path), "--yi", "yi", "--vi", "vi", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["k"] == 2
    assert "warning: omitted 1 studies" in result.stderr


def test_installed_console_script_runs_the_demo(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("srma")
    completed = subprocess.run(
        [str(script), "demo", "--quick", "--out", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert "Output written to" in completed.stdout
    payload = json.loads((tmp_path / "demo" / "normand1999_length_of_stay.json").read_text())
    expected = meta(load("normand1999"), measure="MD", method="REML", test="knha")
    assert payload["result"]["estimate"] == pytest.approx(expected.estimate)
    assert (tmp_path / "demo" / "normand1999_length_of_stay_forest.png").stat().st_size > 10_000


def test_console_script_meta_json_equals_the_api(bcg_csv: Path) -> None:
    script = Path(sys.executable).with_name("srma")
    completed = subprocess.run(
        [str(script), "meta", str(bcg_csv), "--measure", "OR", "--method", "DL", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    payload = json.loads(completed.stdout)
    expected = meta(load("bcg"), measure="OR", method="DL").to_dict()
    assert set(payload) == set(expected)
    for name in PUBLIC_FIELDS:
        if name == "weights":
            assert payload[name] == pytest.approx(list(expected[name]), rel=1e-12)
        else:
            assert payload[name] == pytest.approx(expected[name], rel=1e-12), name
    assert payload["exp"]["ci_upper"] == pytest.approx(expected["exp"]["ci_upper"])
    assert payload["labels"][0] == "Aronson, 1948"


def test_meta_without_json_prints_the_summary(normand_csv: Path) -> None:
    result = runner.invoke(app, ["meta", str(normand_csv), "--measure", "MD", "--test", "knha"])
    assert result.exit_code == 0, result.output
    expected = meta(load("normand1999"), measure="MD", test="knha")
    assert result.stdout.strip() == expected.summary().strip()


def test_effects_json_writes_missing_values_as_null(tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("study,mean1,sd1,n1,mean2,sd2,n2\nA,1,2,10,0,2,10\nB,2,,10,0,2,10\n")
    result = runner.invoke(app, ["effects", str(path), "--measure", "MD", "--json"])
    assert result.exit_code == 0, result.output
    assert "NaN" not in result.stdout
    rows = json.loads(result.stdout)
    assert rows[0]["yi"] == pytest.approx(1.0) and rows[0]["vi"] == pytest.approx(0.8)
    assert rows[1]["sd1"] is None and rows[1]["yi"] is None and rows[1]["vi"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["meta", "{dir}", "--measure", "MD"], "not a file"),
        (["meta", "{dir}/missing.csv", "--measure", "MD"], "no such file"),
        (["effects", "{data}", "--measure", "MD", "-o", "{dir}/no/such/out.csv"], "directory"),
        (["effects", "{data}", "--measure", "XYZ"], "unknown measure 'XYZ'"),
        (["meta", "{data}", "--measure", "MD", "--test", "w"], "unknown test 'w'"),
        (["meta", "{data}", "--measure", "MD", "--col", "sd1"], "--col expects ROLE=COLUMN"),
        (["meta", "{data}", "--measure", "RR"], "column 'events1'"),
    ],
)
def test_more_bad_input_gives_one_line(tmp_path: Path, args, message) -> None:
    data = tmp_path / "data.csv"
    data.write_text("study,mean1,sd1,n1,mean2,sd2,n2\nA,1,2,10,0,2,10\nB,2,1,10,0,2,10\n")
    argv = [a.format(dir=tmp_path, data=data) for a in args]
    result = runner.invoke(app, argv)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]
    assert result.stdout == ""


def test_usage_errors_exit_2(normand_csv: Path) -> None:
    result = runner.invoke(app, ["meta", str(normand_csv), "--level", "abc"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_an_unexpected_failure_is_one_line_too(normand_csv: Path, monkeypatch) -> None:
    import srma.analysis.meta as module

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(module, "meta", broken)
    monkeypatch.delenv("SRMA_TRACEBACK", raising=False)
    result = runner.invoke(app, ["meta", str(normand_csv), "--measure", "MD"])
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "unexpected RuntimeError: boom" in lines[0]


def test_demo_writes_the_summary_and_says_where(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--quick", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert str(out.resolve()) in result.stdout
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "normand1999_length_of_stay.json",
        "normand1999_length_of_stay.md",
        "normand1999_length_of_stay_forest.png",
        "normand1999_length_of_stay_forest.svg",
    ]
    document = json.loads((out / "normand1999_length_of_stay.json").read_text())
    assert document["result"]["method"] == "REML" and document["result"]["test"] == "knha"
    assert document["provenance"]["dataset_citation"].startswith("Normand SLT (1999)")
