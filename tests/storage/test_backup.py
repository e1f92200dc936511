"""``storage.backup.take`` on both backends, while another connection keeps writing: the copy is one
moment's store, restorable, and what it says it holds."""

from __future__ import annotations

import shutil
import threading

import pytest
from sqlalchemy import text

from tests.storage.pg import server


def _documents(ctx) -> int:
    with ctx.db.read() as conn:
        return conn.execute(text("SELECT count(*) FROM documents")).scalar_one()


def test_a_backup_taken_during_imports_restores_the_store_of_one_moment(store, backend_url, tmp_path):
    from tagwise.core import tagging
    from tagwise.core.context import Context
    from tagwise.errors import InvalidArgument
    from tagwise.settings import Settings
    from tagwise.storage import backup

    tagging.create_project(store, "busy", "CustomSingleLabelClassification", "en")
    stop = threading.Event()

    def keep_importing() -> None:
        batch = 0
        while not stop.is_set():
            batch += 1
            tagging.add_documents(store, "busy", [{"text": f"ticket {batch}-{i}", "location": f"{batch}-{i}.txt"} for i in range(50)])

    writer = threading.Thread(target=keep_importing)
    writer.start()
    try:
        while _documents(store) < 200:  # the backup starts while documents arrive
            threading.Event().wait(0.02)
        taken = backup.take(store.settings, tmp_path / "backups" / "b1")
    finally:
        stop.set()
        writer.join()
    assert taken.counts["projects"] == 1 and taken.counts["documents"] % 50 == 0 and taken.counts["documents"] >= 200
    names = sorted(p.name for p in taken.folder.iterdir())
    assert names == ["backup.json", "models.tgz", "tagwise.db" if backend_url is None else "tagwise.dump"]
    assert not [p for p in taken.folder.parent.iterdir() if p.name.startswith(".")]  # no partial folder left
    assert all(p.stat().st_mode & 0o077 == 0 for p in taken.folder.iterdir())  # as private as the store

    # restored (tagwise restore) into a new data dir or an empty database, it opens at the backup's moment: whole batches only
    url = None if backend_url is None else server().create_database()
    settings = Settings(data_dir=tmp_path / "restored", api_key="k", database_url=url)
    restored_into = backup.restore(settings, taken.folder)
    assert restored_into.manifest["counts"] == taken.counts
    restored = Context.open(settings)
    try:
        assert _documents(restored) == taken.counts["documents"]
        assert tagging.add_documents(restored, "busy", [{"text": "after the restore"}])["added"] == 1
        with pytest.raises(InvalidArgument, match="a restore never overwrites a store"):
            backup.restore(settings, taken.folder)  # not again over the restored one
    finally:
        restored.close()
        if url is not None:
            server().drop_database(url)


def test_pg_dump_and_pg_restore_get_the_password_in_their_environment_not_their_command_line():
    # `ps` shows every user a command line: SQLAlchemy's URL.set(password=None) had left it in
    from tagwise.storage.backup import _conninfo

    dsn, env = _conninfo("postgresql+psycopg://tw:se cret@db.example:6543/tagwise?sslmode=require")
    assert "se cret" not in dsn and env["PGPASSWORD"] == "se cret"
    assert dsn == "host=db.example port=6543 dbname=tagwise user=tw sslmode=require"


def test_a_restore_into_an_empty_model_store_folder_and_without_tarfiles_filter(tmp_path, monkeypatch):
    # a model store that is a mount point cannot be replaced by a rename (the restore ended in "Device or resource
    # busy" after writing the store); and Python before 3.11.4 (Debian 12's 3.11.2) has no tarfile filter
    import tarfile

    from tagwise.core.context import Context
    from tagwise.settings import Settings
    from tagwise.storage import backup

    source = Settings(data_dir=tmp_path / "data", api_key="k")
    Context.open(source).close()
    (source.models_dir / "p" / "m1").mkdir(parents=True)
    taken = backup.take(source, tmp_path / "b")
    mounted = tmp_path / "mnt" / "models"
    mounted.mkdir(parents=True)
    monkeypatch.delattr(tarfile, "data_filter", raising=False)
    backup.restore(Settings(data_dir=tmp_path / "new", api_key="k", model_store_dir=mounted), taken.folder)
    assert (tmp_path / "new" / "tagwise.db").is_file() and not [p for p in mounted.iterdir() if p.name.startswith(".")]
    evil = tmp_path / "evil.tgz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("models/../../escaped.txt")
        tar.addfile(info)
    shutil.copy(evil, taken.folder / "models.tgz")
    from tagwise.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="cannot be unpacked"):
        backup.restore(Settings(data_dir=tmp_path / "other", api_key="k"), taken.folder)
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "other" / "tagwise.db").exists()
