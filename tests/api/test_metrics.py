"""GET /metrics: what it counts, labelled by route template (never a project), for any key."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import CLASSIFY, SINGLE, A, V, create_and_import, deploy, train, wait
from tests.conftest import KEY

TEMPLATE = CLASSIFY.format(p="{project}", d="{deployment}")


def scrape(client, **headers) -> dict[tuple[str, tuple], float]:
    """(sample name, sorted labels) -> value of one scrape."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_documents_and_trainings_are_counted_without_naming_a_project(client, banking):
    create_and_import(client, "secret-project", SINGLE, banking["train"])
    assert train(client, "secret-project", "m1")["status"] == "succeeded"
    deploy(client, "secret-project", "prod", "m1")
    before = scrape(client)

    docs = [{"id": str(i), "text": text} for i, text in enumerate(["card declined", "where is my card", "top up failed"])]
    assert client.post(CLASSIFY.format(p="secret-project", d="prod"), json={"documents": docs}).status_code == 200
    task = {"kind": SINGLE, "parameters": {"projectName": "secret-project", "deploymentName": "prod"}}
    submitted = client.post("/language/analyze-text/jobs", params=V, json={"analysisInput": {"documents": docs[:2]}, "tasks": [task]})
    assert wait(client, submitted.headers["Operation-Location"])["status"] == "succeeded"
    # a task naming no deployment fails inside a 200: it moved the POST's 2xx counter and nothing else
    gone = {"kind": SINGLE, "parameters": {"projectName": "secret-project", "deploymentName": "gone"}}
    partial = client.post("/language/analyze-text/jobs", params=V, json={"analysisInput": {"documents": docs[:1]}, "tasks": [task, gone]})
    assert wait(client, partial.headers["Operation-Location"])["status"] == "partiallyCompleted"
    client.request("BREW", "/health")  # a made-up method is one label value, not a new one per name

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # the runner counts a job's tasks and documents just after its end is recorded, which a poll can see first
    deadline = time.monotonic() + 10
    after = scrape(client)
    while grew("tagwise_analyze_tasks_total", status="failed") < 1 or grew("tagwise_documents_classified_total", source="analyze") < 3:
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
        after = scrape(client)

    assert grew("tagwise_http_requests_total", method="POST", route=TEMPLATE, status="2xx") == 1
    assert grew("tagwise_http_request_duration_seconds_count", method="POST", route=TEMPLATE) == 1
    assert grew("tagwise_http_requests_total", method="other", route="/health", status="4xx") == 1
    assert grew("tagwise_documents_classified_total", source="classify") == 3
    assert grew("tagwise_documents_classified_total", source="analyze") == 3
    assert grew("tagwise_analyze_tasks_total", status="succeeded") == 2 and grew("tagwise_analyze_tasks_total", status="failed") == 1
    # counted by the runner once it has reaped the training's process, a moment after the job reads succeeded
    deadline = time.monotonic() + 30
    while value(after, "tagwise_training_jobs_total", status="succeeded") < 1 and time.monotonic() < deadline:
        time.sleep(0.2)
        after = scrape(client)
    assert value(after, "tagwise_training_jobs_total", status="succeeded") == 1
    assert value(after, "tagwise_training_jobs_total", status="failed") == 0
    assert value(after, "tagwise_deployments") == 1 and value(after, "tagwise_models_loaded") >= 1
    assert value(after, "tagwise_store_up") == 1
    # every route the test called is a template: no project, deployment or job id anywhere
    routes = {dict(labels).get("route") for _, labels in after} - {None}
    assert f"{A}/{{project}}/:train" in routes and "/language/analyze-text/jobs/{job_id}" in routes
    body = client.get("/metrics").text
    assert "secret" not in body and "prod\"" not in body


def test_the_job_gauges_are_read_from_the_store(settings, banking):
    from tagwise.server import create_app

    # no job runner: the submitted job stays queued
    with TestClient(create_app(settings, run_jobs=False), headers={"Ocp-Apim-Subscription-Key": KEY}) as client:
        task = {"kind": SINGLE, "parameters": {"projectName": "p", "deploymentName": "d"}}
        body = {"analysisInput": {"documents": [{"id": "1", "text": "hello"}]}, "tasks": [task]}
        assert client.post("/language/analyze-text/jobs", params=V, json=body).status_code == 202
        samples = scrape(client)
    assert value(samples, "tagwise_jobs", kind="analyze", status="notStarted") == 1
    assert value(samples, "tagwise_jobs", kind="train", status="notStarted") == 0  # present at 0: alerts need the series
    assert value(samples, "tagwise_deployments") == 0


def test_any_key_may_scrape_and_none_is_refused(client):
    from tagwise.core import keys

    _, runtime = keys.create(client.app.state.ctx, "prometheus", keys.RUNTIME)
    no_key = client.get("/metrics", headers={"Ocp-Apim-Subscription-Key": ""})
    assert no_key.status_code == 401 and no_key.json()["error"]["code"] == "Unauthorized"
    assert client.get("/metrics", headers={"Ocp-Apim-Subscription-Key": runtime}).status_code == 200
    # Prometheus's scrape config sends the key as a bearer token
    assert client.get("/metrics", headers={"Ocp-Apim-Subscription-Key": "", "Authorization": f"Bearer {runtime}"}).status_code == 200
    assert client.get("/metrics", headers={"Ocp-Apim-Subscription-Key": "", "Authorization": "Bearer wrong"}).status_code == 401
    # the scraper's runtime key still reads no project
    assert client.get(A, params=V, headers={"Ocp-Apim-Subscription-Key": runtime}).status_code == 403


def test_the_schema_and_a_missing_route_have_their_own_labels(client):
    before = scrape(client)
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/no/such/route").status_code == 404
    after = scrape(client)

    def grew(**labels: str) -> float:
        return value(after, "tagwise_http_requests_total", **labels) - value(before, "tagwise_http_requests_total", **labels)

    assert grew(method="GET", route="/openapi.json", status="2xx") == 1  # it was counted as "unmatched"
    assert grew(method="GET", route="unmatched", status="4xx") == 1
    assert grew(method="GET", route="unmatched", status="2xx") == 0


def test_the_free_space_of_the_data_dir_and_the_model_store_is_a_gauge(client):
    # a full disk refused imports (507) while /health and tagwise_store_up said all was well
    import shutil

    settings = client.app.state.ctx.settings
    samples = scrape(client)
    for place, folder in (("data", settings.data_dir), ("models", settings.models_dir)):
        assert abs(value(samples, "tagwise_disk_free_bytes", place=place) - shutil.disk_usage(folder).free) < 500 * 2**20
