"""The relational schema, as SQLAlchemy Core tables (the migrations create the same)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(50), nullable=False, unique=True),
    Column("kind", String(64), nullable=False),
    Column("language", String(16), nullable=False),
    Column("multilingual", Boolean, nullable=False, default=False),
    Column("description", Text, nullable=True),
    Column("storage_container", String(200), nullable=False),
    Column("settings", JSON, nullable=False),
    Column("classes", JSON, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("modified_at", DateTime(timezone=True), nullable=False),
    Column("last_trained_at", DateTime(timezone=True), nullable=True),
    Column("last_deployed_at", DateTime(timezone=True), nullable=True),
)

documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("location", String(1024), nullable=False),
    Column("text", Text, nullable=False),
    Column("language", String(16), nullable=True),
    Column("dataset", String(8), nullable=True),
    Column("labels", JSON, nullable=False),
    # the text as search compares it (db.searchable): NULL where that is the text itself, read
    # case-insensitively (plain ASCII), so only other texts are stored twice (migration 0006)
    Column("search_text", Text, nullable=True),
    # who tagged it in the studio (the name of their API key) and when; NULL: tagged by an import, or untagged (migration 0009)
    Column("tagged_by", String(100), nullable=True),
    Column("tagged_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("project_id", "location", name="uq_documents_location"),
    # the studio's lists: a project's documents (or one dataset's) in id order, counted and paged
    # from the index instead of reading every row with its text (migration 0005)
    Index("ix_documents_project", "project_id", "id"),
    Index("ix_documents_dataset", "project_id", "dataset", "id"),
    sqlite_autoincrement=True,  # SQLite never gives a deleted document's id again (migration 0009)
)

# tags a person marked right when the tag check flagged them ("Tag is right" on the Evaluate page):
# the check lists the document no more while its tags are these (migration 0011); a document retagged
# since is listed again, and deleting the document or the project deletes its row
tag_confirmations = Table(
    "tag_confirmations",
    metadata,
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("labels", JSON, nullable=False),
    Column("confirmed_by", String(100), nullable=True),  # the studio session's key name, as ``documents.tagged_by``
    Column("confirmed_at", DateTime(timezone=True), nullable=False),
    Index("ix_tag_confirmations_project", "project_id"),
)

# which document of a project's tagging queue each studio session has open, until when: the queue
# hands the others other documents (migration 0008); a lease ends with its time or the holder's next
tag_leases = Table(
    "tag_leases",
    metadata,
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("document_id", Integer, primary_key=True),
    Column("holder", String(64), nullable=False),  # a digest of the studio session's form token
    Column("expires_at", DateTime(timezone=True), nullable=False),
)

models = Table(
    "models",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(50), nullable=False),
    Column("model_id", String(128), nullable=False, unique=True),
    Column("recipe", String(64), nullable=False),
    Column("config_version", String(64), nullable=False),
    Column("trained_at", DateTime(timezone=True), nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("artifact", String(1024), nullable=False),
    Column("evaluation", JSON, nullable=False),
    Column("evaluation_results", JSON, nullable=False),
    UniqueConstraint("project_id", "label", name="uq_models_label"),
)

# what each model was trained and tested on (location, language, dataset as the split used it,
# labels, text): an export with a trainedModelLabel gives it back
model_snapshots = Table(
    "model_snapshots",
    metadata,
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("label", String(50), nullable=False),
    Column("model_id", String(128), nullable=False),
    Column("data", JSON, nullable=False),  # {"classes": [...], "documents": [...]}
    PrimaryKeyConstraint("project_id", "label", name="pk_model_snapshots"),
)

deployments = Table(
    "deployments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(50), nullable=False),
    Column("model_label", String(50), nullable=False),
    Column("model_id", String(128), nullable=False),
    Column("trained_at", DateTime(timezone=True), nullable=False),
    Column("config_version", String(64), nullable=False),
    Column("deployed_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("project_id", "name", name="uq_deployments_name"),
)

jobs = Table(
    "jobs",
    metadata,
    Column("id", String(80), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("project_name", String(50), nullable=True),
    Column("status", String(32), nullable=False),
    Column("percent", Integer, nullable=False, default=0),
    Column("payload", JSON, nullable=False),
    Column("result", JSON, nullable=True),
    Column("errors", JSON, nullable=False),
    Column("warnings", JSON, nullable=False),
    Column("cancel_requested", Boolean, nullable=False, default=False),
    Column("claimed_by", String(128), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),
    Column("key_id", String(40), nullable=True),  # the API key that submitted an analyze job: its share of the queue
    Index("ix_jobs_kind_status", "kind", "status"),
    Index("ix_jobs_project", "project_name", "kind"),
    Index("ix_jobs_key", "key_id", "kind", "status"),
)

blobs = Table(
    "blobs",
    metadata,
    Column("container", String(200), primary_key=True),
    Column("location", String(1024), primary_key=True),
    Column("text", Text, nullable=False),
    Column("modified_at", DateTime(timezone=True), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("rate_limit_per_minute", Integer, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

studio_sessions = Table(
    "studio_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 of the cookie's random token
    Column("key_id", String(32), nullable=False),
    Column("key_hash", String(64), nullable=True),  # the bootstrap key's digest at sign-in (bootstrap sessions)
    Column("csrf", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_studio_sessions_key", "key_id"),
)
