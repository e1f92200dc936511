"""Search folds what people leave out when they type Arabic or Hebrew (vowel marks, the hamza over an
alif, ى/ي, ة/ه, Arabic-Indic digits) and invisible characters (``db.fold``): ``اين`` found none of the
six documents holding ``أين``. The stored search form of such texts is written again; other texts'
forms do not change.

Revision ID: 0010_search_folds_arabic_hebrew
"""

from __future__ import annotations

from alembic import op

from tagwise.storage.db import refold

revision = "0010_search_folds_arabic_hebrew"
down_revision = "0009_document_tagger_and_ids"
branch_labels = None
depends_on = None


def upgrade() -> None:
    refold(op.get_bind())  # in batches by id: a big store is read without holding every text in memory


def downgrade() -> None:
    pass  # the older fold reads the new forms as they are: a search of such a text finds a little less
