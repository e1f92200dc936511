"""How the studio writes fractions as percentages (``studio.web``'s template filters)."""

from __future__ import annotations

from tagwise.studio.web import _percent, plain_percent


def test_a_percentage_short_of_one_never_reads_100():
    # a 0.9996 score read "100.0%" next to "no class" at a 99.999% threshold
    assert [_percent(v) for v in (0.9996, 0.99999, 0.99996, 1 - 1e-12)] == ["99.96%", "99.999%", "99.996%", "99.999999%"]
    assert [_percent(v) for v in (1.0, 0.9394, 0.93951, 0.0, None)] == ["100.0%", "93.9%", "94.0%", "0.0%", "–"]


def test_a_typed_threshold_comes_back_as_typed():
    assert [plain_percent(v) for v in (0.9, 0.125, 0.99999, 0.07, 0.0)] == ["90", "12.5", "99.999", "7", "0"]
