"""Accounts of the browser workspace (``srma serve``), append-only like every other table.

``accounts``: a row per change of a reviewer's sign-in (role ``lead`` or
``reviewer``, an argon2 password hash); the latest row of a reviewer is the
account in force (:mod:`srma.web.accounts`).  Its triggers are those of 0002.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from srma.store.append_only import create_append_only_triggers, drop_append_only_triggers

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_TABLE = "accounts"
_MESSAGE = "accounts is append-only in srma: run srma user add again instead"


def upgrade() -> None:
    op.create_table(
        _TABLE,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reviewer_id", sa.Integer, sa.ForeignKey("reviewers.id"), nullable=False,
                  index=True),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )  # fmt: skip
    create_append_only_triggers(_TABLE, _MESSAGE)


def downgrade() -> None:
    drop_append_only_triggers(_TABLE)
    op.drop_table(_TABLE)
