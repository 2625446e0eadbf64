"""Dual, blinded screening: decisions, conflicts, resolutions and what each reviewer may see.

Every decision is appended to the log as an event (see
:mod:`srma.review.decision_log`); a changed mind is a new event.  A reviewer
sees another reviewer's decision on a record only once they have decided on
it themselves (blinding, as in Covidence and Rayyan's blind mode).  Excluding
a record at full text needs one of the protocol's exclusion reasons; at title
and abstract a reason is optional but must come from the same list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.decision_log import (
    DECISIONS,
    LoggedEvent,
    latest_decisions,
    load_events,
    records_at_stage,
    resolutions,
    stage_name,
    stage_outcomes,
)
from srma.review.project import SYSTEM_REVIEWER, Project, reviewer_id, reviewer_name
from srma.store import Event, RecordRow

RESOLUTION_METHODS = ("third reviewer", "consensus")


@dataclass(frozen=True)
class Conflict:
    """A record the reviewers disagree on, with each reviewer's latest decision."""

    record_id: int
    stage: str
    decisions: tuple[tuple[str, str, str | None], ...]  # reviewer, decision, reason


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
    """Open conflicts at ``stage`` (records whose decisions disagree and are not resolved)."""
    stage = stage_name(stage)
    eligible = records_at_stage(events, record_ids, stage=stage, required=required)
    outcomes = stage_outcomes(events, eligible, stage=stage, required=required)
    decided = latest_decisions(events, stage)
    return [
        Conflict(
            record,
            stage,
            tuple((name, str(e.decision), e.reason) for name, e in sorted(decided[record].items())),
        )
        for record in eligible
        if outcomes[record] == "conflict"
    ]


def resolve(
    session: Session,
    project: Project,
    *,
    reviewer: str,
    record_id: int,
    stage: str,
    decision: str,
    method: str,
    reason: str | None = None,
    note: str | None = None,
) -> int:
    """Settle a conflict by a third reviewer or by consensus; return the event id.

    A third reviewer must not be one of those who disagreed.
    """
    if method not in RESOLUTION_METHODS:
        raise InputError(f"unknown method {method!r}; expected one of {RESOLUTION_METHODS}")
    checked = _checked(
        session, project, reviewer=reviewer, record_id=record_id, stage=stage,
        decision=decision, reason=reason, allowed=("include", "exclude"),
    )  # fmt: skip
    found = conflicts(
        checked.events, [record_id], stage=checked.stage,
        required=project.protocol.reviewers_per_record,
    )  # fmt: skip
    if not found:
        raise InputError(f"record {record_id} has no open conflict at {checked.stage}")
    involved = {name for name, _, _ in found[0].decisions}
    if method == "third reviewer" and reviewer_name(session, reviewer) in involved:
        raise InputError(f"{reviewer} screened record {record_id}; a third reviewer must not have")
    return _append(session, reviewer, "resolution", record_id, checked, note, {"method": method})


@dataclass(frozen=True)
class BlindedView:
    """What a reviewer may see of a record: their own decision, others' only after deciding."""

    record_id: int
    own: LoggedEvent | None
    others: tuple[LoggedEvent, ...]
    others_hidden: int


def blinded_view(
    events: Sequence[LoggedEvent], *, reviewer: str, record_id: int, stage: str
) -> BlindedView:
    decided = latest_decisions(events, stage_name(stage)).get(record_id, {})
    own = decided.get(reviewer)
    others = tuple(e for name, e in sorted(decided.items()) if name != reviewer)
    if own is None:
        return BlindedView(record_id, None, (), len(others))
    return BlindedView(record_id, own, others, 0)


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
    stage = stage_name(stage)
    eligible = records_at_stage(events, record_ids, stage=stage, required=required)
    decided = latest_decisions(events, stage)
    settled = resolutions(events, stage)
    return [
        r
        for r in eligible
        if reviewer not in decided.get(r, {})
        and r not in settled
        and len(decided.get(r, {})) < required
    ]
