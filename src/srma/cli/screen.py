"""``srma screen``: screen records one at a time in the terminal.

Keys: ``i`` include, ``e`` exclude (then a reason from the protocol), ``m``
maybe, ``n`` add a note to the next decision, ``s`` skip for now, ``b`` back
to the record decided before (to change that decision: a new event), ``f``
the whole record when it was cut to fit the terminal, ``q`` quit.  Esc or
``q`` cancels a reason or note prompt.  Each decision is saved (as an event,
in its own transaction) the moment the key is pressed, so quitting or a
crash loses nothing already decided.

In a terminal the screen fits the window (80x24 and up): the header line
(record number, progress) and the record's title always show; a long
abstract is cut, with a line saying how much was left out.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.panel import Panel
from rich.text import Text

from srma.cli import app, run, stdout
from srma.cli.projects import DbOption, ProjectArgument, ReviewerOption
from srma.cli.review import StageOption
from srma.text_safety import printable

if TYPE_CHECKING:
    from srma.review.project import Project
    from srma.store import RecordRow

KEYS = "[i]nclude  [e]xclude  [m]aybe  [n]ote  [s]kip  [b]ack  [f]ull  [q]uit"
ESCAPE = "\x1b"


# --- highlighting: whole words, simple stemming ---------------------------------------------


def _word_pattern(word: str) -> str:
    """A regular expression for one word of a term and its simple inflections.

    ``rat`` matches rat, rats; ``stroke`` matches stroke, strokes, stroked;
    ``study`` matches studies; ``rats`` is taken as ``rat``; ``random*``
    matches every word that starts with random.
    """
    word = word.lower()
    if word.endswith("*"):
        return re.escape(word.rstrip("*")) + r"\w*"
    if len(word) > 3 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if len(word) > 2 and word.endswith("y") and word[-2] not in "aeiou":
        return re.escape(word[:-1]) + r"(?:y|ies|ied)"
    if word.endswith("e"):
        return re.escape(word) + r"(?:s|d)?"
    if word.endswith(("s", "x", "z", "ch", "sh")):
        return re.escape(word) + r"(?:es|ed|ing)?"
    return re.escape(word) + r"(?:s|es|ed|ing)?"


def term_pattern(terms: Sequence[str]) -> re.Pattern[str] | None:
    """One pattern matching any of ``terms`` as whole words, with simple stemming.

    A term of several words matches them in order, separated by spaces or
    hyphens.  Matching ignores case.  None when there are no terms.
    """
    alternatives = []
    for term in terms:
        words = re.findall(r"[\w*]+", term)
        if words:
            alternatives.append(r"[\s\-]+".join(_word_pattern(w) for w in words))
    if not alternatives:
        return None
    alternatives.sort(key=len, reverse=True)  # the longest term first
    return re.compile(r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])", re.IGNORECASE)


def highlight_terms(
    text: str, include: Sequence[str] = (), exclude: Sequence[str] = ()
) -> list[tuple[int, int, str]]:
    """``(start, end, "include" | "exclude")`` of each term found in ``text``."""
    found = []
    for kind, terms in (("include", include), ("exclude", exclude)):
        pattern = term_pattern(terms)
        if pattern is not None:
            found.extend((m.start(), m.end(), kind) for m in pattern.finditer(text))
    return sorted(found)


def shown_line(text: str) -> str:
    """A field of a record as one line that cannot act on the terminal (no ESC sequences,
    control or bidi characters: :func:`srma.text_safety.printable`)."""
    return printable(text, newlines=False, tabs=False)


def highlighted(text: str, project: Project) -> Text:
    """``text`` with the protocol's inclusion terms in green and exclusion terms in red."""
    shown = Text(text)
    protocol = project.protocol
    for start, end, kind in highlight_terms(
        text, protocol.highlight_include, protocol.highlight_exclude
    ):
        shown.stylize("bold green" if kind == "include" else "bold red", start, end)
    return shown


# --- the record, fitted to the terminal ------------------------------------------------------


def _lines(text: Text, console: Console, width: int) -> list[Text]:
    return list(text.wrap(console, width))


def _crop(lines: list[Text], keep: int, console: Console, width: int) -> list[Text]:
    """The first ``keep`` lines, the last one ending in an ellipsis when lines were left."""
    if len(lines) <= keep:
        return lines
    kept = lines[:keep]
    if kept:
        last = kept[-1].copy()
        last.truncate(max(width - 1, 1))
        last.append("…")
        kept[-1] = last
    return kept


def record_panel(
    record: RecordRow,
    project: Project,
    header: str,
    *,
    console: Console | None = None,
    height: int | None = None,
    width: int | None = None,
) -> Panel:
    """One record as the reviewer sees it, in at most ``height`` lines (None: all of it).

    The title comes first (at most 3 lines), then authors and journal (a line
    each), then the abstract and the keywords.  When the record does not fit,
    the abstract is cut and a dim line says how many of its lines were left
    out (``[f]`` shows them); the keywords go before the abstract does.
    """
    console = console or stdout
    width = width or console.width
    inner = max(width - 4, 10)  # the panel's borders and padding
    title = highlighted(shown_line(record.title) or "(no title)", project)
    title.stylize("bold")
    authors = "; ".join(shown_line(a) for a in record.authors[:6]) + (
        " et al." if len(record.authors) > 6 else ""
    )
    where = ", ".join(shown_line(str(x)) for x in (record.journal, record.year) if x)
    details = [
        Text(line, style="dim", no_wrap=True, overflow="ellipsis")
        for line in (authors, where)
        if line
    ]
    abstract = highlighted(printable(record.abstract or "") or "(no abstract)", project)
    keywords = Text()
    if record.keywords:
        keywords.append("Keywords: ", style="dim")
        keywords.append_text(highlighted(shown_line("; ".join(record.keywords)), project))
    title_lines = _lines(title, console, inner)
    abstract_lines = _lines(abstract, console, inner)
    keyword_lines = _lines(keywords, console, inner) if record.keywords else []
    body: list[Text] = []
    if height is None:
        body = [*title_lines, *details, Text(""), *abstract_lines]
        if keyword_lines:
            body += [Text(""), *keyword_lines]
    else:
        room = max(height - 2, 3)  # the panel's top and bottom borders
        body = _crop(title_lines, min(3, room), console, inner)
        for line in details:
            line.truncate(inner, overflow="ellipsis")
        body += details[: max(room - len(body), 0)]
        left = room - len(body) - 1  # a blank line before the abstract
        if left >= 1:
            body.append(Text(""))
            if len(abstract_lines) + (len(keyword_lines) + 1 if keyword_lines else 0) <= left:
                body += abstract_lines
                if keyword_lines:
                    body += [Text(""), *keyword_lines]
            elif len(abstract_lines) <= left:
                body += abstract_lines
                if left - len(abstract_lines) >= 2:
                    body += [
                        Text(""),
                        *_crop(keyword_lines, left - len(abstract_lines) - 1, console, inner),
                    ]
            else:
                shown = max(left - 1, 0)
                body += _crop(abstract_lines, shown, console, inner)
                hidden = len(abstract_lines) - shown
                more = " and the keywords" if keyword_lines else ""
                note = f"[abstract cut: {hidden} more lines{more}; f shows the whole record]"
                body.append(Text(note, style="dim italic", no_wrap=True, overflow="ellipsis"))
    joined = Text("\n").join(body)
    return Panel(joined, title=Text(header), subtitle=Text(KEYS), width=width)


# --- keys and prompts ------------------------------------------------------------------------


def read_key(*, lower: bool = True) -> str:
    """One key press; from a pipe (scripts, tests) one character, and ``q`` at its end."""
    key = typer.getchar() if sys.stdin.isatty() else (sys.stdin.read(1) or "q")
    return key.lower() if lower else key


def _echo(text: str) -> None:
    if stdout.is_terminal:
        sys.stdout.write(text)
        sys.stdout.flush()


def read_line(prompt: str, *, digits_only: bool = False) -> str | None:
    """A line typed key by key; Enter ends it, Esc cancels (None), and so does ``q`` when
    ``digits_only`` (a number is expected)."""
    stdout.print(prompt, end="", markup=False)
    _echo("")
    typed = ""
    while True:
        key = read_key(lower=False)
        if key.startswith(ESCAPE) or (digits_only and key.lower() == "q"):
            _echo("\n")
            return None
        if key in ("\r", "\n", "\r\n"):
            _echo("\n")
            return typed
        if key in ("\x7f", "\x08"):
            if typed:
                typed = typed[:-1]
                _echo("\b \b")
            continue
        if digits_only and not key.isdigit():
            continue
        if key.isprintable():
            typed += key
            _echo(key)


def ask_reason(project: Project, stage: str) -> tuple[bool, str | None]:
    """``(chosen, reason)``: an exclusion reason by number (optional at title and abstract);
    ``chosen`` is False when the reviewer pressed Esc or ``q`` (no decision)."""
    reasons = project.protocol.exclusion_reasons
    for number, reason in enumerate(reasons, start=1):
        stdout.print(f"  {number}. {reason}", markup=False, no_wrap=True, overflow="ellipsis")
    optional = stage == "title_abstract"
    prompt = "reason number" + (", Enter for none" if optional else "") + "; Esc or q cancels: "
    while True:
        answer = read_line(prompt, digits_only=True)
        if answer is None:
            return False, None
        if optional and not answer:
            return True, None
        if answer.isdigit() and 1 <= int(answer) <= len(reasons):
            return True, reasons[int(answer) - 1]
        stdout.print(f"choose 1 to {len(reasons)}", markup=False)


@dataclass(frozen=True)
class Saved:
    """A decision saved in this session, for ``b`` (back) to show what it replaces."""

    record_id: int
    decision: str
    reason: str | None
    note: str | None

    def describe(self) -> str:
        reason = f"reason: {self.reason}" if self.reason else "no reason"
        note = f"note: {self.note}" if self.note else "no note"
        return f"{self.decision} ({reason}; {note})"


@app.command("screen")
def screen_command(
    project: ProjectArgument,
    reviewer: ReviewerOption,
    stage: StageOption = "title_abstract",
    order: Annotated[str, typer.Option(help="relevance (active learning) or id.")] = "relevance",
    model: Annotated[
        str, typer.Option(help="svm (ASReview's default), logistic or naive_bayes.")
    ] = "svm",
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
        history: list[Saved] = []  # decisions saved in this session, for "back"
        revisit: Saved | None = None
        features = FeatureCache()
        note: str | None = None
        message: str | None = None  # shown under the record at the next redraw
        full = False
        terminal = stdout.is_terminal

        def say(text: str) -> None:
            nonlocal message
            if terminal:
                message = text
            else:
                stdout.print(text, markup=False)

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
                record_id = waiting[0] if revisit is None else revisit.record_id
                record = session.get(RecordRow, record_id)
            header = (
                f"record {record.id} | {queue.decided_by_reviewer} of {queue.eligible} decided, "
                f"{len(waiting)} to go | {canonical} | {name} | order: {queue.ordering}"
            )
            below = [
                line
                for line in (
                    f"back: a new decision replaces yours, {revisit.describe()}; s keeps it"
                    if revisit is not None
                    else None,
                    f"stopping aid: {queue.stop.reason}"
                    if queue.stop is not None and queue.stop.stop
                    else None,
                    f"note for the next decision: {note}" if note else None,
                    message,
                )
                if line
            ]
            message = None
            if terminal:
                stdout.clear()
                stdout.print(Text(header, no_wrap=True, overflow="ellipsis"))
                # the header, the lines below the panel and the cursor's line
                shown = sum(len(Text(line).wrap(stdout, stdout.width)) for line in below)
                room = None if full else stdout.height - 2 - shown
            else:
                stdout.print(header, markup=False, soft_wrap=True)
                room = None
            full = False
            stdout.print(record_panel(record, opened, f"record {record.id}", height=room))
            for line in below:
                style = "yellow" if line.startswith("stopping aid") else None
                stdout.print(line, style=style, markup=False)
            key = read_key()
            if key == "q":
                break
            if key == "f":
                full = True
                continue
            if key == "s":
                skipped.add(record.id)
                revisit = None
                continue
            if key == "b":
                if history:
                    revisit = history.pop()
                else:
                    say("nothing decided yet in this session")
                continue
            if key == "n":
                typed = read_line("note (Enter keeps it for the next decision, Esc cancels): ")
                if typed is None:
                    say("note cancelled")
                else:
                    note = typed.strip() or None
                continue
            decision = {"i": "include", "e": "exclude", "m": "maybe"}.get(key)
            if decision is None:
                if key.strip() and not key.startswith(ESCAPE):
                    say(f"unknown key {key!r}: {KEYS}")
                continue
            reason = None
            if decision == "exclude":
                if terminal:  # the reasons under the header and the title, not the abstract
                    stdout.clear()
                    stdout.print(Text(header, no_wrap=True, overflow="ellipsis"))
                    stdout.print(record_panel(record, opened, f"record {record.id}", height=5))
                chosen, reason = ask_reason(opened, canonical)
                if not chosen:
                    say("exclude cancelled: nothing saved")
                    continue
            with opened.store.transaction() as session:
                decide(
                    session, opened, reviewer=name, record_id=record.id, stage=canonical,
                    decision=decision, reason=reason, note=note,
                )  # fmt: skip
            say(f"saved: {decision}" + (f" ({reason})" if reason else ""))
            history.append(Saved(record.id, decision, reason, note))
            note, revisit = None, None
        opened.close()

    run(action)
