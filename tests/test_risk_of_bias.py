"""Risk-of-bias tables and figures, on robvis's example data and the seed's judgements."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from matplotlib.colors import to_hex
from typer.testing import CliRunner

from conftest import SHARED
from srma import InputError
from srma.cli import app
from srma.figures.axes import save_figure
from srma.figures.rob import PALETTES, summary_plot, traffic_light
from srma.review.appraise.risk_of_bias import read_rob

ROBVIS = SHARED / "fixtures" / "robvis"
HUANG = SHARED / "reference" / "huang2024_rob.csv"

FIXTURES = [
    ("rob1", "data_rob1.csv"),
    ("rob2", "data_rob2.csv"),
    ("robins-i", "data_robins_i.csv"),
    ("quadas2", "data_quadas.csv"),
]


@pytest.mark.parametrize(("tool", "name"), FIXTURES)
def test_robvis_examples_read_and_draw(tool: str, name: str, tmp_path: Path) -> None:
    raw = pd.read_csv(ROBVIS / name)
    assessment = read_rob(ROBVIS / name, tool)
    assert len(assessment.studies) == len(raw)
    assert len(assessment.domains) == raw.shape[1] - 2  # study and Overall
    figure = traffic_light(assessment)
    axes = figure.axes[0]
    # one scatter per judgement (zorder 2), its symbols one collection each above (zorder 3)
    dots = [c for c in axes.collections if c.get_zorder() == 2]
    marks = [c for c in axes.collections if c.get_zorder() == 3]
    cells = len(raw) * (raw.shape[1] - 1)  # domains and overall
    assert sum(len(c.get_offsets()) for c in dots) == cells
    assert sum(len(c.get_offsets()) for c in marks) == cells
    colours = {to_hex(c.get_facecolor()[0]).upper() for c in dots}
    expected = {PALETTES["cochrane"][j].upper() for row in assessment.judgements for j in row}
    expected |= {PALETTES["cochrane"][j].upper() for j in assessment.overall}
    assert colours == expected
    assert [t.get_text() for t in axes.get_yticklabels()] == list(raw.iloc[:, 0])
    save_figure(figure, tmp_path / "tl.png")
    save_figure(summary_plot(assessment, palette="colourblind"), tmp_path / "summary.png")


def test_huang_2024_figure_2_proportions(tmp_path: Path) -> None:
    """The seed's Figure 2: allocation concealment unclear in 3 of 9 trials, outcome
    assessment blinding unclear in 5 of 9, 'other bias' unclear in all."""
    assessment = read_rob(HUANG, "rob1", label_columns=["study", "year"])
    shares = assessment.proportions()
    assert shares.loc["Allocation concealment (selection bias)", "Unclear"] == pytest.approx(
        100 * 3 / 9
    )
    assert shares.loc["Blinding of outcome assessment (detection bias)", "Unclear"] == (
        pytest.approx(100 * 5 / 9)
    )
    assert shares.loc["Other bias", "Unclear"] == pytest.approx(100.0)
    assert assessment.studies[0] == "Bang 2005"
    svg = save_figure(summary_plot(assessment), tmp_path / "huang_summary.svg").read_text()
    assert "Random sequence generation (selection bias)" in svg


def test_weighted_summary_and_errors(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"Study": ["A", "B"], "D1": ["Low", "High"], "D2": ["+", "?"], "Weight": [3.0, 1.0]}
    )
    assessment = read_rob(frame, "rob1")
    assert assessment.proportions(weighted=True).loc["D1", "Low"] == pytest.approx(75.0)
    assert assessment.judgements[1] == ("High", "Unclear")
    bad = frame.assign(D2=["Low", "maybe"])
    with pytest.raises(InputError, match="row 2, column 'D2'"):
        read_rob(bad, "rob1")
    with pytest.raises(InputError, match="unknown risk-of-bias tool"):
        read_rob(frame, "rob9")
    out = tmp_path / "tl.svg"
    path = tmp_path / "j.csv"
    frame.to_csv(path, index=False)
    result = CliRunner().invoke(
        app, ["rob", str(path), "--tool", "rob1", "-o", str(out), "--plot", "summary", "--weighted"]
    )
    assert result.exit_code == 0, result.output
    assert "<svg" in out.read_text()
    result = CliRunner().invoke(app, ["rob", str(path), "--tool", "rob2", "-o", str(out)])
    assert result.exit_code == 1 and "not a rob2 judgement" in result.stderr


def test_summary_weighted_by_meta_analysis_weights(tmp_path: Path) -> None:
    from srma import meta

    frame = pd.DataFrame({"Study": ["A", "B", "C"], "D1": ["Low", "High", "Low"]})
    result = meta([0.1, 0.3, 0.2], [0.01, 0.04, 0.02], labels=["A", "B", "C"], method="EE")
    weighted = read_rob(frame, "rob1").weighted_by(result.labels, result.weights)
    share_low = result.weights[0] + result.weights[2]
    assert weighted.proportions(weighted=True).loc["D1", "Low"] == pytest.approx(share_low)
    figure = summary_plot(weighted, weighted=True)
    assert save_figure(figure, tmp_path / "w.png").stat().st_size > 5000
    with pytest.raises(InputError, match="no study"):
        read_rob(frame, "rob1").weighted_by(["X"], [100.0])


def test_label_columns_are_recognised_and_kept_as_written(tmp_path: Path) -> None:
    table = tmp_path / "rob.csv"
    table.write_text(
        "Study,Year,D1,D2,D3,D4,D5,Weight,Overall\n"
        "NA,2005,Low,Low,Low,Low,Low,1.5,Low\n"
        "Smith,2010,High,Low,Some concerns,Low,Low,2,High\n"
    )
    assessment = read_rob(table, "rob2")
    assert assessment.studies == ("NA 2005", "Smith 2010")
    assert assessment.domains == read_rob(ROBVIS / "data_rob2.csv", "rob2").domains
    assert assessment.weights == (1.5, 2.0)
    assert assessment.overall == ("Low", "High")
    # lower-case label names given by the user are matched without regard to case
    assert read_rob(table, "rob2", label_columns=["study"]).studies == ("NA", "Smith")


def test_huang_2024_year_column_is_a_label_not_a_domain() -> None:
    assessment = read_rob(HUANG, "rob1")
    assert assessment.studies[0] == "Bang 2005"
    assert len(assessment.domains) == 7
    assert all("year" not in d.lower() for d in assessment.domains)


def test_cli_rob_with_a_year_column(tmp_path: Path) -> None:
    out = tmp_path / "rob.svg"
    result = CliRunner().invoke(app, ["rob", str(HUANG), "--tool", "rob1", "-o", str(out)])
    assert result.exit_code == 0, result.output
    svg = out.read_text()
    assert "Bang 2005" in svg
    assert "2005.0" not in svg
