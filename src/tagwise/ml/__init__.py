"""tagwise.ml: the pure machine-learning layer (no storage, no HTTP).

>>> from tagwise.ml import build_model
>>> model = build_model("linear").fit(["lost card", "card stolen", "hi", "hello"], ["card", "card", "hi", "hi"])
>>> model.predict(["hello there"])
['hi']
"""

from .evaluate import ClassMetrics, EvaluationReport, evaluate
from .persist import load_model, save_model
from .recipes import DEFAULT_RECIPE, RECIPES, build_model

__all__ = [
    "DEFAULT_RECIPE",
    "RECIPES",
    "ClassMetrics",
    "EvaluationReport",
    "build_model",
    "evaluate",
    "load_model",
    "save_model",
]
