"""Stored analyses: each run of ``srma analyze`` adds its results, and the data tell which
are stale.

:func:`store_analyses` writes one row per outcome and time point to the
append-only ``analyses`` table (:class:`srma.store.AnalysisRow`): the result
as JSON (:meth:`OutcomeAnalysis.to_dict`), its data version, the run's number,
srma's version, the time and the last event of the log the run saw.  It runs
in the caller's transaction, so an interrupted run leaves the store as it was.

:func:`analysis_status` compares the latest stored row of every outcome and
time point with the data version the project's data give now (exports only,
nothing is refitted): *current* (the same), *stale* (the data, the plan or
the judgements changed since), or *not analysed*.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from srma.review.decision_log import as_utc
from srma.review.project import Project
from srma.review.synthesize.project import ReviewInputs, outcome_inputs, review_inputs
from srma.review.synthesize.results import ReviewAnalysis
from srma.store import AnalysisRow

CURRENT, STALE, NOT_ANALYSED = "current", "stale", "not analysed"


def store_analyses(session: Session, analysis: ReviewAnalysis, *, log_position: int) -> int:
    """Add every outcome's result as a new run; return the run's number."""
    run = (session.scalar(select(func.max(AnalysisRow.run))) or 0) + 1
    session.add_all(
        AnalysisRow(
            run=run,
            outcome=o.outcome.name,
            time_point=o.time_point,
            data_version=o.data_version,
            srma_version=analysis.srma_version,
            log_position=log_position,
            result=o.to_dict(),
        )
        for o in analysis.outcomes
    )
    session.flush()
    return run


def latest_rows(session: Session) -> dict[tuple[str, str], AnalysisRow]:
    """The latest stored row of each outcome and time point."""
    rows = session.scalars(select(AnalysisRow).order_by(AnalysisRow.id)).all()
    return {(r.outcome, r.time_point): r for r in rows}


@dataclass(frozen=True)
class StoredStatus:
    """Whether an outcome's stored result is current, stale or missing."""

    outcome: str
    time_point: str
    state: str
    data_version: str  # the data's version now
    stored_version: str | None
    run: int | None
    analysed_at: str | None
    srma_version: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)

    def sentence(self) -> str:
        where = self.outcome + (f" ({self.time_point})" if self.time_point else "")
        if self.state == NOT_ANALYSED:
            return f"{where}: not analysed yet (run srma analyze)"
        when = f"run {self.run}, {self.analysed_at}"
        if self.state == STALE:
            return f"{where}: stale: the data or the plan changed since {when}"
        return f"{where}: current ({when})"


def analysis_status(
    session: Session, project: Project, inputs: ReviewInputs | None = None
) -> tuple[StoredStatus, ...]:
    """Every outcome and time point of the protocol: current, stale or not analysed."""
    inputs = inputs or review_inputs(session, project)
    stored = latest_rows(session)
    found = []
    for item in outcome_inputs(inputs):
        key = (item.plan.outcome.name, item.time_point)
        row = stored.get(key)
        if row is None:
            state = NOT_ANALYSED
        else:
            state = CURRENT if row.data_version == item.data_version else STALE
        found.append(
            StoredStatus(
                outcome=key[0],
                time_point=key[1],
                state=state,
                data_version=item.data_version,
                stored_version=None if row is None else row.data_version,
                run=None if row is None else row.run,
                analysed_at=None
                if row is None
                else as_utc(row.created_at).isoformat(timespec="seconds"),
                srma_version=None if row is None else row.srma_version,
            )
        )
    return tuple(found)
