"""Percentages for people: a share short of 1 never reads "100.0%", whoever formats it (the studio's
pages, the verdicts and cautions built in Python, the CLI)."""

from __future__ import annotations

from typing import Any


def percent(value: Any, digits: int = 1) -> str:
    """A 0-1 fraction as a percentage; one short of 1 takes the decimals that tell it from 100 (a
    0.9996 score stood as "100.0%" beside "no class" at a 99.999% threshold). None reads "–".

    >>> [percent(v) for v in (0.9394, 0.9996, 1.0, None)]
    ['93.9%', '99.96%', '100.0%', '–']
    """
    if value is None:
        return "–"
    value = float(value)
    shown = f"{100 * value:.{digits}f}"
    while value < 1 and float(shown) >= 100 and digits < 6:
        digits += 1
        shown = f"{100 * value:.{digits}f}"
    if value < 1 and float(shown) >= 100:  # closer to 1 than six decimals tell
        shown = f"{99.999999:.{digits}f}"
    return f"{shown}%"


def percents(*values: float, digits: int = 1) -> list[str]:
    """Several fractions that a sentence compares, with one number of decimals that tells apart
    those that differ (up to four): "99.9% against 99.9%" read as a tie for 2,498 against 2,497 of
    2,500; each still never reads "100.0%" short of 1 (:func:`percent`).

    >>> percents(0.9992, 0.9988, 0.997)
    ['99.92%', '99.88%', '99.70%']
    """
    while digits < 4 and len({f"{100 * v:.{digits}f}" for v in values}) < len(set(values)):
        digits += 1
    return [percent(v, digits) for v in values]


def points(a: float, b: float) -> str:
    """The change from ``a`` to ``b`` in percentage points, as the difference of the two numbers
    :func:`percents` shows beside each other, with their decimals and a real minus sign: "2.7%"
    and "3.6%" (0.0274 and 0.0358) change by "+0.9", where the exact difference read "+0.8" beside them.

    >>> [points(0.0274, 0.0358), points(0.9992, 0.9988), points(0.95, 0.9996), points(0.5, 0.5)]
    ['+0.9', '−0.04', '+4.96', '0.0']
    """
    shown = [v.rstrip("%") for v in percents(a, b)]
    digits = max(len(v.partition(".")[2]) for v in shown)
    change = f"{float(shown[1]) - float(shown[0]):+.{digits}f}"
    return change[1:] if float(change) == 0 else change.replace("-", "\u2212")
