"""Where a review stands: counts per stage, each reviewer's work, and the PRISMA 2020 counts.

Everything here is computed from the stored imports and the replayed decision
log, optionally only up to a moment in the past (``until``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from srma.review.decision_log import STAGES, LoggedEvent
from srma.review.flow.prisma import PrismaCounts
from srma.review.identify.sources import source_display_name
from srma.review.project import SYSTEM_REVIEWER, Project
from srma.review.state import ReviewState, load_state, replay
from srma.store import RecordRow

NOT_RETRIEVED = "full text not available"


@dataclass(frozen=True)
class StageStatus:
    """Counts of one screening stage.

    ``partly_decided`` counts the records some but not all of the reviewers
    they need have decided (their decisions are blinded: only the count shows).
    """

    stage: str
    records: int
    decisions_by_reviewer: dict[str, int]
    included: int
    excluded: int
    conflicts: int
    resolved: int
    pending: int
    exclusion_reasons: dict[str, int]
    partly_decided: int = 0


@dataclass(frozen=True)
class ProjectStatus:
    """Imports, duplicates and both screening stages."""

    imports: tuple[dict[str, object], ...]
    records: int
    duplicates_merged: int
    stages: tuple[StageStatus, ...]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def status_of_stage(state: ReviewState, stage: str) -> StageStatus:
    """Counts of one stage of the review state (every record is in exactly one outcome).

    Only counts: no decision, reason or note of any reviewer.  The reasons
    counted are those of excluded records, which every reviewer they needed
    has decided (the resolution's reason where a resolution stands).
    """
    entries = state.at(stage)
    by_reviewer = Counter(
        e.reviewer for entry in entries.values() for e in entry.decisions
        if e.reviewer != SYSTEM_REVIEWER
    )  # fmt: skip
    counts = Counter(entry.outcome for entry in entries.values())
    reasons: Counter[str] = Counter()
    for entry in entries.values():
        if entry.outcome != "exclude":
            continue
        chosen = [entry.resolution] if entry.resolution is not None else list(entry.decisions)
        given = sorted({e.reason for e in chosen if e.reason})
        reasons[given[0] if given else "no reason given"] += 1
    return StageStatus(
        stage=stage,
        records=len(entries),
        decisions_by_reviewer=dict(sorted(by_reviewer.items())),
        included=counts["include"],
        excluded=counts["exclude"],
        conflicts=counts["conflict"],
        resolved=sum(1 for entry in entries.values() if entry.resolution is not None),
        pending=counts["pending"],
        exclusion_reasons=dict(sorted(reasons.items())),
        partly_decided=sum(1 for entry in entries.values() if 0 < entry.decided < state.required),
    )


def stage_status(
    events: Sequence[LoggedEvent], record_ids: Sequence[int], stage: str, required: int
) -> StageStatus:
    """Counts of one stage from a replayed log (see :func:`status_of_stage`)."""
    return status_of_stage(replay(events, record_ids, required=required), stage)


def status_of(state: ReviewState) -> ProjectStatus:
    """Imports, records, duplicates and both stages of the review state."""
    return ProjectStatus(
        imports=tuple(dict(batch) for batch in state.imports),
        records=len(state.records),
        duplicates_merged=len(state.merges),
        stages=tuple(status_of_stage(state, s) for s in STAGES),
    )


def project_status(
    session: Session, project: Project, *, until: datetime | None = None
) -> ProjectStatus:
    """The state of the review now (or at ``until``)."""
    return status_of(load_state(session, project, until=until))


def prisma_counts(session: Session, project: Project) -> PrismaCounts:
    """PRISMA 2020 counts of the project (see :func:`prisma_counts_of`)."""
    return prisma_counts_of(load_state(session, project), source=f"project {project.folder}")


def prisma_counts_of(state: ReviewState, *, source: str) -> PrismaCounts:
    """PRISMA 2020 counts from the review state (imports and the replayed log).

    Records identified are the stored records per source database; records
    screened are the unique records; full texts sought are the records
    included at title and abstract; those excluded at full text with the
    reason "full text not available" are counted as not retrieved.  A
    conflict on the reason at full text counts under the resolution's reason.
    """
    status = status_of(state)
    per_source: Counter[str] = Counter()
    for batch in status.imports:
        per_source[source_display_name(str(batch["source"]))] += int(batch["records_stored"])
    screening, full_text = status.stages
    reasons = dict(full_text.exclusion_reasons)
    not_retrieved = reasons.pop(NOT_RETRIEVED, 0)
    sought = screening.included
    counts: dict[str, int | None] = {
        "database_results": status.records,
        "register_results": None,
        "duplicates": status.duplicates_merged,
        "excluded_automatic": None,
        "excluded_other": None,
        "records_screened": screening.records,
        "records_excluded": screening.excluded,
        "dbr_sought_reports": sought,
        "dbr_notretrieved_reports": not_retrieved,
        "dbr_assessed": sought - not_retrieved,
        "dbr_excluded": sum(reasons.values()),
        "new_studies": full_text.included,
        "new_reports": full_text.included,
        "total_studies": full_text.included,
        "total_reports": full_text.included,
    }
    notes = {}
    pending = screening.pending + screening.conflicts + full_text.pending + full_text.conflicts
    if pending:
        notes["pending"] = f"{pending} records are still pending or in conflict"
    return PrismaCounts(
        counts=counts,
        database_specific=tuple(sorted(per_source.items())),
        exclusion_reasons=tuple(sorted(reasons.items())),
        notes=notes,
        source=source,
    )


def all_record_ids_with_import(session: Session) -> list[tuple[int, int]]:
    """(record id, import id) of every stored record, in id order."""
    query = select(RecordRow.id, RecordRow.import_id).order_by(RecordRow.id)
    return [(record, batch) for record, batch in session.execute(query).all()]
