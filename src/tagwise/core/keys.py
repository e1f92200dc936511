"""API keys: stored hashed, each with a role; create, list, revoke, verify.

Two roles: ``authoring`` may do everything; ``runtime`` may only classify (the analyze-text
jobs and the synchronous ``:classify`` route). The bootstrap key (``TAGWISE_API_KEY`` or
``<data dir>/api-key``) is always an authoring key.

Only the SHA-256 of a key is stored. That is enough for keys tagwise generates (24 random
bytes): nobody can search a 192-bit space, so a slow salted hash would only slow every request.
Rotation without downtime: create a new key, move the clients to it, revoke the old one; a
revocation reaches every process within ``CACHE_S`` seconds.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
import unicodedata
from dataclasses import dataclass
from typing import Any

from tagwise.core.context import Context
from tagwise.core.timefmt import iso
from tagwise.core.validation import INVISIBLE, blank, shown
from tagwise.errors import InvalidArgument, NotFound, store_unavailable
from tagwise.storage import records
from tagwise.storage.records import utcnow

FIRST_KEY_NAME = "the first key"  # the server's own key (TAGWISE_API_KEY, <data dir>/api-key) has no name of its own

log = logging.getLogger(__name__)
AUTHORING = "authoring"
RUNTIME = "runtime"
ROLES = (AUTHORING, RUNTIME)
BOOTSTRAP_ID = "bootstrap"
CACHE_S = 1.0
STALE_S = 600.0  # how long a verified key is still taken while the store cannot be reached
_CACHE_MAX = 10_000
MAX_RATE_LIMIT = 2**31 - 1  # the store's integer column (PostgreSQL int4)


@dataclass(frozen=True)
class ApiKey:
    """Who is calling: the key's id, its role and its own rate limit (None: the server default)."""

    id: str
    role: str
    rate_limit_per_minute: int | None = None


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def _reads(name: str) -> str:
    """A name as a reader sees it: NFKC (a no-break or thin space is a space), case-folded, without
    invisible characters, spaces run together."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return " ".join("".join(c for c in folded if unicodedata.category(c) not in ("Cf", "Mn")).split())  # INVISIBLE are all Cf


def create(ctx: Context, name: Any, role: Any, rate_limit_per_minute: Any = None) -> tuple[dict[str, Any], str]:
    """A new key. Returns (record, secret); the secret is shown once and never stored."""
    if not isinstance(name, str) or not name.strip() or len(name) > 100 or any(unicodedata.category(c) == "Cc" for c in name):
        raise InvalidArgument("The key needs a name: 1 to 100 characters, no control characters.", target="name")
    # the name is who tagged a document ("taggedBy"): a zero-width space alone, or a right-to-left override that shows
    # "abc" as "cba", named nobody, and a key named as the server's own key tagged as that key
    if blank(name) or (spoofing := next((c for c in name if c in INVISIBLE), None)):
        which = "only spaces or invisible characters" if blank(name) else f"U+{ord(spoofing):04X}"
        raise InvalidArgument(f"A key's name is who tagged a document: it may not be {which} (invisible, or a direction override "
                              "that shows the name other than it is).", target="name")
    if _reads(name) == _reads(FIRST_KEY_NAME):
        raise InvalidArgument(f"{FIRST_KEY_NAME!r} is how tagwise names the server's own key (TAGWISE_API_KEY): another name, please.",
                              target="name")
    if role is None:
        raise InvalidArgument(f"The key needs a role: {AUTHORING!r} or {RUNTIME!r}.", target="role")
    if role not in ROLES:
        raise InvalidArgument(f"The key role {shown(role)} is unknown; use {AUTHORING!r} or {RUNTIME!r}.", target="role")
    if rate_limit_per_minute is not None and (
        not isinstance(rate_limit_per_minute, int) or isinstance(rate_limit_per_minute, bool)
        or not 0 <= rate_limit_per_minute <= MAX_RATE_LIMIT
    ):
        raise InvalidArgument(f"rateLimitPerMinute must be a whole number from 0 (unlimited) to {MAX_RATE_LIMIT:,}.",
                              target="rateLimitPerMinute")
    secret = secrets.token_hex(24)
    values = {
        "id": "k" + secrets.token_hex(6),
        "name": name.strip(),
        "role": role,
        "key_hash": digest(secret),
        "prefix": secret[:6],
        "rate_limit_per_minute": rate_limit_per_minute,
        "created_at": utcnow(),
        "revoked_at": None,
    }
    with ctx.db.write() as conn:
        records.insert_api_key(conn, values)
    log.info("API key %s (%r, %s, prefix %s) created", values["id"], values["name"], role, values["prefix"])
    return values, secret


def list_all(ctx: Context) -> list[dict[str, Any]]:
    with ctx.db.read() as conn:
        return records.list_api_keys(conn)


def revoke(ctx: Context, key_id: str) -> None:
    with ctx.db.write() as conn:
        key = records.get_api_key(conn, key_id)
        if key is None:
            raise NotFound(f"The API key {key_id} could not be found.", target="keyId")
        records.revoke_api_key(conn, key_id)
        records.delete_studio_sessions(conn, key_id=key_id)  # its studio sessions end with it
    _verified.clear()
    _revoked.clear()
    log.info("API key %s (%r) revoked", key_id, key["name"])


def per_minute(ctx: Context, own: int | None) -> int:
    """The rate limit a key gets: its own, else the server's (``TAGWISE_RATE_LIMIT_PER_MINUTE``)."""
    return own if own is not None else ctx.settings.rate_limit_per_minute


def verify(ctx: Context, given: str) -> ApiKey | None:
    """The key ``given`` belongs to, or None. Compares digests in constant time."""
    hashed = digest(given)
    bootstrap = ctx.settings.api_key
    if bootstrap and hmac.compare_digest(hashed, digest(bootstrap)):
        return ApiKey(BOOTSTRAP_ID, AUTHORING)
    now = time.monotonic()
    cached = _verified.get(hashed)
    if cached is not None and cached[1] > now:
        return cached[0]
    try:
        with ctx.db.read() as conn:
            row = records.find_api_key(conn, hashed)
    except Exception as exc:
        # the store is away: a key verified a little earlier is still taken, so that a scraper's
        # runtime key reads /metrics (tagwise_store_up 0) during the outage; routes that need the
        # store answer 503 on their own, and no key can be revoked meanwhile
        if store_unavailable(exc) and cached is not None and cached[0] is not None and now < cached[1] - CACHE_S + STALE_S:
            return cached[0]
        raise
    key = None
    if row is not None and hmac.compare_digest(row["key_hash"], hashed):
        key = ApiKey(row["id"], row["role"], row["rate_limit_per_minute"])
    _verified.put(hashed, key, now + CACHE_S)
    return key


def revoked(ctx: Context, given: str) -> dict[str, Any] | None:
    """The revoked key ``given`` was (its ``id``, ``name`` and ``revoked_at``), or None: a client still
    sending it after a rotation is no guesser, and is told so."""
    hashed = digest(given)
    now = time.monotonic()
    if (cached := _revoked.get(hashed)) is not None and cached[1] > now:
        return cached[0]
    with ctx.db.read() as conn:
        row = records.find_revoked_api_key(conn, hashed)
    found = row if row is not None and hmac.compare_digest(row["key_hash"], hashed) else None
    _revoked.put(hashed, found, now + (STALE_S if found else CACHE_S))  # a revoked key stays revoked
    return found


def describe(key: dict[str, Any], secret: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "keyId": key["id"],
        "name": key["name"],
        "role": key["role"],
        "keyPrefix": key["prefix"],
        "rateLimitPerMinute": key["rate_limit_per_minute"],
        "createdDateTime": iso(key["created_at"]),
        "revokedDateTime": iso(key["revoked_at"]) if key["revoked_at"] else None,
    }
    if secret is not None:
        out["key"] = secret
    return out


class _Cache:
    """digest -> (what was found: an ApiKey, a revoked key's row, or None; expiry); bounded, so garbage
    keys cannot grow it without end."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[Any, float]] = {}
        self._lock = threading.Lock()

    def get(self, hashed: str) -> tuple[Any, float] | None:
        return self._items.get(hashed)

    def put(self, hashed: str, key: Any, expires: float) -> None:
        with self._lock:
            if len(self._items) >= _CACHE_MAX:
                self._items.clear()
            self._items[hashed] = (key, expires)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


_verified = _Cache()
_revoked = _Cache()
