"""Runners on several hosts: a job is dead when its host's process is gone, or its heartbeats stop."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest

from tagwise.core import jobs, training
from tagwise.core.documents import import_project
from tagwise.jobs.runner import JobRunner, _alive, _dead, _gone, _Silence
from tagwise.storage import records
from tagwise.storage.records import utcnow
from tests.api.conftest import SINGLE, project_file
from tests.jobs.test_runner import dead_pid, training_in_a_runner, wait_for

pytestmark = pytest.mark.serial  # heartbeats and leases of fractions of a second: make test runs it alone


def test_a_job_on_another_host_is_dead_only_after_a_lease_of_the_sweepers_own_looks():
    # judged by the heartbeat's wall-clock age, a store outage longer than the lease had the first runner back fail
    # every other host's live training; hosts' clocks that differ counted too
    silence = _Silence(heartbeat_s=5)
    stale = {"id": "stale", "claimed_by": "other-host:43", "heartbeat_at": utcnow() - timedelta(hours=2)}
    beating = {"id": "beating", "claimed_by": "other-host:42", "heartbeat_at": utcnow()}
    assert not _dead(stale) and not _dead(beating)  # another host's process cannot be looked up
    seen = []
    for look in range(1, 15):
        silence.look(1_000.0 + 5 * look)
        seen.append(silence.silent(stale, lease_s=60))
        assert not silence.silent(dict(beating, heartbeat_at=utcnow() + timedelta(seconds=look)), lease_s=60)
    assert seen == [False] * 13 + [True]  # a lease of regular looks, however old the heartbeat was at the first
    # after an outage of every host (no looks for 10 minutes), the first look back counts 10 s, not 600
    fresh = {"id": "fresh", "claimed_by": "other-host:44", "heartbeat_at": utcnow()}
    silence.look(2_000.0)
    assert not silence.silent(fresh, lease_s=60)
    silence.look(2_600.0)
    assert not silence.silent(fresh, lease_s=60)


def test_a_running_runner_heartbeats_its_jobs_and_sweeps_dead_ones(ctx, banking):
    ctx.settings.job_heartbeat_s = 0.1
    import_project(ctx, "bank", project_file("bank", SINGLE, banking["train"]))
    runner = JobRunner(ctx, poll_s=0.05)
    runner.start()
    try:
        with ctx.db.write() as conn:
            mine = jobs.create(conn, "analyze", None, {"documents": [], "tasks": []})
            records.update_job(conn, mine["id"], {"status": "running", "claimed_by": "elsewhere:1", "heartbeat_at": utcnow() - timedelta(hours=1)})
        runner._own(mine["id"], True)  # as if this runner were running it
        # claimed by a process of this host that died after the runner started; created running in
        # one transaction, so the runner cannot claim it first (it did on a busy machine)
        with ctx.db.write() as conn:
            job = jobs.create(conn, "train", "bank", {"modelLabel": "m1", "trainingConfigVersion": "linear"}, status="running")
            records.update_job(conn, job["id"], {"claimed_by": f"{jobs.HOST}:{dead_pid()}"})
        failed = wait_for(lambda: (j := jobs.get(ctx, job["id"], "train"))["status"] == "failed" and j, timeout=10)
        assert "stopped before it finished" in failed["errors"][0]["message"]
        beat = wait_for(lambda: (j := jobs.get(ctx, mine["id"], "analyze"))["heartbeat_at"] > utcnow() - timedelta(seconds=5) and j, timeout=10)
        assert beat["status"] == "running", "a job this runner owns is never swept"
    finally:
        runner._own(mine["id"], False)
        runner.stop()


def test_a_claimed_process_that_exited_unreaped_is_dead():
    """A zombie (exited, not yet waited for) still answers kill(pid, 0): it must count as gone, or
    its job would stay running while its runner is up."""
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        wait_for(lambda: Path(f"/proc/{zombie.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z", timeout=10)
        assert _dead({"claimed_by": f"{jobs.HOST}:{zombie.pid}"})
        assert not _dead({"claimed_by": f"{jobs.HOST}:{os.getpid()}"})
    finally:
        zombie.wait()


def test_a_training_stays_claimed_by_its_runner_so_no_other_runner_sweeps_it(ctx, banking):
    # it was claimed by its child's pid: when the child ended during a store outage, another runner on the
    # host swept the job ("its process is gone") before its own runner could record how it ended
    with training_in_a_runner(ctx, banking, "ensemble") as (job, _child):
        assert jobs.get(ctx, job["id"], "train")["claimed_by"] == f"{jobs.HOST}:{os.getpid()}"
        JobRunner(ctx).recover()  # another runner's sweep on this host
        assert jobs.get(ctx, job["id"], "train")["status"] == "running"


def test_a_container_with_this_host_name_but_its_own_process_ids_is_judged_by_heartbeats():
    # two containers sharing a host name (--network host) each took the other's pids for their own,
    # and failed each other's live trainings within seconds
    import socket

    assert jobs.HOST.startswith(socket.gethostname() + "/")  # Linux: the PID namespace too
    other = {"id": "j", "claimed_by": f"{socket.gethostname()}/4026530000:{os.getpid() + 100_000}", "heartbeat_at": utcnow(),
             "updated_at": utcnow(), "started_at": utcnow()}
    assert not _dead(other)  # no such process here: yet it is another host's, judged by its heartbeats
    silence = _Silence(heartbeat_s=5)
    assert [silence.look(1_000.0 + 5 * i) or silence.silent(other, lease_s=60) for i in range(14)][-2:] == [False, True]
    # the reason a swept training gets says what happened there: no heartbeat, not a restart here
    assert "sent no heartbeat for 60 s" in _gone(other, 60)
    assert "restarted or killed" in _gone({"claimed_by": f"{jobs.HOST}:{dead_pid()}"}, 60)


def test_a_live_process_of_this_host_that_sends_no_heartbeat_is_not_the_claimant():
    """A restored backup taken mid-training (its claimant, alive, heartbeats the original store), or a
    process id reused after a reboot: the job stayed running for ever, and the project could not train.
    Silence is what the sweeping runner saw over its own regular looks, not the heartbeat's age."""
    silence = _Silence(heartbeat_s=5)  # a look counts for at most 10 s
    job = {"id": "j", "claimed_by": f"{jobs.HOST}:{os.getpid()}", "heartbeat_at": utcnow() - timedelta(hours=2)}
    clock = [1_000.0]

    def looks(n: int, job: dict, every: float = 5.0) -> list[bool]:
        seen = []
        for _ in range(n):
            clock[0] += every
            silence.look(clock[0])
            seen.append(silence.silent(job, lease_s=60))
        return seen

    assert looks(14, job) == [False] * 13 + [True]  # the first look starts the count, then 5 s a look: 65 s > 60 s
    assert looks(2, dict(job, heartbeat_at=utcnow())) == [False, False]  # a new heartbeat starts over
    # a runner that waited (for the write lock, the store, a sleeping machine) counts at most 10 s of the wait
    fresh = dict(job, id="k")
    assert looks(1, fresh) == [False] and looks(1, fresh, every=3_600) == [False] and looks(9, fresh) == [False] * 9
    assert not silence.silent(dict(job, claimed_by="other-host:1"), lease_s=0.0)  # another host's jobs: by their heartbeats
    assert "sent no heartbeat for 60 s" in _gone(dict(job, claimed_by=f"{jobs.HOST}:1"), 60) or not _alive(f"{jobs.HOST}:1")
    assert _gone(dict(job, claimed_by=jobs.claimant()), 60).startswith("The process that ran this training lost track of it")


def test_a_live_claimant_that_heartbeats_is_not_swept_while_the_sweeper_waited_for_a_long_write(ctx):
    # the heartbeat's age said "silent" after the sweeping runner's own process held the write lock
    # for longer than the lease (a big import): a live analysis ran twice, a live training failed
    ctx.settings.job_heartbeat_s, ctx.settings.job_lease_s = 0.3, 2.0
    with ctx.db.write() as conn:
        job = jobs.create(conn, "analyze", None, {"documents": [], "tasks": []})
    beats = ("import sys, time\nfrom tagwise.storage.db import Database\nfrom tagwise.storage import records\n"
             "db = Database(sys.argv[1])\nwhile True:\n    with db.write() as conn:\n        records.heartbeat(conn, [sys.argv[2]])\n"
             "    print('beating', flush=True)\n    time.sleep(0.3)\n")
    claimant = subprocess.Popen([sys.executable, "-c", beats, ctx.db.url, job["id"]], stdout=subprocess.PIPE, text=True)
    try:
        with ctx.db.write() as conn:
            records.update_job(conn, job["id"], {"status": "running", "claimed_by": f"{jobs.HOST}:{claimant.pid}"})
        # a claimant still importing (2-3 s on a busy 2-core machine, longer than the lease) is rightly
        # silent: the runner starts once it beats
        assert claimant.stdout.readline() == "beating\n"
        runner = JobRunner(ctx, poll_s=0.05)
        runner.start()
        try:
            time.sleep(3.0)
            with ctx.db.write():  # as one import transaction does, in the server's own process
                time.sleep(3.5)
            time.sleep(1.0)
        finally:
            runner.stop()
        assert claimant.poll() is None and jobs.get(ctx, job["id"], "analyze")["status"] == "running"
    finally:
        claimant.kill()
        claimant.wait()


def test_a_runner_sweeps_a_training_whose_live_claimant_sends_no_heartbeat(ctx, banking):
    ctx.settings.job_heartbeat_s, ctx.settings.job_lease_s = 0.1, 0.5
    import_project(ctx, "bank", project_file("bank", SINGLE, banking["train"]))
    other = subprocess.Popen(["sleep", "60"])  # alive, and no runner
    try:
        with ctx.db.write() as conn:
            job = jobs.create(conn, "train", "bank", {"modelLabel": "m1", "trainingConfigVersion": "linear"}, status="running")
            records.update_job(conn, job["id"], {"claimed_by": f"{jobs.HOST}:{other.pid}"})
        with ctx.db.write() as conn:
            records.update_job(conn, job["id"], {"heartbeat_at": utcnow() - timedelta(hours=2)})
        runner = JobRunner(ctx, poll_s=0.05)
        runner.start()
        try:
            failed = wait_for(lambda: (j := jobs.get(ctx, job["id"], "train"))["status"] == "failed" and j, timeout=15)
        finally:
            runner.stop()
        assert "sent no heartbeat for 0.5 s" in failed["errors"][0]["message"]
        training.start(ctx, "bank", {"modelLabel": "m2", "trainingConfigVersion": "linear"})  # the project trains again
    finally:
        other.kill()
        other.wait()
