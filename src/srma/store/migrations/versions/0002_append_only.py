"""Every table append-only against every statement, and a hash chain over the events.

SQLite: ``BEFORE UPDATE`` and ``BEFORE DELETE`` triggers on every table, and
``BEFORE INSERT`` triggers that refuse a row whose id (or unique key) exists,
so ``REPLACE INTO``, ``INSERT OR REPLACE`` and upserts cannot rewrite a row
(``REPLACE`` deletes the old row without firing delete triggers unless
``recursive_triggers`` is on; srma turns it on for every connection too).
PostgreSQL: row-level ``BEFORE UPDATE OR DELETE`` triggers and statement-level
``BEFORE TRUNCATE`` triggers on every table.  ``events.hash`` chains each
event on the one before it (``srma.store.chain``); existing events get their
hashes here.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from srma.store.chain import GENESIS, event_hash

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_TABLES = ("reviewers", "imports", "import_problems", "records", "events")
#: Besides the id, the unique keys a REPLACE could collide on.
_KEYS = {
    "reviewers": "name = NEW.name",
    "imports": "sha256 = NEW.sha256",
    "records": "(import_id = NEW.import_id AND source_line = NEW.source_line)",
}


def _message(table: str) -> str:
    return f"{table} is append-only in srma: record a new event instead"


def _sqlite_triggers() -> None:
    for table in _TABLES:
        if table != "events":  # events_no_update and events_no_delete come from 0001
            for action in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{_message(table)}'); END"
                )
        key = " OR ".join(["id = NEW.id", *([_KEYS[table]] if table in _KEYS else [])])
        op.execute(
            f"CREATE TRIGGER {table}_no_replace BEFORE INSERT ON {table} "
            f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {key}) "
            f"BEGIN SELECT RAISE(ABORT, '{_message(table)} (this row exists)'); END"
        )


def _postgresql_triggers() -> None:
    op.execute(
        "CREATE FUNCTION srma_append_only() RETURNS trigger AS $$ BEGIN "
        "RAISE EXCEPTION '% is append-only in srma: record a new event instead', TG_TABLE_NAME; "
        "END; $$ LANGUAGE plpgsql"
    )
    for table in _TABLES:
        if table != "events":  # events_append_only comes from 0001
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION srma_append_only()"
            )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION srma_append_only()"
        )


def _hash_existing_events(dialect: str) -> None:
    bind = op.get_bind()
    meta = sa.MetaData()
    events = sa.Table("events", meta, autoload_with=bind)
    reviewers = sa.Table("reviewers", meta, autoload_with=bind)
    names = dict(bind.execute(sa.select(reviewers.c.id, reviewers.c.name)).all())
    rows = bind.execute(sa.select(events).order_by(events.c.id)).mappings().all()
    if not rows:
        return
    if dialect == "sqlite":
        op.execute("DROP TRIGGER events_no_update")
    else:
        op.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
    previous = GENESIS
    for row in rows:
        previous = event_hash(previous, row, names.get(row["reviewer_id"], ""))
        bind.execute(sa.update(events).where(events.c.id == row["id"]).values(hash=previous))
    if dialect == "sqlite":
        op.execute(
            "CREATE TRIGGER events_no_update BEFORE UPDATE ON events "
            "BEGIN SELECT RAISE(ABORT, 'events are append-only: record a new event instead'); END"
        )
    else:
        op.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column("events", sa.Column("hash", sa.String(64), nullable=True))
    _hash_existing_events(dialect)
    if dialect == "sqlite":
        _sqlite_triggers()
    elif dialect == "postgresql":
        _postgresql_triggers()


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in _TABLES:
            op.execute(f"DROP TRIGGER {table}_no_replace")
            if table != "events":
                op.execute(f"DROP TRIGGER {table}_no_update")
                op.execute(f"DROP TRIGGER {table}_no_delete")
        op.execute("ALTER TABLE events DROP COLUMN hash")
    elif dialect == "postgresql":
        for table in _TABLES:
            op.execute(f"DROP TRIGGER {table}_no_truncate ON {table}")
            if table != "events":
                op.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        op.execute("DROP FUNCTION srma_append_only()")
        op.drop_column("events", "hash")
