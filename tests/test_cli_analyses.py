"""CLI subcommands beyond pooling: subgroup, metareg, sensitivity, bias, policy."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from srma import meta, meta_regression, small_study_tests, subgroup_analysis
from srma.analysis.sensitivity import cumulative, leave_one_out
from srma.cli import app
from srma.datasets import load

runner = CliRunner()


@pytest.fixture()
def bcg_csv(tmp_path: Path) -> Path:
    path = tmp_path / "bcg.csv"
    load("bcg").to_csv(path, index=False)
    return path


@pytest.fixture()
def effects_csv(tmp_path: Path) -> Path:
    result = meta(load("bcg"), measure="RR", method="DL")
    path = tmp_path / "effects.csv"
    pd.DataFrame({"study": result.labels, "logrr": result.yi, "var": result.vi}).to_csv(
        path, index=False
    )
    return path


def _json(args: list[str]) -> dict:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_bias_json_contract(effects_csv: Path) -> None:
    payload = _json(
        ["bias", str(effects_csv), "--yi", "logrr", "--vi", "var", "--method", "DL", "--json"]
    )
    assert {"statistic", "df", "pvalue", "intercept"} <= set(payload["egger"])
    assert payload["egger_mixed"] is not None
    assert {"tau", "pvalue"} <= set(payload["begg"])
    assert {"k0", "side", "estimate", "ci_lower", "ci_upper"} <= set(payload["trimfill"])
    assert payload["failsafe"]["rosenthal"]["n"] >= 0
    expected = small_study_tests(meta(load("bcg"), measure="RR", method="DL"))
    assert payload["egger"]["pvalue"] == pytest.approx(expected.egger.pvalue, rel=1e-12)


def test_bias_with_counts_adds_peters_and_harbord(bcg_csv: Path) -> None:
    payload = _json(["bias", str(bcg_csv), "--measure", "OR", "--method", "DL", "--json"])
    assert payload["peters"] is not None and payload["harbord"] is not None


def test_sensitivity_json(bcg_csv: Path) -> None:
    payload = _json(["sensitivity", str(bcg_csv), "--measure", "RR", "--order", "year", "--json"])
    first = payload["leave_one_out"][0]
    assert {"omitted", "estimate", "ci_lower", "ci_upper", "tau2", "i2"} <= set(first)
    expected = leave_one_out(meta(load("bcg"), measure="RR")).to_records()[0]
    assert first["estimate"] == pytest.approx(expected["estimate"], rel=1e-12)
    assert len(payload["influence"]) == 13 and len(payload["cumulative"]) == 13
    assert payload["cumulative"][0]["added"] == "Aronson, 1948"


def test_sensitivity_json_always_has_the_cumulative_analysis(bcg_csv: Path) -> None:
    in_data_order = _json(["sensitivity", str(bcg_csv), "--measure", "RR", "--json"])
    expected = cumulative(meta(load("bcg"), measure="RR")).to_records()
    assert [row["added"] for row in in_data_order["cumulative"]] == [
        row["added"] for row in expected
    ]
    assert in_data_order["cumulative"][-1]["estimate"] == pytest.approx(
        in_data_order["result"]["estimate"], rel=1e-12
    )
    by_year = _json(["sensitivity", str(bcg_csv), "--measure", "RR", "--order-by", "year",
                     "--json"])  # fmt: skip
    years = load("bcg")["year"].tolist()
    labels = meta(load("bcg"), measure="RR").labels
    first_year = min(years)
    assert by_year["cumulative"][0]["added"] == labels[years.index(first_year)]
    by_allocation = _json(["sensitivity", str(bcg_csv), "--measure", "RR", "--order-by", "alloc",
                           "--json"])  # fmt: skip
    allocation = load("bcg")["alloc"].tolist()
    assert by_allocation["cumulative"][0]["added"] == labels[allocation.index(min(allocation))]


def test_subgroup_metareg_policy(bcg_csv: Path) -> None:
    payload = _json(["subgroup", str(bcg_csv), "--measure", "RR", "--by", "alloc", "--json"])
    expected = subgroup_analysis(load("bcg"), "alloc", measure="RR")
    assert payload["q_between"] == pytest.approx(expected.q_between, rel=1e-12)
    payload = _json(["metareg", str(bcg_csv), "--measure", "RR", "--mods", "~ ablat", "--json"])
    expected_fit = meta_regression(load("bcg"), "~ ablat", measure="RR")
    assert payload["coefficients"][1]["estimate"] == pytest.approx(expected_fit.estimate[1])
    payload = _json(["policy", str(bcg_csv), "--policy", "huang2024", "--json"])
    assert payload["result"]["method"] == "DL" and payload["decisions"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["subgroup", "--measure", "RR", "--by", "nothing"], "'nothing' not found"),
        (["metareg", "--measure", "RR", "--mods", "~ ablat*year"], "main effects"),
        (["policy", "--policy", "nope"], "unknown analysis policy"),
        (["sensitivity", "--measure", "RR", "--order-by", "nothing"], "'nothing' not found"),
    ],
)
def test_bad_options_fail_in_one_line(bcg_csv: Path, args: list[str], message: str) -> None:
    result = runner.invoke(app, [args[0], str(bcg_csv), *args[1:]])
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and message in errors[0], result.stderr
