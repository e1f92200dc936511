"""Queries: small functions taking an open Connection, returning plain dicts.

The core decides the transaction boundaries (``db.write()``); nothing here commits.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from tagwise.storage import document_records
from tagwise.storage.tables import (
    api_keys,
    blobs,
    deployments,
    documents,
    jobs,
    model_snapshots,
    models,
    projects,
    studio_sessions,
    tag_confirmations,
    tag_leases,
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes: they were written in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _row(row: Any) -> dict[str, Any] | None:
    if row is None:
        return None
    out = dict(row._mapping)
    for key, value in out.items():
        if isinstance(value, datetime):
            out[key] = as_utc(value)
    return out


# -- projects -------------------------------------------------------------------------------

PROJECT_CREATION_LOCK_KEY = 7_415_002  # the PostgreSQL advisory lock id of "a project is being created"


def lock_project_creation(conn: Connection) -> None:
    """Until the transaction ends, no other one creates a project (PostgreSQL; SQLite's single
    writer already does that), so the project limit holds under concurrent creations."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PROJECT_CREATION_LOCK_KEY})


def get_project(conn: Connection, name: str, *, lock: bool = False) -> dict[str, Any] | None:
    """The project row; ``lock`` holds it until the transaction ends (PostgreSQL ``FOR NO KEY UPDATE``:
    every write of the project's state runs one request at a time; SQLite's single writer already
    does that). Not ``FOR UPDATE``: rows that only point at the project (a Tag page's lease) take a
    key-share lock on it, which that refused, and the Tag page came up empty behind a tag save."""
    query = select(projects).where(projects.c.name == name)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update(key_share=True)
    return _row(conn.execute(query).first())


def list_projects(conn: Connection) -> list[dict[str, Any]]:
    return [_row(r) for r in conn.execute(select(projects).order_by(projects.c.created_at, projects.c.id))]


def count_projects(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(projects)).scalar_one()


def insert_project(conn: Connection, values: dict[str, Any]) -> int:
    return conn.execute(insert(projects).values(**values)).inserted_primary_key[0]


def update_project(conn: Connection, project_id: int, values: dict[str, Any]) -> None:
    conn.execute(update(projects).where(projects.c.id == project_id).values(**values))


def delete_project(conn: Connection, project_id: int) -> None:
    for table in (tag_confirmations, documents, models, model_snapshots, deployments, tag_leases):
        conn.execute(delete(table).where(table.c.project_id == project_id))
    conn.execute(delete(projects).where(projects.c.id == project_id))


# -- documents ------------------------------------------------------------------------------

def replace_documents(conn: Connection, project_id: int, rows: Sequence[dict[str, Any]]) -> None:
    conn.execute(delete(documents).where(documents.c.project_id == project_id))
    if rows:
        conn.execute(insert(documents), document_records.stored_rows(project_id, rows))


def list_documents(conn: Connection, project_id: int) -> list[dict[str, Any]]:
    query = select(*document_records.READ_COLUMNS).where(documents.c.project_id == project_id).order_by(documents.c.id)
    return [_row(r) for r in conn.execute(query)]


def count_documents(conn: Connection, project_id: int) -> int:
    query = select(func.count()).select_from(documents).where(documents.c.project_id == project_id)
    return conn.execute(query).scalar_one()


# -- trained models -------------------------------------------------------------------------

def get_model(conn: Connection, project_id: int, label: str) -> dict[str, Any] | None:
    query = select(models).where(models.c.project_id == project_id, models.c.label == label)
    return _row(conn.execute(query).first())


def get_model_ref(conn: Connection, project_id: int, label: str) -> dict[str, Any] | None:
    """Only what serving needs (model_id, artifact): the evaluation columns are large JSON."""
    query = select(models.c.label, models.c.model_id, models.c.artifact).where(models.c.project_id == project_id, models.c.label == label)
    return _row(conn.execute(query).first())


def model_refs(conn: Connection, project_id: int) -> list[dict[str, Any]]:
    """(label, model_id, artifact) of every trained model of a project, without the evaluations."""
    query = select(models.c.label, models.c.model_id, models.c.artifact).where(models.c.project_id == project_id)
    return [_row(r) for r in conn.execute(query)]


def model_ids_in_use(conn: Connection, project_id: int) -> set[str]:
    """The model ids a project's trained models or deployments refer to: their folders must stay."""
    trained = select(models.c.model_id).where(models.c.project_id == project_id)
    served = select(deployments.c.model_id).where(deployments.c.project_id == project_id)
    return set(conn.execute(trained.union(served)).scalars())


def model_folders(conn: Connection) -> list[dict[str, Any]]:
    """Every trained model's ``project`` (name), ``label``, ``model_id`` and ``artifact``, in one query
    without the models' evaluations."""
    query = (select(projects.c.name.label("project"), models.c.label, models.c.model_id, models.c.artifact)
             .join(projects, projects.c.id == models.c.project_id).order_by(projects.c.id, models.c.trained_at, models.c.id))
    return [dict(r._mapping) for r in conn.execute(query)]


def list_models(conn: Connection, project_id: int) -> list[dict[str, Any]]:
    query = select(models).where(models.c.project_id == project_id).order_by(models.c.trained_at, models.c.id)
    return [_row(r) for r in conn.execute(query)]


def latest_model(conn: Connection, project_id: int) -> dict[str, Any] | None:
    """The most recently trained model (what ``list_models(...)[-1]`` is), without reading the others'
    evaluations: the Tag page asked for every model's on each load."""
    query = select(models).where(models.c.project_id == project_id).order_by(models.c.trained_at.desc(), models.c.id.desc()).limit(1)
    row = conn.execute(query).first()
    return _row(row) if row is not None else None


def upsert_model(conn: Connection, project_id: int, values: dict[str, Any]) -> None:
    conn.execute(delete(models).where(models.c.project_id == project_id, models.c.label == values["label"]))
    conn.execute(insert(models).values(project_id=project_id, **values))


def delete_model(conn: Connection, project_id: int, label: str) -> None:
    conn.execute(delete(models).where(models.c.project_id == project_id, models.c.label == label))
    conn.execute(delete(model_snapshots).where(*_snapshot_of(project_id, label)))


def _snapshot_of(project_id: int, label: str, model_id: str | None = None) -> list[Any]:
    clauses = [model_snapshots.c.project_id == project_id, model_snapshots.c.label == label]
    return clauses if model_id is None else [*clauses, model_snapshots.c.model_id == model_id]


def put_model_snapshot(conn: Connection, project_id: int, label: str, model_id: str, data: dict[str, Any]) -> None:
    """The classes and documents the label's model (``model_id``) was trained and tested on; replaces the label's earlier ones.

    Kept compressed (``{"zlib": base64}``): a copy of every text per model label took 78 MB of the
    SQLite file per training of a 300,000-document project; zlib at level 1 makes 57 MB of such
    JSON 11.7 MB in 0.24 s. Snapshots written before are read as they are."""
    packed = {"zlib": base64.b64encode(zlib.compress(json.dumps(data).encode("utf-8"), 1)).decode("ascii")}
    conn.execute(delete(model_snapshots).where(*_snapshot_of(project_id, label)))
    conn.execute(insert(model_snapshots).values(project_id=project_id, label=label, model_id=model_id, data=packed))


def remove_from_snapshots(conn: Connection, project_id: int, locations: set[str]) -> list[str]:
    """Take the documents at ``locations`` out of every model snapshot of the project (a deleted
    document stayed there whole, and an export of the model gave it back); returns the labels of
    the models that were trained on any (not those that only tested on them: they learned nothing
    of them). Each snapshot counts what left it (``removed``)."""
    labels = []
    for label, model_id in conn.execute(select(model_snapshots.c.label, model_snapshots.c.model_id)
                                        .where(model_snapshots.c.project_id == project_id)).all():
        data = get_model_snapshot(conn, project_id, label, model_id)
        gone = [d for d in data["documents"] if d["location"] in locations]
        if gone:
            kept = [d for d in data["documents"] if d["location"] not in locations]
            put_model_snapshot(conn, project_id, label, model_id, dict(data, documents=kept, removed=data.get("removed", 0) + len(gone)))
            if any(d.get("dataset") != "Test" for d in gone):
                labels.append(label)
    return labels


def has_model_snapshot(conn: Connection, project_id: int, label: str, model_id: str) -> bool:
    """Whether the label's model ``model_id`` has its documents kept, without reading them."""
    return conn.execute(select(model_snapshots.c.label).where(*_snapshot_of(project_id, label, model_id))).first() is not None


def get_model_snapshot(conn: Connection, project_id: int, label: str, model_id: str) -> dict[str, Any] | None:
    """The classes and documents of the label's model ``model_id``; None when it was trained before they were kept."""
    data = conn.execute(select(model_snapshots.c.data).where(*_snapshot_of(project_id, label, model_id))).scalar()
    if isinstance(data, dict) and set(data) == {"zlib"}:
        return json.loads(zlib.decompress(base64.b64decode(data["zlib"])))
    return data


# -- deployments ----------------------------------------------------------------------------

def get_deployment(conn: Connection, project_id: int, name: str) -> dict[str, Any] | None:
    query = select(deployments).where(deployments.c.project_id == project_id, deployments.c.name == name)
    return _row(conn.execute(query).first())


def list_deployments(conn: Connection, project_id: int) -> list[dict[str, Any]]:
    query = select(deployments).where(deployments.c.project_id == project_id).order_by(deployments.c.id)
    return [_row(r) for r in conn.execute(query)]


def upsert_deployment(conn: Connection, project_id: int, values: dict[str, Any]) -> None:
    existing = get_deployment(conn, project_id, values["name"])
    if existing:
        conn.execute(update(deployments).where(deployments.c.id == existing["id"]).values(**values))
    else:
        conn.execute(insert(deployments).values(project_id=project_id, **values))


def delete_deployment(conn: Connection, project_id: int, name: str) -> None:
    conn.execute(delete(deployments).where(deployments.c.project_id == project_id, deployments.c.name == name))


def count_deployments(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(deployments)).scalar_one()


# -- jobs -----------------------------------------------------------------------------------

def insert_job(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(insert(jobs).values(**values))


def get_job(conn: Connection, job_id: str) -> dict[str, Any] | None:
    return _row(conn.execute(select(jobs).where(jobs.c.id == job_id)).first())


def list_jobs(conn: Connection, kind: str, project_name: str | None = None) -> list[dict[str, Any]]:
    """Jobs of ``kind``; with ``project_name``, those of the project of that name that exists now.

    Jobs name their project, and a project deleted and created again has the same name: the jobs
    of the one deleted are those created before the current one was (none without a project).
    They are hidden, not deleted: a training still stopping for a deleted project reads its row.
    """
    query = select(jobs).where(jobs.c.kind == kind)
    if project_name is not None:
        created = select(projects.c.created_at).where(projects.c.name == project_name).scalar_subquery()
        query = query.where(jobs.c.project_name == project_name, jobs.c.created_at >= created)
    return [_row(r) for r in conn.execute(query.order_by(jobs.c.created_at, jobs.c.id))]


def update_job(conn: Connection, job_id: str, values: dict[str, Any], *, only_if_status: Iterable[str] | None = None,
               only_if_claimed_by: str | None = None) -> bool:
    query = update(jobs).where(jobs.c.id == job_id)
    if only_if_status is not None:
        query = query.where(jobs.c.status.in_(list(only_if_status)))
    if only_if_claimed_by is not None:
        query = query.where(jobs.c.claimed_by == only_if_claimed_by)
    return conn.execute(query.values(updated_at=utcnow(), **values)).rowcount > 0


def delete_expired_jobs(conn: Connection, statuses: Iterable[str], before: datetime) -> int:
    """Delete the jobs in ``statuses`` whose ``expires_at`` is before ``before``; how many."""
    query = delete(jobs).where(jobs.c.status.in_(list(statuses)), jobs.c.expires_at < before)
    return conn.execute(query).rowcount


def jobs_in_status(conn: Connection, kind: str, statuses: Iterable[str]) -> list[dict[str, Any]]:
    query = select(jobs).where(jobs.c.kind == kind, jobs.c.status.in_(list(statuses))).order_by(jobs.c.created_at)
    return [_row(r) for r in conn.execute(query)]


def count_jobs(conn: Connection, kinds: Iterable[str], statuses: Iterable[str]) -> dict[tuple[str, str], int]:
    """(kind, status) -> how many jobs; only the pairs that have any. Answered from ``ix_jobs_kind_status``."""
    query = select(jobs.c.kind, jobs.c.status, func.count()).where(jobs.c.kind.in_(list(kinds)), jobs.c.status.in_(list(statuses)))
    return {(kind, status): count for kind, status, count in conn.execute(query.group_by(jobs.c.kind, jobs.c.status))}


def count_unfinished(conn: Connection, kind: str, key_id: str) -> int:
    """How many jobs of ``kind`` the key submitted are waiting or running. Answered from ``ix_jobs_key``.
    On PostgreSQL the count holds a lock on the key until the transaction ends, so that two submits
    at once cannot both pass a cap (SQLite's writer lock already serialises them)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("select pg_advisory_xact_lock(hashtext(:key))"), {"key": f"tagwise-jobs:{kind}:{key_id}"})
    query = select(func.count()).select_from(jobs).where(jobs.c.key_id == key_id, jobs.c.kind == kind,
                                                         jobs.c.status.in_(("notStarted", "running", "cancelling")))
    return conn.execute(query).scalar_one()


# -- blobs (the tagwise stand-in for an Azure storage container) -----------------------------

def put_blob(conn: Connection, container: str, location: str, text: str) -> bool:
    """Store a blob; True when it was created, False when replaced."""
    where = (blobs.c.container == container, blobs.c.location == location)
    existed = conn.execute(delete(blobs).where(*where)).rowcount > 0
    try:
        with conn.begin_nested():
            conn.execute(insert(blobs).values(container=container, location=location, text=text, modified_at=utcnow()))
    except IntegrityError:  # PostgreSQL: the same blob uploaded at once by another request, stored since the delete (a 500)
        conn.execute(update(blobs).where(*where).values(text=text, modified_at=utcnow()))
        return False
    return not existed


def get_blob(conn: Connection, container: str, location: str) -> str | None:
    query = select(blobs.c.text).where(blobs.c.container == container, blobs.c.location == location)
    return conn.execute(query).scalar_one_or_none()


def get_blobs(conn: Connection, container: str, locations: Sequence[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for start in range(0, len(locations), 500):
        chunk = list(locations[start : start + 500])
        query = select(blobs.c.location, blobs.c.text).where(blobs.c.container == container, blobs.c.location.in_(chunk))
        found.update({r.location: r.text for r in conn.execute(query)})
    return found


def delete_blob(conn: Connection, container: str, location: str) -> bool:
    query = delete(blobs).where(blobs.c.container == container, blobs.c.location == location)
    return conn.execute(query).rowcount > 0


def delete_container(conn: Connection, container: str) -> int:
    """Delete every blob of ``container``; returns how many there were."""
    return conn.execute(delete(blobs).where(blobs.c.container == container)).rowcount


def list_blobs(conn: Connection, container: str) -> list[dict[str, Any]]:
    query = select(blobs.c.location, func.length(blobs.c.text).label("size")).where(blobs.c.container == container)
    return [dict(r._mapping) for r in conn.execute(query.order_by(blobs.c.location))]


# -- job claims and heartbeats (several processes share one store) ---------------------------

def claim_jobs(conn: Connection, kind: str, worker_id: str, limit: int = 1) -> list[str]:
    """Mark up to ``limit`` queued jobs of ``kind`` running under ``worker_id``; return their ids.

    Each job is claimed exactly once, whatever number of processes ask at the same time:
    PostgreSQL skips rows another transaction is claiming (``FOR UPDATE SKIP LOCKED``); SQLite
    holds its one writer lock for the transaction (``BEGIN IMMEDIATE``). The UPDATE re-checks
    the status either way.
    """
    query = select(jobs.c.id).where(jobs.c.kind == kind, jobs.c.status == "notStarted")
    query = query.order_by(jobs.c.created_at, jobs.c.id).limit(limit)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    ids = list(conn.execute(query).scalars())
    if not ids:
        return []
    now = utcnow()
    claim = update(jobs).where(jobs.c.id.in_(ids), jobs.c.status == "notStarted")
    claim = claim.values(status="running", claimed_by=worker_id, started_at=now, heartbeat_at=now, updated_at=now)
    claimed = set(conn.execute(claim.returning(jobs.c.id)).scalars())
    return [job_id for job_id in ids if job_id in claimed]


def heartbeat(conn: Connection, job_ids: Sequence[str]) -> None:
    """Tell other processes these running jobs are still alive."""
    if job_ids:
        conn.execute(update(jobs).where(jobs.c.id.in_(list(job_ids))).values(heartbeat_at=utcnow()))


# -- API keys (only their SHA-256 is stored) -------------------------------------------------

def insert_api_key(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(insert(api_keys).values(**values))


def get_api_key(conn: Connection, key_id: str) -> dict[str, Any] | None:
    return _row(conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first())


def find_api_key(conn: Connection, key_hash: str) -> dict[str, Any] | None:
    """The active (not revoked) key with this hash."""
    query = select(api_keys).where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None))
    return _row(conn.execute(query).first())


def find_revoked_api_key(conn: Connection, key_hash: str) -> dict[str, Any] | None:
    """The revoked key with this hash (``key_hash`` is unique)."""
    query = select(api_keys).where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_not(None))
    return _row(conn.execute(query).first())


def list_api_keys(conn: Connection) -> list[dict[str, Any]]:
    return [_row(r) for r in conn.execute(select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id))]


def revoke_api_key(conn: Connection, key_id: str) -> bool:
    query = update(api_keys).where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None)).values(revoked_at=utcnow())
    return conn.execute(query).rowcount > 0


# -- studio sessions ------------------------------------------------------------------------


def insert_studio_session(conn: Connection, values: dict[str, Any]) -> None:
    conn.execute(insert(studio_sessions).values(**values))


def get_studio_session(conn: Connection, token_hash: str) -> dict[str, Any] | None:
    """The session with its managed key's state (``key_found``, ``key_revoked_at``, ``rate_limit_per_minute``,
    ``key_name``; all None for the bootstrap key, which has no row)."""
    query = (select(studio_sessions, api_keys.c.id.label("key_found"), api_keys.c.revoked_at.label("key_revoked_at"),
                    api_keys.c.rate_limit_per_minute, api_keys.c.name.label("key_name"))
             .select_from(studio_sessions.outerjoin(api_keys, api_keys.c.id == studio_sessions.c.key_id))
             .where(studio_sessions.c.token_hash == token_hash))
    return _row(conn.execute(query).first())


def delete_studio_sessions(conn: Connection, *, token_hash: str | None = None, key_id: str | None = None,
                           expired_before: datetime | None = None) -> int:
    """Delete one session, every session of a key, or those expired before a time."""
    if token_hash is None and key_id is None and expired_before is None:
        raise ValueError("which studio sessions to delete was not said")
    query = delete(studio_sessions)
    if token_hash is not None:
        query = query.where(studio_sessions.c.token_hash == token_hash)
    if key_id is not None:
        query = query.where(studio_sessions.c.key_id == key_id)
    if expired_before is not None:
        query = query.where(studio_sessions.c.expires_at < expired_before)
    return conn.execute(query).rowcount
