"""``srma extract ...``: data extraction by two blinded extractors, reconciled, exported.

Study grouping (``link``) and arms (``arms``), a reviewer's form (``form``, an
XLSX workbook or the long CSV form) and its import (``import``, only the
changes, all or nothing), submissions (``submit``, or the workbook's
``submitted`` column), discrepancies and agreement (``compare``),
resolutions (``resolve``, or a consensus workbook), counts (``status``) and
the reconciled, converted data of one outcome for ``srma meta`` (``export``).
See docs/extraction.md.  Thin: every rule lives in :mod:`srma.review.extract`.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from srma.cli import app, print_json, run, stderr
from srma.cli.assessing import (
    AllStudiesOption,
    CsvOutputOption,
    FormArgument,
    FormOutputOption,
    SubmitStudyOption,
    consensus_option,
    import_or_exit,
    say_imported,
)
from srma.cli.projects import (
    DbOption,
    JsonOption,
    ProjectArgument,
    ReviewerOption,
    project_session,
    say,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from srma.review.extract.context import Extraction
    from srma.review.extract.importing import ImportResult
    from srma.review.project import Project

extract_app = typer.Typer(
    name="extract",
    help="Data extraction: study grouping, blinded forms for two extractors, import, "
    "compare, resolve, export for srma meta (docs/extraction.md).",
    no_args_is_help=True,
)
app.add_typer(extract_app, name="extract")

StudyOption = Annotated[str, typer.Option("--study", help="The study (its label, or #ID).")]
ConsensusOption = consensus_option("extractor", "values")


def _extraction(session: Session, opened: Project) -> Extraction:
    from srma.review.extract.context import load_extraction

    return load_extraction(session, opened)


@extract_app.command("status")
def status_command(
    project: ProjectArgument, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """The studies to extract and who has submitted them: counts only, never a value.

    Per study its records, arms and how many extractors submitted it; per
    reviewer the studies submitted and the values entered.
    """

    def action() -> None:
        with project_session(project, db) as (opened, session):
            status = _extraction(session, opened).status()
        if as_json:
            print_json(status)
            return
        for study in status["studies"]:  # type: ignore[union-attr]
            arms = ", ".join(f"{n} ({g})" for n, g in study["arms"])
            state = "blinded" if study["blinded"] else "open"
            say(
                f"{study['study']} (#{study['study_id']}; records "
                f"{', '.join(map(str, study['records']))}): {arms}; "
                f"{study['submitted']} of {study['required']} submitted, {state}"
            )
        for name, counts in status["reviewers"].items():  # type: ignore[union-attr]
            say(f"{name}: {counts['submitted']} studies submitted, {counts['values']} values")

    run(action)


@extract_app.command("link")
def link_command(
    project: ProjectArgument,
    records: Annotated[
        str, typer.Option(help="Record ids of one trial's reports, main report first: 12,15.")
    ],
    reviewer: ReviewerOption,
    study: Annotated[
        str | None, typer.Option("--study", help="The study's label (default: Author year).")
    ] = None,
    db: DbOption = None,
) -> None:
    """Group linked publications of one trial into one study (a logged event)."""
    from srma.errors import InputError
    from srma.review.extract.studies import link_records

    def action() -> None:
        try:
            ids = [int(r) for r in records.replace(" ", "").split(",") if r]
        except ValueError:
            raise InputError(
                f"--records expects record ids such as 12,15, got {records!r}"
            ) from None
        with project_session(project, db) as (opened, session):
            extraction = _extraction(session, opened)
            event = link_records(
                session, opened, extraction.review, records=ids, reviewer=reviewer, label=study
            )
        say(f"records {', '.join(map(str, ids))} are one study (event {event})")

    run(action)


@extract_app.command("arms")
def arms_command(
    project: ProjectArgument,
    study: StudyOption,
    arm: Annotated[list[str], typer.Option(help="An arm and its group, NAME=GROUP (repeatable).")],
    reviewer: ReviewerOption,
    choose: Annotated[
        list[str] | None,
        typer.Option(help="The arm used for its group when multi_arm is 'choose' (repeatable)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Name a study's arms and the comparison's group each belongs to (a logged event)."""
    from srma.review.extract.studies import parse_arms, set_arms

    def action() -> None:
        with project_session(project, db) as (opened, session):
            extraction = _extraction(session, opened)
            found = extraction.studies.find(study)
            event = set_arms(
                session,
                opened,
                extraction.state.value_counts(),
                study=found,
                arms=parse_arms(arm),
                chosen=choose or [],
                reviewer=reviewer,
            )
        say(f"arms of {found.label} recorded (event {event})")

    run(action)


@extract_app.command("form")
def form_command(
    project: ProjectArgument,
    reviewer: ReviewerOption,
    output: FormOutputOption,
    consensus: ConsensusOption = False,
    db: DbOption = None,
) -> None:
    """Write a reviewer's form (XLSX or long CSV) with your earlier values, nobody else's.

    With --consensus: the studies every extractor submitted, to reconcile.
    """
    from srma.review.extract.writing import write_reviewer_form

    def action() -> None:
        with project_session(project, db) as (opened, session):
            extraction = _extraction(session, opened)
            write_reviewer_form(session, extraction, output, reviewer=reviewer, consensus=consensus)
        say(f"wrote {output}", console=stderr)

    run(action)


@extract_app.command("import")
def import_command(
    project: ProjectArgument,
    file: FormArgument,
    reviewer: ReviewerOption,
    consensus: ConsensusOption = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import a form: only what changed is stored; a file with any problem stores nothing.

    Each value is stored with who, when, the file, sheet and cell; every
    problem is listed with its sheet and cell (or line and column).
    """
    from srma.review.extract.importing import import_form

    def action() -> None:
        def load() -> ImportResult:
            with project_session(project, db) as (opened, session):
                extraction = _extraction(session, opened)
                return import_form(
                    session, extraction, file, reviewer=reviewer, consensus=consensus
                )

        result = import_or_exit(load, as_json=as_json)
        say_imported(
            result,
            f"{result.file}: {result.values_changed} of {result.values_read} values changed "
            f"in {len(result.studies_changed)} studies; {len(result.submitted)} studies submitted",
            as_json=as_json,
        )

    run(action)


@extract_app.command("submit")
def submit_command(
    project: ProjectArgument,
    reviewer: ReviewerOption,
    study: SubmitStudyOption = None,
    all_studies: AllStudiesOption = False,
    db: DbOption = None,
) -> None:
    """Submit studies: your extraction of them is complete (never taken back).

    Once every extractor has submitted a study, its values are compared.
    """
    from srma.review.extract.importing import submit

    def action() -> None:
        with project_session(project, db) as (opened, session):
            extraction = _extraction(session, opened)
            labels = [s.label for s in extraction.studies] if all_studies else study or []
            events = submit(session, extraction, reviewer=reviewer, labels=labels)
        say(f"{len(events)} studies submitted")

    run(action)


@extract_app.command("compare")
def compare_command(
    project: ProjectArgument, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """Discrepancies between the extractors and their agreement (%, Cohen's kappa).

    Only studies every extractor submitted are compared; the others show counts only.
    """
    from srma.review.extract.compare import compare

    def action() -> None:
        with project_session(project, db) as (opened, session):
            extraction = _extraction(session, opened)
            result = compare(extraction.state, extraction.form)
        if as_json:
            print_json(result.to_dict())
            return
        say(
            f"{result.studies} studies: {result.open_studies} submitted by every extractor, "
            f"{len(result.blinded)} blinded; {len(result.discrepancies)} open discrepancies, "
            f"{len(result.resolved)} resolved"
        )
        for label, submitted in result.blinded:
            say(f"  blinded: {label} ({submitted} of {result.required} submitted)")
        for d in result.discrepancies:
            where = ", ".join(p for p in (d.outcome or "characteristics", d.arm, d.time_point) if p)
            values = "; ".join(
                f"{r}: {v if v is not None else '(blank)'}" + (f" ({s})" if s else "")
                for r, v, s in d.values
            )
            say(f"  {d.study}, {where}, {d.field}: {values}")
        for pair in result.agreement:
            head = f"{pair.reviewer1} vs {pair.reviewer2} ({pair.studies} studies)"
            numbers = "n/a" if pair.numbers_percent is None else f"{pair.numbers_percent:.1f}%"
            say(f"{head}: numbers {pair.numbers_agreed}/{pair.number_items} agree ({numbers})")
            for c in pair.categories:
                kappa = (
                    c.problem
                    if c.kappa is None
                    else (
                        f"kappa {c.kappa.kappa:.3f} ({100 * c.kappa.level:.0f}% CI "
                        f"{c.kappa.ci_lower:.3f} to {c.kappa.ci_upper:.3f})"
                    )
                )
                where = c.outcome or "characteristics"
                say(f"  {where}, {c.field}: {c.agreed}/{c.items} agree; {kappa}")

    run(action)


@extract_app.command("resolve")
def resolve_command(
    project: ProjectArgument,
    study: StudyOption,
    field: Annotated[str, typer.Option(help="The field (e.g. sd, events, country).")],
    value: Annotated[str, typer.Option(help='The value that stands ("" for none).')],
    reviewer: ReviewerOption,
    outcome: Annotated[
        str | None, typer.Option(help="The outcome (leave out for a study characteristic).")
    ] = None,
    arm: Annotated[str | None, typer.Option(help="The arm (or comparison, A vs B).")] = None,
    time_point: Annotated[str | None, typer.Option("--time-point", help="The time point.")] = None,
    note: Annotated[str | None, typer.Option(help="Why (recorded).")] = None,
    db: DbOption = None,
) -> None:
    """Settle one value of a study every extractor submitted (a resolution event)."""
    from srma.review.extract.resolve import item_key, resolve_item

    def action() -> None:
        with project_session(project, db) as (opened, session):
            extraction = _extraction(session, opened)
            key = item_key(
                opened,
                extraction.form,
                study=study,
                field=field,
                outcome=outcome,
                arm=arm,
                time=time_point,
            )
            event = resolve_item(
                session,
                opened,
                extraction.state,
                extraction.form,
                reviewer=reviewer,
                key=key,
                value=value,
                note=note,
            )
        say(f"resolved (event {event})")

    run(action)


@extract_app.command("export")
def export_command(
    project: ProjectArgument,
    outcome: Annotated[str, typer.Option(help="The outcome to export.")],
    output: CsvOutputOption = None,
    time_point: Annotated[
        str | None,
        typer.Option("--time-point", help="The time point (default: the protocol's first)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """The reconciled, converted data of one outcome, ready for srma meta.

    srma's columns (mean1, sd1, n1, ... or events1, ... or yi, sei), each
    conversion recorded, study characteristics as columns; a study that cannot
    be analysed keeps its row with the reason in 'missing'.
    """
    import sys

    from srma.review.extract.export import export_outcome
    from srma.review.flow.export import to_csv

    def action() -> None:
        with project_session(project, db) as (opened, session):
            extraction = _extraction(session, opened)
            table = export_outcome(
                extraction.form, extraction.state, opened.protocol, outcome, time_point
            )
        if output is None:
            sys.stdout.write(to_csv(table.table) or "")
            return
        table.write(output)
        missing = int((table.table["missing"] != "").sum())
        say(
            f"wrote {len(table.table)} rows ({missing} with a reason in 'missing') to {output}; "
            f"analyse with: srma {table.command} {output} {' '.join(table.meta_arguments())}",
            console=stderr,
        )

    run(action)


@extract_app.command("example")
def example_command(
    folder: Annotated[Path, typer.Argument(help="A new folder for the example project.")],
    db: DbOption = None,
) -> None:
    """Build the example review (13 BCG vaccine trials, shipped with srma) ready to extract.

    Its records are screened in by Ana and Ben; folder/example holds their long
    CSV forms (docs/extraction.md walks through the rest).
    """
    from srma.review.extract.example import build_example

    def action() -> None:
        build_example(folder, url=db)
        say(f"example review in {folder}; the extractors' forms are in {folder / 'example'}")

    run(action)
