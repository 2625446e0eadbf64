"""Which drawing of a forest plot the review's DOCX inserts, and on which page: a redraw that
cannot fit the portrait page is not drawn, and the drawing already made is reused when a
landscape page takes it at its own width."""

from __future__ import annotations

import pytest

from srma.figures.axes import new_figure
from srma.figures.forest import PLOT_WIDTH
from srma.report.document import CAPTION_INCHES, FOREST_MIN_SCALE, fit_to_page
from srma.report.review.blocks import Picture
from srma.report.review.render import LANDSCAPE_INCHES, PORTRAIT_INCHES, docx_figure

PORTRAIT = PORTRAIT_INCHES / FOREST_MIN_SCALE  # the widest figure a portrait page takes
LANDSCAPE = LANDSCAPE_INCHES / FOREST_MIN_SCALE


def _forest_like(width_at_default: float, floor: float = 0.0):  # type: ignore[no-untyped-def]
    """A Picture whose drawing is as wide as a forest plot of ``width_at_default`` inches at
    PLOT_WIDTH, narrower inch for inch with its plot column but never below ``floor``; that
    drawing; and the plot widths it was redrawn at."""
    asked: list[float] = []

    def redraw(plot_width: float):  # type: ignore[no-untyped-def]
        asked.append(plot_width)
        return new_figure(max(floor, width_at_default - (PLOT_WIDTH - plot_width)), 2)

    drawn = new_figure(width_at_default, 2)
    return Picture(lambda: drawn, "a forest", redraw), drawn, asked


def test_a_figure_that_fits_is_inserted_as_drawn() -> None:
    picture, drawn, asked = _forest_like(PORTRAIT - 0.5)
    assert docx_figure(picture, drawn) == (drawn, False) and asked == []


def test_a_narrower_plot_column_that_fits_portrait_is_drawn_once() -> None:
    picture, drawn, asked = _forest_like(PORTRAIT + 1.0)
    figure, landscape = docx_figure(picture, drawn)
    assert not landscape and asked == pytest.approx([PLOT_WIDTH - 1.0])
    assert float(figure.get_size_inches()[0]) <= PORTRAIT + 1e-9


def test_too_wide_for_portrait_goes_landscape_as_drawn() -> None:
    # 1.4 inches narrower at most (plot column 3.0 to 1.6): cannot fit, so not drawn
    picture, drawn, asked = _forest_like(PORTRAIT + 2.0)
    assert docx_figure(picture, drawn) == (drawn, True) and asked == []


def test_a_note_that_keeps_the_figure_wide_sends_it_landscape() -> None:
    # narrowing would fit by the arithmetic, but a long note keeps the figure wide
    picture, drawn, asked = _forest_like(PORTRAIT + 1.0, floor=PORTRAIT + 1.0)
    figure, landscape = docx_figure(picture, drawn)
    assert landscape and figure is drawn and asked == pytest.approx([PLOT_WIDTH - 1.0])


def test_wider_than_landscape_is_redrawn_to_fit_it() -> None:
    picture, drawn, asked = _forest_like(LANDSCAPE + 1.0)
    figure, landscape = docx_figure(picture, drawn)
    assert landscape and asked == pytest.approx([PLOT_WIDTH - 1.0])
    assert float(figure.get_size_inches()[0]) <= LANDSCAPE + 1e-9


def test_a_figure_taller_than_the_page_is_shrunk_to_fit_it() -> None:
    # landscape A4 within 20 mm margins: 9.76 x 6.69 inches, less a caption line
    room_height = (210 - 40) / 25.4 - CAPTION_INCHES
    width = fit_to_page(8.85, 11.03, landscape=True)
    assert width == pytest.approx(8.85 * room_height / 11.03)
    assert fit_to_page(5.0, 3.0, landscape=False) == 5.0  # fits as drawn
    assert fit_to_page(9.0, 3.0, landscape=False) == pytest.approx(PORTRAIT_INCHES)
