"""Helpers for API tests: real project files from the shared datasets, waiting on jobs."""

from __future__ import annotations

import time

V = {"api-version": "2023-04-01"}
A = "/language/authoring/analyze-text/projects"
SINGLE = "CustomSingleLabelClassification"
MULTI = "CustomMultiLabelClassification"
PATCH = {"Content-Type": "application/merge-patch+json"}  # what PATCH requests send
CLASSIFY = "/language/tagwise/projects/{p}/deployments/{d}:classify"  # the synchronous route


def project_file(name: str, kind: str, rows: list[dict], *, dataset: str | None = None, container: str = "docs") -> dict:
    classes = sorted({label for r in rows for label in r["labels"]})
    docs = []
    for i, row in enumerate(rows):
        doc = {"location": f"doc{i}.txt", "language": "en", "text": row["text"]}
        if dataset or row.get("dataset"):
            doc["dataset"] = row.get("dataset") or dataset
        if kind == MULTI:
            doc["classes"] = [{"category": c} for c in row["labels"]]
        else:
            doc["class"] = {"category": row["labels"][0]}
        docs.append(doc)
    return {
        "projectFileVersion": "2022-05-01",
        "stringIndexType": "Utf16CodeUnit",
        "metadata": {"projectName": name, "projectKind": kind, "language": "en", "storageInputContainerName": container},
        "assets": {"projectKind": kind, "classes": [{"category": c} for c in classes], "documents": docs},
    }


def wait(client, location: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(location).json()
        if body["status"] in ("succeeded", "failed", "cancelled", "partiallyCompleted"):
            return body
        assert time.monotonic() < deadline, f"job did not finish: {body}"
        time.sleep(0.2)


def create_and_import(client, name: str, kind: str, rows: list[dict], **kwargs) -> None:
    response = client.post(f"{A}/{name}/:import", params=V, json=project_file(name, kind, rows, **kwargs))
    assert response.status_code == 202, response.text
    assert wait(client, response.headers["Operation-Location"])["status"] == "succeeded"


def train(client, name: str, label: str = "m1", version: str = "linear", evaluation: dict | None = None) -> dict:
    body = {"modelLabel": label, "trainingConfigVersion": version}
    if evaluation:
        body["evaluationOptions"] = evaluation
    response = client.post(f"{A}/{name}/:train", params=V, json=body)
    assert response.status_code == 202, response.text
    return wait(client, response.headers["Operation-Location"])


def deploy(client, name: str, deployment: str, label: str) -> None:
    response = client.put(f"{A}/{name}/deployments/{deployment}", params=V, json={"trainedModelLabel": label})
    assert response.status_code == 202, response.text
    assert wait(client, response.headers["Operation-Location"])["status"] == "succeeded"
