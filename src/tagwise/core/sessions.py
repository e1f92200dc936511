"""Studio sessions, kept in the store: an authoring key buys a random token, which signing out,
revoking the key or changing the bootstrap key ends in every process at once.

The cookie holds 32 random bytes; the store keeps only their SHA-256, so a copy of the database
does not sign anybody in. Nothing is derived from an API key, so a stolen cookie tells nothing
about the key behind it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from tagwise.core import keys
from tagwise.core.context import Context
from tagwise.storage import records
from tagwise.storage.records import utcnow

SESSION_TTL_S = 12 * 3600
FIRST_KEY_NAME = keys.FIRST_KEY_NAME


@dataclass(frozen=True)
class StudioSession:
    key_id: str
    csrf: str  # the session's token for forms (CSRF), random and kept with the session
    rate_limit_per_minute: int | None = None  # the key's own limit (None: the server's)
    key_name: str = FIRST_KEY_NAME  # who is signed in, as the Tag and Data pages name who tagged a document



def start(ctx: Context, key: keys.ApiKey) -> str:
    """A new session for ``key``; returns the token for the cookie (shown nowhere else)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with ctx.db.write() as conn:
        records.delete_studio_sessions(conn, expired_before=now)
        records.insert_studio_session(conn, {
            "token_hash": keys.digest(token),
            "key_id": key.id,
            "key_hash": _bootstrap_digest(ctx) if key.id == keys.BOOTSTRAP_ID else None,
            "csrf": secrets.token_urlsafe(32),
            "created_at": now,
            "expires_at": now + timedelta(seconds=SESSION_TTL_S),
        })
    return token


def find(ctx: Context, token: str) -> StudioSession | None:
    """The live session of ``token``, or None: unknown, ended, expired, signed in with a bootstrap
    key that has changed since, or with a managed key that is revoked (or gone) since."""
    if not token or len(token) > 100:
        return None
    with ctx.db.read() as conn:
        row = records.get_studio_session(conn, keys.digest(token))
    if row is None or row["expires_at"] <= utcnow():
        return None
    if row["key_id"] == keys.BOOTSTRAP_ID:
        if row["key_hash"] != _bootstrap_digest(ctx):
            return None
    elif row["key_found"] is None or row["key_revoked_at"] is not None:  # revoking deletes its sessions too
        return None
    return StudioSession(row["key_id"], row["csrf"], row["rate_limit_per_minute"], row["key_name"] or FIRST_KEY_NAME)


def end(ctx: Context, token: str) -> None:
    if token:
        with ctx.db.write() as conn:
            records.delete_studio_sessions(conn, token_hash=keys.digest(token))


def _bootstrap_digest(ctx: Context) -> str | None:
    return keys.digest(ctx.settings.api_key) if ctx.settings.api_key else None
