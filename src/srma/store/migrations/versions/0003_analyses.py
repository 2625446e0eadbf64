"""The results of the planned analyses, append-only like every other table.

``analyses``: a row per outcome and time point per run of ``srma analyze``,
with the result as JSON, the data version it came from, srma's version and the
last event of the log it saw (:mod:`srma.review.synthesize.stored`).  Its
triggers are those of 0002: SQLite ``BEFORE UPDATE``, ``BEFORE DELETE`` and a
``BEFORE INSERT`` refusing an existing id (``REPLACE``); PostgreSQL row-level
``BEFORE UPDATE OR DELETE`` and statement-level ``BEFORE TRUNCATE`` triggers on
0002's ``srma_append_only()``.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from srma.store.append_only import create_append_only_triggers, drop_append_only_triggers

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_TABLE = "analyses"
_MESSAGE = "analyses is append-only in srma: run srma analyze again instead"


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("run", sa.Integer, nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("time_point", sa.Text, nullable=False),
        sa.Column("data_version", sa.String(64), nullable=False),
        sa.Column("srma_version", sa.String(40), nullable=False),
        sa.Column("log_position", sa.Integer, nullable=False),
        sa.Column("result", sa.JSON, nullable=False),
    )
    create_append_only_triggers(_TABLE, _MESSAGE)


def downgrade() -> None:
    drop_append_only_triggers(_TABLE)
    op.drop_table(_TABLE)
