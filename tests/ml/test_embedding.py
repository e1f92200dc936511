"""The embedding recipe with the real bundled MiniLM model (exported to ONNX once per machine)."""

import numpy as np
import pytest

from tagwise.errors import InvalidArgument
from tagwise.ml import build_model, load_model, save_model
from tagwise.ml.embedding import embed, get_encoder, past_window
from tagwise.ml.embedding_cache import EmbeddingCache
from tagwise.ml.encoder import BACKENDS, EXPORT_REVISION


@pytest.fixture(scope="module")
def encoder():
    return get_encoder()


def test_encoder_is_shared_and_normalised(encoder):
    assert get_encoder() is encoder
    vectors = encoder.encode(["I lost my card", "my card is gone", "what a lovely day", ""])
    assert vectors.shape == (4, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors[:3], axis=1), 1.0, rtol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]  # meaning, not words


def test_the_texts_past_the_encoders_window_are_known(encoder, single_label_data):
    # what the encoder reads of a text: its first 256 word pieces, whatever follows
    head = "I lost my card yesterday. "
    long = head + "Kind regards, the support team. " * 60
    assert encoder.max_tokens == 256
    assert encoder.truncated(["hi", head * 9, long, "ü " * 300]).tolist() == [False, False, True, True]
    np.testing.assert_allclose(encoder.encode([long]), encoder.encode([long + " and my pin too"]), atol=1e-6)
    texts, y = single_label_data
    linear = build_model("linear").fit(texts, y)
    assert past_window(linear, [long])[1] is None and not past_window(linear, [long])[0].any()  # TF-IDF reads it all


def test_encode_order_does_not_matter(encoder):
    texts = ["short", "a much longer sentence about bank transfers", "mid length text"]
    forward = encoder.encode(texts)
    backward = encoder.encode(texts[::-1])[::-1]
    np.testing.assert_allclose(forward, backward, atol=1e-5)


def test_padding_never_changes_a_vector():
    # the exact (fp32) backend: a text alone, or batched beside much longer texts, gets one vector
    exact = get_encoder("onnx")
    texts = ["card", "my card payment was declined at the supermarket this morning, twice", "refund please"]
    batched = exact.encode(texts, batch_size=3)
    alone = np.vstack([exact.encode([text]) for text in texts])
    np.testing.assert_allclose(batched, alone, atol=1e-5)


def test_bf16_backend_gives_fp32_vectors_whatever_the_batch():
    # bfloat16 weights (AMX on recent Xeons): the fp32 vectors to 4 decimals, and a text's vector
    # hardly moves with its batch (int8 moves by up to 3e-2)
    texts = ["card", "my card payment was declined at the supermarket this morning, twice", "refund please",
             "what is the exchange rate for euros", "I want to close my account"]
    bf16, exact = get_encoder("torch-bf16"), get_encoder("onnx")
    batched = bf16.encode(texts)
    alone = np.vstack([bf16.encode([text]) for text in texts])
    assert (batched * exact.encode(texts)).sum(axis=1).min() > 0.9998
    assert np.abs(batched - alone).max() < 5e-3
    np.testing.assert_array_equal(bf16.encode(texts), batched)  # same batches, same bits


def test_per_token_int8_gives_a_text_one_vector_whatever_its_batch():
    # int8 scaled per batch: a text's vector moves with the texts beside it (banking77: 24 of 3,080
    # ensemble predictions change when each text is classified alone); scaled per token it does not
    texts = ["card", "my card payment was declined at the supermarket this morning, twice", "refund please",
             "what is the exchange rate for euros", "I want to close my account"]
    token, tensor, exact = get_encoder("onnx-int8-token"), get_encoder("onnx-int8"), get_encoder("onnx")

    def alone(encoder):
        return np.vstack([encoder.encode([text]) for text in texts])

    batched = token.encode(texts)
    np.testing.assert_allclose(batched, alone(token), atol=1e-5)
    assert np.abs(tensor.encode(texts) - alone(tensor)).max() > 1e-3
    assert (batched * exact.encode(texts)).sum(axis=1).min() > 0.99


def test_encoder_backend_setting_picks_what_new_models_use(single_label_data):
    from tagwise.ml import encoder as encoder_module

    texts, labels = single_label_data
    encoder_module.configure(backend="onnx")
    try:
        exact = build_model("embedding").fit(texts[:60], labels[:60])
        before = exact.predict_proba(texts[60:70])
    finally:
        encoder_module.configure()
    assert exact.info_["encoder"]["backend"] == "onnx"
    assert build_model("embedding").fit(texts[:60], labels[:60]).info_["encoder"]["backend"] == "onnx-int8"
    # a trained model keeps its backend whatever the process default is now (fp32: same numbers)
    np.testing.assert_allclose(exact.predict_proba(texts[60:70]), before, atol=1e-6)
    with pytest.raises(InvalidArgument, match="unknown encoder backend 'gpu'; valid: auto, onnx-int8, onnx-int8-token, torch-bf16, onnx, torch"):
        encoder_module.configure(backend="gpu")


def test_cache_means_no_re_embedding(tmp_path, encoder):
    texts = ["one", "two", "three"]
    first = embed(texts, encoder, tmp_path)
    # the folder names the export (package version, export revision, backend), not only the model:
    # an upgrade that re-exports the encoder must not train on the old export's vectors
    assert encoder.cache_key == encoder.path.stem and f"-r{EXPORT_REVISION}-" in encoder.cache_key
    cache = EmbeddingCache(tmp_path / encoder.cache_key, encoder.dim)
    cached, missing = cache.get_many(texts + ["four"])
    assert missing == [3]
    np.testing.assert_array_equal(cached[:3], first)

    class Exploding:
        name, cache_key, dim = encoder.name, encoder.cache_key, encoder.dim

        def encode(self, texts, batch_size=32):
            raise AssertionError(f"re-embedded {texts}")

    np.testing.assert_array_equal(embed(texts, Exploding(), tmp_path), first)


def test_a_warm_cache_gives_the_vectors_a_cold_one_did(tmp_path, encoder):
    # int8 vectors depend a little on their batch: copies of a text in different batches (here
    # 20 copies, batches of 16) must still share one vector, or retraining from the cache (one
    # vector per text) would give a different model
    texts = [f"{'very ' * (i % 9)}long text number {i}" for i in range(60)] + ["refund please, my card was charged twice"] * 20
    cold = embed(texts, encoder, tmp_path, batch_size=16)
    assert (cold[-20:] == cold[-1]).all()
    np.testing.assert_array_equal(embed(texts, encoder, tmp_path), cold)
    np.testing.assert_array_equal(embed(texts, encoder, None), cold)


def test_embedding_recipe_round_trip(tmp_path, single_label_data):
    texts, labels = single_label_data
    model = build_model("embedding", cache_dir=tmp_path / "cache").fit(texts[:100], labels[:100])
    assert model.info_["encoder"]["backend"] in BACKENDS
    proba = model.predict_proba(texts[100:140])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (np.array(model.classes_)[proba.argmax(axis=1)] == np.array(labels[100:140])).mean() >= 0.9
    save_model(model, tmp_path / "m", metadata={})
    np.testing.assert_allclose(load_model(tmp_path / "m").predict_proba(texts[100:140]), proba, atol=1e-6)


@pytest.mark.parametrize("recipe", ["embedding", "ensemble"])
def test_a_model_records_its_encoder_export_and_warns_when_it_runs_on_another(tmp_path, single_label_data, encoder, recipe, caplog,
                                                                              monkeypatch):
    from tagwise.ml import encoder as encoder_module

    monkeypatch.setattr(encoder_module, "_warned_exports", set())
    # an upgrade re-exported the encoder (per-channel weights) under the same backend name: old
    # multi-label deployments then changed 44 of 300 answers, and nothing said so
    texts, labels = single_label_data
    model = build_model(recipe).fit(texts[:60], labels[:60])
    assert model.info_["encoder"]["export"] == encoder.cache_key
    model.info_["encoder"]["export"] = "all-MiniLM-L6-v2-0.0.1-r1-onnx-int8"
    with caplog.at_level("WARNING", logger="tagwise.ml.encoder"):
        model.predict_proba(texts[60:62])
        model.predict_proba(texts[62:64])
    warned = [r.getMessage() for r in caplog.records if "encoder export" in r.getMessage()]
    assert len(warned) == 1 and "train it again" in warned[0]  # once, not on every call


@pytest.mark.parametrize("multi_label", [False, True])
def test_ensemble_round_trip(tmp_path, single_label_data, multi_label_data, multi_label):
    texts, labels = multi_label_data if multi_label else single_label_data
    texts, labels, probe = texts[:80], labels[:80], texts[80:100]
    model = build_model("ensemble", multi_label=multi_label, cache_dir=tmp_path / "cache").fit(texts, labels)
    assert model.info_["encoder"]["backend"] in BACKENDS
    proba = model.predict_proba(probe)
    if multi_label:
        assert model.thresholds_.shape == (len(model.classes_),)
    else:
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    save_model(model, tmp_path / "m", metadata={})
    loaded = load_model(tmp_path / "m")
    np.testing.assert_allclose(loaded.predict_proba(probe), proba, atol=1e-6)
    assert loaded.predict(probe) == model.predict(probe)


def test_auto_compares_candidates_and_explains(tmp_path, single_label_data):
    texts, labels = single_label_data
    texts, labels, probe = texts[:80], labels[:80], texts[80:100]
    model = build_model("auto", cache_dir=tmp_path / "cache", time_budget_s=300).fit(texts, labels)
    info = model.info_
    assert info["chosen"] in {"linear", "embedding", "ensemble"} and info["reason"]
    assert set(info["cv_scores"]) == {"linear", "ensemble"}
    other = ({"linear", "ensemble"} - {info["chosen"]}).pop()
    # in the words the studio shows: percentages, both candidates named
    assert info["reason"].startswith(f"best out-of-fold accuracy: {info['chosen']} {info['cv_scores'][info['chosen']]['accuracy']:.2%} "
                                     f"against {other} {info['cv_scores'][other]['accuracy']:.2%}")
    save_model(model, tmp_path / "m", metadata={})
    np.testing.assert_allclose(load_model(tmp_path / "m").predict_proba(probe), model.predict_proba(probe), atol=1e-6)


def test_auto_stays_linear_when_the_budget_says_so(single_label_data):
    texts, labels = single_label_data
    seen: list[float] = []
    hurried = build_model("auto", time_budget_s=0.0).fit(texts, labels, progress=seen.append)
    assert hurried.info_["chosen"] == "linear" and "budget" in hurried.info_["reason"]
    # linear is all the work, so its progress spans the whole training (it stopped at 25%, then jumped to 100%)
    assert max(f for f in seen if f < 1.0) >= 0.75 and seen == sorted(seen)  # three of its four fits


def test_auto_choice_depends_on_the_data_only(tmp_path, single_label_data):
    """The budget check is estimated from the data, not timed: a warm cache or a busy machine
    cannot change which recipe the same data and seed get."""
    texts, labels = single_label_data
    texts, labels = texts[:80], labels[:80]
    cold = build_model("auto", cache_dir=tmp_path / "cache").fit(texts, labels)
    estimate = cold.info_["estimated_s"]
    needed = estimate["linear"] + estimate["ensemble"]
    warm = build_model("auto", cache_dir=tmp_path / "cache").fit(texts, labels)
    assert warm.info_["estimated_s"] == estimate and warm.info_["chosen"] == cold.info_["chosen"]
    just_under = build_model("auto", cache_dir=tmp_path / "cache", time_budget_s=needed - 0.05).fit(texts, labels)
    assert just_under.info_["chosen"] == "linear" and "over the time budget" in just_under.info_["reason"]
    just_over = build_model("auto", cache_dir=tmp_path / "cache", time_budget_s=needed + 0.05).fit(texts, labels)
    assert set(just_over.info_["cv_scores"]) == {"linear", "ensemble"}


def test_compact_keeps_one_file_of_the_latest_trainings_texts(tmp_path, encoder):
    # each training wrote another file and none was ever removed; a reader loads them all
    from tagwise.ml.embedding_cache import EmbeddingCache, compact

    folder = tmp_path / "project"
    first = ["my card is lost", "refund please", "gone from the project"]
    embed(first, encoder, folder)
    second = ["my card is lost", "refund please", "a new ticket"]
    vectors = embed(second, encoder, folder)
    [encoder_dir] = [p for p in folder.iterdir() if p.is_dir()]
    assert len(list(encoder_dir.glob("*.npz"))) == 2
    compact(folder, second)
    assert len(list(encoder_dir.glob("*.npz"))) == 1
    cached, missing = EmbeddingCache(encoder_dir, encoder.dim).get_many(second + ["gone from the project"])
    assert missing == [3]  # the text no training uses any more left the disk
    np.testing.assert_array_equal(cached[:3], vectors)
    before = list(encoder_dir.glob("*.npz"))
    compact(folder, second)  # already compact: left as it is
    assert list(encoder_dir.glob("*.npz")) == before


def test_compact_drops_the_caches_of_encoders_the_training_did_not_use(tmp_path, encoder):
    # an encoder setting changed, the project turned multilingual or an upgrade re-exported the encoder:
    # the old encoder's vectors stayed beside the new ones for good, a full copy per project each time
    import os
    import shutil
    import time

    from tagwise.ml.embedding_cache import compact

    folder = tmp_path / "project"
    texts = ["my card is lost", "refund please"]
    embed(texts, encoder, folder)
    [used] = [p for p in folder.iterdir() if p.is_dir()]
    stale = shutil.copytree(used, folder / "all-MiniLM-L6-v2-0.1.0-r1-onnx-int8")
    half_written = used / ".0123.npz.tmp"  # a training killed while it wrote vectors
    half_written.write_bytes(b"x")
    an_hour_ago = time.time() - 3700
    os.utime(half_written, (an_hour_ago, an_hour_ago))
    os.utime(stale, (an_hour_ago, an_hour_ago))
    compact(folder, texts)  # without used_since (the library): every encoder's cache is kept
    assert stale.is_dir()
    fitted_since = time.time() - 1
    embed(texts, encoder, folder)  # a training that found every vector cached still marks its encoder's folder
    compact(folder, texts, used_since=fitted_since)
    assert [p.name for p in folder.iterdir()] == [used.name] and not half_written.exists()
    compact(folder, ["a training that used no encoder"], used_since=time.time() + 10)
    assert [p.name for p in folder.iterdir()] == [used.name]  # no folder was used: none is dropped


def test_the_encoder_leaves_no_onnx_runtime_telemetry_behind(tmp_path):
    # ONNX Runtime 1.29+ wrote a device id and queued usage events for Microsoft under ~/.cache/Microsoft from
    # import on: "no data leaves the machine". CI=true hides it (ONNX Runtime stays quiet in CI), so it is unset here.
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("CI", "ORT_DISABLE_TELEMETRY", "GITHUB_ACTIONS", "TF_BUILD")}
    env.update(HOME=str(tmp_path), HF_HUB_OFFLINE="1")
    code = "from tagwise.ml.encoder import get_encoder; print(get_encoder('onnx-int8').encode(['hello']).shape)"
    done = subprocess.run([sys.executable, "-c", code], check=False, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / ".cache" / "Microsoft").exists()


def test_onnx_exports_are_kept_in_a_folder_only_this_user_can_write(tmp_path, monkeypatch):
    # they were in <temp dir>/tagwise-onnx, shared by every user of the host: a file another user put
    # there first was loaded as the encoder
    import os
    import tempfile

    from tagwise.ml.encoder import export_folder

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    folder = export_folder()
    assert folder == tmp_path / "cache" / "tagwise" / "onnx" and folder.stat().st_mode & 0o777 == 0o700
    folder.chmod(0o777)  # another user may write there now: not used
    fallback = export_folder()
    assert fallback == tmp_path / "tmp" / f"tagwise-onnx-{os.getuid()}" and fallback.stat().st_mode & 0o777 == 0o700
    fallback.chmod(0o757)
    private = export_folder()  # a new folder of its own, exported again by this process
    assert private.parent == tmp_path / "tmp" and private not in (folder, fallback) and private.stat().st_mode & 0o777 == 0o700


def test_forget_takes_deleted_texts_vectors_out_of_the_cache(tmp_path, encoder):
    # a deleted document's vector, keyed by its text's hash, stayed until the project's next training
    from tagwise.ml.embedding_cache import EmbeddingCache, forget

    folder = tmp_path / "project"
    texts = ["Kundennummer ZX-991 Frau Müller", "refund please", "my card is lost"]
    embed(texts, encoder, folder)
    forget(folder, [texts[0]])
    [encoder_dir] = [p for p in folder.iterdir() if p.is_dir()]
    _, missing = EmbeddingCache(encoder_dir, encoder.dim).get_many(texts)
    assert missing == [0]
    forget(folder, texts[1:])  # nothing left: no file either
    assert list(encoder_dir.glob("*.npz")) == []
