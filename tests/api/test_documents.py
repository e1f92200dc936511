"""tagwise's documents routes: listing a project's documents a page at a time (adding them: test_import.py)."""

from __future__ import annotations

import pytest

from tagwise.core import keys
from tests.api.conftest import MULTI, SINGLE, A, V, project_file, wait

DOCS = "/language/tagwise/projects/{p}/documents"


def _import(client, name: str, body: dict) -> None:
    response = client.post(f"{A}/{name}/:import", params=V, json=body)
    assert response.status_code == 202, response.text
    assert wait(client, response.headers["Operation-Location"])["status"] == "succeeded"


@pytest.fixture
def tickets(client) -> dict:
    """A single-label project of 9 documents: some in Train or Test, two untagged."""
    rows = [{"text": f"ticket {i}: my card {'was charged twice' if i % 2 else 'has not arrived'}",
             "labels": ["billing" if i % 2 else "card"], "dataset": ("Train", "Test", None)[i % 3]} for i in range(9)]
    body = project_file("tickets", SINGLE, rows)
    for doc in body["assets"]["documents"][7:]:
        del doc["class"]  # doc7.txt and doc8.txt: nobody has tagged them yet
    _import(client, "tickets", body)
    return body


def everything(client, url: str, **params) -> list[dict]:
    """Every item of a list, following nextLink as the Azure SDKs do."""
    body = client.get(url, params=params).json()
    items = body["value"]
    while body["nextLink"]:
        assert body["nextLink"].startswith("http://testserver/language/"), body["nextLink"]
        body = client.get(body["nextLink"]).json()
        items += body["value"]
    return items


def test_the_list_is_the_exported_documents_with_whether_each_is_tagged(client, tickets):
    listed = client.get(DOCS.format(p="tickets"))
    assert listed.status_code == 200, listed.text
    assert listed.json()["nextLink"] is None
    items = listed.json()["value"]
    exported = tickets["assets"]["documents"]
    assert [{k: v for k, v in item.items() if k != "tagged"} for item in items] == exported  # the project file's shape, in order
    assert [item["tagged"] for item in items] == [True] * 7 + [False] * 2
    assert items[0] == {"location": "doc0.txt", "language": "en", "dataset": "Train", "class": {"category": "card"},
                        "text": "ticket 0: my card has not arrived", "tagged": True}
    assert "dataset" not in items[2]  # in neither set, as in a project file


def test_pages_follow_next_link_keeping_the_filters(client, tickets):
    first = client.get(DOCS.format(p="tickets"), params={"maxpagesize": 2, "class": "billing"}).json()
    assert [d["location"] for d in first["value"]] == ["doc1.txt", "doc3.txt"]
    assert first["nextLink"].startswith("http://testserver/language/tagwise/projects/tickets/documents?")
    assert "class=billing" in first["nextLink"] and "skip=2" in first["nextLink"]
    assert [d["location"] for d in everything(client, DOCS.format(p="tickets"), maxpagesize=2, **{"class": "billing"})] == \
        ["doc1.txt", "doc3.txt", "doc5.txt"]  # doc7.txt would be billing, but is untagged

    window = everything(client, DOCS.format(p="tickets"), top=3, skip=2, maxpagesize=2)
    assert [d["location"] for d in window] == ["doc2.txt", "doc3.txt", "doc4.txt"]
    assert client.get(DOCS.format(p="tickets"), params={"skip": 50}).json() == {"value": [], "nextLink": None}
    client.app.state.ctx.settings.max_page_size = 4  # TAGWISE_MAX_PAGE_SIZE caps a page, whatever maxpagesize asks
    capped = client.get(DOCS.format(p="tickets"), params={"maxpagesize": 100}).json()
    assert len(capped["value"]) == 4 and "skip=4" in capped["nextLink"]
    assert len(everything(client, DOCS.format(p="tickets"))) == 9


def test_filters(client, tickets):
    def locations(**params) -> list[str]:
        return [d["location"] for d in everything(client, DOCS.format(p="tickets"), **params)]

    assert locations(dataset="Test") == locations(dataset="test") == ["doc1.txt", "doc4.txt", "doc7.txt"]
    assert locations(dataset="none") == ["doc2.txt", "doc5.txt", "doc8.txt"]
    assert locations(untagged="true") == ["doc7.txt", "doc8.txt"]
    assert len(locations(untagged="false")) == 7
    assert locations(**{"class": "card"}, dataset="Train") == ["doc0.txt", "doc6.txt"]
    assert locations(search="TICKET 4") == ["doc4.txt"]  # in text or location, any case
    assert locations(search="doc8") == ["doc8.txt"]
    assert locations(dataset="", untagged="") == locations()  # an empty parameter filters nothing
    # a long search was SQLite's "LIKE or GLOB pattern too complex": a 500 from 50,000 characters
    for size in (1_001, 55_000):
        refused = client.get(DOCS.format(p="tickets"), params={"search": "a" * size})
        error = refused.json()["error"]
        assert refused.status_code == 400 and error["code"] == "InvalidArgument" and error["target"] == "search"
        assert error["message"].startswith(f"search is {size:,} characters; it takes at most 1,000")
    assert locations(search="ticket 4" + " " * 992) == []


def test_search_ignores_case_and_accents(client):
    rows = [{"text": t, "labels": ["x"]} for t in ("El NIÑO llegó tarde", "Les États-Unis", "Die Straße", "plain nino")]
    _import(client, "accents", project_file("accents", SINGLE, rows))

    def found(search: str) -> list[str]:
        return [d["text"] for d in everything(client, DOCS.format(p="accents"), search=search)]

    assert found("niño") == found("NINO") == ["El NIÑO llegó tarde", "plain nino"]
    assert found("etats-unis") == found("ÉTATS") == ["Les États-Unis"]
    assert found("LLEGO") == ["El NIÑO llegó tarde"]
    assert found("strasse") == ["Die Straße"]


def test_multi_label_documents_tagged_with_no_class_are_tagged(client):
    body = project_file("emo", MULTI, [{"text": "thanks, love it", "labels": ["gratitude", "love"]}, {"text": "meh", "labels": []},
                                       {"text": "not read yet", "labels": []}])
    del body["assets"]["documents"][2]["classes"]
    _import(client, "emo", body)
    items = client.get(DOCS.format(p="emo")).json()["value"]
    assert [(d.get("classes"), d["tagged"]) for d in items] == [
        ([{"category": "gratitude"}, {"category": "love"}], True), ([], True), (None, False)]
    assert [d["location"] for d in client.get(DOCS.format(p="emo"), params={"class": "love"}).json()["value"]] == ["doc0.txt"]


@pytest.mark.parametrize(("params", "target", "message"), [
    ({"top": "x"}, "top", "The query parameter top must be a whole number, not 'x'."),
    ({"top": "0"}, "top", "The query parameter top must be at least 1."),
    ({"top": ""}, "top", "The query parameter top is empty: give a whole number, or leave it out."),  # it read as no limit
    ({"$skip": " "}, "skip", "The query parameter skip is empty: give a whole number, or leave it out."),
    ({"skip": "-1"}, "skip", "The query parameter skip must be at least 0."),
    ({"maxpagesize": "0"}, "maxpagesize", "The query parameter maxpagesize must be at least 1."),
    ({"dataset": "dev"}, "dataset", "The dataset 'dev' is unknown; use Train, Test or none (documents in neither set)."),
    ({"class": "refund"}, "class", "The class 'refund' is not in project tickets; its classes: billing, card."),
    ({"untagged": "yes"}, "untagged", "The query parameter untagged must be true or false, not 'yes'."),
])
def test_bad_parameters_are_a_400_saying_what_to_send(client, tickets, params, target, message):
    response = client.get(DOCS.format(p="tickets"), params=params)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["target"], error["message"]) == ("InvalidArgument", target, message)


def test_an_unknown_project_is_404_and_a_runtime_key_may_not_read_documents(client, tickets):
    missing = client.get(DOCS.format(p="nope"))
    assert missing.status_code == 404
    assert missing.json()["error"] == {"code": "ProjectNotFound", "message": "The project nope could not be found.", "target": "projectName"}
    empty = client.patch(f"{A}/empty", params=V, headers={"Content-Type": "application/merge-patch+json"},
                         json={"projectKind": SINGLE, "language": "en", "storageInputContainerName": "empty"})
    assert empty.status_code == 201
    assert client.get(DOCS.format(p="empty")).json() == {"value": [], "nextLink": None}
    _, runtime = keys.create(client.app.state.ctx, "app", keys.RUNTIME)
    refused = client.get(DOCS.format(p="tickets"), headers={"Ocp-Apim-Subscription-Key": runtime})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "Forbidden"


def test_a_text_with_a_nul_character_is_refused_naming_its_document(client):
    # PostgreSQL cannot store one (a 500), and SQLite's search stopped at it
    rows = [{"text": "fine", "labels": ["x"]}, {"text": "before\x00after", "labels": ["y"]}]
    response = client.post("/language/authoring/analyze-text/projects/nul/:import", params={"api-version": "2023-04-01"},
                           json=project_file("nul", SINGLE, rows))
    assert response.status_code == 400 and response.json()["error"]["message"] == (
        "The document 'doc1.txt': its text has a NUL character (U+0000) at character 6, which no text holds (a binary file "
        "read as text, most often): remove it.")
    blob = client.put("/language/tagwise/containers/c/blobs/a.txt", content=b"a\x00b")
    assert blob.status_code == 400 and "NUL character" in blob.json()["error"]["message"]


def test_deleted_documents_leave_the_project_and_the_snapshot_of_every_model_trained_on_them(client, banking):
    # no route, command or page deleted a document: a customer's ticket stayed until the whole project was replaced,
    # and an export of a model trained on it gave it back after that
    from tests.api.conftest import create_and_import, train

    create_and_import(client, "bank", SINGLE, banking["train"][:120])
    assert train(client, "bank", "m1")["status"] == "succeeded"
    url = DOCS.format(p="bank") + ":delete"
    gone = client.post(url, params=V, json={"locations": ["doc3.txt", "doc5.txt"]})
    assert gone.status_code == 200 and gone.json() == {"deleted": 2, "modelsTrainedOnThem": ["m1"]}
    left = {d["location"] for d in everything(client, DOCS.format(p="bank"), **V)}
    assert len(left) == 118 and not {"doc3.txt", "doc5.txt"} & left
    exported = client.post(f"{A}/bank/:export", params={**V, "trainedModelLabel": "m1"})
    result = client.get(wait(client, exported.headers["Operation-Location"])["resultUrl"]).json()
    assert {"doc3.txt", "doc5.txt"}.isdisjoint(d["location"] for d in result["assets"]["documents"])
    # a document the model was only tested on: nothing of it was learned, so no model is named
    tested = next(d["location"] for d in result["assets"]["documents"] if d.get("dataset") == "Test")
    assert client.post(url, params=V, json={"locations": [tested]}).json() == {"deleted": 1, "modelsTrainedOnThem": []}
    # all or nothing: one location the project lacks deletes none
    missing = client.post(url, params=V, json={"locations": ["doc7.txt", "nope.txt"]})
    assert missing.status_code == 404 and "no document at 'nope.txt'; nothing was deleted" in missing.json()["error"]["message"]
    assert len(everything(client, DOCS.format(p="bank"), **V)) == 117
    bad = client.post(url, params=V, json={"location": "doc7.txt"})
    assert bad.status_code == 400 and "locations" in bad.json()["error"]["message"]


def test_a_tag_check_is_not_shown_for_another_project_that_reuses_a_deleted_ones_id(client):
    # SQLite gave a deleted project's id to the next one, whose Evaluate page showed the deleted project's texts
    from tagwise.core import label_issues, projects
    from tagwise.core.label_issues import LabelIssues

    ctx = client.app.state.ctx
    _import(client, "old", project_file("old", SINGLE, [{"text": "secret customer text", "labels": ["a"]}]))
    _, key = label_issues._key(ctx, "old")
    label_issues._issues[key] = LabelIssues(issues=[], checked=1, folds=5, seconds=0.1, computed_at=None)
    projects.delete(ctx, "old")
    _import(client, "other", project_file("other", SINGLE, [{"text": "another text", "labels": ["a"]}]))
    assert label_issues.label_issues(ctx, "other") is None
