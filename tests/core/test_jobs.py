"""Job bookkeeping: what a failed job tells the person who started it."""

from __future__ import annotations

import sqlite3

from sqlalchemy import create_engine, text
from sqlalchemy.exc import StatementError

from tagwise.core import jobs
from tagwise.core.jobs import crash_reason
from tagwise.storage import records


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


def test_an_analyze_job_cancelled_between_its_claim_and_its_run_ends_cancelled(ctx):
    # its run saw "cancelling", not "running", and returned: the job stayed cancelling for good
    from tagwise.core import analyze

    body = {"analysisInput": {"documents": [{"id": "1", "text": "hello"}]},
            "tasks": [{"kind": "CustomSingleLabelClassification", "taskName": "t", "parameters": {"projectName": "p", "deploymentName": "d"}}]}
    job = analyze.submit(ctx, body)
    with ctx.db.write() as conn:
        assert records.claim_jobs(conn, "analyze", "test", 1) == [job["id"]]
    jobs.request_cancel(ctx, job["id"])
    assert jobs.get(ctx, job["id"], "analyze")["status"] == "cancelling"
    analyze.run_job(ctx, job["id"])
    assert jobs.get(ctx, job["id"], "analyze")["status"] == "cancelled"
