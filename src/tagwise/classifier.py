"""The Python library: train, use and save a text classifier without a server.

A scikit-learn estimator over the same recipes the server trains (``tagwise.ml``), so a
model saved here is the same kind of folder a training job writes.

>>> from tagwise import TextClassifier
>>> clf = TextClassifier(recipe="linear").fit(
...     ["my card was stolen", "lost my card", "hello there", "hi, good morning"],
...     ["card", "card", "greeting", "greeting"])
>>> clf.predict(["someone stole my card"])
array(['card'], dtype=object)
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from tagwise.errors import InvalidArgument

AUTO = "auto"
ABSTAINED = "None"  # the server's answer below the confidence threshold (core.predictors.NONE_CLASS)
_OWN_ARGUMENTS = ("seed", "multi_label", "language", "cache_dir")  # build_model's, set by TextClassifier itself


class NotTrained(InvalidArgument, NotFittedError):
    """Predicting before ``fit`` or ``load``: scikit-learn's NotFittedError too, so ``check_is_fitted``
    and ``hasattr(clf, "classes_")`` behave as with any estimator."""


class TextClassifier(ClassifierMixin, BaseEstimator):
    """Train on ``texts`` and labels: one label per text makes it single-label, a list of labels per
    text multi-label. Labels are strings, whole numbers or booleans (all of one type); predictions
    and ``classes_`` (an array, as in scikit-learn) give them back in that type.

    ``recipe``: a name of ``tagwise.ml.RECIPES`` or ``"auto"`` (the default recipe).
    ``seed``: the same data and seed give the same model, to the bit.
    ``language``: the texts' language, as a project's: ``en`` (or ``en-*``) embeds with the English
    encoder, any other code with the multilingual one (16 languages). Say it for non-English texts:
    on German, French and Spanish texts the English encoder loses 10-20 points of accuracy.
    ``params``: extra keyword arguments for the recipe's model (e.g. ``{"C": 1.0}`` for ``linear``).
    ``cache_dir``: where embedding recipes may cache sentence vectors.
    ``confidence_threshold``: a project's ``confidenceThreshold``, decided as the server decides it:
    single-label, a text whose best class is less probable than this is answered ``"None"`` (``None``
    for whole-number and boolean labels), which is how out-of-scope input is caught; multi-label,
    the floor under every class's tuned threshold. It can be changed after ``fit``.

    ``predict`` gives an array of labels (single-label) or a list of label lists (multi-label);
    ``score`` is the accuracy (for multi-label, the share of texts whose labels are all exactly
    right), with an abstention counted as wrong unless the truth is ``"None"``.
    """

    def __init__(self, recipe: str = AUTO, *, seed: int = 0, language: str = "en", params: dict[str, Any] | None = None,
                 cache_dir: str | Path | None = None, confidence_threshold: float | None = None) -> None:
        self.recipe = recipe
        self.seed = seed
        self.language = language
        self.params = params
        self.cache_dir = cache_dir
        self.confidence_threshold = confidence_threshold

    def fit(self, texts: Sequence[str], labels: Sequence[str] | Sequence[Sequence[str]]) -> TextClassifier:
        """Learn from the texts; returns ``self``."""
        from tagwise.ml import build_model

        texts = _texts(texts)
        self._threshold()  # its parameters checked before the work, as scikit-learn does: 1.5 was refused only at predict
        if isinstance(self.seed, bool) or not isinstance(self.seed, int | np.integer):
            raise InvalidArgument(f"seed must be a whole number, not {self.seed!r}.")
        if not 0 <= self.seed < 2**32:  # numpy's own ValueError came from inside the training
            raise InvalidArgument(f"seed must be from 0 to 2**32 - 1, not {self.seed}.")
        if isinstance(labels, Mapping) or getattr(labels, "ndim", 1) != 1:
            raise InvalidArgument("Pass one label per text: a list or a column such as df['label'] (for multi-label, "
                                  "a list of lists of labels, not an indicator matrix: MultiLabelBinarizer's "
                                  "inverse_transform gives the lists back), not a table or a dict.")
        labels = list(labels)
        multi = any(_is_label_set(label) for label in labels)  # a stray None or string among lists is that document's error
        if multi and _indicator_rows(labels):  # MultiLabelBinarizer's matrix as lists: a model of the classes 0 and 1
            raise InvalidArgument("The labels look like an indicator matrix (rows of 0 and 1) given as lists: pass each text's "
                                  "list of labels (MultiLabelBinarizer's inverse_transform gives the lists back).")
        params = dict(self.params or {})
        if clash := [name for name in _OWN_ARGUMENTS if name in params]:
            raise InvalidArgument(f"params cannot set {', '.join(clash)}: give seed and language to TextClassifier itself "
                                  "(multi-label follows the labels).")
        from tagwise.core.validation import language_code

        # "english" trained with the multilingual encoder without a word (the API and the CLI refuse it)
        language = language_code(self.language)
        if language is None:
            raise InvalidArgument(f"language must be a language code such as 'en', 'de' or 'pt-BR', not {self.language!r}.")
        self.label_type_ = _label_type(labels, multi)
        if not multi and labels and all(_kind(label) for label in labels) and len({_encode(label, False) for label in labels}) == 1:
            # a filtering mistake, most often: scikit-learn's classifiers refuse it too
            raise InvalidArgument(f"single-label training needs at least two classes; every document has {labels[0]!r}.")
        model = build_model(self._recipe_name(), multi_label=multi, seed=self.seed, language=language,
                            cache_dir=Path(self.cache_dir) if self.cache_dir else None, **params)
        try:
            model.fit(texts, [_encode(label, multi) for label in labels])  # the model's classes are strings
        except InvalidParameterError as exc:  # a value scikit-learn refuses, such as C=-1
            raise InvalidArgument(f"bad parameters for recipe {self._recipe_name()!r}: {exc}") from exc
        self.model_ = model
        if multi and len(labels) > 1 and all(len(label) == 1 for label in labels):  # a dataset's "labels": [["card_arrival"], ...]
            warnings.warn("Every text has exactly one label, given as a list: this trained a multi-label model (each class "
                          "decided on its own, so a text may get none or several). For one class per text, pass the labels "
                          "themselves: [labels[0] for labels in y].", UserWarning, stacklevel=2)
        _warn_about_the_texts(model, texts, language)
        return self

    def set_params(self, **params: Any) -> TextClassifier:
        """scikit-learn's ``set_params``; ``params__C=0.5`` sets one of the recipe's parameters (a grid
        ``{"params__C": [0.1, 1.0]}`` ended in "'NoneType' object has no attribute 'set_params'")."""
        nested = {key.removeprefix("params__"): params.pop(key) for key in list(params) if key.startswith("params__")}
        if nested:
            params["params"] = {**(params.get("params", self.params) or {}), **nested}
        return super().set_params(**params)

    def _recipe_name(self) -> str:
        from tagwise.ml import DEFAULT_RECIPE, RECIPES

        return DEFAULT_RECIPE if self.recipe == AUTO and AUTO not in RECIPES else self.recipe

    @property
    def classes_(self) -> np.ndarray:
        """The labels (of the type they were given in: str, int or bool), in the order of
        :meth:`predict_proba`'s columns."""
        decoded = np.array([self._decode(c) for c in self._fitted().classes_], dtype=object if self._label_type() == "str" else None)
        return decoded[self._order()]

    def _order(self) -> np.ndarray:
        """The model's columns in the order of ``classes_``: its classes are strings, sorted as text
        ('11' before '2'); whole numbers come back sorted as numbers, as scikit-learn sorts them."""
        inner = self._fitted().classes_
        if self._label_type() != "int":
            return np.arange(len(inner))
        return np.argsort([int(c) for c in inner], kind="stable")

    @property
    def multi_label(self) -> bool:
        return bool(getattr(self._fitted(), "multi_label", False))

    @property
    def thresholds_(self) -> np.ndarray | None:
        """Per-class decision thresholds of a multi-label model (None for single-label), in the order of ``classes_``."""
        thresholds = self._fitted().thresholds_
        return None if thresholds is None else np.asarray(thresholds)[self._order()]

    def predict(self, texts: Sequence[str]) -> np.ndarray | list[list[Any]]:
        """The top label per text, as an array (single-label, as scikit-learn's classifiers give it, so
        ``predict(X) == y`` compares text by text), or every label at or above its threshold, as a
        list of lists (multi-label)."""
        model, texts = self._fitted(), _texts(texts)
        if threshold := self._threshold():
            from tagwise.core.predictors import decide

            chosen = [p.labels for p in decide(model, model.predict_proba(texts), threshold)]
            predicted = chosen if self.multi_label else [labels[0] for labels in chosen]
        else:
            predicted = model.predict(texts)
        if self.multi_label:
            return predicted if self._label_type() == "str" else [[self._decode(label) for label in labels] for labels in predicted]
        decoded = [self._decode(label) for label in predicted]
        abstained = threshold and self._label_type() != "str" and None in decoded
        return np.array(decoded, dtype=object if self._label_type() == "str" or abstained else None)

    def _threshold(self) -> float:
        value = self.confidence_threshold
        if value is None:
            return 0.0
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
            raise InvalidArgument(f"confidence_threshold must be a number from 0 to below 1 (or None), not {value!r}.")
        return float(value)

    def score(self, texts: Sequence[str], labels: Sequence[Any], sample_weight: Sequence[float] | None = None) -> float:
        """Accuracy: the share of texts whose label is right; for multi-label, whose labels are all
        exactly right (``tagwise.evaluate`` gives the per-class and F1 scores)."""
        labels = list(labels)
        predicted = self.predict(texts)
        if len(labels) != len(predicted):
            raise InvalidArgument(f"got {len(predicted)} texts but {len(labels)} {'label lists' if self.multi_label else 'labels'}")
        if self.multi_label:
            exact = np.array([_is_label_set(true) and set(true) == set(pred) for true, pred in zip(labels, predicted, strict=True)], dtype=float)
        else:  # compared one by one: an abstention (None, for whole-number or boolean labels) is wrong, and
            # scikit-learn's accuracy_score raised sorting None next to ints (GridSearchCV scored NaN)
            exact = np.array([pred is not None and pred == true for true, pred in zip(labels, predicted, strict=True)], dtype=float)
        return float(np.average(exact, weights=sample_weight)) if len(exact) else 0.0

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Probabilities, one row per text, columns in the order of ``classes_``."""
        return self._fitted().predict_proba(_texts(texts))[:, self._order()]

    def save(self, path: str | Path) -> None:
        """Write the model as a folder (``manifest.json`` + arrays, no pickle)."""
        from tagwise.ml import save_model

        save_model(self._fitted(), Path(path), {"savedBy": "tagwise.TextClassifier", "recipe": self._recipe_name(),
                                               "seed": self.seed, "language": self.language, "params": self.params,
                                               "labelType": self._label_type(), "confidenceThreshold": self.confidence_threshold})

    @classmethod
    def load(cls, path: str | Path) -> TextClassifier:
        """Load a folder written by :meth:`save` (or by a tagwise training job)."""
        from tagwise.ml import load_model
        from tagwise.ml.persist import read_manifest

        manifest = read_manifest(Path(path))
        meta = manifest.get("metadata")
        meta = meta if isinstance(meta, dict) else {}
        params = meta.get("params") if isinstance(meta.get("params"), dict) else None
        threshold = meta.get("confidenceThreshold")
        # a training job's folder says its seed (42) and language in the model's own settings: read as 0 and "en", a
        # clone trained again otherwise
        info = manifest.get("info") if isinstance(manifest.get("info"), dict) else {}
        trained = info.get("hyperparameters") if isinstance(info.get("hyperparameters"), dict) else {}
        seed = meta.get("seed", trained.get("seed", 0))
        language = meta.get("language", trained.get("language", "en"))
        clf = cls(recipe=manifest.get("recipe", AUTO), seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else 0,
                  language=language if isinstance(language, str) else "en", params=params,
                  confidence_threshold=threshold if isinstance(threshold, int | float) and not isinstance(threshold, bool) else None)
        clf.model_ = load_model(Path(path))
        clf.label_type_ = meta.get("labelType") if meta.get("labelType") in _DECODE else "str"
        try:  # an edited labelType turned every prediction into False, or failed at the first predict
            [_DECODE[clf.label_type_](str(label)) for label in clf.model_.classes_]
            if clf.label_type_ == "bool" and not {str(c) for c in clf.model_.classes_} <= {"True", "False"}:
                raise ValueError("not True or False")
        except ValueError:
            raise InvalidArgument(f"{path}/manifest.json says the labels are {clf.label_type_}, but the model's classes are "
                                  f"{', '.join(map(str, clf.model_.classes_[:5]))}: save the model again") from None
        return clf

    def _fitted(self) -> Any:
        model = getattr(self, "model_", None)
        if model is None:
            raise NotTrained("This TextClassifier is not trained yet: call fit(texts, labels) or TextClassifier.load(path).")
        return model

    def _label_type(self) -> str:
        return getattr(self, "label_type_", "str")

    def _decode(self, label: str) -> Any:
        if label == ABSTAINED and self._label_type() != "str":  # no whole-number or boolean class is spelled so
            return None
        return _DECODE[self._label_type()](label)

    def __sklearn_tags__(self):  # -> sklearn's Tags
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        return tags


_DECODE = {"str": str, "int": int, "bool": lambda label: label == "True"}


def _warn_about_the_texts(model: Any, texts: list[str], language: str) -> None:
    """The notes a server's training job gives, as Python warnings: texts that do not look English
    for the English sentence encoder, and texts longer than the encoder reads."""
    from tagwise.ml.embedding import past_window
    from tagwise.ml.encoder import ENGLISH_WORD_SHARE, english_word_share, is_english

    if getattr(getattr(model, "model_", model), "backend_", None) is None:  # linear (or auto's choice of it) reads every word
        return
    share = english_word_share(texts) if is_english(language) else None
    if share is not None and share < ENGLISH_WORD_SHARE:
        warnings.warn(f"The texts do not look English (common English words are {share:.0%} of their words; 23-60% "
                      "in English text), and language='en' embeds them with the English sentence encoder: if they are "
                      "in another language, give its code (TextClassifier(language='de')) for the multilingual one.",
                      UserWarning, stacklevel=3)
    cut, window = past_window(model, texts)
    if cut.any():
        warnings.warn(f"{int(cut.sum()):,} of {len(texts):,} texts are longer than the sentence encoder reads ({window:,} "
                      "word pieces): it sees only their start (the ensemble's word features still read them whole). "
                      "Put what decides the class first.", UserWarning, stacklevel=3)


def _indicator_rows(labels: list[Any]) -> bool:
    """Whether multi-label ``labels`` are rows of an indicator matrix: lists of 0 and 1 of one length,
    some holding one of them twice (no label set does), or every one both (two classes that every
    text has: nothing to learn)."""
    if not all(_is_label_set(row) and all(_kind(v) in ("int", "bool") and v in (0, 1) for v in row) for row in labels):
        return False
    sets = [set(map(int, row)) for row in labels]
    return len({len(row) for row in labels}) == 1 and (any(len(found) < len(row) for found, row in zip(sets, labels, strict=True))
                                                      or all(found == {0, 1} for found in sets))


def _is_label_set(label: Any) -> bool:
    """A multi-label document's labels: a list, tuple, set or 1-D array (not a string)."""
    return not isinstance(label, str | bytes) and isinstance(label, Sequence | set | frozenset | np.ndarray)


def _kind(label: Any) -> str | None:
    if isinstance(label, str):
        return "str"
    if isinstance(label, bool | np.bool_):
        return "bool"
    if isinstance(label, int | np.integer):
        return "int"
    return None


def _label_type(labels: list[Any], multi: bool) -> str:
    """Which one of str, int or bool the labels are (the model keeps them as strings; predictions
    and ``classes_`` give them back in their type, as scikit-learn estimators do)."""
    kinds = _kinds(labels, multi)
    return "str" if None in kinds else _one_kind(kinds)  # None: the model's own checks say which document is wrong


def _kinds(items: list[Any], multi: bool) -> set[str | None]:
    """The ``_kind`` of every label of ``items`` (each a label, or a label set when ``multi``)."""
    return {_kind(label) for item in items for label in (item if multi and _is_label_set(item) else [item])}


def _one_kind(kinds: set[str]) -> str:
    """The one type the labels are of (str when there are none); labels of several types are refused."""
    if len(kinds) > 1:
        raise InvalidArgument(f"The labels mix {' and '.join(sorted(kinds))}: give every label as the same type "
                              "(strings, whole numbers or booleans).")
    return next(iter(kinds), "str")


def _encode(label: Any, multi: bool) -> Any:
    if multi and _is_label_set(label):
        return [_encode(item, False) for item in label]
    return str(bool(label)) if isinstance(label, np.bool_) else str(label) if _kind(label) in ("int", "bool") else label


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
    abstention unless ``y_true`` has it, as does a ``None`` prediction for whole-number or
    boolean labels); a label of ``labels`` in neither is left out of the macro averages (see
    ``tagwise.ml.evaluate``); ``multi_label`` defaults to whether the items of ``y_true`` are lists.

    >>> report = evaluate(["a", "b", "b"], ["a", "b", "a"])
    >>> round(report.accuracy, 3), report.per_class["a"].precision
    (0.667, 0.5)
    """
    from tagwise.core.predictors import NONE_CLASS
    from tagwise.ml import evaluate as ml_evaluate

    y_true, y_pred = list(y_true), list(y_pred)
    if len(y_true) != len(y_pred):
        raise InvalidArgument(f"got {len(y_true)} true labels but {len(y_pred)} predictions")
    if not y_true:
        raise InvalidArgument("nothing to score: y_true and y_pred are empty")
    if multi_label is None:
        multi_label = any(_is_label_set(item) for item in y_true)
    kind = _one_kind(_kinds(y_true + y_pred, multi_label) - {None})  # one type, as fit takes them; None: named below
    for name, items in (("y_true", y_true), ("y_pred", y_pred)):
        for i, item in enumerate(items):
            if item is None and name == "y_pred" and not multi_label and kind != "str":
                continue  # what predict answers below the confidence threshold for whole-number or boolean labels
            ok = (_is_label_set(item) and all(_kind(x) == kind for x in item)) if multi_label else _kind(item) == kind
            if not ok:
                raise InvalidArgument(f"{name}[{i}] is {item!r}: every item must be a "
                                      f"{'list of labels' if multi_label else 'label'} ({_KIND_NAMES[kind]}, as the others)")
    if labels is None:
        true, predicted = ({x for item in items for x in (item if multi_label else [item])} for items in (y_true, y_pred))
        # single-label "None" is an abstention, unless it is a true label (out-of-scope examples)
        labels = sorted(true | (predicted - ({NONE_CLASS} if not multi_label and kind == "str" else {None})))

    def spelled(item: Any) -> Any:
        if item is None and not multi_label:  # an abstention: "None", as the server answers it
            return NONE_CLASS
        return [_encode(x, False) for x in item] if multi_label else _encode(item, False)

    report = ml_evaluate([spelled(t) for t in y_true], [spelled(p) for p in y_pred], labels=[_encode(x, False) for x in labels],
                         multi_label=multi_label, y_proba=y_proba)
    if kind == "str":
        return report
    def decode(label: str) -> Any:  # the report is keyed by the labels as they were given: per_class[3], not per_class["3"]
        return None if label == NONE_CLASS else _DECODE[kind](label)

    def order(pair: tuple[str, Any]) -> tuple[bool, Any]:  # an abstention (None) last
        return (pair[0] == NONE_CLASS, decode(pair[0]) if pair[0] != NONE_CLASS else 0)

    confusion = None if report.confusion is None else {
        decode(t): {decode(p): n for p, n in sorted(row.items(), key=order)} for t, row in sorted(report.confusion.items(), key=order)}
    return dataclasses.replace(report, per_class={decode(k): v for k, v in report.per_class.items()}, confusion=confusion)


_KIND_NAMES = {"str": "strings", "int": "whole numbers", "bool": "booleans"}
