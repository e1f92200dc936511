"""Response helpers: long-running operations (202 + Operation-Location) and absolute paging."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from tagwise.api.deps import absolute, int_param
from tagwise.api.middleware import HttpMiddleware
from tagwise.core.jobs import TERMINAL

# What a route answering with accepted() declares in the schema: 202, its headers, no body. The
# route returns a Response itself, so these change the documentation only.
ACCEPTED: dict[str, Any] = {
    "status_code": 202,
    "response_class": Response,
    "response_description": "Accepted: poll the job at Operation-Location.",
    "responses": {202: {"headers": {
        "Operation-Location": {"description": "The job's absolute URL.", "schema": {"type": "string", "format": "uri"}},
        "Retry-After": {"description": "Seconds to wait before polling.", "schema": {"type": "integer"}},
    }}},
}


def accepted(request: Request, job_path: str, api_version: str | None) -> Response:
    """202 with an absolute Operation-Location and Retry-After: 1 (SDK pollers otherwise wait 30 s)."""
    location = absolute(request, job_path, **{"api-version": api_version})
    return Response(status_code=202, headers={"Operation-Location": location, "Retry-After": "1"})


def job_state(body: dict[str, Any]) -> JSONResponse:
    """A job's status answer. A failed job also names its errors as ``error`` (the first one's code):
    azure-core builds the exception an SDK poller raises (``.error.code``, its message) from that
    field only, and left the reason in ``errors`` unread ("Operation returned an invalid status 'OK'")."""
    headers = {} if body["status"] in TERMINAL else {"Retry-After": "1"}
    if body["status"] == "failed" and (errors := body.get("errors")):
        # azure-core's message is "(code) message" of this one object: the others are added to it, as
        # azure-ai-textanalytics 5.4.0 wrote every entry of errors (a second failed task went unsaid)
        more = " ".join(f"({e.get('code')}) {e.get('message')}" for e in errors[1:])
        body = {**body, "error": dict(errors[0], message=f"{errors[0].get('message')} {more}".strip())}
    return JSONResponse(body, headers=headers)


# The paging query parameters, declared for the schema of a list route (``openapi_extra``) whose
# handler reads them with window(): a bad value is then an Azure 400, not FastAPI's validation.
PAGING_PARAMETERS: list[dict[str, Any]] = [
    {"name": "top", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1},
     "description": "How many items in all, over every page (default: all)."},
    {"name": "skip", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0, "default": 0},
     "description": "How many matching items to pass over first."},
    {"name": "maxpagesize", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1},
     "description": "Items per page, at most TAGWISE_MAX_PAGE_SIZE (default 100); follow nextLink for the next page."},
]


def window(request: Request) -> tuple[int, int | None, int]:
    """(skip, top, size of this page) of a list request, from top/skip/maxpagesize: the page
    holds at most TAGWISE_MAX_PAGE_SIZE items, and never more than ``top``."""
    limit = request.app.state.ctx.settings.max_page_size
    skip = int_param(request, "skip", 0) or 0
    top = int_param(request, "top", None, minimum=1)
    size = min(int_param(request, "maxpagesize", limit, minimum=1) or limit, limit)
    return skip, top, size if top is None else min(size, top)


def paged(request: Request, chunk: list[Any], skip: int, top: int | None, total: int) -> dict[str, Any]:
    """The page ``chunk`` (the items from ``skip`` on, of ``total`` matching) with an absolute
    nextLink that keeps the request's other query parameters, or None on the last page."""
    end = total if top is None else min(total, skip + top)
    next_link = None
    if skip + len(chunk) < end:
        query = {k: v for k, v in request.query_params.items() if k not in ("skip", "$skip", "top", "$top")}
        query["skip"] = skip + len(chunk)
        if top is not None:
            query["top"] = end - (skip + len(chunk))
        next_link = absolute(request, request.url.path.removeprefix("/language"), **query)
    return {"value": chunk, "nextLink": next_link}


def page(request: Request, items: list[Any]) -> dict[str, Any]:
    """One page of ``items`` by top/skip/maxpagesize, with an absolute nextLink."""
    skip, top, size = window(request)
    return paged(request, items[skip : skip + size], skip, top, len(items))


class JsonCharset(HttpMiddleware):
    """Pure ASGI middleware: every ``application/json`` answer says ``; charset=utf-8``, as the
    Azure services answer (the contract), the 500s of ``errors.UnexpectedErrors`` included."""

    async def http(self, scope: dict, receive: Any, send: Any) -> None:
        async def send_with_charset(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [(name, _JSON_UTF8 if name == b"content-type" and value == b"application/json" else value)
                                                  for name, value in message.get("headers", [])]}
            await send(message)

        await self.app(scope, receive, send_with_charset)


_JSON_UTF8 = b"application/json; charset=utf-8"
