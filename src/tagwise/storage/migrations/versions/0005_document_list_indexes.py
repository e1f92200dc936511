"""Indexes for the studio's document lists: a project's documents in id order, and those of one
dataset in id order. Without them SQLite found a project's rows through the (project, location)
index, read each row (text included) in location order and sorted them all by id: a later page of
a 300,000-document project took 4 s, a dataset filter 1.6 s.

Revision ID: 0005_document_list_indexes
"""

from __future__ import annotations

from alembic import op

revision = "0005_document_list_indexes"
down_revision = "0004_model_snapshots"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_documents_project", "documents", ["project_id", "id"])
    op.create_index("ix_documents_dataset", "documents", ["project_id", "dataset", "id"])


def downgrade() -> None:
    op.drop_index("ix_documents_dataset", table_name="documents")
    op.drop_index("ix_documents_project", table_name="documents")
