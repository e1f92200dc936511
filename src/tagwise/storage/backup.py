"""A backup of a tagwise instance in one folder, taken while tagwise runs (``tagwise backup DIR``).

    DIR/tagwise.db     SQLite: a compact, consistent copy (``VACUUM INTO``), checked with ``PRAGMA quick_check``
    DIR/tagwise.dump   PostgreSQL: ``pg_dump -Fc`` of one snapshot (the model list below is read in the same one)
    DIR/models.tgz     the folders of the models that copy names (trained or deployed), under the model store's own name
    DIR/api-key        the key tagwise generated, when it generated one
    DIR/backup.json    when, by which version, at which schema revision, and what the copy holds

The store is copied first and the model folders it names after it, so every model the copy lists
has its folder (unless it was deleted in between: the summary names it). Nothing is written to
``DIR`` itself until the end: the files go to a hidden folder beside it that is renamed to ``DIR``
once whole, so a folder named ``DIR`` is a whole backup, and a failed one leaves nothing. The
store is not opened through :class:`~tagwise.storage.db.Database`, which migrates it: a backup is
what an operator takes *before* an upgrade. Restoring is docs/operations.md, "Backup and restore".
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tagwise.errors import InvalidArgument, StoreUnavailable
from tagwise.settings import Settings

__all__ = ["Backup", "take"]

# what a backup counts, by table; every schema revision has these tables
COUNTED = ("projects", "documents", "models", "deployments")
IN_USE = ("SELECT p.name, m.model_id FROM models m JOIN projects p ON p.id = m.project_id "
          "UNION SELECT p.name, d.model_id FROM deployments d JOIN projects p ON p.id = d.project_id")


@dataclass
class Backup:
    """What :func:`take` wrote."""

    folder: Path
    store: str                      # "sqlite" or "postgresql"
    files: dict[str, int]           # file name -> bytes
    counts: dict[str, int]          # COUNTED table -> rows in the copy
    revision: str | None            # the copy's schema revision (None: an empty store)
    model_folders: int = 0
    missing: list[str] = field(default_factory=list)  # "project/model id" the copy names whose folder was not there
    seconds: float = 0.0


def take(settings: Settings, target: Path) -> Backup:
    """Back up the store ``settings`` name, its models' folders and the generated API key into ``target``
    (a folder that must not exist yet, or be empty)."""
    started = time.monotonic()
    target = target.expanduser()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidArgument(f"{target} already exists and is not an empty folder: give a new folder for the backup "
                              "(e.g. backups/$(date +%F)); a backup never overwrites another.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.parent / f".{target.name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(mode=0o700)
    try:
        sqlite_file = settings.sqlite_file
        if sqlite_file is not None:
            with _sqlite_copy(sqlite_file, partial / "tagwise.db") as conn:
                result = _contents(conn, partial, "sqlite", settings)
        else:
            with _pg_snapshot(settings.resolved_database_url, partial / "tagwise.dump") as conn:
                result = _contents(conn, partial, "postgresql", settings)
        key = settings.data_dir / "api-key"
        if key.is_file():
            shutil.copyfile(key, partial / "api-key")
        for path in partial.iterdir():
            path.chmod(0o600)  # every document and the keys' hashes: as private as the store
        result.files = {path.name: path.stat().st_size for path in sorted(partial.iterdir())}
        result.seconds = time.monotonic() - started
        _write_manifest(partial / "backup.json", result)
        result.files["backup.json"] = (partial / "backup.json").stat().st_size
        if target.exists():
            target.rmdir()  # empty (checked above): the rename takes its place
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    result.folder = target
    return result


def _contents(conn: Any, folder: Path, store: str, settings: Settings) -> Backup:
    """Count the copy's rows and archive the model folders it names, reading ``conn`` (the copy, or
    PostgreSQL's snapshot)."""
    tables = _tables(conn, store)
    counts = {name: _scalar(conn, f"SELECT count(*) FROM {name}") for name in COUNTED if name in tables}
    revision = _scalar(conn, "SELECT version_num FROM alembic_version") if "alembic_version" in tables else None
    in_use = sorted(_rows(conn, IN_USE)) if {"models", "deployments", "projects"} <= tables else []
    result = Backup(folder, store, {}, counts, revision)
    models_dir = settings.models_dir
    with tarfile.open(folder / "models.tgz", "w:gz", compresslevel=6) as tar:
        for project, model_id in in_use:
            source = models_dir / project / model_id
            if not (source / "manifest.json").is_file():  # deleted since the copy, or already missing from the model store
                result.missing.append(f"{project}/{model_id}")
                continue
            tar.add(source, arcname=f"{models_dir.name}/{project}/{model_id}")
            result.model_folders += 1
    return result


@contextmanager
def _sqlite_copy(source: Path, copy: Path) -> Iterator[sqlite3.Connection]:
    """``VACUUM INTO`` a compact copy of the SQLite store (one read transaction: consistent, and the
    server's writes go on), checked; yields a connection to the copy."""
    if not source.is_file():
        raise InvalidArgument(f"There is no store at {source}: point TAGWISE_DATA_DIR (or --data-dir, or "
                              "TAGWISE_DATABASE_URL) at the data dir tagwise serves from.")
    try:
        conn = sqlite3.connect(source, timeout=30)
        try:
            conn.execute("VACUUM INTO ?", (str(copy),))
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreUnavailable(f"The store {source} could not be copied: {exc}.") from None
    conn = sqlite3.connect(copy)
    try:
        found = [row[0] for row in conn.execute("PRAGMA quick_check")]
        if found != ["ok"]:
            raise StoreUnavailable(f"The copy of {source} fails SQLite's check ({found[0]}): the store itself is damaged; "
                                   "keep the last whole backup.")
        yield conn
    finally:
        conn.close()


@contextmanager
def _pg_snapshot(url: str, dump: Path) -> Iterator[Any]:
    """``pg_dump -Fc`` of one snapshot, exported from a read-only transaction that stays open, so
    that what is read through the yielded connection is what the dump holds."""
    import psycopg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    dsn = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = dict(os.environ)
    if parsed.password:  # in the environment, not on pg_dump's command line (which `ps` shows everyone)
        env["PGPASSWORD"] = parsed.password
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise StoreUnavailable("pg_dump is not installed: install PostgreSQL's client programs (Debian: apt-get install "
                               "postgresql-client) on this machine, at the server's major version or newer.")
    try:
        conn = psycopg.connect(dsn, password=parsed.password, connect_timeout=10, autocommit=True)  # BEGIN below is the transaction's
    except psycopg.Error as exc:
        raise StoreUnavailable(f"PostgreSQL could not be reached to back it up: {exc}".rstrip()) from None
    try:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        done = subprocess.run([pg_dump, "--format=custom", f"--snapshot={snapshot}", f"--file={dump}", dsn],
                              env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise StoreUnavailable(f"pg_dump failed (exit code {done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
        yield conn
    finally:
        conn.close()


def _tables(conn: Any, store: str) -> set[str]:
    query = ("SELECT name FROM sqlite_master WHERE type = 'table'" if store == "sqlite"
             else "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return {row[0] for row in _rows(conn, query)}


def _rows(conn: Any, query: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in conn.execute(query).fetchall()]


def _scalar(conn: Any, query: str) -> Any:
    return conn.execute(query).fetchone()[0]


def _write_manifest(path: Path, backup: Backup) -> None:
    from tagwise import __version__

    path.write_text(json.dumps({
        "tagwise": __version__, "created": datetime.now(UTC).isoformat(timespec="seconds"), "store": backup.store, "schemaRevision": backup.revision,
        "counts": backup.counts, "modelFolders": backup.model_folders, "missingModelFolders": backup.missing,
        "files": backup.files, "seconds": round(backup.seconds, 2),
    }, indent=2) + "\n")
    path.chmod(0o600)
