"""The ``auto`` recipe: fit what the time budget allows, keep what cross-validation says is best.

Steps: fit ``linear`` (seconds; its out-of-fold probabilities come for free). If both recipes
together fit in ``time_budget_s``, fit ``ensemble`` too, reusing the TF-IDF features; its encoder
follows the language (MiniLM for English, USE multilingual for the rest). Keep the candidate with
the best out-of-fold score (:mod:`.selection`: single-label accuracy, multi-label macro-F1 at
tuned thresholds). ``embedding`` alone is not tried: on every benchmark set the ensemble, which
contains it, scored higher. ``info_`` says what was tried, the scores, the timings and why the
winner won.

Whether the ensemble fits is estimated from the data alone (characters to encode, non-zero
features times classes), with speeds measured on the 2-core reference machine: so the same data
and seed always give the same choice, however busy the machine is and whatever is cached.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .base import TextClassifier
from .embedding import embed
from .encoder import DEFAULT_BACKEND, MULTILINGUAL, Encoder, backend_for, backend_of, get_encoder, split_backend
from .ensemble import EnsembleClassifier
from .head import MIN_DOCS_FOR_CV
from .linear import LinearTextClassifier
from .progress import Progress, scaled
from .selection import main_metric, oof_score, rank_key
from .text_features import TextFeaturizer, feature_budget

# The cost model behind the budget, measured on the 2-core reference machine (docs/benchmarks.md,
# "auto's time estimate"; re-measure with benchmarks/auto_estimate.py); within ~25% of the
# measured times on banking77, clinc150, goemotions.
# characters encoded per second by each backend (benchmarks/encoder.py: docs/s x 59.5 characters)
CHARS_PER_S = {"onnx-int8": 100_000, "onnx-int8-token": 85_000, "torch-bf16": 90_000, "onnx": 40_000, "torch": 5_000, MULTILINGUAL: 70_000}
MAX_CHARS = 1_200  # the encoders read at most 256 tokens, ~1,200 characters of English
FEATURIZE_CHARS_PER_S = 300_000  # TF-IDF word + char n-grams, fit and transform
# seconds per (non-zero feature x binary problem) of a head fit: 3 cross-validation fits and the
# final fit, on 2 cores. Multi-label problems are one-vs-rest on rare classes and converge slower.
HEAD_S_PER_UNIT = {False: 5.2e-8, True: 1.8e-7}


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
        featurizer = TextFeaturizer(min_df=linear.min_df, max_features=linear.max_features,
                                     max_total_features=feature_budget(len(self.classes_)))
        T = featurizer.fit_transform(texts)
        t_check = time.perf_counter()
        skip, estimate, encoder = self._why_not_ensemble(texts, T.nnz)
        t_linear = time.perf_counter()
        # linear's share of the progress: all of it when the ensemble will not be tried (it was a
        # quarter, so a big project's training jumped from 25% to done, its estimated end 4x too far)
        linear.fit_features(featurizer, T, y, scaled(progress, 0.0, 0.25 if skip is None else 1.0))
        timings = {"linear": round(time.perf_counter() - t_linear + t_check - t0, 3)}
        candidates: dict[str, TextClassifier] = {"linear": linear}
        scores: dict[str, dict[str, float]] = {}
        if linear.head_.oof_proba_ is not None:
            scores["linear"] = oof_score(linear.head_.oof_proba_, y, self.multi_label)

        if skip is None:
            t1 = time.perf_counter()
            E = embed(texts, encoder, Path(self.cache_dir) if self.cache_dir else None, scaled(progress, 0.25, 0.6))
            ensemble = EnsembleClassifier(**common, backend=self.backend, cache_dir=self.cache_dir)
            ensemble.classes_ = self.classes_
            ensemble.fit_features(featurizer, T, backend_of(encoder), E, y,
                                  scaled(progress, 0.6, 1.0))
            timings["ensemble"] = round(time.perf_counter() - t1, 3)
            candidates["ensemble"] = ensemble
            scores["ensemble"] = oof_score(ensemble.head_.oof_proba_, y, self.multi_label)
            key = main_metric(self.multi_label)
            ranked = sorted(scores, key=lambda name: rank_key(scores[name]), reverse=True)
            chosen = ranked[0]
            others = ", ".join(f"{name} {scores[name][key]:.2%}" for name in ranked[1:])
            reason = f"best out-of-fold {key}: {chosen} {scores[chosen][key]:.2%} against {others}"
            if scores[ranked[1]][key] == scores[chosen][key]:
                reason += f"; tied with {ranked[1]}, won on {'micro-F1, then ' if self.multi_label else ''}log loss"
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
            "estimated_s": estimate,
            "timings_s": timings,
            "model": self.model_.info_,
        }

    def _why_not_ensemble(self, texts: list[str], nnz: int) -> tuple[str | None, dict[str, float], Encoder | None]:
        """(``None`` when the ensemble should be tried, else the reason it is not; the time estimate;
        the sentence encoder, when there is one)."""
        if len(texts) < MIN_DOCS_FOR_CV:
            return f"only {len(texts)} documents: too few to compare recipes by cross-validation", {}, None
        try:
            encoder = get_encoder(backend_for(self.language, self.backend))
        except Exception as exc:  # noqa: BLE001  (no encoder here: linear still works)
            return f"sentence encoder unavailable: {exc}", {}, None
        estimate = estimate_seconds(texts, nnz, encoder.dim, len(self.classes_), self.multi_label,
                                    backend_of(encoder), encoder.relative_cost)
        total = estimate["linear"] + estimate["ensemble"]
        if total > self.time_budget_s:
            return (f"the ensemble would need about {estimate['ensemble']:.0f} s more than linear "
                    f"({estimate['linear']:.0f} s; estimated from {len(texts)} texts and {len(self.classes_)} "
                    f"classes), over the time budget ({self.time_budget_s:.0f} s)"), estimate, None
        return None, estimate, encoder

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


def estimate_seconds(texts: list[str], nnz: int, dim: int, n_classes: int, multi_label: bool,
                     backend: str, relative_cost: float = 1.0) -> dict[str, float]:
    """Training seconds of ``linear`` and of the ``ensemble`` beyond it, on the reference machine.

    ``relative_cost``: the encoder's time per character against MiniLM-L6's (a server's own,
    larger encoder; ``Encoder.relative_cost``).
    """
    # TF-IDF reads every character; the encoder at most its window (a long email: 6,000 read, 1,200 encoded)
    chars, encoded = sum(len(t) for t in texts), sum(min(len(t), MAX_CHARS) for t in texts)
    problems = n_classes if multi_label or n_classes > 2 else 1
    per_unit = HEAD_S_PER_UNIT[multi_label]
    linear = chars / FEATURIZE_CHARS_PER_S + per_unit * nnz * problems
    chars_per_s = CHARS_PER_S.get(split_backend(backend)[0], min(CHARS_PER_S.values())) / relative_cost
    ensemble = encoded / chars_per_s + per_unit * (nnz + len(texts) * dim) * problems
    return {"linear": round(linear, 2), "ensemble": round(ensemble, 2)}
