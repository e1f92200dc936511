"""Trained models: list, read, delete, and their evaluation."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tagwise.core.context import Context
from tagwise.core.projects import require
from tagwise.core.timefmt import NO_EXPIRY_DATE, iso
from tagwise.errors import Conflict, NotFound
from tagwise.storage import records


def artifact_dir(ctx: Context, project_name: str, model_id: str) -> Path:
    """Where a trained model's folder lives in the model store."""
    return ctx.models_dir / project_name / model_id


def located(ctx: Context, project: dict[str, Any], model: dict[str, Any]) -> Path:
    """Where a trained model's folder is: the path recorded at training, or, when nothing is there,
    the model store's own place for it. Older versions recorded a path relative to the folder the
    server was started from; a store restored on another host or path points elsewhere too."""
    recorded = Path(model["artifact"])
    if in_model_store(ctx, recorded) and (recorded / "manifest.json").is_file():
        return recorded
    return artifact_dir(ctx, project["name"], model["model_id"])


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


def delete(ctx: Context, project_name: str, label: str) -> None:
    with ctx.db.write() as conn:
        project = require(conn, project_name)
        model = require_model(conn, project, label)
        users = [d["name"] for d in records.list_deployments(conn, project["id"]) if d["model_id"] == model["model_id"]]
        if users:
            raise Conflict(f"The model {label} is deployed as {', '.join(users)}; delete or redeploy those deployments first.")
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
