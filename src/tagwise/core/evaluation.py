"""Evaluation in Azure's shapes, built from the pure report of ``tagwise.ml.evaluate``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tagwise.core.predictors import NONE_CLASS
from tagwise.core.validation import MULTI, SINGLE


def build_summary(kind: str, options: dict[str, Any], y_true: list, y_pred: list, labels: list[str], proba: Any = None, model: Any = None) -> dict[str, Any]:
    """The evaluation summary as ``GET .../evaluation/summary-result`` returns it."""
    from tagwise.ml import evaluate

    multi = kind == MULTI
    known = list(model.classes_) if model is not None else list(labels)
    eval_labels = sorted(set(labels) | set(known))
    # Calibration needs probability columns in the report's label order; a class the model never
    # saw (no training documents) has probability 0.
    y_proba = None
    if proba is not None:
        import numpy as np

        proba = np.asarray(proba, dtype=float)
        column = {label: j for j, label in enumerate(known)}
        y_proba = np.zeros((proba.shape[0], len(eval_labels)))
        for j, label in enumerate(eval_labels):
            if label in column:
                y_proba[:, j] = proba[:, column[label]]
    report = evaluate(y_true, y_pred, labels=eval_labels, multi_label=multi, y_proba=y_proba)
    classes = {
        label: {
            "f1": m.f1, "precision": m.precision, "recall": m.recall,
            "truePositiveCount": int(m.tp), "trueNegativeCount": int(m.tn),
            "falsePositiveCount": int(m.fp), "falseNegativeCount": int(m.fn),
        }
        for label, m in report.per_class.items()
    }
    body: dict[str, Any] = {
        "classes": classes,
        "microF1": report.micro_f1, "microPrecision": report.micro_precision, "microRecall": report.micro_recall,
        "macroF1": report.macro_f1, "macroPrecision": report.macro_precision, "macroRecall": report.macro_recall,
    }
    if not multi:
        body["confusionMatrix"] = _confusion(report.confusion or {})
    summary: dict[str, Any] = {
        "projectKind": kind,
        "evaluationOptions": options,
        "customMultiLabelClassificationEvaluation" if multi else "customSingleLabelClassificationEvaluation": body,
    }
    # tagwise extras (ignored by the SDK): accuracy, calibration error, test-set size, for `auto`
    # the recipe it chose and why, and the sentence encoder the model runs (from its manifest).
    summary["tagwise"] = {"accuracy": report.accuracy, "expectedCalibrationError": report.ece, "testDocuments": len(y_true)}
    info = getattr(model, "info_", None) or {}
    if "chosen" in info:
        summary["tagwise"].update(chosenRecipe=info["chosen"], chosenBecause=info.get("reason", ""),
                                  crossValidated=bool(info.get("cv_scores")))  # False: too few documents to compare recipes
    encoder = (info.get("model") or info).get("encoder")
    if encoder:
        summary["tagwise"]["sentenceEncoder"] = encoder["model"]
    if multi:  # "no class" has no row in the per-class table and no place in micro or macro scores
        summary["tagwise"]["noClass"] = no_class_counts(y_true, y_pred)
    return summary


def no_class_counts(y_true: list, y_pred: list) -> dict[str, int]:
    """How a multi-label model does on "no class": ``testDocuments`` tagged with no class,
    ``answeredNoClass`` of them given none (right), and ``wronglyAnsweredNoClass``: documents
    with classes that were given none. A document that needs no class and gets one is only a
    false positive of that class, and one that gets nothing only false negatives: neither adds
    up anywhere a person would look.

    >>> no_class_counts([[], [], ["joy"]], [[], ["joy"], []])
    {'testDocuments': 2, 'answeredNoClass': 1, 'wronglyAnsweredNoClass': 1}
    """
    pairs = list(zip(y_true, y_pred, strict=True))
    return {"testDocuments": sum(1 for expected, _ in pairs if not expected),
            "answeredNoClass": sum(1 for expected, predicted in pairs if not expected and not predicted),
            "wronglyAnsweredNoClass": sum(1 for expected, predicted in pairs if expected and not predicted)}


def _confusion(counts: dict[str, dict[str, int]]) -> dict[str, dict[str, dict[str, float]]]:
    matrix: dict[str, dict[str, dict[str, float]]] = {}
    for expected, row in counts.items():
        total = sum(row.values())
        cells = {
            predicted: {"normalizedValue": round(100.0 * n / total, 4), "rawValue": float(n)}
            for predicted, n in row.items()
            if n
        }
        if cells:
            matrix[expected] = cells
    return matrix


def per_document_results(project: dict[str, Any], docs: list[dict[str, Any]], predicted: list[list[str]],
                         extras: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """One item per test document, as ``GET .../evaluation/result`` pages them. ``extras``: each
    item's ``tagwise`` object (:func:`document_extras`), so that the summary's numbers can be
    checked document by document."""
    kind = project["kind"]
    out = []
    for doc, labels in zip(docs, predicted, strict=True):
        item: dict[str, Any] = {"projectKind": kind, "location": doc["location"], "language": doc["language"] or project["language"]}
        if kind == SINGLE:
            item["customSingleLabelClassificationResult"] = {
                "expectedClass": doc["labels"][0],
                "predictedClass": labels[0] if labels else NONE_CLASS,
            }
        else:
            item["customMultiLabelClassificationResult"] = {"expectedClasses": list(doc["labels"]), "predictedClasses": list(labels)}
        if extras is not None:
            item["tagwise"] = extras[len(out)]
        out.append(item)
    return out


# multi-label: besides the expected and the predicted classes, each test document's result keeps
# the probabilities of this many likeliest classes (all of them would be classes x documents numbers)
TOP_SCORES = 3


def document_extras(kind: str, expected: list[list[str]], predictions: list[Any]) -> list[dict[str, Any]]:
    """Each test document's ``tagwise`` object in the evaluation's per-document results.
    Single-label: ``topClass`` and ``confidence``, the model's best class and its probability before
    the threshold (which may have made the answer None): the calibration error and the threshold
    table can be recomputed from them. Multi-label: ``scores``, the probability of each expected
    class, each predicted class and the likeliest few (:data:`TOP_SCORES`), likeliest first: how
    far a missed class fell below its threshold (the summary's ``classThresholds``) and how sure a
    wrong one was. ``predictions``: :class:`tagwise.core.predictors.Prediction` objects."""
    out: list[dict[str, Any]] = []
    for labels, p in zip(expected, predictions, strict=True):
        if kind == SINGLE:
            best = int(p.row.argmax())  # the first of equals, as the calibration error takes it
            out.append({"topClass": str(p.classes[best]), "confidence": round(float(p.row[best]), 6)})
            continue
        known = set(p.classes)  # an expected class the model was not trained on has no probability
        shown = {c for c, _ in p.ranked(TOP_SCORES)} | {c for c in [*labels, *p.labels] if c in known}
        scores = sorted(((c, p.score_of(c)) for c in shown), key=lambda cs: (-cs[1], cs[0]))
        out.append({"scores": {str(c): round(s, 6) for c, s in scores}})
    return out


# the confidence thresholds a single-label evaluation is also scored at, for choosing the project's
THRESHOLDS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)
THRESHOLD_TOLERANCE = 5e-5  # two thresholds closer than this are one (a percentage typed with three decimals)


def threshold_table(classes: list[str], proba: Any, expected: list[str], also: Sequence[float | None] = ()) -> list[dict[str, float]]:
    """A single-label model's test set scored at each of ``THRESHOLDS`` and ``also`` (the project's
    threshold: 12.5% is on no grid): below it the answer is
    "None", as ``settings.confidenceThreshold`` makes it. Per threshold: ``accuracy`` (a "None"
    answer is right for a document tagged "None", wrong for any other), ``answeredAccuracy`` (of the
    documents answered with a class, the share answered right: what a router that sends the None
    answers to a person gets; absent when none was), ``abstained`` (the share answered "None" for
    want of confidence: not counting answers that are "None" anyway, a None class's) and, when some test documents are tagged "None" (out-of-scope examples),
    ``noneRecall`` (the share of them answered "None") and ``otherAccuracy`` (accuracy on the rest).
    ``hardestHit``: the class (of at least ``HARDEST_HIT_MIN`` test documents) whose documents are
    answered "None" most often, ``{"class", "share", "documents"}``, when that is more than the
    overall share: a threshold that costs 3% overall can send 80% of a rare class to None.
    A project can move its threshold without retraining; this table shows what each would give."""
    import numpy as np

    proba = np.asarray(proba, dtype=float)
    if not len(proba):
        return []
    top = proba.argmax(axis=1)
    picked = [str(c) for c in np.asarray(classes, dtype=object)[top]]
    grid = list(THRESHOLDS)
    for extra in filter(None, also):  # the project's, unless the grid has it
        if all(abs(extra - t) >= THRESHOLD_TOLERANCE for t in grid):
            grid.append(extra)
    return threshold_rows(picked, proba[np.arange(len(proba)), top], expected, sorted(grid))


def threshold_rows(picked: Sequence[str], confidence: Any, expected: Sequence[str], thresholds: Sequence[float]) -> list[dict[str, Any]]:
    """:func:`threshold_table`'s rows at ``thresholds`` from each test document's likeliest class
    (``picked``), its probability and its tagged class: what the per-document results record
    (``tagwise.topClass`` and ``tagwise.confidence``), so a threshold set after training gets its row too."""
    import numpy as np

    picked = np.asarray(picked, dtype=object)
    confidence = np.asarray(confidence, dtype=float)
    truth = np.asarray(expected, dtype=object)
    none = truth == NONE_CLASS
    rows = []
    for threshold in thresholds:
        sure = confidence >= threshold
        answer = np.where(sure, picked, NONE_CLASS)
        right = answer == truth
        # what the threshold turns into "None": an answer that is "None" already (a None class's) is not lost to it
        lost = ~sure & (picked != NONE_CLASS)
        row = {"threshold": threshold, "accuracy": round(float(right.mean()), 4), "abstained": round(float(lost.mean()), 4)}
        answered = answer != NONE_CLASS  # routed to a class: how often such an answer is right is what routing needs
        if answered.any():
            row["answeredAccuracy"] = round(float(right[answered].mean()), 4)
        if none.any():
            row["noneRecall"] = round(float(right[none].mean()), 4)
            if (~none).any():
                row["otherAccuracy"] = round(float(right[~none].mean()), 4)
        if hardest := _hardest_hit(truth, lost, row["abstained"]):
            row["hardestHit"] = hardest
        rows.append(row)
    return rows


HARDEST_HIT_MIN = 3  # test documents a class needs before its share answered None is worth naming


def _hardest_hit(truth: Any, abstained: Any, overall: float) -> dict[str, Any] | None:
    """The class whose test documents a threshold sends to "None" most often (see threshold_table)."""
    best = None
    for name in sorted(set(truth.tolist()) - {NONE_CLASS}):
        mine = truth == name
        documents = int(mine.sum())
        share = round(float(abstained[mine].mean()), 4)
        # a tie goes to the bigger class: 100% of 50 documents says more than 100% of 3
        if documents >= HARDEST_HIT_MIN and share > overall and (best is None or (share, documents) > (best["share"], best["documents"])):
            best = {"class": name, "share": share, "documents": documents}
    return best
