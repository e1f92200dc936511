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
