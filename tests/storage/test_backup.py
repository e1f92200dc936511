"""``storage.backup.take`` on both backends, while another connection keeps writing: the copy is one
moment's store, restorable, and what it says it holds."""

from __future__ import annotations

import json
import os
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


def test_a_postgresql_store_reached_through_its_unix_socket_is_backed_up_and_restored(tmp_path):
    # postgresql:///db?host=/run/postgresql (libpq's spelling for a socket) served, but backup and restore raised
    # "make_conninfo() got multiple values for keyword argument 'host'"
    from tagwise.core import tagging
    from tagwise.core.context import Context
    from tagwise.errors import InvalidArgument
    from tagwise.settings import Settings
    from tagwise.storage import backup

    pg = server()
    urls = [pg.create_database(), pg.create_database()]
    socket_urls = [f"postgresql://postgres@/{url.rsplit('/', 1)[1]}?host={pg.root}&port={pg.port}" for url in urls]
    try:
        source = Context.open(Settings(data_dir=tmp_path / "a", api_key="k", database_url=socket_urls[0]))
        try:
            tagging.create_project(source, "p", "CustomSingleLabelClassification", "en")
            taken = backup.take(source.settings, tmp_path / "b")
        finally:
            source.close()
        assert taken.counts["projects"] == 1
        restored = backup.restore(Settings(data_dir=tmp_path / "c", api_key="k", database_url=socket_urls[1]), taken.folder)
        assert restored.manifest["counts"] == taken.counts
        # refused (the database is not empty now): the data dir it named was left behind, empty
        with pytest.raises(InvalidArgument, match="is not empty"):
            backup.restore(Settings(data_dir=tmp_path / "d", api_key="k", database_url=socket_urls[1]), taken.folder)
        assert not (tmp_path / "d").exists()
    finally:
        for url in urls:
            pg.drop_database(url)


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
    _sign_again(taken.folder)  # as a backup made to look whole
    from tagwise.errors import InvalidArgument

    with pytest.raises(InvalidArgument, match="cannot be unpacked"):
        backup.restore(Settings(data_dir=tmp_path / "other", api_key="k"), taken.folder)
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path / "other" / "tagwise.db").exists()


def test_a_restore_refuses_every_link_in_models_tgz(tmp_path):
    # a crafted backup's chain of symbolic links passed tarfile's data filter on Python 3.11.7 (CVE-2025-4517) and the
    # restore wrote a file outside the data dir; the filter also takes a link that points inside: no link of any kind now
    import io
    import tarfile

    from tagwise.core.context import Context
    from tagwise.errors import InvalidArgument
    from tagwise.settings import Settings
    from tagwise.storage import backup

    source = Settings(data_dir=tmp_path / "data", api_key="k")
    Context.open(source).close()
    (source.models_dir / "p" / "m1").mkdir(parents=True)
    taken = backup.take(source, tmp_path / "b")
    def member(name: str, kind: bytes = tarfile.REGTYPE, **values) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.type, info.mode = kind, 0o700 if kind == tarfile.DIRTYPE else 0o600
        for field, value in values.items():
            setattr(info, field, value)
        return info

    for kind, target in ((tarfile.SYMTYPE, "m1"), (tarfile.SYMTYPE, "/"), (tarfile.LNKTYPE, "models/p/m1/x")):
        with tarfile.open(taken.folder / "models.tgz", "w:gz") as tar:
            for name in ("models", "models/p", "models/p/m1"):
                tar.addfile(member(name, tarfile.DIRTYPE))
            tar.addfile(member("models/p/m1/x", size=2), io.BytesIO(b"{}"))
            tar.addfile(member("models/p/link", kind, linkname=target))
        _sign_again(taken.folder)
        with pytest.raises(InvalidArgument, match="'p/link' is not a plain file or folder inside the archive"):
            backup.restore(Settings(data_dir=tmp_path / "new", api_key="k"), taken.folder)
        assert not (tmp_path / "new").exists() or not any((tmp_path / "new").iterdir())


def test_links_an_operator_made_in_the_model_store_are_backed_up_as_the_files_they_point_at(tmp_path):
    # a dedupe tool's hard link (or a folder moved and linked back) went into models.tgz as a link, which the restore
    # refuses: "the backup is damaged; restore an older one", of a backup tagwise backup had just written
    from tagwise.settings import Settings
    from tagwise.storage import backup

    source, model = _store_with_a_model(tmp_path)
    (model / "manifest.json").write_text("{}")
    (model / "weights.bin").write_bytes(b"w" * 100)
    os.link(model / "weights.bin", model / "weights-copy.bin")
    (tmp_path / "elsewhere.json").write_text("{}")
    (model / "linked.json").symlink_to(tmp_path / "elsewhere.json")
    (model / "up").symlink_to("..")  # followed, it copied the model about forty times
    (model / "gone.json").symlink_to(tmp_path / "missing.json")  # followed, it failed the whole backup
    taken = backup.take(source, tmp_path / "b")
    assert taken.model_folders == 1
    target = Settings(data_dir=tmp_path / "new", api_key="k")
    backup.restore(target, taken.folder)
    restored = target.models_dir / "p" / "m1"
    assert (restored / "weights-copy.bin").read_bytes() == b"w" * 100 and (restored / "linked.json").read_text() == "{}"
    assert not (restored / "linked.json").is_symlink()
    assert sorted(p.name for p in restored.iterdir()) == ["linked.json", "manifest.json", "weights-copy.bin", "weights.bin"]


def _sign_again(folder):
    """backup.json's sizes and SHA-256 made to match the files as they are now."""
    from tagwise.storage.backup import _sha256

    manifest = json.loads((folder / "backup.json").read_text())
    for name in manifest["sha256"]:
        manifest["files"][name] = (folder / name).stat().st_size
        manifest["sha256"][name] = _sha256(folder / name)
    (folder / "backup.json").write_text(json.dumps(manifest))


def _store_with_a_model(tmp_path):
    """A SQLite store whose project ``p`` has model ``v1`` (id ``m1``), and that model's empty folder."""
    from sqlalchemy import text

    from tagwise.core import tagging
    from tagwise.core.context import Context
    from tagwise.settings import Settings

    source = Settings(data_dir=tmp_path / "data", api_key="k")
    ctx = Context.open(source)
    try:
        project = tagging.create_project(ctx, "p", "CustomSingleLabelClassification", "en")
        with ctx.db.write() as conn:
            conn.execute(text("INSERT INTO models (project_id, label, model_id, recipe, config_version, trained_at, duration_s, "
                              "artifact, evaluation, evaluation_results) VALUES (:p, 'v1', 'm1', 'linear', 'latest', "
                              "CURRENT_TIMESTAMP, 1.0, 'p/m1', '{}', '{}')"), {"p": project["id"]})
    finally:
        ctx.close()
    model = source.models_dir / "p" / "m1"
    model.mkdir(parents=True)
    return source, model


@pytest.fixture
def taken(tmp_path):
    """A SQLite backup with one model folder of three files."""
    from tagwise.storage import backup

    source, model = _store_with_a_model(tmp_path)
    for name, size in (("manifest.json", 200), ("arrays.npz", 300_000), ("state.json", 50_000)):
        (model / name).write_bytes(os.urandom(size))
    taken = backup.take(source, tmp_path / "b")
    assert taken.model_folders == 1
    return taken


def _restoring_into(tmp_path, name):
    from tagwise.settings import Settings

    mounted = tmp_path / name / "mnt"  # an existing, empty model store (a mount point): a leftover would block the next try
    mounted.mkdir(parents=True)
    return Settings(data_dir=tmp_path / name / "data", api_key="k", model_store_dir=mounted), mounted


def _nothing_written(settings, mounted):
    return not settings.sqlite_file.exists() and not any(mounted.iterdir()) and \
        not [p for p in mounted.parent.rglob("*") if p.name.startswith(".")]


def test_a_models_archive_damaged_or_cut_short_is_refused_before_anything_is_written(taken, tmp_path):
    # bytes flipped inside models.tgz restored with exit 0 and a model folder of 1 file of 3 (tarfile stops quietly at a
    # damaged entry); one cut in half left a hidden folder in the model store that refused every later restore
    from tagwise.errors import InvalidArgument
    from tagwise.storage import backup

    archive = taken.folder / "models.tgz"
    whole = archive.read_bytes()
    flipped = bytearray(whole)
    flipped[len(whole) // 2:len(whole) // 2 + 16] = bytes(16)
    settings, mounted = _restoring_into(tmp_path, "r1")
    archive.write_bytes(bytes(flipped))
    with pytest.raises(InvalidArgument, match=r"models.tgz is not the file the backup wrote \(its SHA-256 differs\)"):
        backup.restore(settings, taken.folder)
    assert _nothing_written(settings, mounted)
    archive.write_bytes(whole[:len(whole) // 2])
    with pytest.raises(InvalidArgument, match=f"models.tgz has {len(whole) // 2:,} bytes where the backup wrote {len(whole):,}"):
        backup.restore(settings, taken.folder)
    assert _nothing_written(settings, mounted)

    # a backup from before the checksums (sizes only, or none): models.tgz is read to its end first
    for damaged in (bytes(flipped), whole[:len(whole) // 2]):
        archive.write_bytes(damaged)
        manifest = json.loads((taken.folder / "backup.json").read_text())
        manifest.pop("sha256", None), manifest.pop("files", None)
        (taken.folder / "backup.json").write_text(json.dumps(manifest))
        with pytest.raises(InvalidArgument, match="models.tgz cannot be read to its end .*the backup is damaged"):
            backup.restore(settings, taken.folder)
        assert _nothing_written(settings, mounted)
    archive.write_bytes(whole)
    restored = backup.restore(settings, taken.folder)  # the same folders, the whole archive: it works
    assert restored.model_folders == 1 and sorted(p.name for p in (mounted / "p" / "m1").iterdir()) == [
        "arrays.npz", "manifest.json", "state.json"]


def test_a_full_disk_is_said_to_be_the_disk_not_the_backup(taken, tmp_path, monkeypatch):
    # "cannot be unpacked ([Errno 28] No space left on device): the backup is damaged; restore an older one" made an
    # operator throw away a good backup; a backup onto a full disk blamed the store
    import errno

    from tagwise.errors import InvalidArgument
    from tagwise.settings import Settings
    from tagwise.storage import backup

    settings, mounted = _restoring_into(tmp_path, "r2")
    real_extract = backup._extract

    def disk_full(tar, member, into):
        if member.name.endswith("arrays.npz"):
            raise OSError(errno.ENOSPC, "No space left on device", str(into / member.name))
        real_extract(tar, member, into)

    monkeypatch.setattr(backup, "_extract", disk_full)
    with pytest.raises(InvalidArgument) as refused:
        backup.restore(settings, taken.folder)
    said = str(refused.value)
    assert f"The restore could not write to {settings.data_dir} and {mounted}: No space left on device" in said
    assert "nothing was restored. Free space on that disk" in said and "damaged" not in said
    assert _nothing_written(settings, mounted)
    monkeypatch.undo()

    def tar_disk_full(path, *args, **kwargs):  # models.tgz in the hidden folder the backup is written in
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(backup.tarfile, "open", tar_disk_full)
    target = tmp_path / "backups" / "full"
    with pytest.raises(InvalidArgument, match=f"The backup could not be written to {target}: No space left on device; nothing was kept"):
        backup.take(Settings(data_dir=tmp_path / "data", api_key="k"), target)
    assert not target.exists() and not [p for p in target.parent.iterdir() if p.name.startswith(".")]


def test_a_store_from_a_newer_tagwise_is_refused_before_it_is_restored(taken, tmp_path):
    import sqlite3

    from tagwise.errors import InvalidArgument
    from tagwise.storage import backup

    conn = sqlite3.connect(taken.folder / "tagwise.db")
    with conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    conn.close()
    _sign_again(taken.folder)
    settings, mounted = _restoring_into(tmp_path, "r3")
    with pytest.raises(InvalidArgument, match="a newer tagwise wrote .*schema revision 0099_from_the_future; this version knows up to"):
        backup.restore(settings, taken.folder)
    assert _nothing_written(settings, mounted)


def test_unreachable_postgresql_is_one_line():
    from tagwise.errors import StoreUnavailable
    from tagwise.storage.backup import _pg_connect

    with pytest.raises(StoreUnavailable) as refused:
        _pg_connect("host=127.0.0.1 port=9 dbname=tagwise user=tw", {}, "back it up")
    assert "PostgreSQL could not be reached to back it up" in str(refused.value) and "\n" not in str(refused.value)


def test_a_hash_or_question_mark_in_the_backups_path_is_read_as_a_name(taken, tmp_path):
    # the read-only SQLite URI was not quoted: "bk/future#1/tagwise.db" opened "bk/future", an empty file SQLite made,
    # so a store from a newer tagwise restored with exit 0
    import sqlite3

    from tagwise.errors import InvalidArgument
    from tagwise.storage import backup

    odd = tmp_path / "backups" / "nightly#2?full"
    odd.parent.mkdir()
    taken.folder.rename(odd)
    conn = sqlite3.connect(odd / "tagwise.db")
    with conn:
        conn.execute("UPDATE alembic_version SET version_num = '0099_from_the_future'")
    conn.close()
    _sign_again(odd)
    settings, mounted = _restoring_into(tmp_path, "r4")
    with pytest.raises(InvalidArgument, match="schema revision 0099_from_the_future"):
        backup.restore(settings, odd)
    assert _nothing_written(settings, mounted) and sorted(p.name for p in odd.parent.iterdir()) == ["nightly#2?full"]


def test_a_store_that_cannot_be_opened_is_not_blamed_on_the_backups_folder(taken, tmp_path, monkeypatch):
    # run as a user who cannot open the service's store, the backup said "could not be written to <target>: Permission
    # denied ... Give a folder this user can write to"
    import sqlite3

    from tagwise.errors import StoreUnavailable
    from tagwise.settings import Settings
    from tagwise.storage import backup

    real = sqlite3.connect
    monkeypatch.setattr(backup.sqlite3, "connect", lambda *args, **kwargs: real("file:/nonexistent-dir/x.db?mode=ro", uri=True))
    with pytest.raises(StoreUnavailable, match=r"The store .*tagwise.db could not be copied: unable to open database file"):
        backup.take(Settings(data_dir=tmp_path / "data", api_key="k"), tmp_path / "b2")


def test_a_full_disk_while_the_store_is_copied_in_is_said_to_be_the_disk(taken, tmp_path, monkeypatch):
    # shutil.copyfile names its source on ENOSPC: the restore printed "error: <backup>/tagwise.db: No space left on device"
    import errno

    from tagwise.errors import InvalidArgument
    from tagwise.storage import backup

    def full(source, target, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", str(source))

    monkeypatch.setattr(backup.shutil, "copyfile", full)
    settings, mounted = _restoring_into(tmp_path, "r5")
    with pytest.raises(InvalidArgument, match="The restore could not write to .*: No space left on device; nothing was restored"):
        backup.restore(settings, taken.folder)
    assert _nothing_written(settings, mounted)
