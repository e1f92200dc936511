"""SQLite specifics (WAL mode) and PostgreSQL's rights. (Everything both backends promise is in test_contract.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from tests.storage.pg import server

pytestmark = pytest.mark.serial  # how long a write waits for a lock: make test runs it alone


def test_sqlite_runs_in_wal_mode_and_overwrites_what_it_deletes(ctx):
    with ctx.db.read() as conn:
        assert conn.execute(text("pragma journal_mode")).scalar_one() == "wal"
        # a deleted text is zeroed in the file (Debian's SQLite default, not every build's)
        assert conn.execute(text("pragma secure_delete")).scalar_one() == 1




def _journal_modes(paths: list[str], start_at: float) -> set[str]:
    import time

    from tagwise.storage.db import Database

    modes = set()
    for i, path in enumerate(paths):
        time.sleep(max(0.0, start_at + i * 0.02 - time.time()))  # every process opens file i at the same moment
        db = Database(f"sqlite:///{path}")
        try:
            with db.read() as conn:
                modes.add(conn.execute(text("pragma journal_mode")).scalar_one())
        finally:
            db.dispose()
    return modes


def test_processes_opening_new_databases_at_once_all_get_wal(tmp_path):
    """Switching a new file to WAL answers "database is locked" at once (no busy wait) when another
    process is doing the same (serve --workers N on a new data dir): 8 processes open the same
    200 new files in step, and every open must end in WAL."""
    import multiprocessing
    import time

    paths = [str(tmp_path / f"new-{i}.db") for i in range(200)]
    with multiprocessing.get_context("spawn").Pool(8) as pool:  # spawn: forking a threaded pytest can deadlock
        start_at = time.time() + 3.0  # after the workers have started and imported
        modes = pool.starmap(_journal_modes, [(paths, start_at)] * 8, chunksize=1)
    assert set().union(*modes) == {"wal"}


def test_a_database_the_user_cannot_create_tables_in_is_one_line_saying_what_to_do(tmp_path):
    # the documented "createdb tagwise" made by a superuser leaves the user no right to create tables
    # in PostgreSQL 15: a 362-line traceback ending in InsufficientPrivilege
    import psycopg

    from tagwise.core.context import Context
    from tagwise.errors import StoreUnavailable
    from tagwise.settings import Settings

    pg = server()
    url = pg.create_database()
    with psycopg.connect(pg.url(), autocommit=True) as conn:
        conn.execute("DROP ROLE IF EXISTS tagwise_plain")
        conn.execute("CREATE ROLE tagwise_plain LOGIN")
    try:
        plain = url.replace("postgresql://postgres@", "postgresql://tagwise_plain@")
        with pytest.raises(StoreUnavailable, match=r"permission denied for schema public \(tagwise creates its tables .*createdb -O"):
            Context.open(Settings(data_dir=tmp_path, api_key="k", database_url=plain))
    finally:
        pg.drop_database(url)
        with psycopg.connect(pg.url(), autocommit=True) as conn:
            conn.execute("DROP ROLE IF EXISTS tagwise_plain")


def test_a_new_sqlite_store_is_readable_by_its_owner_only(tmp_path):
    from tagwise.core.context import Context
    from tagwise.settings import Settings

    Context.open(Settings(data_dir=tmp_path / "data", api_key="k")).close()
    assert (tmp_path / "data" / "tagwise.db").stat().st_mode & 0o777 == 0o600  # it was 0644: all documents


def test_an_existing_sqlite_store_readable_by_others_is_named_in_the_log(tmp_path, caplog):
    # an upgrade keeps the 0644 file an older tagwise made: the operator is told, the mode is theirs to change
    from tagwise.core.context import Context
    from tagwise.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", api_key="k")
    Context.open(settings).close()
    (tmp_path / "data" / "tagwise.db").chmod(0o644)
    with caplog.at_level("WARNING", logger="tagwise.storage.db"):
        Context.open(settings).close()
    assert "can be read by other users (mode 644)" in caplog.text and "chmod 600" in caplog.text
    assert (tmp_path / "data" / "tagwise.db").stat().st_mode & 0o777 == 0o644


def _store_with_table(tmp_path, monkeypatch, wait_s: float, held_up_s: float = 5.0):
    """A SQLite store with a table ``t``, its write limits shortened for a test."""
    from tagwise.storage import db as db_module

    monkeypatch.setattr(db_module, "WRITE_WAIT_S", wait_s)
    monkeypatch.setattr(db_module, "HELD_UP_S", held_up_s)
    db = db_module.Database(f"sqlite:///{tmp_path / 'store.db'}")
    with db.write() as conn:
        conn.execute(text("create table t (x int)"))
    return db


def _hold_the_file(path, seconds: float):
    """Another process's write lock on a SQLite file (a script with the database open), for ``seconds``."""
    import sqlite3
    import threading

    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")
        held.set()
        done.wait(seconds)
        other.execute("ROLLBACK")
        other.close()

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    held.wait(5)
    return done, thread


def test_a_write_behind_another_processes_lock_gives_up_in_bounded_time_and_reads_go_on(tmp_path, monkeypatch):
    # a script held the file's write lock for 100 s: one PATCH waited 90 s for its 503 (behind the job runner's
    # own 30 s waits), and five others waited 74 s and then applied after their client had given up
    import time

    from tagwise.errors import StoreBusy

    db = _store_with_table(tmp_path, monkeypatch, wait_s=1.0)
    done, thread = _hold_the_file(str(tmp_path / "store.db"), 30)
    try:
        started = time.monotonic()
        with pytest.raises(StoreBusy, match="is holding the SQLite file's write lock"), db.write() as conn:
            conn.execute(text("insert into t values (1)"))
        assert time.monotonic() - started < 3
        with db.read() as conn:  # WAL: reading goes on
            assert conn.execute(text("select count(*) from t")).scalar_one() == 0
    finally:
        done.set()
        thread.join()
    with db.write() as conn:  # and nothing stays broken
        conn.execute(text("insert into t values (1)"))
    db.dispose()


def test_a_burst_of_short_writes_all_waits_and_lands(tmp_path, monkeypatch):
    # a cap of 40 waiting writes refused 48 of 100 one-row tag writes sent at once, which drain in a second
    from concurrent.futures import ThreadPoolExecutor

    db = _store_with_table(tmp_path, monkeypatch, wait_s=30.0)

    def one(i: int) -> None:
        with db.write() as conn:
            conn.execute(text("insert into t values (:x)"), {"x": i})

    with ThreadPoolExecutor(100) as pool:
        list(pool.map(one, range(100)))
    with db.read() as conn:
        assert conn.execute(text("select count(*) from t")).scalar_one() == 100
    db.dispose()


def test_behind_a_write_held_up_by_another_process_new_writes_give_up_at_once(tmp_path, monkeypatch):
    # 45 writes queued behind a stuck lock took all of the server's worker threads: /health answered after 84 s
    import threading
    import time

    from tagwise.errors import StoreBusy

    db = _store_with_table(tmp_path, monkeypatch, wait_s=3.0, held_up_s=0.3)
    done, thread = _hold_the_file(str(tmp_path / "store.db"), 30)
    outcome: list[str] = []

    def first() -> None:  # holds the process's lock, waiting on the file for WRITE_WAIT_S
        try:
            with db.write():
                outcome.append("written")
        except StoreBusy:
            outcome.append("busy")

    try:
        holder = threading.Thread(target=first)
        holder.start()
        time.sleep(0.6)  # held up past HELD_UP_S
        started = time.monotonic()
        with pytest.raises(StoreBusy), db.write():
            pass
        assert time.monotonic() - started < 1  # at once, not after the holder's 3 s
        holder.join()
        assert outcome == ["busy"]  # and the holder itself gave up at WRITE_WAIT_S
    finally:
        done.set()
        thread.join()
    db.dispose()


def test_a_read_only_store_says_so_and_asks_for_no_retry(tmp_path):
    # a store the server cannot write (chattr +i, a read-only mount) answered "cannot be reached right now.
    # Retry in a few seconds" with Retry-After: 5, and clients retried for nothing
    import json
    import sqlite3

    from sqlalchemy import create_engine

    from tagwise.api.errors import unexpected_response

    path = tmp_path / "store.db"
    sqlite3.connect(path).execute("create table t (x int)").connection.close()
    engine = create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    with engine.connect() as conn, pytest.raises(Exception) as raised:
        conn.execute(text("insert into t values (1)"))
    response = unexpected_response(raised.value)
    assert response.status_code == 503 and "retry-after" not in response.headers
    error = json.loads(response.body)["error"]
    assert error["code"] == "ServiceUnavailable" and "read-only" in error["message"] and "Retrying will not help" in error["message"]
    assert error["innererror"]["code"] == "StoreReadOnly"  # what tells tagwise's client not to retry it
    engine.dispose()


def test_a_write_waits_for_a_long_write_of_its_own_process_but_not_behind_one_held_up_by_another(tmp_path, monkeypatch):
    # a big import holds the process's lock for a minute (operations.md: 15-76 s): the writes behind it wait for it,
    # as before; only a holder that itself waits on another process's lock makes them give up at the deadline
    import threading
    import time

    from tagwise.errors import StoreBusy

    db = _store_with_table(tmp_path, monkeypatch, wait_s=0.5, held_up_s=0.2)
    inside = threading.Event()

    def big_import() -> None:
        with db.write() as conn:
            inside.set()
            time.sleep(1.5)  # working, three times the deadline
            conn.execute(text("insert into t values (1)"))

    holder = threading.Thread(target=big_import)
    holder.start()
    inside.wait(5)
    with db.write() as conn:  # waited ~1.5 s for it, and went through
        conn.execute(text("insert into t values (2)"))
    holder.join()

    done, thread = _hold_the_file(str(tmp_path / "store.db"), 30)
    try:
        stuck = threading.Thread(target=lambda: pytest.raises(StoreBusy, db.write().__enter__))
        stuck.start()
        time.sleep(0.1)  # it holds the process's lock and waits on the file
        started = time.monotonic()
        with pytest.raises(StoreBusy), db.write():
            pass
        assert time.monotonic() - started < 2
        stuck.join()
    finally:
        done.set()
        thread.join()
    with db.read() as conn:
        assert conn.execute(text("select count(*) from t")).scalar_one() == 2
    db.dispose()


@pytest.mark.parametrize("after_backup", ["a new table", "documents"])
def test_a_backup_restored_beside_the_old_write_ahead_log_is_refused_at_start_saying_what_to_do(tmp_path, after_backup):
    # a restore probe: the old tagwise.db-wal left beside a restored backup was applied to it; the server started,
    # /health said ok, and it served a mix of both times, with 500s. SQLite finds the file damaged, or fails to read it
    import gc
    import shutil
    import sqlite3

    from tagwise.core import tagging
    from tagwise.core.context import Context
    from tagwise.errors import StoreUnavailable
    from tagwise.settings import Settings

    settings = Settings(data_dir=tmp_path / "data", api_key="k")
    db = tmp_path / "data" / "tagwise.db"
    ctx = Context.open(settings)
    tagging.create_project(ctx, "p", "CustomSingleLabelClassification", "en")
    ctx.close()
    with sqlite3.connect(db) as live, sqlite3.connect(tmp_path / "backup.db") as backup:
        live.backup(backup)
    live = sqlite3.connect(db)  # the server goes on after the backup, and then crashes
    if after_backup == "documents":
        ctx = Context.open(settings)
        for batch in range(4):
            tagging.add_documents(ctx, "p", [{"location": f"{batch}-{i}", "text": f"ticket {i} " * 40} for i in range(2_000)])
    else:
        live.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x TEXT)")
        live.execute("CREATE INDEX ti ON t (x)")
        live.executemany("INSERT INTO t (x) VALUES (?)", ((f"x{i}" * 20,) for i in range(20_000)))
        live.commit()
        live.execute("DELETE FROM t WHERE id % 3 = 0")
        live.executemany("INSERT INTO t (x) VALUES (?)", ((f"y{i}" * 30,) for i in range(20_000)))
        live.commit()
    live.execute("PRAGMA wal_checkpoint(PASSIVE)")
    live.executemany("INSERT INTO blobs (container, location, text, modified_at) VALUES ('c', ?, 'x', '2026-11-28')",
                     ((f"late-{i}",) for i in range(5_000)))
    live.commit()
    for part in ("wal", "shm"):  # as a crash leaves them
        shutil.copy(f"{db}-{part}", tmp_path / f"crash-{part}")
    live.close()
    if after_backup == "documents":
        ctx.close()
    shutil.copy(tmp_path / "backup.db", db)  # the restore, without removing the -wal and -shm
    for part in ("wal", "shm"):
        shutil.copy(tmp_path / f"crash-{part}", f"{db}-{part}")
    with pytest.raises(StoreUnavailable, match=r"A backup copied in while the file's old -wal was left beside it does this .*"
                                                r"remove tagwise.db-wal and tagwise.db-shm, copy the backup in again and start"):
        Context.open(settings)
    # the refused open's connections go with the garbage (a cycle through the exception); a server that cannot open
    # its store exits, but this process opens the same file again, and SQLite shares its lock state per file
    gc.collect()
    for leftover in (f"{db}-wal", f"{db}-shm"):  # as the docs say: the restore then opens, as it was at the backup
        Path(leftover).unlink(missing_ok=True)
    shutil.copy(tmp_path / "backup.db", db)
    ctx = Context.open(settings)
    assert tagging.list_documents(ctx, "p", tagging.DocumentFilter()).total == 0
    ctx.close()
