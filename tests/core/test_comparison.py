"""Comparing two trained models: changes b − a, per-class F1, shared test documents, changed predictions.

The model records are built the way training stores them (``build_summary`` and ``per_document_results``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tagwise.core.comparison import Change, compare, pick
from tagwise.core.evaluation import build_summary, per_document_results
from tagwise.errors import NotFound

SINGLE = "CustomSingleLabelClassification"
MULTI = "CustomMultiLabelClassification"
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def _model(label: str, docs: dict[str, tuple], kind: str = SINGLE, classes=("x", "y", "z"), day: int = 0, ece: float | None = None) -> dict:
    """A stored model evaluated on ``docs``: location -> (tagged, predicted); single-label values are class names."""
    multi = kind == MULTI
    locations = sorted(docs)
    tagged = [list(docs[loc][0]) if multi else [docs[loc][0]] for loc in locations]
    predicted = [list(docs[loc][1]) if multi else [docs[loc][1]] for loc in locations]
    y_true = tagged if multi else [t[0] for t in tagged]
    y_pred = predicted if multi else [p[0] for p in predicted]
    summary = build_summary(kind, {"kind": "manual"}, y_true, y_pred, list(classes))
    summary["tagwise"]["expectedCalibrationError"] = ece
    if not multi:
        summary["tagwise"]["trainDocumentsPerClass"] = {c: 10 for c in classes}
    results = per_document_results({"kind": kind, "language": "en"},
                                   [{"location": loc, "language": None, "labels": t} for loc, t in zip(locations, tagged)], predicted)
    return {"label": label, "recipe": "linear", "trained_at": T0 + timedelta(days=day), "evaluation": summary,
            "evaluation_results": results}


def _metric(rows, name: str) -> Change:
    return dict(rows)[name]


def test_headline_changes_are_b_minus_a_and_say_better_or_worse():
    a = _model("v1", {"1": ("x", "x"), "2": ("x", "y"), "3": ("y", "y"), "4": ("z", "x")}, ece=0.20)
    b = _model("v2", {"1": ("x", "x"), "2": ("x", "x"), "3": ("y", "y"), "4": ("z", "x")}, day=1, ece=0.50)
    diff = compare(a, b)
    accuracy = _metric(diff.headline, "Accuracy")
    assert (accuracy.a, accuracy.b, accuracy.delta, accuracy.verdict) == (0.5, 0.75, 0.25, "better")
    ece = _metric(diff.headline, "Calibration error (ECE)")
    assert ece.delta == pytest.approx(0.30) and ece.verdict == "worse"  # a higher calibration error is worse
    b["evaluation"]["tagwise"]["expectedCalibrationError"] = 0.25  # on 4 documents, less than one document's worth
    assert _metric(compare(a, b).headline, "Calibration error (ECE)").verdict == "same"
    assert _metric(diff.headline, "Macro F1").verdict == "better"
    assert (diff.a.label, diff.b.label, diff.a.train_documents, diff.a.test_documents) == ("v1", "v2", 30, 4)
    assert Change(0.5, 0.5004).verdict == "same" and Change(None, 0.5).verdict is None


def test_classes_sorted_by_biggest_f1_change_with_classes_of_one_model_last():
    a = _model("v1", {"1": ("x", "x"), "2": ("y", "x"), "3": ("y", "y"), "4": ("z", "z"), "5": ("y", "z")}, classes=("x", "y", "z", "old"))
    b = _model("v2", {"1": ("x", "x"), "2": ("y", "y"), "3": ("y", "y"), "4": ("z", "z"), "5": ("y", "y")},
               classes=("x", "y", "z", "new"), day=1)
    rows = compare(a, b).classes
    assert [r.name for r in rows] == ["y", "x", "z", "new", "old"]  # y: +0.5; x and z: +0.33 each, by name
    assert rows[0].f1.delta == pytest.approx(0.5) and rows[1].f1.delta == pytest.approx(1 / 3) and rows[0].f1.verdict == "better"
    assert [(r.name, r.only_in) for r in rows[3:]] == [("new", "b"), ("old", "a")]
    assert rows[3].f1.delta is None


def test_a_class_never_chosen_has_no_precision_rather_than_zero():
    a = _model("v1", {"1": ("x", "y"), "2": ("y", "y")}, classes=("x", "y"))
    b = _model("v2", {"1": ("x", "x"), "2": ("y", "y")}, classes=("x", "y"), day=1)
    x = next(r for r in compare(a, b).classes if r.name == "x")
    assert x.a.precision is None and x.a.recall == 0.0 and x.b.precision == 1.0 and x.a.support == 1


def test_a_class_with_no_test_document_has_no_recall_and_no_change():
    # a startup's first model had no test document of "pin": it showed F1 0% there, ranked weakest,
    # and Compare said the next model was "+100 pts better" on it
    a = _model("v1", {"1": ("x", "x"), "2": ("y", "y")}, classes=("x", "y", "pin"))
    b = _model("v2", {"1": ("x", "x"), "2": ("y", "y"), "3": ("pin", "pin")}, classes=("x", "y", "pin"), day=1)
    pin = next(r for r in compare(a, b).classes if r.name == "pin")
    assert (pin.a.precision, pin.a.recall, pin.a.f1, pin.a.support) == (None, None, None, 0)
    assert pin.b.f1 == 1.0 and pin.f1.verdict is None
    wrongly = _model("v3", {"1": ("x", "pin"), "2": ("y", "y")}, classes=("x", "y", "pin"))  # chosen, never tested
    pin = next(r for r in compare(wrongly, b).classes if r.name == "pin")
    assert (pin.a.precision, pin.a.recall, pin.a.f1) == (0.0, None, 0.0)


def test_predictions_that_changed_on_the_same_test_documents():
    a = _model("v1", {"fix": ("x", "y"), "break": ("y", "y"), "other": ("z", "x"), "same": ("x", "x")})
    b = _model("v2", {"fix": ("x", "x"), "break": ("y", "z"), "other": ("z", "y"), "same": ("x", "x")}, day=1)
    diff = compare(a, b)
    assert diff.overlap.same_documents and diff.overlap.shared == 4
    assert [(c.location, c.expected, c.a, c.b) for c in diff.fixed] == [("fix", ["x"], ["y"], ["x"])]
    assert [c.location for c in diff.broken] == ["break"] and diff.still_wrong == 1


def test_different_test_documents_are_scored_on_the_shared_ones():
    a = _model("v1", {"1": ("x", "x"), "2": ("y", "x"), "3": ("z", "z"), "a-only": ("x", "x")})
    b = _model("v2", {"1": ("x", "x"), "2": ("y", "y"), "3": ("z", "x"), "b-only": ("y", "x"), "b-only2": ("z", "z")}, day=1)
    overlap = compare(a, b).overlap
    assert (overlap.same_documents, overlap.shared, overlap.only_a, overlap.only_b) == (False, 3, 1, 2)
    accuracy = _metric(overlap.scores, "Accuracy")
    assert (accuracy.a, accuracy.b) == (pytest.approx(2 / 3), pytest.approx(2 / 3))


def test_test_sets_without_a_shared_document():
    diff = compare(_model("v1", {"1": ("x", "x")}), _model("v2", {"2": ("x", "y")}, day=1))
    assert diff.overlap.shared == 0 and diff.overlap.scores == [] and not diff.fixed and not diff.broken


def test_retagged_documents_are_scored_against_the_newer_models_tags():
    # the user fixed the tag of "1" (y -> x) after v1's training: v2 is not "fixing" it by predicting x
    old = _model("v1", {"1": ("y", "x"), "2": ("y", "y")}, day=0)
    new = _model("v2", {"1": ("x", "x"), "2": ("y", "x")}, day=1)
    for a, b in ((old, new), (new, old)):  # whichever side the newer model is on
        diff = compare(a, b)
        assert diff.overlap.retagged == 1 and diff.overlap.truth == "v2"
        assert {c.location for c in diff.fixed + diff.broken} == {"2"}  # "1": same prediction, nothing changed
    assert _metric(compare(old, new).overlap.scores, "Accuracy").a == 1.0  # v1 was right, by today's tag


@pytest.mark.parametrize("kind", [SINGLE, MULTI])
def test_shared_scores_follow_the_evaluation_conventions(kind):
    # on the same documents, the shared-document scores are the evaluation's own (abstentions and empty sets included)
    if kind == SINGLE:
        docs = {"1": ("x", "x"), "2": ("x", "None"), "3": ("y", "x"), "4": ("z", "z"), "5": ("y", "y")}
    else:
        docs = {"1": (["x"], ["x", "y"]), "2": (["x", "z"], ["x"]), "3": ([], []), "4": (["y"], []), "5": (["z"], ["z"])}
    model = _model("v1", docs, kind=kind)
    diff = compare(model, dict(model, label="v2"))
    body = model["evaluation"]["customMultiLabelClassificationEvaluation" if kind == MULTI else "customSingleLabelClassificationEvaluation"]
    first = "Micro F1" if kind == MULTI else "Accuracy"
    expected = body["microF1"] if kind == MULTI else model["evaluation"]["tagwise"]["accuracy"]
    assert _metric(diff.overlap.scores, first).a == pytest.approx(expected)
    assert _metric(diff.overlap.scores, "Macro F1").a == pytest.approx(body["macroF1"])
    assert [name for name, _ in diff.headline] == [first, "Macro F1", "Calibration error (ECE)"]


def test_multi_label_train_documents_come_from_the_manifest_count():
    a = _model("v1", {"1": (["x"], ["x"])}, kind=MULTI)
    diff = compare(a, dict(a, label="v2"), train_documents=(12, None))
    assert diff.multi and diff.a.train_documents == 12 and diff.b.train_documents is None  # per-class counts are not documents


def test_pick_defaults_to_the_newest_two_and_names_the_models_when_one_is_unknown():
    labels = ["v1", "v2", "v3"]
    assert pick(labels, None, None, "p") == ("v2", "v3")
    assert pick(labels, "v1", None, "p") == ("v1", "v3")
    assert pick(labels, None, "v3", "p") == ("v2", "v3")
    assert pick(labels, None, "v2", "p") == ("v3", "v2")
    assert pick(["v1"], None, None, "p") is None and pick([], None, None, "p") is None
    with pytest.raises(NotFound, match="could not be found in project p. Its trained models: v1, v2, v3."):
        pick(labels, "v9", None, "p")
    with pytest.raises(NotFound, match="Its trained models: none yet"):
        pick([], None, "v1", "p")


def test_a_change_smaller_than_one_test_document_is_the_same_and_the_baseline_is_shown():
    # 0.1 point of macro F1 on 71 documents was called "better"; one document is worth 1.4 points
    assert Change(0.1891, 0.1903, same_within=1 / 71).verdict == "same"
    assert Change(0.6479, 0.7183, same_within=1 / 71).verdict == "better"
    docs = {f"d{i}": ("x", "x") for i in range(8)} | {"d8": ("y", "x"), "d9": ("z", "x")}  # answers x every time
    a, b = _model("v1", docs), _model("v2", docs | {"d8": ("y", "y")}, day=1)
    for model in (a, b):  # as training records it
        model["evaluation"]["tagwise"]["majorityBaseline"] = {"class": "x", "accuracy": 0.8}
    diff = compare(a, b)
    assert diff.a.baseline == ("x", 0.8) and diff.a.below_baseline and not diff.b.below_baseline
    assert _metric(diff.headline, "Accuracy").verdict == "better"  # +1 document of 10


def test_macro_f1_over_the_classes_both_know_when_a_class_was_added():
    # v2 added a class it never got right: its macro F1 fell 6 points while every shared class improved
    docs = {"1": ("x", "x"), "2": ("x", "y"), "3": ("y", "y"), "4": ("z", "z")}
    a = _model("v1", docs, classes=("x", "y", "z"))
    b = _model("v2", docs | {"2": ("x", "x"), "5": ("w", "x")}, classes=("x", "y", "z", "w"), day=1)
    diff = compare(a, b)
    assert diff.common_classes == 3
    common = _metric(diff.headline, "Macro F1, the 3 classes both know")
    assert common.a == pytest.approx((2 / 3 + 2 / 3 + 1) / 3) and common.verdict == "better"
    assert [name for name, _ in diff.headline][:3] == ["Accuracy", "Macro F1", "Macro F1, the 3 classes both know"]
    assert compare(a, a).common_classes is None
    # a class added that no test document has and the model never chose has no F1: the two macro rows were
    # the same numbers twice, under a warning that said the averages differ
    quiet = _model("v3", docs, classes=("x", "y", "z", "hopefulness"), day=2)
    assert compare(a, quiet).common_classes is None and "Macro F1, the 3 classes both know" not in dict(compare(a, quiet).headline)


def _fixed_and_broken(fixed: int, broken: int, same: int = 0) -> tuple[dict, dict]:
    """Two models on the same test documents: b fixes ``fixed`` of a's mistakes and breaks ``broken`` of its hits."""
    a, b = {}, {}
    for i in range(fixed):
        a[f"f{i}"], b[f"f{i}"] = ("x", "y"), ("x", "x")
    for i in range(broken):
        a[f"b{i}"], b[f"b{i}"] = ("y", "y"), ("y", "x")
    for i in range(same):
        a[f"s{i}"] = b[f"s{i}"] = ("z", "z")
    return _model("v1", a), _model("v2", b, day=1)


def test_a_gain_that_chance_could_make_says_so_and_a_clear_one_does_not():
    diff = compare(*_fixed_and_broken(3, 1, same=20))  # +2 of 24 documents: 8 points, but a coin does as well 62% of the time
    accuracy = _metric(diff.headline, "Accuracy")
    assert accuracy.verdict == "better" and accuracy.could_be_chance
    assert _metric(diff.headline, "Macro F1").could_be_chance  # moved by the same four documents
    assert diff.overlap.p_value == pytest.approx(0.625)
    clear = compare(*_fixed_and_broken(30, 10, same=60))
    assert _metric(clear.headline, "Accuracy").verdict == "better" and not _metric(clear.headline, "Accuracy").could_be_chance
    assert clear.overlap.p_value == pytest.approx(0.00222, abs=1e-5)


def test_a_macro_f1_change_against_the_documents_fixed_and_broken_is_not_backed_by_their_sign_test():
    # b fixes 12 documents of a big class and breaks 2 of 3 of a small one: the sign test (12 to 2, 1.3%) backs
    # "accuracy better"; it had also let "Macro F1 -8.5 pts worse" stand unqualified, which nothing tested
    docs_a = {f"g{i:02}": ("big", "mid" if i < 12 else "big") for i in range(60)} | {f"m{i:02}": ("mid", "mid") for i in range(30)}
    docs_b = {loc: (tagged, tagged) for loc, (tagged, _) in docs_a.items()}
    docs_a |= {f"s{i}": ("small", "small") for i in range(3)}
    docs_b |= {"s0": ("small", "small"), "s1": ("small", "mid"), "s2": ("small", "mid")}
    diff = compare(_model("a", docs_a, classes=("big", "mid", "small")), _model("b", docs_b, classes=("big", "mid", "small"), day=1))
    accuracy, macro = _metric(diff.headline, "Accuracy"), _metric(diff.headline, "Macro F1")
    assert (len(diff.fixed), len(diff.broken)) == (12, 2) and diff.overlap.p_value == pytest.approx(0.0129, abs=1e-4)
    assert accuracy.verdict == "better" and not accuracy.could_be_chance
    assert macro.verdict == "worse" and macro.could_be_chance
    assert _metric(diff.overlap.scores, "Macro F1").could_be_chance  # the shared documents' row alike
    with_them = compare(*_fixed_and_broken(30, 10, same=60))  # macro F1 up with the documents: the sign test speaks for it
    assert _metric(with_them.headline, "Macro F1").verdict == "better" and not _metric(with_them.headline, "Macro F1").could_be_chance


def test_chance_is_only_claimed_where_the_changed_documents_make_the_change():
    a, b = _fixed_and_broken(3, 1, same=20)
    b["evaluation_results"] = b["evaluation_results"][1:]  # not the same test documents: the headline is not their sign test
    diff = compare(a, b)
    assert not _metric(diff.headline, "Accuracy").could_be_chance
    assert _metric(diff.overlap.scores, "Accuracy").could_be_chance  # the shared documents' accuracy is
    assert not _metric(diff.headline, "Macro F1").could_be_chance


def test_retagging_test_documents_to_the_predictions_is_not_called_better():
    # a lead used "Tag as predicted" on 2 wrong test documents, retrained on the same training data: no prediction
    # changed, yet v2's stored accuracy rose by 2 of 6 and the headline said "better"
    docs = {"1": ("x", "x"), "2": ("y", "y"), "3": ("z", "z"), "4": ("x", "x"), "5": ("x", "y"), "6": ("z", "y")}
    v1 = _model("v1", docs)
    v2 = _model("v2", {**docs, "5": ("y", "y"), "6": ("y", "y")}, day=1)
    diff = compare(v1, v2)
    accuracy = _metric(diff.headline, "Accuracy")
    assert accuracy.delta == pytest.approx(2 / 6) and not accuracy.comparable and accuracy.verdict is None
    assert all(change.verdict is None for _, change in diff.headline)
    assert all(row.f1.verdict is None for row in diff.classes)
    # on one set of tags (the newer training's) the two models are the same
    assert [change.verdict for _, change in diff.overlap.scores] == ["same", "same"] and not diff.fixed and not diff.broken


def test_at_different_thresholds_the_sign_test_gives_no_verdict():
    a, b = _fixed_and_broken(30, 10, same=60)
    b["evaluation"]["tagwise"]["confidenceThreshold"] = 0.6  # the threshold made some answers None
    diff = compare(a, b)
    assert not diff.same_threshold
    accuracy = _metric(diff.headline, "Accuracy")
    # and no better or worse: the threshold alone moves answers (the change is shown, marked "other thresholds")
    assert accuracy.p_value is None and accuracy.verdict is None and accuracy.unlike == "thresholds" and accuracy.delta > 0
    assert _metric(diff.headline, "Calibration error (ECE)").unlike is None  # of the probabilities, before any threshold
    assert all(row.f1.verdict is None for row in diff.classes)


def test_multi_label_models_scored_with_other_class_thresholds_are_not_at_the_same_threshold():
    # ens3 was scored with admiration's threshold set to 0.6: Compare called it "-14.5 pts worse" on admiration
    # with no warning, and gave a sign-test verdict, where a moved floor did warn
    docs = {"1": (["x"], ["x"]), "2": (["y"], ["y"]), "3": ([], ["x"])}
    a, b = _model("v1", docs, kind=MULTI), _model("v2", docs, kind=MULTI, day=1)
    assert compare(a, b).same_threshold
    b["evaluation"]["tagwise"]["projectClassThresholds"] = {"x": 0.6}
    diff = compare(a, b)
    assert not diff.same_threshold and diff.b.class_thresholds == (("x", 0.6),)
    a["evaluation"]["tagwise"]["projectClassThresholds"] = {"x": 0.6, "ghost": 0.3}  # a class neither model knows
    assert compare(a, b).same_threshold and compare(a, b).a.class_thresholds == (("x", 0.6),)
