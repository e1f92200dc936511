"""How auto and the ensemble's blend rank candidates out of fold."""

import numpy as np

from tagwise.ml.selection import oof_score, rank_key


def test_single_label_ranks_by_accuracy_then_log_loss():
    y = np.array([0, 1, 1])
    sure = oof_score(np.array([[0.9, 0.1], [0.1, 0.9], [0.2, 0.8]]), y, False)
    unsure = oof_score(np.array([[0.6, 0.4], [0.4, 0.6], [0.45, 0.55]]), y, False)
    wrong = oof_score(np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8]]), y, False)
    assert sure["accuracy"] == unsure["accuracy"] == 1.0
    assert rank_key(sure) > rank_key(unsure) > rank_key(wrong)


def test_multi_label_ranks_by_macro_f1_so_rare_classes_count():
    """Per-class thresholds maximise each class's F1, i.e. macro-F1: the ranking follows it."""
    rng = np.random.default_rng(0)
    y = np.zeros((200, 2), dtype=bool)
    y[:, 0] = rng.random(200) < 0.5  # a common class
    y[:10, 1] = True                 # a rare one
    noise = rng.random((200, 2)) * 0.3
    common_only = np.column_stack([y[:, 0] * 0.7 + noise[:, 0], noise[:, 1]])   # never finds the rare class
    both = np.column_stack([y[:, 0] * 0.5 + noise[:, 0] * 1.5, y[:, 1] * 0.7 + noise[:, 1]])
    a, b = oof_score(common_only, y, True), oof_score(both, y, True)
    assert b["macro_f1"] > a["macro_f1"]
    assert rank_key(b) > rank_key(a)
