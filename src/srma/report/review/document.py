"""The entry point of the whole-review report: :func:`write_review_report`, and the summary of
findings of its outcomes rated with GRADE (:func:`summary_of_findings`)."""

from __future__ import annotations

from pathlib import Path

from srma.figures.limits import FOREST_ROWS, MAX_ROWS
from srma.report.document import A4_MM, MARGIN_MM, ReportContent
from srma.report.review.blocks import SofPart
from srma.report.review.docx import write_review_docx
from srma.report.review.html import write_review_html
from srma.report.review.render import render_pictures
from srma.report.review.sections import build_review_report
from srma.review.flow.overview import ReviewOverview
from srma.review.synthesize.results import ReviewAnalysis


def write_review_report(
    overview: ReviewOverview,
    analysis: ReviewAnalysis,
    html_path: str | Path,
    docx_path: str | Path | None = None,
    *,
    sof: SofPart | None = None,
    evidence_by: str | None = None,
    figures_dir: str | Path | None = None,
    max_rows: int | None = MAX_ROWS,
    forest_rows: int | None = FOREST_ROWS,
    jobs: int | None = None,
) -> tuple[Path, Path | None]:
    """Write the report of a whole review as HTML (and DOCX); return the paths written.

    ``overview`` is :func:`srma.review.flow.overview.review_overview` of the
    project, ``analysis`` the stored :class:`ReviewAnalysis`; ``sof`` the
    summary of findings (without it the report says no outcome has been rated
    with GRADE yet); ``evidence_by`` names a study characteristic to tabulate
    the studies by (a preclinical review's route of administration, say);
    ``figures_dir`` also receives every figure as PNG (with the DOCX);
    tables of more than ``max_rows`` rows go to CSV files beside the report; a forest plot
    of more than ``forest_rows`` studies is drawn condensed, with a table of the studies;
    ``jobs`` processes draw the figures (default: one per available processor).
    """
    html_path = Path(html_path)
    report = build_review_report(
        overview, analysis, sof=sof, evidence_by=evidence_by, forest_rows=forest_rows
    )
    holder = ReportContent(report.title, [], max_rows=max_rows)
    rendered = render_pictures(report, svg=True, png=docx_path is not None, jobs=jobs)
    write_review_html(report, html_path, holder, rendered)
    written = None
    if docx_path is not None:
        figures = None if figures_dir is None else Path(figures_dir)
        written = write_review_docx(report, Path(docx_path), holder, rendered, figures)
    return html_path, written


def sof_title(overview: ReviewOverview) -> str:
    """GRADEpro's heading: "intervention compared with comparator for population"."""
    question = overview.question
    if question.intervention and question.population:
        versus = f" compared with {question.comparator}" if question.comparator else ""
        return f"{question.intervention}{versus} for {question.population}"
    return overview.title


def summary_of_findings(overview: ReviewOverview, analysis: ReviewAnalysis) -> SofPart | None:
    """The summary of findings and evidence profile of every outcome rated with GRADE (None
    when none is: the report then says so)."""
    from srma.report.sof import add_sof_docx, sof_html

    certainties = [o.grade for o in analysis.outcomes if o.grade is not None]
    if not certainties:
        return None
    question = overview.question
    options = {
        "population": question.population,
        "intervention": question.intervention,
        "comparison": question.comparator,
    }
    title = sof_title(overview)
    landscape_text_mm = A4_MM[1] - 2 * MARGIN_MM

    def add_to_docx(document: object) -> None:
        add_sof_docx(document, certainties, title=title, heading_level=3,
                     text_width_mm=landscape_text_mm, **options)  # fmt: skip

    return SofPart(sof_html(certainties, title=title, heading_level=3, **options), add_to_docx)
