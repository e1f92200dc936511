"""SQLite specifics (WAL mode) and PostgreSQL's rights. (Everything both backends promise is in test_contract.py.)"""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tests.storage.pg import server


def test_sqlite_runs_in_wal_mode(ctx):
    with ctx.db.read() as conn:
        assert conn.execute(text("pragma journal_mode")).scalar_one() == "wal"




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
