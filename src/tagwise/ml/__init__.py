"""tagwise.ml: the pure machine-learning layer (no storage, no HTTP).

>>> from tagwise.ml import build_model
>>> model = build_model("linear").fit(["lost card", "card stolen", "hi", "hello"], ["card", "card", "hi", "hi"])
>>> model.predict(["hello there"])
['hi']

The recipes (scikit-learn and scipy: about 200 MB and 2 s on a 2-core machine) are imported on
first use, so that ``from tagwise.ml import encoder``, which a server's supervisor process and
every CLI command do, does not load them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .evaluate import ClassMetrics, EvaluationReport, evaluate
from .persist import load_model, save_model

if TYPE_CHECKING:
    from .recipes import RECIPES, build_model

__all__ = [
    "DEFAULT_RECIPE",
    "RECIPES",
    "RECIPE_NAMES",
    "ClassMetrics",
    "EvaluationReport",
    "build_model",
    "evaluate",
    "load_model",
    "save_model",
]

# the registry's names and default, known without importing it: listing the training config versions (the
# studio's Train page, the API's route) took 2.4 s on a server's first visit, importing scikit-learn to read four names
RECIPE_NAMES = ("auto", "embedding", "ensemble", "linear")
DEFAULT_RECIPE = "auto"
_LAZY = ("RECIPES", "build_model")


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import recipes

    return getattr(recipes, name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
