"""Label issues: out-of-fold predictions judged by cleanlab find a planted mistake.

Every test runs on SQLite and on a real PostgreSQL (``ctx`` in ``tests/core/conftest.py``).
"""

from __future__ import annotations

from tagwise.core import label_issues, tagging

SINGLE = "CustomSingleLabelClassification"


def test_label_issues_find_a_planted_mistake(ctx, banking):
    tagging.create_project(ctx, "bank", SINGLE, "en")
    rows = banking["train"]
    planted = rows[0]["id"]
    wrong = next(r["labels"][0] for r in rows if r["labels"] != rows[0]["labels"])
    items = [{"location": r["id"], "text": r["text"], "labels": [wrong] if r["id"] == planted else r["labels"]} for r in rows]
    tagging.add_documents(ctx, "bank", items)
    result = label_issues.find_label_issues(ctx, "bank")
    assert result.checked == len(rows) and result.folds == 5
    found = {i.location: i for i in result.issues}
    assert planted in found and found[planted].suggested == rows[0]["labels"]
    assert label_issues.label_issues(ctx, "bank") is result
