"""Security: hashed keys with roles, rotation, the per-key rate limit, request limits, name checks.

In-process (real app, real SQLite store); the cross-process promises are in test_scale_out.py.
"""

from __future__ import annotations

import contextlib
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tagwise.server import create_app
from tagwise.settings import Settings
from tests.api.conftest import SINGLE, A, V, project_file
from tests.conftest import KEY

HEADER = "Ocp-Apim-Subscription-Key"
ANALYZE = "/language/analyze-text/jobs"
KEYS = "/language/tagwise/keys"


@contextlib.contextmanager
def app_client(tmp_path, **overrides):
    settings = Settings(data_dir=tmp_path / "data", api_key=KEY, **overrides)
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        client.headers[HEADER] = KEY
        yield client


def new_key(client, role: str, **extra) -> str:
    response = client.post(KEYS, json={"name": f"{role} key", "role": role, **extra})
    assert response.status_code == 201, response.text
    return response.json()["key"]


def analyze_body(n: int = 1, text: str = "my card was charged twice") -> dict:
    return {"analysisInput": {"documents": [{"id": str(i), "text": text} for i in range(n)]},
            "tasks": [{"kind": SINGLE, "taskName": "0", "parameters": {"projectName": "p", "deploymentName": "prod"}}]}


def test_keys_are_stored_hashed_and_shown_once(client):
    response = client.post(KEYS, json={"name": "router", "role": "runtime"})
    created = response.json()
    secret = created.pop("key")
    assert response.status_code == 201 and len(secret) == 48 and created["role"] == "runtime"
    listed = client.get(KEYS).json()["value"]
    assert [k["keyId"] for k in listed] == [created["keyId"]] and "key" not in listed[0]
    ctx = client.app.state.ctx
    with ctx.db.read() as conn:
        stored = " ".join(str(v) for row in conn.execute(text("select * from api_keys")) for v in row)
    assert secret not in stored and secret[:6] in stored  # only a short prefix, to recognise it


def test_runtime_key_classifies_but_cannot_author(client):
    runtime = {HEADER: new_key(client, "runtime")}
    # allowed: submit, poll and cancel analyze jobs, the synchronous route (404 = past the key check)
    submitted = client.post(ANALYZE, params=V, json=analyze_body(), headers=runtime)
    assert submitted.status_code == 202
    job_url = submitted.headers["Operation-Location"]
    assert client.get(job_url, headers=runtime).status_code == 200
    assert client.post(job_url.replace("?", ":cancel?"), headers=runtime).status_code in (202, 409)  # 409: it had ended
    sync = client.post("/language/tagwise/projects/p/deployments/prod:classify", json={"documents": [{"id": "1", "text": "x"}]}, headers=runtime)
    assert sync.status_code == 404 and sync.json()["error"]["code"] == "ProjectNotFound"
    # refused: everything that reads or changes projects, blobs and keys
    for method, url, body in [
        ("GET", f"{A}?api-version=2023-04-01", None),
        ("PATCH", f"{A}/p?api-version=2023-04-01", {"projectKind": SINGLE}),
        ("POST", f"{A}/p/:import?api-version=2023-04-01", {}),
        ("PUT", f"{A}/p/deployments/prod?api-version=2023-04-01", {"trainedModelLabel": "m"}),
        ("PUT", "/language/tagwise/containers/c/blobs/a.txt", None),
        ("GET", KEYS, None),
        ("POST", KEYS, {"name": "escalate", "role": "authoring"}),
    ]:
        response = client.request(method, url, json=body, headers=runtime)
        assert response.status_code == 403, (method, url, response.text)
        assert response.json()["error"]["code"] == "Forbidden"


def test_wrong_missing_and_revoked_keys_get_401(client):
    assert client.get(A, params=V, headers={HEADER: "nope"}).status_code == 401
    assert client.get(A, params=V, headers={HEADER: ""}).json()["error"]["code"] == "Unauthorized"


def test_rotation_without_downtime(client):
    old = {HEADER: new_key(client, "authoring")}
    assert client.get(A, params=V, headers=old).status_code == 200
    new = {HEADER: new_key(client, "authoring")}  # step 1: a second key; both work
    assert client.get(A, params=V, headers=old).status_code == 200
    assert client.get(A, params=V, headers=new).status_code == 200
    old_id = next(k["keyId"] for k in client.get(KEYS).json()["value"] if k["keyPrefix"] == old[HEADER][:6])
    assert client.delete(f"{KEYS}/{old_id}").status_code == 204  # step 3: revoke the old one
    assert client.get(A, params=V, headers=old).status_code == 401
    assert client.get(A, params=V, headers=new).status_code == 200
    assert client.delete(f"{KEYS}/{old_id}x").status_code == 404
    assert client.get(A, params=V).status_code == 200, "the bootstrap key stays an authoring key"


def test_a_client_left_on_a_revoked_key_is_told_so_and_takes_no_other_client_down(tmp_path):
    # counted as wrong keys, one client nobody updated after a rotation got its whole address refused within a
    # minute, the new key's requests too (a race probe: 30 of 30 429s)
    with app_client(tmp_path, wrong_keys_per_minute=3) as client:
        old = {HEADER: new_key(client, "runtime")}
        new = {HEADER: new_key(client, "runtime")}
        old_id = next(k["keyId"] for k in client.get(KEYS).json()["value"] if k["keyPrefix"] == old[HEADER][:6])
        assert client.delete(f"{KEYS}/{old_id}").status_code == 204
        for _ in range(10):
            refused = client.post(ANALYZE, params=V, json=analyze_body(), headers=old)
            assert refused.status_code == 401, refused.text
            message = refused.json()["error"]["message"]
            assert f"this API key ('runtime key', {old_id}) was revoked on" in message and "Use the key that replaced it" in message
        assert client.post(ANALYZE, params=V, json=analyze_body(), headers=new).status_code == 202
        limited = {HEADER: new_key(client, "runtime", rateLimitPerMinute=2)}  # and within the limit it had, as it was
        limited_id = next(k["keyId"] for k in client.get(KEYS).json()["value"] if k["keyPrefix"] == limited[HEADER][:6])
        assert client.delete(f"{KEYS}/{limited_id}").status_code == 204
        answers = [client.post(ANALYZE, params=V, json=analyze_body(), headers=limited).status_code for _ in range(3)]
        assert answers == [401, 401, 429], answers
        for _ in range(3):  # a wrong key is still a guess
            assert client.get(A, params=V, headers={HEADER: "guessed"}).status_code == 401
        assert client.get(A, params=V, headers={HEADER: "guessed"}).status_code == 429


def test_key_requests_are_validated(client):
    for body in ({"name": "x", "role": "admin"}, {"role": "runtime"}, {"name": "a\x00b", "role": "runtime"},
                 {"name": "x", "role": "runtime", "rateLimitPerMinute": -1},
                 {"name": "x", "role": "runtime", "rateLimitPerMinute": 2**31}, {"name": "x", "role": "runtime", "rateLimitPerMinute": 2**63},
                 {"name": "x"}, ["not", "an", "object"]):
        assert client.post(KEYS, json=body).status_code == 400, body
    # the name is who tagged a document: one that reads as the server's own key, or holds an invisible character or a
    # direction override ("\u202eabc" shows as "cba"), named someone else or nobody
    for name in ("the first key", " The First Key", "the\xa0first key", "the first key\u200c", "the  first key", "\u200b", "\u200d",
                 "\xad", "\u3164", "\x80", "\u202eabc", "bob\u2066"):
        refused = client.post(KEYS, json={"name": name, "role": "runtime"})
        assert refused.status_code == 400 and refused.json()["error"]["target"] == "name", name
    assert client.post(KEYS, json={"name": "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "role": "runtime"}).status_code == 201  # Persian: ZWNJ


def test_rate_limit_per_key_answers_429_with_retry_after(tmp_path):
    with app_client(tmp_path, rate_limit_per_minute=5) as client:
        limited = {HEADER: new_key(client, "runtime", rateLimitPerMinute=2)}
        classify = "/language/tagwise/projects/nope/deployments/prod:classify"
        body = {"documents": [{"id": "1", "text": "hello"}]}
        codes = [client.post(classify, json=body, headers=limited).status_code for _ in range(3)]
        assert codes == [404, 404, 429]
        refused = client.post(classify, json=body, headers=limited)
        assert refused.json()["error"]["code"] == "TooManyRequests"
        assert int(refused.headers["Retry-After"]) >= 1
        # a job's status polls count apart, up to ten times the limit: an SDK polls each second, and a limit of 60 made
        # ~15 calls a minute; unlimited, a poll that reads a job's texts could be sent without end
        polls = [client.get(f"{ANALYZE}/nope", params=V, headers=limited).status_code for _ in range(21)]
        assert polls == [404] * 20 + [429]
        # the server default (5/min) applies to keys without their own; buckets are per key
        other = {HEADER: new_key(client, "runtime")}  # 1 of the bootstrap key's 5
        assert [client.post(classify, json=body, headers=other).status_code for _ in range(6)] == [404] * 5 + [429]
        assert client.get(A, params=V).status_code == 200  # the bootstrap key: its own bucket


def test_an_address_guessing_keys_is_held_up_whatever_key_it_sends_next(tmp_path):
    with app_client(tmp_path, wrong_keys_per_minute=3) as client:
        assert client.get(A, params=V, headers={HEADER: ""}).status_code == 401  # no key is no guess
        assert [client.get(A, params=V, headers={HEADER: f"guess{n}"}).status_code for n in range(3)] == [401] * 3
        refused = client.get(A, params=V)  # the right key, from the same address: not told apart from a guess
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == 20
        assert refused.json()["error"]["code"] == "TooManyRequests"
        assert "Too many wrong API keys from this address" in refused.json()["error"]["message"]
    with app_client(tmp_path, wrong_keys_per_minute=0) as client:  # 0: guesses are not counted
        assert {client.get(A, params=V, headers={HEADER: f"guess{n}"}).status_code for n in range(30)} == {401}
        assert client.get(A, params=V).status_code == 200


def test_body_size_limit_on_every_route(tmp_path):
    with app_client(tmp_path, max_body_bytes=1000) as client:
        big = analyze_body(text="x" * 2000)
        response = client.post(ANALYZE, params=V, json=big)
        assert response.status_code == 413 and response.json()["error"]["code"] == "InvalidRequest"
        assert "more than 1,000 bytes (its Content-Length says " in response.json()["error"]["message"]
        assert client.put("/language/tagwise/containers/c/blobs/a.txt", content="y" * 2000).status_code == 413

        def chunks():  # no Content-Length: counted as it arrives
            for _ in range(5):
                yield b"z" * 400

        chunked = client.put("/language/tagwise/containers/c/blobs/b.txt", content=chunks())
        assert chunked.status_code == 413 and " so far); the limit is" in chunked.json()["error"]["message"]
        assert client.put("/language/tagwise/containers/c/blobs/c.txt", content="small").status_code == 201


def test_document_and_character_limits(tmp_path):
    with app_client(tmp_path, max_documents_per_request=3, max_characters_per_request=100, max_sync_documents=4,
                    max_document_characters=50) as client:
        too_many = client.post(ANALYZE, params=V, json=analyze_body(4))
        assert too_many.status_code == 400 and too_many.json()["error"]["innererror"]["code"] == "InvalidDocumentBatch"
        too_long = client.post(ANALYZE, params=V, json=analyze_body(3, "x" * 40))
        assert too_long.status_code == 413 and too_long.json()["error"]["innererror"]["code"] == "InvalidDocumentBatch"
        sync = "/language/tagwise/projects/p/deployments/prod:classify"
        docs = [{"id": str(i), "text": "x"} for i in range(5)]
        assert client.post(sync, json={"documents": docs}).status_code == 400
        rows = [{"labels": ["a"], "text": "x" * 51}] + [{"labels": ["b"], "text": "ok"}]
        response = client.post(f"{A}/p/:import", params=V, json=project_file("p", SINGLE, rows))
        assert response.status_code == 400 and "limit is 50" in response.json()["error"]["message"]


def test_project_and_class_limits(tmp_path):
    with app_client(tmp_path, max_projects=2, max_classes=3) as client:
        body = {"projectKind": SINGLE, "language": "en", "storageInputContainerName": "c"}
        assert [client.patch(f"{A}/p{i}", params=V, json=body).status_code for i in range(2)] == [201, 201]
        third = client.patch(f"{A}/p2", params=V, json=body)
        assert third.status_code == 403 and third.json()["error"]["code"] == "QuotaExceeded"
        rows = [{"labels": [c], "text": f"text {c}"} for c in "abcd"]
        assert client.post(f"{A}/p3/:import", params=V, json=project_file("p3", SINGLE, rows[:3])).status_code == 403
        assert client.post(f"{A}/p0/:import", params=V, json=project_file("p0", SINGLE, rows)).status_code == 400
        assert client.post(f"{A}/p0/:import", params=V, json=project_file("p0", SINGLE, rows[:3])).status_code == 202


@pytest.mark.parametrize("name", ["..", ".", "a b", "a\x01b", "x" * 51, "naïve", "a%2Fb"])
def test_bad_project_names_are_refused(client, name):
    body = {"projectKind": SINGLE, "language": "en", "storageInputContainerName": "c"}
    assert client.patch(f"{A}/{quote(name, safe='')}", params=V, json=body).status_code in (400, 404, 405)  # never created
    ctx = client.app.state.ctx
    from tagwise.core.documents import import_project
    from tagwise.errors import InvalidRequest

    with pytest.raises(InvalidRequest):
        import_project(ctx, name, project_file(name, SINGLE, [{"labels": ["a"], "text": "x"}]))


@pytest.mark.parametrize("location", ["..", "a/b", "a\\b", "a\x00b", "a\nb", "x" * 1025])
def test_bad_blob_locations_and_document_locations_are_refused(client, location):
    from tagwise.core import blobs
    from tagwise.errors import InvalidRequest

    with pytest.raises(InvalidRequest):
        blobs.put(client.app.state.ctx, "c", location, "text")
    rows = [{"labels": ["a"], "text": "x"}]
    body = project_file("p", SINGLE, rows)
    body["assets"]["documents"][0]["location"] = location
    assert client.post(f"{A}/p/:import", params=V, json=body).status_code == 400
    for container in ("a/b", "a\x00b", ""):
        with pytest.raises(InvalidRequest):
            blobs.put(client.app.state.ctx, container, "ok.txt", "text")
