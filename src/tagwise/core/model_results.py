"""What the studio shows of a trained model's results: its mispredicted test documents and per-class counts."""

from __future__ import annotations

from typing import Any

from tagwise.core.context import Context
from tagwise.core.evaluation import THRESHOLD_TOLERANCE, no_class_counts, threshold_rows
from tagwise.core.percentfmt import percents
from tagwise.core.projects import require
from tagwise.core.uncertainty import interval
from tagwise.core.validation import MULTI
from tagwise.errors import NotFound
from tagwise.storage import document_records as docs_db
from tagwise.storage import records

__all__ = [
    "THRESHOLD_TOLERANCE", "accuracy_interval", "against_baseline", "baseline_caution", "baseline_warning", "class_scores",
    "evaluation_body", "evaluation_details", "language_scores", "languages", "latest_model", "mispredictions", "never_predicted",
    "no_class", "no_class_line", "outcome", "recorded_answers", "row_at", "thresholds_table", "untested", "unthresholded_accuracy",
]


def latest_model(conn, project: dict[str, Any]) -> dict[str, Any] | None:
    return records.latest_model(conn, project["id"])


def outcome(item: dict[str, Any]) -> tuple[list[str], list[str]]:
    """(expected, predicted) classes of one per-document evaluation result, as stored (single-label:
    one of each), whatever the project's kind."""
    single = item.get("customSingleLabelClassificationResult")
    if single is not None:
        return [single["expectedClass"]], [single["predictedClass"]]
    multi = item["customMultiLabelClassificationResult"]
    return multi["expectedClasses"], multi["predictedClasses"]


def mispredictions(model: dict[str, Any]) -> list[dict[str, Any]]:
    """The test documents a model got wrong: location, expected and predicted labels, and
    ``scores``: the model's probability of the classes it recorded one for (:func:`scores_of`)."""
    out = []
    for item in model["evaluation_results"] or []:
        expected, predicted = outcome(item)
        if sorted(expected) != sorted(predicted):
            out.append({"location": item["location"], "expected": expected, "predicted": predicted, "scores": scores_of(item)})
    return out


def scores_of(item: dict[str, Any]) -> dict[str, float]:
    """A per-document result's recorded probabilities by class (empty for models trained before
    they were recorded): multi-label, those of its expected, predicted and likeliest classes;
    single-label, the best class's (also when the threshold made the answer None)."""
    extra = item.get("tagwise") or {}
    if "scores" in extra:
        return dict(extra["scores"])
    if "topClass" in extra:
        return {extra["topClass"]: extra["confidence"]}
    return {}


def row_at(rows: list[dict[str, Any]], threshold: float) -> dict[str, Any] | None:
    """The row of a threshold table (``tagwise.thresholds``) at ``threshold``, if it has one."""
    return next((row for row in rows if abs(row["threshold"] - threshold) < THRESHOLD_TOLERANCE), None)


def unthresholded_accuracy(extra: dict[str, Any]) -> float | None:
    """A single-label evaluation's accuracy answering every document (no confidence threshold):
    the summary's ``accuracy`` when it was scored with none, else its threshold table's 0 row
    (None when the table lacks it: models trained before it was recorded)."""
    if not extra.get("confidenceThreshold"):
        return extra.get("accuracy")
    row = row_at(extra.get("thresholds") or [], 0.0)
    return None if row is None else row["accuracy"]


def recorded_answers(model: dict[str, Any]) -> list[tuple[dict[str, Any], str, float]] | None:
    """Each test document's stored result of a single-label model, with the likeliest class and its
    probability recorded beside it (``tagwise.topClass``, ``tagwise.confidence``): what any
    threshold's answer is decided from. None when there are no results or any lacks them (models
    trained before they were recorded)."""
    results = model.get("evaluation_results") or []
    extras = [item.get("tagwise") or {} for item in results]
    if not results or any("topClass" not in extra for extra in extras):
        return None
    return [(item, extra["topClass"], extra["confidence"]) for item, extra in zip(results, extras, strict=True)]


def thresholds_table(model: dict[str, Any], now: float | None) -> list[dict[str, Any]]:
    """A single-label model's test set at other thresholds (the summary's ``tagwise.thresholds``),
    with a row for ``now`` (the project's threshold today, such as 12.5%, on no grid) when the
    table lacks one, made from the per-document results' likeliest class and its probability;
    models trained before those were recorded get none."""
    rows = list(((model.get("evaluation") or {}).get("tagwise") or {}).get("thresholds") or [])
    if not rows or not now or row_at(rows, now) is not None:
        return rows
    if (answers := recorded_answers(model)) is None:
        return rows
    [row] = threshold_rows([top for _, top, _ in answers], [confidence for _, _, confidence in answers],
                           [outcome(item)[0][0] for item, _, _ in answers], [now])
    return sorted([*rows, row], key=lambda r: r["threshold"])


def no_class(model: dict[str, Any]) -> dict[str, int] | None:
    """A multi-label model's "no class" counts (:func:`tagwise.core.evaluation.no_class_counts`):
    from the summary, or for models trained before it recorded them, from the stored per-document
    results. None for single-label, or when there is nothing to count from."""
    summary = model.get("evaluation") or {}
    if summary.get("projectKind") != MULTI:
        return None
    if (recorded := (summary.get("tagwise") or {}).get("noClass")) is not None:
        return recorded
    outcomes = [outcome(item) for item in model.get("evaluation_results") or []]
    if not outcomes:
        return None
    return no_class_counts([expected for expected, _ in outcomes], [predicted for _, predicted in outcomes])


def language_scores(results: list[dict[str, Any]]) -> list[dict[str, Any]] | None:
    """Accuracy (single-label) or exact match (multi-label) per document language of a test set's
    per-document results, largest language first; None when they have one language. A team whose
    tickets come in three languages wants to know whether one of them is served worse.

    >>> row = lambda language, ok: {"language": language, "customSingleLabelClassificationResult": {
    ...     "expectedClass": "a", "predictedClass": "a" if ok else "b"}}
    >>> language_scores([row("de", True), row("de", False), row("fr", True)])
    [{'language': 'de', 'testDocuments': 2, 'correct': 1, 'accuracy': 0.5}, {'language': 'fr', 'testDocuments': 1, 'correct': 1, 'accuracy': 1.0}]
    """
    groups: dict[str, list[bool]] = {}
    for item in results:
        expected, predicted = outcome(item)
        groups.setdefault(str(item.get("language") or "?"), []).append(sorted(expected) == sorted(predicted))
    if len(groups) < 2:
        return None
    rows = [{"language": language, "testDocuments": len(hits), "correct": sum(hits), "accuracy": sum(hits) / len(hits)}
            for language, hits in groups.items()]
    return sorted(rows, key=lambda r: (-r["testDocuments"], r["language"]))


def languages(model: dict[str, Any]) -> list[dict[str, Any]] | None:
    """:func:`language_scores` of a trained model: from its summary (``tagwise.languages``), or,
    for a model trained before the summary recorded them, from its stored per-document results."""
    recorded = ((model.get("evaluation") or {}).get("tagwise") or {}).get("languages", False)
    return language_scores(model.get("evaluation_results") or []) if recorded is False else recorded


def no_class_line(counts: dict[str, int]) -> str:
    """``no_class`` in words, as ``tagwise evaluate`` prints it (the studio's Evaluate page words it alike)."""
    tagged, right, wrong = counts["testDocuments"], counts["answeredNoClass"], counts["wronglyAnsweredNoClass"]
    line = (f"documents with no class: {tagged:,} in the test set, {right:,} answered with none" if tagged
            else "documents with no class: none in the test set")
    return line + f"; {wrong:,} document{'' if wrong == 1 else 's'} with classes answered with none"


def accuracy_interval(model: dict[str, Any]) -> dict[str, Any] | None:
    """Where the model's test accuracy (exact match in multi-label) could lie on new text of the
    same kind: ``{"low", "high", "right", "documents"}``, the 95% interval of its test documents'
    hits (:func:`tagwise.core.uncertainty.interval`), from the evaluation summary alone (the API's
    summary-result: ``tagwise evaluate`` has no more). None without test documents or accuracy.

    9 of 12 and 2,250 of 3,000 both say 75%; the first is anywhere from 47% to 91%."""
    extra = (model.get("evaluation") or {}).get("tagwise") or {}
    documents, accuracy = extra.get("testDocuments"), extra.get("accuracy")
    if not isinstance(documents, int) or accuracy is None:
        return None
    right = round(accuracy * documents)  # stored unrounded: the share of the test documents right
    found = interval(right, documents)
    return None if found is None else {"low": found[0], "high": found[1], "right": right, "documents": documents}


def class_scores(counts: dict[str, Any]) -> tuple[float | None, float | None, float | None]:
    """Precision, recall and F1 of one class of an evaluation, None where the test set cannot say.

    The stored evaluation (as Azure's) writes 0 for a ratio of 0 to 0. But a class the model never
    chose has no precision, and a class with no test document has no recall, nor an F1 unless the
    model chose it wrongly: "0%" there ranked untested classes as the weakest, and Compare called
    a class "+100 pts better" that the older model had never been tested on."""
    tested, chosen = _tested(counts), _chosen(counts)
    return (counts.get("precision") if chosen else None, counts.get("recall") if tested else None,
            counts.get("f1") if tested or chosen else None)


def _tested(counts: dict[str, Any]) -> int:
    """Test documents of the class (its support)."""
    return counts.get("truePositiveCount", 0) + counts.get("falseNegativeCount", 0)


def _chosen(counts: dict[str, Any]) -> int:
    """Test documents the model gave the class."""
    return counts.get("truePositiveCount", 0) + counts.get("falsePositiveCount", 0)


def against_baseline(model: dict[str, Any]) -> dict[str, Any] | None:
    """How a single-label model's test accuracy stands against always answering the test set's
    commonest class, when it does not beat it: ``{"class", "baseline", "accuracy", "worse"}``.
    None when it beats it (or the evaluation records no baseline: multi-label, older models).

    A skewed project can score 70% by answering its biggest class every time, and a model below
    that line has learned nothing worth deploying, however good 70% sounds.

    A model scored at a confidence threshold is judged by its answers before the threshold (the
    0 row of ``tagwise.thresholds``; ``threshold`` in the result says which): a threshold's None
    answers count as wrong, so 52% at a threshold of 60% may be 71% answering every document, and
    a model that learned the classes was told to tag more examples."""
    extra = (model.get("evaluation") or {}).get("tagwise") or {}
    baseline, accuracy, threshold = extra.get("majorityBaseline"), extra.get("accuracy"), extra.get("confidenceThreshold") or 0.0
    if threshold and (unthresholded := unthresholded_accuracy(extra)) is not None:
        accuracy = unthresholded
    else:
        threshold = 0.0
    if not baseline or accuracy is None:
        return None
    # compared in documents right: the threshold table's accuracies are rounded to 4 decimals, so
    # 0.7143 "beat" a baseline of 50/70 that the model only tied (it answered Major to every document)
    documents = extra.get("testDocuments")
    if isinstance(documents, int) and documents > 0:
        mine, theirs = round(accuracy * documents), round(baseline["accuracy"] * documents)
    else:
        mine, theirs = accuracy, baseline["accuracy"]
    if mine > theirs:
        return None
    return {"class": commonest(baseline), "baseline": baseline["accuracy"], "accuracy": accuracy,
            "worse": mine < theirs, "threshold": threshold, "advice": _tag_more(baseline)}


WRONG_PER_PAGE = 100  # mistakes listed per page: 410 on one page made 538 KB of HTML


def evaluation_details(ctx: Context, project_name: str, model_label: str | None = None, wrong_page: int = 1) -> dict[str, Any]:
    """A model's evaluation with what the studio shows around it.

    ``counts``: class -> {"train", "test"} (test from the evaluation; train as recorded at training,
    or for models trained before that was recorded, the tagged documents outside the test set as
    they are now: ``train_counts_recorded`` says which); ``wrong``: page ``wrong_page`` (of
    ``wrong_pages``, ``WRONG_PER_PAGE`` each; a page past the end is the last) of the mispredicted
    test documents, with their id, snippet and current labels (None once deleted), ``wrong_total``
    of them in all, the page's first at ``wrong_start`` (0-based); ``models``: every model of the project.
    """
    with ctx.db.read() as conn:
        project = require(conn, project_name)
        models = records.list_models(conn, project["id"])
        if model_label is None and models:
            model = models[-1]
        else:
            model = next((m for m in models if m["label"] == model_label), None)
            if model is None and model_label is not None:
                raise NotFound(f"The trained model {model_label} could not be found in project {project_name}.", target="model")
        if model is None:
            return {"project": project, "model": None, "models": models}
        every = mispredictions(model)
        pages = max(1, -(-len(every) // WRONG_PER_PAGE))
        wrong_page = min(max(wrong_page, 1), pages)
        start = (wrong_page - 1) * WRONG_PER_PAGE
        wrong = every[start:start + WRONG_PER_PAGE]
        found = docs_db.by_locations(conn, project["id"], [w["location"] for w in wrong], with_text=False)
        recorded = ((model["evaluation"] or {}).get("tagwise") or {}).get("trainDocumentsPerClass")
        # older models: the Train column counts the tagged documents as they are now (a scan of them all)
        tagged = docs_db.tagged_rows(conn, project["id"], with_text=False) if recorded is None else []
    test_locations = set()
    counts = {c: {"train": 0, "test": 0} for c in project["classes"]}
    for item in model["evaluation_results"] or []:
        test_locations.add(item["location"])
        for label in outcome(item)[0]:
            counts.setdefault(label, {"train": 0, "test": 0})["test"] += 1
    if recorded is not None:  # what the model was trained on (models trained since this was recorded)
        for label, n in recorded.items():
            counts.setdefault(label, {"train": 0, "test": 0})["train"] = n
    else:  # older models: the tagged documents outside its test set, as they are now
        for row in tagged:
            if row["location"] not in test_locations:
                for label in row["labels"]:
                    counts.setdefault(label, {"train": 0, "test": 0})["train"] += 1
    for item in wrong:
        item["doc"] = found.get(item["location"])
    return {"project": project, "model": model, "models": models, "counts": counts, "wrong": wrong, "wrong_total": len(every),
            "wrong_page": wrong_page, "wrong_pages": pages, "wrong_start": start, "wrong_per_page": WRONG_PER_PAGE, "train_counts_recorded": recorded is not None}


def commonest(baseline: dict[str, Any]) -> str:
    """The class a ``majorityBaseline`` always answers, as a message names it: when several tie as
    the commonest (banking77's 77 classes of 40), none of them (it named the first).

    >>> commonest({"class": "Major", "accuracy": 0.69}), commonest({"class": "a", "accuracy": 0.5, "tiedClasses": 2})
    ('Major', 'any one class (2 tie as the commonest)')
    """
    tied = baseline.get("tiedClasses")
    return f"any one class ({tied:,} tie as the commonest)" if tied else baseline["class"]


def _tag_more(baseline: dict[str, Any]) -> str:
    """Which examples to tag more of, when a model does not clearly beat ``baseline``."""
    return "tag more examples of every class" if baseline.get("tiedClasses") else f"tag more examples of the classes other than {baseline['class']}"


def baseline_warning(model: dict[str, Any], subject: str = "This model", deployed: bool = False) -> str | None:
    """What to tell a person when the model does not beat always answering the commonest class
    (:func:`against_baseline`): before a deploy (the studio), or after it (the deploy job's warning)."""
    found = against_baseline(model)
    if found is None:
        return None
    how = "worse than" if found["worse"] else "no better than"
    others = found["advice"]
    advice = f"{others[0].upper()}{others[1:]}, train again and deploy that model." if deployed else f"Do not deploy it; {others}, then train again."
    scored = ", answering every document as if there were no confidence threshold" if found["threshold"] else ""
    accuracy, baseline = percents(found["accuracy"], found["baseline"])
    return (f"{subject} is {how} always answering {found['class']} ({accuracy} against {baseline} "
            f"on the test set{scored}): it has not learned to tell the classes apart yet. {advice}")


def baseline_caution(model: dict[str, Any], subject: str = "This model") -> str | None:
    """A caution when a single-label model beats always answering the commonest class on its test
    set by less than the test set can tell: the baseline lies inside the 95% interval of its
    accuracy (answering every document, as :func:`against_baseline` judges). None otherwise, and
    when it does not beat it at all (:func:`baseline_warning` says so)."""
    # 70.8% against 69.4% on 72 tickets read as a success while the model sent 69 of them to Major
    extra = (model.get("evaluation") or {}).get("tagwise") or {}
    baseline, documents = extra.get("majorityBaseline"), extra.get("testDocuments")
    if not baseline or not isinstance(documents, int) or against_baseline(model) is not None:
        return None
    accuracy = unthresholded_accuracy(extra)
    found = None if accuracy is None else interval(round(accuracy * documents), documents)
    if found is None or found[0] > baseline["accuracy"]:
        return None
    scored = ", answering every document as if there were no confidence threshold" if extra.get("confidenceThreshold") else ""
    shown, at, low, high = percents(accuracy, baseline["accuracy"], *found)
    advice = _tag_more(baseline)
    return (f"{subject} is not clearly better than always answering {commonest(baseline)} ({shown} against "
            f"{at} on {documents:,} test documents{scored}: on new text its accuracy could lie anywhere "
            f"from {low} to {high}, which includes {at}). {advice[0].upper()}{advice[1:]}, and more test documents, "
            "before relying on it.")


def evaluation_body(model: dict[str, Any]) -> dict[str, Any]:
    """The kind-specific body of a stored evaluation: micro/macro scores, per-class counts, the confusion matrix."""
    summary = model.get("evaluation") or {}
    return summary.get("customMultiLabelClassificationEvaluation") or summary.get("customSingleLabelClassificationEvaluation") or {}


def never_predicted(model: dict[str, Any]) -> list[str]:
    """Classes the test set has that the model never chose: a model can score well on a skewed
    project by answering its biggest class every time."""
    return sorted(name for name, m in (evaluation_body(model).get("classes") or {}).items() if _tested(m) and not _chosen(m))


def untested(model: dict[str, Any]) -> list[str]:
    """Classes the model knows that its test set has no document of: its scores say nothing
    about them (the split keeps a class with one tagged document for training)."""
    return sorted(name for name, m in (evaluation_body(model).get("classes") or {}).items() if not _tested(m))
