"""Rendering the review report's figures in worker processes gives what rendering them here
gives, byte for byte, in the blocks' order; each SVG passes the inline-safety check."""

from __future__ import annotations

from functools import partial

import numpy as np

from srma.figures.axes import new_axes
from srma.report.review.blocks import Heading, Picture, Report, Text
from srma.report.review.render import RenderedPicture, available_jobs, render_pictures


def _line_plot(slope: float):  # type: ignore[no-untyped-def]
    figure, axes = new_axes(4.0, 3.0)
    x = np.linspace(0.0, 1.0, 20)
    axes.plot(x, slope * x, label=f"slope {slope}")
    axes.set_title(f"A line of slope {slope}")
    axes.legend()
    return figure


def _report() -> Report:
    report = Report("figures")
    report.add(Heading("one"), Picture(partial(_line_plot, 1.0), "first"), Text("between"))
    report.add(
        Picture(partial(_line_plot, 2.0), "second"), Picture(partial(_line_plot, 3.0), "third")
    )
    return report


def test_workers_render_what_this_process_renders() -> None:
    report = _report()
    here = render_pictures(report, svg=True, png=True, jobs=1)
    forked = render_pictures(report, svg=True, png=True, jobs=2)
    assert list(here) == [1, 3, 4]  # the pictures' indices among the blocks
    assert here == forked
    for index, rendered in here.items():
        assert isinstance(rendered, RenderedPicture) and not rendered.landscape
        assert rendered.png is not None and rendered.png.startswith(b"\x89PNG")
        assert rendered.svg is not None and rendered.svg.startswith("<svg")
        slope = report.blocks[index].caption  # type: ignore[union-attr]
        assert {"first": "1.0", "second": "2.0", "third": "3.0"}[slope] in rendered.svg
        assert rendered.png_width_inches == 4.0


def test_only_the_formats_asked_for_are_written() -> None:
    rendered = render_pictures(_report(), svg=True, png=False, jobs=2)
    assert all(r.png is None and r.svg is not None for r in rendered.values())
    rendered = render_pictures(_report(), svg=False, png=True, jobs=1)
    assert all(r.svg is None and r.png is not None for r in rendered.values())


def test_a_report_without_pictures_renders_nothing() -> None:
    assert render_pictures(Report("empty", [Text("no figures")]), jobs=4) == {}
    assert available_jobs() >= 1
