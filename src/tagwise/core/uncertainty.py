"""How sure a test set lets a person be of a score, and of a change between two models.

A test set of 12 documents that a model gets 9 of right says "75%", and so does one of 3,000;
only the second means it. :func:`interval` is the 95% Wilson score interval of such a share: on
12 documents 9 right is anywhere from 47% to 91%. :func:`chance` is the exact sign test (McNemar's,
for two models on the same documents): when the newer model fixed 3 documents and broke 1, a coin
would do as well or better more than half the time, and "better" would be a word for noise.

>>> low, high = interval(9, 12)
>>> f"{low:.1%}-{high:.1%}"
'46.8%-91.1%'
>>> round(chance(3, 1), 3), round(chance(30, 10), 4)
(0.625, 0.0022)
"""

from __future__ import annotations

import math

__all__ = ["CHANCE_LEVEL", "Z95", "by_chance", "chance", "interval"]

Z95 = 1.959964  # the normal quantile of a two-sided 95% interval
CHANCE_LEVEL = 0.05  # a change whose sign test says p >= this "could be chance"


def interval(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """The Wilson score interval of ``successes`` out of ``n`` (95% by default); None when n is 0.

    Unlike the textbook p ± 1.96·sqrt(p(1-p)/n), it stays inside 0-1 and does not shrink to a
    point at 0 or n successes: 12 of 12 right is 76%-100%, not "100%, certainly"."""
    if n <= 0:
        return None
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    # at 0 or n successes a bound is exactly 0 or 1; floating point made 10 of 10 "up to 99.999999%"
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= n else min(1.0, centre + half)
    return low, high


def chance(fixed: int, broken: int) -> float:
    """The two-sided p-value of the exact sign test: how often a coin flipped for each of the
    ``fixed + broken`` documents whose outcome changed would split them at least this unevenly.
    1.0 when nothing changed."""
    n = fixed + broken
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, k) for k in range(min(fixed, broken) + 1))
    return min(1.0, 2 * tail / 2**n)  # int / int: exact even when 2**n has thousands of digits


def by_chance(fixed: int, broken: int) -> bool:
    """Whether a model that fixed ``fixed`` and broke ``broken`` of the same test documents could
    differ from the other by chance alone (see :func:`chance`)."""
    return chance(fixed, broken) >= CHANCE_LEVEL
