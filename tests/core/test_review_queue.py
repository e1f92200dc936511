"""The model's suggestions and the uncertainty queue (and the newest model's evaluation details).

Every test runs on SQLite and on a real PostgreSQL (``ctx`` in ``tests/core/conftest.py``).
"""

from __future__ import annotations

from tagwise.core import model_results, review_queue, tagging

SINGLE = "CustomSingleLabelClassification"


def test_queue_without_a_model_is_upload_order(ctx, project):
    first, ranked = review_queue.next_in_queue(ctx, "p")
    view = tagging.tagging_view(ctx, "p")
    assert not ranked and view.doc["id"] == first and view.doc["location"] == "d.txt" and view.suggestion is None
    second, _ = review_queue.next_in_queue(ctx, "p", skip=(first,))
    assert tagging.get_document(ctx, "p", second)[1]["location"] == "doc-000005.txt"


def test_queue_and_suggestions_follow_the_newest_model(ctx, banking):
    from tagwise.core import training

    tagging.create_project(ctx, "q", SINGLE, "en")
    rows = banking["train"]
    tagging.add_documents(ctx, "q", [{"location": r["id"], "text": r["text"], "labels": r["labels"] if i % 4 else None}
                                     for i, r in enumerate(rows)])
    job = training.start(ctx, "q", {"modelLabel": "m", "trainingConfigVersion": "linear"})
    training.run(ctx, job["id"], lambda _: None)
    doc_id, ranked = review_queue.next_in_queue(ctx, "q")
    view = tagging.tagging_view(ctx, "q")
    assert ranked and view.ranked and view.doc["id"] == doc_id
    assert view.suggestion.model_label == "m" and view.suggestion.labels[0] in view.project["classes"]
    assert 0 < view.suggestion.confidence <= 1
    details = model_results.evaluation_details(ctx, "q")
    assert details["model"]["label"] == "m" and sum(c["test"] for c in details["counts"].values()) > 0

