"""tagwise: self-hosted custom text classification with an Azure-compatible API.

The library in three names (loaded on first use, so ``import tagwise`` stays cheap)::

    from tagwise import TextClassifier, evaluate, Client
    clf = TextClassifier(recipe="auto").fit(texts, labels)
    evaluate(y_true, clf.predict(test_texts)).macro_f1
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = ["Client", "TextClassifier", "__version__", "evaluate"]

_LAZY = {"TextClassifier": "tagwise.classifier", "evaluate": "tagwise.classifier", "Client": "tagwise.client"}

if TYPE_CHECKING:
    from tagwise.classifier import TextClassifier, evaluate
    from tagwise.client import Client


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tagwise' has no attribute {name!r}")
