"""The forest plot and the written summary show what the result holds."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest

from srma import meta
from srma.datasets import available, load
from srma.figures.forest import forest_plot, save_figure
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
