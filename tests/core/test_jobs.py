"""Job bookkeeping: what a failed job tells the person who started it."""

from __future__ import annotations

import sqlite3

import pytest
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


def test_an_analyze_job_cancelled_while_it_classifies_counts_no_documents(ctx, monkeypatch):
    # /metrics counted 13,131 analyze documents where the jobs returned 13,045: a job cancelled while it ran
    # dropped its results and still counted them
    from tagwise.core import analyze

    body = {"analysisInput": {"documents": [{"id": "1", "text": "hello"}, {"id": "2", "text": "hi"}]},
            "tasks": [{"kind": "CustomSingleLabelClassification", "taskName": "t", "parameters": {"projectName": "p", "deploymentName": "d"}}]}
    job = analyze.submit(ctx, body)
    with ctx.db.write() as conn:
        assert records.claim_jobs(conn, "analyze", "test", 1) == [job["id"]]

    monkeypatch.setattr(analyze, "serving", lambda *_: ({}, {}, "m-1", None, None))  # no project here: the job needs none

    def classified_while_cancelled(_ctx, project, deployment, documents, served_by=None):  # the cancel comes while the model works
        jobs.request_cancel(ctx, job["id"])
        return {"kind": "CustomSingleLabelClassification", "trainedModelLabel": "m", "modelId": "m-1", "projectName": project,
                "deploymentName": deployment, "documents": [{"id": d["id"], "class": []} for d in documents], "errors": []}

    monkeypatch.setattr(analyze, "classify_documents", classified_while_cancelled)
    assert analyze.run_job(ctx, job["id"]) == 0
    assert jobs.get(ctx, job["id"], "analyze")["status"] == "cancelled"


def test_a_store_that_cannot_be_reached_is_said_so_without_its_address():
    from tests.support.live_server import free_port

    port = free_port()  # nobody listens there
    try:
        with create_engine(f"postgresql+psycopg://tagwise@127.0.0.1:{port}/tagwise").connect():
            pass
    except Exception as exc:  # noqa: BLE001 - the driver's real error
        error = exc
    assert str(port) in str(error)
    reason = crash_reason("Training", error)
    assert reason == "Training failed: the store could not be reached (OperationalError). Start it again once the store is back."


def test_a_cancelled_training_says_why_and_when(ctx, banking):
    # it read "cancelled" with no warning and no end time, whether a person or a project delete cancelled it
    from tagwise.core import training
    from tagwise.core.documents import import_project
    from tests.api.conftest import SINGLE, project_file

    import_project(ctx, "bank", project_file("bank", SINGLE, banking["train"]))
    job = training.start(ctx, "bank", {"modelLabel": "m1", "trainingConfigVersion": "linear"})
    jobs.request_cancel(ctx, job["id"])
    state = training.describe_job(jobs.get(ctx, job["id"], "train"))
    assert state["status"] == "cancelled"
    assert state["warnings"] == [{"code": "JobCancelled", "message": "Cancelled on request."}]
    assert state["result"]["trainingStatus"]["endDateTime"] == state["lastUpdatedDateTime"]
    running = training.start(ctx, "bank", {"modelLabel": "m2", "trainingConfigVersion": "linear"})
    with ctx.db.write() as conn:
        records.update_job(conn, running["id"], {"status": "running"})
        jobs.cancel_in(conn, running["id"], "Cancelled: some reason.")
    assert jobs.get(ctx, running["id"], "train")["warnings"][0]["message"] == "Cancelled: some reason."


def test_analyze_jobs_past_their_expiry_are_deleted_with_their_texts(ctx):
    # the job said "expirationDateTime" (24 h) and its texts and results stayed in the store for good
    from datetime import timedelta

    import pytest

    from tagwise.errors import OperationNotFound
    from tagwise.jobs.runner import JobRunner

    with ctx.db.write() as conn:
        expired = jobs.create(conn, "analyze", None, {"documents": [{"id": "1", "text": "my secret"}]}, status="succeeded")
        running = jobs.create(conn, "analyze", None, {"documents": []}, status="running")
        fresh = jobs.create(conn, "analyze", None, {"documents": []}, status="succeeded")
        training = jobs.create(conn, "train", "p", {}, status="succeeded")
        recent_training = jobs.create(conn, "train", "p", {}, status="failed")
        queued_training = jobs.create(conn, "train", "p", {}, status="notStarted")
        for job in (expired, running, training, queued_training):
            records.update_job(conn, job["id"], {"expires_at": records.utcnow() - timedelta(minutes=1)})
    # until a runner's tidy deletes it, an expired job is not served either (it answered 200 for up to 10 minutes)
    with pytest.raises(OperationNotFound, match=f"The analyze job {expired['id']} expired at .*, with its results"):
        jobs.get(ctx, expired["id"], "analyze")
    runner = JobRunner(ctx)
    runner._tidy()  # what its heartbeat does every TIDY_EVERY_S
    with pytest.raises(OperationNotFound, match="could not be found"):
        jobs.get(ctx, expired["id"], "analyze")
    assert jobs.get(ctx, running["id"], "analyze")["status"] == "running"  # unfinished: kept
    assert jobs.get(ctx, fresh["id"], "analyze")["status"] == "succeeded"
    # an authoring job goes when its expirationDateTime (7 days) has passed, as it said it would: a soak of 216
    # projects left 1,729 of them, 1,513 of projects long deleted; one not finished stays
    with pytest.raises(OperationNotFound):
        jobs.get(ctx, training["id"], "train", "p")
    assert jobs.get(ctx, recent_training["id"], "train", "p")["status"] == "failed"
    assert jobs.get(ctx, queued_training["id"], "train", "p")["status"] == "notStarted"


def test_a_full_disk_is_said_so_with_the_file_it_was_writing():
    # "Training failed: OSError: [Errno 28] No space left on device" named neither the cause's place nor what to do
    import errno

    full = OSError(errno.ENOSPC, "No space left on device", "/srv/tagwise/models/p/m1/arrays.npz")
    assert crash_reason("Training", full) == (
        "Training failed: the disk is full writing /srv/tagwise/models/p/m1/arrays.npz. Free space for the data dir, the model "
        "store and the embedding cache (TAGWISE_DATA_DIR, TAGWISE_MODEL_STORE_DIR), then start it again.")
    assert crash_reason("Training", OSError(errno.ENOSPC, "No space left on device")).startswith("Training failed: the disk is full. ")


def test_every_task_of_an_analyze_job_naming_one_deployment_gets_one_model(tmp_path, monkeypatch, caplog):
    # a deploy that landed while a job ran answered its first task with the old model and its second
    # with the new one (1-2 of 18 jobs mixed under a redeploy)
    from tagwise.core import analyze, deployments, tagging, training
    from tagwise.core.context import Context
    from tagwise.settings import Settings

    caplog.set_level("INFO", logger="tagwise")
    ctx = Context.open(Settings(data_dir=tmp_path / "data", api_key="k"))
    try:
        tagging.create_project(ctx, "p", "CustomSingleLabelClassification", "en")
        texts = {"card": ["my card never arrived", "where is my new card", "card not delivered yet", "still waiting on my card",
                          "has my card been sent", "the card did not come"],
                 "fx": ["what is the exchange rate", "rate for euros to dollars", "how much is a pound in euros", "currency rate today",
                        "exchange rate for yen", "which rate do you use"]}
        tagging.add_documents(ctx, "p", [{"text": t, "labels": [label]} for label, ts in texts.items() for t in ts])
        for label in ("one", "two"):
            job = training.start(ctx, "p", {"modelLabel": label, "trainingConfigVersion": "linear"})
            training.run(ctx, job["id"], lambda _: None)
        deployments.deploy(ctx, "p", "prod", {"trainedModelLabel": "one"})
        real = analyze.classify_documents
        answered = []

        def then_redeploy(*args, **kwargs):
            results = real(*args, **kwargs)
            answered.append(results["trainedModelLabel"])
            if len(answered) == 1:  # the deploy lands between the two tasks
                deployments.deploy(ctx, "p", "prod", {"trainedModelLabel": "two"})
            return results

        monkeypatch.setattr(analyze, "classify_documents", then_redeploy)
        task = {"kind": "CustomSingleLabelClassification", "parameters": {"projectName": "p", "deploymentName": "prod"}}
        job = analyze.submit(ctx, {"analysisInput": {"documents": [{"id": "1", "text": "card?"}]},
                                   "tasks": [dict(task, taskName="a"), dict(task, taskName="b")]})
        with ctx.db.write() as conn:
            assert records.claim_jobs(conn, "analyze", "test", 1) == [job["id"]]
        analyze.run_job(ctx, job["id"])
        assert answered == ["one", "one"] and jobs.get(ctx, job["id"], "analyze")["status"] == "succeeded"
        # the same with a retrained label: its redeploy deletes the old model's folder while the job runs
        again = training.start(ctx, "p", {"modelLabel": "two", "trainingConfigVersion": "linear"})
        training.run(ctx, again["id"], lambda _: None)
        answered.clear()
        ctx.predictors.forget(deployments.lookup_deployment(ctx, "p", "prod")[2])  # not loaded yet, as in a fresh process
        job = analyze.submit(ctx, {"analysisInput": {"documents": [{"id": "1", "text": "card?"}]},
                                   "tasks": [dict(task, taskName="a"), dict(task, taskName="b")]})
        with ctx.db.write() as conn:
            assert records.claim_jobs(conn, "analyze", "test", 1) == [job["id"]]
        analyze.run_job(ctx, job["id"])
        assert len(set(answered)) == 1 and jobs.get(ctx, job["id"], "analyze")["status"] == "succeeded"
        assert analyze.classify(ctx, "p", "prod", ["card?"])[0]["name"] == "p"  # the deploy itself landed
        assert deployments.lookup_deployment(ctx, "p", "prod")[1]["model_label"] == "two"
        # the log says what each deployment serves from when on, and why a task failed (the job answers 200)
        two = deployments.lookup_deployment(ctx, "p", "prod")[2]
        said = [r.getMessage() for r in caplog.records]
        assert any(m.startswith("deployment p/prod now serves two (model two-") and ", in place of one (model one-" in m for m in said), said
        deployments.deploy(ctx, "p", "staging", {"trainedModelLabel": "one"})
        deployments.swap(ctx, "p", {"firstDeploymentName": "prod", "secondDeploymentName": "staging"})
        deployments.delete(ctx, "p", "staging")
        said = [r.getMessage() for r in caplog.records]
        assert any(m.startswith("deployments p/prod and staging swapped: prod now serves one (model one-") for m in said), said
        assert f"deployment p/staging deleted (it served two, model {two})" in said
        failed = analyze.submit(ctx, {"analysisInput": {"documents": [{"id": "1", "text": "card?"}]},
                                      "tasks": [dict(task, taskName="a", parameters={"projectName": "p", "deploymentName": "gone"})]})
        with ctx.db.write() as conn:
            assert records.claim_jobs(conn, "analyze", "test", 1) == [failed["id"]]
        analyze.run_job(ctx, failed["id"])
        assert any(r.levelname == "WARNING" and r.getMessage().startswith(f"analyze job {failed['id']}: task 0 (p/gone) failed: The deployment gone")
                   for r in caplog.records), [r.getMessage() for r in caplog.records]
        # what the process keeps to answer through a store outage goes with the deployment and the project (one entry
        # per name ever served stayed, deleted projects' rows in them: 3.6 kB a soak cycle)
        assert ("p", "staging") not in ctx.last_served and ("p", "prod") in ctx.last_served
        from tagwise.core import projects

        projects.delete(ctx, "p")
        assert not ctx.last_served
    finally:
        ctx.close()


@pytest.mark.parametrize("where", ["just after the claim", "before the training starts"])
def test_a_local_training_stopped_as_it_starts_fails_as_interrupted(ctx, banking, monkeypatch, where):
    # a SIGTERM that landed just after the claim's commit left the job running for good (a busy machine's full suite)
    from tagwise.core import cli_support, training
    from tagwise.core.documents import import_project
    from tests.api.conftest import SINGLE, project_file

    import_project(ctx, "bank", project_file("bank", SINGLE, banking["train"]))
    job = training.start(ctx, "bank", {"modelLabel": "m1", "trainingConfigVersion": "linear"})
    real_claim = cli_support.claim

    def stopped(*_args, **_kwargs):
        raise KeyboardInterrupt

    if where == "just after the claim":
        monkeypatch.setattr(cli_support, "claim", lambda c, j: real_claim(c, j) and stopped())
    else:
        monkeypatch.setattr(jobs, "progress_recorder", stopped)
    with pytest.raises(KeyboardInterrupt):
        cli_support.claim_and_run(ctx, job["id"])
    ended = jobs.get(ctx, job["id"], "train")
    assert ended["status"] == "failed" and ended["errors"][0]["message"] == cli_support.INTERRUPTED
