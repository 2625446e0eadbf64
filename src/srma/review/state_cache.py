"""The review state of one project kept between requests: only what was appended is read.

The workspace needs the review state (:func:`srma.review.state.load_state`) for almost every
request, and most requests come when little or nothing has been appended since the last one.
The log is append-only and its events become visible in id order (the next id is taken under
the log's write lock, which is held until the transaction commits: :mod:`srma.store.chain`),
so the events read before stay as they were and only those with a larger id are read again;
records only come with imports (seen by the imports' number and largest id, which also tells
an import committed late). The state is replayed (:func:`srma.review.state.replay`, the same
replay as every command's) only when something was appended; otherwise the cached one is
returned.

A session that has written in its transaction sees its own events before they are committed:
it gets :func:`~srma.review.state.load_state` of its own, and the cache never holds what might
still be rolled back.
"""

from __future__ import annotations

import threading

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from srma.review.decision_log import LoggedEvent, load_events
from srma.review.project import RENAME_REVIEWER, Project
from srma.review.state import ReviewState, load_imports, load_state, replay
from srma.store import ImportBatch

#: Set in ``session.info`` once a session of the project has flushed a write.
_WROTE = "srma_state_cache_wrote"


def _mark_written(session: Session, _context: object) -> None:
    session.info[_WROTE] = True


def _forget_written(session: Session, *_args: object) -> None:
    session.info.pop(_WROTE, None)


class StateCache:
    """The current :class:`~srma.review.state.ReviewState` of ``project``, shared by threads.

    ``state(session)`` equals ``load_state(session, project)`` (tested on both databases);
    states of past moments (``until``) are not cached.
    """

    def __init__(self, project: Project) -> None:
        self.project = project
        self._lock = threading.Lock()
        self._events: tuple[LoggedEvent, ...] = ()
        self._import_key: tuple[int, int | None] = (0, None)
        self._imports: tuple = ()
        self._records: dict[int, str] = {}
        self._state: ReviewState | None = None
        sessions = project.store.sessions
        if not event.contains(sessions, "after_flush", _mark_written):
            event.listen(sessions, "after_flush", _mark_written)
            event.listen(sessions, "after_commit", _forget_written)
            event.listen(sessions, "after_rollback", _forget_written)

    def state(self, session: Session) -> ReviewState:
        """The review state as ``session`` sees it now."""
        if session.info.get(_WROTE):
            return load_state(session, self.project)
        with self._lock:
            import_key = tuple(
                session.execute(select(func.count(ImportBatch.id), func.max(ImportBatch.id))).one()
            )
            after = self._events[-1].id if self._events else 0
            new = load_events(session, after=after)
            if self._state is not None and not new and import_key == self._import_key:
                return self._state
            if any(e.kind == RENAME_REVIEWER for e in new):
                events = load_events(session)  # every event shows the reviewer's new name
            else:
                events = self._events + new
            if import_key != self._import_key or self._state is None:
                self._imports, self._records = load_imports(session)
                self._import_key = import_key  # type: ignore[assignment]
            self._events = events
            self._state = replay(
                events, self._records, required=self.project.protocol.reviewers_per_record,
                imports=self._imports, blinding_events=events,
            )  # fmt: skip
            return self._state
