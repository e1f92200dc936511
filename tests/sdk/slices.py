"""Small, fixed slices of the shared real datasets, written as the data file the SDK scripts read.

The data file (JSON) is the only thing the pytest side and the SDK-venv scripts share:

```
{"kind": "single" | "multi", "projectKind": "...", "language": "en", "classes": [...],
 "documents": [{"location", "text", "labels", "dataset": "Train" | "Test"}],   # the project's data
 "heldout":   [{"id", "text", "labels"}]}                                        # never imported
```

Selection is deterministic (file order, no randomness) so a failing run can be replayed.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

DATASETS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"

# Ten clearly distinct banking77 intents: the test is about the wire contract, not about
# separating card_arrival from card_delivery_estimate.
BANKING77_CLASSES = [
    "activate_my_card", "age_limit", "apple_pay_or_google_pay", "atm_support", "card_arrival",
    "change_pin", "exchange_rate", "lost_or_stolen_card", "terminate_account", "top_up_failed",
]
GOEMOTIONS_CLASSES = ["amusement", "anger", "fear", "gratitude", "love", "sadness"]

PROJECT_KINDS = {"single": "CustomSingleLabelClassification", "multi": "CustomMultiLabelClassification"}


def _rows(dataset: str, split: str) -> list[dict]:
    path = DATASETS_DIR / dataset / f"{split}.jsonl"
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _pick(rows: list[dict], classes: list[str], per_class: int, multi_first: int = 0) -> list[dict]:
    """Rows whose labels all lie in ``classes``, about ``per_class`` per class.

    ``multi_first`` rows with two or more labels are taken first so a multi-label slice really
    has documents with several classes.
    """
    allowed = set(classes)
    rows = [r for r in rows if r["text"].strip() and r["labels"] and set(r["labels"]) <= allowed]
    picked: list[dict] = []
    counts: Counter[str] = Counter()
    for row in [r for r in rows if len(r["labels"]) > 1][:multi_first]:
        picked.append(row)
        counts.update(row["labels"])
    for row in rows:
        if len(row["labels"]) == 1 and counts[row["labels"][0]] < per_class:
            picked.append(row)
            counts.update(row["labels"])
    return picked


def build(kind: str, prefix: str) -> dict:
    """The data file content for one project kind; ``prefix`` starts every document location."""
    if kind == "single":
        dataset, classes, train_per_class, heldout_per_class, multi = "banking77", BANKING77_CLASSES, 30, 4, 0
    elif kind == "multi":
        dataset, classes, train_per_class, heldout_per_class, multi = "goemotions", GOEMOTIONS_CLASSES, 40, 6, 20
    else:
        raise ValueError(f"unknown kind {kind!r}")
    train = _pick(_rows(dataset, "train"), classes, train_per_class, multi_first=multi)
    heldout = _pick(_rows(dataset, "test"), classes, heldout_per_class, multi_first=multi // 4)
    documents = [
        {
            "location": f"{prefix}-{i:04d}.txt",
            "text": row["text"],
            "labels": sorted(set(row["labels"])),
            # Every fifth document is the manual-evaluation test set.
            "dataset": "Test" if i % 5 == 4 else "Train",
        }
        for i, row in enumerate(train)
    ]
    return {
        "kind": kind,
        "projectKind": PROJECT_KINDS[kind],
        "language": "en",
        "classes": classes,
        "documents": documents,
        "heldout": [
            {"id": f"h{i}", "text": row["text"], "labels": sorted(set(row["labels"]))}
            for i, row in enumerate(heldout)
        ],
    }


def write(kind: str, prefix: str, path: Path) -> Path:
    """Write the data file for ``kind`` to ``path`` and return the path."""
    path.write_text(json.dumps(build(kind, prefix), ensure_ascii=False), encoding="utf-8")
    return path
