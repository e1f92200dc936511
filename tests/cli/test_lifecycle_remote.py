"""The same lifecycle against a running server (``--endpoint``/``--key``), over real HTTP."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.cli.conftest import (
    check_delete_documents_command,
    check_documents_command,
    check_model_and_deployment_commands,
    make_cli,
    ok,
    partly,
    write_jsonl,
)
from tests.support.live_server import live_server


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with live_server(tmp_path_factory.mktemp("server") / "data") as running:
        yield running


@pytest.fixture
def remote(server, tmp_path):
    # TAGWISE_DATA_DIR points at an empty folder: nothing may be read or written locally.
    return make_cli({"TAGWISE_ENDPOINT": server.url, "TAGWISE_API_KEY": server.key, "TAGWISE_DATA_DIR": str(tmp_path / "unused")})


def test_remote_lifecycle(remote, server, bank, tmp_path):
    ok(remote("project", "create", "bank", "--kind", "single", "--language", "en"))
    assert "bank" in ok(remote("project", "list")).stdout
    ok(remote("import", "bank", str(bank.path("train.jsonl")), "--split", "train"))
    ok(remote("import", "bank", str(bank.path("test.jsonl")), "--split", "test", "--append"))

    trained = ok(remote("train", "bank", "--model", "v1", "--recipe", "linear", "--manual-split"))
    assert "on 40 test documents" in trained.stdout
    summary = json.loads(ok(remote("evaluate", "bank", "--model", "v1", "--json")).stdout)
    assert set(summary["customSingleLabelClassificationEvaluation"]["classes"]) == set(bank.classes)
    assert "confusion matrix" in ok(remote("evaluate", "bank", "--model", "v1")).stdout

    ok(remote("deploy", "bank", "prod", "--model", "v1"))
    assert "prod" in ok(remote("project", "show", "bank")).stdout
    out = tmp_path / "out.jsonl"
    ok(remote("classify", "bank", "prod", str(bank.path("queries.txt")), "-o", str(out), "--batch-size", "16"))
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == len(bank.test) and all(r["predictions"][0]["category"] in bank.classes for r in rows)
    concurrent = tmp_path / "concurrent.jsonl"
    ok(remote("classify", "bank", "prod", str(bank.path("queries.txt")), "-o", str(concurrent), "--batch-size", "7", "--jobs", "3"))
    assert concurrent.read_text() == out.read_text()

    exported = tmp_path / "bank.json"
    ok(remote("export", "bank", "-o", str(exported)))
    assert len(json.loads(exported.read_text())["assets"]["documents"]) == len(bank.train) + len(bank.test)
    ok(remote("import", "bank", str(bank.path("test.jsonl")), "--split", "test"))  # the project moves on: test documents only
    of_v1 = tmp_path / "bank-v1.json"
    ok(remote("export", "bank", "--model", "v1", "-o", str(of_v1)))  # what v1 was trained and tested on
    datasets = [d["dataset"] for d in json.loads(of_v1.read_text())["assets"]["documents"]]
    assert datasets.count("Train") == len(bank.train) and datasets.count("Test") == len(bank.test) == 40
    ok(remote("project", "delete", "bank", "--yes"))
    gone = remote("project", "show", "bank")
    assert gone.exit_code == 1 and gone.stderr.startswith("error: The project bank could not be found")
    assert not (tmp_path / "unused").exists()


def test_remote_and_local_classify_agree(remote, deployed, bank, tmp_path):
    """Export the local project, import it on the server, train the same recipe: same predictions."""
    exported = tmp_path / "bank.json"
    ok(deployed.cli("export", "bank", "-o", str(exported)))
    ok(remote("import", "same", str(exported)))
    ok(remote("train", "same", "--model", "v1", "--recipe", "linear"))
    ok(remote("deploy", "same", "prod", "--model", "v1"))
    local = ok(deployed.cli("classify", "bank", "prod", str(bank.path("queries.txt")))).stdout
    there = ok(remote("classify", "same", "prod", str(bank.path("queries.txt")))).stdout
    assert local == there


def test_wrong_key_is_one_error_line(server, tmp_path):
    bad = make_cli({"TAGWISE_ENDPOINT": server.url, "TAGWISE_API_KEY": "wrong", "TAGWISE_DATA_DIR": str(tmp_path)})
    result = bad("project", "list")
    assert result.exit_code == 1 and result.stderr.startswith("error: Access denied")


def test_no_wait_returns_the_operation_url(remote, bank):
    ok(remote("import", "quick", str(bank.path("train.jsonl")), "--kind", "single"))
    queued = ok(remote("train", "quick", "--model", "v1", "--recipe", "linear", "--no-wait"))
    assert "/train/jobs/" in queued.stdout
    job_id = queued.stdout.strip().split("/train/jobs/")[1].split("?")[0]
    # the id too, which an SDK sample's TRAINING_JOB_ID wants (it was cut out of the URL by hand)
    assert f"queued training of quick/v1 (job id {job_id}): the server runs it; tagwise train quick --follow follows it" in queued.stderr
    # The server's runner may already have finished the job: then there is nothing to cancel.
    cancelled = ok(remote("train", "quick", "--cancel")).stderr
    assert f"training job {job_id}" in cancelled or "no training of quick is queued or running" in cancelled
    busy = remote("train", "quick", "--model", "v2", "--recipe", "linear", "--no-wait")
    assert busy.exit_code == 0 or "tagwise train quick --cancel" in busy.stderr


def test_remote_service_errors_are_one_line(remote):
    result = remote("train", "nowhere", "--model", "v1")
    assert result.exit_code == 1 and result.stderr.strip() == "error: The project nowhere could not be found."


@pytest.mark.parametrize("limit", [{"TAGWISE_MAX_SYNC_DOCUMENTS": "10"}, {"TAGWISE_MAX_SYNC_CHARACTERS": "500"}], ids=["documents", "characters"])
def test_classify_keeps_to_a_servers_smaller_limits(deployed, bank, tmp_path, limit):
    """A server started with TAGWISE_MAX_SYNC_DOCUMENTS=10 gets the 1,000-document batches in requests of 10;
    one with TAGWISE_MAX_SYNC_CHARACTERS=500 in requests of at most 500 characters."""
    data = tmp_path / "data"
    shutil.copytree(deployed.data_dir, data)
    with live_server(data, env=limit) as server:
        remote = make_cli({"TAGWISE_ENDPOINT": server.url, "TAGWISE_API_KEY": server.key, "TAGWISE_DATA_DIR": str(tmp_path / "unused")})
        out, concurrent = tmp_path / "out.jsonl", tmp_path / "concurrent.jsonl"
        ok(remote("classify", "bank", "prod", str(bank.path("test.jsonl")), "-o", str(out), "--top", "2"))
        ok(remote("classify", "bank", "prod", str(bank.path("test.jsonl")), "-o", str(concurrent), "--top", "2",
                  "--batch-size", "25", "--jobs", "2"))
    local = ok(deployed.cli("classify", "bank", "prod", str(bank.path("test.jsonl")), "--top", "2")).stdout
    assert len(bank.test) > 10 and out.read_text() == local and concurrent.read_text() == local


def test_a_classify_that_fails_leaves_no_empty_output(deployed, bank, tmp_path):
    out = tmp_path / "out.jsonl"
    result = deployed.cli("classify", "bank", "nowhere", str(bank.path("queries.txt")), "-o", str(out))
    assert result.exit_code == 1 and "deployment nowhere could not be found" in result.stderr
    assert not out.exists()


def test_a_document_longer_than_a_servers_request_limit_is_its_own_error(deployed, tmp_path):
    # the whole run stopped ("The documents have 200 characters in all; the limit is 100 per request")
    data = tmp_path / "data"
    shutil.copytree(deployed.data_dir, data)
    path = write_jsonl(tmp_path / "in.jsonl", [{"id": "a", "text": "card " * 10}, {"id": "b", "text": "card " * 40},
                                               {"id": "c", "text": "lost card"}])
    with live_server(data, env={"TAGWISE_MAX_SYNC_CHARACTERS": "100"}) as server:
        remote = make_cli({"TAGWISE_ENDPOINT": server.url, "TAGWISE_API_KEY": server.key, "TAGWISE_DATA_DIR": str(tmp_path / "unused")})
        rows = [json.loads(line) for line in partly(remote("classify", "bank", "prod", str(path))).stdout.splitlines()]
    assert [r["id"] for r in rows] == ["a", "b", "c"] and rows[0]["predictions"] and rows[2]["predictions"]
    assert "too long for one request to this server: 200 characters, it takes at most 100" in rows[1]["error"]


def test_models_and_deployments_can_be_swapped_and_deleted_remotely(remote, bank):
    check_model_and_deployment_commands(remote, bank)


def test_a_projects_documents_are_listed_remotely(remote, bank):
    check_documents_command(remote, bank)


def test_documents_are_deleted_by_location_remotely(remote, bank, tmp_path):
    check_delete_documents_command(remote, bank, tmp_path)


def test_a_server_behind_a_proxy_is_driven_from_its_own_host(deployed, bank, tmp_path):
    # with TAGWISE_PUBLIC_URL set, `train` and `export` on the server's host failed their first poll
    # ("cannot reach the tagwise server at http://127.0.0.1:...", naming the host that did answer)
    # while the training went on: the job URLs name the public address, unknown on that host
    data = tmp_path / "data"
    shutil.copytree(deployed.data_dir, data)
    with live_server(data, env={"TAGWISE_PUBLIC_URL": "https://tagwise.invalid/prefix"}) as server:
        remote = make_cli({"TAGWISE_ENDPOINT": server.url, "TAGWISE_API_KEY": server.key, "TAGWISE_DATA_DIR": str(tmp_path / "unused")})
        assert "trained bank/v2" in ok(remote("train", "bank", "--model", "v2", "--recipe", "linear")).stdout
        exported = json.loads(ok(remote("export", "bank", "-o", "-")).stdout)
        assert len(exported["assets"]["documents"]) == len(bank.train)


def test_a_remote_training_outlives_a_restart_of_its_server(datasets, tmp_path):
    # a nightly script's `tagwise train` ended in "cannot reach the tagwise server" at the first refused poll while the
    # server restarted, though the server queued the training again and finished it; the script's retry got "already
    # training", and no command could follow the job
    import os
    import subprocess
    import sys
    import time

    import httpx

    data = tmp_path / "data"
    with live_server(data) as first:
        port, key = int(first.url.rsplit(":", 1)[1]), first.key
        remote = make_cli({"TAGWISE_ENDPOINT": first.url, "TAGWISE_API_KEY": key, "TAGWISE_DATA_DIR": str(tmp_path / "unused")})
        ok(remote("import", "bank", str(datasets / "banking77" / "train.jsonl"), "--kind", "single"))
        env = {**os.environ, "TAGWISE_ENDPOINT": first.url, "TAGWISE_API_KEY": key, "TAGWISE_DATA_DIR": str(tmp_path / "unused")}
        train = subprocess.Popen([sys.executable, "-m", "tagwise", "train", "bank", "--model", "v1", "--recipe", "linear"],
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        jobs = f"{first.url}/language/authoring/analyze-text/projects/bank/train/jobs"
        deadline = time.monotonic() + 60
        while not any(j["status"] == "running" for j in httpx.get(jobs, params={"api-version": "2023-04-01"},
                                                                   headers={"Ocp-Apim-Subscription-Key": key}).json()["value"]):
            assert time.monotonic() < deadline and train.poll() is None, train.communicate()
            time.sleep(0.2)
    time.sleep(2)  # the server is down: the command's polls are refused
    try:
        with live_server(data, key=key, port=port):  # started again: it queues the training again and finishes it
            out, err = train.communicate(timeout=180)
    finally:
        if train.poll() is None:
            train.kill()
    assert train.returncode == 0, err
    assert "note: cannot reach the tagwise server" in err and "asking again for up to 30 s" in err
    assert out.startswith("trained bank/v1")


def test_a_remote_training_interrupted_says_the_server_goes_on(remote, server, datasets, tmp_path):
    # Ctrl-C on a remote `tagwise train` printed "interrupted" (exit 130) while the server trained on, and the on-call
    # person's next train was refused "already training"
    import os
    import signal
    import subprocess
    import sys
    import time

    import httpx

    ok(remote("import", "intr", str(datasets / "banking77" / "train.jsonl"), "--kind", "single"))
    env = {**os.environ, "TAGWISE_ENDPOINT": server.url, "TAGWISE_API_KEY": server.key, "TAGWISE_DATA_DIR": str(tmp_path / "unused")}
    train = subprocess.Popen([sys.executable, "-m", "tagwise", "train", "intr", "--model", "v1", "--recipe", "linear"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509 - one disposition
    jobs = f"{server.url}/language/authoring/analyze-text/projects/intr/train/jobs"
    try:
        deadline = time.monotonic() + 60
        while not any(j["status"] == "running" for j in httpx.get(jobs, params={"api-version": "2023-04-01"},
                                                                   headers={"Ocp-Apim-Subscription-Key": server.key}).json()["value"]):
            assert time.monotonic() < deadline and train.poll() is None, train.communicate()
            time.sleep(0.2)
        time.sleep(0.5)  # the command follows the job
        train.send_signal(signal.SIGINT)
        _out, err = train.communicate(timeout=60)
    finally:
        if train.poll() is None:
            train.kill()
    assert train.returncode == 130 and ("note: the server goes on training intr/v1; tagwise train intr --follow follows it "
                                        "again, tagwise train intr --cancel stops it") in err
    # --follow: back to the job (a script could queue with --no-wait, or lose its command, and not wait for the end)
    followed = ok(remote("train", "intr", "--follow"))
    assert followed.stdout.startswith("trained intr/v1 in ")
    nothing = remote("train", "intr", "--follow")
    assert nothing.exit_code == 1 and "no training of intr is queued or running" in nothing.stderr
