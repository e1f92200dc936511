"""The model's suggestions and the uncertainty queue (and the newest model's evaluation details).

Every test runs on SQLite and on a real PostgreSQL (``ctx`` in ``tests/core/conftest.py``).
"""

from __future__ import annotations

import pytest

from tagwise.core import model_results, review_queue, schema, tagging
from tagwise.storage.document_records import DocumentFilter

SINGLE = "CustomSingleLabelClassification"


def _spread(ids):
    """Untagged ids in the order the queue offers them before a model (``spread_untagged_ids``)."""
    from tagwise.storage.document_records import ID_MIX, ID_MOD

    return sorted(ids, key=lambda i: (i * ID_MIX % ID_MOD, i))


def test_queue_without_a_model_is_spread_over_the_project(ctx, project):
    # a file sorted by class, tagged from its start, gave 153 documents of one class before a model could be trained
    untagged = [d["id"] for d in tagging.list_documents(ctx, "p", DocumentFilter(status="untagged")).items]
    first, ranked = review_queue.next_in_queue(ctx, "p")
    view = tagging.tagging_view(ctx, "p")
    assert not ranked and view.doc["id"] == first == _spread(untagged)[0] and view.suggestion is None
    second, _ = review_queue.next_in_queue(ctx, "p", skip=(first,))
    assert second == _spread(untagged)[1]


def test_a_class_sorted_file_is_offered_across_its_classes_before_a_model(ctx):
    tagging.create_project(ctx, "sorted", SINGLE, "en")
    tagging.add_documents(ctx, "sorted", [{"location": f"{c}{i}.txt", "text": f"{c} {i}"} for c in "abcd" for i in range(50)])
    offered, skip = [], []
    for _ in range(8):
        doc_id, _ = review_queue.next_in_queue(ctx, "sorted", skip=tuple(skip))
        skip.append(doc_id)
        offered.append(tagging.get_document(ctx, "sorted", doc_id)[1]["location"][0])
    assert len(set(offered)) >= 3, offered  # in file order: eight of "a"


def test_queue_and_suggestions_follow_the_newest_model(ctx, banking):
    _trained_with_untagged(ctx, banking)
    doc_id, ranked = review_queue.next_in_queue(ctx, "q")
    view = tagging.tagging_view(ctx, "q")
    assert ranked and view.ranked and view.doc["id"] == doc_id
    assert view.suggestion.model_label == "m" and view.suggestion.labels[0] in view.project["classes"]
    assert 0 < view.suggestion.confidence <= 1
    details = model_results.evaluation_details(ctx, "q")
    assert details["model"]["label"] == "m" and sum(c["test"] for c in details["counts"].values()) > 0


def test_queue_without_a_model_skips_tagged_and_skipped_documents(ctx, project):
    """The first untagged document of the spread order not skipped, wherever the untagged documents lie; None once all are skipped."""
    ids = {d["location"]: d["id"] for d in tagging.list_documents(ctx, "p", DocumentFilter()).items}
    tagging.set_labels(ctx, "p", ids["d.txt"], ["card"])
    untagged = [ids[loc] for loc in ids if tagging.get_document(ctx, "p", ids[loc])[1]["labels"] is None]
    assert review_queue.next_in_queue(ctx, "p") == (_spread(untagged)[0], False)
    tagging.set_labels(ctx, "p", ids["a.txt"], None)
    order = _spread([*untagged, ids["a.txt"]])
    assert review_queue.next_in_queue(ctx, "p") == (order[0], False)
    assert review_queue.next_in_queue(ctx, "p", skip=(order[0],)) == (order[1], False)
    assert review_queue.next_in_queue(ctx, "p", skip=tuple(order)) == (None, False)


def test_queue_ranks_a_seeded_pool_and_refills_it_when_few_are_left(ctx, banking, monkeypatch):
    """The queue's choices step by step: the pool is a seeded sample of the untagged documents (id order),
    the next document the least sure of the pool's untagged, not skipped ones (ties by id), and a new pool
    of the unscored ones is scored only when fewer than ``QUEUE_REFILL`` are left."""
    import random

    monkeypatch.setattr(review_queue, "QUEUE_POOL", 8)
    monkeypatch.setattr(review_queue, "QUEUE_REFILL", 3)
    _trained_with_untagged(ctx, banking)
    model_id = model_results.evaluation_details(ctx, "q")["model"]["model_id"]
    untagged = [d["id"] for d in tagging.list_documents(ctx, "q", DocumentFilter(status="untagged"), page_size=1000).items]
    assert len(untagged) > 30

    scores: dict[int, float] = {}
    skip: list[int] = []
    pools = 0
    while True:
        doc_id, ranked = review_queue.next_in_queue(ctx, "q", tuple(skip))
        left = [i for i in untagged if i not in skip]
        if not left:
            assert (doc_id, ranked) == (None, False)
            break
        if len([i for i in left if i in scores]) < min(3, len(left)):  # a refill: the next seeded pool
            missing = [i for i in left if i not in scores]
            pool = sorted(random.Random(model_id).sample(missing, 8)) if len(missing) > 8 else missing
            scores.update(dict.fromkeys(pool))
            pools += 1
        # keyed by store, model and the project's thresholds (which "least certain" is measured against)
        [cached] = [v for k, v in review_queue._queue_scores.items() if k[:2] == (ctx.settings.resolved_database_url, model_id)]
        assert cached.keys() == scores.keys()
        assert ranked and doc_id == min((i for i in left if i in cached), key=lambda i: (cached[i], i))
        if len(left) % 5 == 0:
            skip.append(doc_id)
        else:
            tagging.set_labels(ctx, "q", doc_id, [banking["train"][0]["labels"][0]])
            untagged.remove(doc_id)
    assert pools > 3 and skip


def _trained_with_untagged(ctx, banking) -> None:
    """Project ``q``: banking's documents, every fourth one untagged, and model ``m`` (linear) trained on the rest."""
    from tagwise.core import training

    tagging.create_project(ctx, "q", SINGLE, "en")
    tagging.add_documents(ctx, "q", [{"location": r["id"], "text": r["text"], "labels": r["labels"] if i % 4 else None}
                                     for i, r in enumerate(banking["train"])])
    job = training.start(ctx, "q", {"modelLabel": "m", "trainingConfigVersion": "linear"})
    training.run(ctx, job["id"], lambda _: None)


def test_multi_label_uncertainty_is_measured_against_the_thresholds_that_apply_now():
    # the queue put first "love 46.5% needs 24.8%, anger 28.8% needs 45%" (anger's tuned threshold was 28.9%),
    # while "admiration 60.1% needs 60%" waited
    import numpy as np

    class Model:
        multi_label = True
        classes_ = ("admiration", "anger")
        thresholds_ = np.array([0.30, 0.289])

    proba = np.array([[0.10, 0.288], [0.601, 0.05]])
    tuned = review_queue._uncertainty(Model(), proba)
    assert tuned.argmin() == 0  # against the tuned thresholds the first is closest
    now = review_queue._uncertainty(Model(), proba, {"classThresholds": {"admiration": 0.6, "anger": 0.45}})
    assert now.argmin() == 1 and abs(now[1] - 0.001) < 1e-9
    floored = review_queue._uncertainty(Model(), proba, {"confidenceThreshold": 0.5})  # a floor raises both to 50%
    assert abs(floored[0] - 0.212) < 1e-9 and abs(floored[1] - 0.101) < 1e-9


def test_sessions_asking_for_the_next_document_at_once_each_get_another(ctx):
    from concurrent.futures import ThreadPoolExecutor

    tagging.create_project(ctx, "team", "CustomSingleLabelClassification", "en")
    tagging.add_documents(ctx, "team", [{"location": f"{i}.txt", "text": f"ticket {i}"} for i in range(10)])
    with ThreadPoolExecutor(6) as pool:
        given = list(pool.map(lambda who: review_queue.next_in_queue(ctx, "team", holder=f"person-{who}")[0], range(6)))
    assert len(set(given)) == 6, given
    # a session asking again keeps its own; one without a session (nobody's page) is given none of theirs
    assert review_queue.next_in_queue(ctx, "team", holder="person-0")[0] == given[0]
    assert review_queue.next_in_queue(ctx, "team")[0] not in given


@pytest.mark.serial  # times it: make test runs it alone
def test_a_store_busy_with_a_long_write_shows_the_tag_page_without_a_lease_and_an_empty_queue_releases(ctx):
    # a review: every Tag page view now writes its lease, and waited behind an import (a minute on SQLite)
    import time

    from tagwise.core.projects import require
    from tagwise.storage import document_records as docs_db
    from tagwise.storage.records import utcnow

    tagging.create_project(ctx, "team", "CustomSingleLabelClassification", "en")
    schema.add_class(ctx, "team", "a")
    tagging.add_documents(ctx, "team", [{"location": f"{i}.txt", "text": f"ticket {i}"} for i in range(30)])
    started = time.monotonic()
    # as an import holds the store (SQLite) or locks and updates the project's row (PostgreSQL; a tag save does
    # that too since every write of a project's state locks it: with FOR UPDATE every page came up empty)
    shown = _while_writing(ctx, lambda conn: schema.touch(conn, require(conn, "team", lock=True)),
                           lambda: [review_queue.next_in_queue(ctx, "team", holder=f"person-{n}")[0] for n in range(1, 7)])
    assert time.monotonic() - started < 6  # each shown at once
    with ctx.db.read() as conn:
        project_id = require(conn, "team")["id"]
        leases = docs_db.leased(conn, project_id, utcnow())
    if ctx.db.is_sqlite:  # the one writer is busy: no lease, and the sessions spread over the queue's next documents
        assert leases == {} and len(set(shown)) >= 4, shown
    else:  # the import does not hold what a lease needs: each took its own
        assert len(set(shown)) == 6 and set(leases) == set(shown)
        review_queue.release(ctx, "person-1")
    first = review_queue.next_in_queue(ctx, "team", holder="person-1")[0]
    assert review_queue.next_in_queue(ctx, "team", holder="person-1")[0] == first  # now leased
    # a document tagged since the queue chose it is not handed out
    second = review_queue.next_in_queue(ctx, "team", holder="person-2")[0]
    assert review_queue.take(ctx, "team", second, "person-2") and not review_queue.take(ctx, "team", second, "person-3")
    tagging.set_labels(ctx, "team", second, ["a"])
    assert review_queue.take(ctx, "team", second, "person-2", untagged=True) is False
    for doc in tagging.list_documents(ctx, "team", tagging.DocumentFilter(status="untagged"), page_size=100).items:
        if doc["id"] != first:
            tagging.set_labels(ctx, "team", doc["id"], ["a"])
    # person-2's queue is empty: its lease goes, and signing out ends person-1's
    assert review_queue.next_in_queue(ctx, "team", holder="person-2")[0] is None
    with ctx.db.read() as conn:
        assert "person-2" not in set(docs_db.leased(conn, project_id, utcnow()).values())
    for n in range(3, 7):
        review_queue.release(ctx, f"person-{n}")
    with ctx.db.read() as conn:
        assert set(docs_db.leased(conn, project_id, utcnow()).values()) == {"person-1"}
    review_queue.release(ctx, "person-1")
    with ctx.db.read() as conn:
        assert docs_db.leased(conn, project_id, utcnow()) == {}


def test_pages_asking_at_once_after_a_new_model_score_its_pool_once(ctx, banking, monkeypatch):
    # a probe: five Tag pages at once after a training each scored the same pool of 1,000 documents (3.3-3.8 s each)
    import threading

    _trained_with_untagged(ctx, banking)
    calls, real = [], review_queue._predict

    def counted(*args, **kwargs):
        calls.append(len(args[3]))
        return real(*args, **kwargs)

    monkeypatch.setattr(review_queue, "_predict", counted)
    start = threading.Barrier(4)

    def ask(n: int) -> None:
        start.wait()
        review_queue.next_in_queue(ctx, "q", holder=f"person-{n}")

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1, calls


@pytest.mark.serial  # times it: make test runs it alone
def test_a_lease_another_session_is_taking_is_passed_over_not_shared(ctx):
    # a PostgreSQL probe: a slow lease made every page waiting on the same document fall back to no lease,
    # and two people were shown one document
    import time
    from datetime import timedelta

    from tagwise.core.projects import require
    from tagwise.storage import document_records as docs_db
    from tagwise.storage.records import utcnow

    tagging.create_project(ctx, "team", "CustomSingleLabelClassification", "en")
    tagging.add_documents(ctx, "team", [{"location": f"{i}.txt", "text": f"ticket {i}"} for i in range(30)])
    first = review_queue.next_in_queue(ctx, "team")[0]
    now = utcnow()
    started = time.monotonic()
    got = _while_writing(ctx, lambda conn: docs_db.lease(conn, require(conn, "team")["id"], first, "slow", now, now + timedelta(seconds=300)),
                         lambda: review_queue.next_in_queue(ctx, "team", holder="fast")[0])
    assert time.monotonic() - started < 3
    if not ctx.db.is_sqlite:  # SQLite's one writer was busy: that page was shown without a lease (the other test)
        assert got != first
        with ctx.db.read() as conn:
            assert docs_db.leased(conn, require(conn, "team")["id"], utcnow()) == {first: "slow", got: "fast"}


def _while_writing(ctx, write, then):
    """``then()``'s answer, asked while another thread holds a write transaction that ran ``write(conn)``."""
    import threading

    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with ctx.db.write() as conn:
            write(conn)
            held.set()
            done.wait(10)

    writer = threading.Thread(target=hold)
    writer.start()
    held.wait(5)
    try:
        return then()
    finally:
        done.set()
        writer.join()


def test_a_session_that_can_take_none_of_the_next_documents_is_given_none_rather_than_someone_elses(ctx, monkeypatch):
    # a review: refused leases fell back to a document picked by hash, one it had just been refused, with no lease
    tagging.create_project(ctx, "team", "CustomSingleLabelClassification", "en")
    tagging.add_documents(ctx, "team", [{"location": f"{i}.txt", "text": f"ticket {i}"} for i in range(30)])
    tried: list[int] = []

    def refused(ctx, project_name, doc_id, holder, *, untagged=False):
        tried.append(doc_id)
        return False

    monkeypatch.setattr(review_queue, "take", refused)
    assert review_queue.next_in_queue(ctx, "team", holder="late") == (None, False)
    assert len(tried) == len(set(tried)) == 30  # each of the 30 tried once, in three rounds of the queue's next ones
