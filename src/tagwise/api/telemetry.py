"""One access-log line and one metrics observation per HTTP request, as pure ASGI middleware.

Pure ASGI (not Starlette's ``BaseHTTPMiddleware``): it only watches the messages go by, so a
streamed answer still streams and the per-request cost stays a few microseconds (``:classify``
answers over a thousand documents a second).

The line, through the ``tagwise.access`` logger at info level (``TAGWISE_LOG_LEVEL``,
``TAGWISE_ACCESS_LOG``), is shaped like the Common Log Format::

    127.0.0.1 k1a2b3c "POST /language/tagwise/projects/bank/deployments/prod:classify" 200 5123 8.4ms

client address, the id of the API key that was accepted (``bootstrap``, ``k...``; ``-`` when none
was: a 401, /health, the studio's sign-in page), method and path, status, bytes of the body sent,
milliseconds to the last byte. Never the query string: the studio's search sends the text it
looks for there, and the log is no place for documents. Never a key's secret: only the id the
key check (``api.deps.check_key``) or the studio's session found.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any
from urllib.parse import quote

from tagwise.api.middleware import HttpMiddleware
from tagwise.metrics import UNMATCHED, Metrics

log = logging.getLogger("tagwise.access")
OPENAPI_URL = "/openapi.json"
# what a path may hold as logged: a raw path is percent-encoded ASCII from any ordinary client; a
# space, a quote or a control character (which could fake a second line) is escaped first
_UNSAFE = re.compile(r'[^\x21-\x7e]|"')
_SAFE_CHARS = "".join(chr(c) for c in range(0x21, 0x7F) if chr(c) != '"')


class Telemetry(HttpMiddleware):
    """Times each HTTP request to its last byte; counts it in ``metrics`` and logs it if ``access_log``."""

    def __init__(self, app: Any, metrics: Metrics, access_log: bool = True) -> None:
        super().__init__(app)
        self.metrics = metrics
        self.access_log = access_log

    async def http(self, scope: dict, receive: Any, send: Any) -> None:
        started = time.perf_counter()
        root_path = scope.get("root_path", "")
        status = 500  # no answer started before an exception: the server's error page is a 500
        size = 0

        async def watching_send(message: dict) -> None:
            nonlocal status, size
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                size += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        finally:
            seconds = time.perf_counter() - started
            self.metrics.request(scope["method"], route_template(scope, root_path), status, seconds)
            if self.access_log and log.isEnabledFor(logging.INFO):
                client = scope.get("client")
                log.info('%s %s "%s %s" %d %d %.1fms', client[0] if client else "-", key_id(scope), scope["method"],
                         logged_path(scope), status, size, seconds * 1000)


def route_template(scope: dict, root_path: str = "") -> str:
    """The template of the route that answered (``/language/.../projects/{project}``), not the
    path: a bounded label that names no project. ``root_path``: the scope's before routing."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if template:
        return template
    # FastAPI leaves no route in the scope for a mounted app (the /docs assets); its prefix is in root_path
    mounted = scope.get("root_path", "")[len(root_path):]
    if mounted:
        return f"{mounted}/{{path}}"
    # FastAPI serves its schema through a plain Starlette route, which leaves no route in the scope either
    if scope.get("endpoint") is not None and scope.get("path", "").endswith(OPENAPI_URL):
        return OPENAPI_URL
    return UNMATCHED


def key_id(scope: dict) -> str:
    """The id of the key the request was accepted with: by the API's key check, or the studio session's key."""
    state = scope.get("state") or {}
    key = state.get("api_key")
    if key is not None:
        return key.id
    session = state.get("studio_session")
    return session.key_id if session is not None else "-"


def logged_path(scope: dict) -> str:
    """The path as the client sent it, without the query string."""
    raw = scope.get("raw_path")
    path = raw.decode("latin-1").partition("?")[0] if raw else scope["path"]
    return quote(path, safe=_SAFE_CHARS, encoding="latin-1") if _UNSAFE.search(path) else path
