"""The container-upload stand-in for Azure Blob storage (contract section 5)."""

from __future__ import annotations

from typing import Any

from tagwise.core.context import Context
from tagwise.core.projects import _container
from tagwise.core.validation import check_drawn_as_written, check_location, check_text
from tagwise.errors import NotFound
from tagwise.storage import records


def put(ctx: Context, container: str, location: str, text: str) -> bool:
    _container(container)
    check_drawn_as_written(check_location(location), "location")
    check_text(text, location, ctx.settings.max_document_characters)
    with ctx.db.write() as conn:
        return records.put_blob(conn, container, location, text)


def get(ctx: Context, container: str, location: str) -> str:
    with ctx.db.read() as conn:
        text = records.get_blob(conn, container, location)
    if text is None:
        raise NotFound(f"The blob {location!r} does not exist in container {container!r}.")
    return text


def delete(ctx: Context, container: str, location: str) -> None:
    with ctx.db.write() as conn:
        if not records.delete_blob(conn, container, location):
            raise NotFound(f"The blob {location!r} does not exist in container {container!r}.")


def list_all(ctx: Context, container: str) -> list[dict[str, Any]]:
    with ctx.db.read() as conn:
        return records.list_blobs(conn, container)


def delete_container(ctx: Context, container: str) -> int:
    """Delete every blob of ``container`` (the texts stay after the projects imported from them are
    deleted: deleting them one request at a time was the only way); returns how many."""
    _container(container)
    with ctx.db.write() as conn:
        deleted = records.delete_container(conn, container)
    if not deleted:
        raise NotFound(f"The container {container!r} has no blobs.")
    return deleted
