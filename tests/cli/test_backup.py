"""``tagwise backup DIR``, and a restore by docs/operations.md's steps: the restored data dir answers as before."""

from __future__ import annotations

import json
import shutil
import tarfile

from tests.cli.conftest import make_cli, ok


def test_a_backup_restored_into_a_new_data_dir_classifies_as_before(deployed, bank, tmp_path):
    before = ok(deployed.cli("classify", "bank", "prod", str(bank.path("queries.txt")))).stdout
    folder = tmp_path / "backups" / "2026-11-28"
    shown = ok(deployed.cli("backup", str(folder))).stdout
    assert f"Backed up to {folder}" in shown
    assert "1 project, 160 documents, 1 model, 1 deployment" in shown and "checked" in shown
    assert "1 model folder" in shown
    manifest = json.loads((folder / "backup.json").read_text())
    assert manifest["store"] == "sqlite" and manifest["modelFolders"] == 1 and manifest["missingModelFolders"] == []
    assert manifest["counts"]["documents"] == 160 and manifest["schemaRevision"]

    # the documented restore: mkdir, unpack the model store into the data dir, copy the store in
    restored = tmp_path / "restored"
    restored.mkdir()
    with tarfile.open(folder / "models.tgz") as tar:
        tar.extractall(restored, filter="data")
    shutil.copy(folder / "tagwise.db", restored / "tagwise.db")
    cli = make_cli({"TAGWISE_DATA_DIR": str(restored), "TAGWISE_ENDPOINT": "", "TAGWISE_API_KEY": ""})
    assert ok(cli("classify", "bank", "prod", str(bank.path("queries.txt")))).stdout == before

    # tagwise restore does the same into another new data dir, and refuses to overwrite
    again = tmp_path / "again"
    cli = make_cli({"TAGWISE_DATA_DIR": str(again), "TAGWISE_ENDPOINT": "", "TAGWISE_API_KEY": ""})
    said = ok(cli("restore", str(folder))).stdout
    assert f"Restored {folder} (taken {manifest['created']}" in said and "1 project, 160 documents, 1 model, 1 deployment" in said
    assert f"1 model folder in {again / 'models'}" in said
    assert ok(cli("classify", "bank", "prod", str(bank.path("queries.txt")))).stdout == before
    refused = cli("restore", str(folder))
    assert refused.exit_code == 1 and "is not empty: restore into a new data dir" in refused.stderr


def test_a_restore_is_checked_before_anything_is_written(cli, tmp_path, data_dir):
    ok(cli("project", "create", "bank", "--kind", "single"))
    (data_dir / "api-key").write_text("generated-key\n")
    folder = tmp_path / "b"
    ok(cli("backup", str(folder)))
    target = tmp_path / "new"
    restore = make_cli({"TAGWISE_DATA_DIR": str(target), "TAGWISE_ENDPOINT": "", "TAGWISE_API_KEY": ""})
    not_one = restore("restore", str(tmp_path))
    assert not_one.exit_code == 1 and "has no backup.json" in not_one.stderr
    # a mistyped path was "not a backup tagwise backup wrote (it has no backup.json)"
    assert restore("restore", str(tmp_path / "nowhere")).stderr == f"error: {tmp_path / 'nowhere'}: no such folder.\n"
    damaged = tmp_path / "damaged"
    shutil.copytree(folder, damaged)
    with open(damaged / "tagwise.db", "r+b") as db:  # a page in the middle overwritten
        db.seek(4096)
        db.write(b"\xff" * 4096)
    broken = restore("restore", str(damaged))
    assert broken.exit_code == 1 and "tagwise.db is not the file the backup wrote (its SHA-256 differs)" in broken.stderr
    manifest = json.loads((damaged / "backup.json").read_text())
    del manifest["sha256"]  # as a backup from before the checksums: SQLite's own check finds it
    (damaged / "backup.json").write_text(json.dumps(manifest))
    broken = restore("restore", str(damaged))
    assert broken.exit_code == 1 and "fails SQLite's check" in broken.stderr and "the backup is damaged; restore an older one" in broken.stderr
    (damaged / "models.tgz").unlink()
    assert "is not a whole tagwise backup (missing: models.tgz)" in restore("restore", str(damaged)).stderr
    assert not target.exists() or not any(target.rglob("*"))  # nothing written by the refusals
    said = ok(restore("restore", str(folder))).stdout
    assert "the generated API key" in said and (target / "api-key").read_text() == "generated-key\n"


def test_a_backup_never_overwrites_and_a_failed_one_leaves_nothing(cli, bank, tmp_path, data_dir):
    ok(cli("project", "create", "bank", "--kind", "single"))
    (data_dir / "api-key").write_text("generated-key\n")
    taken = tmp_path / "b"
    assert "the key tagwise generated" in ok(cli("backup", str(taken))).stdout
    assert (taken / "api-key").read_text() == "generated-key\n" and (taken / "api-key").stat().st_mode & 0o777 == 0o600
    again = cli("backup", str(taken))
    assert again.exit_code == 1 and "already exists" in again.stderr and "a backup never overwrites another" in again.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "0 model folders" in ok(cli("backup", str(empty))).stdout  # an empty folder made for it is fine

    nowhere = make_cli({"TAGWISE_DATA_DIR": str(tmp_path / "no-such-data-dir"), "TAGWISE_ENDPOINT": "", "TAGWISE_API_KEY": ""})
    failed = nowhere("backup", str(tmp_path / "c"))
    assert failed.exit_code == 1 and "There is no store at" in failed.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name in ("b", "c", "empty") or p.name.startswith(".")) == ["b", "empty"]
    assert not (tmp_path / "no-such-data-dir").exists()  # looking for a store made none

    remote = cli("--endpoint", "http://127.0.0.1:9", "--key", "k", "backup", str(tmp_path / "d"))  # typed: refused (exported: local)
    assert remote.exit_code == 2 and "run it where the server runs" in remote.stderr


def test_a_model_folder_missing_from_the_model_store_is_named(cli, bank, tmp_path, data_dir):
    ok(cli("project", "create", "bank", "--kind", "single"))
    ok(cli("import", "bank", str(bank.path("train.jsonl"))))
    ok(cli("train", "bank", "--model", "v1", "--recipe", "linear"))
    shutil.rmtree(next((data_dir / "models" / "bank").iterdir()))
    taken = ok(cli("backup", str(tmp_path / "b")))
    assert "0 model folders" in taken.stdout
    assert "warning: 1 model folder the store names was not in the model store" in taken.stderr
    assert "bank/v1-" in taken.stderr and "trained again after a restore" in taken.stderr
    restore = make_cli({"TAGWISE_DATA_DIR": str(tmp_path / "new"), "TAGWISE_ENDPOINT": "", "TAGWISE_API_KEY": ""})
    restored = ok(restore("restore", str(tmp_path / "b")))  # the restore says it again, rather than only the next start
    assert "warning: the backup has no folder for 1 model its store names (bank/v1-" in restored.stderr


def test_a_restore_names_the_models_a_newer_tagwise_saved(cli, bank, tmp_path, data_dir):
    # a 0.1.0 restored a 0.2.0 backup without a word, and its format-2 deployments then answered 500s
    ok(cli("project", "create", "bank", "--kind", "single"))
    ok(cli("import", "bank", str(bank.path("train.jsonl"))))
    ok(cli("train", "bank", "--model", "v1", "--recipe", "linear"))
    manifest = next((data_dir / "models" / "bank").iterdir()) / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "format_version": 99}))
    ok(cli("backup", str(tmp_path / "b")))
    restore = make_cli({"TAGWISE_DATA_DIR": str(tmp_path / "new"), "TAGWISE_ENDPOINT": "", "TAGWISE_API_KEY": ""})
    restored = ok(restore("restore", str(tmp_path / "b")))
    assert "warning: 1 model (bank/v1-" in restored.stderr and "was saved by a newer tagwise than this one" in restored.stderr


def test_a_backup_stopped_by_sigterm_leaves_no_hidden_copy(tmp_path):
    # a cron or systemd timeout sends SIGTERM: it left a hidden folder with every document beside the backup
    import os
    import signal
    import subprocess
    import sys
    import time

    from tagwise.core.context import Context
    from tagwise.settings import Settings

    Context.open(Settings(data_dir=tmp_path / "data", api_key="k")).close()
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from tagwise.cli import backup as command\n"
        "from tagwise.settings import Settings\n"
        "from tagwise.storage import backup\n"
        "real = backup._contents\n"
        "def slow(*args, **kwargs):\n"
        "    Path(sys.argv[1]).write_text('copying')\n"
        "    time.sleep(60)\n"
        "    return real(*args, **kwargs)\n"
        "backup._contents = slow\n"
        "with command._stop_cleanly_on_sigterm():\n"
        "    backup.take(Settings(data_dir=Path(sys.argv[2]), api_key='k'), Path(sys.argv[3]))\n")
    ready, target = tmp_path / "ready", tmp_path / "backups" / "b"
    process = subprocess.Popen([sys.executable, "-c", script, str(ready), str(tmp_path / "data"), str(target)])
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert [p.name for p in target.parent.iterdir()] == [".b.partial-" + str(process.pid)]  # the copy under way
    os.kill(process.pid, signal.SIGTERM)
    assert process.wait(timeout=30) == 128 + signal.SIGTERM
    assert list(target.parent.iterdir()) == []
