"""The overview: counts and the guidance on whether a project is ready to train.

Every test runs on SQLite and on a real PostgreSQL (``ctx`` in ``tests/core/conftest.py``).
"""

from __future__ import annotations

from tagwise.core import readiness, tagging


def test_guidance_flags_few_examples_and_imbalance(ctx, project):
    tagging.add_documents(ctx, "p", [{"location": f"c{i}", "text": f"card {i}", "labels": ["card"]} for i in range(30)])
    messages = " ".join(t["message"] for t in readiness.overview(ctx, "p")["guidance"])
    assert "Too few examples for: fx (1). Tag at least 10 of each. A class with one example has no test document" in messages
    assert "imbalanced" in messages


def test_a_test_set_left_small_while_the_project_grew_is_flagged(ctx):
    # "Keep these test documents" made 12 documents the Test set; 400 tickets later every model was still scored on them
    tagging.create_project(ctx, "grew", "CustomSingleLabelClassification", "en")
    tagging.add_documents(ctx, "grew", [{"location": f"d{i}", "text": f"ticket {i}", "labels": ["billing" if i % 2 else "card"],
                                         "dataset": "Test" if i < 12 else None} for i in range(400)])
    flagged = [t["message"] for t in readiness.overview(ctx, "grew")["guidance"] if t["message"].startswith("The Test set")]
    assert flagged == [("The Test set has 12 tagged documents of 400 tagged: a model trained on each document's Train/Test set "
                        "is scored on them, each one moving its test accuracy 8.3 points, so such models cannot be told apart. "
                        "Move about 68 more to Test on the Data page (a fifth of the tagged documents is usual), or train with a "
                        "percentage split.")]
    tagging.add_documents(ctx, "grew", [{"location": f"t{i}", "text": f"more {i}", "labels": ["card"], "dataset": "Test"} for i in range(40)])
    assert not [t for t in readiness.overview(ctx, "grew")["guidance"] if t["message"].startswith("The Test set")]  # 52 of 440


def test_documents_tagged_with_no_class_are_counted_like_a_class(ctx):
    # a feedback team's 396 "no topic" documents showed nowhere on the Overview
    tagging.create_project(ctx, "fb", "CustomMultiLabelClassification", "en")
    tagging.add_documents(ctx, "fb", [{"location": f"d{i}", "text": f"text {i}", "labels": [] if i % 3 else ["praise"],
                                       "dataset": "Test" if i < 6 else None} for i in range(30)])
    view = readiness.overview(ctx, "fb")
    assert view["no_class"] == {"train": 0, "test": 4, "unassigned": 16, "total": 20}
    assert [c["name"] for c in view["classes"]] == ["praise"]
    tagging.create_project(ctx, "single", "CustomSingleLabelClassification", "en")
    assert readiness.overview(ctx, "single")["no_class"] is None
