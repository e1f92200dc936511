"""The API key that submitted each analyze job (``jobs.key_id``), so that one key's unfinished
jobs can be counted: with no limit, one runtime key queued 60 jobs of 125,000 characters in 11 s
and another client's one-document job waited 109 s behind them.

Revision ID: 0007_job_keys
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_job_keys"
down_revision = "0006_document_search_text"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("key_id", sa.String(40), nullable=True))
    op.create_index("ix_jobs_key", "jobs", ["key_id", "kind", "status"])


def downgrade() -> None:
    op.drop_index("ix_jobs_key", table_name="jobs")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("key_id")
