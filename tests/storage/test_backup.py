"""``storage.backup.take`` on both backends, while another connection keeps writing: the copy is one
moment's store, restorable, and what it says it holds."""

from __future__ import annotations

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
