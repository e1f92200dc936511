"""The services' shared state: settings, database and the in-memory model cache."""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tagwise.errors import StoreUnavailable, first_line, sqlite_code
from tagwise.settings import Settings
from tagwise.storage.db import WAL_ADVICE, DamagedStore, Database, NewerSchema


@dataclass
class Context:
    """Everything a service function needs. Built by the server, the CLI or a worker."""

    settings: Settings
    db: Database = field(init=False)
    # (project, deployment) -> (what its last lookup found, monotonic time): answered while the store is away
    last_served: dict[tuple[str, str], tuple[Any, float]] = field(init=False, default_factory=dict)
    # (the schema revision the store had, the newest) when :meth:`open` brought the store forward
    upgraded: tuple[str, str] | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self._check_places()
        self.db = Database(self.settings.resolved_database_url)
        from tagwise.core.predictors import PredictorCache  # local: keeps ml imports lazy
        from tagwise.ml import encoder

        encoder.configure(self.settings.encoder_threads, self.settings.encoder_backend, self.settings.encoder_model_dir)
        self.predictors = PredictorCache(self.settings.model_cache_size)

    @classmethod
    def open(cls, settings: Settings, *, migrate: bool = True) -> Context:
        """The context, with the store reachable (and migrated): a store that cannot be reached is
        one ``StoreUnavailable`` naming it (password hidden), not the driver's traceback."""
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import DatabaseError, OperationalError, ProgrammingError

        ctx = cls(settings)
        try:
            if migrate:
                ctx.upgraded = ctx.db.migrate()
        except (DatabaseError, NewerSchema, DamagedStore) as exc:  # unreachable; no rights to create tables; damaged; a rollback
            if isinstance(exc, DatabaseError) and not isinstance(exc, OperationalError | ProgrammingError) and not _damaged(exc):
                raise  # a migration's own failure (a constraint, a value): its traceback says more than one line
            ctx.close()
            where = make_url(settings.database_url or settings.resolved_database_url).render_as_string(hide_password=True)
            reason = str(exc) if isinstance(exc, NewerSchema | DamagedStore) else first_line(exc.orig) or "no reason given"
            if "permission denied" in reason:  # PostgreSQL 15 gives only a database's owner the right to create tables in it
                reason += " (tagwise creates its tables at start: make the user it connects as the database's owner, e.g. createdb -O tagwise tagwise)"
            if ctx.db.found_wal and (_damaged(exc) or sqlite_code(exc) == sqlite3.SQLITE_IOERR):  # a restore's stale -wal
                reason += f" ({WAL_ADVICE})"
            elif _damaged(exc):  # SQLite: another file, or a backup copied in part
                reason += " (it is not a tagwise store, or it is damaged: restore a whole backup, see docs/operations.md)"
            source = "TAGWISE_DATABASE_URL" if settings.database_url else "TAGWISE_DATA_DIR"
            raise StoreUnavailable(f"Cannot open the store at {where} ({source}): {reason}") from None
        if migrate:  # a process that trains must be able to save models: find out now, not after a training
            ctx._check_model_store()
        return ctx

    def _check_places(self) -> None:
        """A data dir that is a file, and a SQLite URL whose folder does not exist (a typo in it
        made an empty store there, and the server started on it), each refused in one line."""
        data_dir = self.settings.make_data_dir()
        if self.settings.database_url and (file := self.settings.sqlite_file) is not None:
            folder = file.parent
            if not folder.is_dir() and not folder.resolve().is_relative_to(data_dir.resolve()):  # tagwise makes its own folders
                raise StoreUnavailable(f"Cannot open the store at {self.settings.database_url} (TAGWISE_DATABASE_URL): the folder "
                                       f"{folder} does not exist. Create it first, or correct the URL (sqlite:////absolute/path/tagwise.db).")

    def _check_model_store(self) -> None:
        folder = self.models_dir
        try:
            folder.mkdir(parents=True, exist_ok=True)
            probe = folder / f".write-check-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            self.close()
            raise StoreUnavailable(f"The model store {folder} (TAGWISE_MODEL_STORE_DIR) is not writable: "
                                   f"{exc.strerror or exc}") from None

    @property
    def models_dir(self) -> Path:
        return self.settings.models_dir

    def close(self) -> None:
        self.db.dispose()


def _damaged(exc: BaseException) -> bool:
    """Whether SQLite says the file is no database or a damaged one (a backup copied in part)."""
    return sqlite_code(exc) in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT)
