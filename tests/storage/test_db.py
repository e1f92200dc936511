"""The SQLite store: WAL, recorded migrations, writes are all-or-nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tagwise.storage import records
from tagwise.storage.records import utcnow


def test_migrations_are_recorded_and_idempotent(ctx):
    with ctx.db.read() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar_one() == "0001_initial"
        assert conn.execute(text("pragma journal_mode")).scalar_one() == "wal"
    ctx.db.migrate()  # a second start changes nothing


def test_a_failed_write_leaves_nothing(ctx):
    now = utcnow()
    values = {"name": "p", "kind": "CustomSingleLabelClassification", "language": "en", "multilingual": False, "description": None,
              "storage_container": "c", "settings": {}, "classes": [], "created_at": now, "modified_at": now}
    with pytest.raises(RuntimeError), ctx.db.write() as conn:
        records.insert_project(conn, values)
        raise RuntimeError("crash in the middle")
    with ctx.db.read() as conn:
        assert records.get_project(conn, "p") is None
