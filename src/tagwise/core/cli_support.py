"""Running a queued training job in the calling process (the CLI's local mode).

The job runner of a server or worker does the same with a child process; both claim the job
atomically first, so a server watching the same store never runs it twice.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from tagwise.core import jobs, training
from tagwise.core.context import Context
from tagwise.errors import JobCancelled, TagwiseError
from tagwise.storage import records
from tagwise.storage.records import utcnow


def claim(ctx: Context, job_id: str) -> bool:
    """Mark the job running under this process; False when someone else claimed it first."""
    with ctx.db.write() as conn:
        values = {"claimed_by": jobs.claimant(), "status": "running", "started_at": utcnow()}
        return records.update_job(conn, job_id, values, only_if_status=("notStarted",))


class _TimedOut(Exception):
    """Raised from the progress callback once the training has run past ``TAGWISE_TRAINING_TIMEOUT_S``."""


INTERRUPTED = "Training was interrupted (the tagwise command was stopped). Start it again."


def claim_and_run(ctx: Context, job_id: str, on_percent: Callable[[int], None] | None = None) -> bool:
    """:func:`claim` the job and :func:`run_training` it here; False when someone else claimed it
    first. A Ctrl-C or SIGTERM from the claim on fails the job as interrupted: one that landed
    just after the claim's commit left it running for good (a busy machine's test caught it)."""
    try:
        if not claim(ctx, job_id):
            return False
        run_training(ctx, job_id, on_percent)
    except KeyboardInterrupt:
        fail_interrupted(ctx, job_id)  # the claim may have landed
        raise
    return True


def fail_interrupted(ctx: Context, job_id: str) -> None:
    """The command that queued the job (and meant to run it) was stopped: the job fails as
    interrupted, unless a server or worker claimed it first (theirs to end) or it has ended. A
    Ctrl-C between the queueing and the claim left it queued, and the next ``train`` was refused."""
    with ctx.db.write() as conn:
        job = records.get_job(conn, job_id)
        if job is not None and job["claimed_by"] in (None, jobs.claimant()):
            jobs.fail_in(conn, job_id, INTERRUPTED, "InternalServerError", stop=False)


def run_training(ctx: Context, job_id: str, on_percent: Callable[[int], None] | None = None) -> None:
    """Run a claimed training job here, recording progress in the job row (throttled) as the runner does.

    Whatever happens, the job ends in a terminal state: a domain error or a crash fails it with
    its message, a run past ``TAGWISE_TRAINING_TIMEOUT_S`` fails it as the runner's timeout does,
    Ctrl-C fails it as interrupted (and re-raises).
    """
    timeout_s = ctx.settings.training_timeout_s
    deadline = time.monotonic() + timeout_s
    alive = None

    def progress(percent: int) -> None:
        # A runner kills its training child at the deadline; in this process the fit can only be
        # stopped where it reports progress, as a cancel is.
        if time.monotonic() > deadline:
            raise _TimedOut
        record(percent)

    try:  # from the first line: a Ctrl-C before the training starts fails the job too
        record = jobs.progress_recorder(ctx, job_id, on_percent)
        alive = _Heartbeat(ctx, job_id)
        training.run(ctx, job_id, progress)
    except _TimedOut:  # the runner's words, so a timeout reads the same wherever it ran
        jobs.fail(ctx, job_id, jobs.timeout_reason(timeout_s))
    except JobCancelled:
        with ctx.db.write() as conn:
            records.update_job(conn, job_id, {"status": "cancelled", "finished_at": utcnow()}, only_if_status=("running", "cancelling"))
    except TagwiseError as exc:
        jobs.fail(ctx, job_id, exc.message, code=exc.code)
    except KeyboardInterrupt:
        jobs.fail(ctx, job_id, INTERRUPTED)
        raise
    except Exception as exc:  # noqa: BLE001 - a job must end failed with a reason, whatever broke
        jobs.fail(ctx, job_id, jobs.crash_reason("Training", exc))
    finally:
        if alive is not None:
            alive.stop()


class _Heartbeat:
    """Records every ``job_heartbeat_s`` that the job is alive, as a runner does for its jobs,
    so runners on other hosts (shared PostgreSQL) do not take it for dead during a long fit."""

    def __init__(self, ctx: Context, job_id: str) -> None:
        self.ctx, self.job_id = ctx, job_id
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="heartbeat", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        while not self._stop.wait(max(self.ctx.settings.job_heartbeat_s, 0.05)):
            try:
                with self.ctx.db.write() as conn:
                    records.heartbeat(conn, [self.job_id])
            except Exception:  # noqa: BLE001, S110 - a missed beat is retried at the next one
                pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
