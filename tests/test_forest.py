"""The simple forest plot: what it shows comes from the result, and it fits its rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.patches import Polygon

from srma import meta
from srma.datasets import load
from srma.figures.axes import save_figure
from srma.figures.forest import forest_plot

NORMAND = meta(load("normand1999"), measure="MD", method="REML", test="knha")
BCG = meta(load("bcg"), measure="RR", method="REML")


def _squares(figure) -> list[PathCollection]:
    return [c for c in figure.axes[0].collections if isinstance(c, PathCollection)]


def _texts(figure) -> list[str]:
    return [t.get_text() for t in figure.texts]


def test_svg_holds_the_labels_and_the_formatted_pooled_estimate(tmp_path: Path) -> None:
    svg = save_figure(forest_plot(NORMAND, title="Length of stay"), tmp_path / "f.svg")
    text = svg.read_text()
    for label in NORMAND.labels:
        assert f">{label}<" in text
    pooled = f"{NORMAND.estimate:.2f} [{NORMAND.ci_lower:.2f}, {NORMAND.ci_upper:.2f}]"
    assert pooled in text
    assert f"[{NORMAND.pi_lower:.2f}, {NORMAND.pi_upper:.2f}]" in text
    assert "Length of stay" in text
    assert f"Tau² = {NORMAND.tau2:.4f}" in text and f"df = {NORMAND.q_df:.0f}" in text
    assert f"I² = {NORMAND.i2:.0f}%" in text


def test_one_row_one_square_per_study_with_weights_and_a_diamond() -> None:
    figure = forest_plot(NORMAND)
    texts = _texts(figure)
    assert [t for t in texts if t in NORMAND.labels] == list(NORMAND.labels)
    squares = _squares(figure)
    assert len(squares) == 1  # one collection for all the studies, not one artist each
    assert squares[0].get_offsets().shape == (NORMAND.k, 2)
    frame = NORMAND.to_frame()
    assert np.allclose(squares[0].get_offsets()[:, 0], frame["yi"])
    assert [f"{w:.1f}%" for w in frame["weight"]] == [t for t in texts if t.endswith("%")][
        : NORMAND.k
    ]
    # the square's area follows the weight
    sizes = squares[0].get_sizes()
    assert np.argsort(sizes).tolist() == np.argsort(frame["weight"].to_numpy()).tolist()
    diamonds = [p for p in figure.axes[0].patches if isinstance(p, Polygon)]
    assert len(diamonds) == 1
    xs = diamonds[0].get_xy()[:, 0]
    assert min(xs) == pytest.approx(NORMAND.ci_lower) and max(xs) == pytest.approx(NORMAND.ci_upper)


def test_figure_height_grows_with_the_rows_and_width_with_the_labels() -> None:
    few = meta([0.1, 0.2, 0.3], [0.1, 0.1, 0.1], labels=["a", "b", "c"], method="EE")
    many = meta(np.linspace(-1, 1, 30), np.full(30, 0.1), method="EE")
    long = meta([0.1, 0.2, 0.3], [0.1, 0.1, 0.1], labels=["a", "b", "c" * 90], method="EE")
    heights = [forest_plot(r).get_size_inches()[1] for r in (few, many)]
    assert heights[1] > heights[0] + 27 * 0.2
    assert forest_plot(long).get_size_inches()[0] > forest_plot(few).get_size_inches()[0] + 4
    figure = forest_plot(long)
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    label = next(t for t in figure.texts if t.get_text() == "c" * 90)
    extent = label.get_window_extent(renderer)
    assert figure.bbox.x0 <= extent.x0 and extent.x1 <= figure.bbox.x1
    # the label ends before the weight column starts
    weight = next(t for t in figure.texts if t.get_text() == "Weight")
    assert extent.x1 < weight.get_window_extent(renderer).x0


def test_ratio_measures_are_drawn_in_natural_units_on_a_log_axis(tmp_path: Path) -> None:
    figure = forest_plot(BCG, favours=("vaccine", "control"))
    assert figure.axes[0].get_xscale() == "log"
    exp = BCG.back_transformed()
    texts = _texts(figure)
    assert f"{exp['estimate']:.2f} [{exp['ci_lower']:.2f}, {exp['ci_upper']:.2f}]" in texts
    assert "Favours vaccine" in texts and "Favours control" in texts
    assert "Risk ratio [95% CI]" in texts
    low, high = figure.axes[0].get_xlim()
    assert low < 1 < high
    png = save_figure(figure, tmp_path / "bcg.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_common_effect_has_no_prediction_interval_and_no_tau2() -> None:
    texts = _texts(forest_plot(meta(load("normand1999"), measure="MD", method="EE")))
    assert "Prediction interval" not in texts
    line = next(t for t in texts if t.startswith("Heterogeneity"))
    assert "Tau²" not in line and "Chi²" in line


def test_a_wide_prediction_interval_widens_the_axis_and_ends_in_arrows() -> None:
    result = meta([0.1, 0.9, -0.5, 0.4], [0.02, 0.03, 0.05, 0.04], method="REML", test="knha")
    figure = forest_plot(result)
    low, high = figure.axes[0].get_xlim()
    assert low < -1 and high > 1.3  # wider than the studies alone
    assert low > result.pi_lower and high < result.pi_upper  # but cut, with arrows
    markers = [line.get_marker() for line in figure.axes[0].lines]
    assert "<" in markers and ">" in markers


def test_png_is_300_dpi_and_svg_pdf_are_deterministic(tmp_path: Path) -> None:
    figure = forest_plot(NORMAND)
    png = save_figure(figure, tmp_path / "f.png")
    width_inches = figure.get_size_inches()[0]
    width_pixels = int.from_bytes(png.read_bytes()[16:20], "big")
    assert width_pixels == pytest.approx(300 * width_inches, abs=2)
    for suffix in ("svg", "pdf"):
        first = save_figure(forest_plot(NORMAND), tmp_path / f"a.{suffix}").read_bytes()
        second = save_figure(forest_plot(NORMAND), tmp_path / f"b.{suffix}").read_bytes()
        assert first == second
    with pytest.raises(ValueError, match="unsupported"):
        save_figure(figure, tmp_path / "f.jpg")


def _many(k: int, seed: int = 9):
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.01, 0.1, k)
    labels = [f"Trial {i}" for i in range(k)]
    return meta(rng.normal(0.3, np.sqrt(v + 0.05)), v, labels=labels, method="DL")


def test_more_studies_than_max_rows_are_drawn_condensed_one_line_and_dot_each() -> None:
    from matplotlib.lines import Line2D

    result = _many(400)
    figure = forest_plot(result, max_rows=300)
    texts = _texts(figure)
    assert not set(texts) & set(result.labels)  # no study is labelled ...
    assert "400 studies" in texts
    note = next(t for t in texts if t.startswith("400 studies exceed max_rows = 300"))
    assert "unlabelled" in note
    assert any(t.startswith("Total (random effects, DL)") for t in texts)  # ... totals are
    # every interval in one line broken by NaN, every estimate one dot of one collection
    bands = [line for line in figure.axes[0].lines if isinstance(line, Line2D)]
    intervals = [line for line in bands if np.isnan(line.get_xdata()).sum() == result.k]
    assert len(intervals) == 1
    xs = intervals[0].get_xdata().reshape(-1, 3)
    frame = result.to_frame()
    np.testing.assert_allclose(xs[:, 0], frame["ci_lower"])
    np.testing.assert_allclose(xs[:, 1], frame["ci_upper"])
    dots = _squares(figure)
    assert len(dots) == 1 and dots[0].get_offsets().shape == (result.k, 2)
    assert all(artist.get_rasterized() for artist in (intervals[0], dots[0]))
    # the band's height is fixed: 100,000 studies make no taller a figure than 400
    assert figure.get_size_inches()[1] < 14
    labelled = forest_plot(result, max_rows=None)
    assert [t for t in _texts(labelled) if t in result.labels] == list(result.labels)
    assert forest_plot(result, max_rows=400).get_size_inches()[1] > 100


def test_condensed_subgroup_and_refit_forests() -> None:
    import pandas as pd

    from srma.analysis.sensitivity import leave_one_out
    from srma.analysis.subgroups import subgroup_analysis
    from srma.figures.forest import refit_forest, subgroup_forest

    result = _many(60)
    table = pd.DataFrame({"yi": result.yi, "vi": result.vi, "study": list(result.labels)})
    table["arm"] = np.where(np.arange(60) < 20, "A", "B")
    groups = subgroup_analysis(table, "arm", yi="yi", vi="vi", label="study", method="DL")
    texts = _texts(subgroup_forest(groups, max_rows=50))
    assert "20 studies" in texts and "40 studies" in texts
    assert not set(texts) & set(result.labels)
    refits = _texts(refit_forest(leave_one_out(result), result, max_rows=50))
    assert "60 studies" in refits and not any(t.startswith("Omitting") for t in refits)


def test_forest_command_takes_max_rows(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from srma.cli import app

    result = _many(40)
    data = tmp_path / "many.csv"
    result.to_frame()[["label", "yi", "vi"]].to_csv(data, index=False)
    out = tmp_path / "f.svg"
    args = ["forest", str(data), "--yi", "yi", "--vi", "vi", "--label", "label", "-o", str(out)]
    assert CliRunner().invoke(app, [*args, "--max-rows", "10"]).exit_code == 0
    assert "Trial 7<" not in out.read_text() and "40 studies" in out.read_text()
    assert CliRunner().invoke(app, args).exit_code == 0  # default 300: every study labelled
    assert "Trial 7<" in out.read_text()
    refused = CliRunner().invoke(app, [*args, "--max-rows", "0"])
    assert refused.exit_code != 0


def test_a_png_too_large_to_draw_asks_for_svg_or_pdf(tmp_path: Path) -> None:
    from srma.figures.axes import MAX_PIXELS, PNG_DPI, new_figure

    tall = new_figure(8.0, MAX_PIXELS / (8.0 * PNG_DPI**2) + 1.0)
    with pytest.raises(ValueError, match=r"too large.*svg or \.pdf"):
        save_figure(tall, tmp_path / "tall.png")
    assert not (tmp_path / "tall.png").exists()
