"""The calibrated linear head: parallel fold fits must not change the model."""

import numpy as np
import pytest

from tagwise.ml.head import PARALLEL_MIN_DOCS, LinearHead


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n, d, k = PARALLEL_MIN_DOCS + 500, 40, 5
    centers = rng.normal(size=(k, d))
    y = rng.integers(0, k, size=n)
    X = (centers[y] + rng.normal(scale=2.0, size=(n, d))).astype(np.float32)
    return X, y, k


@pytest.mark.parametrize("multi_label", [False, True])
def test_parallel_fits_equal_sequential_ones(data, multi_label):
    """Folds run in worker processes on enough data; the result must be the same bits as one by one
    (liblinear's global random generator is why they are processes, not threads)."""
    X, y, k = data
    target = np.eye(k, dtype=bool)[y] if multi_label else y
    seen: list[float] = []
    sequential = LinearHead(multi_label=multi_label, n_jobs=1).fit(X, target, k)
    parallel = LinearHead(multi_label=multi_label, n_jobs=2).fit(X, target, k, progress=seen.append)
    np.testing.assert_array_equal(sequential.coef_, parallel.coef_)
    np.testing.assert_array_equal(sequential.intercept_, parallel.intercept_)
    np.testing.assert_array_equal(sequential.oof_proba_, parallel.oof_proba_)
    assert seen == sorted(seen) and seen[-1] == 1.0  # progress only moves forward and ends at 100%
