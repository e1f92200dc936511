"""Per-key rate limit: an in-process token bucket per API key.

Each key's bucket holds up to ``per_minute`` tokens and refills at ``per_minute / 60`` tokens a
second; a request takes one. An empty bucket answers 429 ``TooManyRequests`` with
``Retry-After`` (whole seconds until the next token). The buckets live in the process: with
several server processes a key can make up to N times its limit (say so in the docs).
"""

from __future__ import annotations

import ipaddress
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
        tokens = self._take(key_id, per_minute)
        if tokens is not None:
            wait = _wait(tokens, per_minute)
            raise TooManyRequests(
                f"Too many requests for this key: its limit is {per_minute} a minute. Retry after {wait} s.", retry_after=wait
            )

    def check_wrong_keys(self, address: str, per_minute: int) -> None:
        """Take a token from the client address's bucket of wrong keys before its key is looked at, or
        refuse (429) when it has none: a right key guessed then is not told apart. The caller gives
        the token back (:meth:`right_key`) when the key was right. Taken first, so that guesses sent
        at once cannot all pass a look that spends nothing (30 concurrent guesses got 4 answers)."""
        if per_minute <= 0:
            return
        tokens = self._take(_wrong_keys_bucket(address), per_minute)
        if tokens is not None:
            wait = _wait(tokens, per_minute)
            raise TooManyRequests(
                f"Too many wrong API keys from this address: it may send {per_minute} a minute. Retry after {wait} s "
                "with the right key (TAGWISE_API_KEY, or <data dir>/api-key on the server).", retry_after=wait
            )

    def right_key(self, address: str, per_minute: int) -> None:
        """Give back the token :meth:`check_wrong_keys` took: the key was right."""
        if per_minute <= 0:
            return
        bucket = _wrong_keys_bucket(address)
        with self._lock:
            if bucket in self._buckets:
                tokens, last = self._buckets[bucket]
                self._buckets[bucket] = (min(float(per_minute), tokens + 1.0), last)

    def _take(self, bucket: str, per_minute: int) -> float | None:
        """Refill ``bucket``; with a token in it, take one and answer None, else the tokens it holds (under one)."""
        now = self._clock()
        rate = per_minute / 60.0
        with self._lock:
            self._checks += 1
            if self._checks % PRUNE_EVERY == 0:
                self._prune(now)
            tokens, last = self._buckets.get(bucket, (float(per_minute), now))
            tokens = min(float(per_minute), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[bucket] = (tokens - 1.0, now)
                return None
            self._buckets[bucket] = (tokens, now)
            return tokens

    def _prune(self, now: float) -> None:
        """Drop the buckets untouched for IDLE_S: full again, they hold nothing a new one would not (one per
        key that ever made a request stayed, revoked keys' too: 170 after a 170-cycle soak)."""
        for key_id, (_, last) in list(self._buckets.items()):
            if now - last >= IDLE_S:
                del self._buckets[key_id]


def _wait(tokens: float, per_minute: int) -> int:
    """Whole seconds until an empty bucket holds a token again."""
    return max(1, math.ceil((1.0 - tokens) / (per_minute / 60.0)))


def _wrong_keys_bucket(address: str) -> str:
    """An address's bucket of wrong keys; an IPv6 address counts by its /64, which one client holds
    whole (a new source address in it was a new bucket, and as many guesses again)."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:  # a test client's "testclient", a unix socket's path
        return f"wrong-keys:{address}"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:  # ::ffff:10.0.0.7 is 10.0.0.7
            return f"wrong-keys:{ip.ipv4_mapped}"
        return f"wrong-keys:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"wrong-keys:{ip}"
