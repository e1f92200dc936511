"""Projects: create or update (JSON merge patch), read, list, delete."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from typing import Any

from sqlalchemy.exc import IntegrityError

from tagwise.core import jobs
from tagwise.core.context import Context
from tagwise.core.timefmt import iso
from tagwise.core.validation import (
    CONTROL_BUT_LINE_BREAKS,
    MULTI,
    RESERVED_PROJECT,
    check_kind,
    check_name,
    its_classes,
    language_code,
    shown,
)
from tagwise.errors import NOT_IN_TAGWISE, InvalidArgument, NotFound, ProjectNotFound, QuotaError
from tagwise.storage import records
from tagwise.storage.records import utcnow

_OPTIONAL = ("multilingual", "description", "settings")

log = logging.getLogger(__name__)


def get(ctx: Context, name: str) -> dict[str, Any]:
    with ctx.db.read() as conn:
        return require(conn, name)


def require(conn, name: str, *, lock: bool = False) -> dict[str, Any]:
    """The project, or ProjectNotFound; ``lock``: see ``records.get_project``."""
    project = records.get_project(conn, name, lock=lock)
    if project is None and name == RESERVED_PROJECT:  # an Azure …/projects/global/… route tagwise does not have
        raise NotFound(NOT_IN_TAGWISE)
    if project is None:
        raise ProjectNotFound(f"The project {name} could not be found.", target="projectName")
    return project


def list_all(ctx: Context) -> list[dict[str, Any]]:
    with ctx.db.read() as conn:
        return records.list_projects(conn)


def upsert(ctx: Context, name: str, patch: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Create the project or merge ``patch`` into it (RFC 7396). Returns (project, created)."""
    check_name(name, "project")
    if not isinstance(patch, dict):
        # a JSON Patch (RFC 6902) array is what "PATCH" means to some clients
        hint = " (a JSON merge patch, RFC 7396: the fields to change, not a JSON Patch list of operations)" if isinstance(patch, list) else ""
        raise InvalidArgument(f"The request body must be a JSON object with the project's metadata{hint}.")
    if "projectName" in patch and patch["projectName"] != name:
        raise InvalidArgument(
            f"projectName {shown(patch['projectName'])} in the body differs from {name!r} in the URL.", target="projectName"
        )
    with ctx.db.write() as conn:
        # locked: two merge patches of settings at once kept one (PostgreSQL), and one beside a delete was a 500
        existing = records.get_project(conn, name, lock=True)
        now = utcnow()
        if existing is None:
            check_quota(ctx, conn)
            if isinstance(patch.get("settings"), dict):  # what this request sets, as a PATCH of a project checks it
                _settings(patch["settings"], patch=True)
            values = new_project_values(ctx, conn, name, patch)
            values.update(created_at=now, modified_at=now)
            try:
                with conn.begin_nested():
                    records.insert_project(conn, values)
                return records.get_project(conn, name), True
            except IntegrityError:  # PostgreSQL: a concurrent request created it first; merge into that one
                existing = records.get_project(conn, name, lock=True)
                if existing is None:
                    raise
        values = _merge(existing, patch)
        values["modified_at"] = now
        records.update_project(conn, existing["id"], values)
        return records.get_project(conn, name), False


def delete(ctx: Context, name: str) -> None:
    """Delete a project with its documents, models and deployments, and its models' folders."""
    with ctx.db.write() as conn:
        project = require(conn, name, lock=True)
        model_ids = records.model_ids_in_use(conn, project["id"])
        served = [d["name"] for d in records.list_deployments(conn, project["id"])]
        records.delete_project(conn, project["id"])
        # its trainings end now (failed: a "cancelled" job never ended a begin_train poller) and a running
        # one stops at its next progress step (it would otherwise go on, and block a new project of the
        # same name with "already training")
        for job in records.jobs_in_status(conn, "train", ("notStarted", "running", "cancelling")):
            if job["project_name"] == name:
                jobs.fail_in(conn, job["id"], f"The project {name} was deleted while this training was queued or running; "
                                              "no model was kept.", code="ProjectNotFound")
    for model_id in model_ids:
        ctx.predictors.forget(model_id)
    for deployment in served:  # what this process kept of them (deployments.lookup_deployment)
        ctx.last_served.pop((name, deployment), None)
    from tagwise.core import label_issues  # its last tag check held snippets of its texts until the process ended

    label_issues.forget(ctx, project)
    # the project's folder in this server's model store holds its models and the versions only
    # deployments kept; the paths recorded in the store are not followed: a store copied or
    # restored from another instance records that instance's folders
    shutil.rmtree(ctx.models_dir / name, ignore_errors=True)
    shutil.rmtree(ctx.settings.project_cache_dir(name), ignore_errors=True)  # its texts' vectors go with it
    log.info("project %s deleted, with its deployments%s", name, f" ({', '.join(served)})" if served else " (none)")


def check_quota(ctx: Context, conn) -> None:
    """Before creating a project: refuse past TAGWISE_MAX_PROJECTS. Holds the creation lock for the
    rest of the transaction, so concurrent creations cannot both pass the count."""
    records.lock_project_creation(conn)
    if records.count_projects(conn) >= ctx.settings.max_projects:
        limit = ctx.settings.max_projects
        raise QuotaError(f"This server already holds {limit:,} project{'' if limit == 1 else 's'}, its limit; delete one first.")


def new_project_values(ctx: Context, conn, name: str, body: dict[str, Any], *, kept_language: str | None = None,
                       kept_description: str | None = None, classes: list[str] | None = None) -> dict[str, Any]:
    """A project's columns from an Azure project body. ``kept_language``, ``kept_description``: what the
    project already has, taken as it is (an older tagwise accepted codes and descriptions the current
    checks refuse, and such a project must still take imports). ``classes``: the classes it will have
    (an import's), which ``settings.classThresholds`` may name; a project created by PATCH has none yet."""
    missing = [k for k in ("projectKind", "language", "storageInputContainerName") if body.get(k) in (None, "")]
    if missing:
        raise InvalidArgument(f"Creating project {name} needs {', '.join(missing)} in the body.", target=missing[0])
    kind = check_kind(body["projectKind"])
    settings = _settings(body.get("settings") or {})
    _check_class_thresholds(name, kind, classes or [], settings.get("classThresholds"))
    return {
        "name": name,
        "kind": kind,
        "language": body["language"] if kept_language is not None and body["language"] == kept_language else _language(body["language"]),
        "storage_container": _container(body["storageInputContainerName"]),
        "multilingual": _bool(body.get("multilingual", False), "multilingual"),
        "description": _description(body.get("description"), kept_description),
        "settings": settings,
        "classes": [],
    }


def _merge(existing: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for field in ("projectKind", "language", "storageInputContainerName"):  # JSON merge patch: null would delete a required field
        if field in patch and patch[field] is None:
            raise InvalidArgument(f"{field} cannot be removed; send a new value or leave it out.", target=field)
    if "projectKind" in patch and check_kind(patch["projectKind"]) != existing["kind"]:  # any case: Learn writes customSingle...
        raise InvalidArgument(  # 400, as Azure answers (this was a 409)
            f"The project {existing['name']} is {existing['kind']}; its kind cannot change. Create a new project instead.",
            target="projectKind")
    if "language" in patch and patch["language"] != existing["language"]:  # unchanged: kept, even if an older check let it in
        values["language"] = _language(patch["language"])
    if "storageInputContainerName" in patch:
        values["storage_container"] = _container(patch["storageInputContainerName"])
    if "multilingual" in patch:
        values["multilingual"] = _bool(patch["multilingual"] or False, "multilingual")
    if "description" in patch:
        values["description"] = _description(patch["description"], existing["description"])
    if "settings" in patch:
        if patch["settings"] is None:
            values["settings"] = {}
        else:
            changes = _settings(patch["settings"], patch=True)  # refuses what is not an object
            # the classes this patch sets are checked; one set before and deleted or renamed since
            # must not block an unrelated change (decide ignores it)
            _check_class_thresholds(existing["name"], existing["kind"], existing["classes"], changes.get("classThresholds"))
            values["settings"] = _settings(patched_settings(existing["settings"], changes))
    return values


def patched_settings(settings: dict[str, Any] | None, changes: dict[str, Any]) -> dict[str, Any]:
    """A project's settings with ``changes`` (a JSON merge patch, :func:`merge_patch`) applied; a
    ``classThresholds`` left with no class is removed."""
    merged = merge_patch(settings or {}, changes)
    if merged.get("classThresholds") == {}:  # the last one removed
        del merged["classThresholds"]
    return merged


def merge_patch(target: object, patch: object) -> Any:
    """RFC 7396: ``patch`` merged into ``target``, objects key by key at every depth, null removing.

    >>> merge_patch({"a": 1, "b": {"x": 1, "y": 2}}, {"a": None, "b": {"y": None, "z": 3}})
    {'b': {'x': 1, 'z': 3}}
    """
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge_patch(out.get(key), value)
    return out


def _language(value: object) -> str:
    """The project's language code (``validation.language_code``), or InvalidArgument."""
    code = language_code(value)
    if code is None:
        raise InvalidArgument(f"The language {shown(value)} is not a language code such as 'en' or 'pt-BR'.", target="language")
    return code


def _container(value: object) -> str:
    if not isinstance(value, str) or not value or len(value) > 200 or "/" in value or any(ord(c) < 32 for c in value):
        raise InvalidArgument(f"The storage container name {shown(value)} is invalid.", target="storageInputContainerName")
    return value


def _bool(value: object, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidArgument(f"{what} must be true or false, not {shown(value)}.", target=what)
    return value


MAX_DESCRIPTION_CHARS = 2_000


def _description(value: object, kept: str | None = None) -> str | None:
    """A project's description: a string of at most 2,000 characters, line breaks and tabs its only
    control characters (30 million characters made every user's project list 32 MB, 23 s to load;
    a NUL was a 500 on PostgreSQL, whose text holds none); ``kept``, the one the project has, passes
    as it is (an import or a PATCH of another field sends it back)."""
    if value is not None and value == kept:
        return value
    if value is not None and not isinstance(value, str):
        raise InvalidArgument("description must be a string.", target="description")
    if value is not None and len(value) > MAX_DESCRIPTION_CHARS:
        raise InvalidArgument(f"The description has {len(value):,} characters; it may have at most {MAX_DESCRIPTION_CHARS:,}.",
                              target="description")
    if value is not None and (bad := CONTROL_BUT_LINE_BREAKS.search(value)):
        raise InvalidArgument(f"The description holds the control character U+{ord(bad.group()):04X} at character {bad.start() + 1:,}: "
                              "a description may hold line breaks and tabs, but no other control characters.", target="description")
    return value


def _settings(value: object, *, patch: bool = False) -> dict[str, Any]:
    """The settings' shapes and ranges checked; ``patch``: a merge patch, whose nulls remove.

    A PATCH (creating the project or changing it) may not set ``confidenceThreshold`` to 1 (every
    deployment would answer None, or no class, to everything; a class's threshold refuses 1 too),
    but a project imported with 1, as an older tagwise allowed and its exports hold, is taken."""
    if not isinstance(value, dict):
        raise InvalidArgument("settings must be a JSON object.", target="settings")
    threshold = value.get("confidenceThreshold")
    if threshold is not None and not _number(threshold, 0, 1, below_high=patch):
        upto = "below 1" if patch else "1"
        raise InvalidArgument(f"settings.confidenceThreshold must be a number from 0 to {upto} (0.9 for 90%), not {shown(threshold)}.",
                              target="confidenceThreshold")
    per_class = value.get("classThresholds")
    if per_class is not None:
        if not isinstance(per_class, dict):
            raise InvalidArgument('settings.classThresholds must be a JSON object of class names and thresholds, such as '
                                  f'{{"neutral": 0.6}}, not {shown(per_class)}.', target="classThresholds")
        for name, given in per_class.items():
            if not (given is None and patch) and not _number(given, 0, 1, below_high=True):
                raise InvalidArgument(f"settings.classThresholds[{shown(name)}] must be a number from 0 to below 1 (0.6 for 60%)"
                                      f"{', or null to remove it' if patch else ''}, not {shown(given)}.", target="classThresholds")
    # every project read carries them: a 10,000-character key was stored, and a NUL (which PostgreSQL's jsonb refuses)
    if (size := len(json.dumps(value, ensure_ascii=False))) > MAX_SETTINGS_CHARACTERS:
        raise InvalidArgument(f"settings are {size:,} characters as JSON; they may have at most {MAX_SETTINGS_CHARACTERS:,} "
                              "(200 class thresholds take about 12,000).", target="settings")
    if any("\x00" in text for text in _strings(value)):
        raise InvalidArgument("settings hold a NUL character (U+0000): remove it.", target="settings")
    return dict(value)


MAX_SETTINGS_CHARACTERS = 20_000


def _strings(value: object) -> Iterator[str]:
    """Every key and string value in a JSON value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _number(value: object, low: float, high: float, *, below_high: bool) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):  # JSON true is no 1.0
        return False
    return low <= value < high if below_high else low <= value <= high


def _check_class_thresholds(project: str, kind: str, classes: list[str], per_class: dict[str, Any] | None) -> None:
    """``settings.classThresholds`` (already shaped by ``_settings``) fits the project: multi-label,
    and every class it sets one for (a null, removing, may name any) is a class of the project."""
    setting = {name: value for name, value in (per_class or {}).items() if value is not None}
    if not setting:
        return
    if kind != MULTI:
        raise InvalidArgument(f"settings.classThresholds is for multi-label projects; {project} is single-label, where each document "
                              "gets its likeliest class. Use settings.confidenceThreshold to answer None below a confidence.",
                              target="classThresholds")
    unknown = [name for name in setting if name not in classes]
    if unknown:
        raise InvalidArgument(f"settings.classThresholds names {shown(unknown[0])}, which is not a class of project {project}; "
                              f"{its_classes(classes)}", target="classThresholds")


def describe(project: dict[str, Any]) -> dict[str, Any]:
    """The Azure ProjectDetails shape."""
    out: dict[str, Any] = {
        "projectName": project["name"],
        "projectKind": project["kind"],
        "language": project["language"],
        "storageInputContainerName": project["storage_container"],
        "multilingual": project["multilingual"],
        "settings": project["settings"] or {},
        "createdDateTime": iso(project["created_at"]),
        "lastModifiedDateTime": iso(project["modified_at"]),
    }
    if project["description"] is not None:
        out["description"] = project["description"]
    if project["last_trained_at"]:
        out["lastTrainedDateTime"] = iso(project["last_trained_at"])
    if project["last_deployed_at"]:
        out["lastDeployedDateTime"] = iso(project["last_deployed_at"])
    return out
