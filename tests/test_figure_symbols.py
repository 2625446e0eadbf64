"""Centred symbols drawn as collections (srma.figures.symbols) sit where text artists put
them, and the risk-of-bias figures draw their dots and symbols as a few collections whatever
the number of studies, with the colours of their palette."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.collections import PathCollection
from matplotlib.colors import to_hex

from srma.figures.axes import new_figure
from srma.figures.rob import PALETTES, SYMBOLS, traffic_light
from srma.figures.symbols import centred_texts
from srma.review.appraise.risk_of_bias import RobAssessment, get_tool

DPI = 400


def _ink(figure) -> tuple[float, float, float, float]:  # type: ignore[no-untyped-def]
    """Left, right, top, bottom of what is not white, in pixels."""
    figure.canvas.draw()
    pixels = np.asarray(figure.canvas.buffer_rgba())[..., :3].min(axis=2)
    rows, cols = np.nonzero(pixels < 128)
    return cols.min(), cols.max(), rows.min(), rows.max()


@pytest.mark.parametrize("symbol", sorted(set(SYMBOLS.values())))
@pytest.mark.parametrize(("size", "weight"), [(8, "normal"), (10, "bold")])
def test_a_symbol_lies_where_a_centred_text_lies(symbol: str, size: int, weight: str) -> None:
    as_text = new_figure(1, 1)
    as_text.set_dpi(DPI)
    as_text.text(0.4, 0.6, symbol, fontsize=size, fontweight=weight, ha="center", va="center")
    as_paths = new_figure(1, 1)
    as_paths.set_dpi(DPI)
    for artist in centred_texts(
        [0.4], [0.6], [symbol], transform=as_paths.transFigure, fontsize=size, fontweight=weight
    ):
        as_paths.add_artist(artist)
    # the same glyph outline, filled rather than hinted: within a pixel or two at 400 dpi
    assert np.allclose(_ink(as_paths), _ink(as_text), atol=2)


def _assessment(studies: int) -> RobAssessment:
    tool = get_tool("rob1")
    cycle = ("Low", "High", "Unclear")
    return RobAssessment(
        tool=tool,
        studies=tuple(f"Study {i}" for i in range(studies)),
        domains=tool.domains,
        judgements=tuple(
            tuple(cycle[(i + j) % 3] for j in range(len(tool.domains))) for i in range(studies)
        ),
        overall=tuple(cycle[i % 3] for i in range(studies)),
    )


@pytest.mark.parametrize("studies", [3, 120])
def test_the_traffic_light_draws_a_few_collections(studies: int) -> None:
    assessment = _assessment(studies)
    figure = traffic_light(assessment)
    collections = [c for c in figure.axes[0].collections if isinstance(c, PathCollection)]
    cells = studies * (len(assessment.domains) + 1)
    dots = [c for c in collections if c.get_zorder() == 2]
    marks = [c for c in collections if c.get_zorder() == 3]
    assert len(dots) == len(marks) == 3  # one per judgement, one per symbol
    assert sum(len(c.get_offsets()) for c in dots) == cells
    assert sum(len(c.get_offsets()) for c in marks) == cells
    colours = {to_hex(c.get_facecolor()[0]).upper() for c in dots}
    assert colours == {PALETTES["cochrane"][j].upper() for j in ("Low", "High", "Unclear")}
    # the dot of study 0's first domain is Low (green), at column 0, row 0
    low = next(c for c in dots if to_hex(c.get_facecolor()[0]).upper() == "#02C100")
    assert [0.0, 0.0] in low.get_offsets().tolist()
