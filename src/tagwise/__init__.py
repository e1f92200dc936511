"""tagwise: self-hosted custom text classification with an Azure-compatible API.

The library in three names (loaded on first use, so ``import tagwise`` stays cheap)::

    from tagwise import TextClassifier, evaluate, Client
    clf = TextClassifier(recipe="auto").fit(texts, labels)
    evaluate(y_true, clf.predict(test_texts)).macro_f1
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# No data leaves the machine: ONNX Runtime (1.29 and later) queues usage telemetry for Microsoft on
# Linux from the moment it is imported (a device id and events under ~/.cache/Microsoft), unless this
# is set first. Set here, before anything of tagwise can import it; it reaches training processes too.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

__version__ = "0.2.0"

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
