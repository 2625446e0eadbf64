"""What the pages and the API show, read from the review library; what they write, through it.

Every read is of the review state replayed from the log (:class:`srma.review.state.ReviewState`,
kept between requests by :class:`srma.review.state_cache.StateCache`); what a reviewer may see
of other reviewers' decisions is what
:meth:`~srma.review.state.ReviewState.visible` returns for them.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.decision_log import STAGES, LoggedEvent
from srma.review.flow.status import prisma_counts_of, status_of
from srma.review.project import Project
from srma.review.screen.agreement import agreement_of
from srma.review.screen.decisions import decide as decide_record
from srma.review.screen.decisions import resolve as resolve_record
from srma.review.screen.queue import FeatureCache, screening_queue
from srma.review.state import ReviewState
from srma.store import RecordRow


def _event(e: LoggedEvent) -> dict[str, object]:
    return {"reviewer": e.reviewer, "decision": e.decision, "reason": e.reason, "note": e.note,
            "at": e.created_at.isoformat()}  # fmt: skip


def segments(text: str, project: Project) -> list[tuple[str, str | None]]:
    """``text`` cut into ``(piece, None | "include" | "exclude")`` at the protocol's terms
    (:func:`srma.cli.screen.highlight_terms`), for the page to mark; never HTML."""
    from srma.cli.screen import highlight_terms

    protocol = project.protocol
    pieces: list[tuple[str, str | None]] = []
    at = 0
    for start, end, kind in highlight_terms(
        text, protocol.highlight_include, protocol.highlight_exclude
    ):
        if start < at:
            continue
        pieces += [(text[at:start], None), (text[start:end], kind)]
        at = end
    return [*pieces, (text[at:], None)]


def dashboard(state: ReviewState, project: Project) -> dict[str, Any]:
    """Counts per stage (with each reviewer's number of decisions), open conflicts, agreement
    per stage and the PRISMA 2020 counts."""
    agreement: dict[str, object] = {}
    for stage in STAGES:
        try:
            agreement[stage] = agreement_of(state, stage).to_dict()
        except InputError as error:
            agreement[stage] = {"problem": str(error)}
    prisma = prisma_counts_of(state, source=project.protocol.title)
    return {
        "title": project.protocol.title,
        "status": status_of(state).to_dict(),
        "conflicts": sum(len(state.conflicts(s)) for s in STAGES),
        "agreement": agreement,
        "prisma": dict(prisma.counts),
    }


def queue(
    session: Session,
    project: Project,
    reviewer: str,
    stage: str,
    order: str,
    *,
    features: FeatureCache,
    state: ReviewState,
) -> dict[str, Any]:
    """The records left for ``reviewer`` at ``stage`` in screening order (ids and counts);
    ``features`` keeps the stage's TF-IDF matrix between requests."""
    found = screening_queue(session, project, reviewer=reviewer, stage=stage, order=order,
                            features=features, state=state)  # fmt: skip
    return {"stage": stage, "record_ids": list(found.record_ids), "eligible": found.eligible,
            "decided_by_you": found.decided_by_reviewer, "ordering": found.ordering}  # fmt: skip


def record(session: Session, project: Project, record_id: int, stage: str, viewer: str,
           state: ReviewState) -> dict[str, Any]:  # fmt: skip
    """One record with the decisions at ``stage`` that ``viewer`` may see in ``state``."""
    row = session.get(RecordRow, record_id)
    if row is None or record_id not in state.records:
        raise InputError(f"no record {record_id} in this project")
    entry = state.at(stage).get(record_id)
    visible = state.visible(record_id, stage, viewer=viewer)
    return {
        "id": row.id, "title": row.title, "abstract": row.abstract, "authors": row.authors,
        "year": row.year, "journal": row.journal, "doi": row.doi, "pmid": row.pmid,
        "keywords": row.keywords, "stage": stage,
        "title_parts": segments(row.title, project),
        "abstract_parts": segments(row.abstract, project),
        "at_stage": entry is not None,
        "decided": 0 if entry is None else entry.decided,
        "required": state.required,
        "blinded": state.is_blinded(record_id, stage),
        "decisions": [_event(e) for e in visible],
        "outcome": entry.outcome if entry is not None and not state.is_blinded(record_id, stage)
        else None,
    }  # fmt: skip


def decide(session: Session, project: Project, reviewer: str, body: dict[str, Any]) -> int:
    """``reviewer``'s decision, appended by :func:`srma.review.screen.decisions.decide`."""
    return decide_record(
        session, project, reviewer=reviewer, record_id=body["record_id"], stage=body["stage"],
        decision=body["decision"], reason=body.get("reason"), note=body.get("note"),
    )  # fmt: skip


def conflicts(state: ReviewState) -> list[dict[str, Any]]:
    """Open conflicts (every reviewer needed has decided, so nothing is blinded)."""
    return [asdict(c) for s in STAGES for c in state.conflicts(s)]


def resolve(session: Session, project: Project, reviewer: str, body: dict[str, Any]) -> int:
    """A resolution, appended by :func:`srma.review.screen.decisions.resolve`."""
    return resolve_record(
        session, project, reviewer=reviewer, record_id=body["record_id"],
        stage=body.get("stage"), decision=body["decision"], method=body["method"],
        reason=body.get("reason"), note=body.get("note"),
    )  # fmt: skip


#: The largest search export the workspace takes in one upload (500,000 records of RIS
#: are about 1 GB; a larger search is imported with ``srma import``).
MAX_UPLOAD_BYTES = 200 * 1024 * 1024


def import_upload(
    project: Project,
    filename: str,
    content: bytes,
    *,
    source: str | None,
    search_date: str | None,
    imported_by: str,
) -> dict[str, Any]:
    """Import an uploaded search export as ``srma import`` does (one transaction; a file
    imported before is skipped); the file keeps its name, without any folder."""
    import tempfile
    from pathlib import Path

    from srma.review.identify.importing import import_files

    name = Path(filename.replace("\\", "/")).name or "upload"
    if not content:
        raise InputError("the file is empty", file=name)
    if len(content) > MAX_UPLOAD_BYTES:
        raise InputError(
            f"larger than {MAX_UPLOAD_BYTES // 2**20} MB: import it with srma import", file=name
        )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        found = import_files(
            project, [path], source=source, search_date=search_date, imported_by=imported_by
        )
        results = []
        for file in found:  # the temporary folder means nothing to the user
            skipped = file.skipped
            results.append(
                {
                    **file.to_dict(),
                    "path": name,
                    "skipped": None if skipped is None else skipped.replace(str(path), name),
                }
            )
    return {"files": results}
