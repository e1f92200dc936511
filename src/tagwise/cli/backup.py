"""``tagwise backup DIR``: the store, its models' folders and the generated key in one folder, while tagwise runs;
``tagwise restore DIR`` puts them back (into a new data dir: it never overwrites)."""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import typer

from tagwise.cli.common import UsageError, counted, err, handle_errors, load_settings, on_sigterm, options, out
from tagwise.core.validation import listed


@handle_errors
def backup(
    folder: Path = typer.Argument(..., metavar="DIR", help="A new (or empty) folder to write the backup to."),
) -> None:
    """Back up the local store, the folders of its models and the generated API key, while tagwise runs.

    SQLite: a compact, consistent copy of tagwise.db (checked); PostgreSQL: pg_dump -Fc of one
    snapshot (needs pg_dump). Then models.tgz (the folders of the models that copy names), the
    api-key file if tagwise generated the key, and backup.json (what it holds). Its files appear
    only once the backup is whole; put it back with tagwise restore DIR (docs/operations.md).

    \b
    Example (in a crontab line, write the % as \\%: cron reads % as a line end):
      tagwise backup backups/$(date +%F)
    """
    if options().endpoint_typed:  # an exported TAGWISE_ENDPOINT (for the other commands) is not for it
        raise UsageError("backup works on this machine's store (TAGWISE_DATA_DIR or TAGWISE_DATABASE_URL), not through "
                         "--endpoint: run it where the server runs, with its settings.")
    from tagwise.storage import backup as backups

    settings = load_settings()
    with _stop_cleanly_on_sigterm():
        taken = backups.take(settings, folder)
    counts = taken.counts
    held = _held(counts)
    store = "tagwise.db" if taken.store == "sqlite" else "tagwise.dump"
    out().print(f"Backed up to {taken.folder} in {taken.seconds:.1f} s:", markup=False)
    out().print(f"  {store:<12} {held} ({_size(taken.files[store])}{', checked' if taken.store == 'sqlite' else ''})", markup=False)
    out().print(f"  {'models.tgz':<12} {counted(taken.model_folders, 'model folder')} ({_size(taken.files['models.tgz'])})", markup=False)
    if "api-key" in taken.files:
        out().print(f"  {'api-key':<12} the key tagwise generated", markup=False)
    if taken.missing:
        shown = listed(taken.missing, 5)
        err().print(f"warning: {counted(len(taken.missing), 'model folder')} the store names {'was' if len(taken.missing) == 1 else 'were'} not in the model store "
                    f"({settings.models_dir}): {shown}. Deleted while the backup ran, or already missing (tagwise serve names "
                    "them at its start); those models must be trained again after a restore.", markup=False)


def _stop_cleanly_on_sigterm() -> AbstractContextManager[None]:
    """A SIGTERM (a cron or systemd timeout) ends the command as Ctrl+C does, so that its hidden
    half-written folder (every document) is removed rather than left beside the backup."""
    def stop(signum: int, frame: Any) -> None:
        err().print("stopped (SIGTERM): nothing was kept", markup=False)
        sys.exit(128 + signum)

    return on_sigterm(stop)


def _held(counts: dict[str, int]) -> str:
    """What a store copy holds, for a person: "1 project, 160 documents, 1 model, 1 deployment"."""
    from tagwise.storage.backup import COUNTED

    return ", ".join(counted(counts[name], name.removesuffix("s")) for name in COUNTED if name in counts) or "an empty store"


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 100_000 else f"{n / 1e3:,.1f} kB"


@handle_errors
def restore(
    folder: Path = typer.Argument(..., metavar="DIR", help="A folder `tagwise backup` wrote."),
) -> None:
    """Put a backup back, into a data dir without a store (or an empty PostgreSQL database) and an empty model store.

    Run it with tagwise stopped. It never overwrites: move a damaged data dir aside first. The
    backup is checked before anything is written (every file's size and SHA-256, the store copy's
    integrity); the next start upgrades an older backup's schema. API keys and studio sessions come back as they were at backup time.

    \b
    Example (the data dir is damaged or lost):
      mv tagwise-data tagwise-data.old        # with tagwise stopped; keep it until the restore works
      tagwise restore backups/2026-11-28
      make serve
    """
    if options().endpoint_typed:  # an exported TAGWISE_ENDPOINT (for the other commands) is not for it
        raise UsageError("restore works on this machine's store (TAGWISE_DATA_DIR or TAGWISE_DATABASE_URL), not through "
                         "--endpoint: run it where the server runs, with its settings, while tagwise is stopped.")
    from tagwise.storage import backup as backups

    settings = load_settings()
    with _stop_cleanly_on_sigterm():
        done = backups.restore(settings, folder)
    counts = done.manifest.get("counts") or {}
    held = _held(counts)
    out().print(f"Restored {folder} (taken {done.manifest.get('created', '?')} by tagwise {done.manifest.get('tagwise', '?')}) "
                f"into {done.store}: {held}; {counted(done.model_folders, 'model folder')} in {settings.models_dir}"
                f"{'; the generated API key' if done.api_key else ''}. Start tagwise.", markup=False)
    if missing := done.manifest.get("missingModelFolders"):
        shown = listed(missing, 5)
        err().print(f"warning: the backup has no folder for {counted(len(missing), 'model')} its store names ({shown}): "
                    "they were missing when it was taken; train them again (tagwise serve names them at its start).", markup=False)
    if newer := done.newer_models:
        shown = listed(newer, 5)
        err().print(f"warning: {counted(len(newer), 'model')} ({shown}) {'was' if len(newer) == 1 else 'were'} saved by a newer "
                    "tagwise than this one, which cannot load them: deployments of them answer 500s until they are trained again here (and deployed again), or "
                    "restore with that version.", markup=False)
    if done.kept_key:
        err().print(f"note: {settings.data_dir / 'api-key'} was there already and is kept; the backup's api-key file was not "
                    "copied over it.", markup=False)
