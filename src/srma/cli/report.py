"""``srma report`` (HTML and DOCX)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from srma.cli.app import app
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
from srma.figures.limits import MAX_ROWS


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
) -> None:
    """Write a self-contained HTML report (and optionally DOCX) of one meta-analysis.

    A table longer than --max-rows is written to a CSV file beside the report
    (REPORT_outcome1_studies.csv, ..._data.csv, REPORT_characteristics.csv) and the
    report names it; the forest plot of more studies is drawn condensed.
    """

    def action() -> None:
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
