"""``srma demo``: the flagship review (MSC in ischaemic stroke), or ``--quick`` Normand (1999)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from srma.cli.app import app
from srma.cli.shell import CommandError, JsonOption, print_json, run, stdout

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from srma.review.project import Project

PROJECT = "project"
SEED_PRISMA_TITLE = (
    "Huang et al. 2024, Fig. 1: the counts as reported (huang2024_prisma.csv); "
    "srma holds only the 9 included reports"
)
REVIEW_PRISMA_TITLE = (
    "This review: Huang et al. 2024's reported counts, and 2 trials from "
    "msc_trials_found.csv screened in the project"
)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for the output.")] = Path("demo-output"),
    quick: Annotated[
        bool,
        typer.Option(
            "--quick", help="Only pool Normand (1999)'s nine stroke-unit trials (no project)."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Build the flagship review (MSC in acute ischaemic stroke, after Huang et al. 2024)
    from the sourced files shipped with srma: the project in OUT/project, the seed's PRISMA
    and RoB 1 figures in OUT/figures, each outcome's reconciled table in OUT/exports, and
    the report of the whole review (OUT/report.html, OUT/report.docx) from its planned
    analyses, run and stored in the project."""

    def action() -> None:
        if quick:
            _quick(out)
            return
        from srma.report.review.project import write_project_report
        from srma.review.flagship import build_msc_stroke

        folder = out / PROJECT
        if folder.exists():
            raise CommandError(f"{folder} already exists; remove it or give another --out")
        project = build_msc_stroke(folder)
        try:
            with project.store.transaction() as session:
                figures = _figures(session, project, out / "figures")
                exports = _exports(session, project, out / "exports")
                report = write_project_report(
                    session, project, out / "report.html", out / "report.docx"
                )
        finally:
            project.close()
        if as_json:
            print_json(
                {
                    "project": str(folder),
                    "figures": figures,
                    "exports": exports,
                    "report": [str(p) for p in report],
                }
            )
            return
        stdout.print(f"Review project: {folder.resolve()}", markup=False)
        stdout.print("Figures:", markup=False)
        for path in figures:
            stdout.print(f"  {Path(path).resolve()}", markup=False)
        stdout.print("Report (the planned analyses, run and stored; GRADE):", markup=False)
        for path in report:
            stdout.print(f"  {Path(path).resolve()}", markup=False)
        stdout.print("Exports (srma meta reads them as they are):", markup=False)
        for export in exports:
            stdout.print(
                f"  {Path(str(export['file'])).resolve()}: {export['studies_with_values']} "
                f"of {export['studies']} studies with values (why the others have none: "
                "its 'reason' column)",
                markup=False,
            )

    run(action)


def _figures(session: Session, project: Project, folder: Path) -> list[str]:
    """The seed's PRISMA diagram (as reported), the review's, and the RoB 1 figures."""
    from srma.figures.axes import save_figure
    from srma.figures.prisma import prisma_flow
    from srma.figures.rob import summary_plot, traffic_light
    from srma.review.appraise.export import reconciled_judgements, rob_assessment
    from srma.review.appraise.project import load_rob
    from srma.review.flagship import review_prisma, seed_prisma

    folder.mkdir(parents=True, exist_ok=True)
    assessment = rob_assessment(
        reconciled_judgements(load_rob(session, project)), complete_only=True
    )
    drawn = {
        "prisma_huang2024": prisma_flow(seed_prisma(session, project), title=SEED_PRISMA_TITLE),
        "prisma_review": prisma_flow(review_prisma(session, project), title=REVIEW_PRISMA_TITLE),
        "rob1_traffic_light": traffic_light(assessment),
        "rob1_summary": summary_plot(assessment),
    }
    paths = []
    for name, figure in drawn.items():
        for suffix in (".png", ".svg"):
            path = folder / f"{name}{suffix}"
            save_figure(figure, path)
            paths.append(str(path))
    return paths


def _exports(session: Session, project: Project, folder: Path) -> list[dict[str, object]]:
    """Each outcome's reconciled table (per time point) as CSV, with sources and reasons."""
    from srma.review.flagship import outcome_exports
    from srma.review.flow.export import to_csv

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for export in outcome_exports(session, project):
        name = f"{export.outcome}_{export.time_point}".replace(" ", "_").lower()
        path = folder / f"{name}.csv"
        to_csv(export.table, path)
        written.append(
            {
                "outcome": export.outcome,
                "time_point": export.time_point,
                "measure": export.measure,
                "file": str(path),
                "studies": len(export.table),
                "studies_with_values": len(export.analysable),
                "without_values": export.without_values(),
            }
        )
    return written


def _quick(out: Path) -> None:
    """Pool the nine stroke-unit trials of Normand (1999) and write a summary and forest plot."""
    from srma.analysis.meta import meta
    from srma.datasets import load
    from srma.report.summary import write_summary

    data = load("normand1999")
    result = meta(data, measure="MD", method="REML", test="knha", source=data.attrs["source"])
    paths = write_summary(
        result,
        out,
        name="normand1999_length_of_stay",
        title="Specialist stroke-unit care vs routine care: length of stay (days)",
        dataset_citation=data.attrs["citation"],
        favours=("stroke unit", "routine care"),
    )
    stdout.print(result.summary(), markup=False, highlight=False)
    stdout.print(f"\nOutput written to {out.resolve()}:", markup=False)
    for path in paths.values():
        stdout.print(f"  {path}", markup=False)
