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
    assert 0.15 < th[0] < 0.3
    assert th[1] == 0.5


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
