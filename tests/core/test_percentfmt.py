"""Percentages for people (``core.percentfmt``), as the studio, the verdicts and the CLI write them."""

from __future__ import annotations

from tagwise.core.model_results import baseline_caution
from tagwise.core.percentfmt import percent


def test_a_percentage_short_of_one_never_reads_100():
    # a 0.9996 score read "100.0%" next to "no class" at a 99.999% threshold
    assert [percent(v) for v in (0.9996, 0.99999, 0.99996, 1 - 1e-12)] == ["99.96%", "99.999%", "99.996%", "99.999999%"]
    assert [percent(v) for v in (1.0, 0.9394, 0.93951, 0.0, None)] == ["100.0%", "93.9%", "94.0%", "0.0%", "–"]


def test_a_caution_built_in_python_does_not_round_a_near_perfect_score_to_100():
    # 2,498 of 2,500 right against a baseline of 2,497: the two read "99.9% against 99.9%" before
    extra = {"accuracy": 2498 / 2500, "testDocuments": 2500, "majorityBaseline": {"class": "ok", "accuracy": 2497 / 2500}}
    caution = baseline_caution({"evaluation": {"tagwise": extra}})
    assert caution is not None and "(99.92% against 99.88%" in caution and "100.0%" not in caution
