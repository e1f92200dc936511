"""The base of tagwise's pure ASGI middleware (body limit, telemetry, error envelope, charset)."""

from __future__ import annotations

import re
from typing import Any


class HttpMiddleware:
    """ASGI middleware that handles HTTP requests in ``http``; other scopes (lifespan, websockets)
    pass through untouched."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: dict, receive: Any, send: Any) -> None:
        raise NotImplementedError


# Azure's query parameter names, as an Azure front end reads them: in any case (ASP.NET's binding)
QUERY_NAMES = ("api-version", "top", "skip", "maxpagesize", "$top", "$skip", "$maxpagesize", "stringIndexType", "projectKind",
               "trainedModelLabel", "format", "assetKind", "showStats", "dataset", "class", "untagged", "search", "all")
_QUERY_BY_CASE = {name.lower().encode(): name.encode() for name in QUERY_NAMES}
_SLASHES = re.compile(r"/{2,}")


class AzureUrls(HttpMiddleware):
    """URLs as clients send them, read before routing: repeated slashes are one, on every path (a
    URL joined from parts that each carried one); and under ``/language/``, as a REST client
    written from Microsoft's pages sends them, a trailing ``/`` is the route without it, a blob's
    aside (it was a bare 307 with no body, which ``curl`` without ``-L`` printed as nothing;
    Azure's own example ``nextLink`` ends in ``/``), and a query parameter's name is read in any
    case (``Api-Version=`` was "missing", ``Top=`` ignored)."""

    async def http(self, scope: dict, receive: Any, send: Any) -> None:
        path = scope["path"]
        if "//" in path:
            path = scope["path"] = _SLASHES.sub("/", path)
        if path.startswith("/language/"):  # in place: the router leaves the route it picked in this scope (the metrics read it)
            # not a blob's: ``.../blobs/`` is a location that came out empty, and says so
            if path.endswith("/") and len(path) > len("/language/") and not path.startswith("/language/tagwise/containers/"):
                scope["path"] = path.rstrip("/") or "/"
                if raw := scope.get("raw_path"):
                    scope["raw_path"] = raw.rstrip(b"/") or b"/"
            if scope.get("query_string"):
                scope["query_string"] = canonical_query(scope["query_string"])
        await self.app(scope, receive, send)


class HeadAsGet(HttpMiddleware):
    """``HEAD`` is answered as ``GET`` without the body, on every route that takes GET (RFC 9110: a
    general-purpose server supports both). FastAPI routes take only the methods they declare, so
    ``curl -I`` and uptime checks that probe with HEAD got 405 on every URL but ``/health``. The
    router sees a copy of the scope saying GET (uvicorn's own still says HEAD and sends no body);
    what routing wrote in it (the route, for the metrics) is copied back."""

    ROUTED = ("route", "endpoint", "root_path", "path_params")

    async def http(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return
        as_get = {**scope, "method": "GET"}

        async def headers_only(message: dict) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body"):
                    return
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        try:
            await self.app(as_get, receive, headers_only)
        finally:
            scope.update({key: as_get[key] for key in self.ROUTED if key in as_get})


def canonical_query(query: bytes) -> bytes:
    """``query`` with each of Azure's parameter names in its own spelling.

    >>> canonical_query(b"Api-Version=2023-04-01&TOP=2&other=x&stringindextype=Utf16CodeUnit")
    b'api-version=2023-04-01&top=2&other=x&stringIndexType=Utf16CodeUnit'
    """
    parts = []
    for part in query.split(b"&"):
        name, equals, value = part.partition(b"=")
        parts.append(_QUERY_BY_CASE.get(name.lower(), name) + equals + value)
    return b"&".join(parts)
