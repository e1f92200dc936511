"""Which document each studio session has open on the Tag page, so that the queue hands several
people tagging one project different documents (four people were all shown the same document
and overwrote each other's tags).

Revision ID: 0008_tag_leases
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_tag_leases"
down_revision = "0007_job_keys"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tag_leases",
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("document_id", sa.Integer, primary_key=True),
        sa.Column("holder", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("tag_leases")
