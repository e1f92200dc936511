"""The Python library: train, use and save a text classifier without a server.

A scikit-learn estimator over the same recipes the server trains (``tagwise.ml``), so a
model saved here is the same kind of folder a training job writes.

>>> from tagwise import TextClassifier
>>> clf = TextClassifier(recipe="linear").fit(
...     ["my card was stolen", "lost my card", "hello there", "hi, good morning"],
...     ["card", "card", "greeting", "greeting"])
>>> clf.predict(["someone stole my card"])
['card']
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from tagwise.errors import InvalidArgument

AUTO = "auto"


class TextClassifier(ClassifierMixin, BaseEstimator):
    """Train on ``texts`` and labels; ``str`` labels make it single-label, ``list[str]`` labels multi-label.

    ``recipe``: a name of ``tagwise.ml.RECIPES`` or ``"auto"`` (the default recipe).
    ``params``: extra keyword arguments for the recipe's model (e.g. ``{"C": 1.0}`` for ``linear``).
    ``cache_dir``: where embedding recipes may cache sentence vectors.
    """

    def __init__(self, recipe: str = AUTO, *, seed: int = 0, language: str = "en", params: dict[str, Any] | None = None,
                 cache_dir: str | Path | None = None) -> None:
        self.recipe = recipe
        self.seed = seed
        self.language = language
        self.params = params
        self.cache_dir = cache_dir

    def fit(self, texts: Sequence[str], labels: Sequence[str] | Sequence[Sequence[str]]) -> TextClassifier:
        """Learn from the texts; returns ``self``."""
        from tagwise.ml import build_model

        texts = _texts(texts)
        if isinstance(labels, Mapping) or getattr(labels, "ndim", 1) != 1:
            raise InvalidArgument("Pass one label per text: a list or a column such as df['label'] (for multi-label, "
                                  "a list of lists of labels), not a table or a dict.")
        labels = list(labels)
        multi = bool(labels) and not isinstance(labels[0], str)
        self.model_ = build_model(self._recipe_name(), multi_label=multi, seed=self.seed, language=self.language,
                                  cache_dir=Path(self.cache_dir) if self.cache_dir else None, **(self.params or {}))
        self.model_.fit(texts, labels)
        return self

    def _recipe_name(self) -> str:
        from tagwise.ml import DEFAULT_RECIPE, RECIPES

        return DEFAULT_RECIPE if self.recipe == AUTO and AUTO not in RECIPES else self.recipe

    @property
    def classes_(self) -> list[str]:
        """The labels, in the order of :meth:`predict_proba`'s columns."""
        return list(self._fitted().classes_)

    @property
    def multi_label(self) -> bool:
        return bool(getattr(self._fitted(), "multi_label", False))

    @property
    def thresholds_(self) -> np.ndarray | None:
        """Per-class decision thresholds of a multi-label model (None for single-label)."""
        return self._fitted().thresholds_

    def predict(self, texts: Sequence[str]) -> list[str] | list[list[str]]:
        """The top label per text (single-label) or every label at or above its threshold (multi-label)."""
        return self._fitted().predict(_texts(texts))

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities, one row per text, columns in the order of ``classes_``."""
        return self._fitted().predict_proba(_texts(texts))

    def save(self, path: str | Path) -> None:
        """Write the model as a folder (``manifest.json`` + arrays, no pickle)."""
        from tagwise.ml import save_model

        save_model(self._fitted(), Path(path), {"savedBy": "tagwise.TextClassifier", "recipe": self._recipe_name(),
                                               "seed": self.seed, "language": self.language})

    @classmethod
    def load(cls, path: str | Path) -> TextClassifier:
        """Load a folder written by :meth:`save` (or by a tagwise training job)."""
        from tagwise.ml import load_model
        from tagwise.ml.persist import read_manifest

        manifest = read_manifest(Path(path))
        meta = manifest.get("metadata") or {}
        clf = cls(recipe=manifest.get("recipe", AUTO), seed=meta.get("seed", 0), language=meta.get("language", "en"))
        clf.model_ = load_model(Path(path))
        return clf

    def _fitted(self) -> Any:
        model = getattr(self, "model_", None)
        if model is None:
            raise InvalidArgument("This TextClassifier is not trained yet: call fit(texts, labels) or TextClassifier.load(path).")
        return model

    def __sklearn_tags__(self):  # -> sklearn's Tags
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        return tags


def _texts(texts: Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        raise InvalidArgument("Pass a list of texts, e.g. predict([text]), not a single string.")
    if isinstance(texts, Mapping) or getattr(texts, "ndim", 1) != 1:  # a dict or a DataFrame would give its keys
        raise InvalidArgument("Pass a one-dimensional list of texts: a column such as df['text'], "
                              "not a table (df[['text']]) or a dict.")
    return list(texts)


def evaluate(y_true: Sequence[Any], y_pred: Sequence[Any], labels: Sequence[str] | None = None,
             multi_label: bool | None = None, y_proba: np.ndarray | None = None):  # -> tagwise.ml.EvaluationReport
    """Score predictions: the same report a training job stores (accuracy, micro/macro P/R/F1, per class, confusion).

    ``labels`` defaults to every label seen in ``y_true`` and ``y_pred`` (sorted; give it when
    passing ``y_proba``, whose columns follow it; a single-label ``"None"`` counts as an
    abstention unless ``y_true`` has it); ``multi_label`` defaults to whether the items of
    ``y_true`` are lists.

    >>> report = evaluate(["a", "b", "b"], ["a", "b", "a"])
    >>> round(report.accuracy, 3), report.per_class["a"].precision
    (0.667, 0.5)
    """
    from tagwise.core.predictors import NONE_CLASS
    from tagwise.ml import evaluate as ml_evaluate

    y_true, y_pred = list(y_true), list(y_pred)
    if len(y_true) != len(y_pred):
        raise InvalidArgument(f"got {len(y_true)} true labels but {len(y_pred)} predictions")
    if multi_label is None:
        multi_label = bool(y_true) and not isinstance(y_true[0], str)
    for name, items in (("y_true", y_true), ("y_pred", y_pred)):
        for i, item in enumerate(items):
            ok = (not isinstance(item, str) and isinstance(item, Sequence | set | frozenset)
                  and all(isinstance(x, str) for x in item)) if multi_label else isinstance(item, str)
            if not ok:
                raise InvalidArgument(f"{name}[{i}] is {item!r}: every item must be a "
                                      f"{'list of class names' if multi_label else 'class name (a string)'}")
    if labels is None:
        true, predicted = ({x for item in items for x in (item if multi_label else [item])} for items in (y_true, y_pred))
        # single-label "None" is an abstention, unless it is a true label (out-of-scope examples)
        labels = sorted(true | (predicted - ({NONE_CLASS} if not multi_label else set())))
    return ml_evaluate(y_true, y_pred, labels=list(labels), multi_label=multi_label, y_proba=y_proba)
