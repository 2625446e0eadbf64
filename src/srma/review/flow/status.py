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

from srma.review.decision_log import (
    STAGES,
    LoggedEvent,
    as_stored,
    as_utc,
    duplicate_links,
    latest_decisions,
    load_events,
    records_at_stage,
    resolutions,
    stage_outcomes,
)
from srma.review.flow.prisma import PrismaCounts
from srma.review.project import Project
from srma.store import ImportBatch, RecordRow

NOT_RETRIEVED = "full text not available"


@dataclass(frozen=True)
class StageStatus:
    """Counts of one screening stage."""

    stage: str
    records: int
    decisions_by_reviewer: dict[str, int]
    included: int
    excluded: int
    conflicts: int
    resolved: int
    pending: int
    exclusion_reasons: dict[str, int]


@dataclass(frozen=True)
class ProjectStatus:
    """Imports, duplicates and both screening stages."""

    imports: tuple[dict[str, object], ...]
    records: int
    duplicates_merged: int
    stages: tuple[StageStatus, ...]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def stage_status(
    events: Sequence[LoggedEvent], record_ids: Sequence[int], stage: str, required: int
) -> StageStatus:
    """Counts of one stage from the replayed log (every record is in exactly one outcome)."""
    eligible = records_at_stage(events, record_ids, stage=stage, required=required)
    outcomes = stage_outcomes(events, eligible, stage=stage, required=required)
    decided = latest_decisions(events, stage)
    settled = resolutions(events, stage)
    by_reviewer = Counter(name for r in eligible for name in decided.get(r, {}))
    counts = Counter(outcomes.values())
    reasons: Counter[str] = Counter()
    for record in eligible:
        if outcomes[record] != "exclude":
            continue
        final = settled.get(record)
        chosen = [final] if final is not None else list(decided[record].values())
        given = sorted({e.reason for e in chosen if e.reason})
        reasons[given[0] if given else "no reason given"] += 1
    return StageStatus(
        stage=stage,
        records=len(eligible),
        decisions_by_reviewer=dict(sorted(by_reviewer.items())),
        included=counts["include"],
        excluded=counts["exclude"],
        conflicts=counts["conflict"],
        resolved=sum(1 for r in eligible if r in settled),
        pending=counts["pending"],
        exclusion_reasons=dict(sorted(reasons.items())),
    )


def project_status(
    session: Session, project: Project, *, until: datetime | None = None
) -> ProjectStatus:
    """The state of the review now (or at ``until``)."""
    events = load_events(session, until=until)
    query = select(ImportBatch).order_by(ImportBatch.id)
    if until is not None:
        query = query.where(ImportBatch.imported_at <= as_stored(session, until))
    imports = session.scalars(query).all()
    import_ids = {batch.id for batch in imports}
    record_ids = [r for r, batch in all_record_ids_with_import(session) if batch in import_ids]
    required = project.protocol.reviewers_per_record
    return ProjectStatus(
        imports=tuple(
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
            for b in imports
        ),
        records=len(record_ids),
        duplicates_merged=len(duplicate_links(events)),
        stages=tuple(stage_status(events, record_ids, s, required) for s in STAGES),
    )


def all_record_ids_with_import(session: Session) -> list[tuple[int, int]]:
    """(record id, import id) of every stored record, in id order."""
    query = select(RecordRow.id, RecordRow.import_id).order_by(RecordRow.id)
    return [(record, batch) for record, batch in session.execute(query).all()]


def prisma_counts(session: Session, project: Project) -> PrismaCounts:
    """PRISMA 2020 counts from the imports and the decision log.

    Records identified are the stored records per source database; records
    screened are the unique records; full texts sought are the records
    included at title and abstract; those excluded at full text with the
    reason "full text not available" are counted as not retrieved.
    """
    status = project_status(session, project)
    per_source: Counter[str] = Counter()
    for batch in status.imports:
        per_source[str(batch["source"])] += int(batch["records_stored"])
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
        source=f"project {project.folder}",
    )
