"""The job runner: a training process that dies leaves its job failed with a reason, never running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import psutil
import pytest

from tagwise.core import jobs, training
from tagwise.core.context import Context
from tagwise.core.documents import import_project
from tagwise.jobs import train
from tagwise.jobs.runner import JobRunner, ended_unexpectedly
from tagwise.settings import Settings
from tagwise.storage import records
from tests.api.conftest import SINGLE, project_file
from tests.support.live_server import free_port

pytestmark = pytest.mark.serial  # heartbeats, stops and their time limits: make test runs it alone


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def dead_pid() -> int:
    """The pid of a process that has just exited (so, for a while, of no process)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@contextmanager
def training_in_a_runner(ctx, banking, recipe: str = "linear") -> Iterator[tuple[dict, subprocess.Popen]]:
    """A runner of this process training project ``bank``: yields the job and its training child; stops the runner after."""
    import_project(ctx, "bank", project_file("bank", SINGLE, banking["train"]))
    runner = JobRunner(ctx, poll_s=0.05)
    runner.start()
    try:
        job = training.start(ctx, "bank", {"modelLabel": "m1", "trainingConfigVersion": recipe})
        runner.notify()
        yield job, wait_for(lambda: runner._child)
    finally:
        runner.stop()


def test_killed_training_process_fails_the_job_and_leaves_no_model_folder(ctx, banking):
    with training_in_a_runner(ctx, banking) as (job, child):
        # what a kill while it saved leaves (a half-written folder, a whole one no row names), beside another job's
        store = ctx.models_dir / "bank"
        left = [store / f".m1-20261128T092556-{job['id'][:8]}.tmp-8048aa", store / f"m1-20261128T092557-{job['id'][:8]}"]
        other = store / "m0-20261128T092457-0123abcd"
        for folder in (*left, other):
            folder.mkdir(parents=True)
        os.kill(child.pid, signal.SIGKILL)
        final = wait_for(lambda: (j := jobs.get(ctx, job["id"], "train"))["status"] in jobs.TERMINAL and j)
    assert final["status"] == "failed"
    assert "ended unexpectedly" in final["errors"][0]["message"]
    with ctx.db.read() as conn:
        assert records.list_models(conn, records.get_project(conn, "bank")["id"]) == []
    # they stayed for good, unseen by the API and the studio
    assert not any(folder.exists() for folder in left) and other.is_dir()


def test_restart_fails_training_left_running_and_requeues_analysis(ctx, banking):
    import_project(ctx, "bank", project_file("bank", SINGLE, banking["train"]))
    job = training.start(ctx, "bank", {"modelLabel": "m1", "trainingConfigVersion": "linear"})
    gone = f"{jobs.HOST}:{dead_pid()}"
    with ctx.db.write() as conn:
        # as if a server died mid-training: running, claimed by a process that no longer exists
        records.update_job(conn, job["id"], {"status": "running", "claimed_by": gone})
        analyze = jobs.create(conn, "analyze", None, {"documents": [], "tasks": []})
        records.update_job(conn, analyze["id"], {"status": "running", "claimed_by": gone})
    # the server was killed as the training had saved its model, before its row: the folder stayed for good
    saved = ctx.models_dir / "bank" / f"m1-20261128T092557-{job['id'][:8]}"
    saved.mkdir(parents=True)
    JobRunner(ctx).recover()
    failed = jobs.get(ctx, job["id"], "train")
    assert failed["status"] == "failed" and "restarted" in failed["errors"][0]["message"]
    assert jobs.get(ctx, analyze["id"], "analyze")["status"] == "notStarted"
    assert not saved.exists()


def test_leftovers_of_a_deleted_project_and_old_half_written_folders_go(ctx, banking):
    from tagwise.core import models, projects

    import_project(ctx, "bank", project_file("bank", SINGLE, banking["train"][:40]))
    projects.delete(ctx, "bank")
    # its training went on a moment after the deletion: its cache and model folder came back
    cache = ctx.settings.project_cache_dir("bank") / "all-MiniLM-L6-v2-x"
    cache.mkdir(parents=True)
    (ctx.models_dir / "bank" / "m1-20261128T092557-0123abcd").mkdir(parents=True)
    assert models.remove_leftovers(ctx, "bank", "0123abcd-0000") == 2
    assert not (ctx.models_dir / "bank").exists() and not ctx.settings.project_cache_dir("bank").exists()
    # a hidden folder is removed once it is a day old (a whole server killed while it saved)
    half = [ctx.models_dir / "p" / f".m1-20261128T092557-0123abc{i}.tmp-ab12" for i in range(2)]
    for folder in half:
        folder.mkdir(parents=True)
    os.utime(half[0], (time.time() - 2 * models.HALF_WRITTEN_AGE_S,) * 2)
    assert models.remove_half_written(ctx) == 1 and not half[0].exists() and half[1].is_dir()


def test_cancel_before_start_ends_at_once(ctx, banking):
    import_project(ctx, "bank", project_file("bank", SINGLE, banking["train"]))
    job = training.start(ctx, "bank", {"modelLabel": "m1", "trainingConfigVersion": "linear"})
    jobs.request_cancel(ctx, job["id"])
    assert jobs.get(ctx, job["id"], "train")["status"] == "cancelled"


def test_a_failure_the_child_could_not_record_keeps_its_own_message(tmp_path, capsys):
    # the child cannot reach the store (nobody listens there), so it leaves its message as its last line for the runner
    settings = Settings(data_dir=tmp_path, database_url=f"postgresql://tagwise@127.0.0.1:{free_port()}/tagwise")
    away = Context.open(settings, migrate=False)
    try:
        train._fail(away, "job-1", "Training failed: OperationalError: the server closed the connection")
    finally:
        away.close()
    stderr = capsys.readouterr().err
    assert ended_unexpectedly("Traceback ...\n" + stderr, 1) == "Training failed: OperationalError: the server closed the connection"
    # before, it read "The training process ended unexpectedly (Training failed: ...)"
    assert ended_unexpectedly("Traceback ...\nMemoryError\n", 1) == "The training process ended unexpectedly (MemoryError)."
    assert ended_unexpectedly("", -9) == "The training process ended unexpectedly (exit code -9)."


@pytest.fixture(scope="module")
def large_banking(datasets) -> dict[str, list[dict]]:
    """Enough documents for the head to fit its folds in worker processes (80% of them over PARALLEL_MIN_DOCS)."""
    from tagwise.ml.head import PARALLEL_MIN_DOCS
    from tests.conftest import read_jsonl, take_per_class

    rows = take_per_class(read_jsonl(datasets / "banking77" / "train.jsonl"), 40, 100)
    assert len(rows) * 0.8 > PARALLEL_MIN_DOCS
    return {"train": rows}


def descendants_once_workers_start(pid: int) -> list[psutil.Process]:
    """The training child's processes once its head has started worker processes."""
    return wait_for(lambda: [p for p in psutil.Process(pid).children(recursive=True) if "loky" in " ".join(p.cmdline())]
                    and psutil.Process(pid).children(recursive=True), timeout=120)


def all_gone(processes: list[psutil.Process]) -> bool:
    def gone(process: psutil.Process) -> bool:
        try:
            return process.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True
    return all(gone(p) for p in processes)


def test_a_cancelled_training_leaves_no_process_behind(ctx, large_banking):
    # the child was killed alone: its worker processes (~200 MB each) lived on, ignoring SIGTERM
    with training_in_a_runner(ctx, large_banking) as (job, child):
        started = descendants_once_workers_start(child.pid)
        jobs.request_cancel(ctx, job["id"])
        assert wait_for(lambda: jobs.get(ctx, job["id"], "train")["status"] == "cancelled")
        assert wait_for(lambda: all_gone(started), timeout=10), [p.cmdline() for p in started if not all_gone([p])]


def test_a_training_whose_runner_is_killed_leaves_no_process_behind(settings, large_banking):
    # the kernel kills the child with its runner (parent-death signal); its workers now follow it
    ctx = Context.open(settings)
    try:
        import_project(ctx, "bank", project_file("bank", SINGLE, large_banking["train"]))
        training.start(ctx, "bank", {"modelLabel": "m1", "trainingConfigVersion": "linear"})
    finally:
        ctx.close()
    env = dict(os.environ, **settings.environment(), HF_HUB_OFFLINE="1")
    worker = subprocess.Popen([sys.executable, "-m", "tagwise", "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        child = wait_for(lambda: psutil.Process(worker.pid).children(), timeout=60)[0]
        started = [child, *descendants_once_workers_start(child.pid)]
    finally:
        worker.kill()
        worker.wait()
    assert wait_for(lambda: all_gone(started), timeout=15), [(p.pid, p.cmdline()) for p in started if not all_gone([p])]


def test_jobs_a_live_runner_gave_up_during_an_outage_are_not_called_dead(ctx, caplog):
    # after an outage the log said "its process vm:22670 is gone" of the live server that had given the job up
    import logging

    from tagwise.jobs.runner import WORKER_ID

    with ctx.db.write() as conn:
        analyze_job = jobs.create(conn, "analyze", None, {"documents": []}, status="running")
        training_job = jobs.create(conn, "train", "p", {"modelLabel": "m"}, status="running")
        for job in (analyze_job, training_job):
            records.update_job(conn, job["id"], {"claimed_by": WORKER_ID})
    runner = JobRunner(ctx)
    runner._abandoned = {analyze_job["id"], training_job["id"]}  # what a store error while recording their end does
    with caplog.at_level(logging.WARNING, logger="tagwise.jobs"):
        runner.recover()
    assert "is gone" not in caplog.text
    assert caplog.text.count("this process could not record its end while the store was away") == 2
    assert jobs.get(ctx, analyze_job["id"], "analyze")["status"] == "notStarted"  # queued again
    failed = jobs.get(ctx, training_job["id"], "train", "p")
    assert failed["status"] == "failed" and "could not be reached when the training ended" in failed["errors"][0]["message"]


def test_a_runner_claims_only_the_analyze_jobs_it_can_start_and_queues_again_those_it_never_ran(tmp_path, monkeypatch, caplog):
    # it claimed up to 32 at once: a second worker sat idle while they waited here, "running" to their
    # clients; and a clean stop left those "running", which the next start swept with "its process ... is gone"
    import logging
    import threading

    from tagwise.core import analyze
    from tagwise.jobs.runner import WORKER_ID

    ctx = Context.open(Settings(data_dir=tmp_path / "data", api_key="k", analyze_workers=1))
    release, started = threading.Event(), threading.Event()
    real = analyze.run_job

    def slow(ctx_, job_id, *rest, **named):  # the one thread is busy with the first job while the others wait for it
        started.set()
        release.wait(30)
        return real(ctx_, job_id, *rest, **named)

    monkeypatch.setattr(analyze, "run_job", slow)
    body = {"analysisInput": {"documents": [{"id": "1", "text": "hello"}]},
            "tasks": [{"kind": SINGLE, "taskName": "t", "parameters": {"projectName": "p", "deploymentName": "d"}}]}
    queued = [analyze.submit(ctx, body)["id"] for _ in range(4)]
    runner = JobRunner(ctx, poll_s=0.05)
    try:
        runner.start()
        assert started.wait(30)
        time.sleep(0.5)  # ten polls: the one thread is busy, so the others stay in the queue for another runner
        assert [jobs.get(ctx, j, "analyze")["status"] for j in queued] == ["running", "notStarted", "notStarted", "notStarted"]
        with ctx.db.write() as conn:  # as if claimed in the moment before the stop (its thread not started yet) ...
            records.claim_jobs(conn, "analyze", WORKER_ID, 1)
            # ... and one waited past the lease: swept, and claimed by another runner, which runs it
            records.claim_jobs(conn, "analyze", "other-host:1", 1)
        runner._own(queued[1], True)
        with caplog.at_level(logging.INFO, logger="tagwise.jobs"):
            stopping = threading.Thread(target=runner.stop)
            stopping.start()
            time.sleep(0.3)
            release.set()
            stopping.join(30)
        statuses = [jobs.get(ctx, j, "analyze")["status"] for j in queued]
        assert statuses == ["failed", "notStarted", "running", "notStarted"], statuses  # the first ran (no such project)
        assert caplog.text.count("stopped before running it; queued again") == 1 and "is gone" not in caplog.text

        # once its thread is free it takes the next at once, one at a time
        release.clear()
        started.clear()
        again = JobRunner(ctx, poll_s=5)
        again.start()
        try:
            assert started.wait(30)
            assert [jobs.get(ctx, j, "analyze")["status"] for j in (queued[1], queued[3])].count("running") == 1
            release.set()
            wait_for(lambda: all(jobs.get(ctx, j, "analyze")["status"] == "failed" for j in (queued[1], queued[3])), timeout=3)
        finally:
            release.set()
            again.stop()
    finally:
        release.set()
        ctx.close()


def test_a_server_set_to_run_no_jobs_only_queues_them_for_a_worker(tmp_path, monkeypatch):
    # an operator had no way to keep trainings out of the API processes (create_app(run_jobs=False) only)
    from fastapi.testclient import TestClient

    from tagwise.core import analyze
    from tagwise.server import create_app

    monkeypatch.setenv("TAGWISE_RUN_JOBS", "false")
    settings = Settings(data_dir=tmp_path / "data", api_key="k")
    assert settings.run_jobs is False
    body = {"analysisInput": {"documents": [{"id": "1", "text": "hello"}]},
            "tasks": [{"kind": SINGLE, "taskName": "t", "parameters": {"projectName": "p", "deploymentName": "d"}}]}
    with TestClient(create_app(settings)) as client:
        ctx = client.app.state.ctx
        job_id = analyze.submit(ctx, body)["id"]
        client.app.state.runner.notify()
        time.sleep(1.0)  # four polls of a runner, had one started
        assert jobs.get(ctx, job_id, "analyze")["status"] == "notStarted"
        worker = JobRunner(ctx, poll_s=0.05)  # what `tagwise worker` runs
        worker.start()
        try:
            wait_for(lambda: jobs.get(ctx, job_id, "analyze")["status"] == "failed", timeout=30)  # ran: there is no project p
        finally:
            worker.stop()


def test_jobs_claimed_as_the_runner_stops_are_queued_again_not_left_running(tmp_path, caplog):
    # a claim that committed after stop() had shut the pool: "cannot schedule new futures after
    # shutdown" with a traceback, and the job left running under a process that was gone
    import logging

    from tagwise.core import analyze

    ctx = Context.open(Settings(data_dir=tmp_path / "data", api_key="k", analyze_workers=1))
    body = {"analysisInput": {"documents": [{"id": "1", "text": "hello"}]},
            "tasks": [{"kind": SINGLE, "taskName": "t", "parameters": {"projectName": "p", "deploymentName": "d"}}]}
    runner = JobRunner(ctx, poll_s=0.05)
    real = runner._claim

    def late(kind, limit=32):  # the analyze loop's claim commits only once the runner is stopping
        if kind == "analyze":
            runner._stop.wait(30)
            time.sleep(0.2)
        return real(kind, limit)

    runner._claim = late
    try:
        runner.start()
        job_id = analyze.submit(ctx, body)["id"]
        with caplog.at_level(logging.INFO, logger="tagwise.jobs"):
            runner.stop()
        assert jobs.get(ctx, job_id, "analyze")["status"] == "notStarted"
        assert "stopped before running it; queued again" in caplog.text and "Traceback" not in caplog.text
        assert not [r for r in caplog.records if r.exc_info]
    finally:
        ctx.close()


def test_a_read_only_store_is_one_warning_not_a_traceback_on_every_poll(tmp_path, caplog):
    # a PostgreSQL store that refuses writes (a hot standby, default_transaction_read_only) logged the claim's traceback on
    # every poll: 750 tracebacks, 1.2 MB, in 75 s
    import logging

    import psycopg

    from tests.storage.pg import server

    pg = server()
    url = pg.create_database()
    ctx = Context.open(Settings(data_dir=tmp_path / "data", api_key="k", database_url=url, job_heartbeat_s=0.1))
    try:
        with psycopg.connect(pg.url(), autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{url.rsplit("/", 1)[1]}" SET default_transaction_read_only = on')
        ctx.db.dispose()  # the next connections read the setting
        runner = JobRunner(ctx, poll_s=0.05)
        with caplog.at_level(logging.INFO, logger="tagwise.jobs"):
            runner.start()
            try:
                time.sleep(1.5)  # 30 polls of each loop, 15 heartbeats
            finally:
                runner.stop()
        said = [r for r in caplog.records if r.name == "tagwise.jobs" and r.levelno >= logging.WARNING]
        assert not [r for r in said if r.exc_info], [r.getMessage() for r in said][:3]
        assert said and said[0].getMessage().startswith("the store refuses writes (it is read-only)")
        assert len(said) <= 2
    finally:
        ctx.close()
        pg.drop_database(url)


@contextmanager
def an_analyze_job_held_running(tmp_path, monkeypatch, finish_s: float, **settings) -> Iterator[tuple]:
    """A runner running one analyze job until ``release`` is set (it then fails: there is no project p),
    which a stop lets run ``finish_s`` at most; yields (ctx, runner, job id, release)."""
    import threading

    from tagwise.core import analyze
    from tagwise.jobs import runner as runner_module

    ctx = Context.open(Settings(data_dir=tmp_path / "data", api_key="k", analyze_workers=1, **settings))
    release, started = threading.Event(), threading.Event()
    real = analyze.serving

    def long(*args):
        started.set()
        release.wait(30)
        return real(*args)

    monkeypatch.setattr(analyze, "serving", long)
    monkeypatch.setattr(runner_module, "ANALYZE_FINISH_S", finish_s)
    body = {"analysisInput": {"documents": [{"id": "1", "text": "hello"}]},
            "tasks": [{"kind": SINGLE, "taskName": "t", "parameters": {"projectName": "p", "deploymentName": "d"}}]}
    job_id = analyze.submit(ctx, body)["id"]
    runner = JobRunner(ctx, poll_s=0.05)
    try:
        runner.start()
        assert started.wait(30)
        yield ctx, runner, job_id, release
    finally:
        release.set()
        ctx.close()


def test_a_stopping_runner_heartbeats_the_analyze_jobs_it_runs_and_queues_again_those_it_cannot_finish(tmp_path, monkeypatch, caplog):
    # it stopped their heartbeats and waited for them without end: a server running 5,000-document jobs took 148 s
    # to stop, another runner queued them again after the lease, and the job ran twice (both runs recorded)
    import logging

    with an_analyze_job_held_running(tmp_path, monkeypatch, 1.0, job_heartbeat_s=0.1) as (ctx, runner, job_id, release):
        with ctx.db.read() as conn:
            before = records.get_job(conn, job_id)["heartbeat_at"]
        with caplog.at_level(logging.INFO, logger="tagwise"):
            begun = time.monotonic()
            runner.stop()
            took = time.monotonic() - begun
            assert took < 5, took  # not the job's length
            with ctx.db.read() as conn:
                job = records.get_job(conn, job_id)
            assert job["status"] == "notStarted" and job["claimed_by"] is None  # for the next runner, at once
            assert job["heartbeat_at"] > before  # heartbeated while it waited: no other runner swept it meanwhile
            assert "still running when its process" in caplog.text and "queued again" in caplog.text
            release.set()  # its thread ends: its results are not recorded over the next run's
            wait_for(lambda: "but it was queued again meanwhile" in caplog.text, timeout=30)
        assert jobs.get(ctx, job_id, "analyze")["status"] == "notStarted"


def test_a_job_cancelled_while_its_runner_stops_ends_cancelled(tmp_path, monkeypatch):
    # handing back only "running" jobs left a cancelled one "cancelling" for good, holding one of its key's slots
    with an_analyze_job_held_running(tmp_path, monkeypatch, 0.5) as (ctx, runner, job_id, _release):
        with ctx.db.write() as conn:
            jobs.cancel_in(conn, job_id)
        runner.stop()
        assert jobs.get(ctx, job_id, "analyze")["status"] == "cancelled"


def test_a_job_still_running_does_not_keep_a_stopped_process_up(tmp_path):
    # the pool's threads were joined at exit: a worker stopped in 5 s but exited only when its 30 s job ended
    code = f"""
import sys, threading, time
from tagwise.core import analyze
from tagwise.core.context import Context
from tagwise.jobs.runner import JobRunner
from tagwise.settings import Settings
started = threading.Event()
def long(*args):
    started.set()
    time.sleep(120)
analyze.serving = long
ctx = Context.open(Settings(data_dir={str(tmp_path / "data")!r}, api_key="k"))
body = {{"analysisInput": {{"documents": [{{"id": "1", "text": "hello"}}]}},
        "tasks": [{{"kind": "{SINGLE}", "taskName": "t", "parameters": {{"projectName": "p", "deploymentName": "d"}}}}]}}
analyze.submit(ctx, body)
runner = JobRunner(ctx, poll_s=0.05)
runner.start()
assert started.wait(60)
runner.stop()
print("stopped", flush=True)
"""
    begun = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=100,
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert done.returncode == 0 and "stopped" in done.stdout, done.stderr
    assert time.monotonic() - begun < 60  # not the job's 120 s
