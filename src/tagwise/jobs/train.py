"""The training worker process: ``python -m tagwise.jobs.train JOB_ID``.

It reopens everything from the job id (settings come from the environment), reports
progress into the job row, and stops itself when it sees the job's cancel flag.
"""

from __future__ import annotations

import os
import sys
import traceback

from tagwise.core import jobs, training
from tagwise.core.context import Context
from tagwise.errors import JobCancelled, TagwiseError
from tagwise.orphans import end_with_parent
from tagwise.settings import Settings


def _die_with_parent() -> None:
    """Linux: get SIGKILL when the runner that started us dies, so a killed worker leaves no orphan.

    Its job is then failed by the next runner's sweep (the claimed process is gone), instead of
    an unsupervised process finishing it with no timeout and no cancel.
    """
    import signal

    end_with_parent(os.environ.get("TAGWISE_PARENT_PID"), signal.SIGKILL)


def _leave_signals_to_the_runner() -> None:
    """Ctrl-C in a terminal, or a service manager's SIGTERM, reaches every process of the group.
    The runner decides what a stop means for the job (it queues it again) and then kills this
    process; stopping on our own first would read as a crash ("Training failed: KeyboardInterrupt")."""
    import signal

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.SIG_IGN)


def main(job_id: str) -> int:
    _die_with_parent()
    _leave_signals_to_the_runner()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ctx = Context.open(Settings(), migrate=False)
    progress = jobs.progress_recorder(ctx, job_id)

    try:
        training.run(ctx, job_id, progress)
        return 0
    except JobCancelled:
        return 0
    except TagwiseError as exc:
        _fail(ctx, job_id, exc.message, exc.code)
        return 1
    except Exception as exc:  # noqa: BLE001 - a job must end failed with a reason, whatever broke
        traceback.print_exc()
        _fail(ctx, job_id, jobs.crash_reason("Training", exc))
        return 1
    finally:
        ctx.close()


def _fail(ctx: Context, job_id: str, message: str, code: str = "InternalServerError") -> None:
    try:
        jobs.fail(ctx, job_id, message, code=code)
    except Exception:  # noqa: BLE001 - the store is unreachable too
        # the runner fails the job with the last line we wrote once it reaches the store
        print(jobs.FAILURE_LINE_PREFIX + message, file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
