"""The forest plot and the written summary show what the result holds."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest

from srma import meta
from srma.datasets import available, load
from srma.figures.axes import save_figure
from srma.figures.forest import forest_plot
from srma.report.summary import markdown_summary, write_summary


def test_datasets_carry_source_and_licence() -> None:
    assert {"normand1999", "bcg"} <= set(available())
    for name in available():
        frame = load(name)
        assert len(frame) > 0
        assert frame.attrs["citation"] and frame.attrs["licence"]
    with pytest.raises(KeyError):
        load("nothing")


def test_forest_svg_holds_labels_numbers_and_one_square_per_study(tmp_path: Path) -> None:
    result = meta(load("normand1999"), measure="MD", method="REML")
    path = save_figure(
        forest_plot(result, favours=("stroke unit", "routine care")), tmp_path / "forest.svg"
    )
    svg = path.read_text()
    for label in result.labels:
        assert label in svg
    assert f"{result.estimate:.2f} [{result.ci_lower:.2f}, {result.ci_upper:.2f}]" in svg
    assert f"I² = {result.i2:.0f}%" in svg
    assert "Favours stroke unit" in svg
    squares = re.findall(r"<path[^>]*#1f4e79", svg)
    assert len(squares) >= 1


def test_ratio_forest_uses_the_ratio_scale(tmp_path: Path) -> None:
    result = meta(load("bcg"), measure="RR", method="DL")
    svg = save_figure(forest_plot(result), tmp_path / "rr.svg").read_text()
    exp = result.back_transformed()
    assert f"{exp['estimate']:.2f} [{exp['ci_lower']:.2f}, {exp['ci_upper']:.2f}]" in svg
    assert "Risk ratio" in svg
    png = save_figure(forest_plot(result), tmp_path / "rr.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_long_labels_and_many_studies_fit_without_clipping_or_overlap() -> None:
    rng = np.random.default_rng(2)
    labels = [f"Study {i} " + "with a very long descriptive name " * (i % 3) for i in range(40)]
    result = meta(rng.normal(size=40), rng.uniform(0.01, 0.2, size=40), labels=labels)
    figure = forest_plot(result)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    box = figure.bbox
    texts = [t for t in figure.texts if t.get_text()]
    extents = [t.get_window_extent(renderer) for t in texts]
    for text, extent in zip(texts, extents, strict=True):
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1, text.get_text()
        assert box.y0 <= extent.y0 and extent.y1 <= box.y1, text.get_text()
    labels_drawn = [e for t, e in zip(texts, extents, strict=True) if t.get_text() in labels]
    assert len(labels_drawn) == 40
    for upper, lower in itertools.pairwise(labels_drawn):
        assert lower.y1 <= upper.y0 + 0.5  # rows do not overlap


def test_figures_are_deterministic(tmp_path: Path) -> None:
    result = meta(load("normand1999"), measure="SMD")
    first = save_figure(forest_plot(result), tmp_path / "a.svg").read_bytes()
    second = save_figure(forest_plot(result), tmp_path / "b.svg").read_bytes()
    assert first == second


def test_summary_files_and_markdown_numbers(tmp_path: Path) -> None:
    result = meta(load("bcg"), measure="RR", method="REML", test="knha")
    paths = write_summary(result, tmp_path, name="bcg", title="BCG", dataset_citation="Colditz")
    assert all(path.exists() for path in paths.values())
    text = markdown_summary(result, title="BCG", dataset_citation=None)
    exp = result.back_transformed()
    assert f"{exp['estimate']:.2f}" in text and f"{exp['pi_upper']:.2f}" in text
    assert "back-transformed" in text
    assert text.count("| ") >= result.k
    assert np.isfinite(result.tau2)


def _figure_texts(figure) -> list[str]:
    return [t.get_text() for t in figure.texts]


def test_revman_layout_with_arm_data_and_risk_of_bias() -> None:
    import pandas as pd

    from srma.figures.forest import forest_plot
    from srma.review.appraise.risk_of_bias import read_rob

    trials = load("normand1999")
    result = meta(trials, measure="MD", method="REML")
    texts = _figure_texts(forest_plot(result, arms=trials, arm_names=("Unit", "Routine")))
    assert {"Mean", "SD", "Total", "Unit", "Routine", "Weight"} <= set(texts)
    assert "155" in texts and "47" in texts  # Edinburgh's n1 and sd1
    assert any(t.startswith("Heterogeneity: Tau²") for t in texts)
    assert any(t.startswith("Test for overall effect: Z") for t in texts)
    judgements = pd.DataFrame(
        {
            "Study": list(result.labels),
            **{f"D{i}": ["Low"] * 9 for i in range(1, 6)},
            "Overall": ["Some concerns"] * 9,
        }
    )
    figure = forest_plot(result, rob=read_rob(judgements, "rob2"))
    # one dot per domain and overall: a collection per judgement, its symbols above it
    dots = [c for c in figure.artists if c.get_zorder() == 1]
    assert sorted(len(c.get_offsets()) for c in dots) == [9, 9 * 5]  # Some concerns, Low
    marks = [c for c in figure.artists if c.get_zorder() == 3]
    assert sum(len(c.get_offsets()) for c in marks) == 9 * 6
    assert "D1: Bias arising from the randomization process" in _figure_texts(figure)


def test_subgroup_and_refit_forests() -> None:
    from srma import subgroup_analysis
    from srma.analysis.sensitivity import cumulative, leave_one_out
    from srma.figures.forest import refit_forest, subgroup_forest

    bcg = load("bcg")
    groups = subgroup_analysis(bcg, "alloc", measure="RR", method="DL")
    texts = _figure_texts(subgroup_forest(groups, arms=bcg))
    assert sum(t.startswith("Subtotal") for t in texts) == len(groups.groups)
    assert any(t.startswith("Test for subgroup differences: Chi² = 1.54") for t in texts)
    assert {f"alloc: {g}" for g in groups.groups} <= set(texts)
    overall = dict(zip(groups.overall.labels, groups.overall.weights, strict=True))
    first_share = sum(overall[name] for name in groups.subgroups[0].labels)
    assert f"{first_share:.1f}%" in texts  # subtotal weight, share of the overall analysis
    result = meta(bcg, measure="RR")
    texts = _figure_texts(refit_forest(leave_one_out(result), result))
    assert sum(t.startswith("Omitting") for t in texts) == 13 and "I²" in texts
    texts = _figure_texts(refit_forest(cumulative(result, order=bcg["year"]), result))
    assert sum(t.startswith("Adding") for t in texts) == 13


def test_common_and_random_diamonds_together(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from srma.cli import app

    trials = load("normand1999")
    random = meta(trials, measure="MD", method="REML")
    common = meta(trials, measure="MD", method="EE")
    texts = [t.get_text() for t in forest_plot(random, also=common).texts]
    assert "Total (random effects, REML)" in texts and "Total (common effect)" in texts
    assert f"{common.estimate:.2f} [{common.ci_lower:.2f}, {common.ci_upper:.2f}]" in texts
    data = tmp_path / "normand.csv"
    trials.to_csv(data, index=False)
    out = tmp_path / "both.svg"
    run = CliRunner().invoke(
        app, ["forest", str(data), "--measure", "MD", "--also-common", "-o", str(out)]
    )
    assert run.exit_code == 0, run.output
    assert "Total (common effect)" in out.read_text()
