"""The review report: one self-contained HTML file and a DOCX version.

The content is assembled once (:func:`build_report`) from result objects and
figures, then written as HTML (Jinja2, figures inlined as SVG) or DOCX
(python-docx, figures as PNG).  Numbers are formatted here but never
computed: each comes from a field of a result object.

Nothing taken from data can execute or break the file: every template is
autoescaped, the HTML carries a Content-Security-Policy that allows no script,
the inlined SVG figures are checked to be well-formed and free of scripts,
event handlers and outside links before they are marked safe, and characters
XML does not allow are replaced (:func:`srma.figures.text.safe_text`) in both
formats.

A table of more than ``max_rows`` rows (default
:data:`srma.figures.limits.MAX_ROWS`: a per-study table of a very large
meta-analysis, say) is not printed: it is written in full to a CSV file beside
the report (``<report>_outcome1_studies.csv``, ``..._data.csv``,
``<report>_characteristics.csv``; text cells that a spreadsheet would run as a
formula neutralised), and the report says where.  The forest plot of such an
outcome is drawn condensed (:mod:`srma.figures.forest`).  Everything else
costs the same whatever k, so a report of 100,000 studies takes seconds.
"""

from __future__ import annotations

import io
import math
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader
from markupsafe import Markup
from matplotlib.figure import Figure

from srma import __version__
from srma.analysis.bias import SmallStudyResult, funnel_contours
from srma.analysis.results import MetaResult
from srma.figures.forest import MEASURE_NAMES, PLOT_WIDTH, forest_plot
from srma.figures.funnel import funnel_plot
from srma.figures.limits import MAX_ROWS
from srma.figures.prisma import prisma_flow
from srma.figures.rob import summary_plot, traffic_light
from srma.figures.text import safe_text
from srma.formatting import format_ci, format_count, format_number, format_p
from srma.report.methods import bias_methods, methods_paragraph
from srma.review.appraise.risk_of_bias import RobAssessment
from srma.review.flow.export import to_csv
from srma.review.flow.prisma import PrismaCounts

#: RevMan's labels under a forest plot when the report is given none.
DEFAULT_FAVOURS = ("experimental", "control")
#: A4 in millimetres, and the margins of the DOCX report.
A4_MM = (210.0, 297.0)
MARGIN_MM = 20.0
#: The smallest font of a forest plot (notes, ticks) is 8 pt; printed at no less than
#: 7/8 of its drawn size its text stays at 7 pt or more.
FOREST_MIN_SCALE = 7.0 / 8.0
DOCX_DPI = 200


@dataclass(frozen=True)
class Outcome:
    """One analysed outcome of the report."""

    title: str
    result: MetaResult
    arms: pd.DataFrame | None = None
    label: str = "study"
    favours: tuple[str, str] | None = None
    small_study: SmallStudyResult | None = None


@dataclass
class ReportContent:
    """Everything a report shows, ready to write in any format."""

    title: str
    outcomes: list[Outcome]
    rob: RobAssessment | None = None
    prisma: PrismaCounts | None = None
    characteristics: pd.DataFrame | None = None
    figures: dict[str, Figure] = field(default_factory=dict)
    #: tables with more rows go to CSV files beside the report; forests are drawn condensed
    max_rows: int | None = MAX_ROWS
    #: the CSV files written so far (HTML and DOCX beside each other share them)
    written: set[Path] = field(default_factory=set)


def build_report(
    title: str,
    outcomes: list[Outcome],
    *,
    rob: RobAssessment | None = None,
    prisma: PrismaCounts | None = None,
    characteristics: pd.DataFrame | None = None,
    max_rows: int | None = MAX_ROWS,
) -> ReportContent:
    """Draw every figure the report needs.

    ``max_rows`` (None: no limit) is the most rows a table prints and a forest
    plot labels (see the module's docstring).
    """
    content = ReportContent(title, outcomes, rob, prisma, characteristics, max_rows=max_rows)
    if prisma is not None:
        content.figures["prisma"] = prisma_flow(prisma)
    if rob is not None:
        content.figures["rob_traffic_light"] = traffic_light(rob)
        content.figures["rob_summary"] = summary_plot(rob)
    for index, outcome in enumerate(outcomes):
        content.figures[f"forest_{index}"] = _forest(outcome, max_rows=max_rows)
        if outcome.small_study is not None:
            content.figures[f"funnel_{index}"] = funnel_plot(
                outcome.result,
                contours=funnel_contours(outcome.result),
                trimfill=outcome.small_study.trimfill,
                egger=outcome.small_study.egger,
            )
    return content


def _forest(
    outcome: Outcome,
    plot_width: float = PLOT_WIDTH,
    *,
    data: bool = True,
    max_rows: int | None = MAX_ROWS,
) -> Figure:
    return forest_plot(
        outcome.result,
        arms=outcome.arms if data else None,
        label=outcome.label,
        favours=outcome.favours or DEFAULT_FAVOURS,
        plot_width=plot_width,
        max_rows=max_rows,
    )


def describe(result: MetaResult) -> str:
    """The measure and model in words, for captions: ``Mean difference, random effects (REML)``."""
    measure = MEASURE_NAMES.get(result.measure or "", "Effect")
    if result.method in ("EE", "MH", "PETO"):
        model = {"EE": "common effect", "MH": "common effect, Mantel-Haenszel"}.get(
            result.method, "common effect, Peto"
        )
    else:
        model = f"random effects ({result.method})"
    return f"{measure}, {model}"


def result_sentence(result: MetaResult) -> str:
    """The pooled result in one sentence, on the reported scale."""
    shown = result.back_transformed() or {
        name: getattr(result, name)
        for name in ("estimate", "ci_lower", "ci_upper", "pi_lower", "pi_upper")
    }
    percent = round(100 * result.level)
    text = (
        f"Pooled {result.measure or 'effect'} {format_number(shown['estimate'])} ({percent}% CI "
        f"{format_ci(shown['ci_lower'], shown['ci_upper'])}; {format_p(result.pvalue)}; "
        f"k = {format_count(result.k)})."
    )
    if result.i2 is not None:
        text += (
            f" Heterogeneity: I² = {format_number(result.i2, 1)}%, Q = {format_number(result.q)} "
            f"({format_p(result.q_pvalue)})."
        )
    if shown["pi_lower"] is not None:
        text += (
            f" {percent}% prediction interval {format_ci(shown['pi_lower'], shown['pi_upper'])}."
        )
    return text


def bias_sentence(tests: SmallStudyResult) -> str:
    """The small-study-effect tests in one sentence."""
    parts = []
    if tests.egger is not None:
        parts.append(
            f"Egger's test: bias {format_number(tests.egger.coefficient)}, "
            f"{format_p(tests.egger.pvalue)}"
        )
    if tests.begg is not None:
        parts.append(
            f"Begg's test: Kendall's tau {format_number(tests.begg.tau)}, "
            f"{format_p(tests.begg.pvalue)}"
        )
    if tests.trimfill is not None:
        parts.append(
            f"trim-and-fill imputed {format_count(tests.trimfill.k0)} "
            f"{'study' if tests.trimfill.k0 == 1 else 'studies'} on the "
            f"{tests.trimfill.side}"
        )
    text = "; ".join(parts) + "." if parts else "Not assessed."
    if tests.low_power:
        text += (
            " With fewer than 10 studies these tests have little power "
            "(Cochrane Handbook 13.3.5.4)."
        )
    return text


def results_table(result: MetaResult) -> pd.DataFrame:
    """One row per study and one for the total: estimate, CI and weight on the reported scale."""
    frame = result.to_frame()
    shown = result.back_transformed()
    transform = result.natural_scale if shown else np.asarray
    studies = pd.DataFrame(
        {
            "Study": frame["label"],
            "Estimate": transform(frame["yi"].to_numpy(dtype=float)),
            "CI lower": transform(frame["ci_lower"].to_numpy(dtype=float)),
            "CI upper": transform(frame["ci_upper"].to_numpy(dtype=float)),
            "Weight (%)": frame["weight"],
        }
    )
    total = shown or {n: getattr(result, n) for n in ("estimate", "ci_lower", "ci_upper")}
    row = {
        "Study": "Total",
        "Estimate": total["estimate"],
        "CI lower": total["ci_lower"],
        "CI upper": total["ci_upper"],
        "Weight (%)": 100.0,
    }
    return pd.concat([studies, pd.DataFrame([row])], ignore_index=True)


#: What the HTML report may load or run: nothing but its own inline styles and the
#: ``data:`` images an SVG figure may embed; no script of any kind.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'none'; object-src 'none'; style-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)
_SVG = "{http://www.w3.org/2000/svg}"
#: matplotlib's <metadata> block: RDF, Dublin Core and Creative Commons elements (inert).
_METADATA = (
    "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}",
    "{http://purl.org/dc/elements/1.1/}",
    "{http://creativecommons.org/ns#}",
)
SVG_HASH_SALT = "srma"
_FORBIDDEN_ELEMENTS = {"script", "foreignObject", "iframe", "object", "embed", "a"}


def _svg(figure: Figure) -> Markup:
    """The figure as inline SVG, marked safe only once it is checked to be inert.

    matplotlib escapes the text it writes (``&``, ``<``, ``>``; ``--`` in
    comments) and srma's figures draw data text through
    :func:`srma.figures.text.literal`; the check here makes sure of it: the SVG
    must parse as XML and hold no script, foreign object, link, event handler
    or reference outside itself but a ``data:image`` one.
    """
    buffer = io.StringIO()
    # a fixed salt makes the SVG's ids a function of what they name, so the same figure gives
    # the same SVG (ids stay distinct within one SVG; equal ids across SVGs name equal things)
    with matplotlib.rc_context({"svg.hashsalt": SVG_HASH_SALT}):
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    root = ElementTree.fromstring(text)  # raises on anything that is not well-formed
    for element in root.iter():
        name = element.tag.removeprefix(_SVG)
        if name in _FORBIDDEN_ELEMENTS or not element.tag.startswith((_SVG, *_METADATA)):
            raise ValueError(f"refusing to inline an SVG figure with a <{name}> element")
        for attribute, value in element.attrib.items():
            local = attribute.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                raise ValueError(f"refusing to inline an SVG figure with an {local} attribute")
            if local == "href" and not value.startswith(("#", "data:image/")):
                raise ValueError("refusing to inline an SVG figure that links outside itself")
    return Markup(text)


def _cell(value: object) -> tuple[str, bool]:
    """A table cell as text, and whether it is a number (numbers are right-aligned)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NR", True
    if isinstance(value, bool):
        return str(value), False
    if isinstance(value, int) or (hasattr(value, "dtype") and "int" in str(value.dtype)):
        return format_count(value), True  # type: ignore[arg-type]
    if isinstance(value, float):
        return format_number(value), True
    text = str(value)
    try:
        float(text)
    except ValueError:
        return text, False
    return text, True


def _numeric_columns(frame: pd.DataFrame) -> list[bool]:
    return [
        bool(len(frame)) and all(_cell(v)[1] for v in frame[c] if _cell(v)[0] != "NR")
        for c in frame.columns
    ]


def written_aside(
    frame: pd.DataFrame, report: Path, name: str, content: ReportContent
) -> str | None:
    """Write a table too long to print to ``<report>_<name>.csv``; say so (None: print it).

    A table is too long with more than ``content.max_rows`` rows.  The CSV
    holds every row with the values unformatted; text cells a spreadsheet
    would run as a formula are neutralised (:func:`srma.review.flow.export.to_csv`).
    A file this content already wrote (the HTML and DOCX report side by side)
    is not written again.
    """
    if content.max_rows is None or len(frame) <= content.max_rows:
        return None
    path = report.with_name(f"{report.stem}_{name}.csv")
    if path.resolve() not in content.written:
        to_csv(frame, path)
        content.written.add(path.resolve())
    return (
        f"{format_count(len(frame))} rows, more than the {format_count(content.max_rows)} "
        f"a report prints: written to {path.name} beside this report."
    )


def _html_table(
    frame: pd.DataFrame, caption: str | None = None, aside: str | None = None
) -> dict[str, Any]:
    """A table as plain values for the template, which escapes them (``table`` macro).

    With ``aside`` (the table was written to a file, :func:`written_aside`) only
    the caption and that note are shown.
    """
    if aside is not None:
        return {"caption": caption, "aside": aside, "columns": [], "rows": []}
    classes = ["num" if n else "text" for n in _numeric_columns(frame)]
    return {
        "caption": caption,
        "aside": None,
        "columns": [(str(c), k) for c, k in zip(frame.columns, classes, strict=True)],
        "rows": [
            [(_cell(v)[0], k) for v, k in zip(values, classes, strict=True)]
            for values in frame.itertuples(index=False)
        ],
    }


def _finalize(value: object) -> object:
    """Every value the template prints: text from data with unwritable characters replaced."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return safe_text(value)
    return value


def _methods(outcome: Outcome) -> tuple[str, list[str]]:
    """The methods paragraph and references of one outcome, bias analyses included."""
    text, refs = methods_paragraph(outcome.result)
    if outcome.small_study is not None:
        extra, more = bias_methods(outcome.small_study)
        if extra:
            text, refs = f"{text} {extra}", refs + more
    return text, list(dict.fromkeys(refs))


def _captions(outcome: Outcome) -> dict[str, str]:
    name, what = outcome.title, describe(outcome.result)
    percent = round(100 * outcome.result.level)
    return {
        "results": f"{name}: per-study and pooled estimates ({what}; {percent}% CI; weights in %).",
        "forest": f"Forest plot of {name}: {what}.",
        "data": f"{name}: per-study data as analysed.",
        "funnel": f"Contour-enhanced funnel plot of {name}.",
    }


def write_html(content: ReportContent, path: str | Path) -> Path:
    """Write the report as one self-contained HTML file (figures inlined as SVG)."""
    environment = Environment(
        loader=PackageLoader("srma.report", "templates"), autoescape=True, finalize=_finalize
    )
    path = Path(path)

    def table(frame: pd.DataFrame, name: str, caption: str | None = None) -> dict[str, Any]:
        return _html_table(frame, caption, written_aside(frame, path, name, content))

    references: list[str] = []
    sections = []
    for index, outcome in enumerate(content.outcomes):
        methods, refs = _methods(outcome)
        references.extend(refs)
        captions = _captions(outcome)
        number = index + 1
        sections.append(
            {
                "title": outcome.title,
                "methods": methods,
                "sentence": result_sentence(outcome.result),
                "results_table": table(
                    results_table(outcome.result), f"outcome{number}_studies", captions["results"]
                ),
                "forest": _svg(content.figures[f"forest_{index}"]),
                "forest_caption": captions["forest"],
                "data_table": None
                if outcome.arms is None
                else table(outcome.arms, f"outcome{number}_data", captions["data"]),
                "bias": None if outcome.small_study is None else bias_sentence(outcome.small_study),
                "funnel": _svg(content.figures[f"funnel_{index}"]) if outcome.small_study else None,
                "funnel_caption": captions["funnel"],
                "warnings": list(outcome.result.warnings),
            }
        )
    context: dict[str, Any] = {
        "title": content.title,
        "version": __version__,
        "csp": CONTENT_SECURITY_POLICY,
        "sections": sections,
        "references": list(dict.fromkeys(references)),
        "characteristics": None
        if content.characteristics is None
        else table(content.characteristics, "characteristics"),
        "prisma": None
        if content.prisma is None
        else {"svg": _svg(content.figures["prisma"]), "problems": content.prisma.inconsistencies()},
        "rob": None
        if content.rob is None
        else {
            "tool": content.rob.tool.title,
            "traffic_light": _svg(content.figures["rob_traffic_light"]),
            "summary": _svg(content.figures["rob_summary"]),
        },
    }
    path.write_text(environment.get_template("report.html.j2").render(**context), encoding="utf-8")
    return path


def add_docx_table(document: Any, frame: pd.DataFrame, text_width: float) -> None:
    """Add ``frame`` to a python-docx ``document`` as a grid within ``text_width`` inches:
    8.5 pt text, numbers right-aligned and unwrapped, text columns sharing what is left."""
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Inches, Pt

    numeric = _numeric_columns(frame)
    grid = document.add_table(rows=1, cols=len(frame.columns), style="Table Grid")
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    rows = [[_cell(v)[0] for v in values] for values in frame.itertuples(index=False)]
    # widths in proportion to the longest entry of each column, within the text width
    # a numeric column is as wide as its numbers (a long header wraps), a text column
    # as its longest entry
    lengths = [
        max([min(len(str(name)), 6) if numeric[j] else len(str(name))])
        if not rows
        else max(
            min(len(str(name)), 6) if numeric[j] else len(str(name)),
            *(len(row[j]) for row in rows),
        )
        for j, name in enumerate(frame.columns)
    ]
    inches = [0.075 * n + 0.2 for n in lengths]  # 8.5 pt characters and cell padding
    # numbers keep their width (they must not wrap); text columns share what is left
    room = text_width - sum(w for w, n in zip(inches, numeric, strict=True) if n)
    text = sum(w for w, n in zip(inches, numeric, strict=True) if not n)
    shrink = min(1.0, max(room, 0.6) / text) if text else 1.0
    words = [  # a text column is never narrower than its longest word
        0.075 * max([len(word) for row in rows for word in row[j].split()] or [1]) + 0.2
        for j in range(len(frame.columns))
    ]
    widths = [
        Inches(w if n else max(0.6, word, w * shrink))
        for w, n, word in zip(inches, numeric, words, strict=True)
    ]
    for column, width in zip(grid.columns, widths, strict=True):
        column.width = width

    def fill(cells, texts, *, bold: bool = False) -> None:
        for j, (cell, value) in enumerate(zip(cells, texts, strict=True)):
            cell.width = widths[j]
            paragraph = cell.paragraphs[0]
            run = paragraph.add_run(safe_text(value))
            run.font.size = Pt(8.5)
            run.bold = bold
            if numeric[j]:
                paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT

    fill(grid.rows[0].cells, [str(c) for c in frame.columns], bold=True)
    _add_body(grid, rows, fill)
    document.add_paragraph()


def _plain(text: str) -> bool:
    """Whether python-docx writes ``text`` as one ``<w:t>`` with nothing else: not empty, no
    tab or line break, no space to preserve at either end."""
    return bool(text) and text.strip() == text and not any(c in text for c in "\t\n\r")


def _add_body(grid: Any, rows: list[list[str]], fill: Any, *, copy_rows: bool = True) -> None:
    """Add ``rows`` under the header of ``grid``, each filled by ``fill(cells, texts)``.

    python-docx takes about 10 ms a row; a row of plain texts (:func:`_plain`) is instead a
    copy of the first such row's XML with its texts replaced, the same XML in a tenth of
    the time (``copy_rows=False`` fills every row through python-docx).
    """
    from copy import deepcopy

    from docx.oxml.ns import qn

    template = None
    for row in rows:
        texts = [safe_text(value) for value in row]
        plain = all(_plain(text) for text in texts)
        if copy_rows and plain and template is not None:
            copied = deepcopy(template)
            for element, text in zip(copied.iter(qn("w:t")), texts, strict=True):
                element.text = text
            template.getparent().append(copied)
            continue
        added = grid.add_row()
        fill(added.cells, row)
        if plain and template is None:
            template = added._tr


#: Room kept under a figure for its caption, in inches.
CAPTION_INCHES = 0.45


def fit_to_page(width: float, height: float, landscape: bool) -> float:
    """The width at which to insert a figure drawn ``width`` x ``height`` inches on an A4
    page within its margins: its own width, or less so that it fits the text width and
    the text height less a caption line (proportions kept; a figure taller than the page
    would otherwise be cut off at the page's foot)."""
    page_width, page_height = (A4_MM[1], A4_MM[0]) if landscape else A4_MM
    room_width = (page_width - 2 * MARGIN_MM) / 25.4
    room_height = (page_height - 2 * MARGIN_MM) / 25.4 - CAPTION_INCHES
    return min(width, room_width, width * room_height / height)


class A4Pages:
    """A python-docx document on A4 with 20 mm margins: numbered captions and portrait or
    landscape pages (one writer for every DOCX srma makes)."""

    def __init__(self, document: Any) -> None:
        from docx.enum.section import WD_ORIENT
        from docx.shared import Mm

        self.document = document
        self.counters = {"Figure": 0, "Table": 0}
        self._style_ids: dict[str, str] = {}
        section = document.sections[0]
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(A4_MM[0]), Mm(A4_MM[1])
        self._margins(section)

    @staticmethod
    def _margins(section: Any) -> None:
        from docx.shared import Mm

        for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
            setattr(section, side, Mm(MARGIN_MM))

    def paragraph(self, text: str, style: str) -> Any:
        """A paragraph of ``text`` in the document's style ``style`` (by name).

        python-docx's ``add_paragraph(text, style)`` finds the style by reading every
        style's name, and then the default style likewise, for each paragraph (a third of
        the time of a review's DOCX with hundreds of headings and captions); the style's
        id is looked up once here and set on the paragraph as python-docx sets it.
        """
        if style not in self._style_ids:
            self._style_ids[style] = self.document.styles[style].style_id
        paragraph = self.document.add_paragraph(safe_text(text))
        paragraph._p.style = self._style_ids[style]
        return paragraph

    def heading(self, text: str, level: int) -> Any:
        """A heading as ``Document.add_heading`` adds it (``Title`` for level 0)."""
        return self.paragraph(text, "Title" if level == 0 else f"Heading {level}")

    def caption(self, kind: str, text: str) -> None:
        """``Figure 3. text`` (or ``Table``), numbered in order of appearance."""
        self.counters[kind] += 1
        self.paragraph(f"{kind} {self.counters[kind]}. {text}", "Caption")

    def orient(self, landscape: bool) -> None:
        """Continue on a new landscape (or portrait) page unless the current one is so."""
        from docx.enum.section import WD_ORIENT, WD_SECTION
        from docx.shared import Mm

        current = self.document.sections[-1]
        if (current.orientation == WD_ORIENT.LANDSCAPE) == landscape:
            return
        new = self.document.add_section(WD_SECTION.NEW_PAGE)
        new.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        long, short = Mm(A4_MM[1]), Mm(A4_MM[0])
        new.page_width, new.page_height = (long, short) if landscape else (short, long)
        self._margins(new)


def write_docx(content: ReportContent, path: str | Path) -> Path:
    """Write the report as a Word document (python-docx) on A4, figures as PNG.

    Forest plots are inserted at no less than 7/8 of their drawn size, so that
    their smallest text (8 pt) prints at 7 pt or more: one too wide for the
    page is redrawn with a narrower plot column, and if still too wide it goes
    on a landscape page, without its per-arm data columns if need be (the
    per-study table beneath shows them).
    """
    from docx import Document
    from docx.shared import Inches, Pt

    document = Document()
    pages = A4Pages(document)
    caption, orient = pages.caption, pages.orient
    portrait_inches = (A4_MM[0] - 2 * MARGIN_MM) / 25.4
    landscape_inches = (A4_MM[1] - 2 * MARGIN_MM) / 25.4
    document.styles["Normal"].font.size = Pt(10)
    # python-docx refuses text XML does not allow: every string from data goes through safe_text
    document.add_heading(safe_text(content.title), level=0)
    document.add_paragraph(
        f"Generated by srma {__version__}. Every number is read from srma's result objects."
    )

    def picture(
        figure: Figure, text: str, *, max_inches: float | None = None, landscape: bool = False
    ) -> None:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=DOCX_DPI)
        buffer.seek(0)
        width, height = (float(x) for x in figure.get_size_inches())
        fitted = min(fit_to_page(width, height, landscape), max_inches or portrait_inches)
        document.add_picture(buffer, width=Inches(fitted))
        caption("Figure", text)

    rows = content.max_rows

    def forest(outcome: Outcome, figure: Figure, text: str) -> None:
        limit = portrait_inches / FOREST_MIN_SCALE
        drawn = float(figure.get_size_inches()[0])
        if drawn > limit:  # narrow the plot column, down to 1.6 inches
            figure = _forest(
                outcome, plot_width=max(1.6, PLOT_WIDTH - (drawn - limit)), max_rows=rows
            )
        landscape = float(figure.get_size_inches()[0]) > limit
        if landscape:
            limit = landscape_inches / FOREST_MIN_SCALE
            figure = _forest(
                outcome, plot_width=max(1.6, PLOT_WIDTH - max(0.0, drawn - limit)), max_rows=rows
            )
            if float(figure.get_size_inches()[0]) > limit:  # the per-study table has the data
                figure = _forest(outcome, plot_width=1.6, data=False, max_rows=rows)
        orient(landscape)
        picture(
            figure,
            text,
            max_inches=landscape_inches if landscape else portrait_inches,
            landscape=landscape,
        )
        orient(False)

    path = Path(path)

    def table(frame: pd.DataFrame, text: str, name: str) -> None:
        caption("Table", text)
        aside = written_aside(frame, path, name, content)
        if aside is not None:
            document.add_paragraph(safe_text(aside))
            return
        add_docx_table(document, frame, portrait_inches)

    references: list[str] = []
    if content.prisma is not None:
        document.add_heading("Study selection", level=1)
        picture(content.figures["prisma"], "PRISMA 2020 flow diagram.")
    if content.characteristics is not None:
        document.add_heading("Characteristics of included studies", level=1)
        table(content.characteristics, "Characteristics of included studies.", "characteristics")
    if content.rob is not None:
        document.add_heading("Risk of bias", level=1)
        picture(
            content.figures["rob_traffic_light"],
            f"Risk of bias of each study ({content.rob.tool.title}).",
        )
        picture(content.figures["rob_summary"], "Risk of bias across studies.")
    for index, outcome in enumerate(content.outcomes):
        captions = _captions(outcome)
        document.add_heading(safe_text(outcome.title), level=1)
        methods, refs = _methods(outcome)
        references.extend(refs)
        document.add_heading("Methods", level=2)
        document.add_paragraph(safe_text(methods))
        document.add_heading("Results", level=2)
        document.add_paragraph(safe_text(result_sentence(outcome.result)))
        table(results_table(outcome.result), captions["results"], f"outcome{index + 1}_studies")
        forest(outcome, content.figures[f"forest_{index}"], captions["forest"])
        if outcome.arms is not None:
            document.add_heading("Per-study data", level=2)
            table(outcome.arms, captions["data"], f"outcome{index + 1}_data")
        if outcome.small_study is not None:
            document.add_heading("Small-study effects", level=2)
            document.add_paragraph(safe_text(bias_sentence(outcome.small_study)))
            picture(content.figures[f"funnel_{index}"], captions["funnel"])
        for warning in outcome.result.warnings:
            document.add_paragraph(safe_text(f"Note: {warning}"))
    document.add_heading("References", level=1)
    for number, reference in enumerate(dict.fromkeys(references), start=1):
        document.add_paragraph(safe_text(f"{number}. {reference}"))
    document.save(str(path))
    return path
