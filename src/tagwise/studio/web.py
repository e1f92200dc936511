"""What every studio page shares: templates, rendering, flash messages, redirects, error pages.

Domain errors raised by a service become a readable message: on a POST, a flash message on the
page the form came from (a form whose refusal names a field renders its page again instead, with
what was typed and the reason tied to that field: ``refused``); on a GET, an error page with the matching status code; to the page's
script (a ``.json`` path or ``Accept: application/json``), the API's JSON error envelope.
Without a valid session, pages and forms lead to the sign-in page, which leads back to them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException

from tagwise import __version__
from tagwise.api.errors import error_response
from tagwise.core.context import Context
from tagwise.core.model_results import commonest
from tagwise.core.percentfmt import percent, percents, points
from tagwise.errors import Forbidden, InvalidArgument, InvalidRequest, TagwiseError
from tagwise.studio.auth import SESSION_COOKIE, NotSignedIn, session

log = logging.getLogger("tagwise.studio")
HERE = Path(__file__).parent
FLASH_COOKIE = "tagwise_studio_flash"
MAX_ID = 2**63 - 1  # the store's integer ids; a larger number is a malformed request, not a missing document
SECURITY_HEADERS = {
    # Scripts only from tagwise itself (no inline script); inline style attributes draw the bars.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def plain_percent(value: Any) -> str:
    """A 0-1 fraction as the percentage a person typed, without trailing zeros: 0.125 -> '12.5', 0.9 -> '90',
    0.99999 -> '99.999' (two decimals made that '100', which the form then refused)."""
    return f"{100 * float(value):.6f}".rstrip("0").rstrip(".")


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value is not None else "–"


env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True, default_for_string=True),
                  trim_blocks=True, lstrip_blocks=True)
env.filters.update(percent=percent, percent_beside=lambda value, other: percents(value, other)[0] if value is not None and other is not None else percent(value),
                   plain_percent=plain_percent, when=_when, urlq=lambda v: quote(str(v), safe=""),
                   small_percent=lambda value: "under 0.1%" if value < 0.001 else percent(value),
                   count=lambda value: f"{value:,}" if isinstance(value, int) else value,  # 1,346 beside 3,200, not 1346
                   commonest=commonest, points=lambda change: points(change.a, change.b))  # the change between the two shown numbers
env.globals.update(version=__version__)


def context(request: Request) -> Context:
    """The services' Context of the app serving the request."""
    return request.app.state.ctx


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> HTMLResponse:
    """A page; ``values`` are the template's variables (``session``, ``flash``, ``request`` are added)."""
    flash = _read_flash(request)
    # a page answering a POST (a refused form, a Try it result) is shown at the form's address, and a
    # reload asked to send the form again: the script puts the page it came from in the address bar
    values.setdefault("replace_url", studio_path(request, request.headers.get("referer")) if request.method == "POST" else None)
    body = env.get_template(template).render(request=request, session=session(request), flash=flash, **values)
    response = HTMLResponse(body, status_code=status_code)
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/studio")
    return response


def refused(exc: TagwiseError, field: str | None) -> dict[str, str | None]:
    """A form's refusal, for rendering its page again with what was typed: the template marks the
    input ``field`` invalid, shows ``message`` next to it and focuses it (no field: the message goes
    on top of the page). Rendering instead of redirecting keeps every value the user typed."""
    return {"field": field, "message": exc.message}


def redirect(url: str, message: str | None = None, level: str = "ok") -> RedirectResponse:
    """303 to a studio page, with an optional message shown once there."""
    response = RedirectResponse(url, status_code=303)
    if message:
        set_flash(response, message, level)
    return response


def set_flash(response: Response, message: str, level: str = "ok") -> None:
    value = quote(json.dumps({"level": level, "message": message[:600]}), safe="")
    response.set_cookie(FLASH_COOKIE, value, max_age=60, path="/studio", httponly=True, samesite="strict")


def _read_flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:
        data = json.loads(unquote(raw))
        return {"level": str(data["level"]), "message": str(data["message"])}
    except (ValueError, KeyError, TypeError):
        return None


def studio_path(request: Request, value: str | None) -> str | None:
    """``value`` as a path (with query and fragment) of this studio, or None: never an open redirect."""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.netloc and parts.netloc != request.headers.get("host"):
        return None
    if not parts.path.startswith("/studio") or "//" in parts.path or "\\" in value:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")


def safe_back(request: Request, candidate: str | None, default: str) -> str:
    """A same-site studio path to return to: ``candidate``, else the page the request came from, else ``default``."""
    return studio_path(request, candidate) or studio_path(request, request.headers.get("referer")) or default


def _project_page(request: Request) -> str:
    """Where a refused form goes back to without a Referer (a client that strips it): its project's
    overview, not the list of every project."""
    parts = request.url.path.split("/")  # "", "studio", "p", project, ...
    if len(parts) > 3 and parts[1:3] == ["studio", "p"] and parts[3]:
        return f"/studio/p/{quote(unquote(parts[3]), safe='')}"
    return "/studio"


def sign_in_url(next_path: str | None) -> str:
    """The sign-in page, which leads back to ``next_path`` (a studio path) once signed in."""
    return "/studio" + query(next=next_path if next_path and next_path != "/studio" else None)


def wants_json(request: Request) -> bool:
    """Whether the page's script (not a browser form or link) sent the request."""
    return request.url.path.endswith(".json") or "application/json" in request.headers.get("accept", "")


def query(**params: Any) -> str:
    """A query string of the non-empty params (with the leading ``?``), for links that keep filters."""
    clean = {k: v for k, v in params.items() if v not in (None, "", False)}
    return "?" + urlencode(clean, doseq=True) if clean else ""


class StudioRoute(APIRoute):
    """Route class of the studio router: HTML errors, sign-in redirects and security headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def studio_handler(request: Request) -> Response:
            try:
                if request.method == "POST" and request.headers.get("sec-fetch-site") in ("same-site", "cross-site"):
                    # a form another site sent, with cookies: one on another port of this host can set them (cookies
                    # ignore ports), so its page signed a visitor in with its own key and had their tags saved as its
                    raise Forbidden("This form was sent from a page of another site (or another port of this host): the studio "
                                    "takes forms from its own pages only. Open the studio and send it from there.")
                if request.method == "POST" and request.url.path != "/studio/login" and session(request) is None:
                    # before the form is read: a visitor without a session had the server read 256 MiB uploads
                    raise NotSignedIn("Sign in with the API key first.")
                response = await handler(request)
            except NotSignedIn as exc:
                response = _not_signed_in(request, exc)
            except TagwiseError as exc:
                response = _error(request, exc)
            except RequestValidationError as exc:  # a malformed form field or query parameter
                response = _error(request, InvalidArgument(_validation_message(exc)))
            except HTTPException as exc:  # the form could not be parsed: a JSON "InternalServerError" answered the page
                if exc.status_code != 400:
                    raise
                response = _error(request, InvalidRequest(f"The form could not be read: {exc.detail} (at most 1,000 files "
                                                          "an upload, and 1 MB a field)."))
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            if request.url.scheme == "https":
                _secure_flash(response)
            return response

        return studio_handler


def _secure_flash(response: Response) -> None:
    """Over https the flash message's cookie is ``Secure`` too, as the session's is (it is set where no
    request is at hand: :func:`redirect`)."""
    flash_cookie = FLASH_COOKIE.encode() + b"="
    response.raw_headers = [(name, value + b"; Secure" if name == b"set-cookie" and value.startswith(flash_cookie)
                             and b"secure" not in value.lower() else value) for name, value in response.raw_headers]


def _validation_message(exc: RequestValidationError) -> str:
    first = exc.errors()[0] if exc.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path"))
    return f"The value of {where or 'a field'} is not valid: {first.get('msg', 'invalid value')}."


def _not_signed_in(request: Request, exc: TagwiseError) -> Response:
    if wants_json(request):
        return JSONResponse({"error": exc.to_error_object()}, status_code=401)
    if request.method == "GET":
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        # a session cookie that no longer works: signed out elsewhere, expired, or its key revoked
        ended = "Your session has ended: sign in again." if request.cookies.get(SESSION_COOKIE) else None
        return redirect(sign_in_url(here), ended, "error")
    if request.url.path == "/studio/logout":
        return redirect("/studio", "Signed out.")
    # A form sent without a session (e.g. signed out in another tab): nothing was saved.
    return redirect(sign_in_url(safe_back(request, None, _project_page(request))), "You are signed out, so that was not saved: sign in again.", "error")


def _error(request: Request, exc: TagwiseError) -> Response:
    # the API's statuses and Retry-After: a rate-limited upload or Try it was a 500 without one (its own table lacked 429, 503, 507)
    answer = error_response(exc)
    if wants_json(request):
        return answer
    if request.method == "POST":
        return redirect(safe_back(request, None, _project_page(request)), exc.message, "error")
    page = render(request, "error.html", status_code=answer.status_code, message=exc.message, code=exc.code)
    page.headers.update({k: v for k, v in answer.headers.items() if k.lower() == "retry-after"})
    return page
