"""Documents and the class schema: add, tag, datasets, filtered pages, class edits.

Every test runs on SQLite and on a real PostgreSQL (``ctx`` in ``tests/core/conftest.py``).
"""

from __future__ import annotations

import time

import pytest

from tagwise.core import projects, readiness, schema, tagging
from tagwise.errors import Conflict, InvalidRequest, NotFound
from tagwise.storage.document_records import DocumentFilter

MULTI = "CustomMultiLabelClassification"


def _ids(ctx, flt, **kw):
    return [d["location"] for d in tagging.list_documents(ctx, "p", flt, **kw).items]


def test_create_project_never_overwrites(ctx, project):
    with pytest.raises(Conflict):
        tagging.create_project(ctx, "p", MULTI, "de")


def test_add_documents_appends_and_adds_classes(ctx, project):
    view = readiness.overview(ctx, "p")
    assert view["project"]["classes"] == ["card", "fx"] and (view["total"], view["tagged"], view["untagged"]) == (5, 3, 2)
    assert _ids(ctx, DocumentFilter())[-1] == "doc-000005.txt"
    tagging.add_documents(ctx, "p", [{"text": "one more"}])
    assert readiness.overview(ctx, "p")["total"] == 6


def test_add_documents_is_all_or_nothing(ctx, project):
    with pytest.raises(Conflict, match="a.txt"):
        tagging.add_documents(ctx, "p", [{"location": "new.txt", "text": "x"}, {"location": "a.txt", "text": "y"}])
    # thousands already there: counted as numbers are elsewhere, five named ("20000 ... t5.txt ...." before)
    many = [{"location": f"m{i:05d}.txt", "text": f"text {i}"} for i in range(1_200)]
    tagging.add_documents(ctx, "p", many)
    with pytest.raises(Conflict, match=r"^1,200 document\(s\) already exist in p: m00000.txt, m00001.txt, m00002.txt, m00003.txt, "
                                       r"m00004.txt and 1,195 more\. Remove them"):
        tagging.add_documents(ctx, "p", many)
    with pytest.raises(InvalidRequest, match="single-label"):
        tagging.add_documents(ctx, "p", [{"location": "two.txt", "text": "x", "labels": ["card", "fx"]}])
    with pytest.raises(InvalidRequest, match="no text"):
        tagging.add_documents(ctx, "p", [{"location": "empty.txt", "text": "  "}])
    assert readiness.overview(ctx, "p")["total"] == 5 + 1_200


def test_a_decomposed_accent_tags_with_the_same_class(ctx, project):
    composed, decomposed = "caf\u00e9", "cafe\u0301"
    schema.add_class(ctx, "p", decomposed)
    tagging.add_documents(ctx, "p", [{"location": "c1.txt", "text": "un cafe", "labels": composed},
                                     {"location": "c2.txt", "text": "un autre", "labels": decomposed}])
    view = readiness.overview(ctx, "p")
    assert view["project"]["classes"] == ["card", "fx", composed]
    with pytest.raises(Conflict):
        schema.add_class(ctx, "p", composed)


@pytest.mark.serial  # times it: make test runs it alone
def test_an_upload_naming_too_many_classes_is_refused_at_the_first_one_over(ctx, project):
    # each label was looked up in a list inside the write transaction: 40,000 took 25 s and held every write
    items = [{"location": f"u{i}.txt", "text": "t", "labels": f"L{i}"} for i in range(40_000)]
    started = time.monotonic()
    with pytest.raises(InvalidRequest, match="at most 200 classes; this would make 201"):
        tagging.add_documents(ctx, "p", items)
    assert time.monotonic() - started < 5
    assert readiness.overview(ctx, "p")["total"] == 5


def test_filters_search_status_class_and_dataset(ctx, project):
    assert _ids(ctx, DocumentFilter(search="CARD")) == ["a.txt", "c.txt"]
    assert _ids(ctx, DocumentFilter(search="100%")) == ["d.txt"]  # LIKE wildcards are literal
    assert _ids(ctx, DocumentFilter(search="the_r")) == ["d.txt"]
    assert _ids(ctx, DocumentFilter(status="untagged")) == ["d.txt", "doc-000005.txt"]
    assert _ids(ctx, DocumentFilter(status="tagged", label="card")) == ["a.txt", "c.txt"]
    assert _ids(ctx, DocumentFilter(dataset="Test")) == ["b.txt"]
    assert _ids(ctx, DocumentFilter(dataset="none")) == ["c.txt", "d.txt", "doc-000005.txt"]
    page = tagging.list_documents(ctx, "p", DocumentFilter(), page=2, page_size=2)
    assert [d["location"] for d in page.items] == ["c.txt", "d.txt"] and page.total == 5 and page.pages == 3


def test_search_ignores_case_in_every_script(ctx, project):
    # SQLite's LIKE folded ASCII only: TÜRKEI, ЗАКАЗ and ÉTATS found nothing
    tagging.add_documents(ctx, "p", [{"location": "tr.txt", "text": "Die Türkei und die Straße"},
                                     {"location": "ru.txt", "text": "мой заказ"},
                                     {"location": "fr.txt", "text": "Les États-Unis"}])
    assert _ids(ctx, DocumentFilter(search="TÜRKEI")) == ["tr.txt"]
    assert _ids(ctx, DocumentFilter(search="ЗАКАЗ")) == ["ru.txt"]
    assert _ids(ctx, DocumentFilter(search="états")) == ["fr.txt"]


def test_set_labels_returns_the_previous_ones(ctx, project):
    doc_id = tagging.list_documents(ctx, "p", DocumentFilter(search="100%")).items[0]["id"]
    doc, previous = tagging.set_labels(ctx, "p", doc_id, ["fx"])
    assert previous is None and doc["labels"] == ["fx"]
    _, previous = tagging.set_labels(ctx, "p", doc_id, None)
    assert previous == ["fx"]
    with pytest.raises(InvalidRequest):
        tagging.set_labels(ctx, "p", doc_id, ["card", "fx"])
    with pytest.raises(InvalidRequest, match="not a class"):
        tagging.set_labels(ctx, "p", doc_id, ["nope"])
    with pytest.raises(NotFound):
        tagging.set_labels(ctx, "p", 999, ["fx"])


def test_people_saving_one_documents_tags_at_once_overwrite_nothing_unseen(ctx):
    # a team probe: four people each added a class to one multi-label document; one class of four was kept
    from concurrent.futures import ThreadPoolExecutor

    tagging.create_project(ctx, "emo", "CustomMultiLabelClassification", "en")
    for c in ("joy", "fear", "love", "anger"):
        schema.add_class(ctx, "emo", c)
    tagging.add_documents(ctx, "emo", [{"location": "e.txt", "text": "what a day"}])
    [doc] = tagging.list_documents(ctx, "emo", DocumentFilter()).items

    def add(label: str) -> str:
        try:
            tagging.set_labels(ctx, "emo", doc["id"], [label], location="e.txt", seen=None)  # each page showed it untagged
            return "saved"
        except tagging.TagChanged as exc:
            return exc.message

    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(add, ["joy", "fear", "love", "anger"]))
    assert answers.count("saved") == 1, answers  # the others are told, and saved nothing
    [kept] = tagging.get_document(ctx, "emo", doc["id"])[1]["labels"]
    assert all(a == "saved" or a.startswith(f"e.txt was tagged '{kept}' since this page showed it untagged") for a in answers)
    tagging.set_labels(ctx, "emo", doc["id"], [kept, "joy"] if kept != "joy" else ["joy", "love"], seen=[kept])  # seen as it is: saved
    with pytest.raises(NotFound, match="other.txt could not be found in project emo: deleted since this page was opened"):
        tagging.set_labels(ctx, "emo", doc["id"], ["joy"], location="other.txt")


def test_a_save_sent_twice_saves_once_and_is_not_refused(ctx, project, monkeypatch):
    # a double click on "Use suggestion" sent two saves: the second was refused in red as tagged since by the
    # person who sent both, though the tag was saved
    doc = tagging.list_documents(ctx, "p", DocumentFilter(search="100%")).items[0]
    first, previous = tagging.set_labels(ctx, "p", doc["id"], ["fx"], location=doc["location"], seen=doc["labels"], by="dana")
    again, previous_again = tagging.set_labels(ctx, "p", doc["id"], ["fx"], location=doc["location"], seen=doc["labels"], by="dana")
    assert again["labels"] == ["fx"] and again["tagged_at"].replace(tzinfo=None) == first["tagged_at"].replace(tzinfo=None)  # written once
    assert previous_again == previous == doc["labels"]  # Undo restores what the page showed
    with pytest.raises(tagging.TagChanged, match="was tagged 'fx' by dana since this page showed it"):
        tagging.set_labels(ctx, "p", doc["id"], ["fx"], location=doc["location"], seen=doc["labels"], by="sam")  # another person
    with pytest.raises(tagging.TagChanged):
        tagging.set_labels(ctx, "p", doc["id"], ["card"], location=doc["location"], seen=doc["labels"], by="dana")  # another tag
    monkeypatch.setattr(tagging, "SENT_AGAIN_S", 0)  # a page older than the save: people sharing a key hear of it
    with pytest.raises(tagging.TagChanged):
        tagging.set_labels(ctx, "p", doc["id"], ["fx"], location=doc["location"], seen=doc["labels"], by="dana")


def test_set_dataset_by_ids_or_filter(ctx, project):
    assert tagging.set_dataset(ctx, "p", "Test", flt=DocumentFilter(label="card")) == 2
    assert _ids(ctx, DocumentFilter(dataset="Test")) == ["a.txt", "b.txt", "c.txt"]
    first = tagging.list_documents(ctx, "p", DocumentFilter()).items[0]["id"]
    assert tagging.set_dataset(ctx, "p", "none", ids=[first]) == 1
    with pytest.raises(InvalidRequest):
        tagging.set_dataset(ctx, "p", "Validation", ids=[first])


def test_rename_keeps_every_tag_and_delete_untags(ctx, project):
    assert schema.rename_class(ctx, "p", "card", 'card "problems"') == 2
    assert _ids(ctx, DocumentFilter(label='card "problems"')) == ["a.txt", "c.txt"]
    assert readiness.overview(ctx, "p")["project"]["classes"] == ['card "problems"', "fx"]
    with pytest.raises(Conflict):
        schema.rename_class(ctx, "p", "fx", 'card "problems"')
    assert schema.delete_class(ctx, "p", "fx") == 1
    assert _ids(ctx, DocumentFilter(status="untagged")) == ["b.txt", "d.txt", "doc-000005.txt"]
    with pytest.raises(NotFound):
        schema.delete_class(ctx, "p", "fx")


def test_multi_label_rename_merges_and_delete_keeps_other_tags(ctx):
    tagging.create_project(ctx, "m", MULTI, "en")
    tagging.add_documents(ctx, "m", [{"location": "x", "text": "t", "labels": ["a", "b"]}, {"location": "y", "text": "t", "labels": []}])
    schema.add_class(ctx, "m", "c")
    schema.rename_class(ctx, "m", "a", "z")
    schema.delete_class(ctx, "m", "b")
    docs = {d["location"]: d["labels"] for d in tagging.list_documents(ctx, "m", DocumentFilter()).items}
    assert docs == {"x": ["z"], "y": []}  # [] = tagged with no class, still tagged
    # merging a class into one the project has: a document with both keeps one; the class and its threshold go
    tagging.add_documents(ctx, "m", [{"location": "w", "text": "t", "labels": ["c", "z"]}])
    projects.upsert(ctx, "m", {"settings": {"classThresholds": {"c": 0.3, "z": 0.6}}})
    assert schema.rename_class(ctx, "m", "c", "z", merge=True) == 1
    docs = {d["location"]: d["labels"] for d in tagging.list_documents(ctx, "m", DocumentFilter()).items}
    assert docs["w"] == ["z"] and "c" not in projects.get(ctx, "m")["classes"]
    assert projects.get(ctx, "m")["settings"]["classThresholds"] == {"z": 0.6}


def test_documents_tagged_no_class_can_be_listed(ctx):
    # a shared inbox could not find the messages it had marked "no class"
    tagging.create_project(ctx, "m", MULTI, "en")
    tagging.add_documents(ctx, "m", [{"location": "x", "text": "t", "labels": ["a"]}, {"location": "y", "text": "t", "labels": []},
                                     {"location": "z", "text": "t"}])
    assert [d["location"] for d in tagging.list_documents(ctx, "m", DocumentFilter(status="noclass")).items] == ["y"]
    assert [d["location"] for d in tagging.list_documents(ctx, "m", DocumentFilter(status="tagged")).items] == ["x", "y"]


def test_an_upload_keeps_each_documents_language(ctx, project):
    # the studio stored every document with the project's language, so an "en" project of German,
    # Spanish and French tickets never switched to the multilingual encoder
    from tagwise.core import documents

    tagging.add_documents(ctx, "p", [{"location": "de.txt", "text": "Wo ist meine Karte?", "language": "de"},
                                     {"location": "en.txt", "text": "where is my card", "language": ""}])
    exported = {d["location"]: d["language"] for d in documents.export_project(ctx, "p")["assets"]["documents"]}
    assert exported["de.txt"] == "de" and exported["en.txt"] == readiness.overview(ctx, "p")["project"]["language"]
    with pytest.raises(InvalidRequest, match="bad.txt"):
        tagging.add_documents(ctx, "p", [{"location": "bad.txt", "text": "x", "language": "not a\nlanguage"}])
    # a document that declares none follows the project's language, also once it changes: stamped with the project's at
    # upload, a project made "en" by default and set to "de" later read every German ticket as declaring English
    from tagwise.core import projects

    documents.import_project(ctx, "p", {"metadata": {"projectName": "p"}, "assets": {
        "projectKind": projects.get(ctx, "p")["kind"], "documents": [{"location": "plain.txt", "text": "Wo ist meine Karte?"}]}},
                             append=True)
    projects.upsert(ctx, "p", {"language": "de"})
    exported = {d["location"]: d["language"] for d in documents.export_project(ctx, "p")["assets"]["documents"]}
    assert exported["en.txt"] == exported["plain.txt"] == "de" and exported["de.txt"] == "de"


def test_a_classes_own_threshold_follows_its_rename_and_goes_with_it(ctx):
    # settings.classThresholds kept the old name: the override stopped applying, and the export was refused on import
    from tagwise.core import documents, projects

    tagging.create_project(ctx, "t", MULTI, "en")
    tagging.add_documents(ctx, "t", [{"location": f"d{i}", "text": f"text {i}", "labels": [["joy"], ["grief"], ["fear"]][i % 3]}
                                     for i in range(9)])
    projects.upsert(ctx, "t", {"settings": {"confidenceThreshold": 0.3, "classThresholds": {"joy": 0.6, "grief": 0.2}}})
    schema.rename_class(ctx, "t", "joy", "happiness")
    assert projects.get(ctx, "t")["settings"] == {"confidenceThreshold": 0.3, "classThresholds": {"happiness": 0.6, "grief": 0.2}}
    schema.delete_class(ctx, "t", "grief")
    assert projects.get(ctx, "t")["settings"]["classThresholds"] == {"happiness": 0.6}
    schema.delete_class(ctx, "t", "happiness")
    assert projects.get(ctx, "t")["settings"] == {"confidenceThreshold": 0.3}
    exported = documents.export_project(ctx, "t")
    exported["metadata"]["projectName"] = "t2"
    documents.import_project(ctx, "t2", exported)  # the export imports again


def test_a_deleted_documents_id_is_never_given_again(ctx, project):
    # SQLite gave the highest deleted id to the next document: a Tag page open on it tagged another text,
    # and "all N matching" could not tell the two lists apart
    from tagwise.core import documents

    newest = max(d["id"] for d in tagging.list_documents(ctx, "p", DocumentFilter()).items)
    documents.delete_documents(ctx, "p", ids=[newest])
    tagging.add_documents(ctx, "p", [{"location": "next.txt", "text": "another ticket"}])
    [added] = tagging.list_documents(ctx, "p", DocumentFilter(search="another ticket")).items
    assert added["id"] > newest
