"""Funnel plots show the studies, the contours, the imputed studies and Egger's line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from srma import meta, small_study_tests
from srma.analysis.bias import funnel_contours
from srma.cli import app
from srma.datasets import load
from srma.figures.axes import save_figure
from srma.figures.funnel import funnel_plot

SKEWED = pd.DataFrame(
    {
        "yi": [0.90, 0.75, 0.62, 0.55, 0.48, 0.41, 0.35, 0.30, 0.27, 0.24, 0.22],
        "vi": [0.20, 0.15, 0.12, 0.09, 0.07, 0.05, 0.04, 0.03, 0.02, 0.015, 0.01],
    }
)


def test_layers_of_the_funnel_plot(tmp_path: Path) -> None:
    result = meta(SKEWED, method="DL")
    tests = small_study_tests(result)
    figure = funnel_plot(
        result, contours=funnel_contours(result), trimfill=tests.trimfill, egger=tests.egger
    )
    axes = figure.axes[0]
    points = [c for c in axes.collections if c.get_offsets().shape[0] in (11, tests.trimfill.k0)]
    studies = next(c for c in points if c.get_offsets().shape[0] == 11)
    np.testing.assert_allclose(np.sort(studies.get_offsets()[:, 0]), np.sort(SKEWED["yi"]))
    np.testing.assert_allclose(np.sort(studies.get_offsets()[:, 1]), np.sort(np.sqrt(SKEWED["vi"])))
    labels = [text.get_text() for text in axes.get_legend().get_texts()]
    assert f"Imputed ({tests.trimfill.k0})" in labels
    assert any(label.startswith("Egger's line") for label in labels)
    assert {"0.05 > p > 0.01", "0.1 > p > 0.05", "p > 0.1"} <= set(labels)
    assert axes.get_ylim()[0] > axes.get_ylim()[1]  # standard error grows downwards
    png = save_figure(figure, tmp_path / "funnel.png")
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_ratio_funnel_is_on_a_log_axis_and_cli_writes_it(tmp_path: Path) -> None:
    result = meta(load("bcg"), measure="RR", method="REML")
    axes = funnel_plot(result).axes[0]
    assert axes.get_xscale() == "log"
    data = tmp_path / "bcg.csv"
    load("bcg").to_csv(data, index=False)
    out = tmp_path / "funnel.svg"
    run = CliRunner().invoke(
        app,
        [
            "funnel",
            str(data),
            "--measure",
            "RR",
            "-o",
            str(out),
            "--contours",
            "--trimfill",
            "--egger",
        ],
    )
    assert run.exit_code == 0, run.output
    assert "Egger" in out.read_text()
    forest = tmp_path / "forest.pdf"
    run = CliRunner().invoke(
        app,
        ["forest", str(data), "--measure", "RR", "-o", str(forest), "--favours", "vaccine,control"],
    )
    assert run.exit_code == 0 and forest.read_bytes()[:4] == b"%PDF"
    run = CliRunner().invoke(app, ["forest", str(data), "--measure", "RR", "-o", "x.txt"])
    assert run.exit_code == 1 and "must end in .svg" in run.stderr


def test_imputed_studies_are_open_red_rings_with_a_legend_entry(tmp_path: Path) -> None:
    from matplotlib.colors import to_rgba

    from srma.figures.funnel import IMPUTED_COLOUR, STUDY_COLOUR

    result = meta(SKEWED, method="DL")
    trimfill = small_study_tests(result).trimfill
    assert trimfill.k0 > 0  # the skewed set has studies missing on the left
    axes = funnel_plot(result, trimfill=trimfill).axes[0]
    imputed = next(c for c in axes.collections if c.get_label() == f"Imputed ({trimfill.k0})")
    studies = next(c for c in axes.collections if c.get_label() == "Studies")
    np.testing.assert_allclose(
        np.sort(imputed.get_offsets()[:, 0]), np.sort(np.asarray(trimfill.imputed_yi))
    )
    # no face colour: an open ring; a red edge; the observed dots are filled in blue
    assert len(imputed.get_facecolor()) == 0 or all(c[3] == 0 for c in imputed.get_facecolor())
    np.testing.assert_allclose(imputed.get_edgecolor()[0], to_rgba(IMPUTED_COLOUR))
    np.testing.assert_allclose(studies.get_facecolor()[0], to_rgba(STUDY_COLOUR))
    legend = axes.get_legend()
    entries = dict(
        zip((t.get_text() for t in legend.get_texts()), legend.legend_handles, strict=True)
    )
    ring = entries[f"Imputed ({trimfill.k0})"]
    np.testing.assert_allclose(ring.get_edgecolor()[0], to_rgba(IMPUTED_COLOUR))
    assert len(ring.get_facecolor()) == 0 or all(c[3] == 0 for c in ring.get_facecolor())
    save_figure(axes.figure, tmp_path / "funnel_trimfill.png")
