"""`srma simulate`: the same numbers as the Python API, a recall plot, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from srma.cli import app
from srma.datasets.screening import load_screening, screening_texts
from srma.review.screen.simulation import simulate

runner = CliRunner()


@pytest.fixture(scope="module")
def labelled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    frame = load_screening("nagtegaal2019").head(300)
    path = tmp_path_factory.mktemp("sim") / "labelled.csv"
    frame[["title", "abstract", "label_included"]].to_csv(path, index=False)
    return path


def test_json_matches_the_python_api_and_the_plot_renders(labelled: Path, tmp_path: Path) -> None:
    plot = tmp_path / "recall.png"
    result = runner.invoke(
        app, ["simulate", str(labelled), "--model", "naive_bayes", "--seed", "3",
              "--batch-size", "5", "--plot", str(plot), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    frame = load_screening("nagtegaal2019").head(300)
    direct = simulate(screening_texts(frame), frame["label_included"].tolist(),
                      model="naive_bayes", seed=3, batch_size=5)  # fmt: skip
    assert row["wss95"] == pytest.approx(direct.wss95, rel=1e-12)
    assert row["rrf10"] == pytest.approx(direct.rrf10, rel=1e-12)
    assert row["recall_curve"] == direct.recall_curve.tolist()
    assert row["n_relevant"] == int(frame["label_included"].sum())
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bad_labels_name_the_row(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("title,label\nA trial,1\nA review,yes\n")
    result = runner.invoke(app, ["simulate", str(path), "--label", "label"])
    assert result.exit_code == 1
    assert "row 2, column 'label': label must be 0 or 1, got 'yes'" in result.output
    none = tmp_path / "none.csv"
    none.write_text("title,label\nA trial,0\nA review,0\n")
    result = runner.invoke(app, ["simulate", str(none), "--label", "label"])
    assert "no record is labelled 1" in result.output
    result = runner.invoke(app, ["simulate", "--dataset", "nope"])
    assert result.exit_code == 1 and "no screening data set 'nope'" in result.output
    result = runner.invoke(app, ["simulate"])
    assert "either a CSV file or --dataset" in result.output


@pytest.mark.parametrize(
    ("name", "n_records", "n_relevant"),
    [("bannach_brown2019", 1993, 280), ("kitchenham2010", 1704, 45)],
)
def test_the_other_shipped_sets_simulate(name: str, n_records: int, n_relevant: int) -> None:
    result = runner.invoke(
        app, ["simulate", "--dataset", name, "--model", "naive_bayes", "--batch-size", "100",
              "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    (row,) = json.loads(result.stdout)
    assert (row["n_records"], row["n_relevant"]) == (n_records, n_relevant)
    assert row["recall_curve"][-1] == n_relevant and len(row["recall_curve"]) == n_records
