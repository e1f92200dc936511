"""Tags a person marked right when the studio's tag check flagged them, so that the next check does
not list them again (by a third check, right tags and test documents took 100 of its 200 rows).

Revision ID: 0011_tag_confirmations
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_tag_confirmations"
down_revision = "0010_search_folds_arabic_hebrew"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tag_confirmations",
        sa.Column("document_id", sa.Integer, sa.ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("confirmed_by", sa.String(100), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_tag_confirmations_project", "tag_confirmations", ["project_id"])


def downgrade() -> None:
    op.drop_index("ix_tag_confirmations_project", table_name="tag_confirmations")
    op.drop_table("tag_confirmations")
