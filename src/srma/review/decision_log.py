"""Reading the append-only decision log and replaying it into the current state.

Nothing in the log is ever changed: the state of the review (which records
are duplicates, what each reviewer decided, which conflicts are open) is
recomputed from the events, in the order they were written.  Passing
``until`` replays only the events made up to that moment, which is how the
state at any past time is audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.project import reviewer_names
from srma.store import Event

#: Screening stages, in order; ``ta`` and ``ft`` are accepted as short names.
STAGES = ("title_abstract", "full_text")
_STAGE_ALIASES = {"ta": "title_abstract", "ft": "full_text", "title-abstract": "title_abstract",
                  "full-text": "full_text"}  # fmt: skip
DECISIONS = ("include", "exclude", "maybe")

#: Assessments of included studies (data extraction; risk of bias).  Each is a family
#: of event kinds, all with ``record_id`` the study (its main record): ``NAME`` (a
#: reviewer's values, ``payload["values"]``), ``NAME_submit`` (a reviewer submits the
#: study: their values are final and count for blinding) and ``NAME_resolve`` (a
#: value settled after every extractor submitted).  See :mod:`srma.review.extract`.
ASSESSMENTS = ("extraction", "rob")


def submit_kind(assessment: str) -> str:
    """The kind of event by which a reviewer submits a study for ``assessment``."""
    return f"{assessment}_submit"


def resolve_kind(assessment: str) -> str:
    """The kind of event that settles a value of ``assessment``."""
    return f"{assessment}_resolve"


_SUBMIT_KINDS = {submit_kind(a): a for a in ASSESSMENTS}


def submissions(events: Iterable[LoggedEvent]) -> dict[tuple[int, str], dict[str, LoggedEvent]]:
    """Who submitted each study for each assessment: ``(study, assessment) -> {reviewer:
    their first submit event}`` (a submission is never taken back)."""
    found: dict[tuple[int, str], dict[str, LoggedEvent]] = {}
    for e in events:
        assessment = _SUBMIT_KINDS.get(e.kind)
        if assessment is not None and e.record_id is not None:
            found.setdefault((e.record_id, assessment), {}).setdefault(e.reviewer, e)
    return found


def stage_name(stage: str) -> str:
    """The canonical name of a screening stage."""
    name = _STAGE_ALIASES.get(stage.strip().lower(), stage.strip().lower())
    if name not in STAGES:
        raise InputError(f"unknown stage {stage!r}; expected one of: {', '.join(STAGES)}, ta, ft")
    return name


@dataclass(frozen=True)
class LoggedEvent:
    """One event of the log, with the reviewer's current name (after any rename)."""

    id: int
    created_at: datetime
    reviewer: str
    kind: str
    stage: str | None
    record_id: int | None
    decision: str | None
    reason: str | None
    note: str | None
    refers_to: int | None
    payload: dict[str, object] | None


def load_events(
    session: Session,
    *,
    until: datetime | None = None,
    record_ids: Sequence[int] | None = None,
    after: int | None = None,
) -> tuple[LoggedEvent, ...]:
    """Every event (made at or before ``until``; about ``record_ids``; with an id above
    ``after``), oldest first.

    The events about a record are all it takes to replay that record's state:
    its merges, undos, decisions and resolutions carry its id.
    """
    names = reviewer_names(session)  # the latest names, whatever moment is replayed
    query = select(Event).order_by(Event.id)
    if until is not None:
        query = query.where(Event.created_at <= as_stored(session, until))
    if record_ids is not None:
        query = query.where(Event.record_id.in_(list(record_ids)))
    if after is not None:
        query = query.where(Event.id > after)
    return tuple(
        LoggedEvent(
            e.id, as_utc(e.created_at), names[e.reviewer_id], e.kind, e.stage, e.record_id,
            e.decision, e.reason, e.note, e.refers_to, e.payload,
        )
        for e in session.scalars(query).all()
    )  # fmt: skip


def as_utc(moment: datetime) -> datetime:
    """A stored time as an aware UTC time (SQLite keeps no time zone; srma writes UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def as_stored(session: Session, moment: datetime) -> datetime:
    """``moment`` as the database compares it: UTC, without a zone for SQLite.

    A time without a zone is taken to be UTC.
    """
    moment = as_utc(moment)
    return moment.replace(tzinfo=None) if session.get_bind().dialect.name == "sqlite" else moment


def events_frame(events: Sequence[LoggedEvent]) -> pd.DataFrame:
    """The log as a table (for export and audit), one row per event.

    Ids are nullable integers, so an event without a record (an ``unblind``
    event, say) does not turn the other rows' record ids into ``1.0``.
    """
    columns = list(LoggedEvent.__dataclass_fields__)
    frame = pd.DataFrame([[getattr(e, c) for c in columns] for e in events], columns=columns)
    return frame.astype({"id": "Int64", "record_id": "Int64", "refers_to": "Int64"})


def undone(events: Iterable[LoggedEvent]) -> set[int]:
    """Ids of events taken back by an ``undo`` event."""
    return {e.refers_to for e in events if e.kind == "undo" and e.refers_to is not None}


def duplicate_links(events: Sequence[LoggedEvent]) -> dict[int, tuple[int, int]]:
    """Active merges: duplicate record id -> (record it duplicates, id of the merge event)."""
    taken_back = undone(events)
    links: dict[int, tuple[int, int]] = {}
    for e in events:
        if e.kind == "duplicate" and e.id not in taken_back and e.record_id is not None:
            links[e.record_id] = (int(e.payload["kept"]), e.id)
    return links


def kept_record(links: dict[int, tuple[int, int]], record_id: int) -> int:
    """The record a duplicate was merged into, following chains of merges."""
    seen = {record_id}
    while record_id in links:
        record_id = links[record_id][0]
        if record_id in seen:  # a cycle cannot be written by srma; stop rather than loop
            break
        seen.add(record_id)
    return record_id


def distinct_pairs(events: Sequence[LoggedEvent]) -> set[frozenset[int]]:
    """Pairs judged to be different references (never merged automatically again).

    A merge that was undone counts as such a judgement.
    """
    taken_back = undone(events)
    pairs = set()
    for e in events:
        if e.record_id is None:
            continue
        if e.kind == "distinct" and e.id not in taken_back:
            pairs.add(frozenset((e.record_id, int(e.payload["other"]))))
        elif e.kind == "duplicate" and e.id in taken_back:
            pairs.add(frozenset((e.record_id, int(e.payload["kept"]))))
    return pairs


def latest_decisions(
    events: Sequence[LoggedEvent], stage: str
) -> dict[int, dict[str, LoggedEvent]]:
    """Each reviewer's latest screening decision per record at ``stage``."""
    latest: dict[int, dict[str, LoggedEvent]] = {}
    for e in events:
        if e.kind == "screening" and e.stage == stage and e.record_id is not None:
            latest.setdefault(e.record_id, {})[e.reviewer] = e
    return latest


def resolutions(events: Sequence[LoggedEvent], stage: str) -> dict[int, LoggedEvent]:
    """The resolution that stands for each record's conflict at ``stage``.

    The latest resolution counts (an earlier one stays in the log); a
    screening decision on the record at the stage made after it reopens the
    conflict, so that resolution no longer stands.
    """
    latest: dict[int, LoggedEvent] = {}
    last_decision: dict[int, int] = {}
    for e in events:
        if e.stage != stage or e.record_id is None:
            continue
        if e.kind == "resolution":
            latest[e.record_id] = e
        elif e.kind == "screening":
            last_decision[e.record_id] = e.id
    return {r: e for r, e in latest.items() if last_decision.get(r, -1) < e.id}


def disagreement(decisions: dict[str, LoggedEvent] | None, *, stage: str,
                 required: int) -> str | None:  # fmt: skip
    """What the reviewers disagree on, once ``required`` of them decided: ``decision``,
    ``reason`` (at full text, exclusions for different reasons) or None.

    At title and abstract include and maybe both send a record on (as in
    Covidence); at full text every reviewer must include, or all exclude for
    the same reason.
    """
    if not decisions or len(decisions) < required:
        return None
    votes = {e.decision for e in decisions.values()}
    if votes == {"exclude"}:
        if stage == "full_text" and len({e.reason for e in decisions.values()}) > 1:
            return "reason"
        return None
    if stage == "title_abstract" and "exclude" not in votes:
        return None
    if votes == {"include"}:
        return None
    return "decision"


def outcome(
    decisions: dict[str, LoggedEvent] | None,
    resolution: LoggedEvent | None,
    *,
    stage: str,
    required: int,
) -> str:
    """``include``, ``exclude``, ``conflict`` or ``pending`` for one record at one stage.

    A resolution settles the record.  Otherwise ``required`` reviewers must
    have decided: if all exclude (at full text, for the same reason), it is
    excluded; at title and abstract, include and maybe both send it on to full
    text (as in Covidence); at full text every reviewer must include.  Any
    other mix is a conflict (see :func:`disagreement`).
    """
    if resolution is not None:
        return str(resolution.decision)
    if not decisions or len(decisions) < required:
        return "pending"
    if disagreement(decisions, stage=stage, required=required) is not None:
        return "conflict"
    return "include" if {e.decision for e in decisions.values()} != {"exclude"} else "exclude"


def stage_outcomes(
    events: Sequence[LoggedEvent], record_ids: Iterable[int], *, stage: str, required: int
) -> dict[int, str]:
    """The outcome of every record that reached ``stage``."""
    decided = latest_decisions(events, stage)
    settled = resolutions(events, stage)
    return {
        r: outcome(decided.get(r), settled.get(r), stage=stage, required=required)
        for r in record_ids
    }


def records_at_stage(
    events: Sequence[LoggedEvent], record_ids: Sequence[int], *, stage: str, required: int
) -> list[int]:
    """Records to screen at ``stage``: non-duplicates, and for full text those included before."""
    links = duplicate_links(events)
    unique = [r for r in record_ids if r not in links]
    if stage == "title_abstract":
        return unique
    previous = stage_outcomes(events, unique, stage="title_abstract", required=required)
    return [r for r in unique if previous[r] == "include"]
