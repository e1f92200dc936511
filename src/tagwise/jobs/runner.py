"""The job runner: inside each server process, or alone in ``tagwise worker`` processes.

Training jobs run one at a time in a child process (so a crash or a cancel cannot hurt
the server, and the API stays responsive); analyze jobs run on a small thread pool.
Any number of runners share one store: each job is claimed exactly once
(``records.claim_jobs``). Every ``job_heartbeat_s`` a runner records that its running jobs
are alive and sweeps up jobs whose process died: on this host, a claimed process that no
longer exists; elsewhere, a job with no heartbeat for ``job_lease_s``. Training left that way
fails with a reason (its model was never recorded, so nothing half-written is listed);
analysis goes back to the queue and runs again from its stored input.
"""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from tagwise.core import analyze, jobs
from tagwise.core.context import Context
from tagwise.storage import records
from tagwise.storage.records import utcnow

log = logging.getLogger("tagwise.jobs")
WORKER_ID = f"{socket.gethostname()}:{os.getpid()}"


class JobRunner:
    def __init__(self, ctx: Context, poll_s: float = 0.25) -> None:
        self.ctx = ctx
        self.poll_s = poll_s
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=max(ctx.settings.analyze_workers, 1), thread_name_prefix="analyze")
        self._threads: list[threading.Thread] = []
        self._child: subprocess.Popen | None = None
        self._owned: set[str] = set()  # running jobs this runner answers for (heartbeats)
        self._owned_lock = threading.Lock()

    def start(self) -> None:
        self.recover()
        for target in (self._train_loop, self._analyze_loop, self._heartbeat_loop):
            thread = threading.Thread(target=target, name=target.__name__, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._child and self._child.poll() is None:
            self._child.kill()
        for thread in self._threads:
            thread.join(timeout=5)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def notify(self) -> None:
        """Look for new work now instead of at the next poll."""
        self._wake.set()

    def recover(self) -> None:
        """Fail training jobs whose process is gone; queue analyze jobs again (they rerun from their stored input)."""
        lease = self.ctx.settings.job_lease_s
        with self.ctx.db.write() as conn:
            for job in records.jobs_in_status(conn, "train", ("running", "cancelling")):
                if job["id"] not in self._owned and _dead(job, lease):
                    status = "cancelled" if job["cancel_requested"] else "failed"
                    errors = [] if status == "cancelled" else [{"code": "InternalServerError", "message": "The training process stopped before it finished (the server or worker was restarted or killed). Start the training again."}]
                    records.update_job(conn, job["id"], {"status": status, "errors": errors, "finished_at": utcnow()}, only_if_status=("running", "cancelling"))
                    log.warning("training job %s: its process %s is gone; marked %s", job["id"], job["claimed_by"], status)
            for job in records.jobs_in_status(conn, "analyze", ("running",)):
                if job["id"] not in self._owned and _dead(job, lease):
                    records.update_job(conn, job["id"], {"status": "notStarted", "claimed_by": None}, only_if_status=("running",))
                    log.warning("analyze job %s: its process %s is gone; queued again", job["id"], job["claimed_by"])
        self.notify()

    def _heartbeat_loop(self) -> None:
        interval = max(self.ctx.settings.job_heartbeat_s, 0.05)
        while not self._stop.wait(interval):
            try:
                with self._owned_lock:
                    owned = list(self._owned)
                if owned:
                    with self.ctx.db.write() as conn:
                        records.heartbeat(conn, owned)
                self.recover()
            except Exception:  # a database hiccup must not stop the heartbeats
                log.exception("heartbeat")

    def _own(self, job_id: str, owned: bool) -> None:
        with self._owned_lock:
            (self._owned.add if owned else self._owned.discard)(job_id)

    # -- analyze ----------------------------------------------------------------------------

    def _analyze_loop(self) -> None:
        while not self._stop.is_set():
            try:
                for job_id in self._claim("analyze"):
                    self._pool.submit(self._run_analyze, job_id)
            except Exception:
                log.exception("analyze loop")
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def _run_analyze(self, job_id: str) -> None:
        try:
            analyze.run_job(self.ctx, job_id)
        except Exception as exc:
            log.exception("analyze job %s", job_id)
            jobs.fail(self.ctx, job_id, jobs.crash_reason("The analysis", exc))
        finally:
            self._own(job_id, False)

    def _claim(self, kind: str, limit: int = 32) -> list[str]:
        with self.ctx.db.write() as conn:
            claimed = records.claim_jobs(conn, kind, WORKER_ID, limit)
        for job_id in claimed:
            self._own(job_id, True)
        return claimed

    # -- training ---------------------------------------------------------------------------

    def _train_loop(self) -> None:
        while not self._stop.is_set():
            try:
                for job_id in self._claim("train", limit=1):
                    self._run_training(job_id)
            except Exception:
                log.exception("train loop")
            self._wake.wait(self.poll_s)
            self._wake.clear()

    def _run_training(self, job_id: str) -> None:
        try:
            self._supervise_training(job_id)
        finally:
            self._own(job_id, False)

    def _supervise_training(self, job_id: str) -> None:
        settings = self.ctx.settings
        # every setting, not only those from the environment: a server built with Settings(...)
        # trains with what it was given
        env = dict(os.environ, **settings.environment(), TAGWISE_PARENT_PID=str(os.getpid()), HF_HUB_OFFLINE="1")
        self._child = child = subprocess.Popen([sys.executable, "-m", "tagwise.jobs.train", job_id], env=env,
                                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        with self.ctx.db.write() as conn:
            records.update_job(conn, job_id, {"claimed_by": f"{socket.gethostname()}:{child.pid}"})
        deadline = time.monotonic() + self.ctx.settings.training_timeout_s
        stderr_chunks: list[str] = []
        reader = threading.Thread(target=lambda: stderr_chunks.append(child.stderr.read()), daemon=True)
        reader.start()
        reason = None
        while child.poll() is None:
            if self._stop.is_set():
                child.kill()
                reason = "The server stopped while this job was training. Start the training again."
                break
            job = jobs.get(self.ctx, job_id, "train")
            if job["cancel_requested"]:
                child.kill()
                break
            if time.monotonic() > deadline:
                child.kill()
                reason = f"Training ran longer than {self.ctx.settings.training_timeout_s} s (TAGWISE_TRAINING_TIMEOUT_S) and was stopped."
                break
            time.sleep(0.2)
        child.wait()
        reader.join(timeout=5)
        self._child = None
        job = jobs.get(self.ctx, job_id, "train")
        if job["cancel_requested"]:
            with self.ctx.db.write() as conn:
                records.update_job(conn, job_id, {"status": "cancelled", "finished_at": utcnow()}, only_if_status=("running", "cancelling"))
        elif job["status"] not in jobs.TERMINAL:
            tail = "".join(stderr_chunks).strip().splitlines()[-1:] or [f"exit code {child.returncode}"]
            jobs.fail(self.ctx, job_id, reason or f"The training process ended unexpectedly ({tail[0]}).")


def _dead(job: dict, lease_s: float) -> bool:
    """Whether the process that claimed a running job is gone (see the module docstring)."""
    claimed_by = job["claimed_by"] or ""
    host, _, pid = claimed_by.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return not _alive(claimed_by)
    seen = [t for t in (job.get("heartbeat_at"), job["updated_at"], job["started_at"]) if t is not None]
    return not seen or (utcnow() - max(seen)).total_seconds() > lease_s


def _alive(claimed_by: str | None) -> bool:
    if not claimed_by or ":" not in claimed_by:
        return False
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except OSError:
        return False
    return True
