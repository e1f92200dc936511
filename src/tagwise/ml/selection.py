"""How ``auto`` compares its candidates on out-of-fold probabilities.

Single-label: accuracy, ties broken by log loss. Multi-label: macro-F1 at per-class thresholds
tuned on the same probabilities (what those thresholds maximise, class by class), ties broken
by micro-F1, then log loss.
"""

from __future__ import annotations

import numpy as np

from .thresholds import tune_thresholds

_EPS = 1e-12


def _log_loss(proba: np.ndarray, y: np.ndarray, multi_label: bool) -> float:
    p = np.clip(proba, _EPS, 1 - _EPS)
    if multi_label:
        return float(-np.mean(np.where(y, np.log(p), np.log(1 - p))))
    return float(-np.mean(np.log(p[np.arange(len(y)), y])))


def oof_score(proba: np.ndarray, y: np.ndarray, multi_label: bool) -> dict[str, float]:
    """Out-of-fold quality of one candidate; ``rank_key`` orders candidates (higher is better)."""
    if multi_label:
        y = np.asarray(y, dtype=bool)
        pred = proba >= tune_thresholds(y, proba)
        tp = (pred & y).sum(axis=0).astype(float)
        denominator = pred.sum(axis=0) + y.sum(axis=0)
        per_class = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
        micro = 2 * tp.sum() / denominator.sum() if denominator.sum() else 0.0
        return {"macro_f1": round(float(per_class.mean()), 5), "micro_f1": round(float(micro), 5),
                "log_loss": round(_log_loss(proba, y, True), 5)}
    return {"accuracy": round(float((proba.argmax(axis=1) == y).mean()), 5),
            "log_loss": round(_log_loss(proba, y, False), 5)}


def rank_key(score: dict[str, float]) -> tuple[float, ...]:
    if "macro_f1" in score:
        return (score["macro_f1"], score["micro_f1"], -score["log_loss"])
    return (score["accuracy"], -score["log_loss"])


def main_metric(multi_label: bool) -> str:
    return "macro_f1" if multi_label else "accuracy"
