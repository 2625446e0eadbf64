"""``srma sof``: JSON keys as issue 12 lists them, files written, and bad input in one line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from srma import meta
from srma.cli import app
from srma.datasets import load

runner = CliRunner()
DOMAINS = {"risk_of_bias", "inconsistency", "indirectness", "imprecision", "publication_bias"}
DOMAIN_KEYS = {"rating", "proposed", "reason", "overridden_by"}
ABSOLUTE_KEYS = {
    "assumed_risk",
    "risk_with_intervention",
    "difference_per_1000",
    "difference_ci_lower",
    "difference_ci_upper",
}


@pytest.fixture()
def bcg_csv(tmp_path: Path) -> Path:
    table = load("bcg")
    table["rob"] = ["high" if i % 3 == 0 else "low" for i in range(len(table))]
    path = tmp_path / "bcg.csv"
    table.to_csv(path, index=False)
    return path


def _json(args: list[str]) -> dict:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_binary_json_keys(bcg_csv: Path) -> None:
    out = _json(
        [
            "sof",
            str(bcg_csv),
            "--measure",
            "RR",
            "--rob",
            "rob",
            "--json",
            "--direction",
            "lower is better",
        ]
    )
    grade = out["grade"]
    assert grade["certainty"] in {"high", "moderate", "low", "very low"}
    assert set(grade["domains"]) == DOMAINS
    for domain in grade["domains"].values():
        assert set(domain) >= DOMAIN_KEYS
    assert set(grade["absolute"]) >= ABSOLUTE_KEYS
    # the same numbers as the API: the median comparator risk and ACR x RR
    table = load("bcg")
    median = float((table["events2"] / table["total2"]).median())
    estimate = meta(table, measure="RR").estimate
    assert grade["absolute"]["assumed_risk"] == pytest.approx(median, rel=1e-12)
    assert grade["absolute"]["risk_with_intervention"] == pytest.approx(
        median * math.exp(estimate), rel=1e-9
    )
    rob = grade["domains"]["risk_of_bias"]
    assert rob["values"]["studies_high"] == 5 and "without them (k = 8)" in rob["reason"]
    assert grade["participants"] == int((table["total1"] + table["total2"]).sum())


def test_assumed_risk_and_method(bcg_csv: Path) -> None:
    out = _json(
        [
            "sof",
            str(bcg_csv),
            "--measure",
            "OR",
            "--method",
            "MH",
            "--assumed-risk",
            "0.3",
            "--json",
        ]
    )
    absolute = out["grade"]["absolute"]
    assert absolute["assumed_risk"] == 0.3
    assert "protocol" in absolute["assumed_risk_source"]


def test_generic_effects_and_continuous(tmp_path: Path) -> None:
    result = meta(load("bcg"), measure="RR")
    path = tmp_path / "hr.csv"
    pd.DataFrame({"study": result.labels, "loghr": result.yi, "v": result.vi}).to_csv(
        path, index=False
    )
    out = _json(
        [
            "sof",
            str(path),
            "--measure",
            "HR",
            "--yi",
            "loghr",
            "--vi",
            "v",
            "--assumed-risk",
            "0.2",
            "--json",
        ]
    )
    assert out["grade"]["absolute"]["risk_with_intervention"] == pytest.approx(
        1 - 0.8 ** math.exp(result.estimate), rel=1e-9
    )
    normand = tmp_path / "normand.csv"
    load("normand1999").to_csv(normand, index=False)
    smd = _json(["sof", str(normand), "--measure", "SMD", "--json"])
    assert "absolute" not in smd["grade"] and "rule of thumb" in smd["grade"]["interpretation"]


def test_override_from_the_command_line(bcg_csv: Path) -> None:
    out = _json(
        [
            "sof",
            str(bcg_csv),
            "--measure",
            "RR",
            "--json",
            "--reviewer",
            "AB",
            "--override",
            "indirectness=-1:vaccine strains differ",
        ]
    )
    indirectness = out["grade"]["domains"]["indirectness"]
    assert indirectness["rating"] == -1 and indirectness["overridden_by"] == "AB"
    assert indirectness["override_reason"] == "vaccine strains differ"


def test_writes_every_format(bcg_csv: Path, tmp_path: Path) -> None:
    files = [tmp_path / name for name in ("t.html", "t.docx", "t.csv")]
    args = ["sof", str(bcg_csv), "--measure", "RR", "--profile", str(tmp_path / "p.csv")]
    for path in files:
        args += ["-o", str(path)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert all(path.exists() for path in [*files, tmp_path / "p.csv"])
    assert "Risk with intervention" in pd.read_csv(files[2]).columns


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--measure", "XYZ"], "unknown measure 'XYZ'"),
        (["--measure", "RR", "--assumed-risk", "1.5"], "strictly between 0 and 1"),
        (["--measure", "RR", "--assumed-risk", "0"], "strictly between 0 and 1"),
        (["--measure", "HR"], "needs --yi and --vi"),
        (["--yi", "nope", "--vi", "v"], "column 'nope' not found"),
        (["--measure", "RR", "--rob", "missing"], "risk-of-bias column 'missing' not found"),
        (["--measure", "RR", "--design", "cohort"], "design must be one of"),
        (["--measure", "RR", "--mid", "1"], "minimal important difference"),
        (["--measure", "RR", "--override", "imprecision=-1:x"], "needs --reviewer"),
        (["--measure", "RR", "--override", "imprecision"], "DOMAIN=RATING:REASON"),
        (["--measure", "RR", "-o", "x.pdf"], ".html, .docx or .csv"),
    ],
)
def test_bad_input_is_one_line(bcg_csv: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, ["sof", str(bcg_csv), *args])
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_bad_risk_of_bias_value_names_row_and_column(bcg_csv: Path) -> None:
    table = pd.read_csv(bcg_csv)
    table.loc[2, "rob"] = "moderate"
    table.to_csv(bcg_csv, index=False)
    result = runner.invoke(app, ["sof", str(bcg_csv), "--measure", "RR", "--rob", "rob"])
    assert result.exit_code == 1
    assert "row 3, column 'rob'" in result.stderr and "'moderate'" in result.stderr
