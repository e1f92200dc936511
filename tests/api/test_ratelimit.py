"""The per-key token bucket, on a clock the test moves."""

from __future__ import annotations

import pytest

from tagwise.api import ratelimit
from tagwise.api.ratelimit import RateLimiter
from tagwise.errors import TooManyRequests


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_gets_its_limit_a_minute_and_is_told_when_to_retry():
    clock = Clock()
    limiter = RateLimiter(clock)
    for _ in range(3):
        limiter.check("k1", 3)
    with pytest.raises(TooManyRequests) as refused:
        limiter.check("k1", 3)
    assert refused.value.retry_after == 20  # one token every 20 s at 3 a minute
    limiter.check("k2", 3)  # another key has its own bucket
    clock.now += 20
    limiter.check("k1", 3)
    limiter.check("k1", 0)  # 0: unlimited


def test_buckets_of_keys_gone_quiet_are_dropped(monkeypatch):
    # one bucket stayed per key that ever made a request, revoked keys' too (170 after a 170-cycle soak)
    monkeypatch.setattr(ratelimit, "PRUNE_EVERY", 10)
    clock = Clock()
    limiter = RateLimiter(clock)
    for n in range(9):
        limiter.check(f"old{n}", 60)
    clock.now += ratelimit.IDLE_S
    limiter.check("new", 60)  # the 10th check prunes
    assert list(limiter._buckets) == ["new"]
    for _ in range(59):
        limiter.check("new", 60)
    with pytest.raises(TooManyRequests):  # a bucket in use keeps its count through a pruning
        limiter.check("new", 60)


def test_an_address_sending_wrong_keys_is_refused_before_its_key_is_looked_at():
    clock = Clock()
    limiter = RateLimiter(clock)
    for _ in range(5):
        limiter.check_wrong_keys("10.0.0.1", 3)  # a right key gives its token back: it costs nothing
        limiter.right_key("10.0.0.1", 3)
    for _ in range(3):
        limiter.check_wrong_keys("10.0.0.1", 3)  # three wrong ones
    with pytest.raises(TooManyRequests) as refused:
        limiter.check_wrong_keys("10.0.0.1", 3)
    assert refused.value.retry_after == 20 and "Too many wrong API keys from this address" in refused.value.message
    limiter.check_wrong_keys("10.0.0.2", 3)  # another address is not held up
    clock.now += 20
    limiter.check_wrong_keys("10.0.0.1", 3)  # then one guess every 20 s
    with pytest.raises(TooManyRequests):
        limiter.check_wrong_keys("10.0.0.1", 3)
    limiter.check_wrong_keys("10.0.0.1", 0)  # 0: no limit


def test_an_ipv6_client_counts_by_its_64_and_a_mapped_ipv4_as_itself():
    # a new source address in the /64 one client holds was a new bucket, and as many guesses again
    limiter = RateLimiter(Clock())
    limiter.check_wrong_keys("2001:db8:1:2::1", 2)
    limiter.check_wrong_keys("2001:db8:1:2:ffff::9", 2)
    with pytest.raises(TooManyRequests):
        limiter.check_wrong_keys("2001:db8:1:2::abcd", 2)
    limiter.check_wrong_keys("2001:db8:1:3::1", 2)  # the next /64 is someone else
    limiter.check_wrong_keys("::ffff:10.0.0.7", 1)
    with pytest.raises(TooManyRequests):
        limiter.check_wrong_keys("10.0.0.7", 1)
