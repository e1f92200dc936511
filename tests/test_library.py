"""The Python library: ``tagwise.TextClassifier`` and ``tagwise.evaluate``."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import tagwise
from tagwise import TextClassifier, evaluate
from tagwise.errors import InvalidArgument
from tests.conftest import read_jsonl, take_per_class


@pytest.fixture(scope="module")
def bank(datasets):
    train = take_per_class(read_jsonl(datasets / "banking77" / "train.jsonl"), 6, 30)
    classes = {r["labels"][0] for r in train}
    test = [r for r in read_jsonl(datasets / "banking77" / "test.jsonl") if r["labels"][0] in classes]
    return train, test


def test_single_label_fit_predict_save_load(bank, tmp_path):
    train, test = bank
    clf = TextClassifier(recipe="linear").fit([r["text"] for r in train], [r["labels"][0] for r in train])
    texts = [r["text"] for r in test]
    predicted = clf.predict(texts)
    assert isinstance(predicted, np.ndarray) and all(isinstance(p, str) for p in predicted) and not clf.multi_label
    proba = clf.predict_proba(texts)
    assert proba.shape == (len(test), 6) and np.allclose(proba.sum(axis=1), 1)
    assert [clf.classes_[i] for i in proba.argmax(axis=1)] == list(predicted)
    # an array, as scikit-learn's classifiers give it: with a list, `predict(X) == y` was one False
    truth = np.array([r["labels"][0] for r in test], dtype=object)
    assert np.mean(predicted == truth) == clf.score(texts, truth)
    report = evaluate([r["labels"][0] for r in test], predicted)
    assert report.accuracy > 0.7 and set(report.per_class) == set(clf.classes_)

    clf.save(tmp_path / "model")
    assert (tmp_path / "model" / "manifest.json").is_file()
    loaded = TextClassifier.load(tmp_path / "model")
    assert np.array_equal(loaded.predict(texts), predicted) and np.array_equal(loaded.predict_proba(texts), proba)
    assert loaded.predict([]).shape == (0,) and loaded.predict_proba([]).shape == (0, 6)  # nothing in, nothing out


def test_multi_label_from_lists_of_labels(datasets):
    rows = [r for r in read_jsonl(datasets / "goemotions" / "train.jsonl")
            if set(r["labels"]) <= {"gratitude", "love", "anger", "amusement"}][:300]
    clf = TextClassifier(recipe="linear").fit([r["text"] for r in rows], [r["labels"] for r in rows])
    assert clf.multi_label and len(clf.thresholds_) == len(clf.classes_)
    predicted = clf.predict(["thank you so much, I love it"])
    assert isinstance(predicted[0], list) and set(predicted[0]) <= set(clf.classes_)
    assert clf.predict([]) == []
    predicted = clf.predict([r["text"] for r in rows])
    report = evaluate([r["labels"] for r in rows], predicted)
    assert report.confusion is None and report.micro_f1 > 0.5
    # score is the exact-match accuracy (it raised scikit-learn's "legacy multi-label data representation")
    assert clf.score([r["text"] for r in rows], [r["labels"] for r in rows]) == report.accuracy
    assert report.accuracy == np.mean([set(p) == set(r["labels"]) for p, r in zip(predicted, rows, strict=True)])


def test_it_is_a_scikit_learn_estimator(bank):
    from sklearn.base import clone

    train, _test = bank
    clf = TextClassifier(recipe="linear", seed=3, params={"C": 1.0})
    assert clone(clf).get_params() == clf.get_params()
    fitted = clf.fit([r["text"] for r in train], [r["labels"][0] for r in train])
    assert fitted is clf and 0.9 < clf.score([r["text"] for r in train], [r["labels"][0] for r in train]) <= 1.0


def test_clear_errors():
    with pytest.raises(InvalidArgument, match="not trained yet"):
        TextClassifier().predict(["x"])
    with pytest.raises(InvalidArgument, match="list of texts"):
        TextClassifier(recipe="linear").fit(["a b", "c d", "a c", "b d"], ["x", "y", "x", "y"]).predict("a b")
    with pytest.raises(InvalidArgument, match="single-label .* document 1 has None"):
        TextClassifier(recipe="linear").fit(["a b", "c d", "a c"], ["x", None, "y"])
    with pytest.raises(InvalidArgument, match="multi-label .* document 2 has 'y'"):
        TextClassifier(recipe="linear").fit(["a b", "c d", "a c"], [["x"], [], "y"])
    fitted = TextClassifier(recipe="linear").fit(np.array(["a b", "c d", "a c", "b d"]), np.array(["x", "y", "x", "y"]))
    assert list(fitted.classes_) == ["x", "y"] and type(fitted.classes_[0]) is str and type(fitted.predict(["a b"])[0]) is str
    for table in (np.array([["a b"], ["c d"]]), {"text": "a b"}):  # a DataFrame's df[['text']] or a dict gave its keys
        with pytest.raises(InvalidArgument, match="one-dimensional list of texts"):
            fitted.predict(table)
    with pytest.raises(InvalidArgument, match="one label per text"):
        TextClassifier(recipe="linear").fit(["a b", "c d"], {"a b": "x", "c d": "y"})
    with pytest.raises(InvalidArgument, match="inverse_transform gives the lists back"):  # MultiLabelBinarizer's matrix
        TextClassifier(recipe="linear").fit(["a b", "c d"], np.array([[1, 0], [0, 1]]))
    # "english" trained with the multilingual encoder without a word; None raised an AttributeError
    for language in ("english", None, "klingon"):
        with pytest.raises(InvalidArgument, match="language must be a language code such as 'en'"):
            TextClassifier(recipe="linear", language=language).fit(["a b", "c d"], ["x", "y"])
    assert TextClassifier(recipe="linear", language="DE").fit(["a b", "c d"], ["x", "y"]).model_.language == "de"
    with pytest.raises(InvalidArgument, match="The labels mix int and str"):
        evaluate(["a", 2], ["a", "a"])
    with pytest.raises(InvalidArgument, match=r"y_pred\[1\] is None: every item must be a label \(strings, as the others\)"):
        evaluate(["a", "b"], ["a", None])
    with pytest.raises(InvalidArgument, match="nothing to score"):
        evaluate([], [])
    with pytest.raises(InvalidArgument, match="2 true labels but 1 predictions"):
        evaluate(["a", "b"], ["a"])
    with pytest.raises(InvalidArgument, match="unknown model recipe"):
        TextClassifier(recipe="nope").fit(["a", "b"], ["x", "y"])
    with pytest.raises(InvalidArgument, match="bad parameters for recipe 'linear': The 'C' parameter"):
        TextClassifier(recipe="linear", params={"C": -1}).fit(["a b", "c d"], ["x", "y"])
    for params, message in (({"C": "x"}, "C must be a number or None, not 'x'"), ({"min_df": "2"}, "min_df must be a number, not '2'")):
        with pytest.raises(InvalidArgument, match=f"bad parameters for recipe 'linear': {message}"):  # it was "could not convert string to float"
            TextClassifier(recipe="linear", params=params).fit(["a b", "c d"], ["x", "y"])


@pytest.mark.parametrize("texts, labels, message", [
    # a missing value inside a label list became a class named "None" (the out-of-scope name) or "nan"
    (["a b", "c d", "a c"], [["x"], [None], ["y"]], r"document 1 has \[None\]: a missing label"),
    (["a b", "c d", "a c"], [["x"], ["y", float("nan")], []], r"document 1 has \['y', nan\]: a missing label"),
    (["a b", "c d", "a c"], [["x"], [""], []], "document 1 has .'.*: a label cannot be empty"),
    (["a b", "c d", "a c"], ["x", "", "y"], "document 1 has '': a label cannot be empty"),
    # the kind was guessed from the first document: a None there was "single-label ... needs a string"
    (["a b", "c d", "a c"], [None, ["x"], ["y"]], r"multi-label training needs a list .* document 0 has None"),
    # a pandas column of whole numbers turned float by a missing value: say so, and how to mend it
    (["a b", "c d", "a c"], [1.0, 2.0, 1.0], r"document 0 has 1.0: .* not a float: .*\.astype\(int\)"),
    (["a b", None, "a c"], ["x", "y", "x"], "text 1 is None: drop the rows without text first"),
    (["a b", 7, "a c"], ["x", "y", "x"], "text 1 is 7, a int"),
    (["a b", "c d", "a c"], ["x", "x", "x"], "needs at least two classes; every document has 'x'"),
])
def test_labels_and_texts_that_name_no_class_are_refused_with_the_document(texts, labels, message):
    with pytest.raises(InvalidArgument, match=message):
        TextClassifier(recipe="linear").fit(texts, labels)


def test_an_embedding_model_is_not_trained_on_blank_texts():
    with pytest.raises(InvalidArgument, match="nothing to learn from"):  # linear refused them; embedding trained on nothing
        TextClassifier(recipe="embedding").fit(["  ", ""] * 4, ["a", "b"] * 4)


def test_evaluate_matches_the_ml_report_and_infers_labels():
    from tagwise.ml import evaluate as ml_evaluate

    y_true, y_pred = ["a", "b", "b", "c"], ["a", "b", "None", "a"]
    assert evaluate(y_true, y_pred) == ml_evaluate(y_true, y_pred, labels=["a", "b", "c"], multi_label=False)
    multi = evaluate([["a"], ["a", "b"]], [["a"], ["b"]])
    assert multi == ml_evaluate([["a"], ["a", "b"]], [["a"], ["b"]], labels=["a", "b"], multi_label=True)
    assert evaluate(y_true, y_pred).to_dict()["per_class"]["a"]["fp"] == 1
    # out-of-scope examples tagged None: a class like any other, and catching them is right
    with_none = evaluate(["a", "None", "None"], ["a", "None", "a"])
    assert with_none.accuracy == 2 / 3 and with_none.per_class["None"].tp == 1


def test_import_tagwise_is_cheap():
    code = "import sys, tagwise; assert 'sklearn' not in sys.modules and 'numpy' not in sys.modules; print(tagwise.__all__)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "TextClassifier" in out and tagwise.__all__ == sorted(tagwise.__all__)


def test_scikit_learn_tools_work_with_any_label_type(tmp_path):
    """Whole numbers and booleans are single-label classes as in any scikit-learn classifier (they were taken
    for multi-label data, so cross_val_predict(method="predict_proba"), VotingClassifier and StackingClassifier,
    which encode labels as ints, failed); classes_ is an array, so binary scorers work."""
    from sklearn.exceptions import NotFittedError
    from sklearn.metrics import get_scorer
    from sklearn.model_selection import cross_val_predict

    texts = ["my card arrived", "card came today", "card delivered", "card is here",
             "rate for euro", "exchange rate", "fx rate usd", "currency rate"] * 5
    for labels in ([1, 1, 1, 1, 0, 0, 0, 0] * 5, [True, True, True, True, False, False, False, False] * 5):
        clf = TextClassifier(recipe="linear").fit(texts, labels)
        assert list(clf.classes_) == sorted(set(labels)) and clf.predict(["card came"]).dtype == np.asarray(labels).dtype
        clf.save(tmp_path / "m")
        assert TextClassifier.load(tmp_path / "m").predict(["card came"]) == clf.predict(["card came"])
        # evaluate takes what predict gives, and keys the report by it (it refused whole numbers and booleans)
        report = evaluate(labels, clf.predict(texts))
        assert report.accuracy == clf.score(texts, labels) and set(report.per_class) == set(labels)
        assert list(report.confusion) == sorted(set(labels))
    names = ["card", "card", "card", "card", "fx", "fx", "fx", "fx"] * 5
    assert cross_val_predict(TextClassifier(recipe="linear"), texts, names, cv=2, method="predict_proba").shape == (40, 2)
    assert get_scorer("roc_auc")(TextClassifier(recipe="linear").fit(texts, names), texts, names) == 1.0
    # whole numbers sort as numbers, with the probability columns: '11' came before '2'
    many = TextClassifier(recipe="linear").fit([f"word{i % 12} text {i % 12}" for i in range(240)], [i % 12 for i in range(240)])
    assert list(many.classes_) == list(range(12))
    assert list(many.classes_[many.predict_proba(["word11 text 11", "word2 text 2"]).argmax(axis=1)]) == [11, 2]
    assert list(evaluate([11, 2], [11, 2]).per_class) == [2, 11]  # sorted as numbers
    assert evaluate([[1], [2, 3]], [[1], [2]]).per_class[3].fn == 1  # multi-label whole numbers
    with pytest.raises(InvalidArgument, match="mix int and str"):
        TextClassifier(recipe="linear").fit(texts, [1, "fx"] * 20)
    with pytest.raises(NotFittedError):
        TextClassifier().predict(["x"])
    assert not hasattr(TextClassifier(), "classes_")


def test_a_manifest_whose_label_type_does_not_fit_the_classes_is_refused(tmp_path):
    # labelType edited to bool turned every prediction into False; to int, it failed at the first predict
    import json

    TextClassifier(recipe="linear").fit(["a b", "c d", "a c", "b d"], ["x", "y", "x", "y"]).save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    for kind in ("bool", "int"):
        manifest["metadata"]["labelType"] = kind
        (tmp_path / "m" / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(InvalidArgument, match=f"manifest.json says the labels are {kind}, but the model's classes are x, y"):
            TextClassifier.load(tmp_path / "m")


def test_saved_params_come_back_and_clashing_ones_are_refused(tmp_path):
    texts = ["card lost", "card stolen", "hello", "hi there"] * 10
    labels = ["card", "card", "greet", "greet"] * 10
    TextClassifier(recipe="linear", params={"C": 0.05}).fit(texts, labels).save(tmp_path / "m")
    assert TextClassifier.load(tmp_path / "m").get_params()["params"] == {"C": 0.05}  # so clone() trains the same model
    with pytest.raises(InvalidArgument, match="params cannot set seed"):
        TextClassifier(recipe="linear", params={"seed": 1}).fit(texts, labels)


def test_texts_with_no_words_still_train_on_their_characters():
    emoji = TextClassifier(recipe="linear").fit(["🙂🙂", "😡😡", "🙂", "😡", "🙂😀", "😡🤬"] * 5, ["pos", "neg"] * 15)
    assert emoji.predict(["🙂"]) == ["pos"]
    with pytest.raises(InvalidArgument, match="nothing to learn from"):
        TextClassifier(recipe="linear").fit(["  ", "   "] * 10, ["a", "b"] * 10)


def test_it_warns_where_a_training_job_would_note(datasets):
    german = [r for r in read_jsonl(datasets / "sib200_de_es_fr" / "train.jsonl") if r.get("language", "de") == "de"][:60]
    texts, labels = [r["text"] for r in german], [r["labels"][0] for r in german]
    with pytest.warns(UserWarning, match=r"do not look English .*TextClassifier\(language='de'\)"):
        TextClassifier(recipe="embedding").fit(texts, labels)
    long = ["my card " + "was charged twice and " * 200, "where is my card " + "it has not arrived and " * 200] * 4
    with pytest.warns(UserWarning, match="8 of 8 texts are longer than the sentence encoder reads"):
        TextClassifier(recipe="embedding").fit(long, ["charged", "arrival"] * 4)


def test_a_confidence_threshold_abstains_as_a_projects_does(datasets, tmp_path):
    # the issue asks for it in tagwise.ml; only the server had it, and the library user wrote it by hand
    from tagwise.core.predictors import decide

    rows = take_per_class(read_jsonl(datasets / "clinc150" / "train.jsonl"), 8, 20)
    texts, labels = [r["text"] for r in rows], [r["labels"][0] for r in rows]
    out_of_scope = ["what's the weather tomorrow?", "sing me a song", "who won the game last night?"]
    clf = TextClassifier(recipe="linear", confidence_threshold=0.9).fit(texts, labels)
    proba = clf.predict_proba(out_of_scope + texts[:20])
    expected = [p.labels[0] for p in decide(clf.model_, proba, 0.9)]  # the server's own decision
    assert list(clf.predict(out_of_scope + texts[:20])) == expected and "None" in expected
    clf.save(tmp_path / "m")
    assert TextClassifier.load(tmp_path / "m").get_params()["confidence_threshold"] == 0.9
    clf.confidence_threshold = None
    assert "None" not in list(clf.predict(out_of_scope))
    # whole-number labels abstain as None; a multi-label model takes it as the floor under its class thresholds
    codes = [sorted(set(labels)).index(x) for x in labels]
    numbered = TextClassifier(recipe="linear", confidence_threshold=0.99).fit(texts, codes)
    answered = list(numbered.predict(out_of_scope + texts[:20]))
    assert None in answered
    # and they score: score() raised sorting None next to ints (GridSearchCV: NaN for every threshold), evaluate() refused them
    right = sum(a == c for a, c in zip(answered, [-1] * 3 + codes[:20], strict=True)) / 23
    assert numbered.score(out_of_scope + texts[:20], [-1] * 3 + codes[:20]) == pytest.approx(right)
    report = evaluate([-1] * 3 + codes[:20], answered, labels=sorted(set(codes)) + [-1])
    assert report.accuracy == pytest.approx(right) and None in report.confusion[-1] and all(isinstance(k, int) for k in report.per_class)
    with pytest.warns(UserWarning, match="exactly one label"):
        multi = TextClassifier(recipe="linear", confidence_threshold=0.99).fit(texts, [[x] for x in labels])
    assert multi.predict(out_of_scope) == [[], [], []]
    with pytest.raises(InvalidArgument, match="confidence_threshold must be a number from 0 to below 1"):
        TextClassifier(recipe="linear", confidence_threshold=1.5).fit(texts, labels)  # in fit, before the work (it was at predict)
    with pytest.raises(InvalidArgument, match="seed must be a whole number, not 'x'"):  # it failed inside numpy
        TextClassifier(recipe="linear", seed="x").fit(texts, labels)
    for seed in (-1, 2**32):  # numpy's own ValueError, which `except InvalidArgument` did not catch
        with pytest.raises(InvalidArgument, match=f"seed must be from 0 to 2\\*\\*32 - 1, not {seed}"):
            TextClassifier(recipe="linear", seed=seed).fit(texts, labels)


def test_an_indicator_matrix_given_as_lists_is_refused_and_one_label_lists_are_warned_of(bank):
    # MultiLabelBinarizer().fit_transform(y).tolist() trained a model of the classes 0 and 1 that answered [0, 1] to
    # everything; a dataset's own "labels" field ([["card_arrival"], ...]) trained multi-label without a word
    from sklearn.preprocessing import MultiLabelBinarizer

    train, _test = bank
    texts = [r["text"] for r in train]
    rows = MultiLabelBinarizer().fit_transform([r["labels"] for r in train])
    two = [[1, 0] if i % 2 else [0, 1] for i in range(len(texts))]  # two classes: rows hold no value twice
    for given in (rows.tolist(), list(rows), two):
        with pytest.raises(InvalidArgument, match="indicator matrix .* given as lists"):
            TextClassifier(recipe="linear").fit(texts, given)
    with pytest.warns(UserWarning, match=r"Every text has exactly one label, given as a list: this trained a multi-label model"):
        clf = TextClassifier(recipe="linear").fit(texts, [r["labels"] for r in train])
    assert clf.multi_label  # as asked: a warning, not a guess
    # whole-number label sets of several lengths are label sets
    assert list(TextClassifier(recipe="linear").fit(texts, [[1, 0] if i % 2 else [0] for i in range(len(texts))]).classes_) == [0, 1]


def test_a_grid_over_a_recipe_parameter_is_written_as_scikit_learn_writes_nested_ones(bank):
    # {"params__C": [...]} ended in "'NoneType' object has no attribute 'set_params'"
    from sklearn.model_selection import GridSearchCV

    train, _test = bank
    texts, labels = [r["text"] for r in train], [r["labels"][0] for r in train]
    search = GridSearchCV(TextClassifier(recipe="linear", params={"C": 1.0}), {"params__C": [0.05, 0.5]}, cv=2).fit(texts, labels)
    assert [p["params__C"] for p in search.cv_results_["params"]] == [0.05, 0.5]
    assert search.best_estimator_.params == {"C": search.best_params_["params__C"]}
    assert TextClassifier(params={"C": 1.0}).set_params(params__C=0.1, seed=2).get_params()["params"] == {"C": 0.1}


def test_a_training_jobs_folder_loads_with_its_seed_and_language(tmp_path):
    # read as seed 0 and "en": a clone of a German project's model trained again with the English encoder
    from sklearn.base import clone

    from tagwise.ml import build_model, save_model

    texts, labels = ["Karte verloren", "Karte gestohlen", "hallo", "guten Tag"] * 10, ["karte", "karte", "gruss", "gruss"] * 10
    model = build_model("linear", multi_label=False, seed=42, language="de")
    model.fit(texts, labels)
    save_model(model, tmp_path / "m", {"project": "tickets", "modelLabel": "v1"})  # what a training job writes
    loaded = TextClassifier.load(tmp_path / "m")
    assert (loaded.seed, loaded.language) == (42, "de") and (clone(loaded).seed, clone(loaded).language) == (42, "de")
