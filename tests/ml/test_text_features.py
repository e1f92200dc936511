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
