"""Studio sign-in: an authoring API key buys a session; every write carries a CSRF token.

The session cookie holds a random token; the session lives in the store (``core.sessions``), so
signing out, revoking the key signed in with, or changing the bootstrap key ends it in every
process at once, and nothing in the cookie is derived from a key. The CSRF token is random per
session, sent as the ``csrf`` form field or the ``X-CSRF-Token`` header.
The cookie is ``HttpOnly; SameSite=Strict`` and ``Secure`` when the request came over https
(Chromium does not send a Secure cookie to http://127.0.0.1, so plain-http use would break).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request
from fastapi.responses import Response

from tagwise.api.deps import verify_counted
from tagwise.core import keys, sessions
from tagwise.core.sessions import StudioSession as Session
from tagwise.core.timefmt import iso
from tagwise.errors import Forbidden, Unauthorized

SESSION_COOKIE = "tagwise_studio"
LOGIN_COOKIE = "tagwise_studio_login"  # double-submit token of the sign-in form (before any session exists)
SESSION_TTL_S = sessions.SESSION_TTL_S
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"


class NotSignedIn(Unauthorized):
    """The request has no valid studio session: pages redirect to the sign-in page."""


def sign_in_key(request: Request, given: str) -> keys.ApiKey:
    """The authoring key ``given`` belongs to; a wrong, revoked or runtime key is refused."""
    key = verify_counted(request, given.strip()) if given and given.strip() else None
    if key is None and (gone := getattr(request.state, "revoked_key", None)) is not None:
        raise Unauthorized(f"That key ({gone['name']!r}) was revoked on {iso(gone['revoked_at'])}: sign in with the key that "
                           "replaced it.")
    if key is None:
        raise Unauthorized("That is not an API key of this server: use the one set in TAGWISE_API_KEY, or the one tagwise "
                           "generated at its first start (kept in <data dir>/api-key).")
    if key.role != keys.AUTHORING:
        raise Forbidden("That is a runtime key: it can only classify. Sign in to the studio with an authoring key.")
    return key


_UNKNOWN = object()


def session(request: Request) -> Session | None:
    """The request's live session, or None (looked up once per request)."""
    found = getattr(request.state, "studio_session", _UNKNOWN)
    if found is _UNKNOWN:
        found = request.state.studio_session = sessions.find(request.app.state.ctx, request.cookies.get(SESSION_COOKIE) or "")
    return found


def require_session(request: Request) -> Session:
    """Dependency of every studio page but the sign-in page."""
    found = session(request)
    if found is None:
        raise NotSignedIn("Sign in with the API key first.")
    return found


async def require_csrf(request: Request) -> Session:
    """Dependency of every studio write (POST): a session and its CSRF token."""
    found = require_session(request)
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        given = str((await request.form()).get(CSRF_FIELD) or "")
    if not hmac.compare_digest(given.encode(), found.csrf.encode()):
        raise Forbidden("The form's security token is missing or stale; reload the page and try again.")
    if request.url.path != "/studio/logout":  # signing out always works
        _charge(request, found)
    return found


def require_charged_session(request: Request) -> Session:
    """Dependency of the studio's heavy reads (a project's documents as CSV, Compare): a session, and
    the read counts against its key's rate limit as a write does. A key limited to 2 a minute
    downloaded every document 120 times in 1.6 s; the other pages stay free to browse."""
    found = require_session(request)
    _charge(request, found)
    return found


def _charge(request: Request, found: Session) -> None:
    """A studio write counts against its key's rate limit, as the same work through the API does
    (a try, a training, an upload, a search for mistagged documents)."""
    ctx = request.app.state.ctx
    request.app.state.rate_limiter.check(found.key_id, keys.per_minute(ctx, found.rate_limit_per_minute))


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def start_session(request: Request, response: Response, key: keys.ApiKey) -> None:
    token = sessions.start(request.app.state.ctx, key)
    response.set_cookie(SESSION_COOKIE, token, max_age=SESSION_TTL_S, path="/studio", httponly=True,
                        samesite="strict", secure=is_https(request))
    response.delete_cookie(LOGIN_COOKIE, path="/studio")


def end_session(request: Request, response: Response) -> None:
    """Sign out: the session ends in the store (a copy of the cookie no longer works) and in the browser."""
    sessions.end(request.app.state.ctx, request.cookies.get(SESSION_COOKIE) or "")
    request.state.studio_session = None
    response.delete_cookie(SESSION_COOKIE, path="/studio")


def login_token(request: Request) -> str:
    """The sign-in form's token: the one in the request's cookie, or a new one."""
    return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)


def remember_login_token(request: Request, response: Response, token: str) -> None:
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, path="/studio", httponly=True, samesite="strict", secure=is_https(request))


def login_token_matches(request: Request, given: str) -> bool:
    expected = request.cookies.get(LOGIN_COOKIE) or ""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def lease_holder(found: Session) -> str:
    """Who has a document open on the Tag page (``review_queue.take``): a digest of the session's
    random form token, so the store learns nothing of the key or the cookie."""
    return hashlib.sha256(found.csrf.encode()).hexdigest()[:32]
