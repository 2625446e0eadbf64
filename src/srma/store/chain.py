"""The hash chain over the decision log, and the checks that the log is intact.

Each event stores ``hash``: the SHA-256 (hex) of the previous event's hash
followed by the event's own content (its id, time, reviewer id and the
reviewer's registered name, kind, stage, record, decision, reason, note,
``refers_to`` and payload, as canonical JSON).  The first event chains on
:data:`GENESIS`.  An event changed, removed, inserted or reordered after the
fact breaks the chain from that event on, so a rewrite made by someone who
dropped the database triggers (any owner of a SQLite file can) is detected by
:func:`verify_chain` -- unless they recomputed every later hash too, which is
why :class:`LogCheck` reports the ``head`` hash: note it down (or publish it)
and a later check shows whether the log still ends where it ended.

srma writes the hashes itself, when a session flushes new events
(:func:`chain_new_events`, installed on every :class:`~srma.store.Store`):
under a lock (PostgreSQL: a transaction-level advisory lock; SQLite: the
database's write lock, taken before the head is read), the new events get the next ids and
their hashes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import instance_state

from srma.store.models import APPEND_ONLY_TABLES, Event, Reviewer

#: What the first event of a log chains on.
GENESIS = "0" * 64
#: The key of PostgreSQL's advisory lock that serialises writers of the log.
_LOCK_KEY = 0x5352_4D41  # "SRMA"
_FIELDS = ("id", "created_at", "reviewer_id", "kind", "stage", "record_id", "decision", "reason",
           "note", "refers_to", "payload")  # fmt: skip


def _utc(moment: datetime) -> str:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat()


def event_hash(previous: str, content: Mapping[str, object], reviewer_name: str) -> str:
    """SHA-256 of ``previous`` (a hex hash) followed by the event's canonical JSON."""
    values = {f: content[f] for f in _FIELDS}
    values["created_at"] = _utc(values["created_at"])  # type: ignore[arg-type]
    values["reviewer_name"] = reviewer_name
    body = json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256((previous + body).encode("utf-8")).hexdigest()


def chain_new_events(session: Session, _context: object, _instances: object) -> None:
    """``before_flush``: give each new :class:`Event` the next id and its chained hash."""
    new = [o for o in session.new if isinstance(o, Event)]
    if not new:
        return
    new.sort(key=lambda o: instance_state(o).insert_order or 0)
    with session.no_autoflush:
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        else:
            # a write statement takes SQLite's write lock (waiting for another writer to
            # commit) before the head is read; it deletes nothing, so no trigger fires
            session.execute(text("DELETE FROM events WHERE 0"))
        last = session.execute(select(Event.id, Event.hash).order_by(Event.id.desc()).limit(1))
        row = last.first()
        number, previous = (0, GENESIS) if row is None else (row.id, row.hash or "")
        wanted = {event.reviewer_id for event in new}
        names = dict(session.execute(
            select(Reviewer.id, Reviewer.name).where(Reviewer.id.in_(wanted))
        ).all())  # fmt: skip
        for event in new:
            number += 1
            event.id = number
            if event.created_at is None:
                event.created_at = datetime.now(UTC)
            content = {f: getattr(event, f) for f in _FIELDS}
            event.hash = previous = event_hash(previous, content, names.get(event.reviewer_id, ""))


@dataclass(frozen=True)
class LogCheck:
    """What :func:`verify_chain` found: events checked, the head hash, and every problem."""

    events: int
    head: str
    problems: tuple[str, ...]

    @property
    def intact(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, object]:
        return {"events": self.events, "head": self.head, "intact": self.intact,
                "problems": list(self.problems)}  # fmt: skip


def verify_chain(connection: Connection | Session) -> LogCheck:
    """Recompute the hash chain over every event (oldest first) and report where it breaks.

    Also reports append-only triggers that are missing or disabled
    (:func:`missing_triggers`).
    """
    names = dict(connection.execute(select(Reviewer.id, Reviewer.name)).all())
    rows = connection.execute(select(Event.__table__).order_by(Event.id)).mappings()
    problems: list[str] = []
    previous, count = GENESIS, 0
    for row in rows:
        count += 1
        expected = event_hash(previous, row, names.get(row["reviewer_id"], ""))
        if row["hash"] != expected:
            problems.append(
                f"event {row['id']}: its hash does not match its content and the event "
                "before it (the log was changed after it was written)"
            )
        previous = row["hash"] or expected
    problems.extend(f"trigger missing or disabled: {name}" for name in missing_triggers(connection))
    return LogCheck(count, previous, tuple(problems))


def expected_triggers(dialect: str) -> dict[str, tuple[str, ...]]:
    """The append-only triggers each table must have, by name."""
    if dialect == "sqlite":
        return {t: (f"{t}_no_update", f"{t}_no_delete", f"{t}_no_replace")
                for t in APPEND_ONLY_TABLES}  # fmt: skip
    return {t: (f"{t}_append_only", f"{t}_no_truncate") for t in APPEND_ONLY_TABLES}


def missing_triggers(connection: Connection | Session) -> list[str]:
    """Append-only triggers that are missing (or, on PostgreSQL, disabled)."""
    bind = connection.get_bind() if isinstance(connection, Session) else connection
    dialect = bind.dialect.name
    if dialect == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger'"
    else:
        query = (
            "SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE c.relnamespace = to_regnamespace(current_schema())::oid "
            "AND t.tgenabled IN ('O', 'A') AND NOT t.tgisinternal"
        )
    present = set(connection.execute(text(query)).scalars())
    return [
        f"{table}.{name}"
        for table, names in expected_triggers(dialect).items()
        for name in names
        if name not in present
    ]
