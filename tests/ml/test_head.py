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


def test_a_loaded_head_holds_its_weights_once(data):
    """Serving keeps one copy of the weights: a big project's model is mostly its weights (195
    classes x 128,000 features: 100 MB), and a second, transposed copy made at the first
    prediction had doubled what each deployment added to the server."""
    import tracemalloc

    X, y, k = data
    rng = np.random.default_rng(1)
    wide = np.hstack([X, rng.normal(size=(X.shape[0], 4_000)).astype(np.float32)])
    config, arrays = LinearHead(n_jobs=1, cv_folds=2).fit(wide[:400], y[:400], k).export_state()
    for coef in (arrays["coef"], np.ascontiguousarray(arrays["coef"])):  # as saved now, and as saved before
        head = LinearHead.from_state(config, {**arrays, "coef": coef})
        tracemalloc.start()
        head.decision_function(wide[:2])
        kept, _ = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert kept < coef.nbytes / 10, f"{kept:,} bytes kept after predicting, weights {coef.nbytes:,}"
        np.testing.assert_allclose(head.decision_function(wide[:50]), wide[:50] @ coef.T + arrays["intercept"], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("multi_label", [False, True])
def test_a_big_fit_split_by_classes_gives_the_same_model_and_moves_its_progress(monkeypatch, multi_label):
    """A big one-vs-rest fit runs as groups of classes (each against the others as one "rest"),
    so percentComplete moves as the work is done; the model is the same one (multi-label: the
    same bits; single-label: the same problems, solved with other random draws)."""
    import tagwise.ml.head as head_module

    rng = np.random.default_rng(3)
    n, d, k = PARALLEL_MIN_DOCS + 500, 40, 12
    centers = rng.normal(size=(k, d))
    y = rng.integers(0, k, size=n)
    X = (centers[y] + rng.normal(scale=2.0, size=(n, d))).astype(np.float32)
    target = np.eye(k, dtype=bool)[y] if multi_label else y
    whole = LinearHead(multi_label=multi_label, n_jobs=2).fit(X, target, k)

    monkeypatch.setattr(head_module, "SPLIT_WORK", 1)
    monkeypatch.setattr(head_module, "GROUP_WORK", X.size * k // 4)
    seen: list[float] = []
    split = LinearHead(multi_label=multi_label, n_jobs=2).fit(X, target, k, progress=seen.append)
    sequential = LinearHead(multi_label=multi_label, n_jobs=1).fit(X, target, k)

    assert len(set(seen)) == 4 * 4 and seen == sorted(seen) and seen[-1] == 1.0  # 4 fits x 4 groups
    np.testing.assert_array_equal(split.coef_, sequential.coef_)  # workers or not: the same bits
    if multi_label:
        np.testing.assert_array_equal(split.coef_, whole.coef_)
        np.testing.assert_array_equal(split.oof_proba_, whole.oof_proba_)
    else:
        np.testing.assert_allclose(split.decision_function(X), whole.decision_function(X), atol=0.02)
        assert (split.oof_proba_.argmax(1) == whole.oof_proba_.argmax(1)).mean() > 0.995
