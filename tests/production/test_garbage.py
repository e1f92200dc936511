"""Garbage in: malformed bodies on every JSON route get a 4xx with the Azure envelope, never a 5xx."""

from __future__ import annotations

import pytest

from tests.api.conftest import SINGLE, A, V

GARBAGE = [
    b"", b"null", b"[]", b"\"text\"", b"12", b"{", b"\xff\xfe", b"{\"a\": NaN}", b"[" * 5000 + b"]" * 5000,
    b"{\"analysisInput\": [], \"tasks\": {}}",
    b"{\"analysisInput\": {\"documents\": [1, null]}, \"tasks\": [1]}",
    b"{\"analysisInput\": {\"documents\": [{\"id\": 1, \"text\": 2}]}, \"tasks\": []}",
    b"{\"analysisInput\": {\"documents\": [{\"id\": \"1\", \"text\": \"x\"}]}, \"tasks\": [{\"kind\": \"" + SINGLE.encode() + b"\", \"parameters\": []}]}",
    b"{\"analysisInput\": {\"documents\": [{\"id\": \"1\", \"text\": \"x\"}]}, \"tasks\": [{\"kind\": \"" + SINGLE.encode() + b"\", \"parameters\": {\"projectName\": [], \"deploymentName\": {}}}]}",
    b"{\"documents\": {\"id\": \"1\"}, \"top\": \"3\"}",
    b"{\"documents\": [{\"id\": \"1\", \"text\": \"x\", \"language\": 5}], \"top\": true}",
    b"{\"metadata\": [], \"assets\": \"x\"}",
    b"{\"metadata\": {\"projectKind\": 1}, \"assets\": {\"projectKind\": \"" + SINGLE.encode() + b"\", \"classes\": [null, {\"category\": 1}], \"documents\": {}}}",
    b"{\"assets\": {\"projectKind\": \"" + SINGLE.encode() + b"\", \"classes\": [{\"category\": \"a\"}], \"documents\": [{\"location\": \"a\", \"text\": 1, \"class\": []}]}}",
    b"{\"modelLabel\": [], \"trainingConfigVersion\": {}, \"evaluationOptions\": []}",
    b"{\"modelLabel\": \"m\", \"evaluationOptions\": {\"kind\": \"percentage\", \"trainingSplitPercentage\": 1e309}}",
    b"{\"trainedModelLabel\": [\"m\"]}",
    b"{\"firstDeploymentName\": {}, \"secondDeploymentName\": 2}",
    b"{\"firstDeploymentName\": [\"a\"], \"secondDeploymentName\": [\"b\"]}",
    b"{\"projectKind\": [], \"language\": {}, \"storageInputContainerName\": 3, \"settings\": []}",
    b"{\"settings\": {\"confidenceThreshold\": \"high\"}, \"multilingual\": \"yes\"}",
    b"{\"name\": [], \"role\": null, \"rateLimitPerMinute\": 1.5}",
]

ROUTES = [
    ("POST", "/language/analyze-text/jobs"),
    ("POST", "/language/tagwise/projects/p/deployments/d:classify"),
    ("POST", f"{A}/p/:import"),
    ("POST", f"{A}/p/:train"),
    ("PUT", f"{A}/p/deployments/d"),
    ("POST", f"{A}/p/deployments/:swap"),
    ("PATCH", f"{A}/p"),
    ("POST", "/language/tagwise/keys"),
    ("PUT", "/language/tagwise/containers/c/blobs/a.txt"),
]


@pytest.mark.parametrize("method,path", ROUTES)
def test_garbage_bodies_never_cause_a_server_error(client, method, path):
    client.patch(f"{A}/p", params=V, json={"projectKind": SINGLE, "language": "en", "storageInputContainerName": "c"})
    for body in GARBAGE:
        for content_type in ("application/json", "application/x-www-form-urlencoded"):
            response = client.request(method, path, params=V, content=body, headers={"Content-Type": content_type})
            assert response.status_code < 500, (method, path, body[:80], content_type, response.text)
            if response.status_code >= 400:
                assert response.json()["error"]["code"], response.text
