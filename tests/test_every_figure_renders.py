"""Every kind of figure srma draws renders to PNG (CI renders them all)."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SHARED
from srma import meta, meta_regression, small_study_tests, subgroup_analysis
from srma.analysis.bias import funnel_contours
from srma.analysis.sensitivity import baujat, cumulative, gosh, leave_one_out
from srma.datasets import load
from srma.datasets.screening import load_screening, screening_texts
from srma.figures import diagnostics, forest, funnel, prisma, rob, screening
from srma.figures.axes import save_figure
from srma.review.appraise.risk_of_bias import read_rob
from srma.review.flow.prisma import read_prisma
from srma.review.screen.simulation import simulate

BCG = load("bcg")
RESULT = meta(BCG, measure="RR", method="REML")
TESTS = small_study_tests(RESULT)
SCREENING = load_screening("nagtegaal2019").head(400)
SCREENING_TEXTS = screening_texts(SCREENING)
SCREENING_LABELS = SCREENING["label_included"].tolist()
ROB = read_rob(SHARED / "fixtures" / "robvis" / "data_rob2.csv", "rob2")

FIGURES = {
    "forest": lambda: forest.forest_plot(RESULT, arms=BCG, favours=("vaccine", "control")),
    "subgroup_forest": lambda: forest.subgroup_forest(
        subgroup_analysis(BCG, "alloc", measure="RR"), arms=BCG
    ),
    "leave_one_out_forest": lambda: forest.refit_forest(leave_one_out(RESULT), RESULT),
    "cumulative_forest": lambda: forest.refit_forest(cumulative(RESULT, BCG["year"]), RESULT),
    "funnel": lambda: funnel.funnel_plot(
        RESULT, contours=funnel_contours(RESULT), trimfill=TESTS.trimfill, egger=TESTS.egger
    ),
    "baujat": lambda: diagnostics.baujat_plot(baujat(RESULT)),
    "gosh": lambda: diagnostics.gosh_plot(gosh(RESULT)),
    "bubble": lambda: diagnostics.bubble_plot(
        meta_regression(BCG, "~ ablat", measure="RR"), "ablat"
    ),
    "labbe": lambda: diagnostics.labbe_plot(BCG, RESULT),
    "radial": lambda: diagnostics.radial_plot(RESULT),
    "rob_traffic_light": lambda: rob.traffic_light(ROB),
    "rob_summary": lambda: rob.summary_plot(ROB, palette="colourblind"),
    "prisma": lambda: prisma.prisma_flow(
        read_prisma(SHARED / "reference" / "huang2024_prisma.csv")
    ),
    "screening_recall": lambda: screening.recall_plot(
        [
            simulate(SCREENING_TEXTS, SCREENING_LABELS, model=name, batch_size=50)
            for name in ("logistic", "naive_bayes")
        ]
    ),
}


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_renders_to_png(name: str, tmp_path: Path) -> None:
    path = save_figure(FIGURES[name](), tmp_path / f"{name}.png")
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
