"""Child processes that end with the process that started them (Linux), so that a parent killed
with SIGKILL (an OOM killer, a crash), which cannot stop its children itself, leaves none running."""

from __future__ import annotations

import os
import signal
import sys

SUPERVISOR_ENV = "TAGWISE_SERVE_PID"  # set by ``serve --workers N`` for its workers: the pid of its uvicorn supervisor


def end_with_parent(parent: str | None, signum: signal.Signals) -> None:
    """Ask the kernel for ``signum`` when the parent dies; ``parent`` is the pid it passed down
    (nothing happens without one, or off Linux). A parent that died before the request took
    effect sends nothing: this process exits at once, before it opened anything."""
    if not parent or not sys.platform.startswith("linux"):
        return
    import ctypes

    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signum)
    if str(os.getppid()) != parent:
        os._exit(1)
