"""``srma screen``: screen records one at a time in the terminal.

Keys: ``i`` include, ``e`` exclude (then a reason from the protocol), ``m``
maybe, ``n`` add a note to the next decision, ``s`` skip for now, ``b`` back
to the record decided before (to change that decision: a new event), ``q`` quit.
Each decision is saved (as an event, in its own transaction) the moment the
key is pressed, so quitting or a crash loses nothing already decided.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer
from rich.panel import Panel
from rich.text import Text

from srma.cli import app, run, stdout
from srma.cli.review import DbOption, ProjectArgument, ReviewerOption, StageOption

if TYPE_CHECKING:
    from srma.review.project import Project
    from srma.store import RecordRow

KEYS = "[i]nclude  [e]xclude  [m]aybe  [n]ote  [s]kip  [b]ack  [q]uit"


def highlighted(text: str, project: Project) -> Text:
    """``text`` with the protocol's inclusion terms in green and exclusion terms in red."""
    shown = Text(text)
    shown.highlight_words(project.protocol.highlight_include, "bold green", case_sensitive=False)
    shown.highlight_words(project.protocol.highlight_exclude, "bold red", case_sensitive=False)
    return shown


def record_panel(record: RecordRow, project: Project, header: str) -> Panel:
    """One record as the reviewer sees it."""
    body = Text()
    body.append_text(highlighted(record.title or "(no title)", project).copy())
    body.stylize("bold", 0, len(record.title or "(no title)"))
    authors = "; ".join(record.authors[:6]) + (" et al." if len(record.authors) > 6 else "")
    where = ", ".join(str(x) for x in (record.journal, record.year) if x)
    details = "".join(f"\n{line}" for line in (authors, where) if line)
    body.append(f"{details}\n\n", style="dim")
    body.append_text(highlighted(record.abstract or "(no abstract)", project))
    if record.keywords:
        body.append("\n\nKeywords: ", style="dim")
        body.append_text(highlighted("; ".join(record.keywords), project))
    return Panel(body, title=Text(header), subtitle=Text(KEYS))


def read_key() -> str:
    """One key press; from a pipe (scripts, tests) one character, and ``q`` at its end."""
    if sys.stdin.isatty():
        return typer.getchar().lower()
    return (sys.stdin.read(1) or "q").lower()


def ask_reason(project: Project, stage: str) -> str | None:
    """Choose an exclusion reason by number (optional at title and abstract)."""
    reasons = project.protocol.exclusion_reasons
    for number, reason in enumerate(reasons, start=1):
        stdout.print(f"  {number}. {reason}", markup=False)
    optional = stage == "title_abstract"
    while True:
        answer = typer.prompt(
            "reason number" + (" (Enter for none)" if optional else ""),
            default="" if optional else None,
            show_default=False,
        ).strip()
        if optional and not answer:
            return None
        if answer.isdigit() and 1 <= int(answer) <= len(reasons):
            return reasons[int(answer) - 1]
        stdout.print(f"choose 1 to {len(reasons)}", markup=False)


@app.command("screen")
def screen_command(
    project: ProjectArgument,
    reviewer: ReviewerOption,
    stage: StageOption = "title_abstract",
    order: Annotated[str, typer.Option(help="relevance (active learning) or id.")] = "relevance",
    model: Annotated[str, typer.Option(help="logistic or naive_bayes.")] = "logistic",
    stop_after: Annotated[
        int, typer.Option(help="Suggest stopping after this many irrelevant records in a row.")
    ] = 100,
    db: DbOption = None,
) -> None:
    """Screen records one at a time (blinded to other reviewers), most relevant first."""
    from srma.review.decision_log import stage_name
    from srma.review.project import open_project, reviewer_name
    from srma.review.screen.decisions import decide
    from srma.review.screen.queue import FeatureCache, screening_queue
    from srma.store import RecordRow

    def action() -> None:
        opened = open_project(project, url=db)
        canonical = stage_name(stage)
        with opened.store.transaction() as session:
            name = reviewer_name(session, reviewer)
        skipped: set[int] = set()
        history: list[int] = []  # records decided in this session, for "back"
        revisit: int | None = None
        features = FeatureCache()
        note: str | None = None
        while True:
            with opened.store.transaction() as session:
                queue = screening_queue(
                    session, opened, reviewer=name, stage=canonical, order=order,
                    model=model, stop_after=stop_after, features=features,
                )  # fmt: skip
                waiting = [r for r in queue.record_ids if r not in skipped]
                if revisit is None and not waiting:
                    stdout.print(
                        f"nothing left for {name} at {canonical} "
                        f"({queue.decided_by_reviewer} of {queue.eligible} decided)",
                        markup=False,
                    )
                    break
                record = session.get(RecordRow, waiting[0] if revisit is None else revisit)
            if stdout.is_terminal:
                stdout.clear()
            stdout.print(
                f"{canonical} | {name}: {queue.decided_by_reviewer} of {queue.eligible} "
                f"decided, {len(waiting)} to go | order: {queue.ordering}",
                markup=False,
                soft_wrap=True,
            )
            stdout.print(record_panel(record, opened, f"record {record.id}"))
            if revisit is not None:
                stdout.print("back: a new decision replaces yours in the log", markup=False)
            if queue.stop is not None and queue.stop.stop:
                stdout.print(f"stopping aid: {queue.stop.reason}", style="yellow", markup=False)
            key = read_key()
            if key == "q":
                break
            if key == "s":
                skipped.add(record.id)
                revisit = None
                continue
            if key == "b":
                if history:
                    revisit = history.pop()
                else:
                    stdout.print("nothing decided yet in this session", markup=False)
                continue
            if key == "n":
                note = typer.prompt("note") or None
                continue
            decision = {"i": "include", "e": "exclude", "m": "maybe"}.get(key)
            if decision is None:
                if key.strip():
                    stdout.print(f"unknown key {key!r}: {KEYS}", markup=False)
                continue
            reason = ask_reason(opened, canonical) if decision == "exclude" else None
            with opened.store.transaction() as session:
                decide(
                    session, opened, reviewer=name, record_id=record.id, stage=canonical,
                    decision=decision, reason=reason, note=note,
                )  # fmt: skip
            stdout.print(f"saved: {decision}" + (f" ({reason})" if reason else ""), markup=False)
            history.append(record.id)
            note, revisit = None, None
        opened.close()

    run(action)
