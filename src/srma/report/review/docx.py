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
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from srma import __version__
from srma.figures.text import safe_text
from srma.report.document import (
    A4Pages,
    ReportContent,
    add_docx_table,
    fit_to_page,
    written_aside,
)
from srma.report.review.blocks import Heading, Items, Picture, Report, Sof, Table, Text
from srma.report.review.html import NO_SOF
from srma.report.review.render import PORTRAIT_INCHES, RenderedPicture

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


class _Pictures:
    """Inserts PNGs as inline pictures, numbering their shapes itself.

    python-docx's ``add_picture`` finds the next shape id by searching the whole
    document for ``@id`` attributes on every picture, which makes a report of a hundred
    figures quadratic (15 s of 60 at 50 outcomes); nothing else this writer adds has an
    id, so the ids are counted from the document's first free one.
    """

    def __init__(self, document: Any) -> None:
        self.document = document
        self.next_id: int | None = None

    def add(self, png: bytes, width_inches: float) -> None:
        from docx.oxml.shape import CT_Inline
        from docx.shared import Inches

        part = self.document.part
        if self.next_id is None:
            self.next_id = part.next_id
        relation, image = part.get_or_add_image(io.BytesIO(png))
        cx, cy = image.scaled_dimensions(Inches(width_inches), None)
        inline = CT_Inline.new_pic_inline(self.next_id, relation, image.filename, cx, cy)
        self.next_id += 1
        self.document.add_paragraph().add_run()._r.add_drawing(inline)


def write_review_docx(
    report: Report,
    path: Path,
    holder: ReportContent,
    rendered: Mapping[int, RenderedPicture],
    figures_dir: Path | None = None,
) -> Path:
    """Write ``report`` to ``path`` (A4 portrait, 20 mm margins; landscape pages for wide
    forest plots) with its pictures as ``rendered`` (by block index, PNG); with
    ``figures_dir``, every figure is also saved there as PNG."""
    from docx import Document
    from docx.shared import Pt

    document = Document()
    pages = A4Pages(document)
    caption, orient, counters = pages.caption, pages.orient, pages.counters
    _styles(document)
    pages.heading(report.title, 0)

    pictures = _Pictures(document)

    def picture(block: Picture, drawn: RenderedPicture) -> None:
        assert drawn.png is not None, "the DOCX needs the pictures rendered as PNG"
        orient(drawn.landscape)
        if figures_dir is not None:
            figures_dir.mkdir(parents=True, exist_ok=True)
            (figures_dir / f"figure{counters['Figure'] + 1}.png").write_bytes(drawn.png)
        width = fit_to_page(drawn.png_width_inches, drawn.png_height_inches, drawn.landscape)
        pictures.add(drawn.png, width)
        caption("Figure", block.caption)
        orient(False)

    for index, block in enumerate(report.blocks):
        if isinstance(block, Heading):
            pages.heading(block.text, min(block.level, 3))
        elif isinstance(block, Text):
            paragraph = document.add_paragraph(safe_text(block.text))
            if block.note:
                for run in paragraph.runs:
                    run.font.size = Pt(9)
                    run.italic = True
        elif isinstance(block, Items):
            for item in block.items:
                pages.paragraph(item, "List Bullet")
        elif isinstance(block, Table):
            caption("Table", block.caption)
            aside = written_aside(block.frame, path, block.name, holder)
            if aside is not None:
                document.add_paragraph(safe_text(aside))
                continue
            add_docx_table(document, block.frame, PORTRAIT_INCHES)
            _shade_header(document.tables[-1])
        elif isinstance(block, Picture):
            picture(block, rendered[index])
        elif isinstance(block, Sof):
            if block.part is None:
                document.add_paragraph(NO_SOF)
            else:  # the summary of findings' tables are laid out for landscape A4
                orient(True)
                block.part.add_to_docx(document)
                orient(False)
    pages.heading("References", 1)
    for number, reference in enumerate(report.references, start=1):
        document.add_paragraph(safe_text(f"{number}. {reference}"))
    document.add_paragraph(f"srma {__version__}").runs[0].font.size = Pt(8)
    document.save(str(path))
    return path
