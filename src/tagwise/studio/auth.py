"""Studio sign-in: an authoring API key buys a signed session cookie; every write carries a CSRF token.

The session cookie is ``<issued>.<nonce>.<key id>.<HMAC(server key, issued.nonce.key id)>``, signed
with the server's bootstrap key: nothing is stored on the server, changing that key signs
everybody out, and revoking the key someone signed in with ends their session (checked on every
request, cached for a second). The CSRF token is a second HMAC of the session (a per-session
token), sent as the ``csrf`` form field or the ``X-CSRF-Token`` header.
The cookie is ``HttpOnly; SameSite=Strict`` and ``Secure`` when the request came over https
(Chromium does not send a Secure cookie to http://127.0.0.1, so plain-http use would break).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from dataclasses import dataclass

from fastapi import Request
from fastapi.responses import Response

from tagwise.core import keys
from tagwise.errors import Forbidden, Unauthorized

SESSION_COOKIE = "tagwise_studio"
LOGIN_COOKIE = "tagwise_studio_login"  # double-submit token of the sign-in form (before any session exists)
SESSION_TTL_S = 12 * 3600
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"


class NotSignedIn(Unauthorized):
    """The request has no valid studio session: pages redirect to the sign-in page."""


@dataclass(frozen=True)
class Session:
    nonce: str
    key_id: str
    csrf: str


def _sign(key: str, purpose: str, value: str) -> str:
    return hmac.new(key.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def _key(request: Request) -> str:
    key = request.app.state.ctx.settings.api_key
    if not key:  # Settings.ensure_api_key refuses this at start; never sign with an empty secret
        raise NotSignedIn("This server has no API key.")
    return key


def sign_in_key(request: Request, given: str) -> keys.ApiKey:
    """The authoring key ``given`` belongs to; a wrong, revoked or runtime key is refused."""
    key = keys.verify(request.app.state.ctx, (given or "").strip()) if given and given.strip() else None
    if key is None:
        raise Unauthorized("That is not an API key of this server: use the one set in TAGWISE_API_KEY, or the one tagwise "
                           "generated at its first start (kept in <data dir>/api-key).")
    if key.role != keys.AUTHORING:
        raise Forbidden("That is a runtime key: it can only classify. Sign in to the studio with an authoring key.")
    return key


def session(request: Request) -> Session | None:
    """The request's valid session, or None."""
    parts = (request.cookies.get(SESSION_COOKIE) or "").split(".")
    if len(parts) != 4 or not parts[0].isdigit():
        return None
    issued, nonce_part, key_id, signature = parts
    nonce = f"{issued}.{nonce_part}.{key_id}"
    if not hmac.compare_digest(signature, _sign(_key(request), "session", nonce)):
        return None
    if not 0 <= time.time() - int(issued) <= SESSION_TTL_S or not _still_active(request, key_id):
        return None
    return Session(nonce, key_id, _sign(_key(request), "csrf", nonce))


_active_lock = threading.Lock()
# key id -> (the key when it is not revoked, else None; until when that holds)
_active: dict[str, tuple[dict | None, float]] = {}


def _active_key(request: Request, key_id: str) -> dict | None:
    """The session's key record while it is not revoked (looked up at most every ``keys.CACHE_S``)."""
    now = time.monotonic()
    with _active_lock:
        known = _active.get(key_id)
    if known is not None and known[1] > now:
        return known[0]
    record = next((k for k in keys.list_all(request.app.state.ctx) if k["id"] == key_id and not k["revoked_at"]), None)
    with _active_lock:
        if len(_active) > 1_000:
            _active.clear()
        _active[key_id] = (record, now + keys.CACHE_S)
    return record


def _still_active(request: Request, key_id: str) -> bool:
    return key_id == keys.BOOTSTRAP_ID or _active_key(request, key_id) is not None


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
        _charge(request, found.key_id)
    return found


def _charge(request: Request, key_id: str) -> None:
    """A studio write counts against its key's rate limit, as the same work through the API does
    (a try, a training, an upload, a search for mistagged documents)."""
    per_minute = request.app.state.ctx.settings.rate_limit_per_minute
    record = _active_key(request, key_id) if key_id != keys.BOOTSTRAP_ID else None
    if record is not None and record["rate_limit_per_minute"] is not None:
        per_minute = record["rate_limit_per_minute"]
    request.app.state.rate_limiter.check(key_id, per_minute)


def is_https(request: Request) -> bool:
    return request.url.scheme == "https"


def start_session(request: Request, response: Response, key: keys.ApiKey) -> None:
    nonce = f"{int(time.time())}.{secrets.token_hex(16)}.{key.id}"
    value = f"{nonce}.{_sign(_key(request), 'session', nonce)}"
    response.set_cookie(SESSION_COOKIE, value, max_age=SESSION_TTL_S, path="/studio", httponly=True,
                        samesite="strict", secure=is_https(request))
    response.delete_cookie(LOGIN_COOKIE, path="/studio")


def end_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/studio")


def login_token(request: Request) -> str:
    """The sign-in form's token: the one in the request's cookie, or a new one."""
    return request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(24)


def remember_login_token(request: Request, response: Response, token: str) -> None:
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, path="/studio", httponly=True, samesite="strict", secure=is_https(request))


def login_token_matches(request: Request, given: str) -> bool:
    expected = request.cookies.get(LOGIN_COOKIE) or ""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())
