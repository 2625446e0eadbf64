"""Dual, blinded screening: decisions, conflicts, resolutions and what each reviewer may see.

Every decision is appended to the log as an event (see
:mod:`srma.review.decision_log`); a changed mind is a new event.  A reviewer
sees another reviewer's decision on a record only once every reviewer the
record needs has decided (blinding, as in Covidence and Rayyan's blind mode;
enforced by :mod:`srma.review.state`).  Excluding a record at full text needs
one of the protocol's exclusion reasons; at title and abstract a reason is
optional but must come from the same list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.decision_log import (
    DECISIONS,
    STAGES,
    LoggedEvent,
    latest_decisions,
    load_events,
    records_at_stage,
    stage_name,
)
from srma.review.project import SYSTEM_REVIEWER, Project, reviewer_id, reviewer_name
from srma.review.state import Conflict, ReviewState, replay
from srma.store import Event, RecordRow

RESOLUTION_METHODS = ("third reviewer", "consensus")


def all_record_ids(session: Session) -> list[int]:
    return list(session.scalars(select(RecordRow.id).order_by(RecordRow.id)))


def _check_reason(project: Project, stage: str, decision: str, reason: str | None) -> str | None:
    reasons = project.protocol.exclusion_reasons
    if reason is not None and reason.strip() == "":
        reason = None
    if reason is not None and decision != "exclude":
        raise InputError(f"a reason is given only for exclusions, not for {decision!r}")
    if decision == "exclude" and reason is None and stage == "full_text":
        raise InputError(
            "excluding at full text needs a reason from the protocol: " + "; ".join(reasons)
        )
    if reason is not None and reason not in reasons:
        matches = [r for r in reasons if r.lower() == reason.lower()]
        if not matches:
            raise InputError(
                f"reason {reason!r} is not in the protocol's list: " + "; ".join(reasons)
            )
        reason = matches[0]
    return reason


def _check_record(
    session: Session, project: Project, events: Sequence[LoggedEvent], record_id: int, stage: str
) -> None:
    if session.get(RecordRow, record_id) is None:
        raise InputError(f"no record {record_id} in this project")
    eligible = records_at_stage(
        events, [record_id], stage=stage, required=project.protocol.reviewers_per_record
    )
    if not eligible:
        where = "is a merged duplicate" if stage == "title_abstract" else "was not included"
        raise InputError(f"record {record_id} {where}; it is not screened at {stage}")


@dataclass(frozen=True)
class _Checked:
    stage: str
    decision: str
    reason: str | None
    events: tuple[LoggedEvent, ...]


def _checked(
    session: Session,
    project: Project,
    *,
    reviewer: str,
    record_id: int,
    stage: str,
    decision: str,
    reason: str | None,
    allowed: Sequence[str],
) -> _Checked:
    """Validate a decision on a record; the record's events, replayed, come with it."""
    stage = stage_name(stage)
    decision = decision.strip().lower()
    if decision not in allowed:
        raise InputError(f"unknown decision {decision!r}; expected one of {', '.join(allowed)}")
    if reviewer.strip().lower() == SYSTEM_REVIEWER:
        raise InputError(f"{SYSTEM_REVIEWER!r} does not screen records")
    reviewer_id(session, reviewer)  # a registered reviewer, or a clear error
    reason = _check_reason(project, stage, decision, reason)
    events = load_events(session, record_ids=[record_id])
    _check_record(session, project, events, record_id, stage)
    return _Checked(stage, decision, reason, events)


def _append(session: Session, reviewer: str, kind: str, record_id: int, checked: _Checked,
            note: str | None, payload: dict[str, object] | None = None) -> int:  # fmt: skip
    event = Event(
        reviewer_id=reviewer_id(session, reviewer),
        kind=kind,
        stage=checked.stage,
        record_id=record_id,
        decision=checked.decision,
        reason=checked.reason,
        note=note or None,
        payload=payload,
    )
    session.add(event)
    session.flush()
    return event.id


def decide(
    session: Session,
    project: Project,
    *,
    reviewer: str,
    record_id: int,
    stage: str,
    decision: str,
    reason: str | None = None,
    note: str | None = None,
) -> int:
    """Append one reviewer's decision on one record; return the event id."""
    checked = _checked(
        session, project, reviewer=reviewer, record_id=record_id, stage=stage,
        decision=decision, reason=reason, allowed=DECISIONS,
    )  # fmt: skip
    return _append(session, reviewer, "screening", record_id, checked, note)


def conflicts(events: Sequence[LoggedEvent], record_ids: Sequence[int], *, stage: str,
              required: int) -> list[Conflict]:  # fmt: skip
    """Open conflicts at ``stage`` (records whose decisions disagree and are not resolved).

    Commands read :meth:`srma.review.state.ReviewState.conflicts`, which also
    carries the titles; this replays ``events`` for callers holding a log.
    """
    return replay(events, record_ids, required=required).conflicts(stage)


def conflict_stage(state: ReviewState, record_id: int) -> str:
    """The stage at which ``record_id`` has a conflict to resolve.

    An open conflict comes first; a conflict already resolved (whose
    resolution may be replaced) is found when none is open.  More than one
    candidate is an error that names them.
    """
    open_at, resolved_at = [], []
    for stage in STAGES:
        entry = state.at(stage).get(record_id)
        if entry is None:
            continue
        if entry.outcome == "conflict":
            open_at.append(stage)
        elif entry.resolution is not None:
            resolved_at.append(stage)
    found = open_at or resolved_at
    if not found:
        raise InputError(f"record {record_id} has no conflict to resolve")
    if len(found) > 1:
        kind = "open conflicts" if open_at else "resolved conflicts"
        raise InputError(
            f"record {record_id} has {kind} at {' and '.join(found)}; say which with --stage"
        )
    return found[0]


def resolve(
    session: Session,
    project: Project,
    *,
    reviewer: str,
    record_id: int,
    stage: str | None,
    decision: str,
    method: str,
    reason: str | None = None,
    note: str | None = None,
) -> int:
    """Settle a conflict by a third reviewer or by consensus; return the event id.

    ``stage`` None finds the stage of the record's conflict.  A conflict
    already resolved may be resolved again: the latest resolution counts and
    the earlier one stays in the log.  A third reviewer must not be one of
    those who disagreed.  At full text, a conflict on the reason (both
    exclude, for different reasons) is resolved by excluding with the chosen
    reason.
    """
    if method not in RESOLUTION_METHODS:
        raise InputError(f"unknown method {method!r}; expected one of {RESOLUTION_METHODS}")
    if session.get(RecordRow, record_id) is None:
        raise InputError(f"no record {record_id} in this project")
    if stage is None:
        stage = conflict_stage(replay(load_events(session, record_ids=[record_id]),
                                      [record_id], required=project.protocol.reviewers_per_record),
                               record_id)  # fmt: skip
    checked = _checked(
        session, project, reviewer=reviewer, record_id=record_id, stage=stage,
        decision=decision, reason=reason, allowed=("include", "exclude"),
    )  # fmt: skip
    entry = (
        replay(checked.events, [record_id], required=project.protocol.reviewers_per_record)
        .at(checked.stage)
        .get(record_id)
    )
    if entry is None or entry.conflict_on is None:
        raise InputError(f"record {record_id} has no conflict at {checked.stage}")
    if entry.conflict_on == "reason" and checked.decision != "exclude":
        raise InputError(
            f"record {record_id}: both reviewers exclude at {checked.stage} and disagree only "
            "on the reason; resolve with exclude --reason REASON"
        )
    involved = {e.reviewer for e in entry.decisions}
    if method == "third reviewer" and reviewer_name(session, reviewer) in involved:
        raise InputError(f"{reviewer} screened record {record_id}; a third reviewer must not have")
    return _append(session, reviewer, "resolution", record_id, checked, note, {"method": method})


@dataclass(frozen=True)
class BlindedView:
    """What a reviewer may see of a record at a stage: their own latest decision, and
    the others' only once every reviewer the record needs has decided."""

    record_id: int
    own: LoggedEvent | None
    others: tuple[LoggedEvent, ...]
    others_hidden: int


def view_of(state: ReviewState, *, reviewer: str, record_id: int, stage: str) -> BlindedView:
    """The record as ``reviewer`` may see it at ``stage`` in ``state``."""
    stage = stage_name(stage)
    decided = latest_decisions(state.events, stage).get(record_id, {})
    own = decided.get(reviewer)
    others = tuple(e for name, e in sorted(decided.items()) if name != reviewer)
    if state.is_blinded(record_id, stage):
        return BlindedView(record_id, own, (), len(others))
    return BlindedView(record_id, own, others, 0)


def blinded_view(
    events: Sequence[LoggedEvent], *, reviewer: str, record_id: int, stage: str, required: int
) -> BlindedView:
    """:func:`view_of` on the state replayed from ``events``."""
    state = replay(events, [record_id], required=required)
    return view_of(state, reviewer=reviewer, record_id=record_id, stage=stage)


def to_screen(
    events: Sequence[LoggedEvent],
    record_ids: Sequence[int],
    *,
    reviewer: str,
    stage: str,
    required: int,
) -> list[int]:
    """Records at ``stage`` that ``reviewer`` has not decided on, in id order.

    Records already settled (decided by enough reviewers who agree, or
    resolved) are left out only if this reviewer was not needed for them.
    """
    return replay(events, record_ids, required=required).to_screen(reviewer, stage)
