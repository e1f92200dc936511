"""Job bookkeeping: what a failed job tells the person who started it."""

from __future__ import annotations

import sqlite3

from sqlalchemy import create_engine, text
from sqlalchemy.exc import StatementError

from tagwise.core.jobs import crash_reason


def test_a_crash_reason_keeps_the_first_line_not_the_sql():
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as conn:  # a real database error: a list bound as a parameter
            conn.execute(text("SELECT :name AS secret_column"), {"name": ["s1"]})
    except StatementError as exc:
        error = exc
    assert isinstance(error.orig, sqlite3.ProgrammingError) and "secret_column" in str(error)
    reason = crash_reason("The analysis", error)
    assert reason.startswith("The analysis failed: ProgrammingError: ") and "not supported" in reason
    assert "secret_column" not in reason and "\n" not in reason
    assert crash_reason("Training", MemoryError()) == "Training failed: MemoryError"
    assert len(crash_reason("Training", ValueError("x" * 1_000))) < 350
