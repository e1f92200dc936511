"""A document's text as search compares it (``db.fold``: Unicode-normalised, case-folded, without
accents on Latin letters), stored when it differs from the text's ASCII reading, so ``nino`` finds
``niño`` on both backends. Folding each text at search time in Python made a search of 100,000
accented documents three times slower (0.27 s -> 0.77-1.76 s on SQLite); a stored column costs
the folded copy of the non-ASCII texts and nothing at search time.

Revision ID: 0006_document_search_text
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from tagwise.storage.db import fold_missing

revision = "0006_document_search_text"
down_revision = "0005_document_list_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("documents", sa.Column("search_text", sa.Text(), nullable=True))
    fold_missing(op.get_bind())  # in batches by id: a big store is folded without holding every text in memory


def downgrade() -> None:
    with op.batch_alter_table("documents") as batch:
        batch.drop_column("search_text")
