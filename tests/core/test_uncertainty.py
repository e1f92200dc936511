"""How sure a test set lets a person be: the 95% interval of a score and the sign test of a change."""

from __future__ import annotations

import pytest
from scipy.stats import binomtest

from tagwise.core.uncertainty import by_chance, chance, interval


@pytest.mark.parametrize(("right", "n", "low", "high"), [
    (9, 12, 0.4677, 0.9111),  # a small test set's 75% is anywhere from about half to nine in ten
    (2250, 3000, 0.7342, 0.7652),  # the same 75% on 3,000 documents is within about 1.5 points
    (12, 12, 0.7575, 1.0),  # all right is not "certainly 100%"
    (0, 10, 0.0, 0.2775),
])
def test_the_interval_of_a_share_of_test_documents_right(right, n, low, high):
    found = interval(right, n)
    assert found == (pytest.approx(low, abs=1e-4), pytest.approx(high, abs=1e-4))
    assert found[0] <= right / n <= found[1]


def test_no_test_documents_have_no_interval():
    assert interval(0, 0) is None


@pytest.mark.parametrize(("fixed", "broken"), [(3, 1), (30, 10), (0, 5), (7, 7), (100, 80), (2000, 1900), (1, 0)])
def test_the_sign_test_agrees_with_scipys_exact_binomial_test(fixed, broken):
    assert chance(fixed, broken) == pytest.approx(binomtest(fixed, fixed + broken).pvalue, rel=1e-9)


def test_a_few_documents_fixed_could_be_chance_and_many_could_not():
    assert chance(0, 0) == 1.0  # nothing changed
    assert by_chance(3, 1) and by_chance(5, 1)  # p 0.625, 0.219
    assert not by_chance(30, 10) and not by_chance(10, 30)  # p 0.002 either way round


def test_a_perfect_or_a_null_score_reaches_exactly_100_or_0_percent():
    # 10 of 10 right read "between 72.2% and 99.999999%" on the Evaluate page (634 n of 1-2,000 did)
    assert all(interval(n, n)[1] == 1.0 and interval(0, n)[0] == 0.0 for n in range(1, 2001))
    assert interval(10, 10)[0] == pytest.approx(0.7225, abs=1e-4)
