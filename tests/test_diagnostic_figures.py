"""Baujat, GOSH, bubble, L'Abbé and radial plots draw the numbers of their result objects."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from srma import meta, meta_regression
from srma.analysis.sensitivity import baujat, gosh
from srma.datasets import load
from srma.figures.axes import save_figure
from srma.figures.diagnostics import baujat_plot, bubble_plot, gosh_plot, labbe_plot, radial_plot


def _points(figure) -> np.ndarray:
    return np.vstack([c.get_offsets() for c in figure.axes[0].collections if len(c.get_offsets())])


def test_each_figure_draws_its_result(tmp_path: Path) -> None:
    bcg = load("bcg")
    result = meta(bcg, measure="RR", method="REML")
    coordinates = baujat(result)
    figure = baujat_plot(coordinates)
    np.testing.assert_allclose(
        np.sort(_points(figure)[:, 0]), np.sort(coordinates.heterogeneity_contribution)
    )
    assert {t.get_text() for t in figure.axes[0].texts} == set(result.labels)

    fits = gosh(result)
    figure = gosh_plot(fits)
    assert f"{fits.subsets:,} subsets" in figure.axes[0].get_title(loc="left")

    regression = meta_regression(bcg, "~ ablat", measure="RR")
    figure = bubble_plot(regression, "ablat")
    line = figure.axes[0].lines[0]
    np.testing.assert_allclose(
        line.get_ydata()[[0, -1]],
        regression.bubble_data("ablat")["line"]["prediction"].iloc[[0, -1]],
    )

    figure = labbe_plot(bcg, result)
    risks = _points(figure)
    np.testing.assert_allclose(np.sort(risks[:, 1]), np.sort(bcg["events1"] / bcg["total1"]))

    common = meta(bcg, measure="RR", method="EE")
    figure = radial_plot(common)
    np.testing.assert_allclose(
        np.sort(_points(figure)[:, 0]), np.sort(1 / np.sqrt(np.asarray(common.vi)))
    )
    for number, fig in enumerate([baujat_plot(coordinates), gosh_plot(fits), figure]):
        assert save_figure(fig, tmp_path / f"{number}.png").stat().st_size > 5000
