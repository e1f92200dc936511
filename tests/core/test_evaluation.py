"""The stored evaluation: the threshold table (what each confidence threshold would do to the test set), "no class" counts."""

from __future__ import annotations

import numpy as np

from tagwise.core import model_results
from tagwise.core.evaluation import build_summary, threshold_table
from tagwise.core.validation import MULTI


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


def test_the_projects_threshold_gets_a_row_off_the_grid_at_training_and_after():
    # at 12.5% the studio said "its deployments answer as the 12.5% row below says": there was no such row
    classes = ["billing", "refund"]
    expected = ["billing"] * 6 + ["refund"] * 4
    proba = np.array([[0.95, 0.05]] * 6 + [[0.45, 0.55]] * 2 + [[0.52, 0.48]] * 2)
    rows = threshold_table(classes, proba, expected, also=[0.53])
    assert [r["threshold"] for r in rows] == [0.0, 0.3, 0.4, 0.5, 0.53, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99]
    at53 = rows[4]
    assert at53["accuracy"] == 0.8 and at53["abstained"] == 0.2 and at53["answeredAccuracy"] == 1.0  # at 50%: 0.8, 0, 0.8
    # a threshold set after training: its row from the per-document results (likeliest class, its probability)
    picked = ["billing" if p[0] > p[1] else "refund" for p in proba]
    model = {"evaluation": {"tagwise": {"thresholds": threshold_table(classes, proba, expected)}},
             "evaluation_results": [{"customSingleLabelClassificationResult": {"expectedClass": e, "predictedClass": c},
                                     "tagwise": {"topClass": c, "confidence": float(max(p))}} for e, c, p in zip(expected, picked, proba)]}
    table = model_results.thresholds_table(model, 0.53)
    assert [r["threshold"] for r in table] == [r["threshold"] for r in rows] and table[4] == at53
    assert model_results.thresholds_table(model, 0.5) == model["evaluation"]["tagwise"]["thresholds"]  # on the grid already
    older = {**model, "evaluation_results": [{k: v for k, v in r.items() if k != "tagwise"} for r in model["evaluation_results"]]}
    assert len(model_results.thresholds_table(older, 0.53)) == 10  # results without the probabilities: no row to make


def test_multi_label_no_class_documents_are_counted_in_the_summary_and_for_older_models():
    # all 8 of a probe's "no class" test documents got a class, and no view said so
    y_true = [[], [], [], ["joy"], ["joy", "anger"], ["anger"]]
    y_pred = [["joy"], [], ["anger"], [], ["joy"], ["anger"]]
    summary = build_summary(MULTI, {"kind": "percentage"}, y_true, y_pred, ["anger", "joy"])
    counts = {"testDocuments": 3, "answeredNoClass": 1, "wronglyAnsweredNoClass": 1}
    assert summary["tagwise"]["noClass"] == counts and "noClass" not in summary["customMultiLabelClassificationEvaluation"]
    assert model_results.no_class({"evaluation": summary}) == counts
    # a model trained before the summary recorded it: counted from its stored per-document results
    older = {"evaluation": {"projectKind": MULTI, "tagwise": {}}, "evaluation_results": [
        {"customMultiLabelClassificationResult": {"expectedClasses": e, "predictedClasses": p}} for e, p in zip(y_true, y_pred, strict=True)]}
    assert model_results.no_class(older) == counts
    assert model_results.no_class_line(counts) == ("documents with no class: 3 in the test set, 1 answered with none; "
                                                   "1 document with classes answered with none")
    single = build_summary("CustomSingleLabelClassification", {"kind": "percentage"}, ["joy", "anger"], ["joy", "joy"], ["anger", "joy"])
    assert "noClass" not in single["tagwise"] and model_results.no_class({"evaluation": single}) is None


def test_abstained_counts_only_the_answers_a_threshold_turns_into_none():
    # with a None class (out-of-scope examples), answers that are None anyway were counted too: a team choosing
    # a threshold was told it lost 6.5% of the answers at 90% where it lost 3.5%
    classes = ["None", "billing"]
    expected = ["None"] * 4 + ["billing"] * 6
    proba = np.array([[0.6, 0.4]] * 4 + [[0.2, 0.8]] * 4 + [[0.3, 0.7]] * 2)
    at80 = {r["threshold"]: r for r in threshold_table(classes, proba, expected)}[0.8]
    assert at80["abstained"] == round(2 / 10, 4)  # billing's two 0.7 answers; the four None answers stay None
    assert at80["accuracy"] == 0.8 and at80["noneRecall"] == 1.0 and at80["otherAccuracy"] == round(4 / 6, 4)


def test_each_threshold_says_how_often_the_answers_given_are_right():
    # a lead routing the sure tickets and sending the rest to a person read "accuracy 52% at 60%" as a worse
    # model: the answers it gave were right 70% of the time, and nothing showed that
    classes = ["Major", "Minor"]
    expected = ["Major"] * 6 + ["Minor"] * 4
    proba = np.array([[0.9, 0.1]] * 5 + [[0.55, 0.45]] + [[0.45, 0.55]] * 2 + [[0.8, 0.2]] * 2)
    rows = {r["threshold"]: r for r in threshold_table(classes, proba, expected)}
    assert rows[0.0]["accuracy"] == rows[0.0]["answeredAccuracy"] == 0.8  # no threshold: every document answered
    assert rows[0.6]["accuracy"] == 0.5 and rows[0.6]["answeredAccuracy"] == round(5 / 7, 4)  # 3 sent to None
    assert "answeredAccuracy" not in rows[0.99]  # nothing answered


def test_a_model_scored_at_a_threshold_is_held_to_the_baseline_by_its_answers_before_it():
    # at a threshold of 60% a model that learned the classes (71% answering every document, against 67.5% for
    # always Major) scored 52%, and was told it was worse than always answering Major: tag more examples
    def model(accuracy: float, at_zero: float, threshold: float) -> dict:
        return {"evaluation": {"tagwise": {"accuracy": accuracy, "confidenceThreshold": threshold,
                                           "majorityBaseline": {"class": "Major", "accuracy": 0.675},
                                           "thresholds": [{"threshold": 0.0, "accuracy": at_zero}, {"threshold": 0.6, "accuracy": accuracy}]}}}

    assert model_results.against_baseline(model(0.52, 0.71, 0.6)) is None
    found = model_results.against_baseline(model(0.52, 0.66, 0.6))  # one that has not learned: judged at 66%, not 52%
    assert found == {"class": "Major", "baseline": 0.675, "accuracy": 0.66, "worse": True, "threshold": 0.6,
                     "advice": "tag more examples of the classes other than Major"}
    assert "(66.0% against 67.5% on the test set, answering every document as if there were no confidence threshold)" in (
        model_results.baseline_warning(model(0.52, 0.66, 0.6)))
    assert model_results.against_baseline(model(0.52, 0.52, 0.0))["threshold"] == 0.0  # no threshold: as before


def test_a_model_barely_above_the_commonest_class_is_not_called_clearly_better():
    # 70.8% against 69.4% on 72 tickets read as a success, with a Deploy button: the model sent 69 of 72 to Major
    def model(accuracy: float, documents: int) -> dict:
        return {"evaluation": {"tagwise": {"accuracy": accuracy, "testDocuments": documents,
                                           "majorityBaseline": {"class": "Major", "accuracy": 0.694}}}}

    said = model_results.baseline_caution(model(51 / 72, 72))
    assert said.startswith("This model is not clearly better than always answering Major (70.8% against 69.4% on 72 test documents: "
                           "on new text its accuracy could lie anywhere from ")
    assert model_results.baseline_caution(model(0.90, 500)) is None  # clearly better
    assert model_results.baseline_caution(model(0.60, 72)) is None  # worse: the verdict (baseline_warning) says so, not this
    assert model_results.baseline_warning(model(0.60, 72)) is not None

    # classes that tie as the commonest (5 + 5 test documents): it named the first, and told to tag the other one
    tied = {"evaluation": {"tagwise": {"accuracy": 0.6, "testDocuments": 10,
                                       "majorityBaseline": {"class": "billing", "accuracy": 0.5, "tiedClasses": 2}}}}
    said = model_results.baseline_caution(tied)
    assert said.startswith("This model is not clearly better than always answering any one class (2 tie as the commonest) (60.0%")
    assert "Tag more examples of every class, and more test documents" in said and "other than" not in said


def test_a_model_that_only_ties_the_commonest_class_is_flagged_also_when_scored_at_a_threshold():
    # 50 of 70 answering Major to every document: the threshold table's rounded 0.7143 "beat" 50/70
    model = {"evaluation": {"tagwise": {"majorityBaseline": {"class": "Major", "accuracy": 50 / 70}, "testDocuments": 70,
                                        "accuracy": 0.5, "confidenceThreshold": 0.7,
                                        "thresholds": [{"threshold": 0.0, "accuracy": round(50 / 70, 4)}]}}}
    found = model_results.against_baseline(model)
    assert found is not None and not found["worse"] and found["threshold"] == 0.7
    model["evaluation"]["tagwise"]["thresholds"][0]["accuracy"] = round(51 / 70, 4)
    assert model_results.against_baseline(model) is None  # one document more than the baseline: it beats it
