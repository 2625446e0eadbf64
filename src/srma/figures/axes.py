"""Axis conventions shared by srma's figures."""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, Locator, NullLocator

#: The most pixels a PNG is drawn with (a 1 GiB RGBA canvas): a taller figure asks for
#: SVG or PDF instead of minutes of drawing and gigabytes of memory.
MAX_PIXELS = 2**28
#: Resolution of PNG figures.
PNG_DPI = 300

#: Tick marks of a log axis for ratios, labelled in natural units as RevMan does.
RATIO_TICKS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100)


#: Powers of ten beyond RATIO_TICKS, for an axis wider than 0.01 to 100.
_POWERS = tuple(10.0**e for e in range(-6, 7))


def ratio_ticks(low: float, high: float) -> list[float]:
    """The ticks of a ratio axis from ``low`` to ``high``: :data:`RATIO_TICKS` within it,
    or on a wide axis (more than 7 of them) the powers of ten only, every other one when
    still more than 7, so that the labels do not collide."""
    ticks = sorted({t for t in (*RATIO_TICKS, *_POWERS) if low <= t <= high})
    if len(ticks) > 7:
        ticks = [t for t in ticks if t in _POWERS]
    if len(ticks) > 7:
        ticks = [t for t in ticks if round(np.log10(t)) % 2 == 0]
    return ticks


class RatioLocator(Locator):
    """Ticks of a ratio axis (:func:`ratio_ticks`) for the axis' limits when it is drawn."""

    def __call__(self) -> list[float]:
        low, high = sorted(self.axis.get_view_interval())
        return self.tick_values(low, high)

    def tick_values(self, vmin: float, vmax: float) -> list[float]:
        return ratio_ticks(min(vmin, vmax), max(vmin, vmax))


def ratio_axis(ax: Axes) -> None:
    """A log x axis with ticks at 0.1, 0.2, 0.5, 1, 2, 5... (:func:`ratio_ticks`) labelled
    as plain numbers."""
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(RatioLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_locator(NullLocator())


def new_figure(width: float, height: float) -> Figure:
    """A figure with its own Agg canvas, outside pyplot's registry.

    Figures made through pyplot stay alive until closed; srma's figures are
    values a caller keeps or drops, so they are freed like any other object.
    """
    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    return figure


def new_axes(width: float, height: float) -> tuple[Figure, Axes]:
    """A figure with one set of axes filling the usual subplot area."""
    figure = new_figure(width, height)
    return figure, figure.add_subplot()


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save as SVG, PNG (300 dpi) or PDF by the file's suffix, reproducibly."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".svg", ".png", ".pdf"):
        raise ValueError(f"unsupported figure format {suffix!r}; use .svg, .png or .pdf")
    if suffix == ".png":
        width, height = (float(x) * PNG_DPI for x in fig.get_size_inches())
        if width * height > MAX_PIXELS:
            raise ValueError(
                f"{path}: a {width:,.0f} x {height:,.0f} pixel PNG is too large to draw; "
                "write .svg or .pdf, or draw fewer rows (srma forest --max-rows)"
            )
    metadata = {
        "svg": {"Date": None},
        "pdf": {"CreationDate": None, "ModDate": None},
        "png": {"Software": None},
    }[suffix[1:]]
    with matplotlib.rc_context({"svg.hashsalt": "srma", "svg.fonttype": "none"}):
        fig.savefig(path, dpi=PNG_DPI, metadata=metadata)
    return path
