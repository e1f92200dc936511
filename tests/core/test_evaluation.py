"""The stored evaluation's threshold table: what each confidence threshold would do to the test set."""

from __future__ import annotations

import numpy as np

from tagwise.core.evaluation import threshold_table


def test_each_threshold_names_the_class_it_sends_to_none_most():
    # billing is answered surely, refund hesitantly: a 70% threshold costs 4 of 14 documents overall,
    # every one of them refund's, which the overall share alone hides
    classes = ["billing", "refund"]
    expected = ["billing"] * 10 + ["refund"] * 4
    proba = np.array([[0.95, 0.05]] * 10 + [[0.4, 0.6]] * 4)
    rows = {r["threshold"]: r for r in threshold_table(classes, proba, expected)}
    at70 = rows[0.7]
    assert at70["abstained"] == round(4 / 14, 4)
    assert at70["hardestHit"] == {"class": "refund", "share": 1.0, "documents": 4}
    assert "hardestHit" not in rows[0.5]  # nothing answered None


def test_a_class_of_fewer_than_three_test_documents_is_not_named():
    classes = ["billing", "pin"]
    expected = ["billing"] * 10 + ["pin"] * 2
    proba = np.array([[0.95, 0.05]] * 9 + [[0.6, 0.4]] + [[0.4, 0.6]] * 2)
    at70 = {r["threshold"]: r for r in threshold_table(classes, proba, expected)}[0.7]
    assert at70["abstained"] == round(3 / 12, 4) and "hardestHit" not in at70  # pin's 2 documents say too little


def test_of_classes_sent_to_none_alike_the_bigger_one_is_named():
    # every row named a 3-document class at 100% over a 50-document class also at 100% (alphabetical order)
    classes = ["apple", "billing", "card"]
    expected = ["apple"] * 3 + ["billing"] * 50 + ["card"] * 50
    proba = np.array([[0.5, 0.3, 0.2]] * 3 + [[0.3, 0.5, 0.2]] * 50 + [[0.0, 0.01, 0.99]] * 50)
    at70 = {r["threshold"]: r for r in threshold_table(classes, proba, expected)}[0.7]
    assert at70["hardestHit"] == {"class": "billing", "share": 1.0, "documents": 50}
