"""A server's own sentence encoder (TAGWISE_ENCODER_MODEL_DIR): a sentence-transformers folder run
by tagwise's backends, remembered by the models trained with it."""

import shutil

import numpy as np
import pytest

from tagwise.errors import EncoderUnavailable, InvalidArgument
from tagwise.ml import build_model, load_model, save_model
from tagwise.ml import encoder as encoder_module
from tagwise.ml.encoder import Bf16Encoder, OnnxEncoder, _export_onnx, folder_model_id, get_encoder


@pytest.fixture
def configured(encoder_folder):
    encoder_module.configure(model_folder=encoder_folder)
    yield encoder_folder
    encoder_module.configure()


def pytorch_vectors(folder, tokenizer, texts: list[str], pooling: str) -> np.ndarray:
    """What PyTorch gives for each text alone: the mean of the last hidden state, or its first token; normalised."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(folder).eval()
    out = []
    with torch.no_grad():
        for text in texts:
            ids = torch.tensor([tokenizer.encode(text).ids])
            hidden = model(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state[0]
            pooled = hidden[0] if pooling == "cls" else hidden.mean(dim=0)
            out.append((pooled / pooled.norm()).numpy())
    return np.array(out)


def test_both_backends_give_the_folders_mean_pooled_vectors(tmp_path, encoder_folder):
    texts = ["card", "my card payment was declined at the supermarket this morning", "refund please"]
    onnx = OnnxEncoder(_export_onnx(tmp_path / "tiny.onnx", quantize=None, folder=encoder_folder), "tiny",
                       folder=encoder_folder)
    vectors = onnx.encode(texts)
    assert vectors.shape == (3, 64) and onnx.relative_cost == pytest.approx(2 * 64 / (6 * 384))
    np.testing.assert_allclose(vectors, pytorch_vectors(encoder_folder, onnx.tokenizer, texts, "mean"), atol=1e-5)
    assert (Bf16Encoder(folder=encoder_folder).encode(texts) * vectors).sum(axis=1).min() > 0.99


def test_per_token_int8_runs_a_folder_too(tmp_path, encoder_folder):
    texts = ["card", "my card payment was declined at the supermarket this morning", "refund please"]
    exact = OnnxEncoder(_export_onnx(tmp_path / "fp32.onnx", quantize=None, folder=encoder_folder), "fp32",
                        folder=encoder_folder)
    token = OnnxEncoder(_export_onnx(tmp_path / "token.onnx", quantize="token", folder=encoder_folder), "token",
                        folder=encoder_folder)
    batched = token.encode(texts)
    np.testing.assert_allclose(batched, np.vstack([token.encode([text]) for text in texts]), atol=1e-5)
    assert (batched * exact.encode(texts)).sum(axis=1).min() > 0.99


def test_a_cls_pooled_folder_gets_its_first_tokens_vector(tmp_path, encoder_folder):
    # bge-style models pool by the first ([CLS]) token instead of the mean
    cls = tmp_path / "cls"
    shutil.copytree(encoder_folder, cls)
    (cls / "1_Pooling" / "config.json").write_text('{"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}')
    encoder = OnnxEncoder(_export_onnx(tmp_path / "cls.onnx", quantize=None, folder=cls), "cls", folder=cls)
    texts = ["card", "my card payment was declined at the supermarket this morning"]
    np.testing.assert_allclose(encoder.encode(texts), pytorch_vectors(cls, encoder.tokenizer, texts, "cls"), atol=1e-5)


def test_models_remember_the_folders_encoder(tmp_path, configured, single_label_data):
    texts, labels = single_label_data
    before = build_model("ensemble")  # the bundled MiniLM, trained before the folder was configured
    encoder_module.configure()
    before.fit(texts[:80], labels[:80])
    encoder_module.configure(model_folder=configured)

    model = build_model("ensemble").fit(texts[:80], labels[:80])
    model_id = folder_model_id(configured)
    assert model_id.startswith("tiny-mpnet@") and len(model_id) == len("tiny-mpnet@") + 12
    assert model.info_["encoder"] == {"model": model_id, "backend": f"onnx-int8-token:{model_id}",
                                      "export": f"{model_id}-r{encoder_module.EXPORT_REVISION}-onnx-int8-token"}
    assert model.info_["n_features"] == model.featurizer_.n_features_ + 64
    assert build_model("ensemble", language="de").fit(texts[:80], labels[:80]).info_["encoder"]["model"] == model_id
    save_model(model, tmp_path / "m", {})
    np.testing.assert_allclose(load_model(tmp_path / "m").predict_proba(texts[80:90]), model.predict_proba(texts[80:90]))
    assert before.info_["encoder"]["model"] == "all-MiniLM-L6-v2"
    assert before.predict_proba(texts[80:90]).shape == (10, 4)  # older models keep the bundled encoder

    encoder_module.configure()  # a server without the folder
    with pytest.raises(EncoderUnavailable, match=f"trained with the sentence encoder {model_id}.*"
                                                 "TAGWISE_ENCODER_MODEL_DIR is not set"):
        load_model(tmp_path / "m").predict_proba(texts[80:90])
    assert get_encoder().name == "all-MiniLM-L6-v2-onnx-int8"


def test_a_folder_must_hold_safetensors_weights_and_mean_pool(tmp_path, encoder_folder):
    pickled = tmp_path / "pickled"
    shutil.copytree(encoder_folder, pickled)
    (pickled / "model.safetensors").rename(pickled / "pytorch_model.bin")
    with pytest.raises(InvalidArgument, match="missing model.safetensors.*pickled weights are never loaded"):
        encoder_module.configure(model_folder=pickled)
    max_pooled = tmp_path / "max"
    shutil.copytree(encoder_folder, max_pooled)
    (max_pooled / "1_Pooling" / "config.json").write_text('{"pooling_mode_max_tokens": true, "pooling_mode_mean_tokens": false}')
    with pytest.raises(InvalidArgument, match="pools its tokens in a way tagwise does not.*mean and CLS"):
        encoder_module.configure(model_folder=max_pooled)
    with pytest.raises(InvalidArgument, match="backend 'torch' cannot run an encoder folder"):
        encoder_module.configure(backend="torch", model_folder=encoder_folder)
    assert get_encoder().name == "all-MiniLM-L6-v2-onnx-int8"  # nothing changed
