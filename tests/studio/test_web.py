"""How the studio writes a typed threshold back (``studio.web``'s template filters)."""

from __future__ import annotations

from tagwise.studio.web import plain_percent


def test_a_typed_threshold_comes_back_as_typed():
    assert [plain_percent(v) for v in (0.9, 0.125, 0.99999, 0.07, 0.0)] == ["90", "12.5", "99.999", "7", "0"]
