"""TF-IDF features: our fast transform gives scikit-learn's numbers exactly, also after a save/load."""

import numpy as np
import scipy.sparse as sp

from tagwise.ml.text_features import TextFeaturizer


def _sklearn_transform(featurizer: TextFeaturizer, texts: list[str]) -> sp.csr_matrix:
    return sp.hstack([vec.transform(texts) for vec in featurizer.vectorizers_.values()], format="csr")


def test_transform_matches_scikit_learn_bit_for_bit(single_label_data):
    texts, _ = single_label_data
    featurizer = TextFeaturizer().fit(texts[:150])
    probe = texts[150:] + ["", "   ", "!!!", "ünïcödé  Wörter", "UPPER case", "a\tb\nc"]
    ours = featurizer.transform(probe)
    config, arrays = featurizer.export_state()
    loaded = TextFeaturizer.from_state(config, arrays).transform(probe)  # before sklearn ever ran
    expected = _sklearn_transform(featurizer, probe)
    for got in (ours, loaded):
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert (got != expected).nnz == 0
    assert ours[len(texts) - 150].nnz == 0  # an empty text has no features
    np.testing.assert_allclose(sp.linalg.norm(ours[:3], axis=1), np.sqrt(2), rtol=1e-6)  # word + char, unit each


def test_a_feature_cap_keeps_the_commonest_terms_and_the_transform_agrees(single_label_data):
    texts, _ = single_label_data
    full = TextFeaturizer(min_df=1).fit(texts)
    sizes = {name: len(vec.vocabulary_) for name, vec in full.vectorizers_.items()}
    cap = sum(sizes.values()) // 3
    capped = TextFeaturizer(min_df=1, max_total_features=cap)
    X = capped.fit_transform(texts)

    assert cap - 2 <= X.shape[1] <= cap  # each block its share, rounded down
    for name, vec in capped.vectorizers_.items():
        assert abs(len(vec.vocabulary_) / X.shape[1] - sizes[name] / sum(sizes.values())) < 0.01
        whole = full.vectorizers_[name]
        idf = {term: whole.idf_[col] for term, col in whole.vocabulary_.items()}  # falls as a term's documents rise
        rarest_kept = max(idf[term] for term in vec.vocabulary_)
        assert all(idf[term] >= rarest_kept for term in set(idf) - set(vec.vocabulary_))
    # what training saw is what prediction computes, before and after a save/load (rows normalised again)
    config, arrays = capped.export_state()
    for again in (capped.transform(texts), TextFeaturizer.from_state(config, arrays).transform(texts),
                  _sklearn_transform(capped, texts)):
        assert again.shape == X.shape
        np.testing.assert_allclose(again.toarray(), X.toarray(), atol=1e-6)
    assert TextFeaturizer(min_df=1, max_total_features=10 * cap).fit_transform(texts).shape[1] == sum(sizes.values())
    assert TextFeaturizer(min_df=1, max_total_features=1).fit_transform(texts).shape[1] == 2  # a share rounded to 0: one term per block


def test_full_width_letters_ligatures_and_half_width_kana_count_as_the_words_they_are():
    # a Japanese input method's "Ａｎｄｒｏｉｄ" was another word than "Android": the model answered iphone 0.77
    texts = ["Android の画面が割れた", "iPhone の画面が割れた", "file not found", "ログインできない"]
    featurizer = TextFeaturizer(min_df=1).fit(texts)
    same = featurizer.transform(["Ａｎｄｒｏｉｄ の画面が割れた", "ｉＰｈｏｎｅ の画面が割れた", "ﬁle not found", "ﾛｸﾞｲﾝできない"])
    assert (same != featurizer.transform(texts)).nnz == 0
    config, arrays = featurizer.export_state()
    assert config["text_form"] == "NFKC"
    assert (TextFeaturizer.from_state(config, arrays).transform(["Ａｎｄｒｏｉｄ"]) != featurizer.transform(["Android"])).nnz == 0
    # a model trained before reads as it was trained: in NFC
    del config["text_form"]
    older = TextFeaturizer.from_state(config, arrays)
    assert (older.transform(["Ａｎｄｒｏｉｄ"]) != featurizer.transform(["Android"])).nnz > 0
