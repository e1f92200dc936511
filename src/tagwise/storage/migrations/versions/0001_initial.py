"""Initial schema: projects, documents, models, deployments, jobs, blobs.

Revision ID: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(50), nullable=False, unique=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("language", sa.String(16), nullable=False),
        sa.Column("multilingual", sa.Boolean, nullable=False),
        sa.Column("description", sa.Text, nullable=True),
        sa.Column("storage_container", sa.String(200), nullable=False),
        sa.Column("settings", sa.JSON, nullable=False),
        sa.Column("classes", sa.JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("modified_at", TS, nullable=False),
        sa.Column("last_trained_at", TS, nullable=True),
        sa.Column("last_deployed_at", TS, nullable=True),
    )
    op.create_table(
        "documents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("location", sa.String(1024), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("language", sa.String(16), nullable=True),
        sa.Column("dataset", sa.String(8), nullable=True),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.UniqueConstraint("project_id", "location", name="uq_documents_location"),
    )
    op.create_table(
        "models",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("label", sa.String(50), nullable=False),
        sa.Column("model_id", sa.String(128), nullable=False, unique=True),
        sa.Column("recipe", sa.String(64), nullable=False),
        sa.Column("config_version", sa.String(64), nullable=False),
        sa.Column("trained_at", TS, nullable=False),
        sa.Column("duration_s", sa.Float, nullable=False),
        sa.Column("artifact", sa.String(1024), nullable=False),
        sa.Column("evaluation", sa.JSON, nullable=False),
        sa.Column("evaluation_results", sa.JSON, nullable=False),
        sa.UniqueConstraint("project_id", "label", name="uq_models_label"),
    )
    op.create_table(
        "deployments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("project_id", sa.Integer, sa.ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
        sa.Column("name", sa.String(50), nullable=False),
        sa.Column("model_label", sa.String(50), nullable=False),
        sa.Column("model_id", sa.String(128), nullable=False),
        sa.Column("trained_at", TS, nullable=False),
        sa.Column("config_version", sa.String(64), nullable=False),
        sa.Column("deployed_at", TS, nullable=False),
        sa.UniqueConstraint("project_id", "name", name="uq_deployments_name"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("project_name", sa.String(50), nullable=True),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("percent", sa.Integer, nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("result", sa.JSON, nullable=True),
        sa.Column("errors", sa.JSON, nullable=False),
        sa.Column("warnings", sa.JSON, nullable=False),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("claimed_by", sa.String(128), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("started_at", TS, nullable=True),
        sa.Column("finished_at", TS, nullable=True),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_jobs_kind_status", "jobs", ["kind", "status"])
    op.create_index("ix_jobs_project", "jobs", ["project_name", "kind"])
    op.create_table(
        "blobs",
        sa.Column("container", sa.String(200), primary_key=True),
        sa.Column("location", sa.String(1024), primary_key=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("modified_at", TS, nullable=False),
    )


def downgrade() -> None:
    for table in ("blobs", "jobs", "deployments", "models", "documents", "projects"):
        op.drop_table(table)
