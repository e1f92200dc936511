"""Sign-in, the project list, a project's overview and its class schema."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from tagwise.api.errors import retry_headers, status_for
from tagwise.core import projects, readiness, review_queue, schema, tagging
from tagwise.core.percentfmt import percent
from tagwise.core.validation import MULTI, SINGLE
from tagwise.errors import Conflict, InvalidArgument, NotFound, TagwiseError
from tagwise.studio import auth
from tagwise.studio.auth import Session, require_csrf, require_session
from tagwise.studio.web import StudioRoute, context, redirect, refused, render, sign_in_url, studio_path

router = APIRouter(prefix="/studio", route_class=StudioRoute)


@router.get("", response_class=HTMLResponse)
def home(request: Request, next_page: str = Query("", alias="next")) -> Response:
    """The project list, or the sign-in page (leading back to ``next``) for a visitor who is not signed in."""
    if auth.session(request) is None:
        return _login_page(request, _next(request, next_page))
    return _projects_page(request)


def _login_page(request: Request, back: str | None, status_code: int = 200, **values) -> Response:
    token = auth.login_token(request)
    response = render(request, "login.html", status_code=status_code, login_token=token, next=back or "", **values)
    auth.remember_login_token(request, response, token)
    return response


def _projects_page(request: Request, status_code: int = 200, **values) -> Response:
    return render(request, "projects.html", status_code=status_code, projects=projects.list_all(context(request)),
                  kinds={SINGLE: "Single-label", MULTI: "Multi-label"}, **values)


def _next(request: Request, value: str) -> str | None:
    """Where to go once signed in: a studio page (the project list or a project's), never elsewhere."""
    path = studio_path(request, value)
    return path if path and (path == "/studio" or path.startswith("/studio/p/")) else None


@router.post("/login")
async def login(request: Request, key: str = Form(""), token: str = Form(""), next_page: str = Form("", alias="next")) -> Response:
    back = _next(request, next_page)
    if not auth.login_token_matches(request, token):
        return redirect(sign_in_url(back), "The sign-in form expired; please try again.", "error")
    try:
        signed_in = auth.sign_in_key(request, key)
    except TagwiseError as exc:  # the page again, the message tied to the key field (which is not filled in again)
        page = _login_page(request, back, status_for(exc), invalid=refused(exc, "key"))
        page.headers.update(retry_headers(exc))  # too many wrong keys from this address: when to try again
        return page
    response = redirect(back or "/studio")
    auth.start_session(request, response, signed_in)
    return response


@router.post("/logout")
def logout(request: Request, _s: Session = Depends(require_csrf)) -> Response:
    response = redirect("/studio", "Signed out.")
    review_queue.release(context(request), auth.lease_holder(_s))  # the document open on their Tag page goes back to the others
    auth.end_session(request, response)
    return response


@router.post("/projects")
def create_project(request: Request, name: str = Form(""), kind: str = Form(SINGLE), language: str = Form("en"),
                   description: str = Form(""), multilingual: bool = Form(False), _s: Session = Depends(require_csrf)) -> Response:
    try:
        project = tagging.create_project(context(request), name.strip(), kind, language.strip() or "en", description.strip(),
                                         multilingual=multilingual)
    except (InvalidArgument, Conflict) as exc:  # the form again, as typed, the field to change marked
        typed = {"name": name, "kind": kind, "language": language, "description": description, "multilingual": multilingual}
        field = "language" if exc.target == "language" else "name"
        return _projects_page(request, status_for(exc), typed=typed, invalid=refused(exc, field))
    return redirect(f"/studio/p/{project['name']}", f"Project {project['name']} created. Next: add classes, or upload tagged data.")


@router.post("/p/{project}/delete")
def delete_project(request: Request, project: str, confirm: str = Form(""), _s: Session = Depends(require_csrf)) -> Response:
    if confirm.strip() != project:
        return redirect("/studio", f"Type the project name {project} to confirm deleting it.", "error")
    projects.delete(context(request), project)
    return redirect("/studio", f"Project {project} deleted with its documents, models and deployments.")


@router.get("/p/{project}", response_class=HTMLResponse)
def overview(request: Request, project: str, _s: Session = Depends(require_session)) -> Response:
    view = readiness.overview(context(request), project)
    if view["models"] and view["untagged"]:
        review_queue.prefetch(context(request), project)  # warm the model and the tagging queue in the background
    return render(request, "overview.html", project=view["project"], nav="overview", view=view)


@router.get("/p/{project}/schema", response_class=HTMLResponse)
def schema_page(request: Request, project: str, _s: Session = Depends(require_session)) -> Response:
    return _schema_page(request, project)


def _schema_page(request: Request, project: str, status_code: int = 200, **values) -> Response:
    view = readiness.overview(context(request), project)
    return render(request, "schema.html", status_code=status_code, project=view["project"], nav="schema", view=view, **values)


@router.post("/p/{project}/language")
def set_language(request: Request, project: str, language: str = Form(""), multilingual: bool = Form(False),
                 _s: Session = Depends(require_csrf)) -> Response:
    """The project's language and whether its documents come in several: what the next training
    embeds with (models already trained keep their encoder)."""
    from tagwise.core import training
    from tagwise.ml.encoder import is_english  # what the training chooses its encoder by

    code = projects.upsert(context(request), project, {"language": language.strip() or "en", "multilingual": multilingual})[0]["language"]
    # by the training's own rule: documents that declare other languages make it multilingual too
    english = is_english(training.next_encoder_language(context(request), project))
    encoder = "the English sentence encoder" if english else "the multilingual sentence encoder"
    return redirect(f"/studio/p/{project}/schema", f"Language {code}{', several languages' if multilingual else ''}: "
                                                   f"the next training uses {encoder}; trained models keep theirs.")


@router.post("/p/{project}/classes/add")
def add_class(request: Request, project: str, name: str = Form(""), _s: Session = Depends(require_csrf)) -> Response:
    try:
        schema.add_class(context(request), project, name)
    except (InvalidArgument, Conflict) as exc:
        return _schema_page(request, project, status_for(exc), typed={"name": name}, invalid=refused(exc, "new-class"))
    # back at the name box, for the next class (focus was at the top: 12 Tabs to it again)
    return redirect(f"/studio/p/{project}/schema#new-class", f"Class {name.strip()} added.")


@router.post("/p/{project}/classes/rename")
def rename_class(request: Request, project: str, old: str = Form(""), new: str = Form(""), merge: str = Form(""),
                 _s: Session = Depends(require_csrf)) -> Response:
    merging = bool(merge) and new.strip() in projects.get(context(request), project)["classes"]
    served = schema.served_by_name(context(request), project, old)
    try:
        changed = schema.rename_class(context(request), project, old, new, merge=bool(merge))
    except (InvalidArgument, Conflict) as exc:  # e.g. a name another class has: the row keeps what was typed
        existing = new.strip() in projects.get(context(request), project)["classes"] and new.strip() != old
        return _schema_page(request, project, status_for(exc), typed={"old": old, "new": new, "merge": existing},
                            invalid=refused(exc, "rename"))
    if old == new.strip():
        return redirect(f"/studio/p/{project}/schema", f"Nothing changed: the class is already named {old}.")
    # back at the class's name box (its row's place; the one merged into), not the page's top
    classes = projects.get(context(request), project)["classes"]
    at = f"/studio/p/{project}/schema" + (f"#rename-{classes.index(new.strip()) + 1}" if new.strip() in classes else "")
    if merging:  # "112 now tagged annoyance" counted the 27 that had both already
        return redirect(at, f"Class {old} merged into {new.strip()}: the {changed:,} document(s) tagged {old} "
                        f"are tagged {new.strip()} now.{_threshold_note(old, None, *served)}")
    return redirect(at, f"Class {old} renamed to {new.strip()}; {changed:,} document(s) now tagged "
                    f"{new.strip()}.{_threshold_note(old, new.strip(), *served)}")


@router.post("/p/{project}/classes/move")
def move_class(request: Request, project: str, name: str = Form(""), to: int = Form(..., ge=1, le=10_000),
               direction: str = Form("up"), _s: Session = Depends(require_csrf)) -> Response:
    """Move a class up or down the list (the Tag page's keys 1-9 and 0 go to the first ten); back at the
    same button of its new row, so pressing it again moves it on (the other one at either end)."""
    try:
        at, count = schema.move_class(context(request), project, name, to)
    except NotFound as exc:  # renamed or deleted in another tab: back to the list as it is, saying so (it went to the Overview)
        if exc.target != "class":
            raise
        return redirect(f"/studio/p/{project}/schema", f"{exc.message} Nothing was moved: the list below is as it is now.", "error")
    down = direction == "down" and at < count or at == 1
    key = f" (key {at % 10} on the Tag page)" if at <= 10 else ""
    return redirect(f"/studio/p/{project}/schema#move-{'down' if down else 'up'}-{at}", f"Class {name} is now number {at}{key}.")


@router.post("/p/{project}/classes/delete")
def delete_class(request: Request, project: str, name: str = Form(""), _s: Session = Depends(require_csrf)) -> Response:
    served = schema.served_by_name(context(request), project, name)
    changed = schema.delete_class(context(request), project, name)
    return redirect(f"/studio/p/{project}/schema", f"Class {name} deleted; {changed:,} document(s) lost that tag.{_threshold_note(name, None, *served)}")


def _threshold_note(old: str, new: str | None, chosen: float | None, served: list[tuple[str, str, float | None, bool]]) -> str:
    """What became of the threshold the project set for class ``old`` (renamed to ``new``, or removed),
    and which deployments still answer ``old`` (their models were trained before), at what threshold."""
    note = ""
    if chosen is not None:
        note = f" Its threshold of {percent(chosen)} is {new}'s now." if new else f" Its threshold of {percent(chosen)} went with it."
    for deployment, label, bar, by_floor in served:
        what = "the project's confidence threshold" if by_floor else "its tuned threshold"
        at = f", now at {what} of {percent(bar)}," if chosen is not None and bar is not None else ""
        note += f" Deployment {deployment} serves {label}, trained before: it still answers {old}{at} until a model trained since is deployed."
    return note
