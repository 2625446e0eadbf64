"""What the workspace offers to download, made by the library as the CLI makes it: the
records with their screening outcomes (``srma export``, blinded for the viewer), the
reconciled data of an outcome (``srma extract export``), the PRISMA 2020 flow diagram and
the risk-of-bias figures (``srma rob figure``), and the whole report (``srma report``).

Every function returns a :class:`Download`: the bytes, their media type and a file name.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.project import Project

MEDIA = {
    ".csv": "text/csv; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".ris": "application/x-research-info-systems",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".html": "text/html; charset=utf-8",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


@dataclass(frozen=True)
class Download:
    """A file to send: its content, media type and name."""

    content: bytes
    media_type: str
    filename: str


def _made(path: Path) -> Download:
    return Download(path.read_bytes(), MEDIA[path.suffix], path.name)


def _suffix(kind: str, allowed: tuple[str, ...]) -> str:
    suffix = "." + kind.lower().lstrip(".")
    if suffix not in allowed:
        raise InputError(f"format {kind!r}: expected one of {', '.join(s[1:] for s in allowed)}")
    return suffix


def records(session: Session, project: Project, viewer: str, kind: str) -> Download:
    """Every unique record with its outcome and decisions at each stage, as ``viewer`` may
    see them (still blinded decisions are counted, not shown)."""
    from srma.review.flow.export import screening_table, write_table

    suffix = _suffix(kind, (".csv", ".xlsx", ".ris"))
    table = screening_table(session, project, viewer=viewer)
    with tempfile.TemporaryDirectory() as folder:
        return _made(write_table(table, Path(folder) / f"records{suffix}"))


def outcome_data(session: Session, project: Project, outcome: str, time_point: str | None
                 ) -> Download:  # fmt: skip
    """The reconciled, converted data of one outcome, ready for ``srma meta``."""
    from srma.review.extract.context import load_extraction
    from srma.review.extract.export import export_outcome

    extraction = load_extraction(session, project)
    table = export_outcome(extraction.form, extraction.state, project.protocol, outcome,
                           time_point)  # fmt: skip
    name = "".join(c if c.isalnum() else "_" for c in project.protocol.outcome(outcome).name)
    with tempfile.TemporaryDirectory() as folder:
        return _made(table.write(Path(folder) / f"{name}.csv"))


def prisma(session: Session, project: Project, kind: str) -> Download:
    """The PRISMA 2020 flow diagram of the project as it stands."""
    from srma.figures.axes import save_figure
    from srma.figures.prisma import prisma_flow
    from srma.review.flow.status import prisma_counts

    suffix = _suffix(kind, (".png", ".svg"))
    figure = prisma_flow(prisma_counts(session, project))
    with tempfile.TemporaryDirectory() as folder:
        return _made(save_figure(figure, Path(folder) / f"prisma{suffix}"))


def rob_figure(session: Session, project: Project, plot: str, kind: str) -> Download:
    """The reconciled risk-of-bias judgements as robvis's traffic-light or summary plot."""
    from srma.figures.axes import save_figure
    from srma.figures.rob import summary_plot, traffic_light
    from srma.review.appraise.export import reconciled_judgements, rob_assessment
    from srma.review.appraise.project import load_rob

    if plot not in ("traffic-light", "summary"):
        raise InputError(f"plot {plot!r}: expected traffic-light or summary")
    suffix = _suffix(kind, (".png", ".svg"))
    found = reconciled_judgements(load_rob(session, project))
    assessment = rob_assessment(found)
    figure = summary_plot(assessment) if plot == "summary" else traffic_light(assessment)
    with tempfile.TemporaryDirectory() as folder:
        return _made(save_figure(figure, Path(folder) / f"rob-{plot}{suffix}"))


def report(session: Session, project: Project, kind: str) -> Download:
    """The whole review's report (``srma report PROJECT``): the planned analyses run and
    stored, then the report written as HTML or DOCX."""
    from srma.report.review.project import write_project_report

    suffix = _suffix(kind, (".html", ".docx"))
    with tempfile.TemporaryDirectory() as folder:
        html = Path(folder) / "report.html"
        docx = Path(folder) / "report.docx" if suffix == ".docx" else None
        written = write_project_report(session, project, html, docx, jobs=1)
        return _made(written[-1])
