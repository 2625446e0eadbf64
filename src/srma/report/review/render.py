"""Drawing the review report's figures: each once, as inline SVG for the HTML and as PNG for
the DOCX, in parallel processes.

A review of 50 outcomes has about a hundred figures, and matplotlib lays out
and rasterises each one in a single thread; drawing them is most of a report's
time.  :func:`render_pictures` draws every :class:`Picture` (``draw()``), writes
the formats asked for and lets the figure go, so that no more than one figure
per process is alive at a time; with ``jobs`` > 1 it does so in forked worker
processes (``multiprocessing``'s fork context, on systems that have it), which
inherit the report's blocks and send back only text and bytes.

The DOCX's drawing of a forest plot may differ from the HTML's
(:func:`docx_figure`): a plot too wide for a portrait page at 7/8 scale is
redrawn with a narrower plot column, or goes on a landscape page.
"""

from __future__ import annotations

import io
import multiprocessing
import os
from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup
from matplotlib.figure import Figure

from srma.figures.forest import PLOT_WIDTH
from srma.report.document import A4_MM, DOCX_DPI, FOREST_MIN_SCALE, MARGIN_MM, _svg
from srma.report.review.blocks import Picture, Report

PORTRAIT_INCHES = (A4_MM[0] - 2 * MARGIN_MM) / 25.4
LANDSCAPE_INCHES = (A4_MM[1] - 2 * MARGIN_MM) / 25.4


@dataclass(frozen=True)
class RenderedPicture:
    """One figure as the writers insert it: ``svg`` for the HTML, ``png`` for the DOCX
    (None where not asked for), the PNG's drawn size and whether it needs a landscape
    page."""

    svg: Markup | None
    png: bytes | None
    png_width_inches: float
    png_height_inches: float
    landscape: bool


def docx_figure(block: Picture, figure: Figure) -> tuple[Figure, bool]:
    """The drawing of ``block`` to insert in the DOCX (``figure`` is the one drawn already)
    and whether it needs a landscape page.

    A forest plot wider than the portrait text width allows at 7/8 scale is redrawn
    with a narrower plot column (not below 1.6 inches); if still too wide it goes on a
    landscape page, redrawn to fit it.  A plot column narrower by ``d`` inches makes the
    figure narrower by ``d`` at most, so a redraw that cannot fit is not drawn, and the
    figure drawn already is reused where the width would not change.
    """
    if block.redraw is None:
        return figure, False
    limit = PORTRAIT_INCHES / FOREST_MIN_SCALE
    drawn = float(figure.get_size_inches()[0])
    if drawn <= limit:
        return figure, False
    narrowest = max(1.6, PLOT_WIDTH - (drawn - limit))
    if drawn - (PLOT_WIDTH - narrowest) <= limit:
        narrower = block.redraw(narrowest)
        if float(narrower.get_size_inches()[0]) <= limit:
            return narrower, False
    plot = max(1.6, PLOT_WIDTH - max(0.0, drawn - LANDSCAPE_INCHES / FOREST_MIN_SCALE))
    return (figure if plot == PLOT_WIDTH else block.redraw(plot)), True


def render_picture(block: Picture, *, svg: bool = True, png: bool = False) -> RenderedPicture:
    """Draw ``block`` and write it as SVG and/or PNG (at :data:`DOCX_DPI`, zlib level 1)."""
    figure = block.draw()
    markup = _svg(figure) if svg else None
    if not png:
        width, height = (float(x) for x in figure.get_size_inches())
        return RenderedPicture(markup, None, width, height, False)
    page_figure, landscape = docx_figure(block, figure)
    buffer = io.BytesIO()
    # the fastest zlib level: the same pixels, a somewhat larger file, in half the time
    page_figure.savefig(buffer, format="png", dpi=DOCX_DPI, pil_kwargs={"compress_level": 1})
    width, height = (float(x) for x in page_figure.get_size_inches())
    return RenderedPicture(markup, buffer.getvalue(), width, height, landscape)


# The blocks the forked workers draw, set in the parent just before the pool forks (a
# worker inherits them; nothing is pickled but the index and the result).
_TO_RENDER: tuple[Sequence[Picture], bool, bool] = ((), True, False)


def _render_index(index: int) -> RenderedPicture:
    pictures, svg, png = _TO_RENDER
    return render_picture(pictures[index], svg=svg, png=png)


def available_jobs() -> int:
    """The processors this process may run on (1 where the system cannot say)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def render_pictures(
    report: Report, *, svg: bool = True, png: bool = False, jobs: int | None = None
) -> dict[int, RenderedPicture]:
    """Every picture of ``report``, rendered, by its index in ``report.blocks``.

    ``jobs`` worker processes draw them (default: one per available processor); one
    job, one picture, or a system without ``fork`` draws them in this process.  The
    output does not depend on ``jobs``.
    """
    global _TO_RENDER
    indices = [i for i, block in enumerate(report.blocks) if isinstance(block, Picture)]
    pictures = [report.blocks[i] for i in indices]
    jobs = min(available_jobs() if jobs is None else jobs, len(pictures))
    if jobs <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        rendered = [render_picture(p, svg=svg, png=png) for p in pictures]  # type: ignore[arg-type]
    else:
        _TO_RENDER = (pictures, svg, png)  # type: ignore[assignment]
        try:
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                rendered = list(pool.imap(_render_index, range(len(pictures))))
        finally:
            _TO_RENDER = ((), True, False)
    return dict(zip(indices, rendered, strict=True))
