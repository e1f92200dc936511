"""The recipe registry: a name -> a factory that builds an unfitted model.

``build_model(name, multi_label=..., seed=..., language=..., cache_dir=...)`` is the one way the
rest of tagwise makes a model; ``MODEL_CLASSES`` is the allow-list ``load_model`` trusts.

| recipe      | what                                                      | when                          |
|-------------|-----------------------------------------------------------|-------------------------------|
| `linear`    | word + char TF-IDF, calibrated linear SVM                 | any language, fastest         |
| `embedding` | sentence embeddings + logistic regression                 | paraphrase-heavy data         |
| `ensemble`  | TF-IDF and sentence embeddings in one calibrated SVM      | best accuracy                 |
| `auto`      | linear, then the ensemble if the time budget allows;      | the default                   |
|             | keeps the better by cross-validation                      |                               |

Sentence embeddings: all-MiniLM-L6-v2 for English, USE multilingual v3 for other languages
and multilingual projects (``language="mul"``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from tagwise.errors import InvalidArgument

from . import DEFAULT_RECIPE, RECIPE_NAMES
from .auto import AutoClassifier
from .embedding import EmbeddingClassifier
from .ensemble import EnsembleClassifier
from .linear import LinearTextClassifier


def _without_cache(cls: type) -> Callable[..., Any]:
    def factory(*, multi_label: bool, seed: int, language: str, cache_dir: Path | None, **params: Any):
        return cls(multi_label=multi_label, seed=seed, language=language, **params)

    return factory


def _with_cache(cls: type) -> Callable[..., Any]:
    def factory(*, multi_label: bool, seed: int, language: str, cache_dir: Path | None, **params: Any):
        return cls(multi_label=multi_label, seed=seed, language=language, cache_dir=cache_dir, **params)

    return factory


RECIPES: dict[str, Callable[..., Any]] = {
    "auto": _with_cache(AutoClassifier),
    "embedding": _with_cache(EmbeddingClassifier),
    "ensemble": _with_cache(EnsembleClassifier),
    "linear": _without_cache(LinearTextClassifier),
}
assert tuple(RECIPES) == RECIPE_NAMES and DEFAULT_RECIPE in RECIPES, "tagwise.ml.RECIPE_NAMES lists the registry"

MODEL_CLASSES: dict[str, type] = {
    "auto": AutoClassifier,
    "embedding": EmbeddingClassifier,
    "ensemble": EnsembleClassifier,
    "linear": LinearTextClassifier,
}


def model_class_key(model: Any) -> str:
    for key, cls in MODEL_CLASSES.items():
        if type(model) is cls:
            return key
    raise InvalidArgument(f"cannot save a {type(model).__name__}: not a tagwise model class")


def build_model(name: str = DEFAULT_RECIPE, *, multi_label: bool = False, seed: int = 0, language: str = "en",
                cache_dir: Path | None = None, **params: Any):
    """An unfitted model of recipe ``name``; extra ``params`` go to the recipe's constructor."""
    factory = RECIPES.get(name)
    if factory is None:
        raise InvalidArgument(
            f"unknown model recipe {name!r}; valid recipes: {', '.join(sorted(RECIPES))}", target="recipe"
        )
    for key, value in params.items():
        if problem := _param_problem(MODEL_CLASSES.get(name), key, value):
            raise InvalidArgument(f"bad parameters for recipe {name!r}: {key} must be {problem}, not {value!r}")
    try:
        return factory(multi_label=multi_label, seed=seed, language=language, cache_dir=cache_dir, **params)
    except TypeError as exc:
        raise InvalidArgument(f"bad parameters for recipe {name!r}: {exc}") from exc


def _param_problem(model_class: type | None, key: str, value: Any) -> str | None:
    """What a numeric parameter must be, when ``value`` is not that ({"C": "x"} failed deep inside
    the fit with "could not convert string to float"); None when it fits or is no number."""
    import types
    import typing

    try:
        hint = typing.get_type_hints(model_class.__init__).get(key) if model_class else None
    except (NameError, TypeError):
        return None
    allowed = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    if str in allowed or not ({int, float} & set(allowed)) or (value is None and type(None) in allowed):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):  # whole or not: scikit-learn reads min_df=0.01 as a share
        return None
    return "a number" + (" or None" if type(None) in allowed else "")
