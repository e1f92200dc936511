"""The job runner: inside each server process, or alone in ``tagwise worker`` processes.

Training jobs run one at a time in a child process (so a crash or a cancel cannot hurt
the server, and the API stays responsive); analyze jobs run on a small thread pool.
Any number of runners share one store: each job is claimed exactly once
(``records.claim_jobs``). Every ``job_heartbeat_s`` a runner records that its running jobs
are alive and sweeps up jobs whose process died: on this host, a job whose claiming process
(the runner; a training's child dies with it) no longer exists; and any job whose heartbeat stays
the same over ``job_lease_s`` of this runner's own regular looks (``_Silence``): a job of another
host whose process stopped or was cut off from the store, or one of this host whose live process
is not its claimant (a process id reused after a reboot, or a store restored from a backup taken
while the job ran, whose claimant heartbeats the original). A wait of the runner's own (for the
store, for the write lock) is not taken for a claimant's silence. Training left that way
fails with a reason (its model was never recorded, so nothing half-written is listed);
analysis goes back to the queue and runs again from its stored input.

While the store cannot be reached, the loops log that once (and once when it is back) and
poll less often; a training child goes on, and its runner records how it ended once the store
answers again. Every child is waited for: an exited, unreaped one would look alive to the sweep.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent import futures
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from tagwise.core import analyze, jobs, models
from tagwise.core.context import Context
from tagwise.errors import StoreBusy, first_line, store_read_only, store_unavailable
from tagwise.jobs.pool import DaemonPool
from tagwise.storage import records
from tagwise.storage.records import utcnow

if TYPE_CHECKING:
    from tagwise.metrics import Metrics

log = logging.getLogger("tagwise.jobs")
WORKER_ID = jobs.claimant()
T = TypeVar("T")
_STOPPED = "stopped with its runner"  # a training the runner stopped: it goes back to the queue
TIDY_EVERY_S = 600.0  # how often a runner tidies the store (and at its first heartbeat): see _tidy
# how long a stopping runner keeps trying, in all, to record what it stopped while the store cannot be
# reached: a clean stop during a 3-6 s PostgreSQL restart failed the training it was to queue again. Within
# Docker's default 10 s between SIGTERM and SIGKILL
STOP_GRACE_S = 8.0
# how long a stopping runner lets the analyze jobs it is running finish, heartbeating them meanwhile; those
# still running then go back to the queue. It stopped their heartbeats and waited for them without end: a
# server running 5,000-document jobs took 148 s to stop, another runner queued them again after the lease,
# and one ran twice
ANALYZE_FINISH_S = 5.0


class JobRunner:
    def __init__(self, ctx: Context, poll_s: float = 0.25, metrics: Metrics | None = None) -> None:
        self.ctx = ctx
        self.poll_s = poll_s
        self.metrics = metrics  # GET /metrics of a server, or of a `tagwise worker --port`; else None
        self._stop = threading.Event()
        self._stop_by = 0.0  # monotonic time a stopping runner gives up recording what it stopped (STOP_GRACE_S)
        # one wake-up per loop: a finished analyze job woke the train loop into a write transaction, and one
        # loop's clear() could swallow the other's wake-up
        self._wake_train, self._wake_analyze = threading.Event(), threading.Event()
        self._pool = DaemonPool(max(ctx.settings.analyze_workers, 1), "analyze")
        self._threads: list[threading.Thread] = []
        self._child: subprocess.Popen | None = None
        self._owned: set[str] = set()  # running jobs this runner answers for (heartbeats)
        self._abandoned: set[str] = set()  # running jobs whose end could not be recorded: the sweep takes them
        self._owned_lock = threading.Lock()
        self._analyzing = 0  # analyze jobs handed to the pool and not finished: a runner claims no more than it can start
        self._running: dict[Future, str] = {}  # the pool's analyze jobs, until each ends
        self._store = _StoreWatch(poll_s)
        self._silence = _Silence(ctx.settings.job_heartbeat_s)
        self._tidied_at = -TIDY_EVERY_S  # monotonic time the store was last tidied (_tidy)

    def start(self) -> None:
        self.recover()
        for target in (self._train_loop, self._analyze_loop, self._heartbeat_loop):
            thread = threading.Thread(target=target, name=target.__name__, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop the loops. A training in progress is stopped too and goes back to the queue: it
        starts over on the next runner (another one already up, or this one's after a restart).
        While the store cannot be reached, it keeps trying to record that for ``STOP_GRACE_S`` in all."""
        self._stop_by = time.monotonic() + STOP_GRACE_S
        self._stop.set()
        self.notify()
        if self._child:
            kill_group(self._child)
        # the train loop may be recording the end of the training it stopped, the analyze loop finishing a
        # claim: what it claimed is handed back below, never submitted to a pool that is shut down
        for thread in self._threads:
            thread.join(timeout=STOP_GRACE_S + 5)
        self._pool.shutdown()  # those that never started are handed back below
        self._let_analyze_jobs_finish()
        self._hand_back()

    def _let_analyze_jobs_finish(self) -> None:
        """Wait up to ``ANALYZE_FINISH_S`` for the analyze jobs this runner is running, heartbeating them
        (no other runner takes them meanwhile). Those still running after it are handed back with the
        ones that never started: their threads' results are not recorded (``run_job``'s claimant)."""
        # and no later than leaves the hand-back 3 s of STOP_GRACE_S (a stop with the store away stays within 10 s)
        deadline = min(time.monotonic() + ANALYZE_FINISH_S, self._stop_by - 3.0)
        interval = max(self.ctx.settings.job_heartbeat_s, 0.05)
        while True:
            with self._owned_lock:
                running = [future for future in self._running if future.running()]
            left = deadline - time.monotonic()
            if not running or left <= 0:
                return
            futures.wait(running, timeout=min(interval, left))
            with self._owned_lock:
                owned = list(self._owned)
            try:
                with self.ctx.db.write() as conn:
                    records.heartbeat(conn, owned)
            except Exception as exc:  # noqa: BLE001 - stopping anyway: the hand-back or the next sweep queues them
                self._trouble(exc, "heartbeat")

    def _hand_back(self) -> None:
        """Queue again the analyze jobs this runner claimed and never ran (they waited for a thread
        when it stopped) or did not finish in ``ANALYZE_FINISH_S``, so that the next runner takes them
        at once: left "running", the next start swept them with "its process ... is gone", which sent
        operators looking for a crash."""
        with self._owned_lock:
            left = sorted(self._owned)
            unfinished = {job_id for future, job_id in self._running.items() if future.running()}
        if not left:
            return
        def queue_again() -> tuple[list[str], list[str]]:
            with self.ctx.db.write() as conn:  # (a training stopped here went back to the queue already)
                # still this runner's: one waiting past the lease may have been swept and claimed by another runner
                analyze_jobs = [job_id for job_id in left if (job := records.get_job(conn, job_id)) is not None and job["kind"] == "analyze"]
                # cancelled while it ran: it ends so (it stayed "cancelling" for good)
                cancelled = [job_id for job_id in analyze_jobs
                             if records.update_job(conn, job_id, {"status": "cancelled", "finished_at": utcnow()},
                                                   only_if_status=("cancelling",), only_if_claimed_by=WORKER_ID)]
                return cancelled, [job_id for job_id in analyze_jobs
                                   if records.update_job(conn, job_id, {"status": "notStarted", "claimed_by": None},
                                                         only_if_status=("running",), only_if_claimed_by=WORKER_ID)]

        try:
            cancelled, back = self._until_stored(queue_again)
        except Exception as exc:  # noqa: BLE001 - stopping anyway: the next start's sweep queues them again
            log.warning("could not queue %d analyze jobs again while stopping (%s); the next start will", len(left), exc)
            return
        for job_id in cancelled:
            log.info("analyze job %s: cancelled while it ran, as its process (%s) stopped; marked cancelled", job_id, WORKER_ID)
        for job_id in back:
            if job_id in unfinished:
                log.info("analyze job %s: still running when its process (%s) stopped; queued again (the next run answers it)",
                         job_id, WORKER_ID)
            else:
                log.info("analyze job %s: its process (%s) stopped before running it; queued again", job_id, WORKER_ID)

    def stalled(self) -> str | None:
        """Why this runner cannot run jobs, if a loop it started has ended (its health check says
        so); None while every loop runs, and for a runner never started (a server that runs no jobs)."""
        dead = [thread.name.lstrip("_") for thread in self._threads if not thread.is_alive()]
        if dead and not self._stop.is_set():
            return f"the job runner's {', '.join(dead)} stopped (see the log)"
        return None

    def notify(self) -> None:
        """Look for new work now instead of at the next poll."""
        self._wake_train.set()
        self._wake_analyze.set()

    def recover(self) -> None:
        """Fail training jobs whose process is gone; queue analyze jobs again (they rerun from their stored input)."""
        lease = self.ctx.settings.job_lease_s
        with self._owned_lock:
            abandoned = set(self._abandoned)
        ended: list[tuple[str, dict]] = []  # the trainings failed or cancelled here, counted and tidied once committed
        with self.ctx.db.write() as conn:
            self._silence.look()  # once the write lock is held: a wait for it is not a look
            for job in records.jobs_in_status(conn, "train", ("running", "cancelling")):
                if self._orphaned(job, lease, abandoned):
                    given_up = job["id"] in abandoned  # by this (live) runner: the store was away when the job ended
                    status = "cancelled" if job["cancel_requested"] else "failed"
                    reason = _GIVEN_UP if given_up else _gone(job, lease)
                    errors = [] if status == "cancelled" else [{"code": "InternalServerError", "message": reason}]
                    if records.update_job(conn, job["id"], {"status": status, "errors": errors, "finished_at": utcnow()},
                                          only_if_status=("running", "cancelling")):
                        ended.append((status, job))
                    log.warning("training job %s: %s; marked %s", job["id"], _why_swept(job, given_up), status)
            for job in records.jobs_in_status(conn, "analyze", ("running", "cancelling")):
                if not self._orphaned(job, lease, abandoned):
                    continue
                if job["status"] == "cancelling":  # cancelled while it ran, and its process went: it ends cancelled
                    records.update_job(conn, job["id"], {"status": "cancelled", "finished_at": utcnow()}, only_if_status=("cancelling",))
                    log.warning("analyze job %s: %s; marked cancelled, as asked", job["id"], _why_swept(job, job["id"] in abandoned))
                    continue
                records.update_job(conn, job["id"], {"status": "notStarted", "claimed_by": None}, only_if_status=("running",))
                log.warning("analyze job %s: %s; queued again", job["id"], _why_swept(job, job["id"] in abandoned))
        if self.metrics is not None:
            for status, _ in ended:
                self.metrics.training_ended(status)
        for _, job in ended:  # a server killed while its training saved a model left the folder, with no row
            self._remove_leftovers(job)
        with self._owned_lock:
            self._abandoned -= abandoned
        self.notify()

    def _orphaned(self, job: dict, lease_s: float, abandoned: set[str]) -> bool:
        """A running job nobody will finish: its process is gone, or this runner gave it up."""
        with self._owned_lock:
            if job["id"] in self._owned:
                return False
        return job["id"] in abandoned or _dead(job) or self._silence.silent(job, lease_s)

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
                self._tidy()
                self._store.answered()
            except Exception as exc:  # noqa: BLE001 - a database hiccup must not stop the heartbeats (_trouble logs it)
                self._trouble(exc, "heartbeat")

    def _tidy(self) -> None:
        """Delete the finished jobs past their expiry (analyze jobs after 24 h, authoring jobs after
        7 days), fold the document texts that have no search form (an older tagwise, still
        running while this one upgraded the store, wrote them so: search never found them), and
        remove the model store's half-written folders more than a day old."""
        if time.monotonic() - self._tidied_at < TIDY_EVERY_S:
            return
        deleted = jobs.purge_expired(self.ctx)
        folded = self.ctx.db.fold_missing()
        self._tidied_at = time.monotonic()
        half_written = models.remove_half_written(self.ctx)  # after: a model store it cannot read is no reason to tidy again
        if half_written:
            log.info("removed %d half-written model folders more than a day old (trainings killed while they saved)", half_written)
        if deleted:
            log.info("deleted %d finished jobs past their expiry (analyze jobs with their texts and results)", deleted)
        if folded:
            log.warning("%d documents had no search form (an older tagwise wrote them after the upgrade); folded now", folded)

    def _own(self, job_id: str, owned: bool) -> None:
        with self._owned_lock:
            (self._owned.add if owned else self._owned.discard)(job_id)

    def _abandon(self, job_id: str) -> None:
        with self._owned_lock:
            self._abandoned.add(job_id)

    def _trouble(self, exc: Exception, where: str) -> float:
        """Log a loop's exception; returns how long the loop waits before it polls again. The store
        being unreachable is logged when it starts and when it ends, not on every poll."""
        if store_unavailable(exc) or store_read_only(exc):  # a read-only store logged a traceback on every poll (1.2 MB in 75 s)
            return self._store.failed(exc)
        log.exception(where)
        return self.poll_s

    def _until_stored(self, action: Callable[[], T]) -> T:
        """``action()``, tried again while the store cannot be reached; once the runner stops, until
        its ``STOP_GRACE_S`` are up (what it records as it stops must not be lost to a short outage: a
        PostgreSQL restart)."""
        while True:
            try:
                result = action()
            except Exception as exc:
                if not store_unavailable(exc):
                    raise
                wait = self._store.failed(exc)
                if self._stop.is_set():
                    if time.monotonic() >= self._stop_by:
                        raise
                    time.sleep(min(wait, 0.5, max(self._stop_by - time.monotonic(), 0.0)))
                else:
                    self._stop.wait(wait)
            else:
                self._store.answered()
                return result

    # -- analyze ----------------------------------------------------------------------------

    def _analyze_loop(self) -> None:
        while not self._stop.is_set():
            wait = self.poll_s
            try:
                # as many as it has free threads: claiming 32 at once left another worker idle while the
                # jobs waited here, "running" to their clients
                free = max(self.ctx.settings.analyze_workers, 1) - self._analyzing
                for job_id in self._claim("analyze", limit=free) if free > 0 else []:
                    if self._stop.is_set():  # claimed as the runner stopped: stop() hands it back
                        break
                    with self._owned_lock:
                        self._analyzing += 1
                        future = self._pool.submit(self._run_analyze, job_id)
                        self._running[future] = job_id
                    future.add_done_callback(self._ran)
                self._store.answered()
            except Exception as exc:  # noqa: BLE001 - a loop must outlive any error: _trouble logs it
                wait = self._trouble(exc, "analyze loop")
            self._wake_analyze.wait(wait)
            self._wake_analyze.clear()

    def _ran(self, future: Future) -> None:
        with self._owned_lock:
            self._running.pop(future, None)

    def _run_analyze(self, job_id: str) -> None:
        try:
            try:
                classified = analyze.run_job(self.ctx, job_id, self.metrics.tasks_ended if self.metrics is not None else None,
                                             claimant=WORKER_ID)
                if self.metrics is not None:
                    self.metrics.classified("analyze", classified)
            except Exception as exc:
                if store_unavailable(exc):
                    raise
                log.exception("analyze job %s", job_id)
                jobs.fail(self.ctx, job_id, jobs.crash_reason("The analysis", exc), claimant=WORKER_ID)  # unless handed back
        except Exception as exc:  # noqa: BLE001 - logged by _trouble
            if store_unavailable(exc):  # its end is not recorded: the sweep queues it again once the store is back
                self._abandon(job_id)
            self._trouble(exc, f"analyze job {job_id}")
        finally:
            self._own(job_id, False)
            with self._owned_lock:
                self._analyzing -= 1
            self._wake_analyze.set()  # a thread is free: claim the next job now

    def _claim(self, kind: str, limit: int = 32) -> list[str]:
        with self.ctx.db.write() as conn:
            claimed = records.claim_jobs(conn, kind, WORKER_ID, limit)
        for job_id in claimed:
            self._own(job_id, True)
        return claimed

    # -- training ---------------------------------------------------------------------------

    def _train_loop(self) -> None:
        while not self._stop.is_set():
            wait = self.poll_s
            try:
                for job_id in self._claim("train", limit=1):
                    self._run_training(job_id)
                self._store.answered()
            except Exception as exc:  # noqa: BLE001 - a loop must outlive any error: _trouble logs it
                wait = self._trouble(exc, "train loop")
            self._wake_train.wait(wait)
            self._wake_train.clear()

    def _run_training(self, job_id: str) -> None:
        try:
            self._supervise_training(job_id)
        except Exception:
            self._abandon(job_id)  # its child is gone (always reaped): the sweep fails it unless it ended
            raise
        finally:
            self._own(job_id, False)

    def _supervise_training(self, job_id: str) -> None:
        settings = self.ctx.settings
        # every setting, not only those from the environment: a server built with Settings(...)
        # trains with what it was given
        env = dict(os.environ, **settings.environment(), TAGWISE_PARENT_PID=str(os.getpid()), HF_HUB_OFFLINE="1")
        # its own process group: its worker processes (the head's folds) are stopped with it
        self._child = child = subprocess.Popen([sys.executable, "-m", "tagwise.jobs.train", job_id], env=env,
                                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                               start_new_session=True)
        stderr_chunks: list[str] = []
        reader = threading.Thread(target=lambda: stderr_chunks.append(child.stderr.read()), daemon=True)
        reader.start()
        try:
            # the job stays claimed by this runner's process (not the child's): while it lives it
            # records how the child ended, even after a store outage, and no sweep takes the job;
            # if it dies, the child dies with it (parent-death signal) and the sweep fails the job
            log.info("training job %s started (process %s)", job_id, child.pid)
            started = time.monotonic()
            reason = self._watch_training(job_id, child)
            if self._stop.is_set():  # the runner stopped it (or it ended as the runner stopped)
                reason = _STOPPED
        finally:
            kill_group(child)  # the child, and whatever it started that outlived it (a crash, a cancel)
            child.wait()  # always reaped: an exited child that is never waited for looks alive to the sweep
            reader.join(timeout=5)
            self._child = None

        def record_end() -> None:
            job = jobs.get(self.ctx, job_id, "train")
            if job["status"] != "succeeded":  # before it may be queued again: a rerun's folders are its own
                self._remove_leftovers(job)
            if job["cancel_requested"]:
                with self.ctx.db.write() as conn:
                    records.update_job(conn, job_id, {"status": "cancelled", "finished_at": utcnow()}, only_if_status=("running", "cancelling"))
            elif reason is _STOPPED and job["status"] == "running":
                with self.ctx.db.write() as conn:
                    queued = {"status": "notStarted", "percent": 0, "claimed_by": None, "started_at": None, "heartbeat_at": None}
                    records.update_job(conn, job_id, queued, only_if_status=("running",))
                log.warning("training job %s was stopped with its runner (a server or worker shutting down); "
                            "queued again, it starts over on the next runner", job_id)
            elif job["status"] not in jobs.TERMINAL:
                jobs.fail(self.ctx, job_id, reason or ended_unexpectedly("".join(stderr_chunks), child.returncode))

        # if the store stays away past the grace, the job stays running with its pid gone: the next sweep fails it
        try:
            self._until_stored(record_end)
        except Exception as exc:
            if reason is _STOPPED and store_unavailable(exc):
                log.warning("training job %s was stopped with its runner, and the store could not be reached for %.0f s to queue "
                            "it again: the next runner marks it failed; start it again then", job_id, STOP_GRACE_S)
            raise
        self._log_end(job_id, time.monotonic() - started)

    def _remove_leftovers(self, job: dict) -> None:
        """What a training that did not succeed left in the model store goes (a cancel during its save
        left a model folder no row names, for good); a failure to delete is only logged."""
        try:
            removed = models.remove_leftovers(self.ctx, job["project_name"], job["id"])
        except Exception as exc:  # noqa: BLE001 - tidying must not stop the recording of the job's end
            log.warning("training job %s: could not remove the folders it left in the model store: %s", job["id"], exc)
            return
        if removed:
            log.info("training job %s: removed %d folder%s it left in the model store", job["id"], removed, "" if removed == 1 else "s")

    def _log_end(self, job_id: str, seconds: float) -> None:
        """One line per finished training, for whoever reads the server's log, and its count in the metrics."""
        try:
            job = jobs.get(self.ctx, job_id, "train")
        except Exception:  # noqa: BLE001 - only a log line and a count are lost
            return
        if self.metrics is not None:
            self.metrics.training_ended(job["status"])
        where = f"training job {job_id} (project {job['project_name']!r})"
        if job["status"] == "failed":
            log.warning("%s failed after %.1f s: %s", where, seconds, (job["errors"] or [{}])[0].get("message"))
        elif job["status"] != "notStarted":  # queued again: said above
            log.info("%s %s after %.1f s", where, job["status"], seconds)

    def _watch_training(self, job_id: str, child: subprocess.Popen) -> str | None:
        """Wait for the training child, stopping it on a cancel, a timeout or the runner's stop.
        Returns why it was stopped, if not by a cancel. While the store cannot be reached the child
        goes on training (a cancel is seen once the store is back)."""
        timeout_s = self.ctx.settings.training_timeout_s
        deadline = time.monotonic() + timeout_s
        while child.poll() is None:
            if self._stop.is_set():
                kill_group(child)
                return _STOPPED
            wait = 0.2
            try:
                cancel = jobs.get(self.ctx, job_id, "train")["cancel_requested"]
            except Exception as exc:
                if not store_unavailable(exc):
                    raise
                cancel, wait = False, min(self._store.failed(exc), 1.0)
            else:
                self._store.answered()
            if cancel:
                kill_group(child)
                return None
            if time.monotonic() > deadline:
                kill_group(child)
                return jobs.timeout_reason(timeout_s)
            try:
                child.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass
        return None


def kill_group(child: subprocess.Popen) -> None:
    """SIGKILL a training child's process group (it leads one): the child and the worker processes it
    started. Killing the child alone left its workers running, ~200 MB each, for good: they inherit
    its ignored SIGTERM."""
    try:
        os.killpg(child.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):  # the whole group is gone already
        pass


def ended_unexpectedly(stderr: str, returncode: int) -> str:
    """The message of a training whose child exited without recording how it ended: the child's
    own message when it could not record it (the store was away), else its last words."""
    last = stderr.strip().splitlines()[-1:] or [f"exit code {returncode}"]
    if last[0].startswith(jobs.FAILURE_LINE_PREFIX):
        return last[0].removeprefix(jobs.FAILURE_LINE_PREFIX)
    return f"The training process ended unexpectedly ({last[0]})."


class _StoreWatch:
    """Whether the store answers, as the runner's loops see it: an outage is one warning when it
    starts and one info line when it ends (not a traceback per poll), and the loops back off
    meanwhile: they wait half as long as the outage has lasted, at most ``MAX_BACKOFF_S``."""

    MAX_BACKOFF_S = 5.0

    def __init__(self, poll_s: float) -> None:
        self._poll_s = max(poll_s, 0.01)
        self._lock = threading.Lock()
        self._down_since: float | None = None

    def failed(self, exc: Exception) -> float:
        """Note a store error; returns how long to wait before trying again."""
        now = time.monotonic()
        with self._lock:
            if self._down_since is None:
                self._down_since = now
                reason = first_line(exc) or type(exc).__name__
                what = ("is busy" if isinstance(exc, StoreBusy) else  # busy: its reason says why
                        "refuses writes (it is read-only)" if store_read_only(exc) else "cannot be reached")
                log.warning("the store %s (%s); jobs wait until it is back", what, reason)
            return min(self.MAX_BACKOFF_S, max(self._poll_s, (now - self._down_since) / 2))

    def answered(self) -> None:
        with self._lock:
            if self._down_since is not None:
                log.info("the store is back after %.1f s; jobs go on", time.monotonic() - self._down_since)
            self._down_since = None


def _dead(job: dict) -> bool:
    """Whether the process of this host that claimed a running job is gone; a job of another host
    (or a claim that names no process) is judged by its heartbeats (``_Silence``)."""
    claimed_by = job["claimed_by"] or ""
    host, _, pid = claimed_by.rpartition(":")
    return _here(host) and pid.isdigit() and not _alive(claimed_by)


class _Silence:
    """Which running jobs have shown this runner the same heartbeat for a lease of its own looks.
    Only regular looks count: at most two heartbeat intervals of each gap between two looks, so a
    runner that waited for the write lock (a long import) or for the store (an outage of every
    host), or whose machine slept, does not take that wait for a claimant's silence; a claimant
    that could write in the meantime has, and its new heartbeat starts over. The wall clock plays
    no part: hosts whose clocks differ, or a clock that jumps, change nothing."""

    def __init__(self, heartbeat_s: float) -> None:
        self._step = 2 * max(heartbeat_s, 0.05)
        self._seen: dict[str, tuple[object, float, float]] = {}  # job id -> (heartbeat, silent seconds counted, look)
        self._look = self._previous = time.monotonic()

    def look(self, now: float | None = None) -> None:
        """A sweep begins: the time of this look (monotonic seconds), and what the previous one was."""
        self._previous, self._look = self._look, time.monotonic() if now is None else now

    def silent(self, job: dict, lease_s: float) -> bool:
        heartbeat = job.get("heartbeat_at") or job.get("updated_at")
        before = self._seen.get(job["id"])
        counted = 0.0 if before is None or before[0] != heartbeat else before[1] + min(self._look - before[2], self._step)
        if len(self._seen) > 10_000:  # ended jobs are never looked at again
            self._seen = {k: v for k, v in self._seen.items() if v[2] >= self._previous}
        self._seen[job["id"]] = (heartbeat, counted, self._look)
        return counted > lease_s


_GIVEN_UP = ("The store could not be reached when the training ended, so its end could not be recorded. "
             "Start the training again.")


def _why_swept(job: dict, given_up: bool) -> str:
    """What the log says of a swept job: a runner that gave its own job up (its end could not be
    recorded while the store was away) is alive, and "its process is gone" sent operators looking
    for a crash that never happened."""
    if given_up:
        return "this process could not record its end while the store was away"
    if job["claimed_by"] == WORKER_ID:
        return "this process lost track of it"
    if _alive(job["claimed_by"]):
        return f"its process {job['claimed_by']} is alive but sent it no heartbeat (a reused process id, or a restored copy of the store)"
    return f"its process {job['claimed_by']} is gone"


def _gone(job: dict, lease_s: float) -> str:
    """Why a swept training failed, as its job tells the user."""
    if job["claimed_by"] == WORKER_ID:
        return "The process that ran this training lost track of it. Start the training again."
    if _alive(job["claimed_by"]):
        return (f"The process that claimed this training sent no heartbeat for {lease_s:g} s: its process id now belongs "
                "to another process (the host restarted), or this store was restored from a backup taken while it "
                "trained. Start the training again.")
    if _here((job["claimed_by"] or "").rpartition(":")[0]):
        return "The training process stopped before it finished (the server or worker was restarted or killed). Start the training again."
    return (f"The server or worker training it, on another host, sent no heartbeat for {lease_s:g} s: it was stopped, "
            "or cut off from the store. Start the training again.")


def _here(host: str) -> bool:
    """Whether a claim's host is this one, where its process can be looked up. A claim written
    before claims named the PID namespace (the host name alone) is judged by its heartbeats."""
    return host == jobs.HOST


def _alive(claimed_by: str | None) -> bool:
    if not claimed_by or ":" not in claimed_by:
        return False
    host, _, pid = claimed_by.rpartition(":")
    if not _here(host) or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except OSError:
        return False
    # a zombie (exited, not yet waited for by its parent) still answers kill(pid, 0)
    return _process_state(int(pid)) not in ("Z", "X")


def _process_state(pid: int) -> str | None:
    """The state letter of a process from ``/proc/<pid>/stat`` (Linux; None elsewhere or once it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()  # the command name in (...) may hold spaces
    return fields[0] if fields else None
