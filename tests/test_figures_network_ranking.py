"""The rankogram: one panel per treatment, best SUCRA first, bars at the rank
probabilities and the cumulative line whose mean over ranks 1..T-1 is SUCRA."""

from __future__ import annotations

import numpy as np
import pytest

from srma.figures.axes import save_figure
from srma.figures.network_ranking import rankogram
from srma.stats.network.ranking import rank_probabilities


def _ranks() -> tuple[tuple[str, ...], object]:
    estimates = np.array([0.0, -0.4, 0.2, -0.1])
    covariance = np.diag([0.0, 0.04, 0.05, 0.03])
    return ("placebo", "A", "B", "C"), rank_probabilities(
        estimates, covariance, small_values_good=True, seed=7, draws=4000
    )


def test_panels_follow_sucra_and_bars_are_the_probabilities(tmp_path) -> None:  # type: ignore[no-untyped-def]
    names, ranks = _ranks()
    fig = rankogram(names, ranks.probabilities, sucra=ranks.sucra, draws=ranks.draws,
                    small_values_good=True, title="Rankogram")  # fmt: skip
    panels = [ax for ax in fig.axes if ax.get_title(loc="left")]
    order = np.argsort(-ranks.sucra, kind="stable")
    assert [ax.get_title(loc="left").split("\n")[0] for ax in panels] == [names[t] for t in order]
    for ax, t in zip(panels, order, strict=True):
        heights = [bar.get_height() for bar in ax.patches]
        assert heights == pytest.approx(ranks.probabilities[t].tolist())
        line = ax.get_lines()[0].get_ydata()
        assert np.mean(line[:-1]) == pytest.approx(ranks.sucra[t])  # SUCRA from the curve
        assert f"SUCRA {100 * ranks.sucra[t]:.1f}%" in ax.get_title(loc="left")
    assert save_figure(fig, tmp_path / "rank.svg").stat().st_size > 0


def test_a_matrix_of_the_wrong_shape_is_refused() -> None:
    names, ranks = _ranks()
    with pytest.raises(ValueError, match="4 x 4 matrix"):
        rankogram(names, ranks.probabilities[:3], sucra=ranks.sucra, draws=10,
                  small_values_good=True)  # fmt: skip
