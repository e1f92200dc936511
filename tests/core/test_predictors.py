"""The cache of loaded models that the server classifies with."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import tagwise.ml
from tagwise.api.errors import status_for
from tagwise.core.predictors import PredictorCache, decide
from tagwise.errors import TagwiseError
from tagwise.ml import build_model, save_model


def test_a_model_is_loaded_once_however_many_ask_at_once(tmp_path, monkeypatch):
    # a deployment's warm-up and the first request can arrive together: one load, one model
    texts = [f"refund for order {i}" for i in range(10)] + [f"card {i} was declined" for i in range(10)]
    save_model(build_model("linear").fit(texts, ["refund"] * 10 + ["card"] * 10), tmp_path / "m", metadata={})
    loads = []
    real_load = tagwise.ml.load_model

    def counted(path):
        loads.append(path)
        return real_load(path)

    monkeypatch.setattr(tagwise.ml, "load_model", counted)
    cache = PredictorCache()
    got = []
    threads = [threading.Thread(target=lambda: got.append(cache.get("m", tmp_path / "m"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(loads) == 1 and len({id(model) for model in got}) == 1 and "m" in cache
    assert cache.get("m", tmp_path / "m").predict(["my card was declined"]) == ["card"]


def test_a_damaged_model_folder_is_the_servers_fault_not_the_requests(tmp_path, caplog):
    texts = [f"refund for order {i}" for i in range(10)] + [f"card {i} was declined" for i in range(10)]
    save_model(build_model("linear").fit(texts, ["refund"] * 10 + ["card"] * 10), tmp_path / "m", metadata={})
    (tmp_path / "m" / "arrays.npz").unlink()
    cache = PredictorCache()
    with pytest.raises(TagwiseError, match=r"model store cannot be loaded \(model m\); the server's log says") as caught:
        cache.get("m", tmp_path / "m")
    assert status_for(caught.value) == 500 and "m" not in cache
    assert str(tmp_path) not in caught.value.message  # a runtime key's caller learns no path of the server
    assert "arrays.npz is missing" in caplog.text and str(tmp_path) in caplog.text


def test_an_abstention_scores_the_best_class_even_in_a_project_with_a_none_class():
    # with a class named None (how out-of-scope is taught), an abstention reported None's own
    # probability, e.g. 0.00002, instead of the confidence that fell below the threshold
    texts = ([f"refund for order {i}" for i in range(10)] + [f"card {i} was declined" for i in range(10)]
             + [f"what is the weather on day {i}" for i in range(10)])
    model = build_model("linear").fit(texts, ["refund"] * 10 + ["card"] * 10 + ["None"] * 10)
    proba = model.predict_proba(["refund my card order"])
    [abstained] = decide(model, proba, confidence_threshold=proba.max() + 1e-6)  # just above its best class
    assert abstained.labels == ["None"] and abstained.score_of("None") == pytest.approx(proba.max())
    [chosen] = decide(model, model.predict_proba(["what is the weather on day 3"]))
    assert chosen.labels == ["None"] and not chosen.abstained
    assert chosen.score_of("None") == pytest.approx(chosen.row[list(model.classes_).index("None")])


def test_a_multi_label_confidence_threshold_is_a_floor_under_each_classs_tuned_threshold():
    # a probe set confidenceThreshold 0.9 on a multi-label project: 200, yet classes at 0.75, 0.47, 0.19 came back
    texts = ([f"thank you so much for day {i}" for i in range(12)] + [f"this is hilarious lol {i}" for i in range(12)]
             + [f"thank you, this is hilarious {i}" for i in range(12)])
    labels = [["gratitude"]] * 12 + [["amusement"]] * 12 + [["gratitude", "amusement"]] * 12
    model = build_model("linear", multi_label=True).fit(texts, labels)
    proba = model.predict_proba(["thank you, that was hilarious", "thanks a lot", "lol", "the weather today"])
    tuned = decide(model, proba)
    assert decide(model, proba, 0.0)[0].labels == tuned[0].labels and tuned[0].floor == 0.0
    floor = float(np.sort(proba.ravel())[len(proba.ravel()) // 2])  # a floor that some chosen classes are under
    raised = decide(model, proba, floor)
    for before, after, row in zip(tuned, raised, proba, strict=True):
        # a class is returned only at or above both its tuned threshold and the floor: never one more than before
        assert set(after.labels) == {c for c in before.labels if row[list(model.classes_).index(c)] >= floor}
        assert all(after.threshold_of(c) == max(before.threshold_of(c), floor) for c in model.classes_)
        assert after.floor == floor
    assert sum(map(len, (p.labels for p in raised))) < sum(map(len, (p.labels for p in tuned)))
    assert all(p.labels == [] for p in decide(model, proba, 0.9999))  # none reaching it: "no class"


def test_a_projects_class_threshold_replaces_that_classs_tuned_one_and_the_floor_still_applies():
    # a probe: neutral added wrongly 205 times against 162 hits, and no way to raise neutral's threshold alone
    texts = ([f"thank you so much for day {i}" for i in range(12)] + [f"this is hilarious lol {i}" for i in range(12)]
             + [f"thank you, this is hilarious {i}" for i in range(12)])
    labels = [["gratitude"]] * 12 + [["amusement"]] * 12 + [["gratitude", "amusement"]] * 12
    model = build_model("linear", multi_label=True).fit(texts, labels)
    classes = list(model.classes_)
    g, a = classes.index("gratitude"), classes.index("amusement")
    proba = model.predict_proba(["thank you, that was hilarious", "thanks a lot", "lol", "the weather today"])
    tuned = decide(model, proba)
    tuned_at = np.asarray(model.thresholds_, dtype=float).copy()
    assert any("gratitude" in p.labels for p in tuned)

    raised = decide(model, proba, class_thresholds={"gratitude": 0.9999})  # raised: gratitude goes, amusement stays as tuned
    assert all("gratitude" not in p.labels for p in raised)
    assert [[c for c in p.labels if c != "gratitude"] for p in tuned] == [p.labels for p in raised]
    assert raised[0].threshold_of("gratitude") == 0.9999 and raised[0].threshold_of("amusement") == tuned_at[a]
    lowered = decide(model, proba, class_thresholds={"amusement": 0.0})  # lowered: amusement for every text
    assert all("amusement" in p.labels for p in lowered)
    assert all(("gratitude" in p.labels) == ("gratitude" in q.labels) for p, q in zip(lowered, tuned, strict=True))
    # the floor still raises a class set lower than it; names the model lacks (a class deleted since) are ignored
    floor = float(np.median(proba[:, a]))
    both = decide(model, proba, floor, {"amusement": 0.0, "grief": 0.2})
    assert [("amusement" in p.labels) for p in both] == [bool(row[a] >= floor) for row in proba]
    assert both[0].threshold_of("amusement") == floor and both[0].threshold_of("grief") is None
    assert np.array_equal(model.thresholds_, tuned_at)  # the shared, loaded model is left as it was
    assert decide(model, proba, 0.0, {})[0].labels == tuned[0].labels and tuned[0].threshold_of("gratitude") == tuned_at[g]


def test_class_thresholds_do_not_touch_a_single_label_answer():
    texts = [f"refund for order {i}" for i in range(10)] + [f"card {i} was declined" for i in range(10)]
    model = build_model("linear").fit(texts, ["refund"] * 10 + ["card"] * 10)
    proba = model.predict_proba(["my card", "refund please"])
    assert [p.labels for p in decide(model, proba, 0.0, {"card": 0.99})] == [p.labels for p in decide(model, proba)]
