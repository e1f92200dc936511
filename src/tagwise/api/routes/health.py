"""``GET /health``: for a load balancer or a probe, with no key. 200 while the store answers, 503
(with ``Retry-After``) while it does not: the process being up is not enough to serve."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from tagwise import __version__
from tagwise.api.deps import context
from tagwise.api.errors import ERROR_RESPONSES
from tagwise.api.schemas import Health, HealthUnavailable, answers
from tagwise.errors import store_unavailable

router = APIRouter(tags=["tagwise: operations"], responses=ERROR_RESPONSES)


def _store_answers(request: Request) -> bool:
    """Whether the store answers a trivial query. (Why not is in the log, from the job runners: this
    route needs no key, so it tells nothing about the store's address.)"""
    try:
        with context(request).db.read() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:
        if not store_unavailable(exc):
            raise
        return False
    return True


@router.head("/health", include_in_schema=False)  # load balancers that probe with HEAD
@router.get("/health", summary="Whether this process can serve: the store answers (no key needed)",
            responses={**answers(Health, "The store answers."),
                       **answers(HealthUnavailable, "The store cannot be reached (with Retry-After), or the job runner has stopped.", 503)})
async def health(request: Request) -> JSONResponse:
    if not await run_in_threadpool(_store_answers, request):
        return JSONResponse({"status": "unavailable", "reason": "the store cannot be reached"}, status_code=503,
                            headers={"Retry-After": "5"})
    runner = getattr(request.app.state, "runner", None)
    if runner is not None and (reason := runner.stalled()):  # a process that can no longer run its jobs: restart it
        return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)
    return JSONResponse({"status": "ok", "version": __version__})
