"""The tagging page: one document at a time, keyboard first, with the model's suggestion."""

from __future__ import annotations

import json

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from tagwise.core import tagging
from tagwise.errors import InvalidArgument
from tagwise.studio.auth import Session, require_csrf, require_session
from tagwise.studio.filters import Filters
from tagwise.studio.web import StudioRoute, context, query, redirect, render, safe_back

router = APIRouter(prefix="/studio", route_class=StudioRoute)
MAX_SKIP = 200


def _ids(raw: str | None) -> tuple[int, ...]:
    return tuple(int(p) for p in (raw or "").split(",") if p.strip().isdigit())[-MAX_SKIP:]


def _was(raw: str | None) -> list[str] | None:
    """The labels a document had before the last change (for Undo), read back from the URL."""
    try:
        value = json.loads(raw or "null")
    except ValueError:
        return None
    return [str(v) for v in value] if isinstance(value, list) else None


@router.get("/p/{project}/tag", response_class=HTMLResponse)
def tag_page(request: Request, project: str, doc: int | None = None, skip: str = "", back: str = "",
             undo: int | None = None, was: str = "", _s: Session = Depends(require_session)) -> Response:
    filters = Filters.read(request.query_params)
    skipped = _ids(skip)
    view = tagging.tagging_view(context(request), project, doc, filters.to_filter(), skipped)
    return render(request, "tag.html", project=view.project, nav="tag", view=view, filters=filters, query=query,
                  mode="browse" if doc is not None else "queue",
                  back=safe_back(request, back, "") if back else "", skip=",".join(map(str, skipped)),
                  undo=undo, was=_was(was), was_raw=was)


@router.post("/p/{project}/tag")
async def tag(request: Request, project: str, doc: int = Form(...), action: str = Form("save"), then: str = Form("queue"),
              _s: Session = Depends(require_csrf)) -> Response:
    form = await request.form()
    labels = None if action == "untag" else [str(v) for v in form.getlist("label")]
    if action not in ("save", "untag"):
        raise InvalidArgument(f"Unknown action {action!r}.")
    record, previous = tagging.set_labels(context(request), project, doc, labels)
    done = f"{record['location']}: " + (", ".join(labels) if labels else "untagged" if labels is None else "no class")
    undo = {"undo": doc, "was": json.dumps(previous)}
    filters = Filters.read(form)
    base = f"/studio/p/{project}/tag"
    if then == "back":
        return redirect(safe_back(request, str(form.get("back") or ""), f"/studio/p/{project}/data"), f"Tagged {done}.")
    if then == "stay":
        return redirect(base + query(doc=doc, **filters.params()), f"Restored {done}.")
    if then == "next":
        _, following = tagging.neighbours(context(request), project, filters.to_filter(), doc)
        if following is None:
            return redirect(f"/studio/p/{project}/data" + query(**filters.params()), f"Tagged {done}. That was the last document of this list.")
        return redirect(base + query(doc=following, **filters.params(), **undo))
    return redirect(base + query(skip=str(form.get("skip") or ""), **undo))
