"""The ``auto`` recipe: fit what the time budget allows, keep what cross-validation says is best.

Steps: fit ``linear`` (seconds; its out-of-fold probabilities come for free). If embedding the
training texts plus a bigger head fit in what is left of ``time_budget_s`` (measured on a small
probe; cached vectors are free), fit ``ensemble`` too, reusing the TF-IDF features; its encoder
follows the language (MiniLM for English, USE multilingual for the rest). Keep the candidate with
the best out-of-fold score (:mod:`.selection`: single-label accuracy, multi-label macro-F1 at
tuned thresholds). ``embedding`` alone is not tried: on every benchmark set the ensemble, which
contains it, scored higher. ``info_`` says what
was tried, the scores, the timings and why the winner won.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .base import TextClassifier
from .embedding import embed
from .embedding_cache import EmbeddingCache
from .encoder import DEFAULT_BACKEND, backend_for, backend_of, get_encoder
from .ensemble import EnsembleClassifier
from .head import MIN_DOCS_FOR_CV
from .linear import LinearTextClassifier
from .progress import Progress, scaled
from .selection import main_metric, oof_score, rank_key
from .text_features import TextFeaturizer

PROBE_DOCS = 64
# the ensemble head fit relative to the linear head (measured 3.8x on banking77: 384 dense columns more)
ENSEMBLE_HEAD_COST = 4.0


class AutoClassifier(TextClassifier):
    """Chooses among ``linear``, ``embedding`` and ``ensemble`` by cross-validation, within a time budget."""

    recipe_name = "auto"

    def __init__(self, multi_label: bool = False, seed: int = 0, language: str = "en", time_budget_s: float = 120.0,
                 cv_folds: int = 3, backend: str = DEFAULT_BACKEND, cache_dir: Path | str | None = None) -> None:
        self.multi_label = multi_label
        self.seed = seed
        self.language = language
        self.time_budget_s = time_budget_s
        self.cv_folds = cv_folds
        self.backend = backend
        self.cache_dir = cache_dir

    def _fit(self, texts: list[str], y: np.ndarray, progress: Progress | None) -> None:
        t0 = time.perf_counter()
        common = {"multi_label": self.multi_label, "seed": self.seed, "language": self.language,
                  "cv_folds": self.cv_folds}
        linear = LinearTextClassifier(**common)
        linear.classes_ = self.classes_
        featurizer = TextFeaturizer(min_df=linear.min_df, max_features=linear.max_features)
        T = featurizer.fit_transform(texts)
        linear.fit_features(featurizer, T, y, scaled(progress, 0.0, 0.25))
        timings = {"linear": round(time.perf_counter() - t0, 3)}
        candidates: dict[str, TextClassifier] = {"linear": linear}
        scores: dict[str, dict[str, float]] = {}
        if linear.head_.oof_proba_ is not None:
            scores["linear"] = oof_score(linear.head_.oof_proba_, y, self.multi_label)

        head_s = linear.info_["timings_s"]["classifier"] * ENSEMBLE_HEAD_COST
        skip = self._why_not_embedding(texts, time.perf_counter() - t0, head_s)
        if skip is None:
            t1 = time.perf_counter()
            encoder = get_encoder(backend_for(self.language, self.backend))
            E = embed(texts, encoder, Path(self.cache_dir) if self.cache_dir else None, scaled(progress, 0.25, 0.6))
            ensemble = EnsembleClassifier(**common, backend=self.backend, cache_dir=self.cache_dir)
            ensemble.classes_ = self.classes_
            ensemble.fit_features(featurizer, T, backend_of(encoder), E, y,
                                  scaled(progress, 0.6, 1.0))
            timings["ensemble"] = round(time.perf_counter() - t1, 3)
            candidates["ensemble"] = ensemble
            scores["ensemble"] = oof_score(ensemble.head_.oof_proba_, y, self.multi_label)
            key = main_metric(self.multi_label)
            chosen = max(scores, key=lambda name: rank_key(scores[name]))
            reason = f"best out-of-fold {key} ({scores[chosen][key]:.4f}) among {', '.join(scores)}"
        else:
            chosen, reason = "linear", skip
        self.model_ = candidates[chosen]
        timings["total"] = round(time.perf_counter() - t0, 3)
        self.info_ = {
            "recipe": self.recipe_name,
            "hyperparameters": {**self.get_params(), "cache_dir": None},
            "chosen": chosen,
            "reason": reason,
            "cv_scores": scores,
            "timings_s": timings,
            "model": self.model_.info_,
        }

    def _why_not_embedding(self, texts: list[str], elapsed: float, head_s: float) -> str | None:
        """``None`` when the ensemble should be tried, else the reason it is not."""
        if len(texts) < MIN_DOCS_FOR_CV:
            return f"only {len(texts)} documents: too few to compare recipes by cross-validation"
        try:
            encoder = get_encoder(backend_for(self.language, self.backend))
        except Exception as exc:  # noqa: BLE001  (no encoder here: linear still works)
            return f"sentence encoder unavailable: {exc}"
        missing = list(range(len(texts)))
        if self.cache_dir:
            _, missing = EmbeddingCache(Path(self.cache_dir) / encoder.name, encoder.dim).get_many(texts)
        # an evenly spread sample (lengths vary along the data), timed after one warm-up call
        probe = [texts[i] for i in missing[:: max(1, len(missing) // PROBE_DOCS)][:PROBE_DOCS]]
        encoder.encode(["warm up"])
        t = time.perf_counter()
        embed(probe, encoder, Path(self.cache_dir) if self.cache_dir else None)  # cached, so not wasted
        per_doc = (time.perf_counter() - t) / max(1, len(probe))
        estimate = per_doc * max(0, len(missing) - len(probe)) + head_s
        if elapsed + estimate > self.time_budget_s:
            return (f"the ensemble would need about {estimate:.0f} s more ({len(missing)} texts to embed), over the "
                    f"time budget ({self.time_budget_s:.0f} s, {elapsed:.0f} s used)")
        return None

    @property
    def thresholds_(self) -> np.ndarray | None:
        return self.model_.thresholds_

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.model_.predict_proba(texts)

    def export_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        config, arrays = self.model_.export_state()
        return {"params": {**self.get_params(), "cache_dir": None}, "classes": self.classes_, "info": self.info_,
                "chosen": self.info_["chosen"], "model": config}, arrays

    @classmethod
    def from_state(cls, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> AutoClassifier:
        from .recipes import MODEL_CLASSES

        self = cls(**config["params"])
        self.classes_ = list(config["classes"])
        self.info_ = config["info"]
        self.model_ = MODEL_CLASSES[config["chosen"]].from_state(config["model"], arrays)
        return self
