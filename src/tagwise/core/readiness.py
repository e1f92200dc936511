"""A project's overview: document counts, per-class Train/Test numbers, and whether it is ready to train."""

from __future__ import annotations

from collections import Counter
from typing import Any

from tagwise.core.context import Context
from tagwise.core.model_results import against_baseline
from tagwise.core.projects import require
from tagwise.core.training import MIN_DOCUMENTS
from tagwise.core.validation import MULTI, listed
from tagwise.storage import document_records as docs_db
from tagwise.storage import records

FEW_EXAMPLES = 10          # below this a class is flagged as having too few examples
IMBALANCE_RATIO = 10       # largest class / smallest class above this is flagged
SMALL_TEST_SET = 100       # a manual Test set of fewer tagged documents than this...
SMALL_TEST_SHARE = 0.10    # ...and less than this share of the tagged ones is flagged
TEST_SHARE = 0.20          # what the flag suggests (the default percentage split's test share)

__all__ = ["overview"]


def overview(ctx: Context, project_name: str) -> dict[str, Any]:
    """Counts, per-class Train/Test numbers, readiness guidance, models and deployments."""
    with ctx.db.read() as conn:
        project = require(conn, project_name)
        status = docs_db.status_counts(conn, project["id"])
        per_class = docs_db.class_counts(conn, project["id"])
        models = records.list_models(conn, project["id"])
        deployments = records.list_deployments(conn, project["id"])
    tagged = sum(n for (is_tagged, _), n in status.items() if is_tagged)
    total = sum(status.values())
    by_dataset = Counter()
    for (_, dataset), n in status.items():
        by_dataset[dataset or "none"] += n
    def counted(key: str) -> dict[str, int]:
        counts = {ds: per_class.get((key, ds), 0) for ds in ("Train", "Test", None)}
        return {"train": counts["Train"], "test": counts["Test"], "unassigned": counts[None], "total": sum(counts.values())}

    classes = [{"name": name, **counted(name)} for name in project["classes"]]
    # multi-label: documents tagged "no class" train the model too (to answer none), and were nowhere to be seen
    no_class = counted(docs_db.NO_CLASS)
    return {
        "project": project, "total": total, "tagged": tagged, "untagged": total - tagged,
        "datasets": {"Train": by_dataset["Train"], "Test": by_dataset["Test"], "none": by_dataset["none"]},
        "classes": classes, "no_class": no_class if no_class["total"] else None,
        "guidance": _guidance(project, tagged, total, classes, by_dataset, status.get((True, "Test"), 0)),
        "models": models[::-1], "deployments": deployments,
        "below_baseline": {m["label"]: against_baseline(m) for m in models},
    }


def _guidance(project: dict[str, Any], tagged: int, total: int, classes: list[dict], by_dataset: Counter,
              tagged_test: int = 0) -> list[dict[str, str]]:
    tips: list[dict[str, str]] = []
    if not project["classes"]:
        tips.append({"level": "error", "message": "The project has no classes yet: add them on the Schema page.", "page": "schema"})
    if total == 0:
        tips.append({"level": "error", "message": "The project has no documents yet: upload some on the Data page.", "page": "data"})
    elif total > tagged:
        tips.append({"level": "info", "message": f"{total - tagged:,} of {total:,} documents are untagged.", "page": "tag"})
    if 0 < total and tagged < MIN_DOCUMENTS:
        tips.append({"level": "error", "message": f"Training needs at least {MIN_DOCUMENTS} tagged documents; {tagged} are tagged."})
    used = [c for c in classes if c["total"] > 0]
    if project["kind"] != MULTI and tagged and len(used) < 2:
        tips.append({"level": "error", "message": "A single-label model needs tagged documents of at least two classes."})
    if project["kind"] == MULTI and tagged and not used:
        tips.append({"level": "error", "message": "No document has a class yet: a multi-label model needs some documents tagged with at least one."})
    empty = [c["name"] for c in classes if c["total"] == 0]
    if empty and tagged:
        tips.append({"level": "warning", "message": f"No tagged examples yet for: {listed(empty, 8)}."})
    few = sorted((c for c in used if c["total"] < FEW_EXAMPLES), key=lambda c: (c["total"], c["name"]))
    if few:
        single = " A class with one example has no test document, so no evaluation can say how the model does on it." \
            if few[0]["total"] == 1 else ""
        counted = [f"{c['name']} ({c['total']})" for c in few]
        tips.append({"level": "warning", "message": (
            f"Too few examples for: {listed(counted, 8)}. "
            f"Tag at least {FEW_EXAMPLES} of each.{single}")})
    if len(used) >= 2:
        largest = max(used, key=lambda c: c["total"])
        smallest = min(used, key=lambda c: c["total"])
        if largest["total"] >= IMBALANCE_RATIO * smallest["total"]:
            tips.append({"level": "warning", "message": (
                f"The classes are imbalanced: {largest['name']} has {largest['total']:,} examples, "
                f"{smallest['name']} only {smallest['total']:,}. Tag more of the small classes.")})
    if by_dataset["Test"]:
        missing = [c["name"] for c in used if c["test"] == 0]
        if missing:
            tips.append({"level": "warning", "message": f"With a manual split these classes have no Test documents: {listed(missing, 8)}."})
    if 0 < tagged_test < SMALL_TEST_SET and tagged_test < SMALL_TEST_SHARE * tagged:
        # "Keep these test documents" froze a 12-document Test set while the project grew to 400
        more = round(TEST_SHARE * tagged) - tagged_test
        tips.append({"level": "warning", "message": (
            f"The Test set has {tagged_test} tagged documents of {tagged:,} tagged: a model trained on each document's "
            f"Train/Test set is scored on them, each one moving its test accuracy {100 / tagged_test:.1f} points, so such "
            f"models cannot be told apart. Move about {more:,} more to Test on the Data page (a fifth of the tagged documents "
            f"is usual), or train with a percentage split."), "page": "data"})
    if not tips:
        tips.append({"level": "ok", "message": "Ready to train."})
    return tips
