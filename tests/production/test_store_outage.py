"""A PostgreSQL outage during a training, with real processes: ``tagwise serve`` on a PostgreSQL of
the test's own, stopped (``pg_ctl -m fast stop``) while the training child fits and started again.

Meanwhile requests answer 503 with the Azure envelope and ``Retry-After``, and the log stays a few
lines; afterwards the training ends (succeeded, or failed with a reason), its process is reaped,
and the project trains and cancels again without a restart.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
import pytest

from tagwise.core import jobs
from tagwise.core.context import Context
from tagwise.core.documents import import_project
from tagwise.settings import Settings
from tests.api.conftest import SINGLE, A, V, project_file
from tests.production.conftest import KEY
from tests.production.procs import HEADER, claimant, environment, start_server, start_worker, training_child, wait_for
from tests.production.test_faults import banking_rows
from tests.storage import pg

pytestmark = pytest.mark.serial  # outages of a few seconds against retry windows: make test runs it alone

OUTAGE_S = 3.0


@pytest.fixture
def private_postgres():
    server = pg.start_private()  # this test stops it: the session's server stays up for the others
    yield server
    server.stop()


def process_state(pid: int) -> str | None:
    """The state letter of a process (``Z``: exited, never reaped), None once it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def test_a_postgresql_outage_mid_training_does_not_wedge_the_project(tmp_path, datasets, private_postgres):
    settings = Settings(data_dir=tmp_path / "data", api_key=KEY, database_url=private_postgres.create_database())
    ctx = Context.open(settings)
    try:
        import_project(ctx, "bank", project_file("bank", SINGLE, banking_rows(40)))
    finally:
        ctx.close()
    server = start_server(environment(settings.data_dir, KEY, settings.database_url, TAGWISE_JOB_HEARTBEAT_S="0.3"))
    client = httpx.Client(base_url=server.url, headers={HEADER: KEY}, timeout=30)
    ctx = Context.open(settings, migrate=False)
    try:
        response = client.post(f"{A}/bank/:train", params=V, json={"modelLabel": "m1", "trainingConfigVersion": "ensemble"})
        assert response.status_code == 202, response.text
        job_url = response.headers["Operation-Location"]
        job_id = job_url.split("/jobs/")[1].split("?")[0]

        def fitting() -> int | None:  # the training child's pid, once it reports progress from inside the fit
            job = jobs.get(ctx, job_id, "train")
            return training_child(claimant(job)) if job["status"] == "running" and job["percent"] >= 9 else None

        child = wait_for(fitting, timeout=60, message="the training never started fitting")
        log_lines_before = len(server.log().splitlines())

        private_postgres.go_down()
        down_at = time.monotonic()
        during = [client.get(job_url), client.post(f"{A}/bank/:train", params=V, json={"modelLabel": "m2", "trainingConfigVersion": "linear"})]
        health_during = httpx.get(f"{server.url}/health", timeout=30)  # what a load balancer sees (no key)
        time.sleep(max(0.0, down_at + OUTAGE_S - time.monotonic()))
        private_postgres.come_back()
        assert health_during.status_code == 503 and health_during.json()["status"] == "unavailable"
        wait_for(lambda: httpx.get(f"{server.url}/health", timeout=30).status_code == 200, timeout=30,
                 message="/health did not answer 200 once the store was back")

        for answer in during:
            assert answer.status_code == 503, answer.text
            assert answer.json()["error"]["code"] == "ServiceUnavailable"
            assert "retry" in answer.json()["error"]["message"].lower()
            assert 1 <= int(answer.headers["Retry-After"]) <= 30

        final = wait_for(lambda: (s := client.get(job_url)).status_code == 200 and s.json()["status"] in jobs.TERMINAL and s.json(),
                         timeout=40, interval=0.3, message="the training stayed running after the store came back")
        # the model was saved during or after the outage: its end is recorded once the store is back
        # (it was lost when the training finished while the store was away: failed, an orphan folder)
        assert final["status"] == "succeeded", final
        wait_for(lambda: process_state(child) is None, timeout=10, message=f"the training process is {process_state(child)} (never reaped)")

        outage_log = server.log().splitlines()[log_lines_before:]
        assert "Traceback" not in "\n".join(outage_log)
        assert len(outage_log) <= 10, f"{len(outage_log)} log lines for a {OUTAGE_S} s outage:\n" + "\n".join(outage_log[:20])

        # the project is not wedged: it trains again, and a cancel stops that training
        response = client.post(f"{A}/bank/:train", params=V, json={"modelLabel": "m2", "trainingConfigVersion": "ensemble"})
        assert response.status_code == 202, response.text
        again = response.headers["Operation-Location"]
        wait_for(lambda: client.get(again).json()["status"] == "running", timeout=30, message="the second training never ran")
        again_id = again.split("/jobs/")[1].split("?")[0]
        assert client.post(f"{A}/bank/train/jobs/{again_id}/:cancel", params=V).status_code == 202
        cancelled = wait_for(lambda: (s := client.get(again).json())["status"] in jobs.TERMINAL and s, timeout=30,
                             message="the cancelled training stayed cancelling")
        assert cancelled["status"] == "cancelled", cancelled
    finally:
        client.close()
        ctx.close()
        server.stop()
    reason = f" ({final['errors'][0]['message']})" if final["errors"] else ""
    print(f"\na {OUTAGE_S} s PostgreSQL outage mid-training: the job {final['status']}{reason}; {len(outage_log)} log lines:",
          *outage_log, sep="\n  ")


def test_the_cli_client_waits_out_a_short_outage_as_the_sdks_do(tmp_path, private_postgres):
    # the CLI's client retried 429 only: a 503 during a PostgreSQL restart ended the command
    from tagwise.client import Client

    settings = Settings(data_dir=tmp_path / "data", api_key=KEY, database_url=private_postgres.create_database())
    Context.open(settings).close()
    server = start_server(environment(settings.data_dir, KEY, settings.database_url))
    client = Client(server.url, KEY)
    try:
        private_postgres.go_down()
        listed: list = []
        waiting = threading.Thread(target=lambda: listed.append(client.list_projects()))
        waiting.start()
        time.sleep(2)
        private_postgres.come_back()
        waiting.join(timeout=60)
        assert listed == [[]]
    finally:
        client.close()
        server.stop()


def test_a_studio_page_during_an_outage_answers_503_and_the_session_outlives_it(tmp_path, private_postgres):
    # studio sessions live in the store now: a page during an outage must say the store is away
    # (not a 500), and signing in again must not be needed once it is back
    import re

    settings = Settings(data_dir=tmp_path / "data", api_key=KEY, database_url=private_postgres.create_database())
    Context.open(settings).close()
    server = start_server(environment(settings.data_dir, KEY, settings.database_url))
    studio = httpx.Client(base_url=server.url, follow_redirects=True, timeout=30)
    try:
        token = re.search(r'name="token" value="([^"]+)"', studio.get("/studio").text).group(1)
        assert "Your projects" in studio.post("/studio/login", data={"key": KEY, "token": token}).text
        private_postgres.go_down()
        during = studio.get("/studio")
        private_postgres.come_back()
        assert during.status_code == 503, (during.status_code, during.text[:500])
        assert "retry" in during.text.lower() or "unavailable" in during.text.lower()
        wait_for(lambda: httpx.get(f"{server.url}/health", timeout=30).status_code == 200, timeout=30,
                 message="/health did not answer 200 once the store was back")
        assert "Your projects" in studio.get("/studio").text  # still signed in
    finally:
        studio.close()
        server.stop()


def test_a_scrapers_runtime_key_reads_the_metrics_during_an_outage(tmp_path, private_postgres):
    # operations.md gives the scraper a runtime key and alerts on tagwise_store_up == 0; that key was
    # checked against the store, so during an outage the scrape answered 503 and the gauge never read 0
    from prometheus_client.parser import text_string_to_metric_families

    from tagwise.core import keys

    settings = Settings(data_dir=tmp_path / "data", api_key=KEY, database_url=private_postgres.create_database())
    ctx = Context.open(settings)
    try:
        _, scraper = keys.create(ctx, "prometheus", keys.RUNTIME)
    finally:
        ctx.close()
    server = start_server(environment(settings.data_dir, KEY, settings.database_url))

    def store_up() -> float:
        response = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {scraper}"}, timeout=30)
        assert response.status_code == 200, response.text
        return next(s.value for f in text_string_to_metric_families(response.text) for s in f.samples if s.name == "tagwise_store_up")

    try:
        assert store_up() == 1
        private_postgres.go_down()
        time.sleep(keys.CACHE_S + 0.5)  # past the second for which any verified key is remembered
        try:
            assert store_up() == 0
            refused = httpx.get(f"{server.url}/metrics", headers={"Authorization": "Bearer never-seen"}, timeout=30)
            assert refused.status_code == 503  # a key it has not verified is not taken on trust
        finally:
            private_postgres.come_back()
        wait_for(lambda: store_up() == 1, timeout=30, message="store_up did not return to 1")
    finally:
        server.stop()


def test_a_worker_stopped_during_a_short_outage_still_queues_its_training_again(tmp_path, private_postgres):
    # a clean stop (SIGTERM) while PostgreSQL restarted failed the training: the runner gave up recording
    # "queued again" at once, and the next runner's sweep found it running under a dead process
    import signal

    settings = Settings(data_dir=tmp_path / "data", api_key=KEY, database_url=private_postgres.create_database())
    ctx = Context.open(settings)
    try:
        import_project(ctx, "bank", project_file("bank", SINGLE, banking_rows(40)))
        from tagwise.core import training

        job_id = training.start(ctx, "bank", {"modelLabel": "m1", "trainingConfigVersion": "ensemble"})["id"]
        worker = start_worker(environment(settings.data_dir, KEY, settings.database_url, TAGWISE_LOG_LEVEL="info"))
        try:
            wait_for(lambda: (job := jobs.get(ctx, job_id, "train"))["status"] == "running" and job["percent"] >= 9,
                     timeout=60, message="the training never started fitting")
            private_postgres.go_down()
            worker.process.send_signal(signal.SIGTERM)  # the runner stops its training, and cannot record it yet
            time.sleep(OUTAGE_S)
            private_postgres.come_back()
            worker.process.wait(timeout=30)
        finally:
            worker.stop()
        job = wait_for(lambda: jobs.get(ctx, job_id, "train"), timeout=30)
        assert (job["status"], job["percent"], job["claimed_by"]) == ("notStarted", 0, None), job
        assert "queued again, it starts over on the next runner" in worker.log()
    finally:
        ctx.close()


def test_a_loaded_deployment_keeps_classifying_through_an_outage(tmp_path, private_postgres):
    # :classify read the deployment from the store on every request, so it answered 503 through
    # every PostgreSQL restart although the model was loaded
    from tests.production.conftest import prepare

    settings = Settings(data_dir=tmp_path / "data", api_key=KEY, database_url=private_postgres.create_database())
    prepare(settings, banking_rows(10))
    server = start_server(environment(settings.data_dir, KEY, settings.database_url))
    client = httpx.Client(base_url=server.url, headers={HEADER: KEY}, timeout=30)
    body = {"documents": [{"id": "1", "text": "I was charged twice for one purchase"}]}
    try:
        before = client.post("/language/tagwise/projects/bank/deployments/prod:classify", json=body)
        assert before.status_code == 200, before.text
        assert client.post("/language/tagwise/projects/bank/deployments/staging:classify", json=body).status_code == 200
        private_postgres.go_down()
        try:
            during = client.post("/language/tagwise/projects/bank/deployments/prod:classify", json=body)
            other = client.post("/language/tagwise/projects/bank/deployments/staging:classify", json=body)
            listing = client.get(f"{A}/bank/deployments", params=V)
        finally:
            private_postgres.come_back()
        assert during.status_code == 200, during.text
        assert during.json()["documents"] == before.json()["documents"] and during.json()["trainedModelLabel"] == "m1"
        assert other.status_code == 200 and other.json()["trainedModelLabel"] == "m2"
        assert listing.status_code == 503  # the rest waits for the store
    finally:
        client.close()
        server.stop()
