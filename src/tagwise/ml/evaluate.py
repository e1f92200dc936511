"""Evaluation metrics: a pure function of ``(y_true, y_pred, labels)``.

Conventions (they match what Azure custom text classification reports):

* Single-label: every document has one true label and at most one predicted label. A
  prediction that is not in ``labels`` (the abstention label ``"None"``) is a wrong answer with
  no class: a false negative for the true class and a false positive for nobody. Without
  abstentions micro precision = micro recall = micro F1 = accuracy; with abstentions micro
  recall = accuracy and micro precision counts only the documents that got an answer.
* Multi-label: each document has a set of labels; per-class counts are over documents, and
  ``accuracy`` is the exact-match ratio (predicted set == true set).
* Macro scores are unweighted means of the per-class scores over the ``labels`` that are in the
  truth or predicted; a ratio with a zero denominator counts as 0. A label given in ``labels``
  that is in neither is left out of the means (scikit-learn's ``f1_score(labels=...)`` counts it
  as 0): a class with no test documents that the model never chose says nothing of the model.
* ECE (expected calibration error, 15 equal-width bins): single-label uses the top-1
  probability against "top-1 class is the true class"; multi-label averages over classes the
  ECE of each class's probability against "class is in the true set".

>>> r = evaluate(["a", "b", "b"], ["a", "b", "a"], labels=["a", "b"], multi_label=False)
>>> round(r.accuracy, 4), r.per_class["a"].fp, r.confusion["b"]
(0.6667, 1, {'a': 1, 'b': 1})
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

ECE_BINS = 15


@dataclass(frozen=True)
class ClassMetrics:
    precision: float
    recall: float
    f1: float
    tp: int
    tn: int
    fp: int
    fn: int
    support: int


@dataclass(frozen=True)
class EvaluationReport:
    micro_precision: float
    micro_recall: float
    micro_f1: float
    macro_precision: float
    macro_recall: float
    macro_f1: float
    accuracy: float
    per_class: dict[str, ClassMetrics]
    confusion: dict[str, dict[str, int]] | None
    ece: float | None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready dict (nested dataclasses become dicts)."""
        return asdict(self)


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


def _f1(tp: float, fp: float, fn: float) -> float:
    """F1 from the counts, as scikit-learn computes it: from precision and recall, 0.9625 and 0.9625
    gave 0.9625000000000001, which a page rounded to 96.3% beside 96.2% and 96.2%."""
    return _ratio(2 * tp, 2 * tp + fp + fn)


def _class_metrics(tp: int, fp: int, fn: int, n: int) -> ClassMetrics:
    p, r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    return ClassMetrics(p, r, _f1(tp, fp, fn), tp, n - tp - fp - fn, fp, fn, tp + fn)


def expected_calibration_error(confidence: np.ndarray, correct: np.ndarray, bins: int = ECE_BINS) -> float:
    """Weighted mean |accuracy - confidence| over equal-width confidence bins."""
    confidence = np.asarray(confidence, dtype=float).ravel()
    correct = np.asarray(correct, dtype=float).ravel()
    if confidence.size == 0:
        return 0.0
    idx = np.minimum((confidence * bins).astype(int), bins - 1)
    total = 0.0
    for b in np.unique(idx):
        mask = idx == b
        total += mask.sum() * abs(correct[mask].mean() - confidence[mask].mean())
    return float(total / confidence.size)


def evaluate(
    y_true: Sequence[Any],
    y_pred: Sequence[Any],
    labels: Sequence[str],
    multi_label: bool,
    y_proba: np.ndarray | None = None,
) -> EvaluationReport:
    """Score predictions against the truth; ``y_proba`` columns follow ``labels``."""
    labels = list(labels)
    if len(y_true) != len(y_pred):
        raise ValueError(f"y_true has {len(y_true)} items but y_pred has {len(y_pred)}")
    if y_proba is not None:
        y_proba = np.asarray(y_proba, dtype=float)
        if y_proba.shape != (len(y_true), len(labels)):
            raise ValueError(f"y_proba must have shape {(len(y_true), len(labels))}, got {y_proba.shape}")
    if multi_label:
        return _evaluate_multi(y_true, y_pred, labels, y_proba)
    return _evaluate_single(y_true, y_pred, labels, y_proba)


def _summarise(per_class: dict[str, ClassMetrics], tp: int, fp: int, fn: int) -> tuple[float, ...]:
    """Micro and macro precision, recall and F1. The macro averages leave out classes that are
    neither in the truth nor predicted (as scikit-learn does when it finds the labels itself; given
    ``labels=``, it counts them as 0): a class with no test documents that the model never chose
    has no precision or recall to average, and counting it as 0 would punish a perfect model for a
    class the test set does not have."""
    micro_p, micro_r = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
    values = [m for m in per_class.values() if m.tp + m.fp + m.fn]
    if values:
        macro = [float(np.mean([getattr(m, k) for m in values])) for k in ("precision", "recall", "f1")]
    else:
        macro = [0.0, 0.0, 0.0]
    return micro_p, micro_r, _f1(tp, fp, fn), *macro


def _evaluate_single(y_true, y_pred, labels, y_proba) -> EvaluationReport:
    n = len(y_true)
    label_set = set(labels)
    counts = {label: [0, 0, 0] for label in labels}  # tp, fp, fn
    confusion: dict[str, dict[str, int]] = {}
    correct = 0
    for t, p in zip(y_true, y_pred):
        t, p = str(t), str(p)
        row = confusion.setdefault(t, {})
        row[p] = row.get(p, 0) + 1
        if t == p:
            correct += 1
            if t in label_set:
                counts[t][0] += 1
            continue
        if p in label_set:
            counts[p][1] += 1
        if t in label_set:
            counts[t][2] += 1
    per_class = {label: _class_metrics(*counts[label], n) for label in labels}
    confusion = {t: dict(sorted(row.items())) for t, row in sorted(confusion.items())}
    tp = sum(c[0] for c in counts.values())
    fp = sum(c[1] for c in counts.values())
    fn = sum(c[2] for c in counts.values())
    micro_p, micro_r, micro_f1, macro_p, macro_r, macro_f1 = _summarise(per_class, tp, fp, fn)
    ece = None
    if y_proba is not None:
        top = y_proba.argmax(axis=1) if n else np.zeros(0, dtype=int)
        hit = np.array([labels[k] == str(t) for k, t in zip(top, y_true)], dtype=float)
        ece = expected_calibration_error(y_proba.max(axis=1) if n else np.zeros(0), hit)
    return EvaluationReport(
        micro_p, micro_r, micro_f1, macro_p, macro_r, macro_f1, _ratio(correct, n), per_class, confusion, ece
    )


def _evaluate_multi(y_true, y_pred, labels, y_proba) -> EvaluationReport:
    n = len(y_true)
    index = {label: j for j, label in enumerate(labels)}
    truth = np.zeros((n, len(labels)), dtype=bool)
    pred = np.zeros((n, len(labels)), dtype=bool)
    exact = 0
    for i, (t, p) in enumerate(zip(y_true, y_pred)):
        t, p = {str(x) for x in t}, {str(x) for x in p}
        exact += t == p
        for label in t & index.keys():
            truth[i, index[label]] = True
        for label in p & index.keys():
            pred[i, index[label]] = True
    tp = (truth & pred).sum(axis=0)
    fp = (~truth & pred).sum(axis=0)
    fn = (truth & ~pred).sum(axis=0)
    per_class = {label: _class_metrics(int(tp[j]), int(fp[j]), int(fn[j]), n) for label, j in index.items()}
    micro_p, micro_r, micro_f1, macro_p, macro_r, macro_f1 = _summarise(
        per_class, int(tp.sum()), int(fp.sum()), int(fn.sum())
    )
    ece = None
    if y_proba is not None:
        ece = float(np.mean([expected_calibration_error(y_proba[:, j], truth[:, j]) for j in range(len(labels))]))
    return EvaluationReport(
        micro_p, micro_r, micro_f1, macro_p, macro_r, macro_f1, _ratio(exact, n), per_class, None, ece
    )
