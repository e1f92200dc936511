"""Per-class decision thresholds for multi-label models, tuned for F1.

Thresholds are chosen on out-of-fold probabilities of the training data, never hard-coded;
a class with too few positive examples to tune on keeps ``default``.
"""

from __future__ import annotations

import numpy as np

MIN_POSITIVES = 3


def best_f1_threshold(proba: np.ndarray, truth: np.ndarray, default: float = 0.5) -> float:
    """The threshold on ``proba`` that maximises F1 of ``proba >= threshold`` against ``truth``.

    The cut is placed halfway between the chosen score and the next lower one, so a model
    trained on all the data (slightly more confident) does not sit on the edge.
    """
    proba = np.asarray(proba, dtype=float)
    truth = np.asarray(truth, dtype=bool)
    n_pos = int(truth.sum())
    if n_pos == 0:
        return default
    order = np.argsort(-proba, kind="stable")
    p_sorted, t_sorted = proba[order], truth[order]
    tp = np.cumsum(t_sorted)
    k = np.arange(1, len(p_sorted) + 1)
    # only cut where the score changes: ties go together
    last_of_tie = np.r_[p_sorted[1:] != p_sorted[:-1], True]
    f1 = np.where(last_of_tie, 2 * tp / (k + n_pos), -1.0)
    best = int(np.argmax(f1))
    lower = p_sorted[best + 1] if best + 1 < len(p_sorted) else 0.0
    return float((p_sorted[best] + lower) / 2)


def tune_thresholds(
    truth: np.ndarray, proba: np.ndarray, min_positives: int = MIN_POSITIVES, default: float = 0.5
) -> np.ndarray:
    """One F1-optimal threshold per column of ``proba`` (shape ``(n_docs, n_classes)``)."""
    truth = np.asarray(truth, dtype=bool)
    out = np.full(truth.shape[1], default, dtype=float)
    for j in range(truth.shape[1]):
        if truth[:, j].sum() >= min_positives:
            out[j] = best_f1_threshold(proba[:, j], truth[:, j], default)
    return out
