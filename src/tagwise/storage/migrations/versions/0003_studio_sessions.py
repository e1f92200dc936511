"""Studio sessions kept in the store, so signing out ends a session everywhere at once.

Revision ID: 0003_studio_sessions
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_studio_sessions"
down_revision = "0002_keys_and_heartbeats"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "studio_sessions",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("key_id", sa.String(32), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_studio_sessions_key", "studio_sessions", ["key_id"])


def downgrade() -> None:
    op.drop_index("ix_studio_sessions_key", table_name="studio_sessions")
    op.drop_table("studio_sessions")
