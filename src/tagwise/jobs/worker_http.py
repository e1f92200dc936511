"""What a ``tagwise worker`` serves when given a port (``--port``): ``GET /health`` and ``GET
/metrics``, as a server answers them, and nothing else.

A worker serves no API. Without a port an orchestrator could not tell whether it was alive, and the
trainings and analyze tasks it ran were in no counter, so the alerts docs/operations.md suggests on
``tagwise_training_jobs_total{status="failed"}`` never fired where workers run the jobs. ``/health``
answers 503 while the store cannot be reached or when a loop of its job runner has ended;
``/metrics`` needs a key, as the server's does (a runtime key will do).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from fastapi import FastAPI

from tagwise import __version__
from tagwise.api import errors
from tagwise.api.ratelimit import RateLimiter
from tagwise.api.routes import health, metrics

if TYPE_CHECKING:
    import uvicorn

    from tagwise.core.context import Context
    from tagwise.jobs.runner import JobRunner
    from tagwise.metrics import Metrics


def create_worker_app(ctx: Context, runner: JobRunner, counts: Metrics) -> FastAPI:
    app = FastAPI(title="tagwise worker", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    app.state.runner = runner
    app.state.metrics = counts
    app.state.rate_limiter = RateLimiter()
    errors.install(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    return app


def serve_in_background(app: FastAPI, host: str, port: int, log_level: str) -> tuple[uvicorn.Server, threading.Thread]:
    """Serve ``app`` on a thread of its own (uvicorn installs no signal handlers off the main
    thread: the worker's own handlers stop it); stop it with ``server.should_exit = True``."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level=log_level, access_log=False))
    thread = threading.Thread(target=server.run, name="worker-http", daemon=True)
    thread.start()
    return server, thread
