"""The review report as a Word document on A4 (python-docx): styles, numbered captions,
tables in a grid with a shaded header, figures at a readable width.

Figures are inserted at their drawn width, or the text width if narrower; a
forest plot is inserted at no less than 7/8 of its drawn size, so its smallest
text (8 pt) prints at 7 pt or more: one too wide is redrawn with a narrower
plot column, and if still too wide goes on a landscape page (as the
one-outcome report does, :func:`srma.report.document.write_docx`).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from srma import __version__
from srma.figures.forest import PLOT_WIDTH
from srma.figures.text import safe_text
from srma.report.document import (
    A4_MM,
    DOCX_DPI,
    FOREST_MIN_SCALE,
    MARGIN_MM,
    A4Pages,
    ReportContent,
    add_docx_table,
    written_aside,
)
from srma.report.review.blocks import Heading, Items, Picture, Report, Sof, Table, Text
from srma.report.review.html import NO_SOF

PORTRAIT_INCHES = (A4_MM[0] - 2 * MARGIN_MM) / 25.4
LANDSCAPE_INCHES = (A4_MM[1] - 2 * MARGIN_MM) / 25.4
HEADER_FILL = "E4ECF4"


def _shade_header(table: Any) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    for cell in table.rows[0].cells:
        shading = OxmlElement("w:shd")
        shading.set(qn("w:val"), "clear")
        shading.set(qn("w:color"), "auto")
        shading.set(qn("w:fill"), HEADER_FILL)
        cell._tc.get_or_add_tcPr().append(shading)
    # the header row repeats on every page a long table spans
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(header)


def _styles(document: Any) -> None:
    from docx.shared import Pt, RGBColor

    styles = document.styles
    styles["Normal"].font.name = "Calibri"
    styles["Normal"].font.size = Pt(10)
    for name, size in (("Title", 20), ("Heading 1", 15), ("Heading 2", 12.5), ("Heading 3", 11)):
        styles[name].font.size = Pt(size)
        styles[name].font.color.rgb = RGBColor(0x22, 0x33, 0x55)
    styles["Caption"].font.size = Pt(9)


def _page_figure(block: Picture) -> tuple[Figure, bool]:
    """The figure to insert and whether it needs a landscape page.

    A forest plot wider than the portrait text width allows at 7/8 scale is redrawn
    with a narrower plot column (not below 1.6 inches); if still too wide it goes on a
    landscape page, redrawn to fit it.  A plot column narrower by ``d`` inches makes the
    figure narrower by ``d`` at most, so a redraw that cannot fit is not drawn, and the
    figure drawn already is reused where the width would not change.
    """
    figure: Figure = block.figure
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


def write_review_docx(
    report: Report, path: Path, holder: ReportContent, figures_dir: Path | None = None
) -> Path:
    """Write ``report`` to ``path`` (A4 portrait, 20 mm margins; landscape pages for wide
    forest plots); with ``figures_dir``, every figure is also saved there as PNG."""
    from docx import Document
    from docx.shared import Inches, Pt

    document = Document()
    pages = A4Pages(document)
    caption, orient, counters = pages.caption, pages.orient, pages.counters
    _styles(document)
    document.add_heading(safe_text(report.title), level=0)

    def picture(block: Picture) -> None:
        figure, landscape = _page_figure(block)
        room = LANDSCAPE_INCHES if landscape else PORTRAIT_INCHES
        orient(landscape)
        buffer = io.BytesIO()
        # the fastest zlib level: the same pixels, a somewhat larger file, in half the time
        figure.savefig(buffer, format="png", dpi=DOCX_DPI, pil_kwargs={"compress_level": 1})
        if figures_dir is not None:
            figures_dir.mkdir(parents=True, exist_ok=True)
            (figures_dir / f"figure{counters['Figure'] + 1}.png").write_bytes(buffer.getvalue())
        buffer.seek(0)
        natural = float(figure.get_size_inches()[0])
        document.add_picture(buffer, width=Inches(min(natural, room)))
        caption("Figure", block.caption)
        orient(False)

    for block in report.blocks:
        if isinstance(block, Heading):
            document.add_heading(safe_text(block.text), level=min(block.level, 3))
        elif isinstance(block, Text):
            paragraph = document.add_paragraph(safe_text(block.text))
            if block.note:
                for run in paragraph.runs:
                    run.font.size = Pt(9)
                    run.italic = True
        elif isinstance(block, Items):
            for item in block.items:
                document.add_paragraph(safe_text(item), style="List Bullet")
        elif isinstance(block, Table):
            caption("Table", block.caption)
            aside = written_aside(block.frame, path, block.name, holder)
            if aside is not None:
                document.add_paragraph(safe_text(aside))
                continue
            add_docx_table(document, block.frame, PORTRAIT_INCHES)
            _shade_header(document.tables[-1])
        elif isinstance(block, Picture):
            picture(block)
        elif isinstance(block, Sof):
            if block.part is None:
                document.add_paragraph(NO_SOF)
            else:  # the summary of findings' tables are laid out for landscape A4
                orient(True)
                block.part.add_to_docx(document)
                orient(False)
    document.add_heading("References", level=1)
    for number, reference in enumerate(report.references, start=1):
        document.add_paragraph(safe_text(f"{number}. {reference}"))
    document.add_paragraph(f"srma {__version__}").runs[0].font.size = Pt(8)
    document.save(str(path))
    return path
