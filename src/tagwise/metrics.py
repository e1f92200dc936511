"""What ``GET /metrics`` reports, in the Prometheus text format (prometheus_client).

Counters and histograms are counted where things happen: HTTP requests by the telemetry
middleware (``api/telemetry.py``), classified documents by the ``:classify`` route and the job
runner, finished trainings by the runner. Gauges of shared state (jobs waiting and running,
deployments) are read from the store when scraped, so they include the jobs of every process and
host on that store; the model cache is the answering process's own.

No label holds a name a user chose: routes are their templates
(``/language/authoring/analyze-text/projects/{project}``), so a scrape reveals no project and the
number of series stays bounded whatever the traffic.

Several server processes (``tagwise serve --workers N``) each count their own requests, and a
scrape reaches one of them: ``serve`` points ``PROMETHEUS_MULTIPROC_DIR`` at an empty folder
before the processes start (:func:`shared_between_processes`), each keeps its counts in files
there, and a scrape, whichever process answers it, adds up all of them. A ``tagwise worker``
counts its own trainings and analyze jobs, scraped on its ``--port`` (:func:`tagwise.server.create_worker_app`).
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Histogram, ProcessCollector, multiprocess, values
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from tagwise import __version__
from tagwise.errors import store_unavailable
from tagwise.storage import records

if TYPE_CHECKING:
    from tagwise.core.context import Context

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
FOLDER_PREFIX = "tagwise-metrics-"  # then the owning process's pid and a dash: tagwise-metrics-<pid>-<random>
QUEUED_KINDS = ("train", "analyze")  # the kinds a job runner claims; the others are recorded finished
ACTIVE_STATUSES = ("notStarted", "running", "cancelling")
TRAINING_ENDS = TASK_ENDS = ("succeeded", "failed", "cancelled")  # how a training job, or a task of an analyze job, ends
SOURCES = ("classify", "analyze", "studio")
# a method outside these is one label value: a client inventing methods must not add series
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # no route answered: a 404, a trailing-slash redirect, a body refused before routing (413)
# :classify answers in milliseconds, an import of a large project in tens of seconds
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
_STATUS_CLASS = {n: f"{n}xx" for n in range(1, 6)}


class Metrics:
    """One app's counters, plus the gauges read from ``ctx``'s store at each scrape."""

    def __init__(self, ctx: Context) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("tagwise_http_requests", "HTTP requests answered, by method, route template and status class.",
                                ("method", "route", "status"), registry=self.registry)
        self.duration = Histogram("tagwise_http_request_duration_seconds", "Time to answer an HTTP request (to its last byte), "
                                  "by method and route template.", ("method", "route"), buckets=BUCKETS, registry=self.registry)
        self.documents = Counter("tagwise_documents_classified", "Documents classified: by the synchronous :classify route "
                                 "(source=classify), by analyze jobs this process ran (source=analyze) or on the studio's "
                                 "Try it page, a text or a file (source=studio).",
                                 ("source",), registry=self.registry)
        self.trainings = Counter("tagwise_training_jobs", "Training jobs this process's runner saw end, by final status.",
                                 ("status",), registry=self.registry)
        # an analyze job answers 200 with a failed task's error inside: nothing else counted it
        self.tasks = Counter("tagwise_analyze_tasks", "Tasks of the analyze jobs this process's runner ran, by how they ended.",
                             ("status",), registry=self.registry)
        for source in SOURCES:  # present from the start at 0: rate() and alerts need the series to exist
            self.documents.labels(source)
        for status in TRAINING_ENDS:
            self.trainings.labels(status)
        for status in TASK_ENDS:
            self.tasks.labels(status)
        # prometheus_client chose where values live when it was imported (the variable set or not then)
        self.multiprocess = values.ValueClass is not values.MutexValue
        # (method, route, status class) -> the two series it counts in: labels() costs 3 times the counting
        self._series: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}
        self._state = _State(ctx)
        self.registry.register(self._state)
        if not self.multiprocess:  # the memory and CPU of the one process there is
            ProcessCollector(registry=self.registry)

    def request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request (the telemetry middleware calls this once per request)."""
        if method not in METHODS:
            method = "other"
        key = (method, route, _STATUS_CLASS.get(status // 100, "other"))
        series = self._series.get(key)
        if series is None:  # at most one per label set: as bounded as the labels are
            series = self._series[key] = (self.requests.labels(*key), self.duration.labels(method, route))
        series[0].inc()
        series[1].observe(seconds)

    def classified(self, source: str, count: int) -> None:
        if count:
            self.documents.labels(source).inc(count)

    def tasks_ended(self, statuses: Iterable[str]) -> None:
        """Count the tasks of one analyze job by how each ended."""
        for status in statuses:
            if status in TASK_ENDS:
                self.tasks.labels(status).inc()

    def training_ended(self, status: str) -> None:
        if status in TRAINING_ENDS:
            self.trainings.labels(status).inc()

    def render(self, accept: str = "") -> tuple[bytes, str]:
        """(body, content type) of a scrape; OpenMetrics when ``accept`` asks for it."""
        registry = self.registry
        if self.multiprocess:  # every process's counts from their files, not only this one's
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            registry.register(self._state)
        encode, content_type = choose_encoder(accept)
        return encode(registry), content_type


class _State(Collector):
    """Gauges computed at scrape time: two small queries on indexed columns, and the model cache's size."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def describe(self) -> Iterable[Metric]:
        return []  # registering must not query the store (collect() would be called to learn the names)

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily("tagwise_build_info", "The tagwise version this process runs (always 1).", labels=["version"])
        info.add_metric([__version__], 1)
        yield info
        loaded = GaugeMetricFamily("tagwise_models_loaded", "Trained models loaded in this process's memory (the process "
                                   "that answered this scrape).", value=len(self.ctx.predictors))
        yield loaded
        yield GaugeMetricFamily("tagwise_model_cache_capacity", "Models a process keeps loaded before it evicts the least "
                                "recently used.", value=self.ctx.predictors.capacity)
        yield self._disk_free()
        try:
            with self.ctx.db.read() as conn:
                counts = records.count_jobs(conn, QUEUED_KINDS, ACTIVE_STATUSES)
                deployments = records.count_deployments(conn)
        except Exception as exc:
            if not store_unavailable(exc):
                raise
            # the counters above still go out: an outage must not blind the dashboards
            yield GaugeMetricFamily("tagwise_store_up", "Whether the store answered this scrape's queries.", value=0)
            return
        yield GaugeMetricFamily("tagwise_store_up", "Whether the store answered this scrape's queries.", value=1)
        jobs = GaugeMetricFamily("tagwise_jobs", "Jobs in the store waiting (notStarted) or running (running, cancelling), "
                                 "by kind: those of every process and host on the store.", labels=["kind", "status"])
        for kind in QUEUED_KINDS:
            for status in ACTIVE_STATUSES:
                jobs.add_metric([kind, status], counts.get((kind, status), 0))
        yield jobs
        yield GaugeMetricFamily("tagwise_deployments", "Deployments in the store, of every project.", value=deployments)

    def _disk_free(self) -> Metric:
        """Free bytes where the data dir (SQLite's store, the embedding cache) and the model store
        are: a full disk refuses imports and fails trainings (507), while the store still answers."""
        free = GaugeMetricFamily("tagwise_disk_free_bytes", "Free bytes on the disk of the data dir, of the model store and "
                                 "of a SQLite store set by TAGWISE_DATABASE_URL (for tagwise's user).", labels=["place"])
        settings = self.ctx.settings
        places = [("data", settings.data_dir), ("models", self.ctx.models_dir)]
        if settings.database_url and (file := settings.sqlite_file) is not None:  # a SQLite file of its own, outside the data dir
            places.append(("store", file.parent))
        for place, folder in places:
            try:
                free.add_metric([place], shutil.disk_usage(folder).free)
            except OSError:  # not there (yet): nothing to say
                continue
        return free


@contextmanager
def shared_between_processes() -> Iterator[Path]:
    """Around starting several server processes: they inherit ``PROMETHEUS_MULTIPROC_DIR``, set
    here to a new temporary folder (removed afterwards), or to the one already set, emptied first:
    counts left by an earlier run would be added to this run's. The temporary folders of a
    ``serve`` killed before it could remove its own are removed here."""
    given = os.environ.get(MULTIPROCESS_ENV)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
    else:
        remove_abandoned_folders()
        # the owner's pid in the name: a later start can tell a folder whose `serve` was killed (SIGKILL, OOM:
        # no `finally` ran) from one still in use
        folder = Path(tempfile.mkdtemp(prefix=f"{FOLDER_PREFIX}{os.getpid()}-"))
        os.environ[MULTIPROCESS_ENV] = str(folder)
    try:
        yield folder
    finally:
        if not given:
            os.environ.pop(MULTIPROCESS_ENV, None)
            shutil.rmtree(folder, ignore_errors=True)


def remove_abandoned_folders(where: Path | None = None) -> list[Path]:
    """Remove the folders :func:`shared_between_processes` made in ``where`` (the temp dir) for a
    ``serve`` that is gone, and return them. Only this user's folders named by our prefix and a
    pid no process has: a live owner's (or one in a name without a pid) is left alone."""
    removed = []
    for folder in Path(where or tempfile.gettempdir()).glob(f"{FOLDER_PREFIX}*"):
        owner = _owner_pid(folder.name)
        try:
            info = folder.lstat()
        except OSError:  # removed meanwhile
            continue
        if owner is None or not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or _is_running(owner):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def _owner_pid(name: str) -> int | None:
    pid, dash, _ = name.removeprefix(FOLDER_PREFIX).partition("-")
    return int(pid) if dash and pid.isdigit() and int(pid) > 0 else None


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive all the same
        pass
    return True
