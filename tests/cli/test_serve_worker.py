"""Processes: ``tagwise worker`` runs queued jobs without HTTP; ``tagwise serve --workers N`` serves from N
processes; a local ``tagwise train`` stopped by a signal fails its job."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from tests.cli.conftest import make_cli, ok
from tests.support.live_server import LiveServer, _wait_until_ready, free_port

pytestmark = pytest.mark.serial  # connect timeouts and start-up windows: make test runs it alone


def _jobs(data_dir) -> list[dict]:
    """The training jobs in the store, oldest first."""
    from tagwise.core import jobs
    from tagwise.core.context import Context
    from tagwise.settings import Settings

    ctx = Context.open(Settings(data_dir=data_dir))
    try:
        return jobs.list_for(ctx, "train")
    finally:
        ctx.close()


def _job_status(data_dir, job_id: str) -> str:
    return next(j["status"] for j in _jobs(data_dir) if j["id"] == job_id)


def test_worker_runs_a_queued_training_and_stops_on_sigterm(cli, bank, data_dir, tmp_path):
    ok(cli("import", "bank", str(bank.path("train.jsonl")), "--kind", "single"))
    job_id = ok(cli("train", "bank", "--model", "v1", "--recipe", "linear", "--no-wait")).stdout.strip()
    env = dict(os.environ, TAGWISE_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1", TAGWISE_LOG_LEVEL="info", TAGWISE_API_KEY="worker-key-0123456789")
    port = free_port()
    worker = subprocess.Popen([sys.executable, "-m", "tagwise", "worker", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while _job_status(data_dir, job_id) not in ("succeeded", "failed") and time.monotonic() < deadline:
            time.sleep(0.3)
        assert _job_status(data_dir, job_id) == "succeeded"
        # with --port it answers a probe and a scrape: a worker was alive or not for all anyone could tell,
        # and the trainings it ran were in no counter
        base = f"http://127.0.0.1:{port}"
        health = httpx.get(f"{base}/health", timeout=10)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        assert httpx.get(f"{base}/metrics", timeout=10).status_code == 401
        def scrape() -> httpx.Response:
            return httpx.get(f"{base}/metrics", headers={"Authorization": "Bearer worker-key-0123456789"}, timeout=10)

        counted = 'tagwise_training_jobs_total{status="succeeded"} 1.0'
        deadline = time.monotonic() + 10  # counted just after the job's end is recorded
        while counted not in (scraped := scrape()).text and time.monotonic() < deadline:
            time.sleep(0.2)
        assert scraped.status_code == 200 and counted in scraped.text, [line for line in scraped.text.splitlines() if "training" in line]
        assert "process_resident_memory_bytes" in scraped.text  # the worker's own memory: its trainings' children are not in it
        missing = httpx.get(f"{base}/language/authoring/analyze-text/projects", timeout=10)  # no API here, and no /docs to point to
        assert missing.status_code == 404 and "serves GET /health and GET /metrics only" in missing.json()["error"]["message"]
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0 and "worker stopped" in output
    # it names the store it takes jobs from: a worker left without TAGWISE_DATABASE_URL said only "data dir"
    assert f"running jobs of SQLite {(data_dir / 'tagwise.db').resolve()}" in output
    # TAGWISE_LOG_LEVEL reaches tagwise's own loggers: the job's start and end are in the log
    assert f"tagwise.jobs[{worker.pid}]: training job {job_id} started" in output  # and which process ran it
    assert f"tagwise.jobs[{worker.pid}]: training job {job_id} (project 'bank') succeeded after" in output
    assert "accuracy" in ok(cli("evaluate", "bank", "--model", "v1")).stdout


def test_serve_with_two_workers(tmp_path):
    data, key, port = tmp_path / "data", secrets.token_hex(8), free_port()
    env = dict(os.environ, TAGWISE_DATA_DIR=str(data), TAGWISE_API_KEY=key, HF_HUB_OFFLINE="1")
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen([sys.executable, "-m", "tagwise", "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
                                   env=env, stdout=sink, stderr=subprocess.STDOUT)
    server = LiveServer(f"http://127.0.0.1:{port}", key, data, process, log)
    try:
        _wait_until_ready(server, 60)
        remote = make_cli({"TAGWISE_ENDPOINT": server.url, "TAGWISE_API_KEY": key, "TAGWISE_DATA_DIR": str(tmp_path / "unused")})
        for i in range(4):
            ok(remote("project", "create", f"p{i}", "--kind", "multi"))
        listed = ok(remote("project", "list")).stdout
        assert all(f"p{i}" in listed for i in range(4))
        # a rolling restart (kill -HUP): each worker replaced while the other serves, nothing refused.
        # At uvicorn's 5 s for a new worker to be ready, one under load replaced one worker of two, or none.
        statuses, stop = [], threading.Event()

        def keep_asking() -> None:
            # a request sent on a kept-alive connection just as its worker stops finds it closed (a fresh clone's run: one
            # "Server disconnected"); sent again, as the Azure SDKs do with a dropped connection, it is answered
            with httpx.Client(base_url=server.url, headers={"Ocp-Apim-Subscription-Key": key}, timeout=30) as client:
                while not stop.is_set():
                    for attempt in (1, 2):
                        try:
                            statuses.append(client.get("/language/authoring/analyze-text/projects",
                                                       params={"api-version": "2023-04-01"}).status_code)
                            break
                        except httpx.TransportError:
                            if attempt == 2:
                                statuses.append("dropped twice")

        asker = threading.Thread(target=keep_asking)
        asker.start()
        try:
            process.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 120
            while log.read_text().count("Finished server process") < 2:
                assert time.monotonic() < deadline and "not ready in time" not in log.read_text(), log.read_text()[-3000:]
                time.sleep(0.5)
        finally:
            stop.set()
            asker.join()
        assert log.read_text().count("Started server process") == 4 and statuses and set(statuses) == {200}
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert "Started parent process" in log.read_text() or "worker" in log.read_text().lower()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stopping_a_local_training_fails_its_job_instead_of_leaving_it_running(cli, datasets, data_dir, signum):
    ok(cli("import", "big", str(datasets / "banking77" / "train.jsonl"), "--kind", "single"))
    env = dict(os.environ, TAGWISE_DATA_DIR=str(data_dir), TAGWISE_ENDPOINT="", HF_HUB_OFFLINE="1")
    # a shell's background job (`make test &`) starts with SIGINT ignored, which a child inherits; a terminal's does not
    train = subprocess.Popen([sys.executable, "-m", "tagwise", "train", "big", "--model", "v1", "--recipe", "linear"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509 - sets one disposition, takes no lock
    try:
        deadline = time.monotonic() + 60
        while not _jobs(data_dir) or _jobs(data_dir)[0]["status"] != "running":
            assert time.monotonic() < deadline and train.poll() is None, train.communicate()
            time.sleep(0.1)
        train.send_signal(signum)
        _out, err = train.communicate(timeout=60)
    finally:
        if train.poll() is None:
            train.kill()
    [job] = _jobs(data_dir)
    assert train.returncode == 130 and err.strip().endswith("interrupted")
    assert job["status"] == "failed" and "interrupted" in job["errors"][0]["message"]


def test_a_local_training_stopped_between_its_queueing_and_its_claim_fails_and_the_next_one_runs(cli, bank, data_dir, monkeypatch):
    # a Ctrl-C 2 s after `tagwise train` (the recipes were imported between the queueing and the claim) left the job queued:
    # the next train was refused "already training" until someone ran --cancel
    from tagwise.cli.backends import LocalBackend
    from tagwise.core import cli_support

    ok(cli("import", "bank", str(bank.path("train.jsonl")), "--kind", "single"))
    queued = []

    def stopped(self, name, job, on_percent):
        queued.append(job)
        raise KeyboardInterrupt

    monkeypatch.setattr(LocalBackend, "wait_training", stopped)
    result = cli("train", "bank", "--model", "v1", "--recipe", "linear")
    assert result.exit_code == 130 and result.stderr.strip().endswith("interrupted")
    [job] = _jobs(data_dir)
    assert job["id"] == queued[0] and job["status"] == "failed" and job["errors"][0]["message"] == cli_support.INTERRUPTED
    monkeypatch.undo()
    ok(cli("train", "bank", "--model", "v1", "--recipe", "linear"))


@pytest.mark.parametrize("command", ["serve", "serve --workers 2", "worker"])
def test_a_store_that_cannot_be_reached_is_one_error_line(tmp_path, command):
    # with --workers 2 each worker failed and was respawned forever, printing tracebacks
    env = dict(os.environ, TAGWISE_DATA_DIR=str(tmp_path / "data"), TAGWISE_API_KEY="k", HF_HUB_OFFLINE="1",
               TAGWISE_DATABASE_URL=f"postgresql://tagwise:s3cret@127.0.0.1:{free_port()}/tagwise")  # nobody listens there
    done = subprocess.run([sys.executable, "-m", "tagwise", *command.split()], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith("error: Cannot open the store at postgresql://tagwise:***@127.0.0.1:")
    assert done.stderr.count("\n") == 1 and "s3cret" not in done.stderr and "listening" not in done.stdout
    env["TAGWISE_DATABASE_URL"] = "mysql://tagwise:hunter2@db/tagwise"
    done = subprocess.run([sys.executable, "-m", "tagwise", *command.split()], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2 and "SQLite (sqlite:///path) or PostgreSQL" in done.stderr
    assert "mysql://tagwise:***@db/tagwise" in done.stderr and "hunter2" not in done.stderr  # it was printed whole


def test_a_damaged_store_a_data_dir_that_is_a_file_and_a_sqlite_url_to_nowhere_are_one_error_line_each(tmp_path):
    env = dict(os.environ, TAGWISE_API_KEY="k", HF_HUB_OFFLINE="1")
    env.pop("TAGWISE_DATABASE_URL", None)

    def start(**variables: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tagwise", "serve"], env=dict(env, **variables), capture_output=True,
                              text=True, timeout=60, check=False)

    # a half-copied backup printed a 480-line traceback
    (tmp_path / "damaged").mkdir()
    (tmp_path / "damaged" / "tagwise.db").write_bytes(os.urandom(100_000))
    (tmp_path / "damaged" / "tagwise.db").chmod(0o600)
    done = start(TAGWISE_DATA_DIR=str(tmp_path / "damaged"))
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "listening" not in done.stdout, done.stderr
    assert done.stderr == (f"error: Cannot open the store at sqlite:///{tmp_path}/damaged/tagwise.db (TAGWISE_DATA_DIR): file is not "
                           "a database (it is not a tagwise store, or it is damaged: restore a whole backup, see docs/operations.md)\n")
    (tmp_path / "a-file").write_text("")
    done = start(TAGWISE_DATA_DIR=str(tmp_path / "a-file"))  # it said only "File exists"
    assert done.returncode == 1 and done.stderr.startswith(f"error: The data dir {tmp_path / 'a-file'} (TAGWISE_DATA_DIR) is a file, not a folder")
    without_key = dict(env)
    without_key.pop("TAGWISE_API_KEY")  # the generated key's folder is made first: it said only "Not a directory"
    done = subprocess.run([sys.executable, "-m", "tagwise", "serve"], env=dict(without_key, TAGWISE_DATA_DIR=str(tmp_path / "a-file" / "sub")),
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1 and done.stderr == (f"error: The data dir {tmp_path / 'a-file' / 'sub'} (TAGWISE_DATA_DIR) cannot be made: "
                                                    "Not a directory. Point TAGWISE_DATA_DIR at a folder tagwise can create or write.\n")
    # a typo in the URL made an empty store in a new folder, and the server started on it
    done = start(TAGWISE_DATA_DIR=str(tmp_path / "data"), TAGWISE_DATABASE_URL=f"sqlite:///{tmp_path}/typo/tagwise.db")
    assert done.returncode == 1 and f"the folder {tmp_path / 'typo'} does not exist" in done.stderr and not (tmp_path / "typo").exists()
    # a key generated by a start that failed was never printed, and the next start said only "API key: in ..."; it is
    # printed now (removing it could remove a key another start on the same data dir serves)
    failed = subprocess.run([sys.executable, "-m", "tagwise", "serve"], env=dict(without_key, TAGWISE_DATA_DIR=str(tmp_path / "fresh"),
                            TAGWISE_DATABASE_URL=f"sqlite:///{tmp_path}/typo/tagwise.db"), capture_output=True, text=True, timeout=60, check=False)
    kept = (tmp_path / "fresh" / "api-key").read_text().strip()
    assert failed.returncode == 1 and failed.stdout == f"Generated API key (kept in {tmp_path / 'fresh' / 'api-key'}): {kept}\n"


def test_a_model_store_that_cannot_be_written_is_refused_at_start(tmp_path):
    (tmp_path / "a-file").write_text("not a folder")
    env = dict(os.environ, TAGWISE_DATA_DIR=str(tmp_path / "data"), TAGWISE_API_KEY="k", HF_HUB_OFFLINE="1",
               TAGWISE_MODEL_STORE_DIR=str(tmp_path / "a-file" / "models"))
    done = subprocess.run([sys.executable, "-m", "tagwise", "serve"], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1 and "(TAGWISE_MODEL_STORE_DIR) is not writable" in done.stderr and "listening" not in done.stdout


def test_a_port_in_use_is_one_error_line_before_listening(tmp_path):
    # uvicorn printed "listening" and then a bind error, exit 3
    env = dict(os.environ, TAGWISE_DATA_DIR=str(tmp_path / "data"), TAGWISE_API_KEY="k", HF_HUB_OFFLINE="1")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "tagwise", "serve", "--port", str(port)], env=env, capture_output=True,
                              text=True, timeout=60, check=False)
    assert done.returncode == 1 and "listening" not in done.stdout, done.stdout + done.stderr
    assert done.stderr == f"error: cannot listen on 127.0.0.1:{port}: Address already in use (another process is listening there: stop it or pick another --port)\n"


def test_a_store_that_hangs_is_given_up_after_the_connect_timeout(tmp_path):
    # a socket that listens and never answers, like a firewalled host: libpq waited for the OS's TCP timeout
    from tagwise.storage.db import PG_CONNECT_TIMEOUT_S

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"postgresql://tagwise@127.0.0.1:{silent.getsockname()[1]}/tagwise"
        env = dict(os.environ, TAGWISE_DATA_DIR=str(tmp_path / "data"), TAGWISE_API_KEY="k", HF_HUB_OFFLINE="1", TAGWISE_DATABASE_URL=url)
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "tagwise", "serve"], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1 and done.stderr.startswith("error: Cannot open the store at postgresql://tagwise@127.0.0.1:")
    # well before the OS's TCP timeout (~130 s); the margin is the process's start, 5-13 s on a busy machine
    assert PG_CONNECT_TIMEOUT_S <= time.monotonic() - started < PG_CONNECT_TIMEOUT_S + 45


def test_an_empty_api_key_file_is_refused_at_start(tmp_path):
    # every key was refused by the API, and the studio signed its sessions with "": anyone could forge one
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "api-key").write_text("\n")
    env = dict(os.environ, TAGWISE_DATA_DIR=str(tmp_path / "data"), HF_HUB_OFFLINE="1")
    env.pop("TAGWISE_API_KEY", None)
    done = subprocess.run([sys.executable, "-m", "tagwise", "serve", "--port", str(free_port())], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 1 and "listening" not in done.stdout
    assert done.stderr == f"error: {tmp_path / 'data' / 'api-key'} is empty: delete it to have a new key generated at the next start, or set TAGWISE_API_KEY.\n"


def test_a_short_key_on_a_server_others_can_reach_is_warned_of():
    # nothing slows down wrong keys (60 tried in 1.5 s), and the README's example key is "my-key"
    from tagwise.cli.serve import weak_key_warning

    assert weak_key_warning("127.0.0.1", "my-key") is None  # only this machine can try
    assert weak_key_warning("0.0.0.0", secrets.token_hex(16)) is None
    assert weak_key_warning("0.0.0.0", "my-key").startswith(
        "warning: the API key is 6 characters long and the server listens on 0.0.0.0: anyone who reaches it can guess a short key.")


def test_a_sqlite_url_inside_a_data_dir_not_made_yet_opens(tmp_path):
    # the check for a URL's missing folder ran before the data dir was made, and refused a first start
    from tagwise.core.context import Context
    from tagwise.settings import Settings

    data = tmp_path / "fresh" / "data"
    ctx = Context.open(Settings(data_dir=data, api_key="k", database_url=f"sqlite:///{data}/store/tagwise.db"))
    ctx.close()
    assert (data / "store" / "tagwise.db").is_file()


def test_a_worker_whose_port_is_taken_is_one_error_line_and_runs_nothing(tmp_path):
    # it went on running jobs without the HTTP whose address it printed
    env = dict(os.environ, TAGWISE_DATA_DIR=str(tmp_path / "data"), HF_HUB_OFFLINE="1")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        done = subprocess.run([sys.executable, "-m", "tagwise", "worker", "--port", str(port)], check=False, env=env,
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 1 and "running jobs" not in done.stdout
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "Traceback" not in done.stderr
