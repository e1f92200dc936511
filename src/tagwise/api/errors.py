"""The ONE place where domain errors become HTTP: status codes and the Azure error envelope."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match, Mount

from tagwise.api.middleware import HttpMiddleware
from tagwise.errors import (
    NOT_IN_TAGWISE,
    Conflict,
    Forbidden,
    InvalidArgument,
    InvalidRequest,
    NotFound,
    PayloadTooLarge,
    QuotaError,
    StoreBusy,
    StoreFull,
    StoreReadOnly,
    StoreUnavailable,
    TagwiseError,
    TooManyRequests,
    Unauthorized,
    UnsupportedMediaType,
    first_line,
    store_conflict,
    store_full,
    store_read_only,
    store_unavailable,
)

log = logging.getLogger("tagwise.api")

STATUS_BY_ERROR: dict[type[TagwiseError], int] = {
    InvalidRequest: 400,
    Unauthorized: 401,
    Forbidden: 403,
    QuotaError: 403,
    NotFound: 404,
    Conflict: 409,
    PayloadTooLarge: 413,
    UnsupportedMediaType: 415,
    TooManyRequests: 429,
    StoreUnavailable: 503,
    StoreFull: 507,
}
STORE_RETRY_AFTER_S = 5  # a store outage (a restart, a failover) usually lasts seconds


class InnerError(BaseModel):
    code: str
    message: str
    details: dict[str, str] | None = None


class ErrorObject(BaseModel):
    code: str
    message: str
    target: str | None = None
    innererror: InnerError | None = None


class ErrorResponse(BaseModel):
    """The Azure error envelope every error answers with (the OpenAPI schema's ``ErrorResponse``)."""

    error: ErrorObject


# What every API router declares: errors are the envelope, never FastAPI's 422 (a "4XX" entry keeps
# FastAPI from adding it; a body or parameter it rejects becomes a 400 in _validation below).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "model": ErrorResponse,
        "description": "400 invalid request, 401 missing or wrong key, 403 runtime key or quota, 404 not found, "
        "405 method not allowed, 409 conflict, 413 body too large, 415 not JSON, 429 rate limit (with Retry-After).",
    },
    "5XX": {"model": ErrorResponse, "description": "500 unexpected error; 503 the store cannot be reached or is busy (Retry-After: 5), or is read-only (no Retry-After)."},
}


def status_for(exc: TagwiseError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def retry_headers(exc: TagwiseError) -> dict[str, str]:
    """``Retry-After`` where waiting fixes it. Of the 4xx only 429 carries it: azure-core retries any
    4xx that has one. It retries a 503 anyway, and waits as long as Retry-After says."""
    if isinstance(exc, TooManyRequests):
        return {"Retry-After": str(exc.retry_after)}
    if status_for(exc) == 503 and not isinstance(exc, StoreReadOnly):  # a read-only store is not fixed by waiting
        return {"Retry-After": str(STORE_RETRY_AFTER_S)}
    return {}


def error_response(exc: TagwiseError) -> JSONResponse:
    return JSONResponse({"error": exc.to_error_object()}, status_code=status_for(exc), headers=retry_headers(exc))


def store_refusal(exc: StoreUnavailable) -> JSONResponse:
    """A 503 the store's state explains in its own message (busy, read-only, ...), logged once with
    it, as operations.md promises for every 503."""
    log.warning("answered 503: %s", exc.message)
    return error_response(exc)


def install(app: FastAPI) -> None:
    @app.exception_handler(TagwiseError)
    async def _domain(_request: Request, exc: TagwiseError) -> JSONResponse:
        return store_refusal(exc) if isinstance(exc, StoreUnavailable) else error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body")
        message = f"{where}: {first.get('msg', 'invalid value')}" if where else first.get("msg", "The request is invalid.")
        return error_response(InvalidArgument(f"The request is invalid: {message}.", target=where or None))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        path = request.url.path
        # an Azure action tagwise lacks (…/models/m1:load-snapshot) lands on its object's route, with another method
        action = path.rsplit("/", 1)[-1].partition(":")[2]
        if exc.status_code == 404 or (exc.status_code == 405 and path.startswith("/language/") and action and action not in ACTIONS):
            if request.app.openapi_url is None:  # a worker's port: /health and /metrics, and no API reference
                return error_response(NotFound("No such route: a tagwise worker serves GET /health and GET /metrics only."))
            return error_response(NotFound(no_route_message(path)))
        if exc.status_code == 405:  # with an Allow header (RFC 9110 requires it; it was dropped)
            allowed = _allowed_methods(request)
            err = InvalidRequest("This method is not allowed on this URL" + (f"; it takes {allowed}." if allowed else "."))
            return JSONResponse({"error": err.to_error_object()}, status_code=405, headers={"Allow": allowed} if allowed else None)
        # what else Starlette raises is the request's fault (a form it cannot parse): not an "InternalServerError"
        err = InvalidRequest(str(exc.detail)) if 400 <= exc.status_code < 500 else TagwiseError(str(exc.detail))
        return JSONResponse({"error": err.to_error_object()}, status_code=exc.status_code)

    @app.exception_handler(ClientDisconnect)
    async def _disconnected(_request: Request, _exc: ClientDisconnect) -> JSONResponse:
        return disconnected_response()

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:  # what UnexpectedErrors did not see
        return unexpected_response(exc)


def _allowed_methods(request: Request) -> str:
    """The methods some route of this URL takes, all of them (Starlette's own header named only the
    first matching route's: a project's URL has one route per method): each asked of the router,
    HEAD wherever GET is (middleware.HeadAsGet). A mounted app (the /docs assets, static files)
    takes GET and HEAD; the scope it raised from is its own, so the URL is asked from the top."""
    scope = {**request.scope, "root_path": request.scope.get("app_root_path", "")}
    allowed = set()
    for route in request.app.router.routes:
        if isinstance(route, Mount):
            if route.matches({**scope, "method": "GET"})[0] == Match.FULL:
                allowed.add("GET")
            continue
        allowed.update(method for method in ("DELETE", "GET", "PATCH", "POST", "PUT")
                       if route.matches({**scope, "method": method})[0] == Match.FULL)
    if "GET" in allowed:
        allowed.add("HEAD")
    return ", ".join(sorted(allowed))


ACTIONS = frozenset({"import", "export", "train", "swap", "cancel", "classify", "delete"})  # the …:action routes (a test keeps it whole)


def no_route_message(path: str) -> str:
    """A 404 for a URL no route has. Under /language it is most often an Azure Language feature
    tagwise does not have (the Azure SDKs have methods for them all): it says so, instead of a bare
    "no such route" that an SDK raises as if the object the call named did not exist."""
    if path.startswith(("/language/", "/language:")):
        return NOT_IN_TAGWISE
    if path.startswith("/text/analytics/"):  # the pre-Language routes older code calls (v3.x preview custom classification)
        return ("No such route: tagwise serves the Azure AI Language API under /language/, not the older Text Analytics routes. "
                "Custom classification is POST /language/analyze-text/jobs?api-version=2023-04-01 with a "
                "CustomSingleLabelClassification or CustomMultiLabelClassification task (what azure-ai-textanalytics 5.4.0 sends).")
    return "No such route: check the URL and method against the API reference at /docs."


def disconnected_response() -> JSONResponse:
    """The client hung up before its body was whole (a broken chunk, fewer bytes than its
    Content-Length): its mistake, not the server's, so a 400 and one info line, no traceback,
    never counted as a 5xx. The answer usually reaches no one (the server drops it)."""
    log.info("the client closed the connection before sending the whole request body: answered 400")
    return error_response(InvalidRequest("The request body ended before it was complete: the connection was closed or "
                                         "the body was malformed.", inner_code="InvalidRequestBodyFormat"))


def unexpected_response(exc: Exception) -> JSONResponse:
    """An exception no handler took, logged: the store being unreachable is a 503 the client may
    retry (one log line, its reason); anything else is a bug, a 500 (the traceback in the log)."""
    if isinstance(exc, ClientDisconnect):  # read outside a route (middleware): still the client's doing
        return disconnected_response()
    if store_full(exc):
        log.error("answered 507: the disk is full (%s)", first_line(exc) or type(exc).__name__)
        return error_response(StoreFull("The server's disk is full: the store could not write, and nothing of this request "
                                        "was kept. Free disk space on the server (its log names the store), then retry."))
    if store_read_only(exc):
        log.error("answered 503: the store is read-only (%s)", first_line(exc) or type(exc).__name__)
        return error_response(StoreReadOnly("The store (database) is read-only, so nothing of this request was written; reads "
                                            "still work. Retrying will not help until the server's operator makes the store "
                                            "writable again (the server's log names it)."))
    if isinstance(exc, StoreBusy):  # its own message says why
        return store_refusal(exc)
    if store_conflict(exc):  # it was "the store cannot be reached", which sent people looking for an outage
        log.warning("answered 503: the store ended this request's transaction for another's (%s)", first_line(exc) or type(exc).__name__)
        return error_response(StoreUnavailable("Another request was changing the same data at the same moment, and the store "
                                               "(database) stopped this one; nothing of it was written. Send it again."))
    if store_unavailable(exc):
        reason = first_line(exc) or type(exc).__name__
        log.warning("answered 503: the store cannot be reached (%s)", reason)
        return error_response(StoreUnavailable("The store (database) cannot be reached right now. Retry in a few seconds."))
    log.error("unexpected error", exc_info=exc)
    err = TagwiseError(f"An unexpected error occurred ({type(exc).__name__}); the server log has the details.")
    return JSONResponse({"error": err.to_error_object()}, status_code=500)


class UnexpectedErrors(HttpMiddleware):
    """ASGI middleware, outside the others: an exception that no handler took becomes the 500
    envelope here, logged once. Starlette's own last resort (the ``Exception`` handler above) answers
    and then re-raises, so uvicorn logged the traceback a second time and closed the connection,
    and a client's next request on it failed."""

    async def http(self, scope: dict, receive: Any, send: Any) -> None:
        started = False

        async def tracking_send(message: dict) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            if started:  # half a response is out: nothing sensible can follow it
                raise
            await unexpected_response(exc)(scope, receive, send)
