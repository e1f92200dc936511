"""The project's most recently trained model helping with tagging: its suggestion, and what to tag next.

``suggest`` gives the model's classes for a document; ``next_in_queue`` orders the untagged
documents by how unsure the model is (smallest margin between the two best classes, or a class
probability closest to its threshold for multi-label) so each tag teaches it the most.
"""

from __future__ import annotations

import heapq
import json
import logging
import random
import threading
import time
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import numpy as np
from sqlalchemy.exc import IntegrityError, OperationalError

from tagwise.core.context import Context
from tagwise.core.model_results import latest_model
from tagwise.core.models import located
from tagwise.core.predictors import Prediction, class_bars, decide, thresholds_of
from tagwise.core.projects import require
from tagwise.core.validation import MULTI
from tagwise.errors import StoreUnavailable
from tagwise.storage import document_records as docs_db
from tagwise.storage.records import utcnow

QUEUE_POOL = 1_000         # untagged documents a model scores at once for the active-learning queue
QUEUE_REFILL = 100         # score a new pool when fewer scored untagged documents are left
TAG_LEASE_S = 300          # a document shown on the Tag page is kept from the other sessions' queues this long
QUEUE_CHOICES = 20         # the queue's next documents a session tries to take, in order (the others may hold some)
LEASE_WAIT_S = 0.5         # the most a Tag page waits to take its lease (a busy store: shown without one)
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL's error for a lock_timeout
log = logging.getLogger("tagwise.tagging")

__all__ = ["Suggestion", "next_in_queue", "prefetch", "release", "suggest", "take"]


@dataclass(frozen=True)
class Suggestion:
    model_label: str
    labels: list[str]
    scores: list[tuple[str, float]]  # best first
    # multi-label: the score each class needs to be chosen (its tuned threshold, or the project's floor
    # or override). Without them "approval 15%" suggested under an unsuggested "amusement 22%" looked wrong.
    needs: dict[str, float] = field(default_factory=dict)
    # single-label: the project's confidence threshold when the suggested class is under it (a
    # deployment answers None there; a tag must be a class, so the likeliest one is suggested)
    under_threshold: float | None = None

    @property
    def confidence(self) -> float:
        chosen = dict(self.scores)
        return min((chosen.get(label, 0.0) for label in self.labels), default=0.0)


def _predict(ctx: Context, project: dict[str, Any], model_row: dict[str, Any], texts: list[str]) -> tuple[Any, np.ndarray, list[Prediction]]:
    model = ctx.predictors.get(model_row["model_id"], located(ctx, project, model_row))
    proba = model.predict_proba(texts)
    return model, proba, decide(model, proba, *thresholds_of(project["settings"]))


def suggest(ctx: Context, project: dict[str, Any], doc: dict[str, Any]) -> Suggestion | None:
    """The newest model's classes for a document, or None when the project has no model."""
    with ctx.db.read() as conn:
        model_row = latest_model(conn, project)
    if model_row is None:
        return None
    _, _, [prediction] = _predict(ctx, project, model_row, [doc["text"]])
    needs = {name: need for name, _ in prediction.scores if (need := prediction.threshold_of(name)) is not None}
    classes = set(project["classes"])  # a class deleted since the model was trained cannot be a tag
    if project["kind"] == MULTI:
        return Suggestion(model_row["label"], [c for c in prediction.labels if c in classes], prediction.scores, needs)
    # Single-label: the likeliest class the project has. With a confidence threshold set, the page
    # suggested "None (0% confident)" above bars of 40% and 37%, with nothing to accept.
    best, score = next(((name, score) for name, score in prediction.scores if name in classes), (None, 0.0))
    threshold = thresholds_of(project["settings"])[0]
    return Suggestion(model_row["label"], [best] if best else [], prediction.scores, needs,
                      under_threshold=threshold if best and score < threshold else None)


_queue_lock = threading.Lock()
_queue_scores: OrderedDict[tuple[str, str, str], dict[int, float]] = OrderedDict()


def next_in_queue(ctx: Context, project_name: str, skip: tuple[int, ...] = (), holder: str | None = None) -> tuple[int | None, bool]:
    """The untagged document to tag next: (id or None, whether it was ranked by a model's uncertainty).

    Without a model, untagged documents in an order spread over the project (``spread_untagged_ids``:
    a file sorted by class is not tagged one class at a time). With one, pool-based active learning: a
    seeded random pool of up to ``QUEUE_POOL`` untagged documents is scored once per model (kept in
    memory) and refilled when fewer than ``QUEUE_REFILL`` of them are left untagged, so a page never
    scores a whole large project, and only a refill lists every untagged id.

    A document another studio session has open (:func:`take`) is not handed out, so people tagging
    one project at once get different documents (four people were all shown the same one); the
    one handed out is leased to ``holder``, the session asking: the first of the queue's next
    ``QUEUE_CHOICES`` that it can take. When the store is too busy to take one (an import), each
    session is shown another of them (by its own hash), which they then most likely do not share.
    """
    skipped = set(skip)
    give_up = time.monotonic() + 3 * LEASE_WAIT_S  # a page is not held up long by leases it cannot get
    ranked = False
    for _ in range(3):  # other sessions may take all of the next ones between the choice and the leases
        candidates, ranked = _candidates(ctx, project_name, skipped, holder)
        if holder is None:
            return (candidates[0] if candidates else None), ranked
        order, tried = list(candidates), 0
        while tried < len(order):
            doc_id = order[tried]
            took = take(ctx, project_name, doc_id, holder, untagged=True)
            if took:
                return doc_id, ranked
            if took is None:  # the store is too busy for anyone's lease now: spread the sessions over the choices
                return candidates[zlib.crc32(holder.encode()) % len(candidates)], ranked
            if time.monotonic() > give_up:
                break
            if tried == 0 and len(order) > 2:
                # another session took the queue's first as this one tried: those asking at once would all go on to the
                # second, and so on, waiting on each other's locks (on a busy machine 4 of 6 got none within the wait);
                # each goes on from a place of its own among the rest
                rest, at = order[1:], zlib.crc32(holder.encode()) % (len(order) - 1)
                order = [order[0], *rest[at:], *rest[:at]]
            tried += 1
        if not candidates or time.monotonic() > give_up:
            break
        skipped.update(candidates)
    # nothing left, or nothing it can take (each open elsewhere, or being taken): none rather than someone
    # else's (the page says how many are open elsewhere), and its own lease goes back to the others
    release(ctx, holder, project_name)
    return None, ranked


def take(ctx: Context, project_name: str, doc_id: int, holder: str, *, untagged: bool = False) -> bool | None:
    """Lease ``doc_id`` to ``holder`` (a studio session) for ``TAG_LEASE_S``, ending its other lease
    of the project: True; False, and nothing changed, while another session holds it or is taking
    it (PostgreSQL: its row locked past ``LEASE_WAIT_S``), or, with ``untagged``, when it has been
    tagged since the queue chose it. None: a SQLite store busy with a long write (an import) is
    not waited for, and the page is shown without a lease (a save still refuses to overwrite what
    someone else saved since). One statement takes it (an upsert that replaces only an ended lease
    or the holder's own), so no lock on the project is needed."""
    try:
        with ctx.db.write(wait_s=LEASE_WAIT_S) as conn:
            project = require(conn, project_name)
            if untagged and not docs_db.untagged_among(conn, project["id"], [doc_id]):
                return False
            now = utcnow()
            return docs_db.lease(conn, project["id"], doc_id, holder, now, now + timedelta(seconds=TAG_LEASE_S))
    except StoreUnavailable as exc:
        log.info("the Tag page of %s is shown without a lease on document %s: %s", project_name, doc_id, exc.message)
    except OperationalError as exc:  # PostgreSQL's lock_timeout: another session is taking this very lease
        if getattr(exc.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        return False  # as if taken (the next of the queue is tried): falling back to no lease showed one document to two people
    except IntegrityError:  # PostgreSQL: the project or the document was deleted meanwhile (a 500)
        with ctx.db.read() as conn:
            require(conn, project_name)  # the project's 404, if it went
        return False  # the document went: the next of the queue is tried
    return None


def release(ctx: Context, holder: str, project_name: str | None = None) -> None:
    """End ``holder``'s leases (of one project, or all): nothing left in its queue, or signed out."""
    with ctx.db.write() as conn:
        project = require(conn, project_name) if project_name is not None else None
        docs_db.release(conn, holder, project["id"] if project is not None else None)


def _candidates(ctx: Context, project_name: str, skipped: set[int], holder: str | None) -> tuple[list[int], bool]:
    """The queue's next ``QUEUE_CHOICES`` documents in order, leaving out ``skipped`` and those another
    session has open; and whether a model ranked them."""
    with ctx.db.read() as conn:
        project = require(conn, project_name)
        leases = docs_db.leased(conn, project["id"], utcnow())
        mine = next((doc_id for doc_id, who in leases.items() if who == holder and doc_id not in skipped), None)
        skipped = skipped | {doc_id for doc_id, who in leases.items() if who != holder}
        model_row = latest_model(conn, project)
        if model_row is None:
            return _own_first(docs_db.spread_untagged_ids(conn, project["id"], skipped, QUEUE_CHOICES), mine), False
        # the thresholds are part of the key: "least certain" is measured against the ones that apply now
        key = (ctx.settings.resolved_database_url, model_row["model_id"], json.dumps(thresholds_of(project["settings"]), sort_keys=True))
        with _queue_lock:
            scores = _queue_scores.setdefault(key, {})
            _queue_scores.move_to_end(key)
            while len(_queue_scores) > 8:
                _queue_scores.popitem(last=False)
            scored = [i for i in scores if i not in skipped]
        ranked = docs_db.untagged_among(conn, project["id"], scored)
        missing: list[int] = []
        if len(ranked) < QUEUE_REFILL:  # maybe time for a new pool: that needs every untagged id
            untagged = [i for i in docs_db.untagged_ids(conn, project["id"]) if i not in skipped]
            with _queue_lock:  # one view of the scores: a pool another thread scored meanwhile is not "missing"
                ranked = [i for i in untagged if i in scores]
                if len(ranked) < min(QUEUE_REFILL, len(untagged)):
                    missing = [i for i in untagged if i not in scores]
            if len(missing) > QUEUE_POOL:
                missing = sorted(random.Random(model_row["model_id"]).sample(missing, QUEUE_POOL))
            texts = docs_db.texts(conn, project["id"], missing)
    if missing:
        with _scoring(key):  # one thread scores a pool; the others wait for it (five pages at once each scored it: 3.3-3.8 s)
            with _queue_lock:
                missing = [i for i in missing if i not in scores]
            if missing:
                model, proba, _ = _predict(ctx, project, model_row, [texts[i] for i in missing])
                with _queue_lock:
                    scores.update(zip(missing, _uncertainty(model, proba, project["settings"]).tolist(), strict=True))
        ranked = [i for i in untagged if i in scores]
    if not ranked:
        return [], False
    return _own_first(heapq.nsmallest(QUEUE_CHOICES, ranked, key=lambda i: (scores[i], i)), mine), True


def _own_first(candidates: list[int], mine: int | None) -> list[int]:
    """``candidates`` with the document the session has open first, when it is one of them: a reload shows it
    again, also when sessions that asked at once took documents further down the queue."""
    return [mine, *(c for c in candidates if c != mine)] if mine in candidates else candidates


_scorers: dict[tuple[str, str, str], threading.Lock] = {}


def _scoring(key: tuple[str, str, str]) -> threading.Lock:
    """The lock of the thread that scores a model's pool (one per queue key, kept as long as its scores)."""
    with _queue_lock:
        for gone in set(_scorers) - set(_queue_scores):
            if not _scorers[gone].locked():
                del _scorers[gone]
        return _scorers.setdefault(key, threading.Lock())


_prefetching: set[tuple[str, str]] = set()


def prefetch(ctx: Context, project_name: str) -> None:
    """Load the newest model and rank the queue in a background thread (the tagging page is then quick).

    The first use of a model after a start pays for importing the ML libraries and loading it.
    """
    key = (ctx.settings.resolved_database_url, project_name)
    with _queue_lock:
        if key in _prefetching:
            return
        _prefetching.add(key)

    def work() -> None:
        try:
            next_in_queue(ctx, project_name)
        except Exception:  # a warm-up that fails changes nothing; the page will say why
            log.debug("prefetch of %s failed", project_name, exc_info=True)
        finally:
            with _queue_lock:
                _prefetching.discard(key)

    threading.Thread(target=work, name="tagwise-prefetch", daemon=True).start()


def _uncertainty(model: Any, proba: np.ndarray, settings: dict[str, Any] | None = None) -> np.ndarray:
    """Smaller = less sure: top-two margin (single-label) or distance of the closest class to the
    threshold it needs now (multi-label: the project's class thresholds and floor applied, as the
    Tag page shows them "needs X%")."""
    if getattr(model, "multi_label", False):
        return np.abs(proba - class_bars(model, *thresholds_of(settings))).min(axis=1)
    if proba.shape[1] < 2:
        return np.ones(proba.shape[0])
    top2 = -np.sort(-proba, axis=1)[:, :2]
    return top2[:, 0] - top2[:, 1]
