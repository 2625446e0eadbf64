"""``srma report`` (HTML and DOCX)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from srma.cli.app import app
from srma.cli.projects import DbOption, project_session
from srma.cli.shell import (
    ColumnOption,
    CommandError,
    DataArgument,
    LabelOption,
    MeasureOption,
    MethodOption,
    SeiOption,
    TestOption,
    ViOption,
    YiOption,
    effect_data,
    favours_labels,
    read_table,
    run,
    stderr,
    wrote,
)
from srma.figures.limits import FOREST_ROWS, MAX_ROWS


@app.command()
def report(
    data: DataArgument,
    output: Annotated[Path, typer.Option("-o", "--output", help="The HTML report to write.")],
    measure: MeasureOption = None,
    yi: YiOption = None,
    vi: ViOption = None,
    sei: SeiOption = None,
    method: MethodOption = "REML",
    test: TestOption = "z",
    label: LabelOption = None,
    title: Annotated[str, typer.Option(help="Title of the report.")] = "Meta-analysis report",
    outcome: Annotated[str, typer.Option(help="Name of the outcome.")] = "Outcome",
    docx: Annotated[Path | None, typer.Option(help="Also write a DOCX version.")] = None,
    rob_file: Annotated[
        Path | None, typer.Option("--rob", help="Risk-of-bias judgements (robvis layout).")
    ] = None,
    tool: Annotated[str, typer.Option(help="Risk-of-bias tool of --rob.")] = "rob2",
    label_columns: Annotated[
        str | None,
        typer.Option(help='Columns of --rob forming the study label, e.g. "study,year".'),
    ] = None,
    favours: Annotated[
        str | None,
        typer.Option(
            help='Labels under the forest plot, "left,right" (default experimental,control).'
        ),
    ] = None,
    prisma_file: Annotated[
        Path | None, typer.Option("--prisma", help="PRISMA counts (data, n).")
    ] = None,
    bias_tests: Annotated[
        bool, typer.Option("--bias/--no-bias", help="Small-study tests and funnel plot.")
    ] = True,
    characteristics: Annotated[
        Path | None,
        typer.Option(help="CSV of study characteristics, shown as a table."),
    ] = None,
    col: ColumnOption = None,
    max_rows: Annotated[
        int,
        typer.Option(
            "--max-rows",
            min=1,
            help="Print tables of at most this many rows (longer ones go to CSV files beside "
            "the report) and label at most this many studies in the forest plot.",
        ),
    ] = MAX_ROWS,
    evidence_by: Annotated[
        str | None,
        typer.Option(
            "--evidence-by",
            help="A project's report: tabulate the studies by this characteristic (e.g. route "
            "of administration).",
        ),
    ] = None,
    figures: Annotated[
        Path | None,
        typer.Option(help="A project's report: also write every figure as PNG to this folder."),
    ] = None,
    forest_rows: Annotated[
        int,
        typer.Option(
            "--forest-rows",
            min=1,
            help="A project's report: label at most this many studies in a forest plot "
            "(more are drawn condensed, with a table of the studies).",
        ),
    ] = FOREST_ROWS,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            min=1,
            help="A project's report: processes that draw the figures (default: one per "
            "processor).",
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Write a self-contained HTML report (and optionally DOCX) of one meta-analysis, or of
    a whole review when DATA is a project folder.

    A project's report runs and stores the planned analyses (as srma analyze) and
    writes the protocol, the methods as done, PRISMA 2020, study characteristics,
    risk of bias, every outcome with its follow-ups, the summary of findings and
    what is missing (docs/report.md).  A table longer than --max-rows is written
    to a CSV file beside the report (REPORT_outcome1_studies.csv, ..._data.csv,
    REPORT_characteristics.csv) and the report names it; the forest plot of more
    studies is drawn condensed.
    """
    if data.is_dir():
        one_analysis = {"--measure": measure, "--yi": yi, "--vi": vi, "--sei": sei,
                        "--rob": rob_file, "--prisma": prisma_file,
                        "--characteristics": characteristics, "--label": label}  # fmt: skip
        given = [flag for flag, value in one_analysis.items() if value is not None]

        def project_action() -> None:
            if given:
                raise CommandError(
                    f"{', '.join(given)}: a project's report reads these from the project"
                )
            from srma.report.review.project import write_project_report

            with project_session(data, db) as (opened, session):
                written = write_project_report(
                    session, opened, output, docx, evidence_by=evidence_by, figures=figures,
                    max_rows=max_rows, forest_rows=forest_rows, jobs=jobs,
                )  # fmt: skip
            for path in written:
                wrote(path)

        run(project_action)
        return

    def action() -> None:
        if any(option is not None for option in (evidence_by, figures, db, jobs)):
            raise CommandError("--evidence-by, --figures, --jobs and --db are for a project folder")
        from srma.analysis.bias import small_study_tests
        from srma.analysis.conventions import study_label_column, supports_follow_up
        from srma.report.document import Outcome, build_report, write_docx, write_html
        from srma.review.appraise.risk_of_bias import read_rob
        from srma.review.flow.prisma import read_prisma

        if output.suffix.lower() not in (".html", ".htm"):
            raise CommandError(f"{output}: the report must end in .html")
        if docx is not None and docx.suffix.lower() != ".docx":
            raise CommandError(f"{docx}: --docx must end in .docx")
        sides = favours_labels(favours)
        studies = effect_data(data, measure=measure, yi=yi, vi=vi, sei=sei, col=col, label=label)
        table = studies.table
        result = studies.fit(method=method, test=test)
        study = study_label_column(table, label) or "study"
        tests = small_study_tests(result) if bias_tests and supports_follow_up(result) else None
        for path in (rob_file, prisma_file, characteristics):
            if path is not None and not path.exists():
                raise CommandError(f"{path}: no such file")
        assessment = None
        if rob_file is not None:
            labels = None
            if label_columns is not None:
                labels = [c.strip() for c in label_columns.split(",") if c.strip()]
            assessment = read_rob(rob_file, tool, label_columns=labels)
            unmatched = [name for name in assessment.studies if name not in set(result.labels)]
            if unmatched:
                stderr.print(
                    f"warning: {rob_file}: {len(unmatched)} of {len(assessment.studies)} "
                    f"risk-of-bias studies match no study label of the data: "
                    f"{', '.join(unmatched)} (see --label-columns)",
                    markup=False,
                    highlight=False,
                )
        content = build_report(
            title,
            [
                Outcome(
                    outcome,
                    result,
                    arms=table if measure is not None else None,
                    label=study,
                    small_study=tests,
                    favours=sides,
                )
            ],
            rob=assessment,
            prisma=read_prisma(prisma_file) if prisma_file is not None else None,
            characteristics=read_table(characteristics) if characteristics is not None else None,
            max_rows=max_rows,
        )
        write_html(content, output)
        wrote(output)
        if docx is not None:
            write_docx(content, docx)
            wrote(docx)

    run(action)
