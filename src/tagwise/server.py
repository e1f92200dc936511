"""The application factory: ``create_app(Settings(...))``; nothing happens at import time."""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI

from tagwise import __version__, studio
from tagwise.api import errors, openapi
from tagwise.api.limits import BodyLimit
from tagwise.api.middleware import AzureUrls, HeadAsGet
from tagwise.api.ratelimit import RateLimiter
from tagwise.api.responses import JsonCharset
from tagwise.api.routes import analyze, blobs, deployments, documents, health, keys, metrics, models, projects, training
from tagwise.api.telemetry import Telemetry
from tagwise.core import deployments as deployments_core
from tagwise.core import models as models_core
from tagwise.core.context import Context
from tagwise.jobs.runner import JobRunner
from tagwise.metrics import Metrics
from tagwise.settings import Settings

log = logging.getLogger("tagwise")
# threads for the routes that block (the store, the models): anyio's default is 40. Writes waiting for
# the store's write lock hold one each (storage.db.Database.write bounds how long)
WORKER_THREADS = 64


def _warm_up(ctx: Context) -> None:
    try:
        missing, served = models_core.without_folder(ctx), deployments_core.without_folder(ctx)
        if missing or served:  # one line, before the warm-up's own for each deployment
            said = ([f"{len(missing)} trained model(s) have no folder in it: {', '.join(missing[:10])}"] if missing else []) + \
                   ([f"deployments that cannot answer until then: {', '.join(served[:10])}"] if served else [])
            log.warning("The model store %s lacks model folders the store names (%s). Was the model store restored from another time "
                        "than the store? Restore both from the same backup, or train and deploy those models again (docs/operations.md)",
                        ctx.models_dir, "; ".join(said))
        importlib.import_module("tagwise.ml")
        deployments_core.warm_up_all(ctx)
    except Exception:  # e.g. the server stopping meanwhile: requests load what they need
        log.warning("warm-up stopped", exc_info=True)


def create_app(settings: Settings | None = None, *, run_jobs: bool | None = None) -> FastAPI:
    """Build the ASGI app. ``run_jobs=False`` (default: ``settings.run_jobs``) leaves jobs to separate
    ``tagwise worker`` processes."""
    settings = settings or Settings()
    run_jobs = settings.run_jobs if run_jobs is None else run_jobs
    settings.ensure_api_key()
    ctx = Context.open(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Import the ML stack and load the deployed models in the background: the first
        # classification or studio suggestion after a start would otherwise wait seconds for
        # scikit-learn (and PyTorch, for the bf16 encoder) to load.
        threading.Thread(target=_warm_up, args=(ctx,), name="warm-up", daemon=True).start()
        anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
        if run_jobs:
            app.state.runner.start()
        else:
            log.info("this server runs no jobs (TAGWISE_RUN_JOBS=false): trainings and analyze jobs wait for a `tagwise worker`")
        try:
            yield
        finally:
            if run_jobs:
                app.state.runner.stop()
            ctx.close()

    app = FastAPI(
        title="tagwise",
        version=__version__,
        description="Self-hosted custom text classification with an Azure AI Language compatible API. "
        "Send the key in the `Ocp-Apim-Subscription-Key` header (on this page: Authorize).",
        lifespan=lifespan,
        docs_url=None,  # openapi.install serves /docs without a CDN
        redoc_url=None,
        # operationIds after the handlers ("list_projects"): FastAPI's own added the path and method (up to 114
        # characters), which a client generator turned into 243-character file paths; the names are unique
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.ctx = ctx
    app.state.metrics = Metrics(ctx)
    app.state.runner = JobRunner(ctx, metrics=app.state.metrics)
    app.state.rate_limiter = RateLimiter()
    errors.install(app)
    app.add_middleware(HeadAsGet)  # innermost: the router sees GET
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(AzureUrls)  # repeated slashes, a trailing / and Azure's query names in any case, before routing

    @app.middleware("http")
    async def security_headers(request, call_next):
        response = await call_next(request)
        # every answer: no content sniffing, and no page of the server (/docs too) inside another site's frame;
        # the studio adds its own stricter set
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        return response

    app.add_middleware(errors.UnexpectedErrors)  # added last but two, so it wraps the other middleware too
    app.add_middleware(JsonCharset)  # around UnexpectedErrors: its 500s say their charset too
    # outermost: it times and logs every answer, a 500 of UnexpectedErrors or a 413 of BodyLimit too
    app.add_middleware(Telemetry, metrics=app.state.metrics, access_log=settings.access_log)

    for module in (projects, documents, training, models, deployments, analyze, blobs, keys, health, metrics):
        app.include_router(module.router)
    app.include_router(studio.router)  # the web studio at /studio (serves its own static assets)
    openapi.install(app)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (several worker processes): settings from the environment.
    Their metrics add up only with ``PROMETHEUS_MULTIPROC_DIR`` set (``serve --workers N`` sets it: tagwise.metrics)."""
    from tagwise import logs

    _end_with_supervisor()
    settings = Settings()
    logs.configure(settings.log_level)
    return create_app(settings)


def _end_with_supervisor() -> None:
    """Linux: get SIGTERM when the ``serve --workers N`` process that started this worker dies.

    Killed with SIGKILL (an OOM killer, a crash), it cannot stop its workers: they went on serving
    and running jobs unsupervised, and kept the port, so the next start failed. SIGTERM, not
    SIGKILL: the worker stops as on any shutdown, and its job runner queues its jobs again.
    uvicorn starts every worker (a rolling restart's too) from its supervisor's main thread, whose
    exit is what the kernel watches.
    """
    import os
    import signal

    from tagwise.orphans import SUPERVISOR_ENV, end_with_parent

    # popped: this worker's own children (a training's process) have a parent of their own
    end_with_parent(os.environ.pop(SUPERVISOR_ENV, None), signal.SIGTERM)


def create_worker_app(ctx: Context, runner: JobRunner, counts: Metrics) -> FastAPI:
    """What a ``tagwise worker`` serves when given a port (``--port``): ``GET /health`` and ``GET
    /metrics``, as a server answers them, and nothing else.

    A worker serves no API. Without a port an orchestrator could not tell whether it was alive, and
    the trainings and analyze tasks it ran were in no counter, so the alerts docs/operations.md
    suggests on ``tagwise_training_jobs_total{status="failed"}`` never fired where workers run the
    jobs. ``/health`` answers 503 while the store cannot be reached or when a loop of its job runner
    has ended; ``/metrics`` needs a key, as the server's does (a runtime key will do)."""
    app = FastAPI(title="tagwise worker", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    app.state.runner = runner
    app.state.metrics = counts
    app.state.rate_limiter = RateLimiter()
    errors.install(app)
    app.include_router(health.router)
    app.include_router(metrics.router)
    return app

