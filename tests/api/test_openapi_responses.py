"""/openapi.json declares every JSON success body, and what the server really answers fits it.

The declarations are documentation (``schemas.answers``): nothing validates the answers at run
time, so this drives a small lifecycle through the real app and checks each JSON 2xx answer
against the schema declared for its route and status, with every object that lists its
properties closed to others: a field the server adds without declaring it fails here too.
"""

from __future__ import annotations

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from jsonschema import Draft202012Validator
from starlette.routing import compile_path

from tests.api.conftest import CLASSIFY, MULTI, PATCH, SINGLE, A, V, create_and_import, deploy, project_file, train, wait
from tests.conftest import take_per_class

JOBS = "/language/analyze-text/jobs"
DOCUMENTS = "/language/tagwise/projects/{p}/documents"
BLOBS = "/language/tagwise/containers/docs/blobs"
# the only success bodies that are not JSON: Prometheus text and a blob's text
NOT_JSON = {("get", "/metrics"), ("get", "/language/tagwise/containers/{container}/blobs/{location}")}


def test_every_json_route_declares_its_success_body(client):
    schema = client.get("/openapi.json").json()
    components = schema["components"]["schemas"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for status, response in _successes(operation):
                content = response.get("content", {})
                if (method, path) in NOT_JSON or not content:  # a 202 or 204 has no body
                    continue
                declared = content.get("application/json", {}).get("schema", {})
                assert set(declared) == {"$ref"}, f"{method.upper()} {path} {status} declares no model: {declared}"
                assert declared["$ref"].removeprefix("#/components/schemas/") in components


def test_the_answers_of_a_lifecycle_fit_the_declared_bodies(client, banking, emotions):
    answers: list = []

    def record(response):
        response.read()
        answers.append(response)

    client.event_hooks["response"].append(record)
    _lifecycle(client, take_per_class(banking["train"], 3, 8), emotions[:60])
    client.event_hooks["response"].remove(record)

    schema = client.get("/openapi.json").json()
    components = _closed(schema["components"])
    seen, wrong = set(), []
    for response in answers:
        method, path = response.request.method.lower(), response.request.url.path
        if not 200 <= response.status_code < 300 or not response.headers.get("content-type", "").startswith("application/json"):
            continue
        template = _template(client.app, method, path)
        declared = dict(_successes(schema["paths"][template][method])).get(str(response.status_code))
        assert declared is not None, f"{method.upper()} {path} answered {response.status_code}, which its route does not declare"
        body_schema = declared.get("content", {}).get("application/json", {}).get("schema")
        assert body_schema, f"{method.upper()} {template} {response.status_code} declares no JSON body"
        validator = Draft202012Validator({**body_schema, "components": components})
        wrong += [f"{method.upper()} {template} {response.status_code}: {error.json_path}: {error.message}"
                  for error in validator.iter_errors(response.json())]
        seen.add((method, template, str(response.status_code)))
    assert not wrong, "\n".join(wrong)
    every = {(method, path, status) for path, operations in schema["paths"].items() for method, operation in operations.items()
             for status, response in _successes(operation) if "application/json" in response.get("content", {})}
    assert every - seen == set(), "declared bodies the lifecycle never got"


def _lifecycle(client, rows: list[dict], emotions: list[dict]) -> None:
    """Every route that answers JSON, with the answers' variants: paged lists with a nextLink, jobs
    polled to their end, a partial and a failed analyze job, both project kinds."""
    created = client.patch(f"{A}/bank", params=V, headers=PATCH, json={
        "projectKind": SINGLE, "language": "en", "storageInputContainerName": "docs", "description": "tickets",
        "settings": {"confidenceThreshold": 0.1}})
    assert created.status_code == 201, created.text
    assert client.patch(f"{A}/bank", params=V, headers=PATCH, json={"multilingual": False}).status_code == 200
    create_and_import(client, "bank", SINGLE, rows)
    for path in ("", "/global/training-config-versions", "/global/languages", "/bank"):
        assert client.get(f"{A}{path}", params=V).status_code == 200

    assert client.put(f"{BLOBS}/extra.txt", content="I was charged twice for one purchase").status_code == 201
    extra = project_file("bank", SINGLE, [])
    label = rows[0]["labels"][0]
    extra["assets"].update(classes=[{"category": label}], documents=[  # its text is the blob docs/extra.txt
        {"location": "extra.txt", "language": "en", "dataset": "Train", "class": {"category": label}}])
    assert client.post(DOCUMENTS.format(p="bank"), json=extra).status_code == 200
    assert client.get(BLOBS).status_code == 200
    assert client.get(DOCUMENTS.format(p="bank"), params={"maxpagesize": 2}).json()["nextLink"]

    assert train(client, "bank")["status"] == "succeeded"
    for path in ("/bank/train/jobs", "/bank/models", "/bank/models/m1", "/bank/models/m1/evaluation/summary-result"):
        assert client.get(f"{A}{path}", params=V).status_code == 200
    assert client.get(f"{A}/bank/models/m1/evaluation/result", params={**V, "maxpagesize": 2}).json()["nextLink"]
    deploy(client, "bank", "prod", "m1")
    deploy(client, "bank", "staging", "m1")
    swap = client.post(f"{A}/bank/deployments/:swap", params=V, json={"firstDeploymentName": "prod", "secondDeploymentName": "staging"})
    assert wait(client, swap.headers["Operation-Location"])["status"] == "succeeded"
    for path in (f"{A}/bank/deployments/prod", f"{A}/bank/deployments", "/language/tagwise/deployments"):
        assert client.get(path, params=V).status_code == 200
    classified = client.post(CLASSIFY.format(p="bank", d="prod"), json={"documents": [{"id": "1", "text": "my card is lost"},
                                                                                       {"id": "2", "text": " "}], "top": 2})
    assert classified.status_code == 200 and classified.json()["errors"]

    docs = [{"id": "1", "text": "my card is lost"}, {"id": "2", "text": "where is my refund"}, {"id": "3", "text": ""}]
    tasks = [{"kind": SINGLE, "taskName": "good", "parameters": {"projectName": "bank", "deploymentName": "prod"}},
             {"kind": SINGLE, "taskName": "bad", "parameters": {"projectName": "bank", "deploymentName": "nowhere"}}]
    for job_tasks, status in ((tasks, "partiallyCompleted"), (tasks[1:], "failed")):
        submitted = client.post(JOBS, params=V, json={"displayName": "check", "analysisInput": {"documents": docs}, "tasks": job_tasks})
        assert wait(client, submitted.headers["Operation-Location"])["status"] == status
    good = client.post(JOBS, params=V, json={"analysisInput": {"documents": docs}, "tasks": tasks[:1]}).headers["Operation-Location"]
    assert wait(client, good)["status"] == "succeeded"
    assert client.get(f"{good}&showStats=true&top=1").json()["nextLink"]

    exported = wait(client, client.post(f"{A}/bank/:export", params=V).headers["Operation-Location"])
    assert client.get(exported["resultUrl"]).status_code == 200
    assert client.post(DOCUMENTS.format(p="bank") + ":delete", json={"locations": ["doc0.txt"]}).status_code == 200
    assert client.delete(BLOBS, params={"all": "true"}).status_code == 200

    key = client.post("/language/tagwise/keys", json={"name": "router", "role": "runtime", "rateLimitPerMinute": 30})
    assert key.status_code == 201
    assert client.get("/language/tagwise/keys").status_code == 200
    assert client.delete(f"/language/tagwise/keys/{key.json()['keyId']}").status_code == 204
    assert client.get("/health").status_code == 200

    create_and_import(client, "emo", MULTI, emotions)
    assert train(client, "emo")["status"] == "succeeded"
    assert client.get(f"{A}/emo/models/m1/evaluation/summary-result", params=V).status_code == 200
    assert client.get(f"{A}/emo/models/m1/evaluation/result", params=V).status_code == 200
    deploy(client, "emo", "prod", "m1")
    assert client.post(CLASSIFY.format(p="emo", d="prod"), json={"documents": [{"id": "1", "text": "thank you so much"}]}).status_code == 200

    assert wait(client, client.delete(f"{A}/bank/deployments/staging", params=V).headers["Operation-Location"])["status"] == "succeeded"
    assert wait(client, client.delete(f"{A}/emo", params=V).headers["Operation-Location"])["status"] == "succeeded"


def _successes(operation: dict) -> list[tuple[str, dict]]:
    return [(status, response) for status, response in operation["responses"].items() if status.startswith("2")]


def _template(app, method: str, path: str) -> str:
    """The schema's path of the route that answered ``path``: the first that matches, as the router takes them."""
    for route in iter_route_contexts(app.routes):
        if (isinstance(route.original_route, APIRoute) and route.include_in_schema and method.upper() in route.methods
                and compile_path(route.path_format)[0].match(path)):
            return route.path_format
    pytest.fail(f"no route answers {method.upper()} {path}")


def _closed(node):
    """``node`` with every object schema that lists its properties closed to others (unless it says
    what else it takes): undeclared fields fail the check, as a generated client would drop them."""
    if isinstance(node, list):
        return [_closed(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _closed(value) for key, value in node.items()}
    if isinstance(node.get("properties"), dict) and "additionalProperties" not in node:
        out["additionalProperties"] = False
    return out
