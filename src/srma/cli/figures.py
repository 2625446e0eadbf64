"""``srma forest``, ``funnel`` and ``prisma``: figures written to SVG, PNG or PDF.

``srma rob`` (risk-of-bias figures, and a project's assessment) lives in
:mod:`srma.cli.rob_project`, registered from here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from srma.cli.app import app
from srma.cli.shell import (
    CommandError,
    FavoursOption,
    LevelOption,
    ModelOptions,
    OutputOption,
    StudyOptions,
    TitleOption,
    favours_labels,
    figure_path,
    run,
    stderr,
    with_options,
    wrote,
)
from srma.figures.limits import MAX_ROWS


@app.command()
@with_options(studies=StudyOptions, model=ModelOptions)
def forest(
    studies: StudyOptions,
    model: ModelOptions,
    output: OutputOption,
    level: LevelOption = 0.95,
    favours: FavoursOption = None,
    title: TitleOption = None,
    by: Annotated[str | None, typer.Option(help="Column defining subgroups.")] = None,
    also_common: Annotated[
        bool, typer.Option("--also-common", help="Add the common-effect diamond.")
    ] = False,
    max_rows: Annotated[
        int,
        typer.Option(
            "--max-rows",
            min=1,
            help="Label at most this many studies one by one; more are drawn condensed "
            "(one line each, unlabelled).",
        ),
    ] = MAX_ROWS,
    rob_from: Annotated[
        Path | None,
        typer.Option(
            "--rob-from",
            help="A review project: its reconciled risk-of-bias judgements as columns "
            "(matched by study label).",
        ),
    ] = None,
    rob_outcome: Annotated[
        str | None,
        typer.Option(help="The outcome of --rob-from's judgements, when judged per result."),
    ] = None,
) -> None:
    """Draw a forest plot (RevMan layout; per-arm columns from raw data; subgroups with --by).

    More studies than --max-rows are drawn condensed: every study's interval and estimate
    as a thin line and a dot, without labels or per-study numbers (srma meta --json has them).
    """

    def action() -> None:
        from srma.analysis.conventions import adds_common_effect, study_label_column
        from srma.figures.axes import save_figure
        from srma.figures.forest import forest_plot, subgroup_forest

        figure_path(output)
        sides = favours_labels(favours)
        data = studies.read()
        study = study_label_column(data.table, data.label)
        arms = data.table if data.measure is not None and study is not None else None
        drawing = {"favours": sides, "title": title, "arms": arms, "label": study or "study",
                   "columns": data.columns, "max_rows": max_rows}  # fmt: skip
        rob = None
        if rob_from is not None:
            from srma.cli.rob_project import project_assessment

            if by is not None:
                raise CommandError("--rob-from draws its columns on a forest plot without --by")
            rob = project_assessment(rob_from, None, rob_outcome, None, complete_only=True)
        if by is not None:
            from srma.analysis.subgroups import subgroup_analysis

            groups = subgroup_analysis(
                data.table, by, **model.settings(), level=level, **data.arguments()
            )
            figure = subgroup_forest(groups, **drawing)
        else:
            result = data.fit(**model.settings(), level=level)
            common = None
            if also_common and adds_common_effect(result):
                common = data.fit(method="EE", level=level)
            figure = forest_plot(result, also=common, rob=rob, **drawing)
        save_figure(figure, output)
        wrote(output)

    run(action)


@app.command()
@with_options(studies=StudyOptions, model=ModelOptions)
def funnel(
    studies: StudyOptions,
    model: ModelOptions,
    output: OutputOption,
    contours: Annotated[bool, typer.Option(help="Shade p < 0.10, 0.05, 0.01.")] = False,
    trimfill: Annotated[bool, typer.Option(help="Show trim-and-fill's imputed studies.")] = False,
    egger: Annotated[bool, typer.Option(help="Draw Egger's regression line.")] = False,
    title: TitleOption = None,
) -> None:
    """Draw a funnel plot, optionally contour-enhanced, with trim-and-fill and Egger's line."""

    def action() -> None:
        from srma.analysis.bias import funnel_contours, small_study_tests
        from srma.figures.axes import save_figure
        from srma.figures.funnel import funnel_plot

        figure_path(output)
        result = studies.read().fit(**model.settings())
        tests = small_study_tests(result) if (trimfill or egger) else None
        figure = funnel_plot(
            result,
            contours=funnel_contours(result) if contours else None,
            trimfill=tests.trimfill if tests is not None and trimfill else None,
            egger=tests.egger if tests is not None and egger else None,
            title=title,
        )
        save_figure(figure, output)
        wrote(output)

    run(action)


@app.command()
def prisma(
    counts: Annotated[
        Path,
        typer.Argument(
            help="CSV with 'data' and 'n' (PRISMA2020 fields), or a review project folder."
        ),
    ],
    output: OutputOption,
    title: Annotated[str | None, typer.Option(help="Title above the diagram.")] = None,
    db: Annotated[
        str | None, typer.Option("--db", help="Database URL of the project (see srma init).")
    ] = None,
) -> None:
    """Draw the PRISMA 2020 flow diagram; warn where the counts do not add up."""

    def action() -> None:
        from srma.figures.axes import save_figure
        from srma.figures.prisma import prisma_flow
        from srma.review.flow.prisma import read_prisma

        figure_path(output)
        if not counts.exists():
            raise CommandError(f"{counts}: no such file")
        if counts.is_dir():
            from srma.review.flow.status import prisma_counts
            from srma.review.project import open_project

            project = open_project(counts, url=db)
            with project.store.transaction() as session:
                numbers = prisma_counts(session, project)
            project.close()
            for note in numbers.notes.values():
                stderr.print(f"warning: {counts}: {note}", markup=False)
        else:
            numbers = read_prisma(counts)
        for problem in numbers.inconsistencies():
            stderr.print(f"warning: {counts}: {problem}", markup=False)
        save_figure(prisma_flow(numbers, title=title), output)
        wrote(output)

    run(action)


from srma.cli import rob_project as _rob_project  # noqa: E402, F401  (registers srma rob)
