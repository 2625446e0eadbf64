"""``srma simulate-methods``: run a simulation study of meta-analysis methods (srma.scale)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from srma.cli import CommandError, app, print_json, run, stderr
from srma.cli.projects import DbOption

SchedulerOption = Annotated[
    str | None,
    typer.Option(help="Dask: 'local' (a LocalCluster) or a scheduler address; default: run here."),
]
WorkersOption = Annotated[int, typer.Option(help="Worker processes (here or local Dask).")]


@app.command("simulate-methods")
def simulate_methods_command(
    study_file: Annotated[Path, typer.Argument(help="The study: scenarios, methods, seed.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Results folder.")],
    scheduler: SchedulerOption = None,
    workers: WorkersOption = 1,
    blocks_per_task: Annotated[
        int, typer.Option(help="Blocks of repetitions per task (same numbers for any).")
    ] = 1,
    plots: Annotated[bool, typer.Option(help="Draw the nested-loop and scenario plots.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Compare meta-analysis methods by simulation; resumes an interrupted study."""
    from srma.scale import load_study, run_study
    from srma.scale.summarise import summarise_study

    def action() -> None:
        from srma.analysis.validation import validate_options

        validate_options("simulate_methods", workers=workers)
        study = load_study(study_file)
        progress = Progress(
            TextColumn("simulating blocks"), BarColumn(), MofNCompleteColumn(),
            console=stderr, disable=as_json or not stderr.is_terminal,
        )  # fmt: skip
        with progress:
            task = progress.add_task("blocks", total=len(study.scenarios) * study.blocks)
            report = run_study(
                study, output, scheduler=scheduler, workers=workers,
                blocks_per_task=blocks_per_task,
                on_block=lambda done, total: progress.update(task, completed=done),
            )  # fmt: skip
        summary = summarise_study(study, output, plots=plots)
        if as_json:
            print_json({
                "study": study.name, "output": str(output), "computed_blocks": report.computed,
                "skipped_blocks": report.skipped, "tasks": report.tasks,
                "scheduler": report.scheduler, "workers": report.workers,
                "files": [str(p) for p in summary.files],
                "performance": summary.table.to_dict(orient="records"),
            })  # fmt: skip
            return
        stderr.print(
            f"{report.computed} blocks computed, {report.skipped} found done "
            f"({len(study.scenarios)} scenarios x {study.blocks} blocks of {study.block})",
            markup=False,
        )
        from srma.scale.performance import summary_table

        typer.echo(summary_table(summary.table).to_string(index=False, float_format="%.4g"))
        stderr.print(f"wrote {output}/performance.csv and {len(summary.files) - 1} more files",
                     markup=False)  # fmt: skip

    run(action)


@app.command("living-history")
def living_history_command(
    projects: Annotated[list[Path], typer.Argument(help="Project folders (one or many).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="The table (.csv).")],
    scheduler: SchedulerOption = None,
    workers: WorkersOption = 1,
    db: DbOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Re-run every project's planned analyses at every update of the living review (each
    update ends where the next search was imported): one row per project, update, outcome."""

    def action() -> None:
        from functools import partial

        from srma.analysis.validation import validate_options
        from srma.review.synthesize.history import living_history
        from srma.scale.run import map_tasks

        validate_options("simulate_methods", workers=workers)
        if output.suffix.lower() != ".csv":
            raise CommandError(f"{output}: write the history to a .csv file")
        table = living_history(
            projects, url=db, run=partial(map_tasks, scheduler=scheduler, workers=workers)
        )
        table.to_csv(output, index=False)
        if as_json:
            print_json({"output": str(output), "rows": table.to_dict(orient="records")})
            return
        updates = table[["project", "update"]].drop_duplicates()
        stderr.print(f"{len(updates)} updates of {len(projects)} projects, {len(table)} rows: "
                     f"wrote {output}", markup=False)  # fmt: skip

    run(action)
