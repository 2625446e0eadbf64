"""The order in which a reviewer screens: by predicted relevance (active learning) or by id.

The ranking is retrained from the reviewer's own decisions at the stage every
time the queue is built (that is, after every decision in ``srma screen``):
include and maybe count as relevant, exclude as irrelevant.  Other reviewers'
decisions are never used, so the ranking cannot reveal them (blinding).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import scipy.sparse as sp
from sqlalchemy import select
from sqlalchemy.orm import Session

from srma.errors import InputError
from srma.review.decision_log import LoggedEvent, latest_decisions, stage_name
from srma.review.project import Project
from srma.review.screen.features import tfidf_matrix
from srma.review.screen.models import DEFAULT_MODEL
from srma.review.screen.ranking import rank_records
from srma.review.screen.stopping import StopAdvice, stopping_heuristic
from srma.review.state import ReviewState, load_state
from srma.store import RecordRow

ORDERS = ("relevance", "id")


@dataclass
class FeatureCache:
    """The TF-IDF matrix of the records at a stage, kept while they stay the same.

    One cache may serve many threads (the workspace answers requests in a thread
    pool): the matrix is rebuilt under a lock, once per change of the records.
    """

    record_ids: tuple[int, ...] = ()
    matrix: sp.csr_matrix | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def matrix_of(self, record_ids: tuple[int, ...], texts: Callable[[], Sequence[str]]
                  ) -> sp.csr_matrix:  # fmt: skip
        """The matrix of ``record_ids``, built from ``texts()`` when they changed."""
        with self._lock:
            if self.matrix is None or self.record_ids != record_ids:
                self.matrix = tfidf_matrix(texts())
                self.record_ids = record_ids
            return self.matrix


@dataclass(frozen=True)
class Queue:
    """Records left for a reviewer, in the order to screen them, and how it was made."""

    record_ids: tuple[int, ...]
    eligible: int
    decided_by_reviewer: int
    ordering: str
    stop: StopAdvice | None


def _relevant(decision: str | None) -> int:
    return 0 if decision == "exclude" else 1


def reviewer_labels_in_order(events: Sequence[LoggedEvent], reviewer: str, stage: str) -> list[int]:
    """The reviewer's decisions at ``stage`` in the order made (latest per record), as 1/0."""
    latest = {
        record: e
        for record, by in latest_decisions(events, stage).items()
        if (e := by.get(reviewer)) is not None
    }
    return [_relevant(e.decision) for e in sorted(latest.values(), key=lambda e: e.id)]


def screening_queue(
    session: Session,
    project: Project,
    *,
    reviewer: str,
    stage: str,
    order: str = "relevance",
    model: str = DEFAULT_MODEL,
    stop_after: int | None = None,
    features: FeatureCache | None = None,
    state: ReviewState | None = None,
) -> Queue:
    """The records ``reviewer`` still has to screen at ``stage``, most relevant first.

    ``features`` keeps the TF-IDF matrix between calls while the set of records
    at the stage does not change (an interactive session); ``state`` is the
    review state when the caller has replayed it already.  The queue holds
    record ids and counts only: nothing of other reviewers' decisions.
    """
    stage = stage_name(stage)
    if order not in ORDERS:
        raise InputError(f"order must be one of {ORDERS}, got {order!r}")
    if state is None:
        state = load_state(session, project)
    eligible = state.eligible(stage)
    waiting = state.to_screen(reviewer, stage)
    own = {
        r: mine.decision
        for r, entry in state.at(stage).items()
        if (mine := entry.decision_of(reviewer)) is not None
    }
    in_order = reviewer_labels_in_order(state.events, reviewer, stage)
    stop = stopping_heuristic(in_order, threshold=stop_after) if stop_after else None
    if order == "id" or not waiting:
        return Queue(tuple(waiting), len(eligible), len(own), "record id", stop)

    def texts() -> list[str]:
        return record_texts(session, eligible)

    matrix = None if features is None else features.matrix_of(tuple(eligible), texts)
    ranking = rank_records(
        texts() if matrix is None else None,
        [_relevant(own[r]) if r in own else None for r in eligible],
        model=model,
        features=matrix,
    )
    waiting_set = set(waiting)
    ranked = [eligible[i] for i in ranking.indices if eligible[i] in waiting_set]
    in_ranking = set(ranked)
    ranked += [r for r in waiting if r not in in_ranking]
    if ranking.model_used:
        ordering = f"{model} relevance ranking"
    else:
        ordering = "record id, until you have made an include and an exclude decision"
    return Queue(tuple(ranked), len(eligible), len(own), ordering, stop)


def record_texts(session: Session, record_ids: Sequence[int]) -> list[str]:
    """Title, abstract and keywords of each of ``record_ids``: the text that is ranked."""
    # every record's text, then those asked for: no IN list of thousands of ids
    rows = session.execute(
        select(RecordRow.id, RecordRow.title, RecordRow.abstract, RecordRow.keywords)
    ).all()
    by_id = {r.id: " ".join([r.title, r.abstract, " ".join(r.keywords)]) for r in rows}
    return [by_id[r] for r in record_ids]


def prepare_features(session: Session, state: ReviewState, stage: str, features: FeatureCache
                     ) -> None:  # fmt: skip
    """Build the TF-IDF matrix of the records at ``stage`` into ``features`` ahead of the
    first queue (the workspace does it when it starts)."""
    eligible = state.eligible(stage_name(stage))
    features.matrix_of(tuple(eligible), lambda: record_texts(session, eligible))
