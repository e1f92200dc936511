"""Pure helpers that turn a stored evaluation into what the evaluation page draws."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tagwise.core import model_results
from tagwise.core.model_results import class_scores, evaluation_body
from tagwise.core.percentfmt import percent
from tagwise.core.predictors import NONE_CLASS
from tagwise.core.validation import MULTI


def class_rows(model: dict[str, Any], counts: dict[str, dict[str, int]]) -> list[dict[str, Any]]:
    """One row per class: Train/Test counts, precision, recall, F1, false positives and negatives."""
    per_class = evaluation_body(model).get("classes", {})
    names = list(dict.fromkeys([*counts, *per_class]))
    rows = []
    for name in names:
        m = per_class.get(name, {})
        precision, recall, f1 = class_scores(m) if m else (None, None, None)  # "–", never a made-up 0%
        rows.append({"name": name, "train": counts.get(name, {}).get("train", 0), "test": counts.get(name, {}).get("test", 0),
                     "precision": precision, "recall": recall, "f1": f1,
                     "fp": m.get("falsePositiveCount", 0), "fn": m.get("falseNegativeCount", 0)})
    return sorted(rows, key=lambda r: (r["f1"] if r["f1"] is not None else 2, r["name"]))


MATRIX_MAX_CLASSES = 40  # beyond this the page lists the commonest confusions: 195 classes drew 38,000 cells, 4 MB of HTML
CONFUSIONS_SHOWN = 30


def confusion(model: dict[str, Any], normalised: bool, full: bool = False) -> dict[str, Any] | None:
    """Single-label confusion matrix: labels (rows = tagged, columns = predicted) and cells with a 0-1 shade.
    Beyond ``MATRIX_MAX_CLASSES`` classes (unless ``full``), ``pairs`` instead: the commonest
    (tagged, predicted) mix-ups with their count and their share of the tagged class's test documents."""
    matrix = evaluation_body(model).get("confusionMatrix")
    if not matrix:
        return None
    labels = sorted({*matrix, *(p for row in matrix.values() for p in row)})
    if len(labels) > MATRIX_MAX_CLASSES and not full:
        tested = {e: sum(cell["rawValue"] for cell in row.values()) for e, row in matrix.items()}
        mixed = sorted(((cell["rawValue"], e, p) for e, row in matrix.items() for p, cell in row.items() if e != p and cell["rawValue"]),
                       key=lambda t: (-t[0], t[1], t[2]))
        pairs = [{"expected": e, "predicted": p, "count": int(n), "share": n / tested[e] if tested.get(e) else None}
                 for n, e, p in mixed[:CONFUSIONS_SHOWN]]
        return {"labels": labels, "pairs": pairs, "mixups": len(mixed), "wrong": int(sum(t[0] for t in mixed)), "normalised": normalised}
    key = "normalizedValue" if normalised else "rawValue"
    peak = max((cell[key] for row in matrix.values() for cell in row.values()), default=1) or 1
    rows = []
    for expected in labels:
        if expected == NONE_CLASS and expected not in matrix:  # the threshold's None column; no document is tagged None
            continue
        cells = []
        for predicted in labels:
            cell = matrix.get(expected, {}).get(predicted)
            value = cell[key] if cell else 0
            cells.append({"predicted": predicted, "value": value, "shade": round(value / peak, 3),
                          "text": (_row_share(value) if normalised else f"{value:.0f}") if value else "",
                          "diagonal": expected == predicted})
        rows.append({"expected": expected, "cells": cells})
    return {"labels": labels, "rows": rows, "normalised": normalised}


def _row_share(value: float) -> str:
    """A cell's share of its row (0-100) in whole percents, except that a cell with a document never
    reads "0%" and one short of the whole row never "100%" (199 of 200 right read "100%", the miss "0%")."""
    if value < 1:
        return "<1%"
    return percent(value / 100, 0) if value < 100 else "100%"


def label_confusion(model: dict[str, Any]) -> dict[str, Any] | None:
    """Multi-label: per class how often it was missed or added wrongly, and the commonest (missed, added) pairs."""
    if (model["evaluation"] or {}).get("projectKind") != MULTI:
        return None
    missed: Counter[str] = Counter()
    added: Counter[str] = Counter()
    # None: nothing missed, or nothing added; "": a document tagged with no class (it has no right classes to add to:
    # 40 of 66 "added annoyance to a document's right classes" were such documents)
    pairs: Counter[tuple[str | None, str | None]] = Counter()
    for item in model["evaluation_results"] or []:
        expected, predicted = map(set, model_results.outcome(item))
        missed.update(expected - predicted)
        added.update(predicted - expected)
        for m in expected - predicted or {None if expected else ""}:
            for a in predicted - expected or {None}:
                if (m, a) != (None, None):
                    pairs[(m, a)] += 1
    names = sorted(set(missed) | set(added), key=lambda n: -(missed[n] + added[n]))
    peak = max([*missed.values(), *added.values(), 1])
    return {
        "classes": [{"name": n, "missed": missed[n], "added": added[n], "missed_pct": 100 * missed[n] / peak,
                     "added_pct": 100 * added[n] / peak} for n in names],
        "pairs": [{"missed": m, "added": a, "count": c} for (m, a), c in pairs.most_common(20)],
    }
