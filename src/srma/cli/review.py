"""``srma`` commands for a review project: init, import, dedup, reviewers, screening, status.

Each command opens the project (validating its protocol), does its work in
one transaction and prints a human summary or, with ``--json``, strict JSON.

Record text is data, never instructions to the terminal: everything printed
for people goes through :func:`srma.text_safety.printable` (no escape
sequences, control characters or bidi overrides) and is never read as rich
markup (``say``, ``cell``).
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from srma.cli import CommandError, app, print_json, run, stderr
from srma.cli.projects import (
    DbOption,
    JsonOption,
    ProjectArgument,
    ReviewerOption,
    project_session,
    say,
    stdout,
)
from srma.text_safety import printable

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from srma.review.identify.merging import PairToReview
    from srma.review.project import Project


def cell(value: object) -> Text:
    """A table cell for people: made printable, never read as markup."""
    return Text(printable("" if value is None else str(value)))


StageOption = Annotated[str, typer.Option(help="title_abstract (ta) or full_text (ft).")]
ViewerOption = Annotated[
    str | None,
    typer.Option("--reviewer", help="Your reviewer name: your own decisions are never blinded."),
]
UnblindOption = Annotated[
    bool,
    typer.Option(
        "--unblind",
        help="Show blinded decisions too (needs --reviewer; recorded in the log as an event).",
    ),
]


def _moment(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"--at/--until expects a time like 2026-12-01T12:00, got {text!r}"
        ) from None


@app.command("init")
def init_command(
    project: ProjectArgument,
    title: Annotated[str, typer.Option(help="The review's title.")] = "Untitled review",
    db: DbOption = None,
) -> None:
    """Create a project folder with a protocol template (review.toml) and its database."""
    from srma.review.project import init_project

    def action() -> None:
        opened = init_project(project, title=title, url=db)
        opened.close()
        say(f"project ready in {project}; edit {project / 'review.toml'}")

    run(action)


@app.command("import")
def import_command(
    project: ProjectArgument,
    files: Annotated[list[Path], typer.Argument(help="Export files (RIS, MEDLINE, WoS, ...).")],
    source: Annotated[
        str | None, typer.Option(help="Source database (default: from the file).")
    ] = None,
    search_date: Annotated[str | None, typer.Option(help="Date of the search, YYYY-MM-DD.")] = None,
    by: Annotated[str | None, typer.Option(help="Who imports (recorded).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import search results in one transaction; report what was read, stored and not stored."""
    from srma.review.identify.importing import import_files
    from srma.review.project import open_project

    def action() -> None:
        opened = open_project(project, url=db)
        progress = Progress(
            TextColumn("storing records"), BarColumn(), MofNCompleteColumn(),
            console=stderr, disable=as_json or not stderr.is_terminal,
        )  # fmt: skip
        with progress:
            task = progress.add_task("store", total=None)
            results = import_files(
                opened, files, source=source, search_date=search_date, imported_by=by,
                on_stored=lambda n: progress.advance(task, n),
            )  # fmt: skip
        opened.close()
        if as_json:
            print_json({"files": [r.to_dict() for r in results]})
            return
        for r in results:
            if r.skipped is not None:
                say(r.skipped)
                continue
            say(
                f"{r.path} ({r.format}, {r.source}): {r.records_read} read, "
                f"{r.records_stored} stored, {len(r.problems)} not stored"
            )
            for problem in r.problems:
                say(f"  line {problem.line}: {problem.message}")

    run(action)


@app.command("reviewer")
def reviewer_command(
    project: ProjectArgument,
    add: Annotated[list[str] | None, typer.Option(help="Register a reviewer (repeatable).")] = None,
    rename: Annotated[
        tuple[str, str] | None,
        typer.Option(
            metavar="OLD NEW", help="Rename a reviewer (logged; past decisions stay theirs)."
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Register reviewers (names are unique, case-insensitively), rename one, and list them."""
    from srma.review.project import SYSTEM_REVIEWER, add_reviewer, rename_reviewer, reviewer_names

    def action() -> None:
        with project_session(project, db) as (_opened, session):
            for name in add or []:
                add_reviewer(session, name)
            if rename is not None and rename[0] is not None:
                rename_reviewer(session, rename[0], rename[1])
            names = list(reviewer_names(session).values())
        for name in names:
            if name == SYSTEM_REVIEWER:  # srma's own automatic decisions, not a person
                continue
            say(name)

    run(action)


@app.command("dedup")
def dedup_command(
    project: ProjectArgument,
    review: Annotated[bool, typer.Option("--review", help="Judge uncertain pairs now.")] = False,
    undo: Annotated[
        int | None, typer.Option(help="Undo the merge of this record (by record id).")
    ] = None,
    reviewer: Annotated[str, typer.Option(help="Who judges pairs or undoes merges.")] = "",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Find and merge duplicates (exact DOI/PMID, then fuzzy titles); list pairs to review."""
    from srma.review.identify.merging import deduplicate, undo_merge
    from srma.review.project import open_project

    def action() -> None:
        opened = open_project(project, url=db)
        if (review or undo is not None) and not reviewer.strip():
            raise CommandError("--review and --undo need --reviewer NAME")
        if undo is not None:
            with opened.store.transaction() as session:
                event = undo_merge(session, reviewer=reviewer, record_id=undo)
            say(f"merge of record {undo} undone (event {event})")
            return
        with opened.store.transaction() as session:
            outcome = deduplicate(session)
        if as_json and not review:
            print_json(outcome.to_dict())
            return
        say(
            f"{outcome.records} records: {len(outcome.merged_now)} merged now, "
            f"{outcome.merged_before} merged before, {outcome.unique_records} unique; "
            f"{len(outcome.to_review)} pairs need review"
        )
        for duplicate, kept, reason in outcome.merged_now:
            say(f"  record {duplicate} -> {kept}: {reason}")
        if review:
            _review_pairs(opened, outcome.to_review, reviewer)
        opened.close()

    run(action)


def _review_pairs(opened: Project, pairs: tuple[PairToReview, ...], reviewer: str) -> None:
    from srma.review.identify.merging import judge_pair
    from srma.store import RecordRow

    for number, pair in enumerate(pairs, start=1):
        with opened.store.transaction() as session:
            first = session.get(RecordRow, pair.first)
            second = session.get(RecordRow, pair.second)
            table = Table(title=cell(f"pair {number} of {len(pairs)}: {pair.reason}"))
            table.add_column("")
            table.add_column(f"record {first.id}")
            table.add_column(f"record {second.id}")
            for field in ("title", "authors", "year", "journal", "volume", "pages", "doi"):
                values = [getattr(r, field) for r in (first, second)]
                shown = ["; ".join(v[:3]) if isinstance(v, list) else str(v or "") for v in values]
                table.add_row(field, *(cell(v) for v in shown))
            stdout.print(table)
            answer = typer.prompt("same reference? [d]uplicate, [n]ot, [s]kip, [q]uit", default="s")
            choice = answer.strip().lower()[:1]
            if choice == "q":
                return
            if choice in ("d", "n"):
                judge_pair(
                    session, reviewer=reviewer, first=pair.first, second=pair.second,
                    same=choice == "d",
                )  # fmt: skip


@app.command("decide")
def decide_command(
    project: ProjectArgument,
    decision: Annotated[str, typer.Argument(help="include, exclude or maybe.")],
    record: Annotated[int, typer.Option(help="Record id.")],
    reviewer: ReviewerOption,
    stage: StageOption = "title_abstract",
    reason: Annotated[str | None, typer.Option(help="Exclusion reason (protocol list).")] = None,
    note: Annotated[str | None, typer.Option(help="A note.")] = None,
    db: DbOption = None,
) -> None:
    """Record one screening decision (for scripts; `srma screen` is the interactive way)."""
    from srma.review.screen.decisions import decide

    def action() -> None:
        with project_session(project, db) as (opened, session):
            event = decide(
                session, opened, reviewer=reviewer, record_id=record, stage=stage,
                decision=decision, reason=reason, note=note,
            )  # fmt: skip
        say(f"recorded (event {event})")

    run(action)


@app.command("conflicts")
def conflicts_command(
    project: ProjectArgument,
    stage: Annotated[
        str | None, typer.Option(help="title_abstract (ta) or full_text (ft); default: both.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List records on which the reviewers disagree (open conflicts), with titles and notes."""
    from dataclasses import asdict

    from srma.review.decision_log import STAGES, stage_name
    from srma.review.state import load_state

    def action() -> None:
        stages = STAGES if stage is None else (stage_name(stage),)
        with project_session(project, db) as (opened, session):
            state = load_state(session, opened)
        found = [c for s in stages for c in state.conflicts(s)]
        if as_json:
            print_json([asdict(c) for c in found])
            return
        say(f"{len(found)} open conflicts")
        for c in found:
            votes = ", ".join(
                f"{name}: {decision}" + (f" ({reason})" if reason else "")
                for name, decision, reason in c.decisions
            )
            about = " on the reason" if c.on == "reason" else ""
            say(f"  record {c.record_id} at {c.stage}{about}: {c.title or '(no title)'}")
            say(f"    {votes}")
            for name, note in c.notes:
                say(f"    note by {name}: {note}")

    run(action)


@app.command("resolve")
def resolve_command(
    project: ProjectArgument,
    decision: Annotated[str, typer.Argument(help="include or exclude.")],
    record: Annotated[int, typer.Option(help="Record id.")],
    reviewer: ReviewerOption,
    method: Annotated[str, typer.Option(help="'third reviewer' or 'consensus'.")],
    stage: Annotated[
        str | None,
        typer.Option(help="title_abstract (ta) or full_text (ft); default: the conflict's."),
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Exclusion reason (protocol list).")] = None,
    note: Annotated[str | None, typer.Option(help="A note.")] = None,
    db: DbOption = None,
) -> None:
    """Resolve a conflict by a third reviewer or by consensus (recorded as an event).

    Resolving again replaces the earlier resolution (which stays in the log).
    """
    from srma.review.screen.decisions import resolve
    from srma.store import Event

    def action() -> None:
        with project_session(project, db) as (opened, session):
            event = resolve(
                session, opened, reviewer=reviewer, record_id=record, stage=stage,
                decision=decision, method=method, reason=reason, note=note,
            )  # fmt: skip
            written = session.get(Event, event)
            settled = f"{written.decision}" + (f" ({written.reason})" if written.reason else "")
            at = written.stage
        say(f"resolved record {record} at {at}: {settled} (event {event})")

    run(action)


@app.command("agreement")
def agreement_command(
    project: ProjectArgument,
    stage: StageOption = "title_abstract",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Agreement between reviewers at a stage: % agreement, Cohen's kappa (CI), PABAK, Fleiss."""
    from srma.review.screen.agreement import agreement_of
    from srma.review.state import load_state

    def action() -> None:
        with project_session(project, db) as (opened, session):
            result = agreement_of(load_state(session, opened), stage)
        if as_json:
            print_json(result.to_dict())
            return
        for pair in result.pairs:
            head = f"{pair.reviewer1} vs {pair.reviewer2}"
            if pair.kappa is None:
                say(f"{head}: {pair.problem}")
                continue
            k = pair.kappa
            say(
                f"{head} ({k.n} records): agreement {100 * k.observed_agreement:.1f}%, "
                f"kappa {k.kappa:.3f} ({100 * k.level:.0f}% CI {k.ci_lower:.3f} to "
                f"{k.ci_upper:.3f}), PABAK {k.pabak:.3f}"
            )
        if result.fleiss is not None:
            f = result.fleiss
            say(
                f"Fleiss' kappa ({f.items} records, {f.raters} reviewers): {f.kappa:.3f} "
                f"(z = {f.statistic:.2f}, p = {f.pvalue:.3g})"
            )
        elif result.fleiss_problem:
            say(f"Fleiss' kappa: {result.fleiss_problem}")

    run(action)


@app.command("status")
def status_command(
    project: ProjectArgument,
    at: Annotated[str | None, typer.Option(help="The state at this past time (ISO).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Counts per stage and who has done what (now, or at a past moment with --at)."""
    from srma.review.flow.status import project_status

    def action() -> None:
        with project_session(project, db) as (opened, session):
            status = project_status(session, opened, until=_moment(at))
        if as_json:
            print_json(status.to_dict())
            return
        say(f"{opened.protocol.title}")
        say(
            f"{len(status.imports)} imports, {status.records} records, "
            f"{status.duplicates_merged} duplicates merged"
        )
        table = Table("", *(s.stage.replace("_", " ") for s in status.stages))
        fields = ("records", "included", "excluded", "conflicts", "resolved", "pending")
        for field in fields:
            table.add_row(field, *(str(getattr(s, field)) for s in status.stages))
        table.add_row(
            f"partly decided (of {opened.protocol.reviewers_per_record} needed)",
            *(str(s.partly_decided) for s in status.stages),
        )
        reviewers = sorted({name for s in status.stages for name in s.decisions_by_reviewer})
        for name in reviewers:
            table.add_row(
                cell(f"decided by {name}"),
                *(str(s.decisions_by_reviewer.get(name, 0)) for s in status.stages),
            )
        stdout.print(table)

    run(action)


@app.command("audit")
def audit_command(
    project: ProjectArgument,
    until: Annotated[str | None, typer.Option(help="Only events up to this time (ISO).")] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Write the log as CSV (formula-like text cells get a leading ')."),
    ] = None,
    reviewer: ViewerOption = None,
    unblind: UnblindOption = False,
    db: DbOption = None,
) -> None:
    """Export the append-only decision log (who, when, stage, decision, reason, note).

    Decisions still blinded (a record waiting for a reviewer it needs) show
    'blinded' and no reason or note, except your own with --reviewer;
    --unblind shows them and is recorded in the log.
    """
    from srma.review.decision_log import events_frame
    from srma.review.flow.export import to_csv
    from srma.review.state import load_state, record_unblinding

    def action() -> None:
        with project_session(project, db) as (opened, session):
            if unblind:
                command = _command_line(
                    "audit", project, "--until", until, "--out", out,
                    "--reviewer", reviewer,
                )  # fmt: skip
                record_unblinding(session, reviewer=reviewer or "", command=command)
            state = load_state(session, opened, until=_moment(until))
            frame = events_frame(state.audit_events(viewer=_viewer(session, reviewer),
                                                    unblind=unblind))  # fmt: skip
        if out is not None:
            to_csv(frame, out)
            say(f"wrote {len(frame)} events to {out}", console=stderr)
        elif sys.stdout.isatty():  # for a person: nothing in a note may act on the terminal
            sys.stdout.write(printable(to_csv(frame)))
        else:
            sys.stdout.write(to_csv(frame))

    run(action)


@app.command("verify")
def verify_command(
    project: ProjectArgument,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check that the log was not rewritten: the events' hash chain and the append-only triggers.

    Reads the database without changing it, even one whose triggers were
    dropped. Exit status 1 when anything is wrong. Note the head hash it prints:
    a later check that ends in another head means earlier events changed.
    """
    from srma.review.project import database_url
    from srma.store import check_log

    def action() -> None:
        if not project.is_dir():
            raise CommandError(f"{project}: no such project folder")
        check = check_log(database_url(project, db))
        if as_json:
            print_json(check.to_dict())
        else:
            state = "intact" if check.intact else "NOT intact"
            say(f"{check.events} events, log {state}; head {check.head}")
            for problem in check.problems:
                say(f"  {problem}")
        if not check.intact:
            raise typer.Exit(code=1)

    run(action)


def _viewer(session: Session, reviewer: str | None) -> str | None:
    """The stored spelling of the reader's name (a name never registered is an error)."""
    from srma.review.project import reviewer_name

    return None if reviewer is None else reviewer_name(session, reviewer)


def _command_line(command: str, project: Path, *options: object) -> str:
    """The command as given (options, value after name), for the log's record of an unblinding."""
    shown = [f"{name} {value}" for name, value in zip(options[::2], options[1::2], strict=True)
             if value is not None]  # fmt: skip
    return " ".join(["srma", command, str(project), *shown, "--unblind"])


@app.command("export")
def export_command(
    project: ProjectArgument,
    output: Annotated[Path, typer.Option("-o", "--output", help="A .csv, .xlsx or .ris file.")],
    stage: StageOption = "title_abstract",
    outcome: Annotated[
        list[str] | None,
        typer.Option(
            help="Keep records with this outcome at --stage (repeatable): include, "
            "exclude, conflict, pending, 'not reached'. Default: all."
        ),
    ] = None,
    reviewer: ViewerOption = None,
    unblind: UnblindOption = False,
    db: DbOption = None,
) -> None:
    """Export unique records with their screening outcomes and decisions (CSV, XLSX or RIS).

    Text cells that a spreadsheet would run as a formula (beginning with =, +,
    -, @, tab or carriage return) get a single quote in front; in RIS, line
    breaks in a value become spaces, so every record stays one record.

    Decisions still blinded show only how many reviewers have decided (and
    your own with --reviewer); --unblind shows them and is recorded in the log.
    """
    from srma.review.decision_log import stage_name
    from srma.review.flow.export import OUTCOMES, screening_table, select_outcome, write_table
    from srma.review.state import record_unblinding

    def action() -> None:
        with project_session(project, db) as (opened, session):
            if unblind:
                command = _command_line(
                    "export", project, "-o", output, "--stage", stage,
                    "--reviewer", reviewer,
                )  # fmt: skip
                record_unblinding(session, reviewer=reviewer or "", command=command)
            table = screening_table(
                session, opened, viewer=_viewer(session, reviewer), unblind=unblind
            )
        chosen = select_outcome(table, stage_name(stage), outcome or OUTCOMES)
        write_table(chosen, output)
        say(f"wrote {len(chosen)} records to {output}", console=stderr)

    run(action)
