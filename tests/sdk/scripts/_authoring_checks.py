"""Project files and the detailed contract checks used by ``authoring_lifecycle.py``.

Runs in the authoring SDK venv. Section numbers refer to /work/shared/api/azure-compat.md
(the wire contract).
"""

from __future__ import annotations

import math
import time
from urllib.parse import quote

from _common import Report, micro_f1
from azure.ai.textanalytics.authoring import TextAuthoringClient, TextAuthoringProjectClient
from azure.core.rest import HttpRequest

POLL = 0.5
BLOB_DOCUMENTS = 5  # documents whose text travels only through the container-upload route (section 5)
SUPPORTED_API_VERSIONS = ("2022-05-01", "2023-04-01", "2024-11-15-preview", "2025-05-15-preview",
                          "2026-05-15-preview")


def label_field(kind: str, labels: list[str]) -> dict:
    if kind == "single":
        return {"class": {"category": labels[0]}}
    return {"classes": [{"category": label} for label in labels]}


def doc_labels(kind: str, document: dict) -> list[str]:
    if kind == "single":
        return [document["class"]["category"]]
    return sorted(c["category"] for c in document["classes"])


def metadata(data: dict, project: str, container: str) -> dict:
    return {"projectName": project, "projectKind": data["projectKind"], "language": data["language"],
            "storageInputContainerName": container, "multilingual": False,
            "description": "tagwise SDK compatibility test"}


def project_file(data: dict, project: str, container: str, documents: list[dict], *, inline: bool = True) -> dict:
    """The import body (section 4.2); the first BLOB_DOCUMENTS carry no text unless ``inline``."""
    exported = []
    for i, doc in enumerate(documents):
        item = {"location": doc["location"], "language": data["language"], "dataset": doc["dataset"],
                **label_field(data["kind"], doc["labels"])}
        if inline or i >= BLOB_DOCUMENTS:
            item["text"] = doc["text"]
        exported.append(item)
    return {
        "projectFileVersion": "2022-05-01",
        "stringIndexType": "Utf16CodeUnit",
        "metadata": metadata(data, project, container),
        "assets": {"projectKind": data["projectKind"],
                   "classes": [{"category": c} for c in data["classes"]],
                   "documents": exported},
    }


def blob_path(container: str, location: str | None = None) -> str:
    path = f"/tagwise/containers/{quote(container, safe='')}/blobs"
    return path if location is None else f"{path}/{quote(location, safe='')}"


def put_blob(client: TextAuthoringClient, container: str, location: str, text: str):
    """Upload one text through the client's own pipeline (``{endpoint}/language`` + key header)."""
    return client.send_request(HttpRequest("PUT", blob_path(container, location), content=text.encode("utf-8"),
                                           headers={"Content-Type": "text/plain; charset=utf-8"}))


def export(pc: TextAuthoringProjectClient) -> dict:
    """Export through the SDK and fetch ``resultUrl`` (section 4.2).

    ``begin_export`` returns None; the ``cls`` hook receives the final job state.
    """
    state = pc.project.begin_export(
        string_index_type="Utf16CodeUnit",
        cls=lambda response, _body, _headers: response.http_response.json(),
        polling_interval=POLL,
    ).result()
    assert state["status"] == "succeeded", state
    result_url = state["resultUrl"]
    assert result_url.startswith("http"), f"resultUrl must be absolute: {result_url!r}"
    response = pc.send_request(HttpRequest("GET", result_url))
    response.raise_for_status()
    return response.json()


def evaluation_summary(pc: TextAuthoringProjectClient, data: dict, label: str, expected_kind: str) -> dict:
    """Check one evaluation summary (section 4.4); return its body as a plain dict."""
    evaluation = pc.trained_model.get_model_evaluation_summary(label)
    raw = evaluation.as_dict()
    assert raw.get("projectKind") == data["projectKind"], raw.get("projectKind")
    options = raw.get("evaluationOptions") or {}
    assert options.get("kind") == expected_kind, options
    if expected_kind == "percentage":
        assert options.get("trainingSplitPercentage") == 80 and options.get("testingSplitPercentage") == 20, options
    if data["kind"] == "single":
        metrics = evaluation.custom_single_label_classification_evaluation
        body = raw["customSingleLabelClassificationEvaluation"]
        assert "confusionMatrix" in body, "single-label summary needs a confusionMatrix"
        for expected, row in body["confusionMatrix"].items():
            assert expected in data["classes"], f"confusion matrix row {expected!r} is not a class"
            assert set(row) <= set(data["classes"]), f"confusion matrix columns are not classes: {list(row)}"
            cells = list(row.values())
            assert all(c["rawValue"] >= 0 for c in cells), row
            assert math.isclose(sum(c["normalizedValue"] for c in cells), 100.0, abs_tol=0.5), (expected, row)
        # micro P = R = F1 = accuracy for single-label
        assert math.isclose(metrics.micro_precision, metrics.micro_recall, abs_tol=1e-6), body
        assert math.isclose(metrics.micro_f1, metrics.micro_precision, abs_tol=1e-6), body
    else:
        body = raw["customMultiLabelClassificationEvaluation"]
        assert "confusionMatrix" not in body, "multi-label summary must not have a confusionMatrix"
    for name in ("microF1", "microPrecision", "microRecall", "macroF1", "macroPrecision", "macroRecall"):
        assert 0.0 <= body[name] <= 1.0, (name, body[name])
    assert set(body["classes"]) <= set(data["classes"]), list(body["classes"])
    for name, cls in body["classes"].items():
        for field in ("f1", "precision", "recall"):
            assert 0.0 <= cls[field] <= 1.0, (name, field, cls)
        for field in ("truePositiveCount", "trueNegativeCount", "falsePositiveCount", "falseNegativeCount"):
            assert isinstance(cls[field], int) and cls[field] >= 0, (name, field, cls)
    return body


def evaluation_results(pc: TextAuthoringProjectClient, data: dict, label: str) -> tuple[list[str], float]:
    """Check the per-document results (section 4.4, paged by 7 so ``nextLink`` is followed).

    Returns the tested locations and the micro-F1 computed from them.
    """
    by_location = {d["location"]: d for d in data["documents"]}
    items = list(pc.trained_model.list_model_evaluation_results(
        label, string_index_type="Utf16CodeUnit", maxpagesize=7))
    expected, predicted, locations = [], [], []
    for item in items:
        assert item.project_kind == data["projectKind"], item
        assert item.location in by_location, item.location
        assert item.language == data["language"], item
        if data["kind"] == "single":
            result = item.custom_single_label_classification_result
            expected.append({result.expected_class})
            predicted.append({result.predicted_class})
        else:
            result = item.custom_multi_label_classification_result
            expected.append(set(result.expected_classes))
            predicted.append(set(result.predicted_classes))
        assert sorted(expected[-1]) == by_location[item.location]["labels"], item
        locations.append(item.location)
    assert len(set(locations)) == len(locations), "a test document appears twice"
    return locations, micro_f1(expected, predicted)


def wire_details(report: Report, client: TextAuthoringClient, endpoint: str, project: str) -> None:
    """Raw-response details the SDKs rely on but do not show (sections 1-3)."""
    version = "api-version=2025-05-15-preview"
    base = f"/authoring/analyze-text/projects/{quote(project, safe='')}"
    with report.check("wire: 202 with absolute Operation-Location, no Location; status GET 200 JSON"):
        response = client.send_request(HttpRequest("POST", f"{base}/:export?stringIndexType=Utf16CodeUnit&{version}"))
        assert response.status_code == 202, (response.status_code, response.text())
        location = response.headers.get("Operation-Location", "")
        assert location.startswith(endpoint.rstrip("/") + "/language/"), f"Operation-Location {location!r}"
        assert "api-version=" in location, location
        assert "Location" not in response.headers, response.headers.get("Location")
        retry_after = response.headers.get("Retry-After")
        assert retry_after is not None and retry_after.isdigit() and int(retry_after) >= 1, (
            f"202 Retry-After {retry_after!r}: without it default SDK clients poll every 30 s")
        for _ in range(60):
            status = client.send_request(HttpRequest("GET", location))
            assert status.status_code == 200, status.status_code
            content_type = status.headers.get("Content-Type", "")
            assert content_type.startswith("application/json"), content_type
            state = status.json()
            assert state["status"] in {"notStarted", "running", "succeeded"}, state
            assert "resourceLocation" not in state, state
            if state["status"] == "succeeded":
                assert "Retry-After" not in status.headers, "Retry-After on a terminal job state"
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"export job not done after 30 s: {state}")
    with report.check("wire: 404 envelope, JSON, no Retry-After"):
        response = client.send_request(HttpRequest("GET", f"/authoring/analyze-text/projects/no-such-project?{version}"))
        assert response.status_code == 404, response.status_code
        content_type = response.headers.get("Content-Type", "")
        assert content_type.startswith("application/json"), content_type
        assert "Retry-After" not in response.headers, "Retry-After on a 404 makes azure-core retry it"
        error = response.json()["error"]
        assert error["code"] == "ProjectNotFound" and error["message"], error
    with report.check("wire: missing or unknown api-version -> 400 InvalidRequest"):
        for query in ("", "?api-version=1999-01-01"):
            response = client.send_request(HttpRequest("GET", f"{base}{query}"))
            assert response.status_code == 400, (query, response.status_code)
            assert response.json()["error"]["code"] == "InvalidRequest", response.json()
    with report.check("wire: every supported api-version answers"):
        for v in SUPPORTED_API_VERSIONS:
            response = client.send_request(HttpRequest("GET", f"{base}?api-version={v}"))
            assert response.status_code == 200, (v, response.status_code)
