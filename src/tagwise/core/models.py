"""Trained models: list, read, delete, and their evaluation."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path
from typing import Any

from tagwise.core.context import Context
from tagwise.core.projects import require
from tagwise.core.timefmt import NO_EXPIRY_DATE, iso
from tagwise.errors import Conflict, NotFound
from tagwise.storage import records


def is_saved(folder: Path) -> bool:
    """Whether a trained model's folder is there (its manifest, written last: ``ml.persist``)."""
    return (folder / "manifest.json").is_file()


def artifact_dir(ctx: Context, project_name: str, model_id: str) -> Path:
    """Where a trained model's folder lives in the model store."""
    return ctx.models_dir / project_name / model_id


def located(ctx: Context, project: dict[str, Any], model: dict[str, Any]) -> Path:
    """Where a trained model's folder is: the path recorded at training, or, when nothing is there,
    the model store's own place for it. Older versions recorded a path relative to the folder the
    server was started from; a store restored on another host or path points elsewhere too."""
    recorded = Path(model["artifact"])
    if in_model_store(ctx, recorded) and is_saved(recorded):
        return recorded
    return artifact_dir(ctx, project["name"], model["model_id"])


def without_folder(ctx: Context) -> list[str]:
    """``project/label`` of every trained model whose folder is not in the model store: a store and a
    model store restored from different times (a restore probe's server started healthy and answered
    500 for such a deployment, with one traceback in the log to say why)."""
    with ctx.db.read() as conn:
        rows = records.model_folders(conn)
    return [f"{row['project']}/{row['label']}" for row in rows if not is_saved(located(ctx, {"name": row["project"]}, row))]


def in_model_store(ctx: Context, path: Path) -> bool:
    """Whether ``path`` is inside this server's model store. A store copied or restored from
    another instance records that instance's folders: never read or delete those."""
    return path.is_absolute() and path.resolve().is_relative_to(ctx.models_dir)


def remove_unused(ctx: Context, conn, project: dict[str, Any], model_ids: set[str]) -> list[Path]:
    """Of ``model_ids``, those no trained model or deployment of the project refers to any more:
    forgotten by the predictor cache; returns their folders, for the caller to delete once its
    transaction has committed (``delete_folders``)."""
    unused = {model_id for model_id in model_ids if model_id} - records.model_ids_in_use(conn, project["id"])
    for model_id in unused:
        ctx.predictors.forget(model_id)
    return [artifact_dir(ctx, project["name"], model_id) for model_id in sorted(unused)]


def delete_folders(folders: list[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)


def remove_leftovers(ctx: Context, project_name: str, job_id: str) -> int:
    """Delete what a training that did not succeed left in the model store, and returns how many
    folders: a cancel, a timeout or a kill while it saved its model left a hidden half-written
    folder (``.<model id>.tmp-...``), or a whole one that no model row names, for good. Its model
    ids end in the job id's first 8 characters. A project deleted during the training loses the
    folders the training made again after the deletion (its model folder, its embedding cache)."""
    with ctx.db.read() as conn:
        project = records.get_project(conn, project_name)
        kept = records.model_ids_in_use(conn, project["id"]) if project else set()
    if project is None:  # deleted: the training may have written its cache or model after the deletion's rmtree
        gone = [folder for folder in (ctx.models_dir / project_name, ctx.settings.project_cache_dir(project_name)) if folder.is_dir()]
        delete_folders(gone)
        return len(gone)
    mine = re.compile(rf"\.?(.+-\d{{8}}T\d{{6}}-{re.escape(job_id[:8])})(\.(?:tmp|old)-[0-9a-f]+)?")
    left = [entry for entry in _folders(ctx.models_dir / project_name)
            if (found := mine.fullmatch(entry.name)) and (found.group(2) or found.group(1) not in kept)]
    delete_folders(left)
    return len(left)


HALF_WRITTEN_AGE_S = 24 * 3600  # no model takes a day to write: a hidden folder that old is a crash's


def remove_half_written(ctx: Context) -> int:
    """Delete the hidden folders (``.<model id>.tmp-...``, ``.<model id>.old-...``) older than a
    day in the model store: a training killed while it saved (the whole server with it) leaves one
    that no job ended by a runner names."""
    before = time.time() - HALF_WRITTEN_AGE_S
    old = []
    for project in _folders(ctx.models_dir):  # a folder it cannot read (a mount point's lost+found) is passed over
        for entry in _folders(project):
            try:
                if re.fullmatch(r"\..+\.(?:tmp|old)-[0-9a-f]+", entry.name) and entry.stat().st_mtime < before:
                    old.append(entry)
            except OSError:  # removed meanwhile
                continue
    delete_folders(old)
    return len(old)


def _folders(folder: Path) -> list[Path]:
    try:
        return [entry for entry in folder.iterdir() if entry.is_dir() and not entry.is_symlink()]
    except OSError:
        return []


def require_model(conn, project: dict[str, Any], label: str) -> dict[str, Any]:
    model = records.get_model(conn, project["id"], label)
    if model is None:
        raise NotFound(f"The trained model {label} could not be found in project {project['name']}.", target="trainedModelLabel")
    return model


def get(ctx: Context, project_name: str, label: str) -> dict[str, Any]:
    with ctx.db.read() as conn:
        return require_model(conn, require(conn, project_name), label)


def list_all(ctx: Context, project_name: str) -> list[dict[str, Any]]:
    with ctx.db.read() as conn:
        return records.list_models(conn, require(conn, project_name)["id"])


def delete(ctx: Context, project_name: str, label: str, model_id: str | None = None) -> None:
    """Delete a trained model, its folder, snapshot and evaluation; a deployed one is refused.
    ``model_id``: only that model (a page that showed it), not one trained under the label since."""
    with ctx.db.write() as conn:
        project = require(conn, project_name, lock=True)  # not while a deploy of it decides
        model = require_model(conn, project, label)
        if model_id and model["model_id"] != model_id:
            raise Conflict(f"The model {label} was trained again since this page was shown: nothing was deleted. Look at the "
                           "new one first.")
        deployed = records.list_deployments(conn, project["id"])
        users = [d["name"] for d in deployed if d["model_id"] == model["model_id"]]
        if users:
            raise Conflict(f"The model {label} is deployed as {', '.join(users)}; delete or redeploy those deployments first.")
        # a deployment of the model trained under this label before: deleting the label left it naming one that is gone
        if earlier := [d["name"] for d in deployed if d["model_label"] == label]:
            one = len(earlier) == 1
            raise Conflict(f"{', '.join(earlier)} still serve{'s' if one else ''} the model trained as {label} before it was trained "
                           f"again, under this name: deploy this or another model there, or delete {'that deployment' if one else 'those deployments'}, first.")
        records.delete_model(conn, project["id"], label)
    ctx.predictors.forget(model["model_id"])
    shutil.rmtree(located(ctx, project, model), ignore_errors=True)


def describe(model: dict[str, Any]) -> dict[str, Any]:
    """The Azure TrainedModel shape."""
    return {
        "label": model["label"],
        "modelId": model["model_id"],
        "lastTrainedDateTime": iso(model["trained_at"]),
        "lastTrainingDurationInSeconds": round(model["duration_s"]),
        "modelExpirationDate": NO_EXPIRY_DATE,
        "modelTrainingConfigVersion": model["config_version"],
        "hasSnapshot": False,
    }
