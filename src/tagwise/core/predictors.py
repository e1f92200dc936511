"""Loaded models, shared by every request and deployment that uses them."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

NONE_CLASS = "None"


@dataclass(frozen=True)
class Prediction:
    """What one document gets: chosen labels, and every (class, confidence) best first."""

    labels: list[str]
    scores: list[tuple[str, float]]


def decide(model: Any, proba: np.ndarray, confidence_threshold: float = 0.0) -> list[Prediction]:
    """Turn probabilities into decisions.

    Single-label: the top class, or ``"None"`` when its confidence is below the project's
    ``confidenceThreshold``. Multi-label: every class at or above its tuned threshold.
    """
    classes = list(model.classes_)
    out = []
    if getattr(model, "multi_label", False):
        thresholds = np.asarray(model.thresholds_, dtype=float)
        for row in proba:
            order = np.argsort(-row)
            chosen = [classes[i] for i in order if row[i] >= thresholds[i]]
            out.append(Prediction(chosen, [(classes[i], float(row[i])) for i in order]))
        return out
    for row in proba:
        order = np.argsort(-row)
        top = int(order[0])
        label = classes[top] if row[top] >= confidence_threshold else NONE_CLASS
        out.append(Prediction([label], [(classes[i], float(row[i])) for i in order]))
    return out


class PredictorCache:
    """model_id -> loaded model, least recently used evicted beyond ``capacity``."""

    def __init__(self, capacity: int = 16) -> None:
        self.capacity = capacity
        self._models: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, model_id: str, artifact: str | Path) -> Any:
        with self._lock:
            if model_id in self._models:
                self._models.move_to_end(model_id)
                return self._models[model_id]
        from tagwise.ml import load_model

        model = load_model(Path(artifact))
        with self._lock:
            self._models[model_id] = model
            while len(self._models) > self.capacity:
                self._models.popitem(last=False)
        return model

    def forget(self, model_id: str) -> None:
        with self._lock:
            self._models.pop(model_id, None)
