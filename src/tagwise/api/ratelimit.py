"""Per-key rate limit: an in-process token bucket per API key.

Each key's bucket holds up to ``per_minute`` tokens and refills at ``per_minute / 60`` tokens a
second; a request takes one. An empty bucket answers 429 ``TooManyRequests`` with
``Retry-After`` (whole seconds until the next token). The buckets live in the process: with
several server processes a key can make up to N times its limit (say so in the docs).
"""

from __future__ import annotations

import math
import threading
import time

from tagwise.errors import TooManyRequests

PRUNE_EVERY = 1000  # checks between two prunings of the buckets
IDLE_S = 120.0  # a bucket refills in a minute at most: untouched this long it is full, the same as a new one


class RateLimiter:
    """``check(key_id, per_minute)`` raises TooManyRequests when the key is over its limit."""

    def __init__(self, clock=time.monotonic) -> None:  # clock: monotonic, replaceable in tests
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, last refill time)
        self._lock = threading.Lock()
        self._checks = 0

    def check(self, key_id: str, per_minute: int) -> None:
        if per_minute <= 0:
            return
        now = self._clock()
        rate = per_minute / 60.0
        with self._lock:
            self._checks += 1
            if self._checks % PRUNE_EVERY == 0:
                self._prune(now)
            tokens, last = self._buckets.get(key_id, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return
            self._buckets[key_id] = (tokens, now)
        wait = max(1, math.ceil((1.0 - tokens) / rate))
        raise TooManyRequests(
            f"Too many requests for this key: its limit is {per_minute} a minute. Retry after {wait} s.", retry_after=wait
        )

    def _prune(self, now: float) -> None:
        """Drop the buckets untouched for IDLE_S: full again, they hold nothing a new one would not (one per
        key that ever made a request stayed, revoked keys' too: 170 after a 170-cycle soak)."""
        for key_id, (_, last) in list(self._buckets.items()):
            if now - last >= IDLE_S:
                del self._buckets[key_id]
