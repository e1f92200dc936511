"""Who tagged each document in the studio, and when (``documents.tagged_by``, ``tagged_at``): a lead
could not tell which person had tagged what, nor review one new annotator's tags.

Revision ID: 0009_document_tagged_by
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_document_tagged_by"
down_revision = "0008_tag_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("tagged_by", sa.String(100), nullable=True))
    op.add_column("documents", sa.Column("tagged_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("tagged_at")
        batch.drop_column("tagged_by")
