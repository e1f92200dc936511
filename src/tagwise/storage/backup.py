"""A backup of a tagwise instance in one folder, taken while tagwise runs (``tagwise backup DIR``).

    DIR/tagwise.db     SQLite: a compact, consistent copy (``VACUUM INTO``), checked with ``PRAGMA quick_check``
    DIR/tagwise.dump   PostgreSQL: ``pg_dump -Fc`` of one snapshot (the model list below is read in the same one)
    DIR/models.tgz     the folders of the models that copy names (trained or deployed), under the model store's own name
    DIR/api-key        the key tagwise generated, when it generated one
    DIR/backup.json    when, by which version, at which schema revision, what the copy holds, and each
                       file's size and SHA-256 (a restore compares them before it writes anything)

The store is copied first and the model folders it names after it, so every model the copy lists
has its folder (unless it was deleted in between: the summary names it). Nothing is written to
``DIR`` itself until the end: the files go to a hidden folder beside it that is renamed to ``DIR``
once whole, so a folder named ``DIR`` is a whole backup, and a failed one leaves nothing. The
store is not opened through :class:`~tagwise.storage.db.Database`, which migrates it: a backup is
what an operator takes *before* an upgrade.

:func:`restore` (``tagwise restore DIR``) puts one back, into a new data dir (or an empty
PostgreSQL database) and an empty model store only: it never overwrites a store, so a damaged one
is moved aside first (docs/operations.md, "Backup and restore").
"""

from __future__ import annotations

import contextlib
import errno
import gzip
import hashlib
import json
import os
import shlex
import shutil
import sqlite3
import subprocess
import tarfile
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tagwise.errors import InvalidArgument, StoreUnavailable
from tagwise.settings import Settings

__all__ = ["Backup", "Restored", "restore", "take"]

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
    sha256: dict[str, str] = field(default_factory=dict)  # file name -> hex digest (none for backup.json itself)


def take(settings: Settings, target: Path) -> Backup:
    """Back up the store ``settings`` name, its models' folders and the generated API key into ``target``
    (a folder that must not exist yet, or be empty)."""
    started = time.monotonic()
    target = target.expanduser()
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidArgument(f"{target} already exists and is not an empty folder: give a new folder for the backup (one named "
                              "by the day, backups/$(date +%F), exists from that day's first backup on: for another, add the time, "
                              "backups/$(date +%F-%H%M%S)); a backup never overwrites another.")
    partial = None
    try:
        partial = _staging(target, "partial")
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
        result.sha256 = {name: _sha256(partial / name) for name in result.files}
        result.seconds = time.monotonic() - started
        _write_manifest(partial / "backup.json", result)
        result.files["backup.json"] = (partial / "backup.json").stat().st_size
        _settle(partial, target)
    except OSError as exc:
        if partial is not None:
            shutil.rmtree(partial, ignore_errors=True)
        if not _writing(exc, lambda path: _within(path, target)):
            raise  # reading the source (a model folder): its own message names the file
        raise InvalidArgument(f"The backup could not be written to {target}: {_reason(exc)}; nothing was kept there."
                              f"{_space_advice(exc)}") from None
    except BaseException:
        if partial is not None:
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
    with tarfile.open(folder / "models.tgz", "w:gz", compresslevel=6, dereference=True) as tar:  # see _archive_folder
        for project, model_id in in_use:
            source = models_dir / project / model_id
            if not (source / "manifest.json").is_file():  # deleted since the copy, or already missing from the model store
                result.missing.append(f"{project}/{model_id}")
                continue
            _archive_folder(tar, source, f"{models_dir.name}/{project}/{model_id}")
            result.model_folders += 1
    return result


def _archive_folder(tar: tarfile.TarFile, source: Path, arcname: str) -> None:
    """A model folder into ``tar`` (opened with ``dereference``) as plain files and folders, which is all
    a restore takes: a file an operator linked (a dedupe tool's hard link, a file moved and linked back)
    goes in as the file it points at; a link to a folder, or to nothing, is left out (followed, one to
    ".." copied the model forty times, and a dangling one failed the whole backup)."""
    tar.add(source, arcname=arcname, recursive=False)
    for root, folders, files in os.walk(source):  # a linked folder is listed, not entered
        here = Path(root)
        folders[:] = sorted(name for name in folders if not (here / name).is_symlink())
        for name in [*folders, *sorted(files)]:
            path = here / name
            if path.is_symlink() and not path.is_file():
                continue
            tar.add(path, arcname=f"{arcname}/{path.relative_to(source).as_posix()}", recursive=False)


@contextmanager
def _sqlite_copy(source: Path, copy: Path) -> Iterator[sqlite3.Connection]:
    """``VACUUM INTO`` a compact copy of the SQLite store (one read transaction: consistent, and the
    server's writes go on), checked; yields a connection to the copy."""
    if not source.is_file():
        raise InvalidArgument(f"There is no store at {source}: point TAGWISE_DATA_DIR (or --data-dir, or "
                              "TAGWISE_DATABASE_URL) at the data dir tagwise serves from.")
    conn, copying = None, False
    try:
        conn = sqlite3.connect(source, timeout=30)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # the store opens: what fails after is the copy
        copying = True
        conn.execute("VACUUM INTO ?", (str(copy),))
    except sqlite3.Error as exc:
        if copying and getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_FULL, sqlite3.SQLITE_CANTOPEN, sqlite3.SQLITE_READONLY):
            # VACUUM INTO could not write the copy: the backup's disk failed, not the store
            code = errno.ENOSPC if exc.sqlite_errorcode == sqlite3.SQLITE_FULL else errno.EACCES
            raise OSError(code, os.strerror(code), str(copy)) from None
        raise StoreUnavailable(f"The store {source} could not be copied: {exc}.") from None
    finally:
        if conn is not None:
            conn.close()
    if problem := _sqlite_check(copy):
        raise StoreUnavailable(f"The copy of {source} fails SQLite's check ({problem}): the store itself is damaged; "
                               "keep the last whole backup.")
    conn = sqlite3.connect(copy)
    try:
        yield conn
    finally:
        conn.close()


@contextmanager
def _pg_snapshot(url: str, dump: Path) -> Iterator[Any]:
    """``pg_dump -Fc`` of one snapshot, exported from a read-only transaction that stays open, so
    that what is read through the yielded connection is what the dump holds."""
    pg_dump, dsn, env = _pg_tool("pg_dump", url)
    conn = _pg_connect(dsn, env, "back it up", autocommit=True)  # BEGIN below is the transaction's
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


def _pg_tool(name: str, url: str) -> tuple[str, str, dict[str, str]]:
    """The path of PostgreSQL's ``name`` (pg_dump, pg_restore), and :func:`_conninfo` of ``url``."""
    found = shutil.which(name)
    if found is None:
        raise StoreUnavailable(f"{name} is not installed: install PostgreSQL's client programs (Debian: apt-get install "
                               "postgresql-client) on this machine, at the server's major version or newer.")
    return (found, *_conninfo(url))


def _pg_connect(dsn: str, env: dict[str, str], doing: str, **options: Any) -> Any:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    if "connect_timeout" not in conninfo_to_dict(dsn):  # the URL's own wins (it was always 10 s)
        options.setdefault("connect_timeout", 10)
    try:
        return psycopg.connect(dsn, password=env.get("PGPASSWORD"), **options)
    except psycopg.Error as exc:
        reason = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())  # libpq's message spans lines
        raise StoreUnavailable(f"PostgreSQL could not be reached to {doing}: {reason}") from None


def _conninfo(url: str) -> tuple[str, dict[str, str]]:
    """libpq's connection string for a SQLAlchemy URL, without its password, and the environment for
    pg_dump and pg_restore, with it: a password on their command line is shown by ``ps`` to every
    user of the machine (SQLAlchemy's ``URL.set(password=None)`` leaves it in)."""
    from psycopg.conninfo import make_conninfo
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    # the URL's parts, then its query's (postgresql:///tagwise?host=/run/postgresql: a Unix socket), which win as in
    # libpq; passed twice, host made make_conninfo raise TypeError
    parts = {"host": parsed.host, "port": parsed.port, "dbname": parsed.database, "user": parsed.username}
    options = {key: value for key, value in parsed.query.items() if isinstance(value, str)}
    dsn = make_conninfo(**{**{k: v for k, v in parts.items() if v is not None}, **options})
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = parsed.password
    return dsn, env


def _staging(target: Path, what: str) -> Path:
    """A hidden folder to write ``target``'s files in, renamed (or, inside an existing empty
    ``target``, moved) into place by :func:`_settle` once whole: beside it, or inside it when it
    exists already (an empty folder made for it, or a mount point, which cannot be replaced)."""
    inside = target.is_dir()
    staging = (target / f".{what}-{os.getpid()}") if inside else target.parent / f".{target.name}.{what}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700, parents=True)
    return staging


def _settle(staging: Path, target: Path) -> None:
    """Put what :func:`_staging` holds in ``target``'s place (renames within one file system)."""
    if staging.parent == target:
        for entry in staging.iterdir():
            entry.rename(target / entry.name)
        staging.rmdir()
    else:
        staging.rename(target)


def _extract(tar: tarfile.TarFile, member: tarfile.TarInfo, into: Path) -> None:
    """One member, only a plain file or folder inside ``into`` (a fresh folder): no link of any kind.
    tarfile's ``data`` filter alone let a chain of symbolic links write outside the folder on the
    Python 3.11.7 tagwise runs on (CVE-2025-4517: a crafted backup's restore wrote a file anywhere
    its user could), and it takes links that point inside; Python before 3.11.4 has no filter. The
    filter still runs after the check where there is one."""
    path = Path(member.name)
    if path.is_absolute() or ".." in path.parts or not (member.isfile() or member.isdir()):
        raise tarfile.TarError(f"{member.name!r} is not a plain file or folder inside the archive")
    if hasattr(tarfile, "data_filter"):
        tar.extract(member, into, filter="data")
        return
    tar.extract(member, into)
    (into / path).chmod(0o700 if member.isdir() else 0o600)


def _tables(conn: Any, store: str) -> set[str]:
    query = ("SELECT name FROM sqlite_master WHERE type = 'table'" if store == "sqlite"
             else "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return {row[0] for row in _rows(conn, query)}


def _rows(conn: Any, query: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in conn.execute(query).fetchall()]


def _scalar(conn: Any, query: str) -> Any:
    return conn.execute(query).fetchone()[0]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _within(path: Path, target: Path) -> bool:
    """Whether an error at ``path`` is one of writing ``target``: the folder, a folder above it, a
    file in it, or its hidden staging folder beside it."""
    path, target = path.absolute(), target.absolute()
    staging = any(p.parent == target.parent and p.name.startswith(f".{target.name}.") for p in (path, *path.parents))
    return path == target or target in path.parents or path in target.parents or staging


def _writing(exc: OSError, ours: Any) -> bool:
    """Whether ``exc`` is one of writing the copy: a full disk or a read-only one whatever file it
    names (shutil.copyfile names its source on ENOSPC), else when ``ours`` holds for the file named."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS) or exc.filename is None:
        return True
    return bool(ours(Path(exc.filename)))


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).rstrip(".")


def _space_advice(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return " Free space on that disk, or write to another one."
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return " Give a folder this user can write to."
    return ""


def _write_manifest(path: Path, backup: Backup) -> None:
    from tagwise import __version__

    path.write_text(json.dumps({
        "tagwise": __version__, "created": datetime.now(UTC).isoformat(timespec="seconds"), "store": backup.store, "schemaRevision": backup.revision,
        "counts": backup.counts, "modelFolders": backup.model_folders, "missingModelFolders": backup.missing,
        "files": backup.files, "sha256": backup.sha256, "seconds": round(backup.seconds, 2),
    }, indent=2) + "\n")
    path.chmod(0o600)


@dataclass
class Restored:
    """What :func:`restore` put back: the backup's ``backup.json``, and where."""

    manifest: dict[str, Any]
    store: str            # the store it was restored to, as a start-up line names it
    model_folders: int
    api_key: bool         # the generated key came back
    kept_key: bool = False  # the data dir had an api-key file already, which was kept (the backup's was not copied)
    newer_models: list[str] = field(default_factory=list)  # "project/model" folders a newer tagwise saved


def restore(settings: Settings, source: Path) -> Restored:
    """Put the backup in ``source`` back where ``settings`` point: a data dir without a store (or an
    empty PostgreSQL database) and an empty model store. Checked before anything is written; run it
    with tagwise stopped. The next start upgrades an older backup's schema."""
    manifest = _read_manifest(source)
    sqlite_file = settings.sqlite_file
    wanted = "sqlite" if sqlite_file is not None else "postgresql"
    if manifest["store"] != wanted:
        where = ("set TAGWISE_DATABASE_URL to an empty PostgreSQL database" if manifest["store"] == "postgresql"
                 else "unset TAGWISE_DATABASE_URL and point TAGWISE_DATA_DIR at a new data dir")
        raise InvalidArgument(f"{source} is a backup of a {manifest['store']} store and the settings name a {wanted} one: {where}.")
    models_dir = settings.models_dir
    if models_dir.is_dir() and any(models_dir.iterdir()):
        raise InvalidArgument(f"The model store {models_dir} is not empty: restore into a new data dir (with tagwise stopped, move "
                              "the old one aside first, e.g. mv tagwise-data tagwise-data.old), or empty TAGWISE_MODEL_STORE_DIR.")
    _check_files(source, manifest)
    if sqlite_file is not None:
        _check_sqlite(source / "tagwise.db")
    _check_revision(source, manifest, sqlite_file is not None)
    unpacked = store = None
    made = [folder for folder in (settings.data_dir, models_dir.parent, models_dir) if not folder.exists()]
    try:
        unpacked, folders = _unpack_models(source / "models.tgz", models_dir)  # beside the model store, moved in last
        newer = _newer_models(unpacked)
        if sqlite_file is not None:
            _restore_sqlite(source / "tagwise.db", sqlite_file)
            store = f"SQLite {sqlite_file}"
        else:
            store = _restore_pg(source / "tagwise.dump", settings.resolved_database_url)
        try:
            _settle(unpacked, models_dir)
        except BaseException:
            if sqlite_file is not None:  # a store without its models is no restore: it would refuse the next try
                sqlite_file.unlink(missing_ok=True)
            raise
    except OSError as exc:  # the backup was checked: what failed is writing here (a full disk, no rights)
        if not _writing(exc, lambda path: source.absolute() not in path.absolute().parents):
            raise
        places = [models_dir] if sqlite_file is None else [sqlite_file.parent, models_dir]
        where = " and ".join(str(p) for p in places if not any(other in p.parents for other in places))
        done = (f"the database {store.removeprefix('PostgreSQL ')} holds the restored store: drop and create it again "
                "(dropdb, createdb) before the next try" if store and sqlite_file is None else "nothing was restored")
        raise InvalidArgument(f"The restore could not write to {where}: {_reason(exc)}; {done}.{_space_advice(exc)}") from None
    finally:
        if unpacked is not None:
            shutil.rmtree(unpacked, ignore_errors=True)
        if store is None:  # refused or failed before a store was written (a database that is not empty, PostgreSQL
            for folder in reversed(made):  # away): the folders it made for it go again, those left empty
                with contextlib.suppress(OSError):
                    folder.rmdir()
    key = source / "api-key"
    kept_key = key.is_file() and (settings.data_dir / "api-key").exists()
    restored_key = key.is_file() and not kept_key
    if restored_key:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(key, settings.data_dir / "api-key")
        (settings.data_dir / "api-key").chmod(0o600)
    return Restored(manifest, store, folders, restored_key, kept_key, newer)


def _newer_models(unpacked: Path) -> list[str]:
    """The model folders (``project/model``) of a format this version cannot read: a backup a newer
    tagwise took was restored without a word, and those deployments then answered 500s."""
    from tagwise.ml.persist import newer_format

    return sorted(f"{path.parent.parent.name}/{path.parent.name}" for path in unpacked.glob("*/*/manifest.json")
                  if newer_format(path.parent))


def _read_manifest(source: Path) -> dict[str, Any]:
    if not source.is_dir():  # "is not a backup tagwise wrote (it has no backup.json)" of a mistyped path
        raise InvalidArgument(f"{source}: {'a file, not a backup folder' if source.exists() else 'no such folder'}.")
    try:
        manifest = json.loads((source / "backup.json").read_text())
    except FileNotFoundError:
        raise InvalidArgument(f"{source} is not a backup tagwise backup wrote (it has no backup.json); a backup taken by hand "
                              "is restored by hand (docs/operations.md, Backup and restore).") from None
    except (OSError, ValueError) as exc:
        raise InvalidArgument(f"{source}/backup.json cannot be read: {exc}.") from None
    store = manifest.get("store") if isinstance(manifest, dict) else None
    needed = ["backup.json", "models.tgz", "tagwise.db" if store == "sqlite" else "tagwise.dump"]
    if store not in ("sqlite", "postgresql") or (missing := [name for name in needed if not (source / name).is_file()]):
        raise InvalidArgument(f"{source} is not a whole tagwise backup (missing: {', '.join(missing) if store else 'its store kind'}).")
    return manifest


def _read_only(path: Path) -> str:
    """A read-only SQLite URI of ``path``, quoted: a ``#`` or ``?`` in a folder's name (backups/nightly#2)
    cut the path there, and SQLite checked an empty file it made instead."""
    return f"{path.absolute().as_uri()}?mode=ro"


def _read_rows(path: Path, query: str) -> list[tuple[Any, ...]]:
    """``query``'s rows from a SQLite file, opened read only."""
    conn = sqlite3.connect(_read_only(path), uri=True)
    try:
        return conn.execute(query).fetchall()
    finally:
        conn.close()


def _sqlite_check(path: Path, pragma: str = "quick_check") -> str | None:
    """SQLite's check of a store file, read only: its first finding, or None when it is whole.
    ``integrity_check`` also compares every index with its table (a damaged row that ``quick_check``
    passes: 0.07 s against 0.02 s on 7.9 MB)."""
    try:
        found = [row[0] for row in _read_rows(path, f"PRAGMA {pragma}")]
    except sqlite3.DatabaseError as exc:  # "file is not a database", "database disk image is malformed"
        found = [str(exc)]
    return None if found == ["ok"] else str(found[0])


def _check_files(source: Path, manifest: dict[str, Any]) -> None:
    """Every file backup.json lists is there with its size and SHA-256, and, in a backup from before
    2026-11-28 (sizes only, or nothing), models.tgz reads to its end: a copy cut short or damaged in
    transit is refused before anything is written (tarfile alone stops quietly at a damaged entry)."""
    sizes, digests = manifest.get("files") or {}, manifest.get("sha256") or {}
    for name in sorted(set(sizes) - {"backup.json"}):
        path = source / name
        if not path.is_file():
            raise InvalidArgument(f"{path} is missing: the backup is not whole; restore another one.")
        if (size := path.stat().st_size) != sizes[name]:
            raise InvalidArgument(f"{path} has {size:,} bytes where the backup wrote {sizes[name]:,}: it was cut short or changed "
                                  "since (a copy not finished?); restore from a whole copy of the backup, or an older one.")
        if name in digests and _sha256(path) != digests[name]:
            raise InvalidArgument(f"{path} is not the file the backup wrote (its SHA-256 differs): it was damaged since; restore "
                                  "from another copy of the backup, or an older one.")
    archive = source / "models.tgz"
    if "models.tgz" in digests:
        return  # its digest was compared: reading it again proves nothing more
    try:
        with gzip.open(archive) as file:
            while file.read(1 << 20):
                pass
    except (OSError, EOFError, zlib.error) as exc:  # a bad header or CRC, cut short, a damaged stream
        raise InvalidArgument(f"{archive} cannot be read to its end ({exc}): the backup is damaged; restore an older one.") from None


def _check_sqlite(copy: Path) -> None:
    """SQLite's integrity check of a backup's store file, before anything is written."""
    if problem := _sqlite_check(copy, "integrity_check"):
        raise InvalidArgument(f"{copy} fails SQLite's check ({problem}): the backup is damaged; restore an older one.")


def _check_revision(source: Path, manifest: dict[str, Any], sqlite: bool) -> None:
    """A store a newer tagwise wrote is refused before it is restored (this version's server would
    refuse to start on it)."""
    from tagwise.storage.db import known_revisions

    if sqlite:
        try:
            rows = _read_rows(source / "tagwise.db", "SELECT version_num FROM alembic_version")
        except sqlite3.Error:
            rows = []  # an empty store: no table yet
        revision = rows[0][0] if rows else None
    else:
        revision = manifest.get("schemaRevision")
    known, head = known_revisions()
    if revision and revision not in known:
        raise InvalidArgument(f"{source} holds a store a newer tagwise wrote (schema revision {revision}; this version knows up to "
                              f"{head}): restore it with that version, or restore a backup taken before the upgrade.")


def _restore_sqlite(copy: Path, target: Path) -> None:
    """The backup's store file to ``target``, which must not exist (nor its -wal: SQLite would apply an
    old log to the copy)."""
    there = [path for path in (target, Path(f"{target}-wal"), Path(f"{target}-shm")) if path.exists()]
    if there:
        raise InvalidArgument(f"{there[0]} exists: restore into a new data dir (with tagwise stopped, move the old one aside "
                              f"first, e.g. mv {shlex.quote(str(target.parent))} {shlex.quote(str(target.parent) + '.old')}); a restore never "
                              "overwrites a store.")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.restoring-{os.getpid()}")
    try:
        shutil.copyfile(copy, partial)
        partial.chmod(0o600)
        partial.rename(target)
    finally:
        partial.unlink(missing_ok=True)


def _restore_pg(dump: Path, url: str) -> str:
    """``pg_restore`` into the (empty) database ``url`` names; returns that database's name for people."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    pg_restore, dsn, env = _pg_tool("pg_restore", url)
    with _pg_connect(dsn, env, "restore into it") as conn:
        tables = [row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")]
    name = f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"
    if tables:
        raise InvalidArgument(f"The database {name} is not empty ({len(tables)} tables): restore into a new, empty database "
                              "(createdb), then point TAGWISE_DATABASE_URL at it; a restore never overwrites a store.")
    done = subprocess.run([pg_restore, "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction", f"--dbname={dsn}", str(dump)],
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        said = done.stderr.strip() or done.stdout.strip()
        advice = (" (restore as the database's owner, e.g. createdb -O <the user in TAGWISE_DATABASE_URL>, or grant that user "
                  "CREATE on its schema)" if "permission denied" in said else "")
        raise StoreUnavailable(f"pg_restore failed (exit code {done.returncode}), nothing was restored: "
                               f"{' '.join(said.split())}{advice}")
    return f"PostgreSQL {name}"


def _unpack_models(archive: Path, models_dir: Path) -> tuple[Path, int]:
    """``models.tgz`` into a hidden folder beside ``models_dir`` (whatever the model store it came from
    was named), to be renamed into its place; returns it and how many model folders it holds. Only
    plain files and folders inside it (tarfile's ``data`` filter)."""
    unpacked = _staging(models_dir, "restoring")
    folders = 0
    try:
        with tarfile.open(archive) as tar:
            for member in tar:
                parts = Path(member.name).parts
                if len(parts) < 2:  # the model store's own folder
                    continue
                member.name = str(Path(*parts[1:]))
                _extract(tar, member, unpacked)
                folders += len(parts) == 3 and member.isdir()
    except BaseException as exc:
        shutil.rmtree(unpacked, ignore_errors=True)
        if isinstance(exc, OSError) and (exc.filename is None or _within(Path(exc.filename), unpacked)):
            raise  # writing (a full disk): restore() says where
        if isinstance(exc, OSError | tarfile.TarError | EOFError | zlib.error):
            raise InvalidArgument(f"{archive} cannot be unpacked ({exc}): the backup is damaged; restore an older one.") from None
        raise
    return unpacked, folders
