"""Several processes on one PostgreSQL: `serve --workers 2` plus a separate `tagwise worker`.

Under live traffic (synchronous classification and analyze jobs from several threads), deploys
and swaps fail no request, and every process serves the new model at once; a training job
queued over HTTP runs once; a revoked key is refused by every process within a second.
"""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from tests.api.conftest import SINGLE, A, V
from tests.production.conftest import KEY
from tests.production.procs import HEADER, environment, start_server, start_worker, wait_for

pytestmark = pytest.mark.serial  # live traffic across processes: make test runs it alone

SYNC = "/language/tagwise/projects/bank/deployments/{}:classify"
PROBE = "I was charged twice for the same purchase"


def score(client: httpx.Client, url: str, deployment: str) -> float:
    response = client.post(url + SYNC.format(deployment), json={"documents": [{"id": "1", "text": PROBE}]})
    assert response.status_code == 200, response.text
    return response.json()["documents"][0]["class"][0]["confidenceScore"]


def traffic(url: str, stop: threading.Event, counts: dict, failures: list, lock: threading.Lock, texts: list[str]) -> None:
    body = {"analysisInput": {"documents": [{"id": str(i), "text": t} for i, t in enumerate(texts[:10])]},
            "tasks": [{"kind": SINGLE, "taskName": "0", "parameters": {"projectName": "bank", "deploymentName": "prod"}}]}
    sync = {"documents": [{"id": str(i), "text": t} for i, t in enumerate(texts)]}
    with httpx.Client(headers={HEADER: KEY}, timeout=30) as client:
        n = 0
        while not stop.is_set():
            n += 1
            try:
                if n % 4:
                    response = client.post(url + SYNC.format("prod"), json=sync)
                    ok = response.status_code == 200 and len(response.json()["documents"]) == len(texts)
                else:
                    response = client.post(f"{url}/language/analyze-text/jobs", params=V, json=body)
                    ok = response.status_code == 202
                    if ok:
                        deadline = time.monotonic() + 30
                        while (state := client.get(response.headers["Operation-Location"]).json())["status"] not in ("succeeded", "failed"):
                            assert time.monotonic() < deadline
                            time.sleep(0.1)
                        ok = state["status"] == "succeeded" and len(state["tasks"]["items"][0]["results"]["documents"]) == 10
                        response = state
            except Exception as exc:  # noqa: BLE001 - every kind of failure counts
                ok, response = False, repr(exc)
            with lock:
                counts["requests"] += 1
                if not ok:
                    failures.append(getattr(response, "text", response))


def test_processes_share_one_postgresql_under_live_traffic(postgres_store, banking):
    settings = postgres_store
    env = environment(settings.data_dir, KEY, settings.database_url, TAGWISE_JOB_HEARTBEAT_S="0.5")
    server = start_server(env, workers=2)
    worker = start_worker(env)
    texts = [r["text"] for r in banking["test"][:20]]
    try:
        with httpx.Client(headers={HEADER: KEY}, timeout=30) as client:
            m1, m2 = score(client, server.url, "prod"), score(client, server.url, "staging")
            assert m1 != m2, "the two models must be told apart by their scores"

            stop, lock, counts, failures = threading.Event(), threading.Lock(), {"requests": 0}, []
            threads = [threading.Thread(target=traffic, args=(server.url, stop, counts, failures, lock, texts)) for _ in range(4)]
            for thread in threads:
                thread.start()
            swap = {"firstDeploymentName": "prod", "secondDeploymentName": "staging"}
            serving = {"prod": "m1", "staging": "m2"}
            for round_ in range(6):
                time.sleep(0.5)
                if round_ % 3 == 2:  # redeploy prod to the other model
                    label = "m2" if serving["prod"] == "m1" else "m1"
                    assert client.put(f"{server.url}{A}/bank/deployments/prod", params=V, json={"trainedModelLabel": label}).status_code == 202
                    serving["prod"] = label
                else:
                    assert client.post(f"{server.url}{A}/bank/deployments/:swap", params=V, json=swap).status_code == 202
                    serving = {"prod": serving["staging"], "staging": serving["prod"]}
                expected = {"m1": m1, "m2": m2}[serving["prod"]]
                # every process (fresh connections spread over both) serves the new model within a second
                deadline = time.monotonic() + 1.0
                while True:
                    seen = {score(httpx.Client(headers={HEADER: KEY}), server.url, "prod") for _ in range(8)}
                    if seen == {expected}:
                        break
                    assert time.monotonic() < deadline, f"a process still serves the old model: {seen} != {expected}"
            stop.set()
            for thread in threads:
                thread.join(timeout=60)
            assert counts["requests"] > 20 and failures == [], f"{len(failures)} of {counts['requests']} requests failed: {failures[:3]}"

            # a training job queued over HTTP runs exactly once, on whichever process claims it
            response = client.post(f"{server.url}{A}/bank/:train", params=V, json={"modelLabel": "m3", "trainingConfigVersion": "linear"})
            job_url = response.headers["Operation-Location"]
            state = wait_for(lambda: (s := client.get(job_url).json())["status"] in ("succeeded", "failed") and s, timeout=120, interval=0.3)
            assert state["status"] == "succeeded", state
            assert [m["label"] for m in client.get(f"{server.url}{A}/bank/models", params=V).json()["value"]] == ["m1", "m2", "m3"]

            # a key revoked through one process is refused by all within a second
            created = client.post(f"{server.url}/language/tagwise/keys", json={"name": "temp", "role": "runtime"}).json()
            runtime = {HEADER: created["key"]}
            assert client.get(f"{server.url}/language/analyze-text/jobs/none", params=V, headers=runtime).status_code == 404
            assert client.delete(f"{server.url}/language/tagwise/keys/{created['keyId']}").status_code == 204
            time.sleep(1.1)
            codes = {httpx.get(f"{server.url}/language/analyze-text/jobs/none", params=V, headers=runtime).status_code for _ in range(8)}
            assert codes == {401}
    finally:
        worker.stop()
        server.stop()
    print(f"{counts['requests']} requests under 6 deploys/swaps, 0 failed")
