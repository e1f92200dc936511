"""The ``ensemble`` recipe: a weighted average of the ``linear`` and ``embedding`` probabilities.

The two see different things (surface n-grams vs meaning), so their errors differ and the
average beats both. The weight is chosen on the out-of-fold probabilities both members computed
during their own fit (same folds: same seed, same labels); single-label then gets one more
temperature on the log of the mix so the probabilities stay calibrated, multi-label gets
per-class thresholds re-tuned on the out-of-fold mix.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .base import TextClassifier, _check_texts
from .calibration import apply_temperature, fit_temperature
from .embedding import EmbeddingClassifier
from .encoder import DEFAULT_BACKEND
from .linear import LinearTextClassifier
from .progress import Progress, scaled
from .thresholds import tune_thresholds

WEIGHT_GRID = np.round(np.linspace(0.0, 1.0, 11), 2)
_EPS = 1e-12


def _log_loss(proba: np.ndarray, y: np.ndarray, multi_label: bool) -> float:
    p = np.clip(proba, _EPS, 1 - _EPS)
    if multi_label:
        return float(-np.mean(np.where(y, np.log(p), np.log(1 - p))))
    return float(-np.mean(np.log(p[np.arange(len(y)), y])))


def mix(linear: np.ndarray, embedding: np.ndarray, weight: float, inverse_temperature: float | None) -> np.ndarray:
    """``weight * linear + (1 - weight) * embedding``, re-tempered for single-label."""
    mixed = weight * linear + (1.0 - weight) * embedding
    if inverse_temperature is None:
        return mixed
    return apply_temperature(np.log(np.maximum(mixed, _EPS)), inverse_temperature)


class EnsembleClassifier(TextClassifier):
    """``linear`` + ``embedding``, probabilities averaged with a weight tuned out-of-fold."""

    recipe_name = "ensemble"

    def __init__(self, multi_label: bool = False, seed: int = 0, language: str = "en", weight: float | None = None,
                 cv_folds: int = 3, backend: str = DEFAULT_BACKEND, cache_dir: Path | str | None = None) -> None:
        self.multi_label = multi_label
        self.seed = seed
        self.language = language
        self.weight = weight
        self.cv_folds = cv_folds
        self.backend = backend
        self.cache_dir = cache_dir

    def _fit(self, texts: list[str], y: np.ndarray, progress: Progress | None) -> None:
        t0 = time.perf_counter()
        common = {"multi_label": self.multi_label, "seed": self.seed, "language": self.language,
                  "cv_folds": self.cv_folds}
        linear = LinearTextClassifier(**common)
        linear.classes_ = self.classes_
        linear._fit(texts, y, scaled(progress, 0.0, 0.3))
        embedding = EmbeddingClassifier(**common, backend=self.backend, cache_dir=self.cache_dir)
        embedding.classes_ = self.classes_
        embedding._fit(texts, y, scaled(progress, 0.3, 1.0))
        self.combine(linear, embedding, y)
        self.info_["timings_s"] = {"total": round(time.perf_counter() - t0, 3)}

    def combine(self, linear: LinearTextClassifier, embedding: EmbeddingClassifier, y: np.ndarray) -> EnsembleClassifier:
        """Set the members (already fitted on the same data) and tune how to mix them."""
        self.linear_, self.embedding_ = linear, embedding
        oof_l, oof_e = linear.head_.oof_proba_, embedding.head_.oof_proba_
        scores: dict[str, float] = {}
        if oof_l is None or oof_e is None:  # too little data for out-of-fold estimates
            self.weight_ = 0.5 if self.weight is None else float(self.weight)
            self.inverse_temperature_ = None if self.multi_label else 1.0
            self.ensemble_thresholds_ = None
            if self.multi_label:
                self.ensemble_thresholds_ = np.full(len(self.classes_), 0.5)
            self.oof_proba_ = None
        else:
            grid = WEIGHT_GRID if self.weight is None else [float(self.weight)]
            scores = {str(w): _log_loss(mix(oof_l, oof_e, w, None), y, self.multi_label) for w in grid}
            self.weight_ = float(min(grid, key=lambda w: scores[str(w)]))
            raw = mix(oof_l, oof_e, self.weight_, None)
            if self.multi_label:
                self.inverse_temperature_ = None
                self.ensemble_thresholds_ = tune_thresholds(y, raw)
                self.oof_proba_ = raw
            else:
                self.inverse_temperature_ = fit_temperature(np.log(np.maximum(raw, _EPS)), y)
                self.ensemble_thresholds_ = None
                self.oof_proba_ = mix(oof_l, oof_e, self.weight_, self.inverse_temperature_)
        self.info_ = {
            "recipe": self.recipe_name,
            "hyperparameters": {**self.get_params(), "cache_dir": None},
            "weight_linear": self.weight_,
            "inverse_temperature": self.inverse_temperature_,
            "oof_log_loss_by_weight": scores,
            "members": {"linear": linear.info_, "embedding": embedding.info_},
        }
        return self

    @property
    def thresholds_(self) -> np.ndarray | None:
        return self.ensemble_thresholds_ if self.multi_label else None

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        texts = _check_texts(texts)
        return mix(self.linear_.predict_proba(texts), self.embedding_.predict_proba(texts), self.weight_,
                   self.inverse_temperature_)

    def export_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        l_config, l_arrays = self.linear_.export_state()
        e_config, e_arrays = self.embedding_.export_state()
        config = {"params": {**self.get_params(), "cache_dir": None}, "classes": self.classes_, "info": self.info_,
                  "weight": self.weight_, "inverse_temperature": self.inverse_temperature_,
                  "linear": l_config, "embedding": e_config}
        arrays = {**{f"linear.{k}": v for k, v in l_arrays.items()},
                  **{f"embedding.{k}": v for k, v in e_arrays.items()}}
        if self.ensemble_thresholds_ is not None:
            arrays["thresholds"] = self.ensemble_thresholds_
        return config, arrays

    @classmethod
    def from_state(cls, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> EnsembleClassifier:
        self = cls(**config["params"])
        self.classes_ = list(config["classes"])
        self.info_ = config["info"]
        self.weight_ = config["weight"]
        self.inverse_temperature_ = config["inverse_temperature"]
        self.ensemble_thresholds_ = arrays.get("thresholds")
        self.linear_ = LinearTextClassifier.from_state(config["linear"], _strip(arrays, "linear."))
        self.embedding_ = EmbeddingClassifier.from_state(config["embedding"], _strip(arrays, "embedding."))
        return self


def _strip(arrays: dict[str, np.ndarray], prefix: str) -> dict[str, np.ndarray]:
    return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
