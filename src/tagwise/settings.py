"""Every setting tagwise reads, declared once (environment prefix ``TAGWISE_``).

The declaration drives ``python -m tagwise.settings`` (the table ``tagwise serve --help`` points
to), ``docs/settings.md`` and a test that fails when the two drift apart.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal, get_args, get_origin

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Runtime configuration. Build it explicitly in tests: ``Settings(data_dir=tmp_path)``."""

    # an empty variable (`TAGWISE_DATA_DIR=` in a shell or a compose file) is unset: it put the store in the working directory
    model_config = SettingsConfigDict(env_prefix="TAGWISE_", extra="ignore", env_ignore_empty=True)

    data_dir: Path = Field(Path("./tagwise-data"), description="Folder for the SQLite file, model artifacts, the generated API key and the embedding cache.")
    database_url: str | None = Field(None, description="SQLAlchemy URL of the store; default: SQLite file `tagwise.db` in the data dir. `postgresql://...` selects PostgreSQL (psycopg 3).")
    host: str = Field("127.0.0.1", description="Interface the server listens on.")
    port: int = Field(8080, ge=1, le=65535, description="TCP port the server listens on.")
    api_key: str | None = Field(None, description="Key expected in `Ocp-Apim-Subscription-Key`. If unset, one is generated on first start, kept in `<data dir>/api-key` and printed.")
    public_url: str | None = Field(None, description="Absolute base URL used in `Operation-Location` and `nextLink` (e.g. behind a proxy); default: taken from the request's Host.")
    max_documents_per_request: int = Field(25, ge=1, description="Documents per asynchronous analyze request (Azure: 25).")
    max_tasks_per_request: int = Field(10, ge=1, description="Tasks per asynchronous analyze request: each task classifies every document of the request again, so this bounds one request's work with the two limits below.")
    max_pending_jobs_per_key: int = Field(20, ge=0, description="Analyze jobs one API key may have waiting or running at once (0: no limit); past it, 429 with Retry-After. Jobs run first come, first served, so without it one client can hold up every other client's jobs.")
    analyze_job_ttl_s: int = Field(86_400, ge=600, description="How long an analyze job keeps the texts it was sent and their results, in seconds from its submission (its `expirationDateTime`): 24 hours by default, as Azure keeps them; shorter (at least 10 minutes, so that a queued job's client can still read its results) for a team that must not keep customer texts longer. An expired job answers 404 at once, and a job runner deletes it within 10 minutes. Set for the jobs submitted from then on.")
    max_characters_per_request: int = Field(125_000, ge=1, description="Total characters per asynchronous analyze request (Azure: 125,000).")
    max_document_characters: int = Field(128_000, ge=1, description="Characters in one document, at import and at classification time (Azure: 128,000).")
    max_sync_documents: int = Field(1_000, ge=1, description="Documents per call of the synchronous `:classify` route.")
    max_sync_characters: int = Field(2_000_000, ge=1, description="Total characters per call of the synchronous `:classify` route: bounds one request's work (1,000 documents of 2,000 characters; 6.4 million characters took 25 s of a 2-core server, so this is about 8 s). `tagwise classify` splits its requests to fit.")
    max_body_bytes: int = Field(256 * 1024 * 1024, ge=1, description="Largest accepted request body in bytes (imports of big projects are the largest).")
    max_projects: int = Field(500, ge=1, description="Projects per server (Azure: 500).")
    max_classes: int = Field(200, ge=2, description="Classes per project (Azure: 200).")
    max_page_size: int = Field(100, ge=1, description="Largest page a list route returns (`top`/`maxpagesize` are capped to it).")
    auto_time_budget_s: float = Field(120.0, ge=0, description="Seconds of training the default recipe (`auto`) may plan for: it fits the slower, more accurate `ensemble` only when its estimate of the training time (from the data's size, docs/models.md) fits. At 120 s, banking77 (10,000 short texts) gets the ensemble and goemotions (43,000 comments, 28 classes, ~210 s estimated) gets `linear` without trying the ensemble. Within the budget, `auto` still keeps whichever scores better out of fold.")
    model_cache_size: int = Field(16, ge=1, description="Trained models each process keeps loaded (the least recently used is evicted beyond it); a server warms up this many deployments at start, the most recently deployed first. One model takes 5-35 MB next to its sentence encoder, which all models share (about 90 MB, 130 MB multilingual); loading an evicted one again takes 16-155 ms.")
    training_timeout_s: int = Field(3_600, ge=1, description="A training job running longer than this is stopped and marked failed.")
    analyze_workers: int = Field(2, ge=1, description="Threads that run asynchronous analyze jobs in each server or worker process; a process claims no more jobs than it has threads free, so the others take the rest.")
    run_jobs: bool = Field(True, description="Whether `tagwise serve` runs training and analyze jobs in its own processes. `false`: it answers requests and queues jobs, and `tagwise worker` processes on the same store run them (API processes that never hold a training's 0.3-0.6 GB or its CPU; the studio's 'tags that look wrong' check still cross-validates in the process that serves the page). With no worker running, jobs wait `notStarted`, and the studio's training page says so.")
    encoder_threads: int = Field(0, ge=0, description="Batches the MiniLM sentence encoder embeds at once in each process (one ONNX Runtime thread each); 0 = one per core. On a small machine shared with heavy API traffic, 1 can keep latency lower.")
    encoder_backend: Literal["auto", "onnx-int8", "onnx-int8-token", "torch-bf16", "onnx", "torch"] = Field("auto", description="How models trained from now on run the English sentence encoder (MiniLM). `auto` = `onnx-int8`: int8 ONNX Runtime, fastest; activations are scaled per batch, so a text's vector moves slightly with the texts batched beside it. `onnx-int8-token`: the same with a scale per token, so a text gets the same vector (and prediction) alone or in any batch, at ~85% of the speed. `torch-bf16`: bfloat16 PyTorch, for CPUs with AMX (Xeon Sapphire Rapids and later): fp32 accuracy (banking77 0.943 vs 0.940) at ~70-100% of int8's speed, and a text's vector hardly depends on its batch; loads PyTorch (+0.5 GB). `onnx`: fp32, about 40% of int8's speed, vectors independent of the batch. `torch`: plain PyTorch. A trained model keeps the backend it was trained with (docs/benchmarks.md).")
    encoder_model_dir: Path | None = Field(None, description="A sentence-transformers model folder (weights as `model.safetensors`, mean or CLS pooling) that models trained from now on embed with, for every project language, instead of the bundled encoders; run by `TAGWISE_ENCODER_BACKEND` (`auto` = `onnx-int8-token`: int8 ONNX Runtime with a scale per token, so a text's vector does not depend on its batch). A larger encoder can be more accurate and is slower: all-mpnet-base-v2 lifts banking77 from 0.94 to 0.945-0.949, trains in 62-78 s instead of MiniLM's 27-34 s (86-101 s through a server) and classifies ~190-290 texts/s instead of ~1,000 (docs/models.md). A model keeps the encoder it was trained with and fails with a clear error on a server without that folder. Every process and host that trains or classifies needs it at this path.")
    model_store_dir: Path | None = Field(None, description="Folder of trained model artifacts; default `<data dir>/models`. With several processes or hosts (and Ray), point all of them at one shared folder mounted at the same path.")
    wrong_keys_per_minute: int = Field(20, ge=0, description="Wrong API keys one client address may send a minute (a revoked key, once right, is told so and not counted; the API's header and the studio's sign-in together; bursts up to that many, then one every 60/N s); past it the address gets 429 with `Retry-After`, whatever key it sends, so keys cannot be guessed at speed. An IPv6 client counts by its /64. Behind a reverse proxy the address is the client's (X-Forwarded-For) when uvicorn trusts the proxy (`FORWARDED_ALLOW_IPS`, default 127.0.0.1 and ::1); otherwise every client shares the proxy's. 0 = no limit. Counted per process.")
    rate_limit_per_minute: int = Field(0, ge=0, description="Requests per minute per API key (token bucket, bursts up to that many); 0 = unlimited. Counted per process: with N processes a key gets up to N times this. A key created with its own `rateLimitPerMinute` uses that instead.")
    job_heartbeat_s: float = Field(5.0, gt=0, description="How often a job runner records that its running jobs are alive, and looks for jobs whose process died.")
    job_lease_s: float = Field(60.0, gt=0, description="A running job whose process is on another host (or, on this host, is alive but not the job's: a reused process id, a restored store) and sent no heartbeat for this long is taken as dead: training fails with a reason, analysis runs again.")
    log_level: Literal["debug", "info", "warning", "error", "critical"] = Field("info", description="Log level of `serve` and `worker` (debug, info, warning, error, critical), for uvicorn's lines and tagwise's own: at `info`, each training's start and end; at `warning`, failed trainings and store outages.")
    access_log: bool = Field(True, description="One log line per HTTP request from `serve` (logger `tagwise.access`, at `info`): client address, the id of the API key used (never the key), method, path without the query string, status, bytes sent, milliseconds (docs/operations.md). `false` turns the lines off; `GET /metrics` counts requests either way.")

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_case_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator("public_url")
    @classmethod
    def _absolute_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("give the absolute URL clients reach the server at, e.g. https://tagwise.example.com")
        return value

    @model_validator(mode="after")
    def _lease_outlives_heartbeats(self) -> Settings:
        # a runner counts at most two heartbeat intervals of any wait of its own as a claimant's silence
        if self.job_lease_s < 4 * self.job_heartbeat_s:
            raise ValueError(f"TAGWISE_JOB_LEASE_S ({self.job_lease_s:g}) must be at least 4 times TAGWISE_JOB_HEARTBEAT_S "
                             f"({self.job_heartbeat_s:g}), or live jobs would be taken for dead")
        return self

    @field_validator("database_url")
    @classmethod
    def _supported_store(cls, value: str | None) -> str | None:
        if value and value.startswith("postgres://"):  # libpq's and many platforms' spelling
            value = "postgresql://" + value[len("postgres://"):]
        if value and not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:")):
            raise ValueError("tagwise stores its data in SQLite (sqlite:///path) or PostgreSQL (postgresql://...)")
        if value:  # what got past the prefix and failed later in a 120-line traceback (a port that is no number, no file)
            from sqlalchemy.engine import make_url
            from sqlalchemy.exc import ArgumentError

            try:
                url = make_url(value)
            except (ArgumentError, ValueError) as exc:  # int()'s ValueError on a port that is no number
                raise ValueError(f"it is not a URL the store can read ({exc}); e.g. postgresql://user:password@host:5432/tagwise") from None
            if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
                raise ValueError("a SQLite store needs a file: sqlite:////absolute/path/tagwise.db (an in-memory store "
                                 "would be gone with each connection; leave the variable unset for <data dir>/tagwise.db)")
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            if url.startswith("postgresql://"):
                url = "postgresql+psycopg://" + url[len("postgresql://"):]
            return url
        return f"sqlite:///{(self.data_dir / 'tagwise.db').resolve()}"

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite store's file: ``<data dir>/tagwise.db``, or the one TAGWISE_DATABASE_URL names;
        None for PostgreSQL and an in-memory store."""
        url = self.resolved_database_url
        path = url.removeprefix("sqlite:///") if url.startswith("sqlite:///") else ":memory:"
        return None if path == ":memory:" else Path(path)

    @property
    def store_name(self) -> str:
        """The store as a start-up line names it, without a password: ``SQLite /path/tagwise.db`` or
        ``PostgreSQL user@host:port/database``."""
        from sqlalchemy.engine import make_url

        url = make_url(self.resolved_database_url)
        if url.get_backend_name() == "sqlite":
            return f"SQLite {url.database}"
        user = f"{url.username}@" if url.username else ""
        return f"PostgreSQL {user}{url.host or 'localhost'}:{url.port or 5432}/{url.database or ''}"

    @property
    def models_dir(self) -> Path:
        """Absolute: a model's folder is recorded in the store by this path, which must not depend on
        the folder a server was started from."""
        return (self.model_store_dir or self.data_dir / "models").resolve()

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    def project_cache_dir(self, project: str) -> Path:
        """A project's embedding cache: its own, so a training reads no other project's vectors and
        deleting the project deletes them (``cache/projects/<project>/<encoder>/``)."""
        return self.cache_dir / "projects" / project

    def environment(self) -> dict[str, str]:
        """These settings as ``TAGWISE_*`` variables, for a child process (a training job) that
        must run as configured here, however this object was built. The API key stays out: a
        child does not serve requests."""
        env = {f"TAGWISE_{name.upper()}": str(value) for name, value in self if value is not None and name != "api_key"}
        env.update(TAGWISE_DATABASE_URL=self.resolved_database_url, TAGWISE_MODEL_STORE_DIR=str(self.models_dir))
        return env

    @property
    def api_key_from_env(self) -> bool:
        import os

        return bool(os.environ.get("TAGWISE_API_KEY"))

    def make_data_dir(self) -> Path:
        """The data dir, made when missing; a file in its place, or a folder that cannot be made, is
        one error that names TAGWISE_DATA_DIR (it said only "File exists" or "Not a directory")."""
        from tagwise.errors import StoreUnavailable

        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise StoreUnavailable(f"The data dir {self.data_dir} (TAGWISE_DATA_DIR) is a file, not a folder: point "
                                   "TAGWISE_DATA_DIR at a folder (tagwise creates one that does not exist).")
        try:
            self.data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # a file where a parent folder should be; no rights
            raise StoreUnavailable(f"The data dir {self.data_dir} (TAGWISE_DATA_DIR) cannot be made: {exc.strerror or exc}. "
                                   "Point TAGWISE_DATA_DIR at a folder tagwise can create or write.") from None
        return self.data_dir

    def ensure_api_key(self) -> tuple[str, bool]:
        """Return the API key and whether it was generated now (and so should be printed)."""
        if self.api_key:
            return self.api_key, False
        path = self.data_dir / "api-key"
        if path.exists():
            key = path.read_text().strip()
            if not key:  # every key would be refused, and the studio would sign its sessions with ""
                from tagwise.errors import InvalidArgument

                raise InvalidArgument(f"{path} is empty: delete it to have a new key generated at the next start, or set TAGWISE_API_KEY.")
            self.api_key = key
            return self.api_key, False
        self.make_data_dir()
        key = secrets.token_hex(16)
        path.write_text(key + "\n")
        path.chmod(0o600)
        self.api_key = key
        return key, True


# what a value must be beyond its type and bounds, where a validator checks it
_RULES = {
    "database_url": "`sqlite:///PATH`, `postgresql://...` or `postgres://...`",
    "public_url": "an absolute `http://` or `https://` URL",
    "job_lease_s": "at least 4 times `TAGWISE_JOB_HEARTBEAT_S`",
    "log_level": "any case",
    "host": "an address or host name (`0.0.0.0`: every interface)",
}


def valid_values(name: str) -> str:
    """What the setting accepts, from its declaration: a value outside it stops every command with
    one ``error:`` line and exit code 2."""
    field = Settings.model_fields[name]
    parts: list[str] = []
    args = get_args(field.annotation)
    if get_origin(field.annotation) is Literal:
        parts.append(", ".join(f"`{a}`" for a in args))
    elif field.annotation is bool:
        parts.append("`true` or `false` (also 1/0, yes/no, on/off)")
    else:
        kind = next((t for t in (int, float, Path) if t is field.annotation or t in args), str)
        names = {int: "a whole number", float: "a number", Path: "a folder path", str: "text"}
        bound = {attr: getattr(meta, attr) for meta in field.metadata for attr in ("ge", "gt", "le")
                 if getattr(meta, attr, None) is not None}
        if "ge" in bound and "le" in bound:
            parts.append(f"{names[kind]} from {bound['ge']:g} to {bound['le']:g}")
        elif bound:
            parts.append(f"{names[kind]} " + " and ".join(f"{word} {bound[a]:g}" for a, word in
                                                         (("ge", ">="), ("gt", ">"), ("le", "<=")) if a in bound))
        elif not (kind is str and name in _RULES):
            parts.append(names[kind])
    if name in _RULES:
        parts.append(_RULES[name])
    return "; ".join(parts)


def settings_table() -> str:
    """The markdown table in docs/settings.md (a test keeps the two identical)."""
    lines = ["| environment variable | default | valid values | what it does |", "|---|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.default
        shown = "(unset)" if default is None else f"`{str(default).lower() if isinstance(default, bool) else default}`"
        lines.append(f"| `TAGWISE_{name.upper()}` | {shown} | {valid_values(name)} | {field.description} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(settings_table(), end="")
