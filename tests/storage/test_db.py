"""SQLite specifics: WAL mode. (Everything both backends promise is in test_contract.py.)"""

from __future__ import annotations

from sqlalchemy import text


def test_sqlite_runs_in_wal_mode(ctx):
    with ctx.db.read() as conn:
        assert conn.execute(text("pragma journal_mode")).scalar_one() == "wal"
