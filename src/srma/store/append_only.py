"""The triggers that make a table append-only, for the migrations that add one.

SQLite: ``BEFORE UPDATE`` and ``BEFORE DELETE`` triggers, and a ``BEFORE INSERT``
trigger refusing an existing id (``INSERT OR REPLACE``), each raising ``message``.
PostgreSQL: a row-level ``BEFORE UPDATE OR DELETE`` and a statement-level ``BEFORE
TRUNCATE`` trigger on ``srma_append_only()``, the function migration 0002 defines.
Written by hand: SQLAlchemy and Alembic have no portable notion of an append-only table.
"""

from __future__ import annotations

from alembic import op


def create_append_only_triggers(table: str, message: str) -> None:
    """Make ``table`` refuse updates, deletes and replacements (and truncation)."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )
        op.execute(
            f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
            f"WHEN EXISTS (SELECT 1 FROM {table} WHERE id = NEW.id) "
            f"BEGIN SELECT RAISE(ABORT, '{message} (this row exists)'); END"
        )
    elif dialect == "postgresql":
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION srma_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION srma_append_only()"
        )


def drop_append_only_triggers(table: str) -> None:
    """Remove the triggers :func:`create_append_only_triggers` made on ``table``."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for name in ("no_update", "no_delete", "no_replace"):
            op.execute(f"DROP TRIGGER {table}_{name}")
    elif dialect == "postgresql":
        op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
