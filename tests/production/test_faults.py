"""Faults, with real processes killed by SIGKILL (a worker mid-training, a server mid-import and mid-analysis)
or stopped by SIGTERM (a server mid-training)."""

from __future__ import annotations

import os
import signal
import threading

import httpx
import pytest

from tagwise.core import deployments, jobs, training
from tagwise.core.context import Context
from tagwise.core.documents import import_project
from tagwise.errors import NotFound
from tagwise.settings import Settings
from tagwise.storage import records
from tests.api.conftest import SINGLE, A, V, project_file
from tests.conftest import DATASETS, read_jsonl
from tests.production.conftest import KEY
from tests.production.procs import HEADER, alive, claimant, environment, parent_pid, start_server, start_worker, training_child, wait_for

pytestmark = pytest.mark.serial  # processes killed at a point of a training: make test runs it alone

FAST_SWEEP = {"TAGWISE_JOB_HEARTBEAT_S": "0.3"}


def banking_rows(per_class: int) -> list[dict]:
    by_class: dict[str, list[dict]] = {}
    for row in read_jsonl(DATASETS / "banking77" / "train.jsonl"):
        by_class.setdefault(row["labels"][0], []).append(row)
    return [row for rows in by_class.values() for row in rows[:per_class]]


def test_worker_killed_mid_training_fails_the_job_and_lists_no_model(tmp_path, datasets):
    settings = Settings(data_dir=tmp_path / "data", api_key=KEY)
    ctx = Context.open(settings)
    env = environment(settings.data_dir, KEY, **FAST_SWEEP)
    workers = [start_worker(env, f"worker{i}") for i in range(2)]
    try:
        import_project(ctx, "bank", project_file("bank", SINGLE, banking_rows(40)))
        job = training.start(ctx, "bank", {"modelLabel": "m1", "trainingConfigVersion": "linear"})

        def fitting() -> int | None:  # the job runs in a child of one worker, and is fitting
            state = jobs.get(ctx, job["id"], "train")
            child = training_child(claimant(state)) if state["status"] == "running" else None
            return child if state["percent"] >= 5 and child and alive(child) else None

        child = wait_for(fitting, timeout=60, message="training never started")
        owner = next(w for w in workers if w.pid == parent_pid(child))
        os.kill(owner.pid, signal.SIGKILL)  # the worker dies; its training child must not go on alone
        final = wait_for(lambda: (j := jobs.get(ctx, job["id"], "train"))["status"] in jobs.TERMINAL and j, timeout=30,
                         message="the job stayed running after its worker was killed")
        assert final["status"] == "failed"
        assert "stopped before it finished" in final["errors"][0]["message"]
        wait_for(lambda: not alive(child), timeout=10, message="the training child outlived its worker")
        with ctx.db.read() as conn:
            assert records.list_models(conn, records.get_project(conn, "bank")["id"]) == []
        with pytest.raises(NotFound):
            deployments.deploy(ctx, "bank", "prod", {"trainedModelLabel": "m1"})

        # the surviving worker still trains: the user can simply start again
        again = training.start(ctx, "bank", {"modelLabel": "m1", "trainingConfigVersion": "linear"})
        done = wait_for(lambda: (j := jobs.get(ctx, again["id"], "train"))["status"] in jobs.TERMINAL and j, timeout=120)
        assert done["status"] == "succeeded", done["errors"]
        deployments.deploy(ctx, "bank", "prod", {"trainedModelLabel": "m1"})
    finally:
        for worker in workers:
            worker.kill()
        ctx.close()


def test_server_stopped_mid_training_queues_the_job_again_and_the_next_start_trains_it(tmp_path, datasets):
    """SIGTERM to the whole process group, as systemd stops a service and Ctrl-C stops a terminal's:
    the training child leaves the stop to its runner, which queues the job again (not "failed")."""
    settings = Settings(data_dir=tmp_path / "data", api_key=KEY)
    ctx = Context.open(settings)
    env = environment(settings.data_dir, KEY, TAGWISE_LOG_LEVEL="info")
    server = start_server(env)
    try:
        import_project(ctx, "bank", project_file("bank", SINGLE, banking_rows(20)))
        job = training.start(ctx, "bank", {"modelLabel": "m1", "trainingConfigVersion": "ensemble"})
        wait_for(lambda: jobs.get(ctx, job["id"], "train")["percent"] >= 5, timeout=60, interval=0.05,
                 message="training never started")
        server.stop()
        stopped = jobs.get(ctx, job["id"], "train")
        assert (stopped["status"], stopped["percent"], stopped["errors"]) == ("notStarted", 0, [])
        assert "queued again" in server.log()

        server = start_server(env)
        done = wait_for(lambda: (j := jobs.get(ctx, job["id"], "train"))["status"] in jobs.TERMINAL and j, timeout=120,
                        message="the queued training did not run after the restart")
        assert done["status"] == "succeeded", done["errors"]
        wait_for(lambda: f"training job {job['id']} (project 'bank') succeeded" in server.log(), timeout=10,
                 message="the server's log does not say how the training ended")
        deployments.deploy(ctx, "bank", "prod", {"trainedModelLabel": "m1"})
    finally:
        server.stop()
        ctx.close()


def test_server_killed_during_import_lands_whole_or_not_at_all(sqlite_store):
    settings = sqlite_store
    env = environment(settings.data_dir, KEY)
    headers = {HEADER: KEY}
    big_rows = banking_rows(10_000) * 4  # ~40,000 documents, ~4 MB of JSON
    big = project_file("big", SINGLE, big_rows)
    outcomes = []
    for delay in (0.3, 0.8, 1.5, 2.5):
        server = start_server(env)
        thread = threading.Thread(target=_post_quietly, args=(f"{server.url}{A}/big/:import", big, headers), daemon=True)
        thread.start()
        threading.Event().wait(delay)
        server.kill()
        thread.join(timeout=30)
        ctx = Context.open(settings, migrate=False)
        try:
            with ctx.db.read() as conn:
                project = records.get_project(conn, "big")
                count = records.count_documents(conn, project["id"]) if project else 0
                kept = records.get_project(conn, "bank")
                kept_docs = records.count_documents(conn, kept["id"])
        finally:
            ctx.close()
        assert count in (0, len(big_rows)), f"half an import landed: {count} of {len(big_rows)} documents"
        assert kept_docs == 150, "a project stored before the crash lost documents"
        outcomes.append(count)
        if count:
            _delete_project(settings, "big")  # so the next round can land (or not) again
    server = start_server(env)
    try:  # after the restarts: the store answers, the old project and its deployment still classify
        response = httpx.post(f"{server.url}/language/tagwise/projects/bank/deployments/prod:classify",
                              json={"documents": [{"id": "1", "text": "I was charged twice"}]}, headers=headers, timeout=30)
        assert response.status_code == 200 and response.json()["documents"][0]["class"]
    finally:
        server.stop()
    print("import outcomes by kill delay (documents landed):", outcomes)


def _post_quietly(url: str, body: dict, headers: dict) -> None:
    try:
        httpx.post(url, params=V, json=body, headers=headers, timeout=60)
    except httpx.TransportError:
        pass  # the server was killed under us: expected


def _delete_project(settings: Settings, name: str) -> None:
    ctx = Context.open(settings, migrate=False)
    try:
        with ctx.db.write() as conn:
            records.delete_project(conn, records.get_project(conn, name)["id"])
    finally:
        ctx.close()


def test_server_killed_with_analyze_jobs_in_flight_finishes_them_after_restart(sqlite_store):
    settings = sqlite_store
    # no cap on one key's waiting jobs (20 by default): 40 are sent at once, as many clients would
    env = environment(settings.data_dir, KEY, TAGWISE_ANALYZE_WORKERS="1", TAGWISE_MAX_PENDING_JOBS_PER_KEY="0")
    headers = {HEADER: KEY}
    texts = [r["text"] for r in banking_rows(1)][:25]
    body = {"analysisInput": {"documents": [{"id": str(i), "text": t} for i, t in enumerate(texts)]},
            "tasks": [{"kind": SINGLE, "taskName": "0", "parameters": {"projectName": "bank", "deploymentName": "prod"}}]}
    server = start_server(env)
    try:
        with httpx.Client(headers=headers, timeout=30) as client:
            locations = [client.post(f"{server.url}/language/analyze-text/jobs", params=V, json=body).headers["Operation-Location"]
                         for _ in range(40)]
    finally:
        server.kill()  # also when a request failed: a failure here had left the server running after the suite
    ctx = Context.open(settings, migrate=False)
    try:
        ids = [loc.split("/jobs/")[1].split("?")[0] for loc in locations]
        before = {jobs.get(ctx, job_id, "analyze")["status"] for job_id in ids}
        server = start_server(env)
        try:
            def all_done() -> bool:
                return all(jobs.get(ctx, job_id, "analyze")["status"] in jobs.TERMINAL for job_id in ids)

            wait_for(all_done, timeout=60, interval=0.2, message="analyze jobs did not finish after the restart")
            with httpx.Client(headers=headers, timeout=30) as client:
                for location in locations:
                    state = client.get(location.replace(location.split("/language")[0], server.url)).json()
                    assert state["status"] == "succeeded", state
                    assert len(state["tasks"]["items"][0]["results"]["documents"]) == 25
        finally:
            server.stop()
    finally:
        ctx.close()
    print("analyze job states when the server was killed:", sorted(before))
