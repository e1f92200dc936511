"""Two requests at once on one project: each lands whole, as if one came after the other.

On PostgreSQL (READ COMMITTED) a write that read the project without locking it could lose the
other's change or act on rows the other had just deleted: a race probe of ``serve --workers 2``
found classes and settings lost, documents tagged with a class deleted at that moment, two swaps
that were one, and 500s. Every write of a project's state now locks its row first (SQLite's one
writer already made them take turns).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from tagwise.core import deployments, projects, schema, tagging
from tagwise.errors import TagwiseError
from tagwise.storage import records
from tagwise.storage.document_records import DocumentFilter
from tagwise.storage.records import utcnow

ROUNDS = 12


def _documents(ctx, project: str) -> list[dict]:
    return tagging.list_documents(ctx, project, DocumentFilter(), page_size=100).items


def at_once(*calls: Callable[[], object]) -> list[object]:
    """Run ``calls`` on threads released together; each one's result or the TagwiseError it raised
    (any other exception, such as a deadlock or a unique violation, fails the test)."""
    barrier, results = threading.Barrier(len(calls)), [None] * len(calls)

    def run(index: int, call: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - judged below, in the test's thread
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    unexpected = [r for r in results if isinstance(r, Exception) and not isinstance(r, TagwiseError)]
    assert not unexpected, unexpected  # a 500
    return results


def test_classes_added_at_once_are_both_kept(ctx, project):
    for i in range(ROUNDS):
        at_once(lambda i=i: schema.add_class(ctx, project, f"a{i}"), lambda i=i: schema.add_class(ctx, project, f"b{i}"))
    classes = projects.get(ctx, project)["classes"]
    assert {f"a{i}" for i in range(ROUNDS)} | {f"b{i}" for i in range(ROUNDS)} <= set(classes), classes  # 12 of 20 lost one


def test_a_document_is_never_left_tagged_with_a_class_deleted_at_that_moment(ctx, project):
    doc_ids = [d["id"] for d in _documents(ctx, project)]
    for i, doc_id in enumerate(doc_ids * 3):
        schema.add_class(ctx, project, f"x{i}")
        at_once(lambda i=i, doc_id=doc_id: tagging.set_labels(ctx, project, doc_id, [f"x{i}"]),
                lambda i=i: schema.delete_class(ctx, project, f"x{i}"))
    classes = set(projects.get(ctx, project)["classes"])
    ghosts = [d["labels"] for d in _documents(ctx, project) if d["labels"] and not set(d["labels"]) <= classes]
    assert not ghosts  # 5 of 20 were, and the project's own export no longer imported


def test_two_swaps_at_once_are_two_swaps(ctx, project):
    with ctx.db.write() as conn:
        project_id = records.get_project(conn, project)["id"]
        for name, model in (("blue", "m1"), ("green", "m2")):
            records.upsert_deployment(conn, project_id, {"name": name, "model_label": model, "model_id": f"{model}-id",
                                                         "trained_at": utcnow(), "deployed_at": utcnow(), "config_version": "linear"})
    body = {"firstDeploymentName": "blue", "secondDeploymentName": "green"}
    for _ in range(ROUNDS):
        assert at_once(lambda: deployments.swap(ctx, project, body), lambda: deployments.swap(ctx, project, body)) == [None, None]
        served = {d["name"]: d["model_label"] for d in deployments.list_all(ctx, project)}
        assert served == {"blue": "m1", "green": "m2"}, served  # one lost, or both names on one model


def test_a_patch_beside_a_delete_is_either_before_or_after_it(ctx, project):
    for i in range(ROUNDS):
        name = f"short-lived-{i}"
        body = {"projectKind": "CustomSingleLabelClassification", "language": "en", "storageInputContainerName": name}
        projects.upsert(ctx, name, body)
        # the body a client sends to create or update it: updated then deleted, or deleted then created again
        patched, deleted = at_once(lambda name=name, body=body: projects.upsert(ctx, name, dict(body, description="patched")),
                                   lambda name=name: projects.delete(ctx, name))
        assert deleted is None and patched[0]["description"] == "patched", patched  # a TypeError (500) on PostgreSQL


def test_settings_patched_at_once_keep_both_changes(ctx):
    multi = "CustomMultiLabelClassification"
    projects.upsert(ctx, "moods", {"projectKind": multi, "language": "en", "storageInputContainerName": "moods"})
    tagging.add_documents(ctx, "moods", [{"location": f"{c}.txt", "text": c, "labels": [c]} for c in "ab"])
    for i in range(ROUNDS):
        at_once(lambda i=i: projects.upsert(ctx, "moods", {"settings": {"classThresholds": {"a": 0.1 + i / 100}}}),
                lambda i=i: projects.upsert(ctx, "moods", {"settings": {"classThresholds": {"b": 0.2 + i / 100}}}))
        assert projects.get(ctx, "moods")["settings"]["classThresholds"] == {"a": 0.1 + i / 100, "b": 0.2 + i / 100}


def test_one_project_name_created_twice_at_once_is_one_project_and_one_conflict(ctx):
    # the studio's "new project" looked, then inserted: on PostgreSQL the second insert was a 500
    for i in range(ROUNDS):
        name = f"twice-{i}"
        made = at_once(*[lambda name=name: tagging.create_project(ctx, name, "CustomSingleLabelClassification", "en")] * 2)
        assert sorted(type(result).__name__ for result in made) == ["Conflict", "dict"], made


def test_one_blob_uploaded_twice_at_once_is_stored_once(ctx, project):
    # the container upload deleted, then inserted: on PostgreSQL the second insert was a 500
    from tagwise.core import blobs

    for i in range(ROUNDS):
        made = at_once(lambda i=i: blobs.put(ctx, project, f"same-{i}.txt", "first"), lambda i=i: blobs.put(ctx, project, f"same-{i}.txt", "second"))
        assert sorted(made) == [False, True], made  # one created it, the other replaced it
        assert blobs.get(ctx, project, f"same-{i}.txt") in ("first", "second")


def test_a_tag_page_opened_while_its_project_is_deleted_is_a_404(ctx):
    # the lease it writes pointed at a project deleted meanwhile: a unique-key violation, a 500 (6 of 10, a review)
    from tagwise.core import review_queue

    for i in range(ROUNDS):
        name = f"going-{i}"
        tagging.create_project(ctx, name, "CustomSingleLabelClassification", "en")
        tagging.add_documents(ctx, name, [{"location": f"{n}.txt", "text": f"ticket {n}"} for n in range(5)])
        shown, _ = at_once(lambda name=name: review_queue.next_in_queue(ctx, name, holder="someone"),
                           lambda name=name: projects.delete(ctx, name))
        assert not isinstance(shown, TagwiseError) or type(shown).__name__ == "ProjectNotFound", shown
