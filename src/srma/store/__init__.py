"""Persistence for review projects: SQLAlchemy models, migrations, sessions.

SQLite (a file in the project folder) is the default; PostgreSQL is used when
a ``postgresql://`` URL is given.  Decisions are an append-only log of events
(the database refuses updates and deletes of events), and every command runs
in one transaction.
"""

from srma.store.database import Store, open_store, resolve_url
from srma.store.models import (
    Base,
    Event,
    ImportBatch,
    ImportProblemRow,
    RecordRow,
    Reviewer,
)

__all__ = [
    "Base",
    "Event",
    "ImportBatch",
    "ImportProblemRow",
    "RecordRow",
    "Reviewer",
    "Store",
    "open_store",
    "resolve_url",
]
