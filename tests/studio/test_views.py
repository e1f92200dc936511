"""What the Evaluate page's per-class table is made of (``studio.views.class_rows``)."""

from __future__ import annotations

from tagwise.core.evaluation import build_summary
from tagwise.studio.views import class_rows


def test_a_class_the_test_set_lacks_shows_no_score_and_is_not_ranked_weakest():
    # pin had 1 training document and none in the test set: it showed "0.0%" recall and F1 at the
    # top of "weakest first", above lost_card, which the model really got wrong
    summary = build_summary("CustomSingleLabelClassification", {"kind": "percentage"},
                            ["billing", "billing", "lost_card"], ["billing", "billing", "billing"],
                            ["billing", "lost_card", "pin"])
    counts = {"billing": {"train": 8, "test": 2}, "lost_card": {"train": 3, "test": 1}, "pin": {"train": 1, "test": 0}}
    rows = class_rows({"evaluation": summary}, counts)
    assert [r["name"] for r in rows] == ["lost_card", "billing", "pin"]
    assert (rows[0]["precision"], rows[0]["recall"], rows[0]["f1"]) == (None, 0.0, 0.0)
    assert (rows[2]["precision"], rows[2]["recall"], rows[2]["f1"]) == (None, None, None)
