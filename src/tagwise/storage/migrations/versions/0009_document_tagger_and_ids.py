"""Documents: who tagged each in the studio, and when (``tagged_by``, ``tagged_at``): a lead could not
tell which person had tagged what, nor review one new annotator's tags. And on SQLite, ids that are
never given again (``AUTOINCREMENT``): SQLite gave a deleted document's id to the next document, so
a Tag page open on the deleted one tagged a text nobody had seen, and "all N matching" could not
tell a list from one where a document was deleted and another added. PostgreSQL's sequences never
reuse an id. SQLite rebuilds the table (its rows, ids and indexes copied as they are).

Revision ID: 0009_document_tagger_and_ids
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_document_tagger_and_ids"
down_revision = "0008_tag_leases"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("tagged_by", sa.String(100), nullable=True))
    op.add_column("documents", sa.Column("tagged_at", sa.DateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table("documents", recreate="always", table_kwargs={"sqlite_autoincrement": True}):
            pass


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("tagged_at")
        batch.drop_column("tagged_by")
