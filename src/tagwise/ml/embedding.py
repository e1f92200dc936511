"""The ``embedding`` recipe: all-MiniLM-L6-v2 sentence embeddings + a calibrated linear head.

Stronger than TF-IDF on paraphrases and unseen wording, English only. The encoder is shared by
every model in the process (:func:`get_encoder`); training embeddings are cached on disk by
text hash when ``cache_dir`` is set, so retraining does not re-embed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .base import TextClassifier, _check_texts
from .embedding_cache import EmbeddingCache
from .encoder import DEFAULT_BACKEND, Encoder, backend_for, backend_of, check_export, encoder_info, get_encoder
from .head import LinearHead
from .progress import Progress, report, scaled

__all__ = ["EmbeddingClassifier", "embed", "get_encoder", "past_window"]

# A training embeds in chunks so progress moves and cancellation is noticed; each chunk ends with
# a wait for its slowest batch, so chunks are large and prediction (no progress) uses one.
# banking77 test set, ensemble predict_proba: chunks of 512 -> 1,194-1,276 docs/s (int8),
# 1,009-1,100 (bf16); one chunk -> 1,260-1,345 / 1,167-1,173.
_CHUNK = 2048


def embed(texts: list[str], encoder: Encoder, cache_dir: Path | None = None,
          progress: Progress | None = None, batch_size: int | None = None) -> np.ndarray:
    """Embeddings of ``texts``, reading and filling the disk cache when ``cache_dir`` is set."""
    cache = EmbeddingCache(Path(cache_dir) / getattr(encoder, "cache_key", encoder.name), encoder.dim) if cache_dir else None
    if cache is None:
        out, missing = np.zeros((len(texts), encoder.dim), dtype=np.float32), list(range(len(texts)))
    else:
        out, missing = cache.get_many(texts)
    # Each distinct text is encoded once and its copies share the vector: with the int8 encoder a
    # vector depends a little on its batch, so copies in different batches would differ, and a
    # warm cache (one vector per text) would give another model than a cold one.
    first: dict[str, int] = {}
    for i in missing:
        first.setdefault(texts[i], i)
    # chunks of similar length (the encoder sorts within a chunk; sorting only there left ~25%
    # more padding and cost ~25% of the throughput on banking77)
    unique = sorted(first.values(), key=lambda i: len(texts[i]))
    chunk_size = _CHUNK if progress is not None else max(len(unique), 1)
    for start in range(0, len(unique), chunk_size):
        idx = unique[start:start + chunk_size]
        chunk = [texts[i] for i in idx]
        vectors = encoder.encode(chunk, batch_size=batch_size)
        out[idx] = vectors
        if cache is not None:
            cache.put_many(chunk, vectors)
        report(progress, (start + len(idx)) / len(unique))
    if len(unique) < len(missing):
        copies = [i for i in missing if first[texts[i]] != i]
        out[copies] = out[[first[texts[i]] for i in copies]]
    report(progress, 1.0)
    return out


class EmbeddingClassifier(TextClassifier):
    """Sentence embeddings -> LogisticRegression -> calibrated probabilities."""

    recipe_name = "embedding"

    def __init__(self, multi_label: bool = False, seed: int = 0, language: str = "en", C: float = 10.0,
                 cv_folds: int = 3, backend: str = DEFAULT_BACKEND, cache_dir: Path | str | None = None,
                 batch_size: int | None = None) -> None:
        self.multi_label = multi_label
        self.seed = seed
        self.language = language
        self.C = C
        self.cv_folds = cv_folds
        self.backend = backend
        self.cache_dir = cache_dir
        self.batch_size = batch_size

    def _encoder(self) -> Encoder:
        return get_encoder(getattr(self, "backend_", None) or backend_for(self.language, self.backend))

    def embed(self, texts: list[str], progress: Progress | None = None, use_cache: bool = False) -> np.ndarray:
        cache_dir = Path(self.cache_dir) if (use_cache and self.cache_dir) else None
        encoder = self._encoder()
        check_export((getattr(self, "info_", None) or {}).get("encoder"), encoder)
        return embed(texts, encoder, cache_dir, progress, self.batch_size)

    def _fit(self, texts: list[str], y: np.ndarray, progress: Progress | None) -> None:
        t0 = time.perf_counter()
        encoder = get_encoder(backend_for(self.language, self.backend))
        self.backend_ = backend_of(encoder)
        E = self.embed(texts, scaled(progress, 0.0, 0.8), use_cache=True)
        t1 = time.perf_counter()
        self.fit_embedded(E, y, scaled(progress, 0.8, 1.0))
        self.info_["timings_s"] = {"embedding": round(t1 - t0, 3), "classifier": round(time.perf_counter() - t1, 3)}

    def fit_embedded(self, E: np.ndarray, y: np.ndarray, progress: Progress | None = None) -> None:
        """Fit the head on precomputed embeddings (``classes_`` already set)."""
        self.head_ = LinearHead(multi_label=self.multi_label, kind="logreg", C=self.C, cv_folds=self.cv_folds,
                                seed=self.seed)
        self.head_.fit(E, y, len(self.classes_), progress)
        self.info_ = {
            "recipe": self.recipe_name,
            "hyperparameters": {**self.get_params(), "cache_dir": None},
            "encoder": encoder_info(self.backend_),
            "n_train": int(E.shape[0]),
            "cv_folds": self.head_.cv_folds_used_,
            "inverse_temperature": self.head_.inverse_temperature_,
        }

    @property
    def thresholds_(self) -> np.ndarray | None:
        return self.head_.thresholds_ if self.multi_label else None

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_proba_embedded(self.embed(_check_texts(texts)))

    def predict_proba_embedded(self, E: np.ndarray) -> np.ndarray:
        return self.head_.predict_proba(E)

    def export_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        h_config, h_arrays = self.head_.export_state()
        params = {**self.get_params(), "cache_dir": None}  # a training-time path: not part of the model
        config = {"params": params, "classes": self.classes_, "info": self.info_, "backend": self.backend_,
                  "head": h_config}
        return config, {f"head.{k}": v for k, v in h_arrays.items()}

    @classmethod
    def from_state(cls, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> EmbeddingClassifier:
        self = cls(**config["params"])
        self.classes_ = list(config["classes"])
        self.info_ = config["info"]
        self.backend_ = config["backend"]
        self.head_ = LinearHead.from_state(config["head"], {k[5:]: v for k, v in arrays.items()
                                                            if k.startswith("head.")})
        return self


def past_window(model: Any, texts: Sequence[str]) -> tuple[np.ndarray, int | None]:
    """Which ``texts`` run past what ``model``'s sentence encoder reads, and how many word pieces it
    reads (None: the model reads every text whole, as ``linear`` and the multilingual encoder do).
    Past that window a text counts only through its TF-IDF features (``ensemble``) or not at all
    (``embedding``): a long email whose request sits below a quoted thread is classified by its top."""
    backend = getattr(getattr(model, "model_", model), "backend_", None)  # auto's chosen model, or the model
    if backend is None:
        return np.zeros(len(texts), dtype=bool), None
    encoder = get_encoder(backend)
    return encoder.truncated(list(texts)), encoder.max_tokens
