"""One review state, replayed from the decision log once per command, which enforces blinding.

:func:`load_state` reads the stored records and imports and the whole log
(up to a moment, if asked) and :func:`replay` turns the events into a
:class:`ReviewState`: the merged duplicates, and per stage every record that
reached it with each reviewer's latest decision, the resolution that stands,
its outcome and what a conflict is about.  Every view (status, export, audit,
conflicts, agreement, PRISMA counts, the screening queue) reads this one
object, so they cannot disagree.

**Blinding.**  Until every reviewer a record needs at a stage (the protocol's
``reviewers_per_record``) has decided it, no view shows anyone's decision,
reason or note on that record at that stage: only how many have decided
("1 of 2 decided").  Assessments of included studies (data extraction) are
blinded the same way: until ``reviewers_per_record`` reviewers have submitted a
study, nobody sees another's values on it
(:meth:`ReviewState.is_assessment_blinded`).  A reviewer always sees their own
decisions and values.  Blinding
is decided on the whole log, so a past state (``srma status --at``, ``srma
audit --until``) is blinded as the present is.  ``--unblind`` (``srma export``, ``srma audit``)
shows everything and is itself written to the log as an ``unblind`` event
(who, when, which command), so an unblinding is visible in every audit
afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from sqlalchemy import select
from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.decision_log import (
    ASSESSMENTS,
    STAGES,
    LoggedEvent,
    as_stored,
    as_utc,
    disagreement,
    duplicate_links,
    latest_decisions,
    load_events,
    outcome,
    resolutions,
    stage_name,
    submissions,
)
from srma.review.project import SYSTEM_REVIEWER, Project, reviewer_id, reviewer_name
from srma.store import Event, ImportBatch, RecordRow

#: What an audit shows instead of a decision that is still blinded.
BLINDED = "blinded"


@dataclass(frozen=True)
class Conflict:
    """A record the reviewers disagree on at a stage, with each reviewer's latest decision.

    ``on`` is ``decision`` (include against exclude, say) or ``reason`` (at
    full text, exclusions for different reasons); ``notes`` are the reviewers'
    notes, ``(reviewer, note)``, for those who wrote one.  A conflict implies
    that every reviewer the record needs has decided, so nothing is blinded.
    """

    record_id: int
    stage: str
    decisions: tuple[tuple[str, str, str | None], ...]  # reviewer, decision, reason
    title: str = ""
    on: str = "decision"
    notes: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class StageRecord:
    """One record at one stage, replayed: every reviewer's latest decision and the outcome.

    This holds everything, blinded or not; views ask :meth:`ReviewState.visible`
    (or :meth:`ReviewState.is_blinded`) what a reader may see.
    """

    record_id: int
    stage: str
    required: int
    decisions: tuple[LoggedEvent, ...]  # latest per reviewer, by reviewer name
    resolution: LoggedEvent | None  # the resolution that stands
    resolutions: tuple[LoggedEvent, ...]  # every resolution, oldest first
    outcome: str
    conflict_on: str | None  # what the decisions disagree on, resolved or not

    @property
    def decided(self) -> int:
        """How many reviewers have decided."""
        return len(self.decisions)

    @property
    def reopened(self) -> bool:
        """Resolved once, but a decision changed afterwards (the conflict is open again)."""
        return bool(self.resolutions) and self.resolution is None

    def decision_of(self, reviewer: str) -> LoggedEvent | None:
        return next((e for e in self.decisions if e.reviewer == reviewer), None)


@dataclass(frozen=True)
class ReviewState:
    """The review as the log says it is (now, or at ``until``); immutable.

    ``records`` maps each stored record id to its title; ``merges`` each
    merged duplicate to (the record it duplicates, the merge event);
    ``stages`` maps each stage to the records that reached it;
    ``submitted_counts`` maps ``(study, assessment)`` to how many reviewers
    have submitted that study (decided on the whole log, like blinding of
    decisions).
    """

    events: tuple[LoggedEvent, ...]
    records: Mapping[int, str]
    imports: tuple[Mapping[str, object], ...]
    required: int
    merges: Mapping[int, tuple[int, int]]
    stages: Mapping[str, Mapping[int, StageRecord]]
    decided_counts: Mapping[tuple[int, str], int]
    until: datetime | None = None
    submitted_counts: Mapping[tuple[int, str], int] = field(
        default_factory=lambda: MappingProxyType({})
    )

    @property
    def record_ids(self) -> tuple[int, ...]:
        return tuple(self.records)

    @property
    def unblindings(self) -> tuple[LoggedEvent, ...]:
        """Every ``unblind`` event: who saw blinded decisions, when and with which command."""
        return tuple(e for e in self.events if e.kind == "unblind")

    def at(self, stage: str) -> Mapping[int, StageRecord]:
        """The records that reached ``stage``, in id order."""
        return self.stages[stage_name(stage)]

    def eligible(self, stage: str) -> list[int]:
        return list(self.at(stage))

    def is_blinded(self, record_id: int, stage: str) -> bool:
        """True while fewer reviewers than the record needs have decided it at ``stage``.

        Records that no longer reach the stage (merged later, or excluded
        before) stay blinded on the same rule.
        """
        return self.decided_counts.get((record_id, stage_name(stage)), 0) < self.required

    def is_assessment_blinded(self, study: int, assessment: str) -> bool:
        """True while fewer reviewers than a study needs have submitted it for ``assessment``."""
        return self.submitted_counts.get((study, assessment), 0) < self.required

    def may_see(self, event: LoggedEvent, *, viewer: str | None, unblind: bool = False) -> bool:
        """Whether ``viewer`` (None: nobody in particular) may see this event's contents."""
        if unblind or event.record_id is None:
            return True
        if event.kind in ASSESSMENTS:
            if viewer is not None and event.reviewer.lower() == viewer.lower():
                return True
            return not self.is_assessment_blinded(event.record_id, event.kind)
        if event.kind != "screening" or event.stage is None:
            return True
        if viewer is not None and event.reviewer.lower() == viewer.lower():
            return True
        return not self.is_blinded(event.record_id, event.stage)

    def visible(
        self, record_id: int, stage: str, *, viewer: str | None, unblind: bool = False
    ) -> tuple[LoggedEvent, ...]:
        """The latest decisions on a record at a stage that ``viewer`` may see."""
        entry = self.at(stage).get(record_id)
        if entry is None:
            return ()
        return tuple(e for e in entry.decisions if self.may_see(e, viewer=viewer, unblind=unblind))

    def audit_events(self, *, viewer: str | None, unblind: bool = False) -> tuple[LoggedEvent, ...]:
        """The log as ``viewer`` may read it: blinded decisions keep their row (who, when,
        which record) but show ``blinded`` instead of the decision, and no reason or note;
        blinded assessment values keep their row and how many values it holds, nothing else."""
        return tuple(
            e if self.may_see(e, viewer=viewer, unblind=unblind) else _blinded(e)
            for e in self.events
        )

    def conflicts(self, stage: str) -> list[Conflict]:
        """Open conflicts at ``stage`` (disagreeing decisions without a resolution that stands)."""
        stage = stage_name(stage)
        return [
            Conflict(
                entry.record_id,
                stage,
                tuple((e.reviewer, str(e.decision), e.reason) for e in entry.decisions),
                self.records.get(entry.record_id, ""),
                entry.conflict_on or "decision",
                tuple((e.reviewer, e.note) for e in entry.decisions if e.note),
            )
            for entry in self.at(stage).values()
            if entry.outcome == "conflict"
        ]

    def to_screen(self, reviewer: str, stage: str) -> list[int]:
        """Records at ``stage`` that still need ``reviewer``, in id order."""
        return [
            entry.record_id
            for entry in self.at(stage).values()
            if entry.decision_of(reviewer) is None
            and entry.resolution is None
            and entry.decided < self.required
        ]


def _blinded(event: LoggedEvent) -> LoggedEvent:
    """``event`` with what it decided or recorded replaced by :data:`BLINDED`."""
    if event.kind in ASSESSMENTS:
        values = (event.payload or {}).get("values", [])
        count = len(values) if isinstance(values, list) else 0
        payload = {"values": BLINDED, "count": count}
        return replace(event, decision=None, reason=None, note=None, payload=payload)
    return replace(event, decision=BLINDED, reason=None, note=None)


def replay(
    events: Sequence[LoggedEvent],
    records: Mapping[int, str] | Sequence[int],
    *,
    required: int,
    imports: Sequence[Mapping[str, object]] = (),
    blinding_events: Sequence[LoggedEvent] | None = None,
    until: datetime | None = None,
) -> ReviewState:
    """Replay ``events`` (oldest first) over ``records`` (id -> title, or just ids).

    ``blinding_events`` (default: ``events``) are the events blinding is
    decided on: the whole log, when ``events`` stop at a past moment.
    """
    if not isinstance(records, Mapping):
        records = {r: "" for r in records}
    events = tuple(events)
    links = duplicate_links(events)
    unique = [r for r in records if r not in links]
    stages: dict[str, Mapping[int, StageRecord]] = {}
    reached = unique
    for stage in STAGES:
        decided = latest_decisions(events, stage)
        settled = resolutions(events, stage)
        history: dict[int, list[LoggedEvent]] = {}
        for e in events:
            if e.kind == "resolution" and e.stage == stage and e.record_id is not None:
                history.setdefault(e.record_id, []).append(e)
        entries = {}
        for record in reached:
            by = decided.get(record, {})
            entries[record] = StageRecord(
                record_id=record,
                stage=stage,
                required=required,
                decisions=tuple(e for _, e in sorted(by.items())),
                resolution=settled.get(record),
                resolutions=tuple(history.get(record, ())),
                outcome=outcome(by, settled.get(record), stage=stage, required=required),
                conflict_on=disagreement(by, stage=stage, required=required),
            )
        stages[stage] = MappingProxyType(entries)
        reached = [r for r, entry in entries.items() if entry.outcome == "include"]
    counts = {
        (record, stage): len(by)
        for stage in STAGES
        for record, by in latest_decisions(
            events if blinding_events is None else blinding_events, stage
        ).items()
    }
    submitted = {
        key: len(by)
        for key, by in submissions(events if blinding_events is None else blinding_events).items()
    }
    return ReviewState(
        events=events,
        records=MappingProxyType(dict(records)),
        imports=tuple(imports),
        required=required,
        merges=MappingProxyType(links),
        stages=MappingProxyType(stages),
        decided_counts=MappingProxyType(counts),
        until=until,
        submitted_counts=MappingProxyType(submitted),
    )


def load_state(
    session: Session, project: Project, *, until: datetime | None = None, as_then: bool = False
) -> ReviewState:
    """Read the log, records and imports once and replay them (as they were at ``until``).

    Blinding (and which studies count as submitted) is decided on the whole log, so that a
    past view shows no more than the present one; ``as_then`` decides them on the log up to
    ``until`` instead, for re-running that moment's analyses
    (:mod:`srma.review.synthesize.history`), which show no reviewer anything.
    """
    everything = load_events(session)
    moment = None if until is None else as_utc(until)
    events = tuple(e for e in everything if moment is None or e.created_at <= moment)
    imports, records = load_imports(session, until=until)
    return replay(
        events, records, required=project.protocol.reviewers_per_record, imports=imports,
        blinding_events=events if as_then else everything, until=moment,
    )  # fmt: skip


def load_imports(session: Session, *, until: datetime | None = None
                 ) -> tuple[tuple[Mapping[str, object], ...], dict[int, str]]:  # fmt: skip
    """The imports (made at or before ``until``) and their records' titles by id."""
    query = select(ImportBatch).order_by(ImportBatch.id)
    if until is not None:
        query = query.where(ImportBatch.imported_at <= as_stored(session, until))
    batches = session.scalars(query).all()
    imports = tuple(
        MappingProxyType(
            {
                "import_id": b.id,
                "file": b.file_name,
                "format": b.format,
                "source": b.source,
                "search_date": b.search_date,
                "records_read": b.records_read,
                "records_stored": b.records_stored,
                "imported_at": as_utc(b.imported_at).isoformat(),
            }
        )
        for b in batches
    )
    kept = {b.id for b in batches}
    rows = session.execute(
        select(RecordRow.id, RecordRow.import_id, RecordRow.title).order_by(RecordRow.id)
    ).all()
    return imports, {r.id: r.title for r in rows if r.import_id in kept}


def record_unblinding(session: Session, *, reviewer: str, command: str) -> int:
    """Write an ``unblind`` event (who, now, which command) before blinded decisions are shown."""
    if not reviewer.strip():
        raise InputError("--unblind needs --reviewer NAME: the unblinding is recorded in the log")
    if reviewer.strip().lower() == SYSTEM_REVIEWER:
        raise InputError(f"{SYSTEM_REVIEWER!r} does not unblind; give your own name")
    event = Event(
        reviewer_id=reviewer_id(session, reviewer), kind="unblind",
        payload={"command": command, "reviewer": reviewer_name(session, reviewer)},
    )  # fmt: skip
    session.add(event)
    session.flush()
    return event.id
