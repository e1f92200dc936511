"""Projects not in English: the bundled multilingual encoder (USE multilingual v3) instead of MiniLM."""

import numpy as np

from tagwise.ml import build_model, load_model, save_model
from tagwise.ml.encoder import DEFAULT_BACKEND, MULTILINGUAL, MULTILINGUAL_MODEL, backend_for, get_encoder

# German and French support requests, two intents, with different wording on each side
_DE = {"card": ["Ich habe meine Karte verloren", "Meine Kreditkarte ist weg", "Karte gestohlen, bitte sperren"],
       "transfer": ["Ich möchte Geld überweisen", "Wie sende ich Geld ins Ausland", "Überweisung an einen Freund"]}
_FR = {"card": ["J'ai perdu ma carte", "Ma carte bancaire a été volée", "Bloquez ma carte s'il vous plaît"],
       "transfer": ["Je veux faire un virement", "Comment envoyer de l'argent à l'étranger", "Virement à un ami"]}


def test_language_picks_the_encoder():
    assert backend_for("en") == backend_for("en-us") == DEFAULT_BACKEND
    assert backend_for("de") == backend_for("fr-FR") == backend_for("mul") == MULTILINGUAL
    assert backend_for("de", "onnx") == "onnx"  # an explicit choice wins


def test_multilingual_encoder_understands_across_languages():
    encoder = get_encoder(MULTILINGUAL)
    vectors = encoder.encode(["Ich habe meine Karte verloren", "J'ai perdu ma carte",
                              "I lost my card", "Das Wetter ist heute schön"])
    assert vectors.shape == (4, 512) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[3] + 0.2  # same meaning, other language
    # no batch effects: a text alone gets the vector it gets among others
    np.testing.assert_allclose(encoder.encode(["J'ai perdu ma carte"])[0], vectors[1], atol=1e-5)


def _german():
    texts = [t for words in _DE.values() for t in words] * 8
    return texts, [label for label, words in _DE.items() for _ in words] * 8


def test_german_ensemble_uses_it_and_reads_french(tmp_path):
    model = build_model("ensemble", language="de", cache_dir=tmp_path / "cache").fit(*_german())
    assert model.info_["encoder"] == {"model": MULTILINGUAL_MODEL, "backend": MULTILINGUAL}
    french = [t for words in _FR.values() for t in words]
    assert model.predict(french) == [label for label, words in _FR.items() for _ in words]  # never saw French
    save_model(model, tmp_path / "m", metadata={})
    np.testing.assert_allclose(load_model(tmp_path / "m").predict_proba(french), model.predict_proba(french), atol=1e-6)


def test_auto_tries_the_ensemble_for_other_languages(tmp_path):
    model = build_model("auto", language="fr", cache_dir=tmp_path / "cache", time_budget_s=600).fit(*_german())
    assert set(model.info_["cv_scores"]) == {"linear", "ensemble"}, model.info_["reason"]


def test_a_decomposed_accent_is_the_same_text_to_every_recipe(tmp_path):
    # "é" as e + U+0301 (text copied from macOS) reads the same; it changed 10 of 612 predictions
    import unicodedata

    french = [t for words in _FR.values() for t in words]
    decomposed = [unicodedata.normalize("NFD", t) for t in french]
    assert decomposed != french
    for recipe in ("linear", "ensemble"):
        model = build_model(recipe, language="de", cache_dir=tmp_path / "cache").fit(*_german())
        np.testing.assert_array_equal(model.predict_proba(decomposed), model.predict_proba(french))
