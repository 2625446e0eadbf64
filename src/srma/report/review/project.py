"""A review project's report in one call: run and store its planned analyses, then write
the whole-review report from them (what ``srma report PROJECT`` and the workspace's
download do)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from srma.errors import InputError
from srma.figures.limits import FOREST_ROWS, MAX_ROWS

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from srma.review.project import Project


def write_project_report(
    session: Session,
    project: Project,
    output: Path,
    docx: Path | None = None,
    *,
    evidence_by: str | None = None,
    figures: Path | None = None,
    max_rows: int = MAX_ROWS,
    forest_rows: int = FOREST_ROWS,
    jobs: int | None = None,
) -> list[Path]:
    """Run and store a project's planned analyses (srma analyze), then write its report from
    them (``jobs`` processes drawing the figures); the paths written."""
    from srma.report.review import summary_of_findings, write_review_report
    from srma.review.flow.overview import review_overview
    from srma.review.synthesize.project import analyze_project, review_inputs
    from srma.review.synthesize.stored import store_analyses

    if output.suffix.lower() not in (".html", ".htm"):
        raise InputError("the report must end in .html", file=str(output))
    if docx is not None and docx.suffix.lower() != ".docx":
        raise InputError("the DOCX report must end in .docx", file=str(docx))
    inputs = review_inputs(session, project)
    analysis = analyze_project(session, project, inputs)
    store_analyses(session, analysis, log_position=inputs.log_position)
    overview = review_overview(session, project, exported=[o.table for o in analysis.outcomes])
    html, written = write_review_report(
        overview,
        analysis,
        output,
        docx,
        sof=summary_of_findings(overview, analysis),
        evidence_by=evidence_by,
        figures_dir=figures,
        max_rows=max_rows,
        forest_rows=forest_rows,
        jobs=jobs,
    )
    return [html] if written is None else [html, written]
