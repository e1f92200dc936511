import numpy as np
import pytest

from tagwise.ml.calibration import apply_platt, apply_temperature, fit_platt, fit_temperature
from tagwise.ml.thresholds import best_f1_threshold, tune_thresholds


def test_best_threshold_separates_and_sits_between_scores():
    proba = np.array([0.9, 0.8, 0.35, 0.3, 0.1])
    truth = np.array([1, 1, 1, 0, 0], dtype=bool)
    assert best_f1_threshold(proba, truth) == pytest.approx((0.35 + 0.3) / 2)


def test_tune_thresholds_falls_back_for_rare_classes():
    rng = np.random.default_rng(0)
    truth = np.zeros((50, 2), dtype=bool)
    truth[:20, 0] = True
    truth[0, 1] = True  # one positive only: not enough to tune
    proba = np.c_[np.where(truth[:, 0], 0.3, 0.1) + rng.uniform(0, 0.05, 50), rng.uniform(0, 1, 50)]
    th = tune_thresholds(truth, proba)
    pooled = best_f1_threshold(proba.ravel(), truth.ravel())
    assert th[1] == pooled  # the rare class takes the threshold that is best for all classes pooled
    assert 0.15 < tune_thresholds(truth, proba, prior_weight=0)[0] < 0.3


def test_rare_classes_lean_on_the_pooled_threshold_common_ones_keep_their_own():
    rng = np.random.default_rng(1)
    n = 20_000
    truth = np.zeros((n, 2), dtype=bool)
    truth[:5_000, 0] = True  # common: 5,000 positives
    truth[rng.choice(n, 30, replace=False), 1] = True  # rare: 30 positives
    proba = np.where(truth, rng.uniform(0.3, 1.0, truth.shape), rng.uniform(0.0, 0.5, truth.shape))
    own = tune_thresholds(truth, proba, prior_weight=0)
    pooled = best_f1_threshold(proba.ravel(), truth.ravel())
    shrunk = tune_thresholds(truth, proba)
    # weight 50: the common class moves by 1% of the way, the rare one by 50 / (30 + 50)
    assert shrunk[0] == pytest.approx(own[0] + (pooled - own[0]) * 50 / 5_050)
    assert shrunk[1] == pytest.approx(own[1] + (pooled - own[1]) * 50 / 80)


def test_temperature_recovers_scale():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=(2000, 3))
    p = apply_temperature(scores, 3.0)
    y = np.array([rng.choice(3, p=row) for row in p])
    assert fit_temperature(scores, y) == pytest.approx(3.0, rel=0.2)


def test_platt_recovers_slope():
    rng = np.random.default_rng(1)
    s = rng.normal(size=4000)
    y = rng.uniform(size=4000) < apply_platt(s, 2.0, -1.0)
    a, b = fit_platt(s, y)
    assert a == pytest.approx(2.0, rel=0.15) and b == pytest.approx(-1.0, abs=0.15)
    assert fit_platt(s, np.zeros(4000, dtype=bool))[1] < 0
