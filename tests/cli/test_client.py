"""The remote client (``tagwise.Client``): error envelopes, rate limits, paging, long operations."""

from __future__ import annotations

import json

import httpx
import pytest

from tagwise.client import Client, RemoteError


def client_for(handler) -> Client:
    return Client("http://tagwise.test", key="k", poll_s=0.01, transport=httpx.MockTransport(handler))


def test_error_envelope_becomes_remote_error():
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.headers["Ocp-Apim-Subscription-Key"] == "k" and request.url.params["api-version"]
        return httpx.Response(404, json={"error": {"code": "ProjectNotFound", "message": "The project x could not be found."}})

    with pytest.raises(RemoteError) as caught:
        client_for(handler).get_project("x")
    assert (caught.value.code, caught.value.status, caught.value.message) == ("ProjectNotFound", 404, "The project x could not be found.")


def test_rate_limited_requests_are_retried_after_the_advertised_wait():
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) < 3:
            return httpx.Response(429, headers={"Retry-After": "0"}, json={"error": {"code": "TooManyRequests", "message": "slow down"}})
        return httpx.Response(200, json={"projectName": "p", "deploymentName": "d", "documents": [], "errors": []})

    told = []
    client = Client("http://tagwise.test", key="k", transport=httpx.MockTransport(handler), on_retry=lambda r, s: told.append((r.status_code, s)))
    assert client.classify("p", "d", [{"id": "0", "text": "hi"}])["documents"] == []
    assert len(calls) == 3 and told == [(429, 0.1), (429, 0.1)]


def test_the_cli_says_why_it_waits(capsys):
    # a 1-per-minute key sat silent for a minute (up to 20 of them) before the CLI went on
    from tagwise.cli.backends import _say_retry

    _say_retry(httpx.Response(429, headers={"Retry-After": "60"}), 60.0)
    _say_retry(httpx.Response(503, headers={"Retry-After": "5"}), 5.0)
    _say_retry(httpx.Response(429, headers={"Retry-After": "0"}), 0.1)  # a blink: nothing to say
    assert capsys.readouterr().err.splitlines() == [
        "note: the server answered 429 (the key's rate limit); sending again in 60 s",
        "note: the server answered 503 (the server's store is away or busy); sending again in 5 s"]


NEXT = "http://tagwise.test/language/authoring/analyze-text/projects?skip=1&api-version=2023-04-01"


def test_pages_follow_next_link_and_operations_are_polled():
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/projects") and "skip" not in request.url.params:
            return httpx.Response(200, json={"value": [{"projectName": "a"}], "nextLink": NEXT})
        if path.endswith("/projects"):
            return httpx.Response(200, json={"value": [{"projectName": "b"}], "nextLink": None})
        if path.endswith(":train"):
            return httpx.Response(202, headers={"Operation-Location": "http://tagwise.test/language/job/1?api-version=2023-04-01"})
        return httpx.Response(200, json={"status": "failed", "errors": [{"code": "InvalidArgument", "message": "too few documents"}]})

    client = client_for(handler)
    assert [p["projectName"] for p in client.list_projects()] == ["a", "b"]
    with pytest.raises(RemoteError, match="too few documents"):
        client.wait(client.start_training("p", {"modelLabel": "v1"}))


def test_appending_to_a_server_without_the_append_route_merges_and_imports_the_whole_project():
    # a server older than POST /language/tagwise/projects/{p}/documents answers 404 NotFound: the
    # client then does what tagwise import --append did before, never a plain import (that would
    # replace the project's documents with the new ones)
    existing = {"metadata": {"projectName": "p"}, "assets": {"projectKind": "CustomSingleLabelClassification",
                "classes": [{"category": "a"}], "documents": [
                    {"location": "1.txt", "text": "one", "class": {"category": "a"}},
                    {"location": "2.txt", "text": "two", "class": {"category": "a"}}]}}
    imported = []

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/language/tagwise/projects/p/documents":
            return httpx.Response(404, json={"error": {"code": "NotFound", "message": "tagwise has no route for this URL."}})
        if path.endswith(("/:export", "/:import")):
            if path.endswith("/:import"):
                imported.append(json.loads(request.content))
            return httpx.Response(202, headers={"Operation-Location": "http://tagwise.test/op"})
        if path == "/op":
            return httpx.Response(200, json={"status": "succeeded", "resultUrl": "http://tagwise.test/result"})
        if path == "/result":
            return httpx.Response(200, json=existing)
        raise AssertionError(path)

    new = {"metadata": {"projectName": "p"}, "assets": {"projectKind": "CustomSingleLabelClassification",
           "classes": [{"category": "b"}], "documents": [{"location": "2.txt", "text": "two again", "class": {"category": "b"}},
                                                          {"location": "3.txt", "text": "three", "class": {"category": "b"}}]}}
    counts = client_for(handler).append_documents("p", new)
    assert counts == {"documents": 2, "classes": 2, "projectDocuments": 3, "replacedDocuments": 1, "tagsRemoved": 0}
    [sent] = imported
    assert [(d["location"], d["text"]) for d in sent["assets"]["documents"]] == [("1.txt", "one"), ("2.txt", "two again"), ("3.txt", "three")]
    assert [c["category"] for c in sent["assets"]["classes"]] == ["a", "b"]
    assert len(new["assets"]["documents"]) == 2  # the caller's file is left as it was


def test_listing_every_deployment_on_a_server_without_that_route_reads_each_projects():
    # a server older than GET /language/tagwise/deployments answers 404 NotFound: the client then
    # lists the projects and each one's deployments, as a user had to
    single = "CustomSingleLabelClassification"

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/language/tagwise/deployments":
            return httpx.Response(404, json={"error": {"code": "NotFound", "message": "tagwise has no route for this URL."}})
        if path == "/language/authoring/analyze-text/projects":
            return httpx.Response(200, json={"value": [{"projectName": "a", "projectKind": single},
                                                       {"projectName": "b", "projectKind": single}], "nextLink": None})
        if path == "/language/authoring/analyze-text/projects/a/deployments":
            return httpx.Response(200, json={"value": [{"deploymentName": "prod", "modelId": "m1-x"}], "nextLink": None})
        if path == "/language/authoring/analyze-text/projects/b/deployments":
            return httpx.Response(200, json={"value": [], "nextLink": None})
        raise AssertionError(path)

    assert client_for(handler).list_all_deployments() == [
        {"projectName": "a", "projectKind": single, "deploymentName": "prod", "modelId": "m1-x"}]

    def gone(request: httpx.Request) -> httpx.Response:  # any other error stands
        return httpx.Response(403, json={"error": {"code": "Forbidden", "message": "This key is a runtime key."}})

    with pytest.raises(RemoteError, match="runtime key"):
        client_for(gone).list_all_deployments()


def test_a_text_that_is_not_valid_unicode_is_one_error_not_a_traceback():
    # a lone surrogate from a JSONL line ("\ud800") ended tagwise import and classify against a server in a traceback
    from tagwise.errors import InvalidArgument

    def handler(request: httpx.Request) -> httpx.Response:  # never reached: nothing is sent
        raise AssertionError("sent")

    with pytest.raises(InvalidArgument, match=r"A text to send is not valid Unicode \(surrogates not allowed .*fix the file's encoding"):
        client_for(handler).request("POST", "/language/tagwise/projects/p/deployments/d:classify",
                                    json={"documents": [{"id": "1", "text": "a\ud800b"}]})


def test_a_remote_training_that_does_not_start_says_why_it_may_wait(capsys, monkeypatch):
    # against a server that runs no jobs (TAGWISE_RUN_JOBS=false) and no worker, tagwise train waited without a word
    from tagwise.cli import backends

    polls = iter(["notStarted", "notStarted", "notStarted", "succeeded"])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"jobId": "j", "status": next(polls), "result": {"modelLabel": "m"}})

    monkeypatch.setattr(backends, "WAITING_NOTE_S", 0.0)
    remote = backends.RemoteBackend.__new__(backends.RemoteBackend)
    remote.client = client_for(handler)
    remote.wait_training("p", "http://tagwise.test/language/authoring/analyze-text/projects/p/train/jobs/j", lambda _p: None)
    notes = [line for line in capsys.readouterr().err.splitlines() if line.startswith("note: the training has not started")]
    assert len(notes) == 1 and "TAGWISE_RUN_JOBS=false" in notes[0]


def test_a_remote_training_interrupted_before_it_started_says_it_stays_queued(capsys):
    # Ctrl-C while the job waited for a job runner said "the server goes on training" a job that had not started
    from tagwise.cli import backends, training

    polls = iter(["notStarted", "notStarted"])

    def handler(request: httpx.Request) -> httpx.Response:
        status = next(polls, None)
        if status is None:
            raise KeyboardInterrupt
        return httpx.Response(200, json={"jobId": "j", "status": status, "result": {"modelLabel": "m"}})

    remote = backends.RemoteBackend.__new__(backends.RemoteBackend)
    remote.client, remote.training_status = client_for(handler), None
    with pytest.raises(KeyboardInterrupt):
        training._follow(remote, "p", "m", "http://tagwise.test/language/authoring/analyze-text/projects/p/train/jobs/j")
    assert ("note: the server keeps the training of p/m queued (it has not started); tagwise train p --follow follows it again, "
            "tagwise train p --cancel stops it") in capsys.readouterr().err


def test_polling_an_operation_waits_out_a_proxys_502_while_the_server_restarts(monkeypatch):
    # behind a proxy a restart answers 502 or 504, not a refused connection: the command ended at once
    from tagwise import client as client_module

    answers = iter([httpx.Response(502, text="Bad Gateway"), httpx.Response(504, text="Gateway Timeout"),
                    httpx.Response(200, json={"status": "succeeded"})])
    monkeypatch.setattr(client_module.time, "sleep", lambda _s: None)
    lost = []
    client = Client("http://tagwise.test", key="k", poll_s=0.01, transport=httpx.MockTransport(lambda request: next(answers)),
                    on_lost=lost.append)
    assert client.wait("http://tagwise.test/language/job/1")["status"] == "succeeded"
    assert len(lost) == 1 and lost[0].status == 502  # said once per outage


def test_polling_an_operation_waits_out_a_connection_reset_by_a_server_stopping(monkeypatch):
    # a server stopping mid-request resets the connection (ReadError): `tagwise train` gave up at once, in 2 of 3
    # restarts of an upgrade probe, while the training went on to succeed on another worker
    from tagwise import client as client_module

    def reset(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)

    answers = iter([reset, lambda request: httpx.Response(200, json={"status": "succeeded"})])
    monkeypatch.setattr(client_module.time, "sleep", lambda _s: None)
    lost = []
    client = Client("http://tagwise.test", key="k", poll_s=0.01,
                    transport=httpx.MockTransport(lambda request: next(answers)(request)), on_lost=lost.append)
    client.reached = True  # it answered the training's start
    assert client.wait("http://tagwise.test/language/job/1")["status"] == "succeeded"
    assert len(lost) == 1 and lost[0].unreachable


def test_a_classification_waits_out_a_restart_and_then_gives_up_naming_the_server(monkeypatch):
    # a nightly classify stopped at the first refused connection while the server restarted (7-15 s)
    from tagwise import client as client_module

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    def answered(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"documents": [{"id": "1"}], "errors": []})

    def patient(*handlers):
        answers = iter(handlers)
        return Client("http://tagwise.test", key="k", transport=httpx.MockTransport(lambda request: next(answers)(request)),
                      on_lost=lost.append)

    monkeypatch.setattr(client_module.time, "sleep", lambda _s: None)
    lost: list = []
    client = patient(answered, refused, refused, answered)
    client.classify("p", "prod", [{"id": "1", "text": "hi"}])
    assert client.classify("p", "prod", [{"id": "1", "text": "hi"}])["documents"] == [{"id": "1"}]
    assert len(lost) == 1 and "cannot reach the tagwise server at http://tagwise.test" in lost[0].message

    clock = iter(range(0, 100, 10))  # ten seconds a try: the fifth is past UNREACHABLE_WAIT_S
    monkeypatch.setattr(client_module.time, "monotonic", lambda: next(clock))
    gone = patient(answered, *[refused] * 10)
    gone.classify("p", "prod", [{"id": "1", "text": "hi"}])
    with pytest.raises(RemoteError, match=r"^cannot reach the tagwise server at http://tagwise.test: Connection refused$"):
        gone.classify("p", "prod", [{"id": "1", "text": "hi"}])
    # not asked again: an endpoint never reached (a typo waited 31 s), an answer slower than the timeout (a slow batch was
    # sent twice and failed after 601 s), the server's own answer
    lost.clear()
    with pytest.raises(RemoteError, match="Connection refused"):
        patient(refused, answered).classify("p", "prod", [{"id": "1", "text": "hi"}])

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    late = patient(answered, slow, answered)
    late.classify("p", "prod", [])
    with pytest.raises(RemoteError, match="timed out"):
        late.classify("p", "prod", [])
    told = patient(answered, lambda request: httpx.Response(404, json={"error": {"code": "NotFound", "message": "no deployment prod"}}))
    told.classify("p", "prod", [])
    with pytest.raises(RemoteError, match="no deployment prod"):
        told.classify("p", "prod", [])
    assert lost == []


def test_a_training_cancelled_elsewhere_is_named(capsys):
    # a nightly script's log read "error: the operation was cancelled": no project, model or job
    from tagwise.cli import backends

    polls = iter(["running", "cancelled"])

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"jobId": "j", "status": next(polls), "result": {"modelLabel": "m"}})

    remote = backends.RemoteBackend.__new__(backends.RemoteBackend)
    remote.client = client_for(handler)
    with pytest.raises(RemoteError, match=r"^the training of p/m was cancelled \(by tagwise train p --cancel, or in the studio\)$"):
        remote.wait_training("p", "http://tagwise.test/language/authoring/analyze-text/projects/p/train/jobs/j", lambda _p: None)
    with pytest.raises(backends.TagwiseError, match="^the training of p/m was cancelled"):
        backends._raise_if_failed({"status": "cancelled", "result": {"modelLabel": "m"}}, "p")  # the local path


def test_deleting_documents_posts_their_locations_and_an_older_server_is_named_as_such():
    from tagwise.errors import NOT_IN_TAGWISE

    sent = []

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST" and request.url.path == "/language/tagwise/projects/p/documents:delete"
        sent.append(json.loads(request.content))
        if "nope.txt" in sent[-1]["locations"]:  # a missing document is a NotFound of the route itself
            return httpx.Response(404, json={"error": {"code": "NotFound", "message": "The project p has no document at 'nope.txt'; "
                                                                                      "nothing was deleted."}})
        return httpx.Response(200, json={"deleted": 2, "modelsTrainedOnThem": ["v1"]})

    client = client_for(handler)
    assert client.delete_documents("p", ["1.txt", "2.txt"]) == {"deleted": 2, "modelsTrainedOnThem": ["v1"]}
    assert sent == [{"locations": ["1.txt", "2.txt"]}]
    with pytest.raises(RemoteError, match="no document at 'nope.txt'; nothing was deleted"):
        client.delete_documents("p", ["1.txt", "nope.txt"])

    def older(request: httpx.Request) -> httpx.Response:  # a tagwise without the route
        return httpx.Response(404, json={"error": {"code": "NotFound", "message": NOT_IN_TAGWISE}})

    with pytest.raises(RemoteError, match="runs a tagwise older than that .upgrade it.; nothing was deleted"):
        client_for(older).delete_documents("p", ["1.txt"])
