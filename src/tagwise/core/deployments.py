"""Deployments: a name that serves one trained model; deploy, swap, delete."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from tagwise.core.context import Context
from tagwise.core.model_results import baseline_warning
from tagwise.core.models import artifact_dir, delete_folders, is_saved, located, remove_unused, require_model
from tagwise.core.projects import require
from tagwise.core.timefmt import NO_EXPIRY_DATE, iso
from tagwise.core.validation import check_name
from tagwise.errors import InvalidArgument, ModelUnreadable, NotFound, store_unavailable
from tagwise.storage import records
from tagwise.storage.records import utcnow

log = logging.getLogger(__name__)

MAX_DEPLOYMENTS = 10
STALE_S = 600.0  # how long a deployment looked up is still served while the store cannot be reached (as keys.STALE_S)


def require_deployment(conn, project: dict[str, Any], name: str) -> dict[str, Any]:
    deployment = records.get_deployment(conn, project["id"], name)
    if deployment is None:
        raise NotFound(f"The deployment {name} could not be found in project {project['name']}.", target="deploymentName")
    return deployment


def served_model(ctx: Context, conn, project: dict[str, Any], deployment: dict[str, Any]) -> tuple[str, Path]:
    """(model id, artifact folder) that a deployment serves.

    Retraining a deployed label replaces the label's model, but the deployment keeps serving
    the version it was given (as in Azure) until it is deployed again: that folder is kept.
    """
    model = records.get_model_ref(conn, project["id"], deployment["model_label"])
    if model is not None and model["model_id"] == deployment["model_id"]:
        return model["model_id"], located(ctx, project, model)
    kept = artifact_dir(ctx, project["name"], deployment["model_id"])
    if is_saved(kept):
        return deployment["model_id"], kept
    raise NotFound(f"The model behind deployment {deployment['name']} is gone; deploy a trained model again.")


def without_folder(ctx: Context) -> list[str]:
    """``project/deployment`` of every deployment whose model's folder is not in the model store
    (they answer 500 until it is restored or another model is deployed)."""
    missing = []
    with ctx.db.read() as conn:
        for project, deployment in _everywhere(conn):
            try:
                served = served_model(ctx, conn, project, deployment)[1]
            except NotFound:
                served = None
            if served is None or not is_saved(served):
                missing.append(f"{project['name']}/{deployment['name']}")
    return missing


def get(ctx: Context, project_name: str, name: str) -> dict[str, Any]:
    with ctx.db.read() as conn:
        return require_deployment(conn, require(conn, project_name), name)


def list_all(ctx: Context, project_name: str) -> list[dict[str, Any]]:
    with ctx.db.read() as conn:
        return records.list_deployments(conn, require(conn, project_name)["id"])


def list_everywhere(ctx: Context) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(project, deployment) for every deployment of every project: projects in the order they
    were created, each one's deployments in the order they were made."""
    with ctx.db.read() as conn:
        return _everywhere(conn)


def _everywhere(conn) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [(project, deployment) for project in records.list_projects(conn) for deployment in records.list_deployments(conn, project["id"])]


def deploy(ctx: Context, project_name: str, name: str, body: Any) -> dict[str, Any]:
    """Serve the model ``body["trainedModelLabel"]`` under ``name``. The deployment, with
    ``warnings``: what the deploy job says of the model (:func:`cautions`)."""
    check_name(name, "deployment")
    label = body.get("trainedModelLabel") if isinstance(body, dict) else None
    if not label or not isinstance(label, str):
        raise InvalidArgument("The deploy body needs trainedModelLabel, the label of a trained model.", target="trainedModelLabel")
    check_loadable(ctx, project_name, label)
    now = utcnow()
    with ctx.db.write() as conn:
        project = require(conn, project_name, lock=True)  # the deployment limit holds under concurrent deploys
        model = require_model(conn, project, label)
        existing = records.list_deployments(conn, project["id"])
        if name not in {d["name"] for d in existing} and len(existing) >= MAX_DEPLOYMENTS:
            raise InvalidArgument(f"The project already has {MAX_DEPLOYMENTS} deployments, the limit; delete one first.")
        records.upsert_deployment(conn, project["id"], {
            "name": name, "model_label": label, "model_id": model["model_id"], "trained_at": model["trained_at"],
            "config_version": model["config_version"], "deployed_at": now,
        })
        records.update_project(conn, project["id"], {"last_deployed_at": now})
        # the version it served before, if only this deployment still kept it (its label retrained since)
        unused = remove_unused(ctx, conn, project, {d["model_id"] for d in existing if d["name"] == name})
        deployment = records.get_deployment(conn, project["id"], name)
    delete_folders(unused)
    before = next((d for d in existing if d["name"] == name), None)
    replaced = f", in place of {before['model_label']} (model {before['model_id']})" if before and before["model_id"] != model["model_id"] else ""
    # which model a deployment served when was nowhere but in the access log's bare PUT
    log.info("deployment %s/%s now serves %s (model %s)%s", project_name, name, label, model["model_id"], replaced)
    return {**deployment, "warnings": cautions(model)}


def check_loadable(ctx: Context, project_name: str, label: str) -> None:
    """Load the model ``label`` (kept loaded for its first requests), so that a model whose files
    are damaged or missing is refused at the deploy, before any deployment points to it: it used
    to deploy as "succeeded" and then fail every classification with a 500."""
    with ctx.db.read() as conn:
        project = require(conn, project_name)
        model = require_model(conn, project, label)
        artifact = located(ctx, project, model)
    try:
        ctx.predictors.get(model["model_id"], artifact)
    except ModelUnreadable:
        from tagwise.ml.persist import newer_format

        if found := newer_format(artifact):  # a newer tagwise's worker trained it: not damaged (an upgrade probe said so)
            raise ModelUnreadable(f"The trained model {label} was saved by a newer tagwise (model format {found}), which this "
                                  "server cannot read. Nothing was deployed; deploy it through a server of that version, or "
                                  "train it again here.") from None
        state = ("has no folder there (a model store restored from another time than the store?)" if not is_saved(artifact)
                 else "its files are damaged or incomplete (the server's log says which part)")
        raise ModelUnreadable(f"The trained model {label} cannot be loaded from the model store: {state}. Nothing was deployed; "
                              "train the model again, or restore the model store from the same backup as the store.") from None


def cautions(model: dict[str, Any]) -> list[dict[str, str]]:
    """Azure-style job warnings for deploying ``model``: one when it does not beat always answering
    its test set's commonest class (the studio's Deploy page says so before the deploy)."""
    message = baseline_warning(model, f"The model {model['label']}", deployed=True)
    return [{"code": "NoBetterThanBaseline", "message": message}] if message else []


def lookup_served(ctx: Context, project_name: str, name: str) -> tuple[dict[str, Any], str, Path]:
    """(project, model id, artifact folder) that deployment ``name`` of ``project_name`` serves."""
    project, _, model_id, artifact = lookup_deployment(ctx, project_name, name)
    return project, model_id, artifact


def lookup_deployment(ctx: Context, project_name: str, name: str) -> tuple[dict[str, Any], dict[str, Any], str, Path]:
    """(project, deployment, model id, artifact folder) of deployment ``name``, read together: the
    deployment's ``model_label`` names the model that it serves now.

    Read from the store each time, so every process serves a swap from its next request on. While
    the store cannot be reached (a PostgreSQL restart or failover), a deployment this process looked
    up in the last ``STALE_S`` seconds is answered as it was then (its model is loaded, and a deploy
    cannot happen meanwhile): ``:classify`` answered 503 through every outage."""
    try:
        with ctx.db.read() as conn:
            project = require(conn, project_name)
            deployment = require_deployment(conn, project, name)
            model_id, artifact = served_model(ctx, conn, project, deployment)
    except Exception as exc:
        last = ctx.last_served.get((project_name, name))
        if store_unavailable(exc) and last is not None and time.monotonic() - last[1] < STALE_S:
            return last[0]
        ctx.last_served.pop((project_name, name), None)  # gone (deleted since): nothing to answer from
        raise
    found = (project, deployment, model_id, artifact)
    now = time.monotonic()
    if len(ctx.last_served) > 64:  # one entry per name ever served, deleted projects' rows included, grew without end
        for key, (_, at) in list(ctx.last_served.items()):
            if now - at >= STALE_S:
                ctx.last_served.pop(key, None)
    ctx.last_served[(project_name, name)] = (found, now)
    return found


def warm_up(ctx: Context, project_name: str, name: str) -> None:
    """Load what a deployment serves (its model and sentence encoder) so that the first
    classification does not wait for it: seconds for the bf16 encoder, which imports PyTorch.
    Best effort, meant for a background thread: a failure is logged, and the first request
    then loads the model itself and reports what is wrong."""
    try:
        _, model_id, artifact = lookup_served(ctx, project_name, name)
        ctx.predictors.get(model_id, artifact).predict_proba(["warm up"])
    except ModelUnreadable as exc:  # said in full by the line before it: no traceback for a known state
        log.warning("could not warm up deployment %s/%s: %s", project_name, name, exc.message)
    except NotFound:  # deleted since it was listed (or deployed): nothing to warm up, and no traceback
        log.info("deployment %s/%s was deleted before it was warmed up", project_name, name)
    except Exception:  # never let a warm-up take the server down
        log.warning("could not warm up deployment %s/%s", project_name, name, exc_info=True)


def warm_up_all(ctx: Context) -> None:
    """Warm up every deployment, most recently deployed first, as many as the predictor cache
    keeps (a server start: the first requests after an upgrade are then as fast as the rest)."""
    served = [(project["name"], deployment["name"], deployment["deployed_at"]) for project, deployment in list_everywhere(ctx)]
    served.sort(key=lambda row: row[2], reverse=True)
    for project_name, name, _ in served[:ctx.predictors.capacity]:
        warm_up(ctx, project_name, name)


def delete(ctx: Context, project_name: str, name: str) -> None:
    with ctx.db.write() as conn:
        project = require(conn, project_name, lock=True)  # after or before a deploy of the same name, never amid it
        deployment = require_deployment(conn, project, name)
        records.delete_deployment(conn, project["id"], name)
        unused = remove_unused(ctx, conn, project, {deployment["model_id"]})
        still_served = any(d["model_id"] == deployment["model_id"] for d in records.list_deployments(conn, project["id"]))
    if not still_served:  # its trained model stays, but nothing classifies with it now: free its memory
        ctx.predictors.forget(deployment["model_id"])
    ctx.last_served.pop((project_name, name), None)
    delete_folders(unused)
    log.info("deployment %s/%s deleted (it served %s, model %s)", project_name, name, deployment["model_label"], deployment["model_id"])


def swap(ctx: Context, project_name: str, body: Any) -> None:
    first = body.get("firstDeploymentName") if isinstance(body, dict) else None
    second = body.get("secondDeploymentName") if isinstance(body, dict) else None
    if not first or not second or not isinstance(first, str) or not isinstance(second, str):
        raise InvalidArgument("The swap body needs firstDeploymentName and secondDeploymentName.")
    if first == second:
        raise InvalidArgument("Swapping a deployment with itself does nothing; name two different deployments.")
    now = utcnow()
    with ctx.db.write() as conn:
        # the project first, as a deploy locks it: two swaps at once were one (or left both names on one model), and a
        # swap beside a deploy deadlocked on PostgreSQL
        project = require(conn, project_name, lock=True)
        a = require_deployment(conn, project, first)
        b = require_deployment(conn, project, second)
        moved = ("model_label", "model_id", "trained_at", "config_version")
        records.upsert_deployment(conn, project["id"], dict({k: b[k] for k in moved}, name=first, deployed_at=now))
        records.upsert_deployment(conn, project["id"], dict({k: a[k] for k in moved}, name=second, deployed_at=now))
        records.update_project(conn, project["id"], {"last_deployed_at": now})
    log.info("deployments %s/%s and %s swapped: %s now serves %s (model %s), %s serves %s (model %s)", project_name, first, second,
             first, b["model_label"], b["model_id"], second, a["model_label"], a["model_id"])


def describe(deployment: dict[str, Any]) -> dict[str, Any]:
    """The Azure Deployment shape."""
    return {
        "deploymentName": deployment["name"],
        "modelId": deployment["model_id"],
        "lastTrainedDateTime": iso(deployment["trained_at"]),
        "lastDeployedDateTime": iso(deployment["deployed_at"]),
        "deploymentExpirationDate": NO_EXPIRY_DATE,
        "modelTrainingConfigVersion": deployment["config_version"],
        "assignedResources": [],
        "trainedModelLabel": deployment["model_label"],
    }


def describe_with_project(project: dict[str, Any], deployment: dict[str, Any]) -> dict[str, Any]:
    """The Deployment shape led by the project it belongs to (``projectName``, ``projectKind``):
    an item of tagwise's list of every project's deployments."""
    return {"projectName": project["name"], "projectKind": project["kind"], **describe(deployment)}
