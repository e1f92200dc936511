"""The Compare page: two trained models of a project side by side, reached from the Evaluate page."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from tagwise.core import comparison
from tagwise.core.uncertainty import CHANCE_LEVEL
from tagwise.studio.auth import Session, require_charged_session
from tagwise.studio.web import StudioRoute, context, query, render

router = APIRouter(prefix="/studio", route_class=StudioRoute)
SORTS = ("change", "name")


@router.get("/p/{project}/compare", response_class=HTMLResponse)
def compare(request: Request, project: str, a: str = "", b: str = "", sort: str = "change", at: float | None = Query(None, ge=0, lt=1, allow_inf_nan=False),
            now: bool = False, _s: Session = Depends(require_charged_session)) -> Response:
    """Model b against model a; without them, the newest model against the one before it. ``at``:
    both single-label models re-scored at that confidence threshold (two trained at different
    thresholds could not be judged: every change read "other thresholds"); ``now``: both multi-label
    models re-scored with the project's thresholds now."""
    details = comparison.load(context(request), project, a or None, b or None, at=at, now=now)
    sort = sort if sort in SORTS else "change"
    result = details["comparison"]
    picked = {"a": result.a.label, "b": result.b.label} if result else {}
    if details["rescored"] and at is not None:
        picked["at"] = str(at)  # 0 (no threshold) is a value here
    elif details["rescored"]:
        picked["now"] = "1"
    here = str(request.url.path) + query(**picked, sort=None if sort == "change" else sort)
    return render(request, "compare.html", project=details["project"], nav="evaluate", details=details, result=result,
                  picked=picked, sort=sort, query=query, here=here, chance_level=CHANCE_LEVEL)
