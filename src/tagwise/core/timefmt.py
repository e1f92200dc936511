"""Date formats of the wire contract (ISO-8601 UTC with a Z)."""

from __future__ import annotations

from datetime import datetime

NO_EXPIRY_DATE = "9999-12-31"  # tagwise models and deployments never expire


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")
