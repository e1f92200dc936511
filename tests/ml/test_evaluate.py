import math

import numpy as np
import pytest

from tagwise.ml import EvaluationReport, evaluate
from tagwise.ml.evaluate import expected_calibration_error


def test_single_label_hand_computed():
    y_true = ["a", "a", "b", "b", "c"]
    y_pred = ["a", "b", "b", "b", "a"]
    r = evaluate(y_true, y_pred, labels=["a", "b", "c"], multi_label=False)
    # a: tp1 fp1 fn1 ; b: tp2 fp1 fn0 ; c: tp0 fp0 fn1
    assert r.per_class["a"] == r.per_class["a"].__class__(0.5, 0.5, 0.5, 1, 2, 1, 1, 2)
    assert r.per_class["b"].precision == pytest.approx(2 / 3)
    assert r.per_class["b"].recall == 1.0
    assert r.per_class["b"].f1 == pytest.approx(0.8)
    assert r.per_class["c"].f1 == 0.0 and r.per_class["c"].support == 1
    assert r.accuracy == pytest.approx(0.6)
    assert r.micro_precision == r.micro_recall == r.micro_f1 == pytest.approx(r.accuracy)
    assert r.macro_f1 == pytest.approx((0.5 + 0.8 + 0.0) / 3)
    assert r.macro_precision == pytest.approx((0.5 + 2 / 3 + 0) / 3)
    assert r.confusion == {"a": {"a": 1, "b": 1}, "b": {"b": 2}, "c": {"a": 1}}
    assert r.ece is None


def test_macro_averages_leave_out_classes_neither_in_the_truth_nor_predicted():
    # "c" has no test documents and is never chosen: a perfect model scores 1, not 2/3
    r = evaluate(["a", "b"], ["a", "b"], labels=["a", "b", "c"], multi_label=False)
    assert (r.macro_precision, r.macro_recall, r.macro_f1) == (1.0, 1.0, 1.0)
    assert r.per_class["c"].support == 0
    # a class predicted but absent from the truth still counts (its precision is 0)
    r = evaluate(["a", "a"], ["a", "c"], labels=["a", "b", "c"], multi_label=False)
    assert r.macro_precision == pytest.approx((1.0 + 0.0) / 2)
    multi = evaluate([["x"], []], [["x"], []], labels=["x", "y"], multi_label=True)
    assert multi.macro_f1 == 1.0


def test_micro_f1_equals_precision_and_recall_when_they_are_equal():
    # computed from precision and recall, 0.9625 and 0.9625 gave 0.9625000000000001: "96.3%" beside "96.2%" on the page
    y_true = ["a"] * 40 + ["b"] * 40
    y_pred = ["a"] * 40 + ["b"] * 37 + ["a"] * 3
    report = evaluate(y_true, y_pred, ["a", "b"], multi_label=False)
    assert report.micro_precision == report.micro_recall == report.micro_f1 == report.accuracy == 0.9625


def test_single_label_abstention_is_wrong_with_no_class():
    r = evaluate(["a", "b", "b"], ["a", "None", "b"], labels=["a", "b"], multi_label=False)
    assert r.accuracy == pytest.approx(2 / 3)
    assert r.per_class["b"].fn == 1 and r.per_class["b"].fp == 0
    assert r.per_class["a"].fp == 0
    assert r.micro_recall == pytest.approx(2 / 3)
    assert r.micro_precision == 1.0  # the two answers given were right
    assert r.confusion["b"] == {"None": 1, "b": 1}


def test_multi_label_hand_computed():
    y_true = [["x", "y"], ["y"], [], ["x"]]
    y_pred = [["x"], ["y", "x"], [], ["x"]]
    r = evaluate(y_true, y_pred, labels=["x", "y"], multi_label=True)
    # x: tp2 fp1 fn0 tn1 ; y: tp1 fp0 fn1 tn2
    assert (r.per_class["x"].tp, r.per_class["x"].fp, r.per_class["x"].fn, r.per_class["x"].tn) == (2, 1, 0, 1)
    assert (r.per_class["y"].tp, r.per_class["y"].fp, r.per_class["y"].fn, r.per_class["y"].tn) == (1, 0, 1, 2)
    assert r.micro_precision == pytest.approx(3 / 4)
    assert r.micro_recall == pytest.approx(3 / 4)
    assert r.macro_f1 == pytest.approx((0.8 + 2 / 3) / 2)
    assert r.accuracy == pytest.approx(2 / 4)  # exact match: docs 3 and 4
    assert r.confusion is None


def test_ece_hand_computed():
    # bin of 0.9 confidence with 1 of 2 right -> |0.5-0.9| ; bin of 0.6 with 1 of 1 right -> |1-0.6|
    ece = expected_calibration_error(np.array([0.9, 0.9, 0.6]), np.array([1, 0, 1]))
    assert ece == pytest.approx((2 * 0.4 + 1 * 0.4) / 3)
    proba = np.array([[0.9, 0.1], [0.2, 0.8]])
    r = evaluate(["a", "a"], ["a", "b"], labels=["a", "b"], multi_label=False, y_proba=proba)
    assert r.ece == pytest.approx((abs(1 - 0.9) + abs(0 - 0.8)) / 2)


def test_multi_label_ece_is_mean_over_classes():
    proba = np.array([[1.0, 0.0], [1.0, 0.5]])
    r = evaluate([["x"], ["x"]], [["x"], ["x"]], labels=["x", "y"], multi_label=True, y_proba=proba)
    assert r.ece == pytest.approx((0.0 + 0.25) / 2)


def test_report_is_frozen_and_serialisable():
    r = evaluate(["a"], ["a"], labels=["a"], multi_label=False)
    assert isinstance(r, EvaluationReport)
    with pytest.raises(AttributeError):
        r.accuracy = 0.0  # type: ignore[misc]
    d = r.to_dict()
    assert d["per_class"]["a"]["tp"] == 1 and not math.isnan(d["macro_f1"])


def test_empty_input_and_length_mismatch():
    assert evaluate([], [], labels=["a"], multi_label=False).accuracy == 0.0
    with pytest.raises(ValueError):
        evaluate(["a"], [], labels=["a"], multi_label=False)
