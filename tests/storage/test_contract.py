"""The store's contract, run against SQLite and a real PostgreSQL (``store`` is parametrized).

Whatever the backend: migrations are recorded and re-runnable by several processes at once,
a failed transaction leaves nothing, values round-trip (JSON null vs [], aware UTC datetimes,
Unicode), and a queued job is claimed by exactly one of many competing processes.
"""

from __future__ import annotations

import json
import multiprocessing
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tagwise.core import jobs
from tagwise.storage import document_records, records
from tagwise.storage.records import utcnow

HEAD = "0011_tag_confirmations"


def project_values(name: str = "p") -> dict:
    now = utcnow()
    return {"name": name, "kind": "CustomSingleLabelClassification", "language": "en", "multilingual": False, "description": None,
            "storage_container": "c", "settings": {"confidenceThreshold": 0.25}, "classes": ["a", "b"], "created_at": now, "modified_at": now}


def test_migrations_are_recorded_and_idempotent(store):
    with store.db.read() as conn:
        assert conn.execute(text("select version_num from alembic_version")).scalar_one() == HEAD
    store.db.migrate()  # a second start changes nothing
    with store.db.read() as conn:
        assert conn.execute(text("select count(*) from alembic_version")).scalar_one() == 1


def test_an_older_store_upgrades_keeping_its_data(backend_url, tmp_path):
    # a store written by an earlier tagwise (schema 0002) is brought to head on start, losing nothing
    from tagwise.core import keys
    from tagwise.core.context import Context
    from tagwise.settings import Settings
    from tagwise.storage.db import Database

    settings = Settings(data_dir=tmp_path / "old", api_key="k", database_url=backend_url)
    old = Database(settings.resolved_database_url)
    old.migrate("0002_keys_and_heartbeats")
    with old.write() as conn:
        records.insert_project(conn, project_values("kept"))
        records.insert_api_key(conn, {"id": "kold", "name": "old", "role": keys.AUTHORING, "key_hash": keys.digest("s"),
                                      "prefix": "s", "rate_limit_per_minute": None, "created_at": utcnow(), "revoked_at": None})
    old.dispose()
    context = Context.open(settings)
    try:
        assert context.upgraded == ("0002_keys_and_heartbeats", HEAD)  # what the CLI tells its user
        with context.db.read() as conn:
            assert conn.execute(text("select version_num from alembic_version")).scalar_one() == HEAD
            assert [p["name"] for p in records.list_projects(conn)] == ["kept"]
        assert keys.verify(context, "s").id == "kold"
    finally:
        context.close()


def test_documents_stored_before_0006_are_found_without_their_accents(backend_url, tmp_path, caplog):
    # migration 0006 folds the texts already stored (in batches), so "nino" finds an older "niño"
    import logging

    from tagwise.core.context import Context
    from tagwise.settings import Settings
    from tagwise.storage import document_records
    from tagwise.storage.db import Database

    settings = Settings(data_dir=tmp_path / "old", api_key="k", database_url=backend_url)
    old = Database(settings.resolved_database_url)
    old.migrate("0005_document_list_indexes")
    texts = ["El NIÑO llegó tarde", "plain ascii", "Les États-Unis"] * 1_500  # more than one batch
    with old.write() as conn:
        project_id = records.insert_project(conn, project_values("old"))
        conn.execute(text("insert into documents (project_id, location, text, labels) values (:p, :l, :t, '[]')"),
                     [{"p": project_id, "l": f"d{i}.txt", "t": t} for i, t in enumerate(texts)])
    old.dispose()
    with caplog.at_level(logging.INFO, logger="tagwise.storage.db"):
        context = Context.open(settings)
    try:
        # a big store takes a while to upgrade: the log says what is going on
        assert f"upgrading the store's schema from 0005_document_list_indexes to {HEAD}" in caplog.text
        assert f"the store's schema is at {HEAD} (" in caplog.text
        with context.db.read() as conn:
            found = {q: document_records.page(conn, project_id, document_records.DocumentFilter(search=q), 1, 0)[1]
                     for q in ("nino", "etats", "ASCII")}
            assert conn.execute(text("select count(*) from documents where search_text is null")).scalar_one() == 1_500
        assert found == {"nino": 1_500, "etats": 1_500, "ASCII": 1_500}
        # an older tagwise still running during the upgrade writes texts without their search form: a job
        # runner's first heartbeat (serve, worker) folds them, in batches that hold no lock while reading
        from tagwise.jobs.runner import JobRunner

        with context.db.write() as conn:
            conn.execute(text("update documents set search_text = null where location in ('d0.txt', 'd2.txt')"))
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="tagwise.jobs"):
            JobRunner(context)._tidy()
        assert "2 documents had no search form" in caplog.text
        with context.db.read() as conn:
            assert document_records.page(conn, project_id, document_records.DocumentFilter(search="nino"), 1, 0)[1] == 1_500
        assert context.db.fold_missing() == 0
    finally:
        context.close()


def _migrate(url: str) -> str:
    from tagwise.storage.db import Database

    db = Database(url)
    try:
        db.migrate()
        return "ok"
    finally:
        db.dispose()


def test_several_processes_migrate_a_new_database_at_once(backend_url, tmp_path):
    from tagwise.settings import Settings

    url = Settings(data_dir=tmp_path / "fresh", database_url=backend_url).resolved_database_url
    # spawn, not fork: forking a process that has threads (earlier tests leave some) can deadlock the child
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        assert pool.map(_migrate, [url] * 4) == ["ok"] * 4


def test_a_failed_write_leaves_nothing(store):
    with pytest.raises(RuntimeError), store.db.write() as conn:
        records.insert_project(conn, project_values())
        raise RuntimeError("crash in the middle")
    with store.db.read() as conn:
        assert records.get_project(conn, "p") is None


def test_a_constraint_violation_rolls_back_the_whole_transaction(store):
    with store.db.write() as conn:
        project_id = records.insert_project(conn, project_values())
    rows = [{"location": "a.txt", "text": "one", "language": "en", "dataset": None, "labels": ["a"]}]
    with store.db.write() as conn:
        records.replace_documents(conn, project_id, rows)
    with pytest.raises(IntegrityError), store.db.write() as conn:
        records.update_project(conn, project_id, {"description": "changed"})
        records.replace_documents(conn, project_id, rows * 2)  # the same location twice
    with store.db.read() as conn:
        assert records.get_project(conn, "p")["description"] is None
        assert [d["location"] for d in records.list_documents(conn, project_id)] == ["a.txt"]


def test_values_round_trip(store):
    with store.db.write() as conn:
        project_id = records.insert_project(conn, project_values())
        records.replace_documents(conn, project_id, [
            {"location": "untagged.txt", "text": "ünïcödé ✓ 中文", "language": "en", "dataset": None, "labels": None},
            {"location": "none.txt", "text": "x", "language": None, "dataset": "Test", "labels": []},
            {"location": "two.txt", "text": "y", "language": "en", "dataset": "Train", "labels": ["b", "a"]},
        ])
    with store.db.read() as conn:
        project = records.get_project(conn, "p")
        docs = {d["location"]: d for d in records.list_documents(conn, project_id)}
        assert records.count_documents(conn, project_id) == 3
    assert project["settings"] == {"confidenceThreshold": 0.25} and project["classes"] == ["a", "b"]
    assert project["created_at"].utcoffset() == timedelta(0)
    assert abs(project["created_at"] - utcnow()) < timedelta(minutes=1)
    assert docs["untagged.txt"]["labels"] is None and docs["untagged.txt"]["text"] == "ünïcödé ✓ 中文"
    assert docs["none.txt"]["labels"] == [] and docs["none.txt"]["dataset"] == "Test"
    assert docs["two.txt"]["labels"] == ["b", "a"]
    with store.db.write() as conn:  # past one streamed batch (2,000 rows), on either backend
        document_records.insert_many(conn, project_id, [{"location": f"n{i}", "text": f"text {i}", "language": None, "dataset": None,
                                                         "labels": None} for i in range(2_100)])
    with store.db.read() as conn:  # the studio's note on an upload's copies
        found = document_records.texts_present(conn, project_id, ["x", "ünïcödé ✓ 中文", "X", "z", "text 2099", "text 0"])
        assert found == {"x", "ünïcödé ✓ 中文", "text 2099", "text 0"}


def test_models_deployments_and_cascading_delete(store):
    now = utcnow()
    with store.db.write() as conn:
        project_id = records.insert_project(conn, project_values())
        model = {"label": "m1", "model_id": "m1-x", "recipe": "linear", "config_version": "linear", "trained_at": now, "duration_s": 1.5,
                 "artifact": "/x", "evaluation": {"microF1": 1.0}, "evaluation_results": []}
        records.upsert_model(conn, project_id, model)
        records.upsert_model(conn, project_id, dict(model, model_id="m1-y"))  # retraining a label replaces it
        deployment = {"name": "prod", "model_label": "m1", "model_id": "m1-y", "trained_at": now, "config_version": "linear", "deployed_at": now}
        records.upsert_deployment(conn, project_id, deployment)
        records.upsert_deployment(conn, project_id, dict(deployment, model_id="m1-z"))
    with store.db.read() as conn:
        assert [m["model_id"] for m in records.list_models(conn, project_id)] == ["m1-y"]
        assert [d["model_id"] for d in records.list_deployments(conn, project_id)] == ["m1-z"]
    with store.db.write() as conn:
        records.delete_project(conn, project_id)
    with store.db.read() as conn:
        assert records.list_models(conn, project_id) == [] and records.list_deployments(conn, project_id) == []


def test_a_models_snapshot_is_kept_compressed_and_older_ones_still_read(store):
    # a copy of every text per model label took 78 MB of the SQLite file per training of a 300,000-document project
    from tagwise.storage.tables import model_snapshots

    data = {"classes": ["a"], "documents": [{"location": f"d{i}.txt", "text": f"my card number {i} was charged twice, please refund",
                                             "dataset": "Train", "labels": ["a"]} for i in range(2000)]}
    with store.db.write() as conn:
        project_id = records.insert_project(conn, project_values())
        records.put_model_snapshot(conn, project_id, "m1", "m1-x", data)
        conn.execute(model_snapshots.insert().values(project_id=project_id, label="old", model_id="old-x", data=data))  # as written before
    with store.db.read() as conn:
        assert records.get_model_snapshot(conn, project_id, "m1", "m1-x") == data
        assert records.get_model_snapshot(conn, project_id, "old", "old-x") == data
        stored = conn.execute(text("select data from model_snapshots where label = 'm1'")).scalar_one()
    assert len(str(stored)) < len(json.dumps(data)) / 4


def test_blobs(store):
    with store.db.write() as conn:
        assert records.put_blob(conn, "c", "a.txt", "first") is True
        assert records.put_blob(conn, "c", "a.txt", "second ✓") is False
        records.put_blob(conn, "c", "b.txt", "bb")
    with store.db.read() as conn:
        assert records.get_blob(conn, "c", "a.txt") == "second ✓"
        assert records.get_blobs(conn, "c", ["a.txt", "missing"]) == {"a.txt": "second ✓"}
        assert [b["location"] for b in records.list_blobs(conn, "c")] == ["a.txt", "b.txt"]
    with store.db.write() as conn:
        assert records.delete_blob(conn, "c", "a.txt") and not records.delete_blob(conn, "c", "a.txt")


def test_job_status_changes_are_conditional(store):
    with store.db.write() as conn:
        job = jobs.create(conn, "train", "p", {"modelLabel": "m"})
    with store.db.write() as conn:
        assert records.update_job(conn, job["id"], {"status": "running"}, only_if_status=("notStarted",))
        assert not records.update_job(conn, job["id"], {"status": "running"}, only_if_status=("notStarted",))
        records.heartbeat(conn, [job["id"]])
    with store.db.read() as conn:
        stored = records.get_job(conn, job["id"])
    assert stored["status"] == "running" and stored["payload"] == {"modelLabel": "m"} and stored["heartbeat_at"] is not None


def test_a_projects_jobs_are_those_since_it_was_created(store):
    # jobs name their project: a project deleted and created again under its name listed the old one's trainings
    with store.db.write() as conn:
        old_id = records.insert_project(conn, project_values())
        old = jobs.create(conn, "train", "p", {"modelLabel": "old"})
        jobs.create(conn, "train", "other", {"modelLabel": "x"})
    with store.db.write() as conn:
        records.delete_project(conn, old_id)
    with store.db.read() as conn:
        assert records.list_jobs(conn, "train", "p") == []  # no project of that name, no jobs
        assert records.get_job(conn, old["id"])["status"] == "notStarted"  # hidden, not deleted: a training still stopping reads it
    with store.db.write() as conn:
        records.insert_project(conn, project_values())
        new = jobs.create(conn, "train", "p", {"modelLabel": "new"})
    with store.db.read() as conn:
        assert [j["id"] for j in records.list_jobs(conn, "train", "p")] == [new["id"]]
        assert {j["payload"]["modelLabel"] for j in records.list_jobs(conn, "train")} == {"old", "x", "new"}


def test_jobs_and_deployments_are_counted_for_the_metrics(store):
    now = utcnow()
    with store.db.write() as conn:
        for kind, status in [("train", "notStarted"), ("train", "notStarted"), ("train", "running"), ("analyze", "notStarted"),
                             ("analyze", "succeeded"), ("import", "succeeded")]:
            jobs.create(conn, kind, "p", {}, status=status)
        project_id = records.insert_project(conn, project_values())
        for name in ("prod", "staging"):
            records.upsert_deployment(conn, project_id, {"name": name, "model_label": "m1", "model_id": "m1-x", "trained_at": now,
                                                         "config_version": "linear", "deployed_at": now})
    with store.db.read() as conn:
        counts = records.count_jobs(conn, ("train", "analyze"), ("notStarted", "running", "cancelling"))
        assert counts == {("train", "notStarted"): 2, ("train", "running"): 1, ("analyze", "notStarted"): 1}
        assert records.count_deployments(conn) == 2


def _claim_all(args: tuple[str, str]) -> list[str]:
    url, worker = args
    from tagwise.storage import records
    from tagwise.storage.db import Database

    db = Database(url)
    mine: list[str] = []
    try:
        while True:
            with db.write() as conn:
                got = records.claim_jobs(conn, "analyze", worker, limit=3)
            if not got:
                return mine
            mine.extend(got)
    finally:
        db.dispose()


def test_each_job_is_claimed_by_exactly_one_of_several_processes(store):
    with store.db.write() as conn:
        created = [jobs.create(conn, "analyze", None, {"documents": [], "tasks": []})["id"] for _ in range(120)]
        jobs.create(conn, "train", "p", {})  # another kind: not claimed
    # spawn, not fork: forking a process that has threads (earlier tests leave some) can deadlock the child
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        claims = pool.map(_claim_all, [(store.db.url, f"w{i}") for i in range(4)])
    claimed = [job_id for part in claims for job_id in part]
    assert sorted(claimed) == sorted(created), "every job claimed, none twice"
    with store.db.read() as conn:
        owners = {records.get_job(conn, job_id)["claimed_by"] for job_id in created}
        assert all(records.get_job(conn, j)["status"] == "running" for j in created)
    assert owners <= {"w0", "w1", "w2", "w3"}


def test_api_keys_are_found_by_hash_until_revoked(store):
    with store.db.write() as conn:
        records.insert_api_key(conn, {"id": "k1", "name": "ci", "role": "runtime", "key_hash": "h" * 64, "prefix": "abc123",
                                      "rate_limit_per_minute": None, "created_at": utcnow(), "revoked_at": None})
    with store.db.read() as conn:
        assert records.find_api_key(conn, "h" * 64)["role"] == "runtime"
    with store.db.write() as conn:
        assert records.revoke_api_key(conn, "k1") and not records.revoke_api_key(conn, "k1")
    with store.db.read() as conn:
        assert records.find_api_key(conn, "h" * 64) is None
        assert records.list_api_keys(conn)[0]["revoked_at"] is not None


def test_concurrent_requests_on_one_project_keep_its_rules(store, banking):
    """Twelve trainings, eight creations and twelve deploys at once, from threads with their own
    connections: one training starts and the others get the 409 (PostgreSQL started two: the check
    and the insert ran in parallel); every creation answers (one creates, the rest merge; PostgreSQL
    answered one with a 500 from the unique name); at most 10 deployments exist."""
    import threading

    from tagwise.core import deployments, projects, training
    from tagwise.core.documents import import_project
    from tagwise.errors import Conflict, InvalidArgument, QuotaError
    from tests.api.conftest import SINGLE, project_file

    def at_once(n: int, action) -> list:
        barrier, outcomes = threading.Barrier(n), []

        def run(i: int) -> None:
            barrier.wait()
            try:
                outcomes.append(action(i))
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                outcomes.append(exc)

        threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return outcomes

    body = {"projectKind": SINGLE, "language": "en", "storageInputContainerName": "c"}
    created = at_once(8, lambda i: projects.upsert(store, "newp", dict(body, description=f"from {i}"))[1])
    assert sorted(created) == [False] * 7 + [True], created
    store.settings.max_projects = 4  # newp and three of these eight; PostgreSQL let them all count 1 at once
    others = at_once(8, lambda i: projects.upsert(store, f"p{i}", body)[1])
    assert others.count(True) == 3 and sum(isinstance(o, QuotaError) for o in others) == 5, others
    store.settings.max_projects = 100

    import_project(store, "bank", project_file("bank", SINGLE, banking["train"]))
    started = at_once(12, lambda i: training.start(store, "bank", {"modelLabel": f"m{i}", "trainingConfigVersion": "linear"}))
    assert sum(isinstance(o, dict) for o in started) == 1 and sum(isinstance(o, Conflict) for o in started) == 11, started

    [job] = [o for o in started if isinstance(o, dict)]
    with store.db.write() as conn:
        records.claim_jobs(conn, "train", "test", 1)
    training.run(store, job["id"], lambda _percent: None)
    label = job["payload"]["modelLabel"]
    deployed = at_once(12, lambda i: deployments.deploy(store, "bank", f"d{i}", {"trainedModelLabel": label}))
    assert sum(isinstance(o, dict) for o in deployed) == 10 and sum(isinstance(o, InvalidArgument) for o in deployed) == 2, deployed


def test_a_store_written_by_a_newer_tagwise_is_refused_in_one_line(backend_url, tmp_path):
    # a rollback after an upgrade: alembic's "Can't locate revision" came as a 290-line traceback
    from tagwise.core.context import Context
    from tagwise.errors import StoreUnavailable
    from tagwise.settings import Settings

    settings = Settings(data_dir=tmp_path / "newer", api_key="k", database_url=backend_url)
    Context.open(settings).close()
    store = Context(settings)
    with store.db.write() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_from_the_future'"))
    store.close()
    with pytest.raises(StoreUnavailable) as refused:
        Context.open(settings)
    assert "a newer tagwise wrote it (schema revision 0099_from_the_future; this version knows up to " + HEAD in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_keys_unfinished_analyze_jobs_are_counted_and_capped(store):
    # on PostgreSQL the count takes an advisory lock on the key, so that two submits at once cannot both pass the cap
    from tagwise.core import analyze
    from tagwise.errors import TooManyRequests

    store.settings.max_pending_jobs_per_key = 2
    body = {"analysisInput": {"documents": [{"id": "1", "text": "where is my card"}]},
            "tasks": [{"kind": "CustomSingleLabelClassification", "parameters": {"projectName": "p", "deploymentName": "d"}}]}
    analyze.submit(store, body, "k1")
    analyze.submit(store, body, "k1")
    with pytest.raises(TooManyRequests, match="This API key has 2 analyze jobs waiting or running"):
        analyze.submit(store, body, "k1")
    analyze.submit(store, body, "k2")  # another key's share
    with store.db.read() as conn:
        assert records.count_unfinished(conn, "analyze", "k1") == 2 and records.count_unfinished(conn, "analyze", "k2") == 1
