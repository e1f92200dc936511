"""API keys leave an audit trail in the log: who was given access, and when it was taken back."""

from __future__ import annotations

import logging

from tagwise.core import keys


def test_creating_and_revoking_a_key_is_logged_without_its_secret(ctx, caplog):
    with caplog.at_level(logging.INFO, logger="tagwise.core.keys"):
        record, secret = keys.create(ctx, "ticket router", "runtime", 600)
        keys.revoke(ctx, record["id"])
    assert f"API key {record['id']} ('ticket router', runtime, prefix {secret[:6]}) created" in caplog.text
    assert f"API key {record['id']} ('ticket router') revoked" in caplog.text
    assert secret not in caplog.text
