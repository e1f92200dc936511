"""Two trained models of a project side by side: did the retrained one get better, and where?

``compare`` is pure: it takes two stored model records (``evaluation`` and ``evaluation_results``
as training wrote them) and returns the headline scores with their change, the per-class F1 with
its change, and what the two evaluations have in common. Scores are only comparable on the same
test documents, so it counts the documents the two test sets share, scores both models on those,
and lists the shared documents whose prediction changed. ``load`` fetches the records.

>>> def model(label, predicted):
...     results = [{"location": "d1", "customSingleLabelClassificationResult": {"expectedClass": "x", "predictedClass": predicted}}]
...     return {"label": label, "trained_at": None, "evaluation": {}, "evaluation_results": results}
>>> diff = compare(model("v1", "y"), model("v2", "x"))
>>> diff.overlap.same_documents, [c.location for c in diff.fixed], diff.broken
(True, ['d1'], [])
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tagwise.core.context import Context
from tagwise.core.evaluation import TOP_SCORES as TOP
from tagwise.core.model_results import against_baseline, class_scores, commonest, evaluation_body, outcome, recorded_answers
from tagwise.core.models import located
from tagwise.core.predictors import NONE_CLASS
from tagwise.core.projects import require
from tagwise.core.uncertainty import CHANCE_LEVEL, chance
from tagwise.core.validation import MULTI, SINGLE
from tagwise.errors import NotFound
from tagwise.storage import document_records as docs_db
from tagwise.storage import records

__all__ = ["Change", "ClassRow", "ClassScores", "Comparison", "DocChange", "Overlap", "Side", "at_threshold", "compare", "load", "pick"]

SAME = 0.0005  # under 0.05 points a change shows as "0.0": call it the same rather than better or worse
CHANGES_SHOWN = 50  # documents listed per kind of change; the page says how many more there are


@dataclass(frozen=True)
class Change:
    """A number of model a, the same number of model b, and which way b moved it."""

    a: float | None
    b: float | None
    higher_is_better: bool = True
    same_within: float = SAME  # a smaller change is "same": on n test documents, about one document's worth
    p_value: float | None = None  # the sign test's, where the change is the documents b fixed and broke (see uncertainty)
    unlike: str | None = None  # "tags" or "thresholds": the two were scored against other tags, or at other thresholds

    @property
    def comparable(self) -> bool:
        return self.unlike is None

    @property
    def delta(self) -> float | None:
        return None if self.a is None or self.b is None else self.b - self.a

    @property
    def verdict(self) -> str | None:
        """``better``, ``worse`` or ``same`` for b; None when a side has no value or the two were
        scored unlike (``unlike``): against different tags (retagging test documents toward a
        model's answers raises its score with no prediction changed: that is not the model getting
        better), or at different confidence thresholds (the threshold alone moves answers)."""
        delta = self.delta
        if delta is None or not self.comparable:
            return None
        if abs(delta) < max(self.same_within, SAME) - 1e-9:  # exactly one document's worth is a change, float error or not
            return "same"
        return "better" if (delta > 0) == self.higher_is_better else "worse"

    @property
    def could_be_chance(self) -> bool:
        """A better or worse that the documents fixed and broken do not show beyond chance."""
        return self.verdict in ("better", "worse") and self.p_value is not None and self.p_value >= CHANCE_LEVEL


@dataclass(frozen=True)
class Side:
    """What the headline says of one model besides its scores."""

    label: str
    recipe: str
    chosen_recipe: str | None
    trained_at: Any
    train_documents: int | None
    test_documents: int
    baseline: tuple[str, float] | None = None  # (class, accuracy) of always answering the test set's commonest class
    below_baseline: bool = False  # the model does not beat that (single-label)
    threshold: float = 0.0  # the confidence threshold its evaluation was scored at (multi-label: the floor)
    class_thresholds: tuple[tuple[str, float], ...] = ()  # multi-label: the project's classThresholds it was scored with
    encoder: str | None = None  # the sentence encoder it embeds with (None: TF-IDF only)
    classes: frozenset[str] = frozenset()  # the classes its evaluation knows


@dataclass(frozen=True)
class ClassScores:
    precision: float | None  # None: the model never chose the class, so precision is 0 of 0
    recall: float | None  # None: no test document has the class
    f1: float | None  # None: neither tested nor chosen
    support: int  # test documents of the class


@dataclass(frozen=True)
class ClassRow:
    name: str
    a: ClassScores | None  # None: the class did not exist when a was trained (or was deleted before b)
    b: ClassScores | None
    unlike: str | None = None  # as Change.unlike

    @property
    def f1(self) -> Change:
        # no "one document's worth" here: with the same tags F1 only moves when a prediction changed, and one
        # document moves a class's F1 by anything from F1 / (2TP + FP + FN) up, so any move is a real one
        return Change(self.a.f1 if self.a else None, self.b.f1 if self.b else None, unlike=self.unlike)

    @property
    def only_in(self) -> str | None:
        """``a`` or ``b`` when only that model knows the class."""
        return None if self.a and self.b else ("a" if self.a else "b")


@dataclass(frozen=True)
class DocChange:
    """A shared test document whose prediction differs between the two models."""

    location: str
    expected: list[str]  # the tag it is scored against (see Overlap.truth)
    a: list[str]
    b: list[str]


@dataclass(frozen=True)
class Overlap:
    """How the two test sets relate, and both models scored on the documents they share."""

    shared: int
    only_a: int
    only_b: int
    retagged: int  # shared documents whose tag differs between the two evaluations
    truth: str  # the model whose tags score the shared documents: the more recently trained
    scores: list[tuple[str, Change]]
    p_value: float = 1.0  # how often chance alone splits the changed shared documents as unevenly as b's fixed vs broken

    @property
    def same_documents(self) -> bool:
        return self.only_a == 0 and self.only_b == 0


@dataclass(frozen=True)
class Comparison:
    a: Side
    b: Side
    multi: bool
    headline: list[tuple[str, Change]]
    classes: list[ClassRow]  # biggest F1 change first; classes only one model has come last
    overlap: Overlap
    fixed: list[DocChange]  # wrong by a, right by b
    broken: list[DocChange]  # right by a, wrong by b
    still_wrong: int  # prediction changed, wrong both times
    common_classes: int | None = None  # when the two know different classes: how many both know (see headline)

    @property
    def same_threshold(self) -> bool:
        """Whether both evaluations were scored at the same confidence threshold."""
        return _same_threshold(self.a, self.b)


def _same_threshold(a: Side, b: Side) -> bool:
    """Both scored at one threshold (and, multi-label, with the same thresholds set by the project for
    the classes both know: one set for a class only one of them knows moves none of the other's answers,
    and made every re-scoring "not the same" again)."""
    if abs(a.threshold - b.threshold) >= 1e-9:  # the project's stored numbers: the same setting is the same float
        return False
    return not _set_apart(a, b)


def _set_apart(a: Side, b: Side) -> set[str]:
    """The classes both models know whose set threshold (or none) differs between their scorings."""
    mine, theirs = dict(a.class_thresholds), dict(b.class_thresholds)
    both = a.classes & b.classes
    return {c for c in both if (c in mine) != (c in theirs) or abs(mine.get(c, 0.0) - theirs.get(c, 0.0)) >= 1e-9}


def compare(a: dict[str, Any], b: dict[str, Any], train_documents: tuple[int | None, int | None] = (None, None)) -> Comparison:
    """Model b against model a (changes are b − a). ``train_documents``: the counts from the models'
    manifests when known; the evaluation itself records them only per class."""
    multi = MULTI in (_summary(a).get("projectKind"), _summary(b).get("projectKind"))
    first = "Micro F1" if multi else "Accuracy"
    # a change smaller than one test document's worth is not "better": 0.1 point on 71 documents is nothing.
    # One document moves a macro average by less than it moves accuracy, hence half of one for it.
    one = 1 / max(min(_test_count(a), _test_count(b)), 1)
    shared = _shared(a, b)
    fixed, broken, still_wrong = _changes(shared)
    side_a, side_b = _side(a, train_documents[0], multi), _side(b, train_documents[1], multi)
    thresholds = None if _same_threshold(side_a, side_b) else "thresholds"
    overlap = _overlap(shared, _labels(a) | _labels(b), first, multi, chance(len(fixed), len(broken)), thresholds)
    # each evaluation is scored against the tags at its own training: with test documents retagged between them,
    # the stored scores measure against different answers (see Change.unlike); the shared-document scores do not
    tags_same = not overlap.retagged
    unlike = "tags" if not tags_same else thresholds
    # on the same documents with the same tags, accuracy moves by exactly (fixed - broken) / n, and macro F1 by the same
    # documents: the sign test speaks for both (single-label; a multi-label F1 also moves within a document). At
    # different confidence thresholds the threshold alone moves documents (to None and back): no verdict on the models
    p_value = overlap.p_value if overlap.same_documents and tags_same and not multi and thresholds is None else None
    macro_a, macro_b = evaluation_body(a).get("macroF1"), evaluation_body(b).get("macroF1")
    headline = [(first, Change(_headline(a, multi), _headline(b, multi), same_within=one, p_value=p_value, unlike=unlike)),
                ("Macro F1", Change(macro_a, macro_b, same_within=one / 2,
                                    p_value=_along(p_value, macro_a, macro_b, len(fixed) - len(broken)), unlike=unlike)),
                # the calibration error is of the probabilities, before any threshold: only other tags make it unlike
                # one document moves it by at most one document's worth (1/n of its bin's share): a smaller change is
                # "same" (0.1 point on 120 documents read "better")
                ("Calibration error (ECE)", Change(_extra(a).get("expectedCalibrationError"),
                                                   _extra(b).get("expectedCalibrationError"), higher_is_better=False,
                                                   same_within=one, unlike=None if tags_same else "tags"))]
    common = None
    if _labels(a) != _labels(b):
        # a class added (or deleted) between the trainings: each macro average is over its own classes,
        # and a new class with F1 0 can pull one down while every class both know got better
        common = sorted(_labels(a) & _labels(b))
        on_common = Change(_macro_over(a, common), _macro_over(b, common), same_within=one / 2, unlike=unlike)
        macro = headline[1][1]
        if _close(on_common.a, macro.a) and _close(on_common.b, macro.b):
            common = None  # the classes only one knows have no F1 (untested, never chosen): the row and warning said nothing new
        else:
            headline.insert(2, (f"Macro F1, the {len(common)} classes both know", on_common))
    # multi-label, one class's threshold set between the trainings: each class's scores hang on its own bar only, so
    # "other thresholds" belongs to the classes whose set threshold differs (all 12 read so when one had moved)
    alike = set()
    if multi and unlike == "thresholds" and abs(side_a.threshold - side_b.threshold) < 1e-9:
        alike = (_labels(a) | _labels(b)) - _set_apart(side_a, side_b)
    return Comparison(a=side_a, b=side_b, multi=multi, headline=headline,
                      classes=_class_rows(a, b, unlike, alike), overlap=overlap, fixed=fixed, broken=broken, still_wrong=still_wrong,
                      common_classes=len(common) if common is not None else None)


def _macro_over(model: dict[str, Any], names: list[str]) -> float | None:
    """The mean F1 of ``names`` in the model's evaluation, leaving out a class with no test document
    and no prediction (no F1 to speak of), as the stored macro average does."""
    per_class = evaluation_body(model).get("classes", {})
    scores = [per_class[n].get("f1", 0.0) for n in names
              if any(per_class[n].get(k, 0) for k in ("truePositiveCount", "falsePositiveCount", "falseNegativeCount"))]
    return sum(scores) / len(scores) if scores else None


def _shared(a: dict[str, Any], b: dict[str, Any]) -> tuple[list[str], dict, dict, dict, str]:
    """The shared test locations, each model's outcomes, the outcomes whose tags are the truth, and that model's label.

    A document retagged between the two trainings has two tags; the later training's is the one the
    user meant (often the very fix that prompted the retraining), whichever side that model is on."""
    outcomes_a, outcomes_b = _outcomes(a), _outcomes(b)
    truth_model = a if _newer(a, b) else b
    truth = outcomes_a if truth_model is a else outcomes_b
    return sorted(set(outcomes_a) & set(outcomes_b)), outcomes_a, outcomes_b, truth, truth_model["label"]


def _along(p_value: float | None, a: float | None, b: float | None, net_fixed: int) -> float | None:
    """The sign test's p-value for a macro F1 change that goes the way the documents did (more fixed
    than broken, and macro F1 up; or the reverse); 1.0 for one that goes against them, which no test
    supports: b fixed 12 documents and broke 2 of a small class, and "Macro F1 −8.5 pts worse" stood
    unqualified on the sign test's 1.3%, which says b is better."""
    if p_value is None or a is None or b is None or b == a:
        return p_value
    return p_value if (b > a) == (net_fixed > 0) and net_fixed != 0 else 1.0


def _overlap(found: tuple, labels: set[str], first: str, multi: bool, p_value: float, unlike: str | None = None) -> Overlap:
    """How the test sets relate; ``unlike``: "thresholds" when the two were scored at different ones
    (their answers on the shared documents differ by the threshold too)."""
    shared, outcomes_a, outcomes_b, truth, truth_label = found
    scores: list[tuple[str, Change]] = []
    if shared:
        on_a = _scores([(truth[loc][0], outcomes_a[loc][1]) for loc in shared], labels, multi)
        on_b = _scores([(truth[loc][0], outcomes_b[loc][1]) for loc in shared], labels, multi)
        one = 1 / len(shared)
        # accuracy moves by (fixed - broken) / shared; micro F1 (multi-label) also by the classes within a document
        p_value_shown = None if multi or unlike else p_value
        moved = sum(outcomes_b[loc][1] == truth[loc][0] for loc in shared) - sum(outcomes_a[loc][1] == truth[loc][0] for loc in shared)
        scores = [(first, Change(on_a[first], on_b[first], same_within=one, p_value=p_value_shown, unlike=unlike)),
                  ("Macro F1", Change(on_a["Macro F1"], on_b["Macro F1"], same_within=one / 2,
                                      p_value=_along(p_value_shown, on_a["Macro F1"], on_b["Macro F1"], moved), unlike=unlike))]
    return Overlap(shared=len(shared), only_a=len(outcomes_a) - len(shared), only_b=len(outcomes_b) - len(shared),
                   retagged=sum(outcomes_a[loc][0] != outcomes_b[loc][0] for loc in shared), truth=truth_label, scores=scores,
                   p_value=p_value)


def _changes(found: tuple) -> tuple[list[DocChange], list[DocChange], int]:
    """The shared documents b fixed, those it broke, and how many changed prediction but are wrong both times."""
    shared, outcomes_a, outcomes_b, truth, _ = found
    fixed, broken, still_wrong = [], [], 0
    for location in shared:
        expected, pa, pb = truth[location][0], outcomes_a[location][1], outcomes_b[location][1]
        if pa == pb:
            continue
        if pa != expected and pb == expected:
            fixed.append(DocChange(location, expected, pa, pb))
        elif pa == expected and pb != expected:
            broken.append(DocChange(location, expected, pa, pb))
        else:
            still_wrong += 1
    return fixed, broken, still_wrong


def pick(labels: list[str], a: str | None, b: str | None, project_name: str) -> tuple[str, str] | None:
    """The two models to compare: those asked for, else the newest (b) and the newest other (a).

    ``labels`` are the project's models, oldest first. None when the project has fewer than two.

    >>> pick(["v1", "v2", "v3"], None, None, "p"), pick(["v1", "v2", "v3"], "v3", None, "p")
    (('v2', 'v3'), ('v3', 'v2'))
    """
    for label in (a, b):
        if label is not None and label not in labels:
            known = ", ".join(labels) if labels else "none yet"
            raise NotFound(f"The trained model {label} could not be found in project {project_name}. "
                           f"Its trained models: {known}.", target="model")
    if len(labels) < 2:
        return None
    b = b or next(label for label in reversed(labels) if label != a)
    a = a or next(label for label in reversed(labels) if label != b)
    return a, b


def at_threshold(model: dict[str, Any], threshold: float) -> dict[str, Any] | None:
    """A single-label ``model`` as if its evaluation had been scored at ``threshold``: each test
    document's answer re-decided from its recorded likeliest class and probability (None below
    the threshold), and the summary's scores recomputed from those answers. None when the model is
    multi-label or its results lack the probabilities (trained before they were recorded)."""
    from tagwise.core.evaluation import build_summary

    summary = _summary(model)
    recorded = recorded_answers(model) if summary.get("projectKind") == SINGLE else None
    if recorded is None:
        return None
    rescored, truth, answers = [], [], []
    for item, top, confidence in recorded:
        answer = top if confidence >= threshold else NONE_CLASS
        single = dict(item["customSingleLabelClassificationResult"], predictedClass=answer)
        rescored.append(dict(item, customSingleLabelClassificationResult=single))
        truth.append(single["expectedClass"])
        answers.append(answer)
    body = build_summary(SINGLE, summary.get("evaluationOptions") or {}, truth, answers, sorted(_labels(model)))
    extra = dict(_extra(model), confidenceThreshold=threshold or None, accuracy=body["tagwise"]["accuracy"])
    return dict(model, evaluation=dict(summary, customSingleLabelClassificationEvaluation=body["customSingleLabelClassificationEvaluation"], tagwise=extra),
                evaluation_results=rescored)


def at_project_thresholds(model: dict[str, Any], settings: dict[str, Any] | None) -> dict[str, Any] | None:
    """A multi-label ``model`` as if its evaluation had been scored with the project's thresholds in
    ``settings`` (each class's tuned threshold, or the one the project sets for it, raised to its
    confidence floor): each test document's classes re-decided from the probabilities its result
    recorded, for the classes whose bar moved. A result keeps the probabilities of its expected and
    predicted classes and of the three likeliest (:data:`tagwise.core.evaluation.TOP_SCORES`), so a
    class it lacks scored no more than the third of those: a bar lowered to that or under cannot be
    decided, and then, as for a single-label model or one trained before the probabilities were
    recorded, None."""
    from tagwise.core.evaluation import build_summary
    from tagwise.core.predictors import bars_by_class, thresholds_of

    summary, extra = _summary(model), _extra(model)
    tuned = extra.get("classThresholds") or {}
    results = model.get("evaluation_results") or []
    if summary.get("projectKind") != MULTI or not tuned or not results or any("scores" not in (r.get("tagwise") or {}) for r in results):
        return None
    floor_now, set_now = thresholds_of(settings)
    set_now = set_now or {}
    then = bars_by_class(tuned, float(extra.get("confidenceThreshold") or 0.0), extra.get("projectClassThresholds"))
    now = bars_by_class(tuned, floor_now, set_now)
    moved = [c for c in tuned if abs(now[c] - then[c]) >= 1e-9]
    rescored, truth, answers = [], [], []
    for item in results:
        expected, predicted = outcome(item)
        scores = item["tagwise"]["scores"]
        third = sorted(scores.values(), reverse=True)[TOP - 1] if len(scores) >= TOP and len(tuned) > TOP else -1.0
        chosen = set(predicted)
        for c in moved:
            if c in scores:
                chosen.discard(c)
                if scores[c] >= now[c]:
                    chosen.add(c)
            elif now[c] <= third:  # its probability, unrecorded, may reach the lowered bar
                return None
        answer = sorted(chosen, key=lambda c: (-scores.get(c, 0.0), c))
        rescored.append(dict(item, customMultiLabelClassificationResult=dict(item["customMultiLabelClassificationResult"], predictedClasses=answer)))
        truth.append(expected)
        answers.append(answer)
    body = build_summary(MULTI, summary.get("evaluationOptions") or {}, truth, answers, sorted(_labels(model)))
    new_extra = dict(extra, confidenceThreshold=floor_now or None, accuracy=body["tagwise"]["accuracy"],
                     noClass=body["tagwise"]["noClass"], projectClassThresholds={c: t for c, t in set_now.items() if c in tuned})
    return dict(model, evaluation=dict(summary, customMultiLabelClassificationEvaluation=body["customMultiLabelClassificationEvaluation"],
                                       tagwise=new_extra), evaluation_results=rescored)


def load(ctx: Context, project_name: str, a: str | None = None, b: str | None = None, limit: int = CHANGES_SHOWN,
         at: float | None = None, now: bool = False) -> dict[str, Any]:
    """The comparison of models ``a`` and ``b`` of a project, with what the studio shows around it.

    ``models``: every model of the project, oldest first; ``comparison``: None with fewer than two;
    ``docs``: location -> the document (id, snippet, labels) of the first ``limit`` fixed and broken
    documents, where it still exists. ``at``: both single-label models re-scored at this confidence
    threshold (:func:`at_threshold`), so two trained at different thresholds can be judged; ``now``:
    both multi-label models re-scored at the project's thresholds now (:func:`at_project_thresholds`);
    ``rescored``: whether they were, ``not_rescored``: asked, but a result could not tell.
    """
    with ctx.db.read() as conn:
        project = require(conn, project_name)
        listed = records.list_models(conn, project["id"])
        picked = pick([m["label"] for m in listed], a, b, project_name)
        if picked is None:
            return {"project": project, "models": listed, "comparison": None, "limit": limit, "rescored": False}
        by_label = {m["label"]: m for m in listed}
        model_a, model_b = by_label[picked[0]], by_label[picked[1]]
        trained = (_train_documents(ctx, project, model_a), _train_documents(ctx, project, model_b))
        pair = None
        if at is not None:
            pair = at_threshold(model_a, at), at_threshold(model_b, at)
        elif now:
            pair = at_project_thresholds(model_a, project["settings"]), at_project_thresholds(model_b, project["settings"])
        rescored = bool(pair and pair[0] and pair[1])
        if rescored:
            model_a, model_b = pair
        result = compare(model_a, model_b, trained)
        shown = [c.location for c in result.fixed[:limit] + result.broken[:limit]]
        docs = docs_db.by_locations(conn, project["id"], shown, with_text=False)
    return {"project": project, "models": listed, "comparison": result, "docs": docs, "limit": limit, "rescored": rescored,
            "not_rescored": pair is not None and not rescored}


# -- reading a stored evaluation ----------------------------------------------------------------

def _summary(model: dict[str, Any]) -> dict[str, Any]:
    return model.get("evaluation") or {}


def _extra(model: dict[str, Any]) -> dict[str, Any]:
    return _summary(model).get("tagwise") or {}


def _close(x: float | None, y: float | None) -> bool:
    return x is not None and y is not None and abs(x - y) < 1e-9


def _labels(model: dict[str, Any]) -> set[str]:
    return set(evaluation_body(model).get("classes", {}))


def _headline(model: dict[str, Any], multi: bool) -> float | None:
    return evaluation_body(model).get("microF1") if multi else _extra(model).get("accuracy")


def _newer(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Whether a was trained after b (ties and unknown times: b)."""
    return a.get("trained_at") is not None and b.get("trained_at") is not None and a["trained_at"] > b["trained_at"]


def _outcomes(model: dict[str, Any]) -> dict[str, tuple[list[str], list[str]]]:
    """location -> (expected, predicted) classes, sorted, of each test document."""
    out = {}
    for item in model.get("evaluation_results") or []:
        expected, predicted = outcome(item)
        out[item["location"]] = (sorted(expected), sorted(predicted))
    return out


def _test_count(model: dict[str, Any]) -> int:
    return _extra(model).get("testDocuments", len(model.get("evaluation_results") or []))


def _side(model: dict[str, Any], train_documents: int | None, multi: bool) -> Side:
    extra = _extra(model)
    baseline = extra.get("majorityBaseline")
    if train_documents is None and not multi and extra.get("trainDocumentsPerClass") is not None:
        train_documents = sum(extra["trainDocumentsPerClass"].values())  # one class per document: the sum is the count
    return Side(label=model["label"], recipe=model.get("recipe") or model.get("config_version") or "",
                chosen_recipe=extra.get("chosenRecipe"),
                trained_at=model.get("trained_at"), train_documents=train_documents,
                test_documents=_test_count(model),
                baseline=(commonest(baseline), baseline["accuracy"]) if baseline and not multi else None,
                below_baseline=not multi and against_baseline(model) is not None,
                threshold=float(extra.get("confidenceThreshold") or 0.0), encoder=extra.get("sentenceEncoder"),
                # of the classes the model knows: an entry for another class changed none of its answers
                class_thresholds=tuple(sorted((str(c), float(t)) for c, t in (extra.get("projectClassThresholds") or {}).items()
                                              if c in _labels(model))),
                classes=frozenset(_labels(model)))


def _class_scores(counts: dict[str, Any]) -> ClassScores:
    return ClassScores(*class_scores(counts), support=counts.get("truePositiveCount", 0) + counts.get("falseNegativeCount", 0))


def _class_rows(a: dict[str, Any], b: dict[str, Any], unlike: str | None = None, alike: set[str] = frozenset()) -> list[ClassRow]:
    """``alike``: classes scored at one threshold in both, though ``unlike`` is "thresholds"."""
    in_a, in_b = evaluation_body(a).get("classes", {}), evaluation_body(b).get("classes", {})
    rows = [ClassRow(name, _class_scores(in_a[name]) if name in in_a else None, _class_scores(in_b[name]) if name in in_b else None,
                     None if name in alike else unlike) for name in {*in_a, *in_b}]
    return sorted(rows, key=lambda r: (r.only_in is not None, -abs(r.f1.delta or 0.0), r.name.casefold(), r.name))


def _scores(pairs: list[tuple[list[str], list[str]]], labels: set[str], multi: bool) -> dict[str, float]:
    """Accuracy (exact match in multi-label), micro F1 and macro F1 of (expected, predicted) pairs,
    scored by the same function as the stored evaluations (an abstention "None" is a miss)."""
    from tagwise.ml.evaluate import evaluate  # lazily, as core.evaluation does: it brings in the ml package

    expected = [e for e, _ in pairs] if multi else [e[0] for e, _ in pairs]
    predicted = [p for _, p in pairs] if multi else [p[0] for _, p in pairs]
    report = evaluate(expected, predicted, sorted(labels), multi_label=multi)
    return {"Accuracy": report.accuracy, "Micro F1": report.micro_f1, "Macro F1": report.macro_f1}


def _train_documents(ctx: Context, project: dict[str, Any], model: dict[str, Any]) -> int | None:
    """How many documents the model was trained on, from its manifest (a multi-label document counts
    once per class in the evaluation's per-class counts). None when the folder cannot be read."""
    try:
        manifest = json.loads((located(ctx, project, model) / "manifest.json").read_text(encoding="utf-8"))
        return int(manifest["metadata"]["trainDocuments"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
