"""Studio sessions live in the store (SQLite and PostgreSQL): they end when signed out, when they expire,
when their key is revoked, and when the bootstrap key changes."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text, update

from tagwise.core import keys, sessions
from tagwise.storage.records import utcnow
from tagwise.storage.tables import studio_sessions


def _count(ctx) -> int:
    with ctx.db.read() as conn:
        return conn.execute(text("select count(*) from studio_sessions")).scalar_one()


def test_a_session_lasts_until_it_ends(ctx):
    token = sessions.start(ctx, keys.ApiKey(keys.BOOTSTRAP_ID, keys.AUTHORING))
    found = sessions.find(ctx, token)
    assert found.key_id == keys.BOOTSTRAP_ID and len(found.csrf) >= 40
    assert sessions.find(ctx, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    sessions.end(ctx, token)
    assert sessions.find(ctx, token) is None and _count(ctx) == 0


def test_an_expired_session_is_refused_and_swept_at_the_next_sign_in(ctx):
    old = sessions.start(ctx, keys.ApiKey(keys.BOOTSTRAP_ID, keys.AUTHORING))
    with ctx.db.write() as conn:
        conn.execute(update(studio_sessions).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert sessions.find(ctx, old) is None
    new = sessions.start(ctx, keys.ApiKey(keys.BOOTSTRAP_ID, keys.AUTHORING))
    assert _count(ctx) == 1 and sessions.find(ctx, new) is not None


def test_revoking_a_key_ends_its_sessions_only(ctx):
    alice, _ = keys.create(ctx, "alice", keys.AUTHORING)
    bob, _ = keys.create(ctx, "bob", keys.AUTHORING, 7)
    a = sessions.start(ctx, keys.ApiKey(alice["id"], keys.AUTHORING))
    b = sessions.start(ctx, keys.ApiKey(bob["id"], keys.AUTHORING))
    keys.revoke(ctx, alice["id"])
    assert sessions.find(ctx, a) is None and sessions.find(ctx, b).key_id == bob["id"]
    assert sessions.find(ctx, b).rate_limit_per_minute == 7  # the studio charges writes to the key's own limit


def test_a_session_of_a_key_revoked_behind_its_back_is_refused(ctx):
    # revoke() deletes the sessions; a key revoked or removed in the store directly must not leave them working
    from tagwise.storage.tables import api_keys

    carol, _ = keys.create(ctx, "carol", keys.AUTHORING)
    token = sessions.start(ctx, keys.ApiKey(carol["id"], keys.AUTHORING))
    with ctx.db.write() as conn:
        conn.execute(update(api_keys).where(api_keys.c.id == carol["id"]).values(revoked_at=utcnow()))
    assert sessions.find(ctx, token) is None


def test_a_bootstrap_session_ends_when_the_bootstrap_key_changes(ctx):
    token = sessions.start(ctx, keys.ApiKey(keys.BOOTSTRAP_ID, keys.AUTHORING))
    original = ctx.settings.api_key
    ctx.settings.api_key = "another-key"
    try:
        assert sessions.find(ctx, token) is None
    finally:
        ctx.settings.api_key = original
    assert sessions.find(ctx, token) is not None
