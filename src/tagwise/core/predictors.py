"""Loaded models, shared by every request and deployment that uses them."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tagwise.errors import InvalidArgument, ModelUnreadable

NONE_CLASS = "None"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prediction:
    """What one document gets: the chosen labels and its probability row.

    The full ranking (``scores``) is built only when asked for: classifying thousands of
    documents per second needs just the chosen classes and, at most, the top few.
    """

    labels: list[str]
    row: np.ndarray
    classes: list[str]
    abstained: bool = False  # single-label: the best class was below the confidence threshold
    thresholds: np.ndarray | None = None  # multi-label: the probability each class needs to be chosen
    floor: float = 0.0  # multi-label: the project's confidenceThreshold, which raised the class thresholds below it
    read_tokens: int | None = None  # set when the sentence encoder read only this many word pieces of the text
    language_warning: dict[str, str] | None = None  # the text's language is not one the model was trained for

    def threshold_of(self, label: str) -> float | None:
        return None if self.thresholds is None or label not in self.classes else float(self.thresholds[self.classes.index(label)])

    def score_of(self, label: str) -> float:
        """The probability of ``label``; for ``"None"`` when abstained, the best class's (also in a
        project that has a class named None: an abstention scores alike in every project)."""
        if self.abstained and label == NONE_CLASS:
            return float(self.row.max())
        try:
            return float(self.row[self.classes.index(label)])
        except ValueError:
            return float(self.row.max())

    def ranked(self, k: int | None = None) -> list[tuple[str, float]]:
        """The ``k`` most probable classes, best first (all of them when ``k`` is None)."""
        row = self.row
        if k is not None and k < len(row):
            top = np.argpartition(-row, k - 1)[:k]
            order = top[np.argsort(-row[top], kind="stable")]
        else:
            order = np.argsort(-row, kind="stable")
        return [(self.classes[i], float(row[i])) for i in order]

    @property
    def scores(self) -> list[tuple[str, float]]:
        return self.ranked()


def thresholds_of(settings: Mapping[str, Any] | None) -> tuple[float, Mapping[str, float] | None]:
    """A project's settings as :func:`decide` takes them: ``confidenceThreshold`` (0 when unset)
    and ``classThresholds`` (None when unset), read the same way by every path that decides."""
    settings = settings or {}
    return float(settings.get("confidenceThreshold") or 0.0), settings.get("classThresholds")


def bars_by_class(tuned: Mapping[str, float], confidence_threshold: float = 0.0,
                  class_thresholds: Mapping[str, float] | None = None) -> dict[str, float]:
    """Each class's threshold as :func:`decide` applies it, from its tuned one (``tuned``: class ->
    threshold): the project's ``classThresholds`` entry in its place (names the model lacks, a class
    deleted or renamed since it was trained, are ignored), raised to ``confidence_threshold``."""
    chosen = class_thresholds or {}
    return {name: max(float(chosen.get(name, value)), confidence_threshold) for name, value in tuned.items()}


def class_bars(model: Any, confidence_threshold: float = 0.0, class_thresholds: Mapping[str, float] | None = None) -> np.ndarray:
    """A multi-label model's threshold for each class, in its classes' order (:func:`bars_by_class`)."""
    tuned = dict(zip(model.classes_, model.thresholds_, strict=True))
    return np.array(list(bars_by_class(tuned, confidence_threshold, class_thresholds).values()), dtype=float)


def decide(model: Any, proba: np.ndarray, confidence_threshold: float = 0.0,
           class_thresholds: Mapping[str, float] | None = None) -> list[Prediction]:
    """Turn probabilities into decisions.

    Single-label: the top class, or ``"None"`` when its confidence is below the project's
    ``confidenceThreshold``. Multi-label: every class whose probability reaches both its own
    threshold and the project's ``confidenceThreshold`` (a floor that only raises the bar: 0
    leaves the class thresholds alone), most probable first; none reaching it is "no class". A
    class's own threshold is the one tuned at training, or the project's
    ``settings.classThresholds`` entry for it (``class_thresholds``: it replaces the tuned one,
    higher or lower; names the model lacks are ignored, single-label ignores them all).
    Every path that answers for a project (classify, analyze jobs, evaluation, the studio's Try
    it and Tag pages, the CLI) decides here, so they all agree.
    """
    classes = list(model.classes_)
    proba = np.asarray(proba, dtype=float)
    if getattr(model, "multi_label", False):
        thresholds = class_bars(model, confidence_threshold, class_thresholds)
        chosen = proba >= thresholds
        out = []
        for row, mask in zip(proba, chosen, strict=True):
            idx = np.flatnonzero(mask)
            idx = idx[np.argsort(-row[idx], kind="stable")]
            out.append(Prediction([classes[i] for i in idx], row, classes, thresholds=thresholds, floor=confidence_threshold))
        return out
    top = proba.argmax(axis=1)
    confident = proba[np.arange(len(proba)), top] >= confidence_threshold
    return [Prediction([classes[t] if ok else NONE_CLASS], row, classes, abstained=not ok)
            for t, ok, row in zip(top, confident, proba, strict=True)]


class PredictorCache:
    """model_id -> loaded model, least recently used evicted beyond ``capacity``."""

    def __init__(self, capacity: int = 16) -> None:
        self.capacity = capacity
        self._models: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[str, threading.Lock] = {}  # one load per model at a time

    def get(self, model_id: str, artifact: str | Path) -> Any:
        with self._lock:
            if model_id in self._models:
                self._models.move_to_end(model_id)
                return self._models[model_id]
            loading = self._loading.setdefault(model_id, threading.Lock())
        with loading:  # a request arriving while a warm-up loads the model waits for that load
            with self._lock:
                if model_id in self._models:
                    return self._models[model_id]
            from tagwise.ml import load_model

            try:
                model = load_model(Path(artifact))
            except BaseException as exc:
                with self._lock:
                    self._loading.pop(model_id, None)
                if isinstance(exc, InvalidArgument):  # the store's files, not the request, are wrong: a 500
                    # the part and its path go to the operator's log, not to whoever called (a runtime key)
                    log.error("model %s cannot be loaded: %s", model_id, exc.message)
                    from tagwise.core.models import is_saved

                    if not is_saved(Path(artifact)):  # not damaged: not there (a restore from two times)
                        raise ModelUnreadable(f"The model's folder is missing from the model store (model {model_id}): the "
                                              "server's operator restores it from the backup the store came from, or the model "
                                              "is trained again.") from None
                    from tagwise.ml.persist import newer_format

                    if found := newer_format(Path(artifact)):  # a newer tagwise's worker trained it (mid-upgrade, or after a rollback)
                        raise ModelUnreadable(f"The model was saved by a newer tagwise (model format {found}, model {model_id}), which "
                                              "this server cannot read: upgrade this server, or train the model again here and "
                                              "deploy it.") from None
                    raise ModelUnreadable(f"The model's files in the model store cannot be loaded (model {model_id}); "
                                          "the server's log says which part is wrong.") from None
                raise
            with self._lock:
                self._models[model_id] = model
                while len(self._models) > self.capacity:
                    self._models.popitem(last=False)
                self._loading.pop(model_id, None)
        return model

    def __contains__(self, model_id: str) -> bool:
        with self._lock:
            return model_id in self._models

    def __len__(self) -> int:
        """Models loaded now (``GET /metrics`` reports it)."""
        with self._lock:
            return len(self._models)

    def forget(self, model_id: str) -> None:
        with self._lock:
            self._models.pop(model_id, None)
