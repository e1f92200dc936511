import json
import os
import subprocess
import sys

import numpy as np
import pytest

from tagwise.errors import InvalidArgument
from tagwise.ml import build_model, load_model, save_model


def _assert_no_pickle(folder):
    names = {p.name for p in folder.rglob("*")}
    assert not any(n.endswith((".pkl", ".pickle", ".joblib")) for n in names)
    for npz in folder.rglob("*.npz"):
        with np.load(npz, allow_pickle=False) as arrays:
            for key in arrays.files:
                assert arrays[key].dtype != object


@pytest.mark.parametrize("multi_label", [False, True])
def test_round_trip_same_predictions(tmp_path, single_label_data, multi_label_data, multi_label):
    texts, labels = multi_label_data if multi_label else single_label_data
    model = build_model("linear", multi_label=multi_label).fit(texts, labels)
    path = tmp_path / "models" / "m1"
    save_model(model, path, metadata={"project": "p", "trainingDataHash": "abc"})
    _assert_no_pickle(path)
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["classes"] == model.classes_ and manifest["recipe"] == "linear"
    assert manifest["metadata"]["project"] == "p" and "scikit-learn" in manifest["library_versions"]
    assert (manifest["thresholds"] is None) is (not multi_label)
    loaded = load_model(path)
    probe = texts[:50] + ["something never seen", ""]
    np.testing.assert_allclose(loaded.predict_proba(probe), model.predict_proba(probe), rtol=1e-6, atol=1e-9)
    assert loaded.predict(probe) == model.predict(probe)
    assert loaded.classes_ == model.classes_ and loaded.info_ == json.loads(json.dumps(model.info_))
    if multi_label:
        np.testing.assert_array_equal(loaded.thresholds_, model.thresholds_)


def test_save_replaces_atomically(tmp_path, single_label_data):
    texts, labels = single_label_data
    path = tmp_path / "m"
    save_model(build_model("linear").fit(texts, labels), path, metadata={"v": 1})
    save_model(build_model("linear").fit(texts[:80], labels[:80]), path, metadata={"v": 2})
    assert json.loads((path / "manifest.json").read_text())["metadata"] == {"v": 2}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no temp folders left behind


def test_save_never_deletes_what_is_not_a_model(tmp_path, single_label_data):
    texts, labels = single_label_data
    model = build_model("linear").fit(texts, labels)
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "important.txt").write_text("keep me")
    (tmp_path / "afile").write_text("keep me too")
    for taken in ("notes", "afile"):
        with pytest.raises(InvalidArgument, match="exists and is not a tagwise model folder"):
            save_model(model, tmp_path / taken, metadata={})
    assert (tmp_path / "notes" / "important.txt").read_text() == "keep me"
    assert (tmp_path / "afile").read_text() == "keep me too"
    (tmp_path / "empty").mkdir()
    save_model(model, tmp_path / "empty", metadata={})  # an empty folder is fine to fill
    assert load_model(tmp_path / "empty").predict(texts[:5]) == model.predict(texts[:5])


def test_a_damaged_folder_says_which_part(tmp_path, single_label_data):
    texts, labels = single_label_data
    good = tmp_path / "good"
    save_model(build_model("linear").fit(texts, labels), good, metadata={})
    manifest = json.loads((good / "manifest.json").read_text())

    def damaged(name, change):
        folder = tmp_path / name
        folder.mkdir()
        for part in good.iterdir():
            (folder / part.name).write_bytes(part.read_bytes())
        change(folder)
        return folder

    cases = {
        "manifest.json cannot be read as JSON": lambda f: (f / "manifest.json").write_text("{not json"),
        "is not a tagwise model folder": lambda f: (f / "manifest.json").write_text("[1, 2]"),
        "unknown model class None": lambda f: (f / "manifest.json").write_text(
            json.dumps({k: v for k, v in manifest.items() if k != "model_class"})),
        "state.json cannot be read": lambda f: (f / "state.json").unlink(),
        "arrays.npz is missing": lambda f: (f / "arrays.npz").unlink(),
        "arrays.npz is not a numpy .npz archive": lambda f: (f / "arrays.npz").write_bytes(b"junk" * 10),
        "does not hold a complete linear model": lambda f: (f / "state.json").write_text("{}"),
        # parts that load but do not fit each other failed only at the first prediction (IndexError)
        "does not hold a complete linear model .*probability columns": lambda f: (f / "state.json").write_text(
            json.dumps(dict(json.loads((f / "state.json").read_text()), classes=["a", "b", "c", "d", "e", "f", "g"]))),
        # NaN weights loaded and answered the first class with NaN probabilities
        "probabilities that are not numbers": lambda f: np.savez(f / "arrays.npz", **{
            k: (np.full_like(v, np.nan) if "coef" in k else v) for k, v in np.load(f / "arrays.npz").items()}),
    }
    for i, (phrase, change) in enumerate(cases.items()):
        with pytest.raises(InvalidArgument, match=phrase) as caught:
            load_model(damaged(f"d{i}", change))
        assert "allow_pickle" not in str(caught.value)


def test_load_rejects_non_model(tmp_path):
    with pytest.raises(InvalidArgument):
        load_model(tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"kind": "other"}))
    with pytest.raises(InvalidArgument):
        load_model(tmp_path)


def test_linear_predicts_without_torch(tmp_path, single_label_data):
    """A saved linear model loads and predicts with numpy/scipy/scikit-learn only."""
    texts, labels = single_label_data
    save_model(build_model("linear").fit(texts, labels), tmp_path / "m", metadata={})
    code = (
        "import sys; from tagwise.ml import load_model; "
        f"m = load_model({str(tmp_path / 'm')!r}); print(m.predict(['reset my pin'])); "
        "assert not {'torch', 'sentence_transformers', 'onnxruntime'} & set(sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert result.returncode == 0, result.stderr
    assert "pin" in result.stdout


def test_a_format_1_model_loads_and_one_from_a_newer_tagwise_says_so(tmp_path, single_label_data):
    # format 2 (2026-11-29) reads Arabic and Hebrew marks as absent and may hold single Chinese characters: a version
    # reading format 1 would read such a model wrong, so it refuses it by its format; this one reads both
    texts, labels = single_label_data
    path = tmp_path / "m"
    model = build_model("linear").fit(texts, labels)
    save_model(model, path, metadata={})
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["format_version"] == 2
    state = json.loads((path / "state.json").read_text())
    del state["featurizer"]["params"]["word_tokens"]  # as format 1 wrote it
    state["featurizer"]["text_form"] = "NFKC"
    (path / "state.json").write_text(json.dumps(state))
    (path / "manifest.json").write_text(json.dumps({**manifest, "format_version": 1}))
    older = load_model(path)
    assert older.predict(texts[:20]) == model.predict(texts[:20])  # English: read alike either way
    (path / "manifest.json").write_text(json.dumps({**manifest, "format_version": 3}))
    with pytest.raises(InvalidArgument, match="it is format 3, from a newer tagwise"):
        load_model(path)
