"""What the Evaluate page's per-class table is made of (``studio.views.class_rows``)."""

from __future__ import annotations

from tagwise.core.evaluation import build_summary
from tagwise.studio import views
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


def _matrix_model(n_classes: int) -> dict:
    """A single-label evaluation over ``n_classes`` classes: 10 test documents each, class i mixed up with class i+1 i % 5 times."""
    names = [f"c{i:03}" for i in range(n_classes)]
    matrix = {}
    for i, name in enumerate(names):
        wrong = i % 5
        row = {name: {"rawValue": 10 - wrong, "normalizedValue": 100 * (10 - wrong) / 10}}
        if wrong:
            row[names[(i + 1) % n_classes]] = {"rawValue": wrong, "normalizedValue": 10 * wrong}
        matrix[name] = row
    return {"evaluation": {"customSingleLabelClassificationEvaluation": {"confusionMatrix": matrix}}}


def test_a_project_with_many_classes_gets_its_commonest_mix_ups_not_a_huge_matrix():
    # 195 classes drew a 38,000-cell matrix: 4 MB of HTML that took Chromium 3.9 s
    many = views.confusion(_matrix_model(100), normalised=False)
    assert "rows" not in many and many["mixups"] == 80 and len(many["pairs"]) == views.CONFUSIONS_SHOWN
    top = many["pairs"][0]
    assert (top["expected"], top["predicted"], top["count"], top["share"]) == ("c004", "c005", 4, 0.4)
    assert [p["count"] for p in many["pairs"]] == sorted((p["count"] for p in many["pairs"]), reverse=True)
    whole = views.confusion(_matrix_model(100), normalised=False, full=True)  # asked for: the whole matrix
    assert len(whole["rows"]) == 100 and len(whole["rows"][0]["cells"]) == 100
    assert "rows" in views.confusion(_matrix_model(views.MATRIX_MAX_CLASSES), normalised=True)  # up to 40 classes: the heatmap


def test_the_matrix_in_percents_never_rounds_a_miss_away_and_has_no_row_for_the_thresholds_none():
    # 199 of 200 right read "100%" and the one miss "0%"; a threshold's None column drew an empty None row
    truth = ["a"] * 200 + ["b"] * 10
    predicted = ["a"] * 199 + ["b"] + ["b"] * 9 + ["None"]
    summary = build_summary("CustomSingleLabelClassification", {"kind": "manual"}, truth, predicted, ["a", "b"])
    matrix = views.confusion({"evaluation": summary}, normalised=True)
    assert [row["expected"] for row in matrix["rows"]] == ["a", "b"]
    cells = {(row["expected"], cell["predicted"]): cell["text"] for row in matrix["rows"] for cell in row["cells"]}
    assert (cells["a", "a"], cells["a", "b"], cells["a", "None"]) == ("99.5%", "<1%", "")
    assert (cells["b", "b"], cells["b", "None"]) == ("90%", "10%")
