"""Response helpers: long-running operations (202 + Operation-Location) and absolute paging."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from tagwise.api.deps import absolute, int_param
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
    headers = {} if body["status"] in TERMINAL else {"Retry-After": "1"}
    return JSONResponse(body, headers=headers)


def page(request: Request, items: list[Any]) -> dict[str, Any]:
    """One page of ``items`` by top/skip/maxpagesize, with an absolute nextLink."""
    limit = request.app.state.ctx.settings.max_page_size
    skip = int_param(request, "skip", 0) or 0
    top = int_param(request, "top", None, minimum=1)
    size = min(int_param(request, "maxpagesize", limit, minimum=1) or limit, limit)
    end = len(items) if top is None else min(len(items), skip + top)
    chunk = items[skip : min(end, skip + size)]
    next_link = None
    if skip + len(chunk) < end:
        query = {k: v for k, v in request.query_params.items() if k not in ("skip", "$skip", "top", "$top")}
        query["skip"] = skip + len(chunk)
        if top is not None:
            query["top"] = end - (skip + len(chunk))
        next_link = absolute(request, request.url.path.removeprefix("/language"), **query)
    return {"value": chunk, "nextLink": next_link}
