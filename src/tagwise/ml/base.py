"""What every tagwise text classifier shares: label encoding, input checks, ``predict``.

Subclasses implement ``_fit(texts, y, progress)`` (``y``: class indices for single-label, a
bool matrix for multi-label), ``predict_proba``, and ``export_state``/``from_state`` for
persistence without pickle.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from tagwise.errors import InvalidArgument

from .progress import Progress, report


class TextClassifier(ClassifierMixin, BaseEstimator):
    multi_label: bool
    recipe_name = "base"

    def fit(self, texts: Sequence[str], y: Sequence[Any], progress: Progress | None = None) -> TextClassifier:
        """Learn from ``texts`` and their labels (``list[str]``, or ``list[list[str]]`` when multi-label)."""
        texts = _check_texts(texts)
        if len(texts) != len(y):
            raise InvalidArgument(f"got {len(texts)} texts but {len(y)} labels")
        if not texts:
            raise InvalidArgument("cannot train on zero documents")
        if not any(t.strip() for t in texts):
            raise InvalidArgument("The texts have nothing to learn from: every one is empty or only spaces.")
        if self.multi_label:
            label_sets = []
            for i, labels in enumerate(y):
                if isinstance(labels, str) or not isinstance(labels, Sequence | set | frozenset):
                    raise InvalidArgument("multi-label training needs a list of labels per document (an empty "
                                          f"list for none); document {i} has {_shown(labels)}")
                if problem := next(filter(None, map(_label_problem, labels)), None):
                    raise InvalidArgument(f"multi-label training: document {i} has {_shown(list(labels))}: {problem}")
                label_sets.append({str(label) for label in labels})
            self.classes_ = sorted(set().union(*label_sets))
            if not self.classes_:
                raise InvalidArgument("multi-label training data has no labels at all")
            index = {c: j for j, c in enumerate(self.classes_)}
            encoded = np.zeros((len(texts), len(self.classes_)), dtype=bool)
            for i, labels in enumerate(label_sets):
                encoded[i, [index[label] for label in labels]] = True
        else:
            wrong = next((i for i, label in enumerate(y) if _label_problem(label)), None)
            if wrong is not None:
                raise InvalidArgument("single-label training needs one label per document; "
                                      f"document {wrong} has {_shown(y[wrong])}: {_label_problem(y[wrong])}")
            y = [str(label) for label in y]  # numpy's str_ too: classes come back as plain strings
            self.classes_ = sorted(set(y))
            index = {c: j for j, c in enumerate(self.classes_)}
            encoded = np.array([index[label] for label in y], dtype=np.int64)
        report(progress, 0.0)
        self._fit(texts, encoded, progress)
        report(progress, 1.0)
        return self

    def _fit(self, texts: list[str], y: np.ndarray, progress: Progress | None) -> None:
        raise NotImplementedError

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        raise NotImplementedError

    @property
    def thresholds_(self) -> np.ndarray | None:
        raise NotImplementedError

    def predict(self, texts: Sequence[str]) -> list[str] | list[list[str]]:
        """Top class (single-label) or every class whose probability reaches its threshold."""
        proba = self.predict_proba(texts)
        if self.multi_label:
            hits = proba >= self.thresholds_
            return [[self.classes_[j] for j in np.flatnonzero(row)] for row in hits]
        return [self.classes_[j] for j in proba.argmax(axis=1)]

    def export_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        raise NotImplementedError


def _label_problem(label: Any) -> str | None:
    """Why ``label`` cannot name a class (None when it can): a string, whole number or boolean (the
    model keeps ``str(label)``; ``tagwise.TextClassifier`` gives predictions back in the labels' type).
    A missing value must not quietly become a class named "None" or "nan"."""
    if isinstance(label, str):
        return "a label cannot be empty or only spaces" if not label.strip() else None
    if isinstance(label, int | np.integer | np.bool_):  # bool too: the model keeps str(label) as the class
        return None
    if isinstance(label, float | np.floating) and float(label).is_integer():
        return ("a label is a string, a whole number or a boolean, not a float: a column of whole numbers "
                "that pandas read as floats (because of a missing value) converts with .astype(int) once "
                "the rows without a label are dropped")
    if label is None or (isinstance(label, float | np.floating) and np.isnan(label)):
        return "a missing label: drop the rows without one (for multi-label, give [] for a document with no class)"
    return f"a label is a string, a whole number or a boolean, not {type(label).__name__}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_texts(texts: Sequence[str]) -> list[str]:
    """The texts every recipe fits and predicts on, in Unicode NFC: "é" typed as one character or
    as "e" plus a combining accent (text copied from macOS) is the same text to a reader, and must
    be to the model (it changed 10 of 612 multilingual predictions, by up to 0.28 in confidence)."""
    if isinstance(texts, str):
        raise InvalidArgument("texts must be a list of strings, not one string")
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            missing = t is None or (isinstance(t, float) and math.isnan(t)) or type(t).__name__ == "NAType"  # None, NaN, pandas' NA
            raise InvalidArgument(f"every text must be a string; text {i} is {_shown(t)}"
                                  + (": drop the rows without text first" if missing else f", a {type(t).__name__}"))
        if not unicodedata.is_normalized("NFC", t):
            texts[i] = unicodedata.normalize("NFC", t)
    return texts
