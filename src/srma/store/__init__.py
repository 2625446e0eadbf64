"""Persistence for review projects: SQLAlchemy models, migrations, sessions.

SQLite (a file in the project folder) is the default; PostgreSQL is used when
a ``postgresql://`` URL is given.  Every table is append-only (the database
refuses updates, deletes, replaces and truncation of any row), decisions are a
log of events chained by hashes (``verify_chain``), and every command runs in
one transaction.
"""

from srma.store.chain import LogCheck, verify_chain
from srma.store.database import Store, check_log, open_store, resolve_url
from srma.store.models import (
    APPEND_ONLY_TABLES,
    AccountRow,
    AnalysisRow,
    Base,
    Event,
    ImportBatch,
    ImportProblemRow,
    RecordRow,
    Reviewer,
)

__all__ = [
    "APPEND_ONLY_TABLES",
    "AccountRow",
    "AnalysisRow",
    "Base",
    "Event",
    "ImportBatch",
    "ImportProblemRow",
    "LogCheck",
    "RecordRow",
    "Reviewer",
    "Store",
    "check_log",
    "open_store",
    "resolve_url",
    "verify_chain",
]
