"""The tagging page: one document at a time, keyboard first, with the model's suggestion.

Two modes: the **queue** (no ``doc``, or ``queue=1`` to show one of its documents again: the last
tagged, restored or skipped one) and **browsing** a filtered list of the Data page in id order.
The tag forms post the picked classes as ``tag``; ``label`` is the list's class filter.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from tagwise.core import review_queue, tagging
from tagwise.errors import InvalidArgument, NotFound, TagwiseError
from tagwise.studio.auth import Session, lease_holder, require_csrf, require_session
from tagwise.studio.filters import Filters
from tagwise.studio.web import MAX_ID, StudioRoute, context, query, redirect, render, safe_back

router = APIRouter(prefix="/studio", route_class=StudioRoute)
MAX_SKIP = 200


def _ids(raw: str | None) -> tuple[int, ...]:
    return tuple(int(p) for p in (raw or "").split(",") if p.strip().isdigit() and int(p) <= MAX_ID)[-MAX_SKIP:]


def _was(raw: str | None) -> list[str] | None:
    """The labels a document had before the last change (for Undo), read back from the URL."""
    try:
        value = json.loads(raw or "null")
    except ValueError:
        return None
    return [str(v) for v in value] if isinstance(value, list) else None


def _seen(raw: object) -> list[str] | None:
    """The tags a form's page showed (JSON: a list, or null for untagged); absent: nothing to compare."""
    if raw is None:
        return tagging.UNCHECKED
    try:
        value = json.loads(str(raw))
    except ValueError:
        value = False
    if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise InvalidArgument("The form's 'seen' field is not a list of classes: reload the page.")
    return value


@router.get("/p/{project}/tag", response_class=HTMLResponse)
def tag_page(request: Request, project: str, doc: int | None = Query(None, le=MAX_ID), skip: str = "", back: str = "",
             undo: int | None = Query(None, le=MAX_ID), was: str = "", now: str = "", sig: str = "", queue: bool = False,
             last: int | None = Query(None, le=MAX_ID), _s: Session = Depends(require_session)) -> Response:
    """The document to tag; ``undo``, ``was`` and ``now``: the document just tagged, its tags before
    and what the save gave it (JSON), for the Undo bar, signed for this session (``sig``: a link anyone
    made showed "Saved ..." for a save nobody made, and one Backspace retagged the document); ``last``:
    the queue's document tagged before that one, where ← goes once Undo has restored it (← did nothing
    after an Undo, and the next tag went to the restored document)."""
    if undo is not None and not hmac.compare_digest(sig, _undo_signature(_s, undo, was, now)):
        undo = None
    filters = Filters.read(request.query_params)
    skipped = _ids(skip)
    in_queue = doc is None or queue
    # each session has the document it shows to itself: the others' queues hand them other documents
    holder = lease_holder(_s)
    view = tagging.tagging_view(context(request), project, doc, filters.to_filter(), skipped, mismatch=filters.mismatch, holder=holder)
    saved = None
    if undo is not None:  # "Saved." said nothing of which document got which tag: a slip went unnoticed when tagging fast
        try:
            saved = dict(tagging.get_document(context(request), project, undo)[1])
        except TagwiseError:  # deleted since
            saved = None
        if saved is not None and now:  # what this person saved: a colleague's tag since is not Undo's to erase
            saved["labels"] = _was(now)
    if last is not None:  # deleted since: ← led to a 404 page
        try:
            tagging.get_document(context(request), project, last)
        except NotFound:
            last = None
    return render(request, "tag.html", project=view.project, nav="tag", view=view, filters=filters, query=query, saved=saved,
                  mode="queue" if in_queue else "browse", pinned=in_queue and doc is not None,
                  back=safe_back(request, back, "") if back else "", skip=",".join(map(str, skipped)),
                  undo=undo, was=_was(was), was_raw=was, last=last, lease_minutes=review_queue.TAG_LEASE_S // 60)


@router.post("/p/{project}/tag")
async def tag(request: Request, project: str, doc: int = Form(..., le=MAX_ID), action: str = Form("save"), then: str = Form("queue"),
              queue: bool = Form(False), _s: Session = Depends(require_csrf)) -> Response:
    """Save the classes posted as ``tag`` (or make the document untagged), then go where ``then`` says:
    ``queue`` (the next of the queue), ``next`` (the next of the browsed list), ``back`` (the ``back`` page),
    ``stay`` or ``undo`` (this document again, in the queue with ``queue``)."""
    form = await request.form()
    # the store's work (and the next document's lookup) runs in the thread pool, as in a def route
    return await run_in_threadpool(_tag, request, project, doc, action, then, queue, form, _s)


@router.post("/p/{project}/tag/right")
def tag_is_right(request: Request, project: str, doc: int = Form(..., le=MAX_ID), location: str = Form(...), seen: str = Form(...),
                 back: str = Form(""), row: str = Form(""), undo: bool = Form(False), _s: Session = Depends(require_csrf)) -> Response:
    """The Evaluate page's "Tag is right" on a flag of the tag check (``undo``: take it back): the
    check lists the document no more while it keeps these tags. Back to the page, at the next row
    (a refusal: at this one, shown as it is now)."""
    try:
        record = tagging.confirm_tags(context(request), project, doc, location=location, seen=_seen(seen), by=_s.key_name, keep=not undo)
    except (tagging.TagChanged, InvalidArgument, NotFound) as exc:
        if isinstance(exc, NotFound) and exc.target != "document":
            raise
        return _back_to_row(request, back, row, f"/studio/p/{project}/evaluate", exc)
    done = (f"{record['location']} is listed again by the next check." if undo else
            f"Kept {record['location']} as {tagging.shown_labels(record['labels'])}: the next check does not list it while it keeps "
            "this tag.")
    return redirect(safe_back(request, back, f"/studio/p/{project}/evaluate"), done)


def _back_to_row(request: Request, back: str, row: str, default: str, refused: TagwiseError) -> Response:
    """A refused fix on the Evaluate page: back to that page at the row refused, with why (a save goes on
    to the next row; a refusal landed there too, the refused one out of sight)."""
    if re.fullmatch(r"#[\w-]+", row):
        back = back.split("#")[0] + row
    return redirect(safe_back(request, back, default), refused.message, "error")


def _undo_signature(session: Session, doc: int, was: str, now: str) -> str:
    """The Undo bar's parameters signed with the session's own secret (its CSRF token)."""
    return hmac.new(session.csrf.encode(), f"{doc}\n{was}\n{now}".encode(), hashlib.sha256).hexdigest()[:32]


def _tag(request: Request, project: str, doc: int, action: str, then: str, queue: bool, form: FormData, session: Session) -> Response:
    who = session.key_name
    labels = None if action == "untag" else [str(v) for v in form.getlist("tag")]
    if action not in ("save", "untag"):
        raise InvalidArgument(f"Unknown action {action!r}.")
    filters = Filters.read(form)
    skip = str(form.get("skip") or "")
    last = (_ids(str(form.get("last") or "")) or (None,))[-1]  # the queue's document tagged before this one
    base = f"/studio/p/{project}/tag"
    location = form.get("location")
    try:
        if location is None or form.get("seen") is None:
            # every tagging form says which document it showed and its tags then; one that does not is a page from before
            # an upgrade (its session carries over), which tagged the document that took a deleted one's id, and
            # overwrote a colleague's newer tag, unchecked
            raise tagging.TagChanged("This page does not say which document and tags it showed (it was opened before tagwise "
                                     "was upgraded?). Nothing was saved: the document is shown as it is now; save again.")
        record, previous = tagging.set_labels(context(request), project, doc, labels, location=str(location),
                                              seen=_seen(form.get("seen")), by=who)
    except (tagging.TagChanged, InvalidArgument, NotFound) as exc:  # changed since the page showed it: said, and nothing saved
        if isinstance(exc, NotFound) and exc.target != "document":
            raise
        if then == "back":  # the Evaluate page's fix buttons: back to that page, which shows the tag as it is now
            return _back_to_row(request, str(form.get("back") or ""), str(form.get("row") or ""), f"/studio/p/{project}/data", exc)
        in_queue = queue or then == "queue"
        if isinstance(exc, NotFound):  # gone: on to the queue, or back to the list browsed
            return redirect(base + query(skip=skip) if in_queue else f"/studio/p/{project}/data" + query(**filters.params()),
                            exc.message, "error")
        # the same document again, as it is now (its tags, the classes): a second save is a choice, made seeing them
        again = query(doc=doc, queue=1, skip=skip) if in_queue else query(doc=doc, back=str(form.get("back") or ""), **filters.params())
        return redirect(base + again, exc.message, "error")
    done = f"{record['location']}: " + (", ".join(labels) if labels else "untagged" if labels is None else "no class")
    # the Undo bar restores ``was`` only while the document still has ``now``, what this save gave it
    undo = {"undo": doc, "was": json.dumps(previous), "now": json.dumps(labels)}
    undo["sig"] = _undo_signature(session, doc, undo["was"], undo["now"])
    if then == "back":
        return redirect(safe_back(request, str(form.get("back") or ""), f"/studio/p/{project}/data"), f"Tagged {done}.")
    if then in ("stay", "undo"):
        message = f"Restored {done}." if then == "undo" else f"Marked {record['location']} untagged." if labels is None else f"Tagged {done}."
        if queue:
            return redirect(base + query(doc=doc, queue=1, skip=skip, last=last), message)
        return redirect(base + query(doc=doc, back=str(form.get("back") or ""), **filters.params()), message)
    if then == "next":
        _, following = tagging.neighbours(context(request), project, filters.to_filter(), doc, mismatch=filters.mismatch)
        if following is None:
            return redirect(f"/studio/p/{project}/data" + query(**filters.params()), f"Tagged {done}. That was the last document of this list.")
        return redirect(base + query(doc=following, **filters.params(), **undo))
    return redirect(base + query(skip=skip, last=last, **undo))
