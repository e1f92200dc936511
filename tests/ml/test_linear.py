import numpy as np
import pytest

from tagwise.errors import InvalidArgument
from tagwise.ml import DEFAULT_RECIPE, RECIPES, build_model, evaluate


def test_registry_and_unknown_recipe():
    assert {"linear"} <= set(RECIPES) and DEFAULT_RECIPE in RECIPES
    with pytest.raises(InvalidArgument) as exc:
        build_model("nope")
    assert "linear" in exc.value.message


def test_single_label_fit_predict(single_label_data):
    texts, labels = single_label_data
    progress = []
    model = build_model("linear", seed=0).fit(texts[:120], labels[:120], progress=progress.append)
    assert model.classes_ == sorted(set(labels)) and model.multi_label is False and model.thresholds_ is None
    proba = model.predict_proba(texts[120:])
    assert proba.shape == (40, 4)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    report = evaluate(labels[120:], model.predict(texts[120:]), model.classes_, False, proba)
    assert report.accuracy >= 0.9
    assert progress[0] == 0.0 and progress[-1] == 1.0 and progress == sorted(progress)
    assert model.info_["recipe"] == "linear" and "timings_s" in model.info_
    assert model.get_params()["C"] is None and model.info_["hyperparameters"]["C"] == 0.5


def test_multi_label_fit_predict_with_tuned_thresholds(multi_label_data):
    texts, labels = multi_label_data
    model = build_model("linear", multi_label=True).fit(texts, labels)
    assert model.multi_label and model.classes_ == ["balance", "card_lost", "pin", "transfer"]
    assert model.thresholds_.shape == (4,)
    assert not np.allclose(model.thresholds_, 0.5)  # tuned, not hard-coded
    proba = model.predict_proba(texts)
    assert proba.shape == (200, 4) and ((proba >= 0) & (proba <= 1)).all()
    pred = model.predict(texts)
    assert all(isinstance(p, list) for p in pred)
    assert evaluate(labels, pred, model.classes_, True).micro_f1 > 0.9


def test_deterministic_given_seed(single_label_data):
    texts, labels = single_label_data
    a = build_model("linear", seed=3).fit(texts, labels).predict_proba(texts)
    b = build_model("linear", seed=3).fit(texts, labels).predict_proba(texts)
    np.testing.assert_array_equal(a, b)


def test_progress_exception_cancels(single_label_data):
    texts, labels = single_label_data

    def cancel(fraction: float) -> None:
        if fraction > 0.2:
            raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError, match="cancelled"):
        build_model("linear").fit(texts, labels, progress=cancel)


def test_edge_cases():
    one_class = build_model("linear").fit(["a b", "c d", "e f"], ["x", "x", "x"])
    assert one_class.predict(["zz"]) == ["x"]
    two = build_model("linear").fit(["good day", "bad day", "good", "bad"], ["pos", "neg", "pos", "neg"])
    assert two.predict(["good"]) == ["pos"]
    with pytest.raises(InvalidArgument):
        build_model("linear").fit(["a"], ["x", "y"])
    with pytest.raises(InvalidArgument):
        build_model("linear").fit([], [])
    with pytest.raises(InvalidArgument):
        build_model("linear", multi_label=True).fit(["a", "b"], [[], []])
    with pytest.raises(InvalidArgument):
        build_model("linear", multi_label=True).fit(["a", "b"], ["x", "y"])


@pytest.mark.parametrize("recipe", ["linear", "auto"])
def test_the_weights_stay_within_their_budget(single_label_data, monkeypatch, recipe):
    """A project with many classes and a big vocabulary gets fewer TF-IDF features rather than a
    model too big to deploy (the budget is shrunk here so that four classes reach it)."""
    from tagwise.ml import text_features

    texts, labels = single_label_data
    monkeypatch.setattr(text_features, "MIN_FEATURES", 10)
    monkeypatch.setattr(text_features, "WEIGHTS_BUDGET_BYTES", 4 * 4 * 100)  # 4 classes x 100 float32 features
    model = build_model(recipe, seed=0).fit(texts[:120], labels[:120])
    inner = getattr(model, "model_", model)
    assert inner.info_["n_features"] <= 100 and inner.head_.coef_.nbytes <= 4 * 4 * 100
    assert evaluate(labels[120:], model.predict(texts[120:]), model.classes_, False).accuracy >= 0.9
