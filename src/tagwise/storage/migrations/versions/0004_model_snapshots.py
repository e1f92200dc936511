"""The documents each model was trained and tested on, so that exporting with a trainedModelLabel
gives that model's data (Azure's export of a trained model), not the project's current documents.

Revision ID: 0004_model_snapshots
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_model_snapshots"
down_revision = "0003_studio_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_snapshots",
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("label", sa.String(50), nullable=False),
        sa.Column("model_id", sa.String(128), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("project_id", "label", name="pk_model_snapshots"),
    )


def downgrade() -> None:
    op.drop_table("model_snapshots")
