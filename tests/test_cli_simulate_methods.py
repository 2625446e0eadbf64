"""``srma simulate-methods``: a study run from its file, resumed, summarised and drawn."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from srma.cli import app
from srma.scale import load_study
from srma.scale.plots import nested_loop_plot

runner = CliRunner()

STUDY = """
[study]
name = "cli"
seed = 11
repetitions = 300
block = 100

[scenarios]
k = [4, 8]
tau2 = [0.0, 0.1]
effect = [0.0]
within = ["chi"]

[within.chi]
distribution = "chisq"
df = 1
scale = 0.25
shift = 0.01

[methods]
tau2 = ["EE", "DL", "REML"]
test = ["z", "knha"]
"""


def test_simulate_methods_runs_resumes_and_summarises(tmp_path: Path) -> None:
    study_file = tmp_path / "study.toml"
    study_file.write_text(STUDY, encoding="utf-8")
    out = tmp_path / "results"
    result = runner.invoke(app, ["simulate-methods", str(study_file), "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["computed_blocks"], report["skipped_blocks"]) == (12, 0)
    measures = {(r["method"], r["measure"]) for r in report["performance"]}
    assert ("REML knha", "coverage") in measures and ("DL z", "type_i_error") in measures
    table = pd.read_csv(out / "performance.csv")
    assert set(table["scenario"]) == {0, 1, 2, 3}
    assert (out / "plots" / "nested_loop_coverage.png").stat().st_size > 0
    assert (out / "plots" / "scenarios_bias_tau2.png").stat().st_size > 0

    again = runner.invoke(app, ["simulate-methods", str(study_file), "-o", str(out), "--json"])
    assert json.loads(again.stdout)["computed_blocks"] == 0
    assert pd.read_csv(out / "performance.csv").equals(table)

    people = runner.invoke(app, ["simulate-methods", str(study_file), "-o", str(out),
                                 "--no-plots"])  # fmt: skip
    assert people.exit_code == 0 and "REML knha" in people.stdout


def test_nested_loop_plot_draws_a_step_line_per_method_and_a_leg_per_factor(
    tmp_path: Path,
) -> None:
    study_file = tmp_path / "study.toml"
    study_file.write_text(STUDY, encoding="utf-8")
    runner.invoke(app, ["simulate-methods", str(study_file), "-o", str(tmp_path / "r"),
                        "--no-plots"])  # fmt: skip
    study = load_study(study_file)
    table = pd.read_csv(tmp_path / "r" / "performance.csv")
    figure = nested_loop_plot(table, study, "bias", "tau2")
    axes = figure.axes[0]
    # DL and REML under two tests each (EE has no tau²); k and tau2 vary
    assert len(axes.patches) == 4 + 2
    assert [t.get_text() for t in axes.texts] == ["k: 4, 8", "tau2: 0.0, 0.1"]


def test_a_bad_study_is_one_error_line_naming_the_file(tmp_path: Path) -> None:
    study_file = tmp_path / "bad.toml"
    study_file.write_text(STUDY.replace("k = [4, 8]", "k = [4, 'eight']"), encoding="utf-8")
    result = runner.invoke(app, ["simulate-methods", str(study_file), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert f"file {study_file}" in result.output and "[scenarios] k: must be an integer" in (
        result.output
    )


def test_dask_scheduler_without_dask_is_a_clear_error(tmp_path: Path, monkeypatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_distributed(name, *args, **kwargs):
        if name == "distributed" or name.startswith("distributed."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_distributed)
    study_file = tmp_path / "study.toml"
    study_file.write_text(STUDY, encoding="utf-8")
    result = runner.invoke(app, ["simulate-methods", str(study_file), "-o", str(tmp_path / "o"),
                                 "--scheduler", "local"])  # fmt: skip
    assert result.exit_code == 1 and "pip install 'srma[distributed]'" in result.output
