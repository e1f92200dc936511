"""Tagged documents whose tag looks wrong, found with out-of-fold predictions judged by ``cleanlab``.

Each fold trains a fresh ``linear`` model on the other folds; cleanlab ranks the tags that the
out-of-fold probabilities disagree with (single-label: then the tags the folds give under
``EXTRA_BELOW`` that cleanlab let pass), and each issue carries the class the folds suggest.
Documents whose tags a person marked right ("Tag is right") are left out while they keep them.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from tagwise.core.context import Context
from tagwise.core.predictors import decide
from tagwise.core.projects import require
from tagwise.core.training import MIN_DOCUMENTS, SEED
from tagwise.core.uncertainty import interval
from tagwise.core.validation import MULTI
from tagwise.errors import Conflict, InvalidArgument, TagwiseError
from tagwise.storage import document_records as docs_db
from tagwise.storage.records import utcnow

__all__ = ["LabelIssue", "LabelIssues", "check_state", "find_label_issues", "label_issues", "start_check"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LabelIssue:
    doc_id: int
    location: str
    given: list[str]
    suggested: list[str]
    quality: float  # cleanlab's label quality (0 = surely wrong, 1 = surely right)
    snippet: str = ""  # the text's start, to judge the suggestion without opening the document
    dataset: str | None = None  # the document's set: "Test" ones score the next evaluation rather than train it
    # single-label: the folds' out-of-fold probability of the tagged class and of the suggested one (cleanlab's
    # quality is near 0 for every listed document: it read "0%" on all 200 rows)
    tag_confidence: float | None = None
    suggestion_confidence: float | None = None


@dataclass(frozen=True)
class LabelIssues:
    issues: list[LabelIssue]
    checked: int
    folds: int
    seconds: float
    computed_at: Any
    # single-label: how the folds' models scored, and always answering the commonest class would
    accuracy: float | None = None
    baseline: tuple[str, float] | None = None
    found: int = 0  # how many were flagged; ``issues`` holds the surest ``limit`` of them
    tagged: int = 0  # tagged documents of the project: more than ``checked`` when a sample was checked
    # how the folds' models scored: macro-F1 over the classes (both kinds), exact match (multi-label)
    macro_f1: float | None = None
    exact_match: float | None = None
    unread: int = 0  # tagged documents no check has read yet (over ``max_checked``): the next check reads them first
    kept: int = 0  # flagged documents left out of ``issues`` and ``found``: someone marked their tags right ("Tag is right")
    sampled: int = 0  # over ``max_checked`` tagged documents: the size of the random sample checked
    alone: tuple[str, ...] = ()  # single-label classes with one tagged document: no fold can learn them, so their documents are left out

    @property
    def accuracy_low(self) -> float | None:
        """Single-label: the low end of the 95% interval of the folds' accuracy."""
        if self.accuracy is None or not self.checked:
            return None
        found = interval(round(self.accuracy * self.checked), self.checked)
        return None if found is None else found[0]

    @property
    def unreliable(self) -> bool:
        """Single-label: the folds do not clearly beat the commonest class (it is inside the 95%
        interval of their accuracy, or above it), so their doubts say little, and following them
        would move the small classes' documents into the big one (800 tickets: the folds scored
        0.680 against 0.674 for always Major, and 181 tags were flagged, mostly "move to Major")."""
        low = self.accuracy_low
        return low is not None and self.baseline is not None and low <= self.baseline[1]

    @property
    def weak(self) -> bool:
        """The folds' models get under half of each class right on average (macro-F1 below 0.5), so
        a flag is about as likely their mistake as the tag's (a goemotions project: macro-F1 about
        0.3, and 45% of its documents flagged)."""
        return self.macro_f1 is not None and self.macro_f1 < WEAK_MACRO_F1


_issues_lock = threading.Lock()
_issues: dict[tuple[str, int, str], LabelIssues] = {}
# projects being checked now, since when: a second click waited for a second run
_running: dict[tuple[str, int, str], Any] = {}
_failed: dict[tuple[str, int, str], tuple[str, Any]] = {}  # why the last background check of a project stopped, and when
_read: dict[tuple[str, int, str], set[int]] = {}  # over MAX_CHECKED: the documents this round of checks has read
WEAK_MACRO_F1 = 0.5
# single-label: also flag, after cleanlab's flags, a tag the folds give less than this whose likeliest class is
# another. cleanlab counts a document only when its likeliest class reaches that class's mean self-confidence
# (0.77 on 2,000 banking77 tickets), and 19 of the last 20 wrong tags of a four-round walk were never listed although
# the folds gave 16 of them under 1%; 0 turns it off (benchmarks/tag_check_rounds.py --extra-below)
EXTRA_BELOW = 0.01
MAX_CHECKED = 10_000  # documents a check reads at most (a seeded sample beyond): 100,000 ran for minutes in the request, at 6 GB


def label_issues(ctx: Context, project_name: str) -> LabelIssues | None:
    """The last ``find_label_issues`` result for the project (kept in memory), if any."""
    key = _key(ctx, project_name)[1]
    with _issues_lock:
        return _issues.get(key)


def find_label_issues(ctx: Context, project_name: str, *, folds: int = 5, limit: int = 200, max_checked: int = MAX_CHECKED) -> LabelIssues:
    """Tagged documents whose tag disagrees with out-of-fold predictions, worst first (cleanlab).
    Over ``max_checked`` tagged documents, a seeded random sample of that many is checked, those
    no check has read yet first (in this process), so that checking again reaches the rest. One
    check per project runs at a time."""
    project, key = _claim(ctx, project_name)
    try:
        return _find(ctx, project, key, folds, limit, max_checked)
    finally:
        _release(key)


def start_check(ctx: Context, project_name: str, *, folds: int = 5, limit: int = 200, max_checked: int = MAX_CHECKED) -> None:
    """:func:`find_label_issues` in a background thread: a check trains a model per fold, tens of
    seconds for a few thousand documents (31-35 s for a 3,000-document multi-label project),
    which a request should not wait for (a proxy's timeout would cut it). :func:`check_state`
    says whether it still runs and why it stopped if it failed; :func:`label_issues` has its result."""
    project, key = _claim(ctx, project_name)  # here: a second click is refused at once

    def check() -> None:
        try:
            _find(ctx, project, key, folds, limit, max_checked)
        except TagwiseError as exc:
            _fail(key, exc.message)
        except Exception as exc:  # a crash in the thread would otherwise leave the page saying "running" forever
            log.exception("label check of %s failed", project_name)
            # what broke goes to the operator's log: an OSError's text names the server's paths to whoever signed in
            memory = " (out of memory)" if isinstance(exc, MemoryError) else ""
            _fail(key, f"The check stopped on an unexpected error{memory}; the server's log says what it was. Nothing was changed.")
        finally:
            _release(key)  # after the failure is recorded: a poll that sees the check ended sees why

    threading.Thread(target=check, name=f"label-check-{project_name}", daemon=True).start()


def check_state(ctx: Context, project_name: str) -> dict[str, Any]:
    """``{"running_since"}`` (None when no check runs) and ``{"failed"}``: (message, when) of the
    last background check of the project when it failed after its last result, else None."""
    key = _key(ctx, project_name)[1]
    with _issues_lock:
        failed, result = _failed.get(key), _issues.get(key)
        if failed is not None and result is not None and result.computed_at > failed[1]:
            failed = None
        return {"running_since": _running.get(key), "failed": failed}


def _key(ctx: Context, project_name: str) -> tuple[dict[str, Any], tuple[str, int, str]]:
    """The project, and the key its checks are kept under (one store's project: with its creation
    time, as SQLite gives a deleted project's id to the next one, which showed the deleted one's texts)."""
    with ctx.db.read() as conn:
        project = require(conn, project_name)
    return project, _key_of(ctx, project)


def _key_of(ctx: Context, project: dict[str, Any]) -> tuple[str, int, str]:
    return ctx.settings.resolved_database_url, project["id"], str(project["created_at"])


def forget(ctx: Context, project: dict[str, Any]) -> None:
    """Drop the project's last check in this process (its documents were deleted or replaced: it
    showed their texts)."""
    key = _key_of(ctx, project)
    with _issues_lock:
        _issues.pop(key, None)
        _failed.pop(key, None)
        _read.pop(key, None)


def renamed(ctx: Context, project: dict[str, Any], old: str, new: str) -> None:
    """The project's last check in this process with class ``old`` called ``new`` (a rename, or a
    merge into ``new``): its rows read "retagged since (was old)" although nobody had retagged them."""
    def mapped(labels: list[str]) -> list[str]:
        return list(dict.fromkeys(new if label == old else label for label in labels))

    key = _key_of(ctx, project)
    with _issues_lock:
        if (found := _issues.get(key)) is not None:
            _issues[key] = dataclasses.replace(found, issues=[dataclasses.replace(i, given=mapped(i.given), suggested=mapped(i.suggested))
                                                              for i in found.issues])


def _claim(ctx: Context, project_name: str) -> tuple[dict[str, Any], tuple[str, int, str]]:
    """:func:`_key`, the project marked as being checked; Conflict when it is already."""
    project, key = _key(ctx, project_name)
    with _issues_lock:
        if key in _running:
            raise Conflict(f"The tags of {project['name']} are being checked already; the result shows here when it is done.")
        _running[key] = utcnow()
        _failed.pop(key, None)
    return project, key


def _release(key: tuple[str, int, str]) -> None:
    with _issues_lock:
        _running.pop(key, None)


def _fail(key: tuple[str, int, str], message: str) -> None:
    with _issues_lock:
        _failed[key] = (message, utcnow())


def _find(ctx: Context, project: dict[str, Any], key: tuple[str, int, str], folds: int, limit: int, max_checked: int) -> LabelIssues:
    from sklearn.model_selection import KFold, StratifiedKFold

    from tagwise.ml import build_model

    started = time.monotonic()
    with ctx.db.read() as conn:
        rows = docs_db.tagged_rows(conn, project["id"], with_text=True)
        confirmed = docs_db.confirmed(conn, project["id"])
    tagged = len(rows)
    unread = 0
    multi = project["kind"] == MULTI
    # classes with one tagged document in the project (not in a sample: a bigger class can have one there too)
    alone = () if multi else tuple(sorted(c for c, n in Counter(r["labels"][0] for r in rows if r["labels"]).items() if n < 2))
    if tagged > max_checked:
        rows, unread = _sample(key, rows, max_checked)
    checked_ids = [r["id"] for r in rows] if tagged > max_checked else []
    if not multi:
        counts = Counter(r["labels"][0] for r in rows if r["labels"])
        rows = [r for r in rows if r["labels"] and counts[r["labels"][0]] >= 2]
    classes = sorted({label for r in rows for label in r["labels"]})
    if len(rows) < MIN_DOCUMENTS or len(classes) < 2:
        raise InvalidArgument(f"Finding label issues needs at least {MIN_DOCUMENTS} tagged documents of two classes or more.")
    index = {c: j for j, c in enumerate(classes)}
    texts = [r["text"] for r in rows]
    if multi:
        y = [r["labels"] for r in rows]
        n_splits = max(2, min(folds, len(rows) // 5))
        splits = KFold(n_splits, shuffle=True, random_state=SEED).split(np.zeros(len(rows)))
    else:
        y = [r["labels"][0] for r in rows]
        n_splits = max(2, min(folds, min(Counter(y).values())))
        splits = StratifiedKFold(n_splits, shuffle=True, random_state=SEED).split(np.zeros(len(rows)), y)
    proba = np.zeros((len(rows), len(classes)))
    predicted: list[list[str]] = [[] for _ in rows]
    for train_idx, test_idx in splits:
        model = build_model("linear", multi_label=multi, seed=SEED, language=project["language"], cache_dir=ctx.settings.project_cache_dir(project["name"]))
        model.fit([texts[i] for i in train_idx], [y[i] for i in train_idx])
        fold_proba = model.predict_proba([texts[i] for i in test_idx])
        columns = [index[c] for c in model.classes_]
        proba[np.ix_(test_idx, columns)] = fold_proba
        for i, prediction in zip(test_idx, decide(model, fold_proba), strict=True):
            predicted[i] = prediction.labels
    found = _cleanlab_issues(multi, [[index[c] for c in r["labels"]] for r in rows], proba)
    likeliest = None if multi else suggest(proba, np.array([index[label] for label in y]))
    issues = []
    kept = 0
    for i, quality in found:
        given = list(rows[i]["labels"])
        suggested = predicted[i] if multi else [classes[int(likeliest[i])]]
        if sorted(suggested) == sorted(given):
            continue
        if rows[i]["id"] in confirmed:  # read with the rows: these tags are the ones a person marked right
            kept += 1  # they read this flag and judged the tag right: listing it again only crowds out the next ones
            continue
        sure = (None, None) if multi else (round(float(proba[i, index[given[0]]]), 4), round(float(proba[i, index[suggested[0]]]), 4))
        issues.append(LabelIssue(rows[i]["id"], rows[i]["location"], given, suggested, round(float(quality), 4),
                                 " ".join(rows[i]["text"].split())[:160], rows[i]["dataset"], *sure))
    accuracy = baseline = exact_match = None
    if multi:
        macro_f1, exact_match = _fold_scores(y, predicted, classes)
    else:
        macro_f1, _ = _fold_scores([[label] for label in y], predicted, classes)
        accuracy = sum(p == [given] for p, given in zip(predicted, y, strict=True)) / len(rows)
        commonest, count = Counter(y).most_common(1)[0]
        baseline = (commonest, count / len(rows))
    result = LabelIssues(issues[:limit], len(rows), n_splits, round(time.monotonic() - started, 2), utcnow(), accuracy, baseline,
                         found=len(issues), tagged=tagged, macro_f1=macro_f1, exact_match=exact_match,
                         unread=unread, kept=kept, sampled=len(checked_ids), alone=alone)
    with _issues_lock:
        _issues[key] = result
        _read.setdefault(key, set()).update(checked_ids)  # once it succeeded: a failed check leaves its sample unread
    return result


def _sample(key: tuple[str, int, str], rows: list[dict[str, Any]], size: int) -> tuple[list[dict[str, Any]], int]:
    """``size`` of the tagged ``rows``, those no check of the project has read yet first (seeded):
    the same sample each time left a third of a 15,000-document project's mistakes out of reach of
    every check. Once all were read, a new round starts. Returns the sample (in the rows' order) and
    how many will be left unread after it (the caller marks the sample read once the check succeeded)."""
    with _issues_lock:
        read = _read.setdefault(key, set())
        if all(r["id"] in read for r in rows):
            read.clear()
        unread = [i for i, r in enumerate(rows) if r["id"] not in read]
        before = [i for i, r in enumerate(rows) if r["id"] in read]
    rng = random.Random(SEED)
    chosen = rng.sample(unread, size) if len(unread) >= size else unread + rng.sample(before, size - len(unread))
    return [rows[i] for i in sorted(chosen)], max(len(unread) - size, 0)


def _below(proba: np.ndarray, labels: np.ndarray, flagged: set[int]) -> list[int]:
    """Single-label: the rows cleanlab did not flag whose tag the folds give less than ``EXTRA_BELOW`` and
    whose likeliest class is another, the least likely tag first (see ``EXTRA_BELOW``)."""
    if EXTRA_BELOW <= 0:
        return []
    given = proba[np.arange(len(labels)), labels]
    return [int(i) for i in np.argsort(given, kind="stable")
            if given[i] < EXTRA_BELOW and int(i) not in flagged and int(proba[i].argmax()) != labels[i]]


def _fold_scores(given: list[list[str]], predicted: list[list[str]], classes: list[str]) -> tuple[float, float]:
    """(macro-F1 over ``classes``, exact match) of the folds' predictions (single-label: one-class lists)."""
    f1s = []
    for label in classes:
        tp = sum(label in g and label in p for g, p in zip(given, predicted, strict=True))
        fp = sum(label not in g and label in p for g, p in zip(given, predicted, strict=True))
        fn = sum(label in g and label not in p for g, p in zip(given, predicted, strict=True))
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0)
    exact = sum(sorted(g) == sorted(p) for g, p in zip(given, predicted, strict=True)) / len(given)
    return round(sum(f1s) / len(f1s), 4), round(exact, 4)


def suggest(proba: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Single-label: the class each row most likely belongs to, each class's probability measured
    against how confident the folds are about the documents tagged with it (cleanlab's per-class
    threshold, the mean self-confidence). The plain argmax suggested the biggest class for almost
    every flagged ticket of a skewed project (191 of 200 said "Major"), which would erase the small
    classes if followed."""
    thresholds = np.array([proba[labels == k, k].mean() if np.any(labels == k) else 1.0 for k in range(proba.shape[1])])
    return (proba / np.maximum(thresholds, 1e-6)).argmax(axis=1)


def _cleanlab_issues(multi: bool, labels: list[list[int]], proba: np.ndarray) -> list[tuple[int, float]]:
    """(row, label quality) of each likely label error, worst first: cleanlab's, then (single-label) the
    tags the folds give under ``EXTRA_BELOW`` that cleanlab let pass (:func:`_below`).

    ``n_jobs=1``: cleanlab otherwise forks a process pool, which can deadlock inside a threaded server.
    """
    if multi:
        from cleanlab.multilabel_classification.filter import find_label_issues as find
        from cleanlab.multilabel_classification.rank import get_label_quality_scores

        quality = get_label_quality_scores(labels, proba)
        ranked = find(labels=labels, pred_probs=proba, return_indices_ranked_by="self_confidence", n_jobs=1)
    else:
        from cleanlab.filter import find_label_issues as find
        from cleanlab.rank import get_label_quality_scores

        y = np.array([row[0] for row in labels])
        quality = get_label_quality_scores(y, proba)
        ranked = find(labels=y, pred_probs=proba, return_indices_ranked_by="self_confidence", n_jobs=1)
        ranked = [*map(int, ranked), *_below(proba, y, set(map(int, ranked)))]
    return [(int(i), float(quality[i])) for i in ranked]
