"""Import (inline text or container blobs) lands whole or not at all; export round-trips."""

from __future__ import annotations

import copy
import json
import time

import pytest

from tests.api.conftest import CLASSIFY, MULTI, SINGLE, A, V, create_and_import, project_file, train, wait

BLOBS = "/language/tagwise/containers"


def export(client, name: str, **query: str) -> dict:
    response = client.post(f"{A}/{name}/:export", params=dict(V, stringIndexType="Utf16CodeUnit", **query))
    assert response.status_code == 202
    job = wait(client, response.headers["Operation-Location"])
    assert job["resultUrl"].startswith("http://testserver/")
    return client.get(job["resultUrl"]).json()


def test_import_inline_text_then_export_round_trips(client, banking):
    create_and_import(client, "bank", SINGLE, banking["train"][:60])
    exported = export(client, "bank")
    assert len(exported["assets"]["documents"]) == 60
    assert exported["assets"]["documents"][0]["text"] == banking["train"][0]["text"]

    copy_file = copy.deepcopy(exported)
    copy_file["metadata"]["projectName"] = "bank2"
    response = client.post(f"{A}/bank2/:import", params=V, json=copy_file)
    assert wait(client, response.headers["Operation-Location"])["status"] == "succeeded"
    again = export(client, "bank2")
    assert again["assets"] == exported["assets"]


def test_import_reads_texts_from_the_container(client, banking):
    rows = banking["train"][:12]
    for i, row in enumerate(rows):
        put = client.put(f"{BLOBS}/bank-docs/blobs/doc{i}.txt", content=row["text"].encode(), headers={"Content-Type": "text/plain; charset=utf-8"})
        assert put.status_code == 201
    assert client.put(f"{BLOBS}/bank-docs/blobs/doc0.txt", content=rows[0]["text"].encode("utf-8-sig")).status_code == 200
    assert client.get(f"{BLOBS}/bank-docs/blobs/doc0.txt").text == rows[0]["text"]  # a byte-order mark is not text
    assert client.get(f"{BLOBS}/bank-docs/blobs/doc3.txt").text == rows[3]["text"]
    assert len(client.get(f"{BLOBS}/bank-docs/blobs").json()["value"]) == 12

    body = project_file("fromblobs", SINGLE, rows, container="bank-docs")
    for doc in body["assets"]["documents"]:
        del doc["text"]
    response = client.post(f"{A}/fromblobs/:import", params=V, json=body)
    assert response.status_code == 202
    assert export(client, "fromblobs")["assets"]["documents"][5]["text"] == rows[5]["text"]
    # the texts are the container's, not the project's: they stay until the container is emptied, in one request
    assert client.delete(f"{A}/fromblobs", params=V).status_code == 202
    # a blob delete or upload whose location came out empty deletes nothing and says why (not a bare redirect)
    empty = client.delete(f"{BLOBS}/bank-docs/blobs/", follow_redirects=False)
    assert empty.status_code == 400 and "The blob location is empty" in empty.json()["error"]["message"]
    assert "add all=true" in empty.json()["error"]["message"]
    assert client.delete(f"{BLOBS}/bank-docs/blobs").json()["error"]["message"].startswith("To delete every blob")
    put = client.put(f"{BLOBS}/bank-docs/blobs/", content=b"text", follow_redirects=False)
    assert put.status_code == 400 and "name the blob" in put.json()["error"]["message"]
    read = client.get(f"{BLOBS}/bank-docs/blobs/", follow_redirects=False)  # a 405 said GET was not allowed at all
    assert read.status_code == 400 and "name the blob" in read.json()["error"]["message"]
    assert len(client.get(f"{BLOBS}/bank-docs/blobs").json()["value"]) == 12
    assert client.delete(f"{BLOBS}/bank-docs/blobs", params={"all": "true"}).json() == {"container": "bank-docs", "deletedBlobs": 12}
    assert client.get(f"{BLOBS}/bank-docs/blobs").json()["value"] == []
    gone = client.delete(f"{BLOBS}/bank-docs/blobs", params={"all": "true"})
    assert gone.status_code == 404 and gone.json()["error"]["message"] == "The container 'bank-docs' has no blobs."


def test_a_bad_document_rejects_the_whole_import(client, banking):
    create_and_import(client, "keep", SINGLE, banking["train"][:20])
    before = export(client, "keep")

    broken = project_file("keep", SINGLE, banking["train"][20:40])
    broken["assets"]["documents"][7]["class"] = {"category": "not-a-class"}
    response = client.post(f"{A}/keep/:import", params=V, json=broken)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["innererror"]["code"] == "InvalidDocument"
    assert "not-a-class" in error["message"] and "doc7.txt" in error["message"]
    assert export(client, "keep") == before  # nothing half-written


def test_import_rejects_bad_documents_with_reasons(client, banking):
    rows = banking["train"][:10]
    cases = {}
    empty = project_file("p", SINGLE, rows)
    empty["assets"]["documents"][2]["text"] = "   "
    cases["has no text"] = empty
    invisible = project_file("p", SINGLE, rows)
    invisible["assets"]["documents"][5]["text"] = "\u200b\u200c\u00ad"
    cases["'doc5.txt' has no text (only spaces or invisible characters)"] = invisible
    dup = project_file("p", SINGLE, rows)
    dup["assets"]["documents"][3]["location"] = "doc0.txt"
    cases["appears twice"] = dup
    missing = project_file("p", SINGLE, rows)
    del missing["assets"]["documents"][4]["text"]
    cases["no blob"] = missing
    traversal = project_file("p", SINGLE, rows)
    traversal["assets"]["documents"][1]["location"] = "../etc/passwd"
    cases["invalid"] = traversal
    dataset = project_file("p", SINGLE, rows)
    dataset["assets"]["documents"][1]["dataset"] = "Validation"
    cases["'Train' or 'Test'"] = dataset
    number = project_file("p", SINGLE, rows)
    number["assets"]["documents"][6]["text"] = 5
    cases["'doc6.txt': 'text' must be a string, not 5"] = number
    for phrase, body in cases.items():
        response = client.post(f"{A}/p/:import", params=V, json=body)
        assert response.status_code == 400, phrase
        assert phrase in response.json()["error"]["message"]
    # a lone surrogate (JSON's "\ud800") in a text or a class name was a 500 from the store
    for where, value in (("documents[3].text", "lone \ud800 high"), ("classes[0].category", "\udc00")):
        body = project_file("p", SINGLE, rows)
        if where.startswith("documents"):
            body["assets"]["documents"][3]["text"] = value
        else:
            body["assets"]["classes"][0]["category"] = value
        response = client.post(f"{A}/p/:import", params=V, content=json.dumps(body), headers={"content-type": "application/json"})
        assert response.status_code == 400, response.text
        assert f"assets.{where}: it has a lone UTF-16 surrogate" in response.json()["error"]["message"]
    assert client.get(f"{A}/p", params=V).status_code == 404  # no project was created either


def test_a_lone_surrogate_is_refused_by_every_route_that_reads_text(client, banking):
    # raw bytes too: Python's JSON parser reads ED A0 80 as "\ud800"
    create_and_import(client, "bank", SINGLE, banking["train"])
    for raw in (b'{"documents": [{"id": "1", "text": "fine"}, {"id": "2", "text": "lone \\ud800"}]}',
                b'{"documents": [{"id": "1", "text": "fine"}, {"id": "2", "text": "lone \xed\xa0\x80"}]}'):
        response = client.post(CLASSIFY.format(p="bank", d="nope"), content=raw, headers={"content-type": "application/json"})
        assert response.status_code == 400 and "documents[1].text: it has a lone UTF-16 surrogate (\\ud800)" in response.json()["error"]["message"]
    described = client.patch(f"{A}/bank", params=V, content=b'{"description": "\\udfff"}', headers={"content-type": "application/merge-patch+json"})
    assert described.status_code == 400 and "description: it has a lone" in described.json()["error"]["message"]
    pair = client.patch(f"{A}/bank", params=V, content=b'{"description": "\\ud83d\\ude00"}', headers={"content-type": "application/merge-patch+json"})
    assert pair.status_code == 200 and pair.json()["description"] == "\U0001f600"  # an emoji as its escaped pair is fine


def test_multi_label_documents_keep_all_their_classes(client, emotions):
    create_and_import(client, "emo", MULTI, emotions[:30])
    docs = export(client, "emo")["assets"]["documents"]
    assert [sorted(c["category"] for c in d["classes"]) for d in docs] == [sorted(r["labels"]) for r in emotions[:30]]


def test_a_malformed_file_never_reads_as_an_empty_one(client, banking, emotions):
    # documents that are null or an object must not replace the project's documents with none, and
    # tags under the other kind's key must not be dropped silently
    create_and_import(client, "keep", SINGLE, banking["train"][:20])
    create_and_import(client, "emo", MULTI, emotions[:20])
    before = export(client, "keep"), export(client, "emo")
    cases = []
    for documents in (None, {}):
        body = project_file("keep", SINGLE, banking["train"][:20])
        body["assets"]["documents"] = documents
        cases.append(("keep", body, "assets.documents must be a list"))
    single_tagged_as_multi = project_file("keep", SINGLE, banking["train"][:20])
    doc = single_tagged_as_multi["assets"]["documents"][3]
    doc["classes"] = [doc.pop("class")]
    cases.append(("keep", single_tagged_as_multi, "'doc3.txt' is tagged with 'classes', but the project is single-label"))
    multi_tagged_as_single = project_file("emo", MULTI, emotions[:20])
    doc = multi_tagged_as_single["assets"]["documents"][5]
    doc["class"] = doc.pop("classes")[0]
    cases.append(("emo", multi_tagged_as_single, "'doc5.txt' is tagged with 'class', but the project is multi-label"))
    # values of the wrong JSON type: 400s that name the document, not 500s
    for field, value, phrase in (("class", ["x"], "has the tag ['x']"), ("class", {"category": ["x"]}, "has the tag ['x']"),
                                 ("language", ["en"], "has language ['en']")):
        body = project_file("keep", SINGLE, banking["train"][:20])
        body["assets"]["documents"][1][field] = value
        cases.append(("keep", body, phrase))
    nested = project_file("emo", MULTI, emotions[:20])
    nested["assets"]["documents"][0]["classes"] = [["joy"]]
    cases.append(("emo", nested, "has the tag ['joy']"))
    container = project_file("keep", SINGLE, banking["train"][:20])
    container["metadata"]["storageInputContainerName"] = ["docs"]
    cases.append(("keep", container, "storageInputContainerName must be a string"))
    for name, body, phrase in cases:
        response = client.post(f"{A}/{name}/:import", params=V, json=body)
        assert response.status_code == 400, (phrase, response.text)
        assert phrase in response.json()["error"]["message"], phrase
    assert (export(client, "keep"), export(client, "emo")) == before


def test_export_refuses_a_model_label_that_does_not_exist(client, banking):
    create_and_import(client, "bank", SINGLE, banking["train"][:20])
    response = client.post(f"{A}/bank/:export", params=dict(V, stringIndexType="Utf16CodeUnit", trainedModelLabel="nosuch"))
    assert response.status_code == 404 and "nosuch" in response.json()["error"]["message"]


def test_a_file_of_the_other_kind_is_refused_for_its_kind(client, banking):
    # the documents of a multi-label file still written as single-label ones: the answer is about the kind
    create_and_import(client, "ps", SINGLE, banking["train"][:20])
    body = project_file("ps", SINGLE, banking["train"][:20])
    body["metadata"]["projectKind"] = body["assets"]["projectKind"] = MULTI
    response = client.post(f"{A}/ps/:import", params=V, json=body)
    assert response.status_code == 400 and "Import it into a new project" in response.json()["error"]["message"]  # as PATCH's
    assert response.json()["error"]["target"] == "projectKind"


@pytest.mark.serial  # times it: make test runs it alone
def test_a_class_list_far_over_the_limit_is_refused_at_once(client):
    # each class was compared with every earlier one before the limit was checked: 100,000 took minutes
    body = project_file("many", SINGLE, [])
    body["assets"]["classes"] = [{"category": f"c{i}"} for i in range(100_000)]
    started = time.monotonic()
    response = client.post(f"{A}/many/:import", params=V, json=body)
    assert response.status_code == 400 and "100000 classes; the limit is" in response.json()["error"]["message"]
    assert time.monotonic() - started < 10


def test_a_class_spelled_with_a_composed_or_a_decomposed_accent_is_one_class(client, banking):
    composed, decomposed = "caf\u00e9", "cafe\u0301"  # both show as "café"
    body = project_file("cafe", SINGLE, [{"text": "un cafe", "labels": [composed]}, {"text": "a tea", "labels": ["tea"]}])
    body["assets"]["documents"][0]["class"]["category"] = decomposed  # e.g. typed on another machine
    response = client.post(f"{A}/cafe/:import", params=V, json=body)
    assert wait(client, response.headers["Operation-Location"])["status"] == "succeeded"
    assets = export(client, "cafe")["assets"]
    assert [c["category"] for c in assets["classes"]] == [composed, "tea"]
    assert assets["documents"][0]["class"]["category"] == composed

    twice = project_file("cafe2", SINGLE, [{"text": "x", "labels": [composed]}])
    twice["assets"]["classes"].append({"category": decomposed})
    refused = client.post(f"{A}/cafe2/:import", params=V, json=twice)
    assert refused.status_code == 400 and "listed twice" in refused.json()["error"]["message"]
    assert "accent" in refused.json()["error"]["message"]


def test_a_bad_project_file_is_told_what_is_wrong_and_where(client, banking):
    # "The class name None is invalid" for a class written as a string, a blank class name "invalid" by
    # rules it met, a missing metadata reported at assets, and a 5,000-character value echoed whole
    rows = banking["train"][:20]
    cases = []
    as_string = project_file("msgs", SINGLE, rows)
    as_string["assets"]["classes"].append("billing")
    last = len(as_string["assets"]["classes"]) - 1
    cases.append((as_string, "classes", f'assets.classes[{last}] must be an object with the class name, {{"category": "..."}}, not \'billing\'.'))
    blank = project_file("msgs", SINGLE, rows)
    blank["assets"]["classes"].append({"category": "   "})
    cases.append((blank, "category", "The class name '   ' is blank: give it at least one character that is not a space or invisible."))
    no_metadata = project_file("msgs", SINGLE, rows)
    del no_metadata["metadata"]
    cases.append((no_metadata, "metadata", "The project file needs a 'metadata' object and an 'assets' object; its 'metadata' is missing."))
    bad_assets = project_file("msgs", SINGLE, rows)
    bad_assets["assets"] = []
    cases.append((bad_assets, "assets", "The project file needs a 'metadata' object and an 'assets' object; its 'assets' is a list."))
    long_dataset = project_file("msgs", SINGLE, rows)
    long_dataset["assets"]["documents"][2]["dataset"] = "x" * 5_000
    cases.append((long_dataset, "doc2.txt", "The document 'doc2.txt' has dataset '" + "x" * 97 + "…'; use 'Train' or 'Test'."))
    offsets = project_file("msgs", SINGLE, rows)  # any value was taken without a word; the export's query refuses it
    offsets["stringIndexType"] = "Utf8CodeUnit"
    cases.append((offsets, "stringIndexType", ("stringIndexType 'Utf8CodeUnit' is not supported: use Utf16CodeUnit, or leave it out "
                                               "(tagwise's project files carry no text offsets).")))
    for body, target, message in cases:
        response = client.post(f"{A}/msgs/:import", params=V, json=body)
        assert response.status_code == 400, response.text
        error = response.json()["error"]
        assert (error["message"], error.get("target")) == (message, target)
    assert client.get(f"{A}/msgs", params=V).status_code == 404  # nothing was written


def test_a_new_name_that_reads_other_than_it_is_written_is_refused(client, banking):
    # a right-to-left override drew class "invoice\u202etxt.exe" as "invoiceexe.txt" and turned the flash message after it
    # around; locations differing only by a zero-width space were drawn alike (deleting "ticket-42.txt" left two listed)
    rows = banking["train"][:20]
    create_and_import(client, "rtl", SINGLE, rows)
    override = project_file("rtl", SINGLE, banking["train"][20:21])
    override["assets"]["documents"][0].update(location="new.txt", **{"class": {"category": "invoice\u202etxt.exe"}})
    override["assets"]["classes"] = [{"category": "invoice\u202etxt.exe"}]
    invisible = project_file("rtl", SINGLE, banking["train"][20:21])
    invisible["assets"]["documents"][0]["location"] = "ticket\u200b-42.txt"
    for body, said in ((override, "holds U+202E, a direction override"), (invisible, "holds U+200B (invisible, or a direction override)")):
        response = client.post("/language/tagwise/projects/rtl/documents", json=body)
        assert response.status_code == 400 and said in json.dumps(response.json(), ensure_ascii=False), response.text
    assert len(export(client, "rtl")["assets"]["documents"]) == 20
    plain = project_file("rtl", SINGLE, banking["train"][20:21])  # right-to-left script itself is fine, direction marks too
    plain["assets"]["documents"][0].update(location="تذكرة-42\u200f.txt", **{"class": {"category": "فاتورة مزدوجة"}})
    plain["assets"]["classes"] = [{"category": "فاتورة مزدوجة"}]
    assert client.post("/language/tagwise/projects/rtl/documents", json=plain).status_code == 200
    # a replacing import takes an Azure project file's names as they are: an export made before must import again
    whole = project_file("rtl", SINGLE, rows)
    whole["assets"]["documents"][3]["location"] = "ticket\u200b-42.txt"
    whole["assets"]["classes"].append({"category": "invoice\u202etxt.exe"})
    response = client.post(f"{A}/rtl/:import", params=V, json=whole)
    assert response.status_code == 202 and wait(client, response.headers["operation-location"])["status"] == "succeeded"


def test_an_import_format_other_than_json_is_refused(client, banking):
    # the authoring SDK's format="aml" (a header) was ignored and the body imported as JSON
    body = project_file("fmt", SINGLE, banking["train"][:20])
    for how in ({"headers": {"format": "aml"}}, {"params": {**V, "format": "xyz"}}):
        response = client.post(f"{A}/fmt/:import", **{"params": V, **how}, json=body)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["target"] == "format" and "JSON project file" in response.json()["error"]["message"]
    assert client.get(f"{A}/fmt", params=V).status_code == 404  # nothing was created
    accepted = client.post(f"{A}/fmt/:import", params=V, headers={"format": "json"}, json=body)
    assert accepted.status_code == 202


def test_an_export_of_a_model_gives_what_it_was_trained_on_and_trains_the_same_model_again(client, banking):
    # trainedModelLabel was only checked to exist: the export held the project's current documents
    create_and_import(client, "snap", SINGLE, banking["train"][:120])
    assert train(client, "snap", "m1")["status"] == "succeeded"
    create_and_import(client, "snap", SINGLE, banking["train"][60:90])  # the project changes after the training
    assert len(export(client, "snap")["assets"]["documents"]) == 30

    kept = export(client, "snap", trainedModelLabel="m1")
    docs = kept["assets"]["documents"]
    summary = client.get(f"{A}/snap/models/m1/evaluation/summary-result", params=V).json()
    tests = sum(c["truePositiveCount"] + c["falseNegativeCount"] for c in summary["customSingleLabelClassificationEvaluation"]["classes"].values())
    assert len(docs) == 120 and sum(d["dataset"] == "Test" for d in docs) == tests
    assert {d["text"] for d in docs} == {r["text"] for r in banking["train"][:120]}

    # imported elsewhere and trained on its own split, it is the same model: the same answers on the same test set
    kept["metadata"]["projectName"] = "again"
    assert wait(client, client.post(f"{A}/again/:import", params=V, json=kept).headers["Operation-Location"])["status"] == "succeeded"
    assert train(client, "again", "m1", evaluation={"kind": "manual"})["status"] == "succeeded"

    def answers(project: str) -> dict[str, list]:
        rows = client.get(f"{A}/{project}/models/m1/evaluation/result", params={**V, "stringIndexType": "Utf16CodeUnit", "top": 100}).json()["value"]
        return {r["location"]: r["customSingleLabelClassificationResult"]["predictedClass"] for r in rows}

    assert answers("again") == answers("snap")

    def summary_of(project: str) -> dict:  # the calibration and every score: the same folds, the same model
        summary = client.get(f"{A}/{project}/models/m1/evaluation/summary-result", params=V).json()
        return {key: value for key, value in summary.items() if key != "evaluationOptions"}

    assert summary_of("again") == summary_of("snap")

    missing = client.post(f"{A}/snap/:export", params=dict(V, stringIndexType="Utf16CodeUnit", trainedModelLabel="nope"))
    assert missing.status_code == 404 and missing.json()["error"]["target"] == "trainedModelLabel"
    # a model trained before tagwise kept what models were trained on says so
    from sqlalchemy import delete

    from tagwise.storage.tables import model_snapshots

    with client.app.state.ctx.db.write() as conn:
        conn.execute(delete(model_snapshots))
    older = client.post(f"{A}/snap/:export", params=dict(V, stringIndexType="Utf16CodeUnit", trainedModelLabel="m1"))
    assert older.status_code == 400 and "trained by an older tagwise" in older.json()["error"]["message"]


def test_documents_can_be_added_without_sending_the_project_again(client, banking):
    # tagwise import --append exported, merged and imported the whole project: 75.8 s to add 1,000 to 300,000
    create_and_import(client, "grow", SINGLE, banking["train"][:20])
    before = {d["location"]: d for d in export(client, "grow")["assets"]["documents"]}
    added = project_file("grow", SINGLE, banking["train"][20:22])
    added["assets"]["documents"][0]["location"] = "doc3.txt"  # replaces doc3.txt
    added["assets"]["documents"][1]["location"] = "new.txt"
    added["assets"]["documents"][1]["class"] = {"category": "a-new-class"}
    added["assets"]["classes"].append({"category": "a-new-class"})
    response = client.post("/language/tagwise/projects/grow/documents", json=added)
    assert response.status_code == 200, response.text
    assert response.json() == {"documents": 2, "classes": len({r["labels"][0] for r in banking["train"][:22]}) + 1, "projectDocuments": 21,
                               "replacedDocuments": 1, "tagsRemoved": 0}
    # a nightly export of tickets the team has tagged, sent again untagged: replaced, and the answer says their tags went
    again = project_file("grow", SINGLE, banking["train"][3:5])
    for doc in again["assets"]["documents"]:
        del doc["class"]
    said = client.post("/language/tagwise/projects/grow/documents", json=again).json()
    assert (said["replacedDocuments"], said["tagsRemoved"]) == (2, 2)
    client.post("/language/tagwise/projects/grow/documents", json=project_file("grow", SINGLE, banking["train"][3:5]))
    after = {d["location"]: d for d in export(client, "grow")["assets"]["documents"]}
    assert set(after) == set(before) | {"new.txt"} and after["doc3.txt"]["text"] == banking["train"][20]["text"]
    assert after["doc5.txt"] == before["doc5.txt"]
    bad = project_file("grow", SINGLE, banking["train"][22:24])
    bad["assets"]["documents"][1]["text"] = "   "
    refused = client.post("/language/tagwise/projects/grow/documents", json=bad)
    assert refused.status_code == 400 and "has no text" in refused.json()["error"]["message"]
    assert {d["location"] for d in export(client, "grow")["assets"]["documents"]} == set(after)  # all or nothing
    added["metadata"]["projectName"] = "nope"
    missing = client.post("/language/tagwise/projects/nope/documents", json=added)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ProjectNotFound"
    added["metadata"]["projectName"] = "grow"  # the file of another project: its name was reported before the 404
    missing = client.post("/language/tagwise/projects/nope/documents", json=added)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "ProjectNotFound"


def test_a_documents_language_is_a_code_in_its_usual_spelling_or_the_import_is_refused(client, banking):
    # any short text was a language: "sadness", a label shifted into a CSV's language column, was stored as one
    body = project_file("langs", SINGLE, banking["train"][:30])
    body["assets"]["documents"][0]["language"] = "DE"
    body["assets"]["documents"][1]["language"] = "zh-hans"
    bad = copy.deepcopy(body)
    bad["assets"]["documents"][2]["language"] = "sadness"
    refused = client.post(f"{A}/langs/:import", params=V, json=bad)
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert "has language 'sadness': a language code is 2 or 3 letters" in error["innererror"]["message"]
    assert client.get(f"{A}/langs", params=V).status_code == 404  # nothing landed

    assert wait(client, client.post(f"{A}/langs/:import", params=V, json=body).headers["Operation-Location"])["status"] == "succeeded"
    languages = [d["language"] for d in export(client, "langs")["assets"]["documents"][:3]]
    assert sorted(languages) == sorted(["de", "zh-Hans", "en"])

    # a document that names no language takes the project's, in the same spelling ("EN" and "en" were two languages)
    body["metadata"]["language"] = "EN"
    for doc in body["assets"]["documents"][2:]:
        del doc["language"]
    assert wait(client, client.post(f"{A}/langs/:import", params=V, json=body).headers["Operation-Location"])["status"] == "succeeded"
    exported = export(client, "langs")
    assert exported["metadata"]["language"] == "en"
    assert {d["language"] for d in exported["assets"]["documents"][2:]} == {"en"}


def test_documents_added_with_a_class_that_looks_like_one_the_project_has_are_refused(client, banking):
    # "CARD_ARRIVAL" appended beside "card_arrival" became a second class (the studio's upload refused it)
    create_and_import(client, "twins", SINGLE, banking["train"][:20])
    taken = export(client, "twins")["assets"]["classes"][0]["category"]
    for twin, whose in ((taken.upper(), "the project's"), ("".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in taken), "the project's")):
        added = project_file("twins", SINGLE, banking["train"][20:21])
        added["assets"]["documents"][0].update(location="new.txt", **{"class": {"category": twin}})
        added["assets"]["classes"] = [{"category": twin}]
        refused = client.post("/language/tagwise/projects/twins/documents", json=added)
        assert refused.status_code == 400, refused.text
        assert refused.json()["error"]["message"].startswith(f"The class {twin!r} differs from {whose} {taken!r} only in case"), refused.text
    both = project_file("twins", SINGLE, banking["train"][20:22])  # two new classes of one file that read the same
    for doc, name in zip(both["assets"]["documents"], ("Refund", "REFUND"), strict=True):
        doc.update(location=f"{name}.txt", **{"class": {"category": name}})
    both["assets"]["classes"] = [{"category": "Refund"}, {"category": "REFUND"}]
    refused = client.post("/language/tagwise/projects/twins/documents", json=both)
    assert refused.status_code == 400 and "differs from this file's 'Refund' only in case" in refused.json()["error"]["message"]
    # Arabic script: the Persian and the Arabic yeh are drawn alike, and a hamza or vowel marks are what typing leaves out
    for first, second in (("تغيير", "تغییر"), ("إلغاء", "الغاء")):
        arabic = project_file("twins", SINGLE, banking["train"][20:22])
        for doc, name in zip(arabic["assets"]["documents"], (first, second), strict=True):
            doc.update(location=f"ar-{len(name)}-{ord(name[-2])}.txt", **{"class": {"category": name}})
        arabic["assets"]["classes"] = [{"category": first}, {"category": second}]
        refused = client.post("/language/tagwise/projects/twins/documents", json=arabic)
        assert refused.status_code == 400 and "only in Arabic or Hebrew spelling" in refused.json()["error"]["message"], refused.text
    assert len(export(client, "twins")["assets"]["documents"]) == 20  # nothing added
    # a replacing import takes the file as it is, as Azure does
    whole = project_file("twins", SINGLE, banking["train"][:10])
    whole["assets"]["documents"] += both["assets"]["documents"]
    whole["assets"]["classes"] += both["assets"]["classes"]
    response = client.post(f"{A}/twins/:import", params=V, json=whole)
    assert response.status_code == 202, response.text
    assert wait(client, response.headers["operation-location"])["status"] == "succeeded"
