"""Job records: every long operation is a row that survives a restart.

Statuses follow Azure: notStarted, running, succeeded, failed, cancelling, cancelled.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from tagwise.core.context import Context
from tagwise.core.timefmt import iso
from tagwise.errors import Conflict, JobCancelled, OperationNotFound, first_line, store_full, store_unavailable
from tagwise.storage import records
from tagwise.storage.records import utcnow

TERMINAL = frozenset({"succeeded", "failed", "cancelled", "partiallyCompleted"})
AUTHORING_TTL = timedelta(days=7)
RUNTIME_TTL = timedelta(hours=24)
# how a training child that cannot reach the store hands its failure to its runner: the last line
# of its stderr, which the runner records as the job's message once the store answers
FAILURE_LINE_PREFIX = "tagwise-training-failed: "


def _host() -> str:
    """This host as job claims name it: its host name and, on Linux, its PID namespace. Containers
    can share a host name (``--network host``, a fixed ``hostname:``) without sharing process ids;
    a runner that took another container's claim for its own failed its live trainings."""
    name = socket.gethostname()
    try:
        namespace = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return name
    return f"{name}/{namespace.removeprefix('pid:[').removesuffix(']')}"


HOST = _host()


def claimant() -> str:
    """How a job's ``claimed_by`` names this process: ``HOST:pid``."""
    return f"{HOST}:{os.getpid()}"


def new_id() -> str:
    # Azure's shape: <uuid>_<ticks>; URL-safe.
    return f"{uuid.uuid4()}_{int(utcnow().timestamp() * 10_000_000) + 621_355_968_000_000_000}"


def create(
    conn,
    kind: str,
    project_name: str | None,
    payload: dict[str, Any],
    *,
    status: str = "notStarted",
    result: dict[str, Any] | None = None,
    warnings: list[dict[str, str]] | None = None,
    key_id: str | None = None,
    ttl: timedelta | None = None,
) -> dict[str, Any]:
    """A new job row; it expires ``ttl`` after now (default: 24 h for analyze jobs, 7 days for the others)."""
    now = utcnow()
    values = {
        "key_id": key_id,
        "id": new_id(),
        "kind": kind,
        "project_name": project_name,
        "status": status,
        "percent": 100 if status == "succeeded" else 0,
        "payload": payload,
        "result": result,
        "errors": [],
        "warnings": warnings or [],
        "cancel_requested": False,
        "created_at": now,
        "updated_at": now,
        "started_at": now if status != "notStarted" else None,
        "finished_at": now if status in TERMINAL else None,
        "expires_at": now + (ttl or (RUNTIME_TTL if kind == "analyze" else AUTHORING_TTL)),
    }
    records.insert_job(conn, values)
    return values


def training_of(conn, project: dict[str, Any]) -> dict[str, Any] | None:
    """The project's training job that has not ended, if any (a job still stopping for a deleted
    project of the same name does not count)."""
    for job in records.jobs_in_status(conn, "train", ("notStarted", "running", "cancelling")):
        if job["project_name"] == project["name"] and not (job["cancel_requested"] and job["created_at"] < project["created_at"]):
            return job
    return None


def record_done(ctx: Context, kind: str, project_name: str | None, payload: dict[str, Any], result: dict[str, Any] | None = None,
                warnings: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """A job for an operation that already finished inside the request (import, deploy, ...)."""
    with ctx.db.write() as conn:
        return create(conn, kind, project_name, payload, status="succeeded", result=result, warnings=warnings)


def get(ctx: Context, job_id: str, kind: str, project_name: str | None = None) -> dict[str, Any]:
    with ctx.db.read() as conn:
        job = records.get_job(conn, job_id)
    if job is None or job["kind"] != kind or (project_name is not None and job["project_name"] != project_name):
        raise OperationNotFound(f"The {kind} job {job_id} could not be found.", target="jobId")
    if job["status"] in TERMINAL and job["expires_at"] <= utcnow():  # kept until a runner's next tidy: not served meanwhile
        raise OperationNotFound(f"The {kind} job {job_id} expired at {iso(job['expires_at'])}, with its results.", target="jobId")
    return job


def list_for(ctx: Context, kind: str, project_name: str | None = None) -> list[dict[str, Any]]:
    with ctx.db.read() as conn:
        return records.list_jobs(conn, kind, project_name)


def progress_recorder(ctx: Context, job_id: str, on_percent: Callable[[int], None] | None = None,
                      every_s: float = 0.5) -> Callable[[int], None]:
    """A training progress callback: records ``percent`` in the job row (at most every ``every_s``)
    and raises JobCancelled once the job's cancel flag is set. While the store cannot be reached
    the training goes on: a later report records the percent (and sees a cancel)."""
    last = [0.0]

    def progress(percent: int) -> None:
        if on_percent is not None:
            on_percent(percent)
        now = time.monotonic()
        if now - last[0] < every_s and percent < 100:
            return
        last[0] = now
        try:
            with ctx.db.write() as conn:
                job = records.get_job(conn, job_id)
                if job is None or job["cancel_requested"]:
                    raise JobCancelled("cancelled")
                records.update_job(conn, job_id, {"percent": percent}, only_if_status=("running",))
        except Exception as exc:
            if not store_unavailable(exc):
                raise

    return progress


def fail(ctx: Context, job_id: str, message: str, code: str = "InternalServerError", *, claimant: str | None = None) -> bool:
    """Mark a job failed unless it already ended (``claimant``: or another runner has it now). Returns whether it changed."""
    with ctx.db.write() as conn:
        return fail_in(conn, job_id, message, code, stop=False, claimant=claimant)


def timeout_reason(timeout_s: float) -> str:
    """A training stopped at ``TAGWISE_TRAINING_TIMEOUT_S``, by a runner or by the local CLI."""
    return f"Training ran longer than {timeout_s} s (TAGWISE_TRAINING_TIMEOUT_S) and was stopped."


def crash_reason(what: str, exc: BaseException) -> str:
    """A failed job's message for an unexpected exception: its type and its message's first line.
    A store that could not be reached is said so, without the driver's message (it names the
    database's host and port). A full disk is said so, with the file when the error names one."""
    if store_full(exc):
        where = f" writing {exc.filename}" if isinstance(exc, OSError) and exc.filename else ""
        return (f"{what} failed: the disk is full{where}. Free space for the data dir, the model store and the embedding "
                "cache (TAGWISE_DATA_DIR, TAGWISE_MODEL_STORE_DIR), then start it again.")
    if store_unavailable(exc):
        return f"{what} failed: the store could not be reached ({type(exc).__name__}). Start it again once the store is back."
    first = first_line(exc)
    first = first if len(first) <= 300 else first[:297] + "..."
    return f"{what} failed: {type(exc).__name__}" + (f": {first}" if first else "")


CANCELLED_ON_REQUEST = "Cancelled on request."


def purge_expired(ctx: Context) -> int:
    """Delete the finished jobs past their ``expirationDateTime``: analyze jobs 24 h after they were
    submitted, as Azure keeps results, and with them the texts they classified and their results;
    authoring jobs (import, training, deployment, ...) after 7 days. Both were kept forever, although
    each said it expired (a soak of 216 projects left 1,729 authoring jobs, 1,513 of projects long
    deleted). A job not finished is kept however old. Returns how many were deleted."""
    with ctx.db.write() as conn:
        return records.delete_expired_jobs(conn, TERMINAL, utcnow())


def request_cancel(ctx: Context, job_id: str, *, refuse_finished: bool = False) -> None:
    """Cancel: a job not started yet ends at once; a running one is stopped by its runner.
    ``refuse_finished``: a job that has already ended is a :class:`Conflict` (the API's answer, which
    the Azure SDKs raise: a cancel "accepted" for a finished job let the caller believe it stopped
    something); else there is nothing to do."""
    with ctx.db.write() as conn:
        if refuse_finished and (job := records.get_job(conn, job_id)) is not None and job["status"] in TERMINAL:
            raise Conflict(f"The job {job_id} has already ended ({job['status']}): there is nothing to cancel.")
        cancel_in(conn, job_id)


def cancel_in(conn, job_id: str, reason: str = CANCELLED_ON_REQUEST) -> None:
    """``request_cancel`` inside the caller's transaction; the job's warnings say why."""
    why = {"cancel_requested": True, "warnings": [{"code": "JobCancelled", "message": reason}]}
    records.update_job(conn, job_id, {"status": "cancelled", "finished_at": utcnow(), **why}, only_if_status=("notStarted",))
    records.update_job(conn, job_id, {"status": "cancelling", **why}, only_if_status=("running",))


def fail_in(conn, job_id: str, message: str, code: str, *, stop: bool = True, claimant: str | None = None) -> bool:
    """:func:`fail` inside the caller's transaction; ``stop``: also ask the job's runner to stop it
    (a running training stops at its next progress step and keeps no model). Returns whether it changed.

    For an end nobody asked for, such as the project deleted under a training: ``failed`` is terminal
    to every Azure SDK poller, where ``cancelled`` left a ``begin_train`` poller waiting forever."""
    values = {"status": "failed", "errors": [{"code": code, "message": message}], "finished_at": utcnow()}
    return records.update_job(conn, job_id, {**values, "cancel_requested": True} if stop else values,
                              only_if_status=("notStarted", "running", "cancelling"), only_if_claimed_by=claimant)


def describe(job: dict[str, Any]) -> dict[str, Any]:
    """Fields common to every job state."""
    return {
        "jobId": job["id"],
        "createdDateTime": iso(job["created_at"]),
        "lastUpdatedDateTime": iso(job["updated_at"]),
        "expirationDateTime": iso(job["expires_at"]),
        "status": job["status"],
        "warnings": job["warnings"] or [],
        "errors": job["errors"] or [],
    }
