"""A project's documents in the studio: add them, tag them, page through them, and the Tag page's view.

The web studio calls these; they know nothing of HTTP. Every write is one ``ctx.db.write()``
transaction. Lists are filtered and paged in SQL (``tagwise.storage.document_records``). The
classes themselves (add, rename, merge, delete) are ``schema``'s.

What a trained model adds lives beside this module: ``review_queue`` (suggestions and what to
tag next), ``label_issues`` (tags that look wrong), ``model_results`` (a model's mispredictions)
and ``readiness`` (the overview and whether the project is ready to train).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from tagwise.core.context import Context
from tagwise.core.documents import chosen_ids, document_language
from tagwise.core.model_results import latest_model, mispredictions
from tagwise.core.projects import check_quota, new_project_values, require
from tagwise.core.review_queue import TAG_LEASE_S, Suggestion, next_in_queue, suggest, take
from tagwise.core.schema import check_class_limit, how_twins_differ, same_but_case, touch
from tagwise.core.validation import (
    MULTI,
    check_class_name,
    check_drawn_as_written,
    check_location,
    check_name,
    check_text,
    class_form,
    listed,
)
from tagwise.errors import Conflict, InvalidArgument, NotFound
from tagwise.storage import document_records as docs_db
from tagwise.storage import records
from tagwise.storage.document_records import DocumentFilter
from tagwise.storage.records import as_utc, utcnow

DATASETS = ("Train", "Test")

__all__ = [
    "DocumentPage", "TaggingView", "add_documents", "confirm_tags", "confirmed_tags", "create_project", "current_tags",
    "get_document", "is_test_set", "list_documents", "neighbours", "set_dataset", "set_labels", "taggers", "tagging_view",
]


# -- projects -------------------------------------------------------------------------------

def create_project(ctx: Context, name: str, kind: str, language: str, description: str | None = None, *,
                   multilingual: bool = False) -> dict[str, Any]:
    """Create a project (never touches an existing one, unlike the API's merge-patch)."""
    check_name(name, "project")
    body = {"projectKind": kind, "language": language, "storageInputContainerName": name, "description": description or None,
            "multilingual": multilingual}
    taken = Conflict(f"A project named {name} already exists; pick another name.")
    with ctx.db.write() as conn:
        if records.get_project(conn, name) is not None:
            raise taken
        check_quota(ctx, conn)
        values = new_project_values(ctx, conn, name, body)
        now = utcnow()
        values.update(created_at=now, modified_at=now)
        try:
            with conn.begin_nested():
                records.insert_project(conn, values)
        except IntegrityError:  # PostgreSQL: another request created it since the look above (a 500)
            raise taken from None
        return records.get_project(conn, name)


# -- documents ------------------------------------------------------------------------------

def add_documents(ctx: Context, project_name: str, items: list[dict[str, Any]], *, prefix: str = "doc",
                  skip_existing: bool = False) -> dict[str, Any]:
    """Append documents (all or nothing). Each item: ``text``, optional ``location``, ``labels``, ``dataset``.

    Items without a location get ``<prefix>-<n>.txt``. Classes a tagged item uses that the
    project lacks are added to it. Returns ``{"added": n, "classesAdded": [...], "noClass": n,
    "untagged": n}`` (``noClass``: tagged with no class, multi-label) and ``"copies"``: how many
    of them have the text of a document the project had already (a file uploaded twice adds its
    documents twice, numbered on). ``skip_existing``: items whose location the project has are
    left out before anything else is checked (``"skipped"`` counts them) instead of refusing the
    upload, for a new export of the same tickets.
    """
    if not items:
        raise InvalidArgument("The upload has no documents.")
    limit = ctx.settings.max_document_characters
    with ctx.db.read() as conn:  # before the write, outside its lock: a note, not a rule
        present = docs_db.texts_present(conn, require(conn, project_name)["id"],
                                        [t for t in (item.get("text") for item in items) if isinstance(t, str)])
    with ctx.db.write() as conn:
        project = require(conn, project_name, lock=True)
        skipped = 0
        if skip_existing:
            named = [str(item["location"]) for item in items if item.get("location")]
            if taken := docs_db.existing_locations(conn, project["id"], named):
                kept = [item for item in items if not item.get("location") or str(item["location"]) not in taken]
                skipped, items = len(items) - len(kept), kept
        multi = project["kind"] == MULTI
        classes = list(project["classes"])
        known = set(classes)
        start = docs_db.locations_with_prefix(conn, project["id"], f"{prefix}-")
        rows, seen, new_classes = [], set(), []
        for index, item in enumerate(items):
            location = item.get("location") or f"{prefix}-{start + index + 1:06d}.txt"
            check_drawn_as_written(check_location(location), "location")
            if location in seen:
                raise InvalidArgument(f"The document {location!r} appears twice in the upload.", target=location)
            seen.add(location)
            text = check_text(item.get("text"), location, limit)
            labels = _clean_labels(item.get("labels"), multi, location)
            for label in labels or []:
                if label not in known:
                    check_drawn_as_written(check_class_name(label), "class")
                    if twin := same_but_case(classes, label):
                        raise InvalidArgument(f"{location}: the class {label!r} differs from the project's {twin!r} only in "
                                              f"{how_twins_differ(twin, label)}; write it {twin!r} (classes that look the same are "
                                              "one class to a reader, and two to the model).", target=location)
                    known.add(label)
                    classes.append(label)
                    new_classes.append(label)
                    check_class_limit(ctx, classes)  # at once: a file can name thousands of classes
            language = document_language(item.get("language"), location)  # none: the project's, whatever it is then
            rows.append({"location": location, "text": text, "language": language,
                         "dataset": _dataset(item.get("dataset")), "labels": labels})
        if taken := docs_db.existing_locations(conn, project["id"], [r["location"] for r in rows]):
            raise Conflict(f"{len(taken):,} document(s) already exist in {project_name}: {listed(sorted(taken), 5)}. Remove them from the upload, or "
                           "upload again with \"Skip documents the project already has\" ticked to add only the new ones.")
        check_class_limit(ctx, classes)
        docs_db.insert_many(conn, project["id"], rows)
        touch(conn, project, classes if new_classes else None)
    return {"added": len(rows), "classesAdded": new_classes, "noClass": sum(1 for r in rows if r["labels"] == []),
            "untagged": sum(1 for r in rows if r["labels"] is None), "copies": sum(1 for r in rows if r["text"] in present),
            "skipped": skipped}


def _clean_labels(raw: Any, multi: bool, location: str) -> list[str] | None:
    if raw is None or raw == "":
        return None
    labels = [raw] if isinstance(raw, str) else list(raw)
    labels = [class_form(str(label).strip()) for label in labels if str(label).strip()]
    if not labels:
        return [] if multi else None
    if not multi and len(set(labels)) > 1:
        raise InvalidArgument(f"The document {location!r} has {len(labels)} classes; this project is single-label.", target=location)
    return list(dict.fromkeys(labels))


def _dataset(value: Any) -> str | None:
    if value in (None, "", "none"):
        return None
    if isinstance(value, str) and value.capitalize() in DATASETS:
        return value.capitalize()
    raise InvalidArgument(f"The dataset {value!r} is unknown; use Train, Test or leave it empty.", target="dataset")


def get_document(ctx: Context, project_name: str, doc_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """(project, document)."""
    with ctx.db.read() as conn:
        project = require(conn, project_name)
        doc = docs_db.get(conn, project["id"], doc_id)
    if doc is None:
        raise NotFound(f"The document {doc_id} could not be found in project {project_name}.", target="document")
    return project, doc


ACTIVE_S = 120  # a person whose Tag page took a document this lately counts as tagging now
UNCHECKED: Any = object()  # set_labels' ``seen`` when the caller showed nothing to compare with


class TagChanged(Conflict):
    """Someone changed a document's tags after the page that saves them showed them."""


def set_labels(ctx: Context, project_name: str, doc_id: int, labels: list[str] | None, *, location: str | None = None,
               seen: list[str] | None = UNCHECKED, by: str | None = None) -> tuple[dict[str, Any], list[str] | None]:
    """Tag one document (``None`` makes it untagged again). Returns (document, its previous labels).
    ``by``: who tags it (their API key's name), kept with the time, as the Tag and Data pages show.

    A page that shows a document before tagging it passes what it showed, so that several people
    tagging one project do not overwrite each other's work unseen: ``location``, the document's name
    (SQLite gives a deleted document's id to the next document, and a page open on it tagged a text
    nobody had seen), and ``seen``, its labels then (``None``: untagged). When they no longer match,
    nothing is saved: :class:`NotFound` (deleted or replaced) or :class:`TagChanged` (tagged since).
    """
    with ctx.db.write() as conn:
        project = require(conn, project_name, lock=True)
        doc = _as_shown(conn, project, doc_id, location, "Nothing was saved.")
        changed_since = seen is not UNCHECKED and not same_labels(doc["labels"], seen)
        if changed_since and not _sent_again(doc, labels, project, by):
            raise _tagged_since(doc, seen, project, "Nothing was saved: it is shown again as it is now; save again to change that.")
        if changed_since:  # the same save sent twice (a double click): the first one did it; Undo restores what the page showed
            return doc, seen
        if labels is not None:
            labels = _spelled(labels, project)
            unknown = [label for label in labels if label not in project["classes"]]
            if unknown:
                raise InvalidArgument(f"{', '.join(map(repr, unknown))} is not a class of {project_name}: renamed, merged or deleted "
                                      "since this page was opened? Nothing was saved; pick from the classes shown now.")
            labels = list(dict.fromkeys(labels))
            if project["kind"] != MULTI and len(labels) != 1:
                raise InvalidArgument("A single-label document takes exactly one class.")
        now = utcnow() if labels is not None else None
        docs_db.set_labels(conn, project["id"], doc_id, labels, by if labels is not None else None, now)
        touch(conn, project)
    return dict(doc, labels=labels, tagged_by=by if labels is not None else None, tagged_at=now), doc["labels"]


def _as_shown(conn: Any, project: dict[str, Any], doc_id: int, location: str | None, nothing: str) -> dict[str, Any]:
    """The document ``doc_id``, locked, if it is still the one a page showed at ``location`` (SQLite gave a
    deleted document's id to the next one); else :class:`NotFound` (deleted or replaced), ``nothing`` said."""
    doc = docs_db.get(conn, project["id"], doc_id, lock=True)
    if doc is None or (location is not None and doc["location"] != location):
        what = location or f"The document {doc_id}"
        raise NotFound(f"{what} could not be found in project {project['name']}: deleted since this page was opened, or replaced "
                       f"by an import. {nothing}", target="document")
    return doc


def _tagged_since(doc: dict[str, Any], seen: list[str] | None, project: dict[str, Any], nothing: str) -> TagChanged:
    """Why a page's save was refused: someone tagged the document since, or a class it showed was renamed,
    merged or deleted (said as a tag by "someone else", though nobody had tagged anything)."""
    gone = [label for label in seen or [] if label not in project["classes"]]
    if gone:
        return TagChanged(f"The class {', '.join(map(repr, gone))} of {doc['location']} was renamed, merged or deleted since this page "
                          f"showed it; the document is tagged {shown_labels(doc['labels'])} now. {nothing}")
    who = f" by {doc['tagged_by']}" if doc["tagged_by"] and doc["labels"] is not None else ""
    return TagChanged(f"{doc['location']} was tagged {shown_labels(doc['labels'])}{who} since this page showed it "
                      f"{shown_labels(seen)}{'' if who else ' (someone else is tagging too?)'}. {nothing}")


SENT_AGAIN_S = 10  # how soon after a save the same save from the same key is its twin, not a stale page's


def _sent_again(doc: dict[str, Any], labels: list[str] | None, project: dict[str, Any], by: str | None) -> bool:
    """Whether the document got ``labels`` from ``by`` moments ago: a save whose twin (a double click
    on "Use suggestion", a form sent again) got there first. It was refused as tagged since, naming
    the person who sent both, though their tag was saved. Only moments ago: people sharing a key, or
    an old page, still hear of a tag saved since."""
    if labels is None or doc["labels"] is None or doc["tagged_by"] != by or doc["tagged_at"] is None:
        return False
    if (utcnow() - as_utc(doc["tagged_at"])).total_seconds() > SENT_AGAIN_S:
        return False
    return same_labels(doc["labels"], list(dict.fromkeys(_spelled(labels, project))))


def _spelled(labels: list[str], project: dict[str, Any]) -> list[str]:
    """``labels`` as the project's classes spell them (the composed form of a decomposed accent)."""
    return [label if label in project["classes"] else class_form(label) for label in labels]


def same_labels(a: list[str] | None, b: list[str] | None) -> bool:
    """Whether two tags are one: both untagged, or the same classes in any order."""
    return (a is None) == (b is None) and sorted(a or []) == sorted(b or [])


def shown_labels(labels: list[str] | None) -> str:
    """A document's tag in a sentence: ``'Major'``, ``'joy', 'love'``, "no class" or "untagged"."""
    return "untagged" if labels is None else ", ".join(map(repr, labels)) if labels else "no class"


def set_dataset(ctx: Context, project_name: str, dataset: str | None, *, ids: list[int] | None = None,
                flt: DocumentFilter | None = None, matching: str | None = None) -> int:
    """Put the given documents (or every document matching ``flt``; ``matching``: while they are the list
    the user saw, :func:`documents.chosen_ids`) in Train, Test or neither."""
    dataset = _dataset(dataset)
    with ctx.db.write() as conn:
        project = require(conn, project_name, lock=True)
        changed = docs_db.set_dataset(conn, project["id"], chosen_ids(conn, project["id"], ids, flt, matching), dataset)
        touch(conn, project)
    return changed


def keep_test_set(ctx: Context, project_name: str, model_label: str) -> dict[str, int]:
    """Make a trained model's test documents the project's Test set, so models trained next with the
    manual split ("each document's Train/Test set") are scored on the same documents and can be
    compared fairly. Documents in Test that were not in the model's test set move to Train; the rest
    keep their assignment (unassigned counts as Train in the manual split).

    Returns ``test`` (documents now in Test), ``gone`` (test documents deleted or renamed since the
    training) and ``to_train`` (documents moved out of Test)."""
    with ctx.db.write() as conn:
        project = require(conn, project_name, lock=True)
        model = records.get_model(conn, project["id"], model_label)
        if model is None:
            raise NotFound(f"The trained model {model_label} could not be found in project {project_name}.", target="model")
        locations = [r["location"] for r in model["evaluation_results"] or []]
        test_ids = {d["id"] for d in docs_db.by_locations(conn, project["id"], locations, with_text=False).values()}
        in_test = set(docs_db.matching_ids(conn, project["id"], DocumentFilter(dataset="Test")))
        to_train = docs_db.set_dataset(conn, project["id"], sorted(in_test - test_ids), "Train")
        docs_db.set_dataset(conn, project["id"], sorted(test_ids - in_test), "Test")
        touch(conn, project)
    return {"test": len(test_ids), "gone": len(locations) - len(test_ids), "to_train": to_train}


def is_test_set(ctx: Context, project_name: str, model: dict[str, Any]) -> bool:
    """Whether the project's Test set is exactly ``model``'s test documents (:func:`keep_test_set`
    done): the Evaluate page offered to keep them again after it had."""
    locations = [r["location"] for r in model.get("evaluation_results") or []]
    with ctx.db.read() as conn:
        project = require(conn, project_name)
        still = docs_db.by_locations(conn, project["id"], locations, with_text=False)  # test documents deleted since cannot be kept
        in_test = set(docs_db.matching_ids(conn, project["id"], DocumentFilter(dataset="Test")))
    return bool(still) and in_test == {d["id"] for d in still.values()}


@dataclass(frozen=True)
class DocumentPage:
    items: list[dict[str, Any]]
    total: int
    page: int
    page_size: int
    predicted: dict[str, list[str]] = field(default_factory=dict)  # location -> labels, when filtering mismatches
    compared_with: str | None = None  # when filtering mismatches: the label of the model whose test set was read (None: no model)
    digest: str = ""  # of every matching document's id: the list "all N matching" acts on (check_still_matching)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


def taggers(ctx: Context, project_name: str) -> list[str]:
    """Who tagged documents of the project in the studio (their API keys' names), for the Data page's filter."""
    with ctx.db.read() as conn:
        return docs_db.taggers(conn, require(conn, project_name)["id"])


def list_documents(ctx: Context, project_name: str, flt: DocumentFilter, *, page: int = 1, page_size: int = 50,
                   mismatch: bool = False) -> DocumentPage:
    """A page of documents. ``mismatch``: only those the newest model predicted differently from their tag."""
    page = max(page, 1)
    with ctx.db.read() as conn:
        project = require(conn, project_name)
        predicted: dict[str, list[str]] = {}
        compared_with = None
        if mismatch:
            flt, predicted, compared_with = _mismatched(conn, project, flt)
        items, total, digest = docs_db.page(conn, project["id"], flt, page_size, (page - 1) * page_size)
    return DocumentPage(items, total, page, page_size, predicted, compared_with, digest)


def matching_documents(ctx: Context, project_name: str, flt: DocumentFilter, *, mismatch: bool = False,
                       batch: int = 2_000) -> Iterator[dict[str, Any]]:
    """Every document a list shows (the same filters), whole, in id order: read ``batch`` at a time,
    each batch in a read of its own, so a download of 100,000 documents holds neither the store nor
    its rows in memory."""
    with ctx.db.read() as conn:
        project = require(conn, project_name)
        if mismatch:
            flt = _mismatched(conn, project, flt)[0]
    after = 0
    while True:
        with ctx.db.read() as conn:
            rows = docs_db.matching_after(conn, project["id"], flt, after, batch)
        yield from rows
        if len(rows) < batch:
            return
        after = rows[-1]["id"]


def _mismatched(conn, project: dict[str, Any], flt: DocumentFilter) -> tuple[DocumentFilter, dict[str, list[str]], str | None]:
    """``flt`` narrowed to the documents the newest model mispredicted in its evaluation, their
    predictions, and that model's label (None when the project has no model)."""
    model = latest_model(conn, project)
    predicted = {m["location"]: m["predicted"] for m in mispredictions(model)} if model else {}
    return DocumentFilter(**{**flt.__dict__, "locations": tuple(predicted)}), predicted, model["label"] if model else None


def current_tags(ctx: Context, project_name: str, ids: list[int]) -> dict[int, tuple[list[str] | None, str | None]]:
    """id -> (labels, Train/Test set) now, for documents listed from an earlier computation."""
    with ctx.db.read() as conn:
        project = require(conn, project_name)
        return docs_db.tags_of(conn, project["id"], ids)


def confirm_tags(ctx: Context, project_name: str, doc_id: int, *, location: str, seen: list[str] | None, by: str | None,
                 keep: bool = True) -> dict[str, Any]:
    """Mark a document's tags right (``keep=False``: take that back), as a person judged a flag of the
    tag check: the next check lists it no more while its tags stay those it has now. ``location`` and
    ``seen`` are what the page showed, checked as :func:`set_labels` checks them (deleted or replaced:
    :class:`NotFound`; tagged otherwise since: :class:`TagChanged`, and nothing is marked)."""
    with ctx.db.write() as conn:
        project = require(conn, project_name, lock=True)
        doc = _as_shown(conn, project, doc_id, location, "Nothing was marked.")
        if not same_labels(doc["labels"], seen):
            raise _tagged_since(doc, seen, project, "Nothing was marked: its row shows it as it is now.")
        if keep:
            if doc["labels"] is None:
                raise InvalidArgument(f"{doc['location']} is untagged: there is no tag to mark right.")
            docs_db.confirm(conn, project["id"], doc_id, doc["labels"], by, utcnow())
        else:
            docs_db.unconfirm_many(conn, project["id"], [doc_id])
    return doc


def unmark_tags(ctx: Context, project_name: str, *, ids: list[int] | None = None, flt: DocumentFilter | None = None,
                matching: str | None = None) -> int:
    """Take back "tag is right" for the given documents (or every document matching ``flt``, while
    ``matching`` the list the user saw): the next tag check may list them again. How many marks went
    (a mark made by mistake could be undone only by retagging the document)."""
    with ctx.db.write() as conn:
        project = require(conn, project_name, lock=True)
        return docs_db.unconfirm_many(conn, project["id"], chosen_ids(conn, project["id"], ids, flt, matching))


def confirmed_tags(ctx: Context, project_name: str, ids: list[int]) -> dict[int, list[str]]:
    """id -> the tags (sorted) someone marked right, of those of ``ids`` whose tags are still those."""
    with ctx.db.read() as conn:
        project = require(conn, project_name)
        return docs_db.confirmed(conn, project["id"], ids)


def neighbours(ctx: Context, project_name: str, flt: DocumentFilter, doc_id: int, *,
               mismatch: bool = False) -> tuple[int | None, int | None]:
    """(previous, next) document ids around ``doc_id`` among those matching ``flt`` (and mispredicted, with ``mismatch``)."""
    with ctx.db.read() as conn:
        project = require(conn, project_name)
        if mismatch:
            flt = _mismatched(conn, project, flt)[0]
        return (docs_db.neighbour(conn, project["id"], flt, doc_id, after=False),
                docs_db.neighbour(conn, project["id"], flt, doc_id, after=True))


@dataclass(frozen=True)
class TaggingView:
    """What the tagging page shows: the document, the model's suggestion and where to go next."""

    project: dict[str, Any]
    doc: dict[str, Any] | None
    suggestion: Suggestion | None
    previous: int | None
    next: int | None
    ranked: bool            # the document came from the uncertainty queue
    tagged: int
    total: int
    others: int = 0         # other studio sessions whose Tag page took a document of the project lately (ACTIVE_S)
    held_untagged: int = 0  # untagged documents those sessions have open (the queue leaves them out)
    open_elsewhere: bool = False  # this document is open on another session's Tag page


def tagging_view(ctx: Context, project_name: str, doc_id: int | None = None, flt: DocumentFilter | None = None,
                 skip: tuple[int, ...] = (), *, mismatch: bool = False, holder: str | None = None) -> TaggingView:
    """A given document (browsing ``flt`` in id order, only the mispredicted ones with ``mismatch``), or the
    next one of the queue when ``doc_id`` is None. ``holder``: the studio session that will show it, which
    then has it open (``review_queue.take``): the other sessions' queues leave it out."""
    ranked, from_queue = False, doc_id is None
    if from_queue:
        doc_id, ranked = next_in_queue(ctx, project_name, skip, holder)
    with ctx.db.read() as conn:
        project = require(conn, project_name)
        if mismatch:
            flt = _mismatched(conn, project, flt or DocumentFilter())[0]
        status = docs_db.status_counts(conn, project["id"])
        doc = docs_db.get(conn, project["id"], doc_id) if doc_id is not None else None
        previous = following = None
        if doc is not None and not ranked:
            previous = docs_db.neighbour(conn, project["id"], flt or DocumentFilter(), doc["id"], after=False)
            following = docs_db.neighbour(conn, project["id"], flt or DocumentFilter(), doc["id"], after=True)
        # "N others are tagging": those whose page took a document lately, not whoever left a page open minutes ago
        now = utcnow()
        lately = now + timedelta(seconds=TAG_LEASE_S - ACTIVE_S)
        held = docs_db.open_leases(conn, project["id"], now, besides=holder, lately=lately) if holder is not None else {}
        held_untagged = len(docs_db.untagged_among(conn, project["id"], list(held))) if held and doc is None else 0
        others = len({who for who, recent in held.values() if recent})
    if doc_id is not None and doc is None:
        raise NotFound(f"The document {doc_id} could not be found in project {project_name}.", target="document")
    open_elsewhere = doc is not None and not from_queue and doc["id"] in held
    if doc is not None and holder is not None and not from_queue and not open_elsewhere:  # a document asked for by its id
        take(ctx, project_name, doc["id"], holder)
    suggestion = suggest(ctx, project, doc) if doc is not None else None
    tagged = sum(n for (is_tagged, _), n in status.items() if is_tagged)
    return TaggingView(project, doc, suggestion, previous, following, ranked, tagged, sum(status.values()),
                       others=others, held_untagged=held_untagged, open_elsewhere=open_elsewhere)
