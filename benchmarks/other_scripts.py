"""`linear` on scripts other than spaced Latin: Japanese, Chinese (Simplified, Traditional), Korean,
Thai, Arabic and Hebrew support tickets, by cross-validation, and Arabic and Hebrew texts with and
without their optional vowel marks.

The data (``benchmarks/data/scripts/``) was written for tagwise by a session's probe (8 ticket
intents per language, 80-120 short tickets each, greetings and closings drawn at random): small,
so read the numbers as a comparison, not as what a real project scores. ``--as-before`` reads the
texts as tagwise did before 2026-11-29 (no single Chinese or Japanese characters as features, words
split at combining marks, vowel marks counted), for the comparison in docs/benchmarks.md.

    .venv/bin/python -m benchmarks.other_scripts
    .venv/bin/python -m benchmarks.other_scripts --as-before
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data" / "scripts"
LANGUAGES = {"ja": "ja", "zh_hans": "zh-Hans", "zh_hant": "zh-Hant", "ko": "ko", "th": "th", "ar": "ar", "he": "he"}
MARKED = {"ar": "ar_vowelled.jsonl", "he": "he_pointed.jsonl"}


def _read(name: str) -> list[dict]:
    with open(DATA / name, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines]


def _as_before() -> None:
    from tagwise.ml import text_features

    text_features.TEXT_FORM = "NFKC"
    text_features.CJK_SHARE = 2.0  # never
    plain = text_features.word_pattern("plain")
    text_features.word_pattern = lambda kind: plain


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--as-before", action="store_true", help="read texts as tagwise did before 2026-11-29")
    parser.add_argument("--seeds", type=int, default=3, help="shuffles of the 5-fold cross-validation")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    if args.as_before:
        _as_before()
    from sklearn.model_selection import StratifiedKFold

    from tagwise import TextClassifier

    print("| language | texts | `linear` 5-fold accuracy (mean of seeds) | test split | plain / marked sentences right |")
    print("|---|---|---|---|---|")
    for name, code in LANGUAGES.items():
        rows = _read(f"{name}.jsonl")
        texts, labels = np.array([r["text"] for r in rows], dtype=object), np.array([r["labels"][0] for r in rows])
        scores = []
        for seed in range(args.seeds):
            for train, test in StratifiedKFold(5, shuffle=True, random_state=seed).split(texts, labels):
                model = TextClassifier(recipe="linear", language=code).fit(list(texts[train]), list(labels[train]))
                scores.append(float(np.mean(np.array(model.predict(list(texts[test]))) == labels[test])))
        train = [r for r in rows if r["split"] == "train"]
        held = [r for r in rows if r["split"] == "test"]
        model = TextClassifier(recipe="linear", language=code).fit([r["text"] for r in train], [r["labels"][0] for r in train])
        split = float(np.mean([p == r["labels"][0] for p, r in zip(model.predict([r["text"] for r in held]), held, strict=True)]))
        marked = "–"
        if name in MARKED:
            whole = TextClassifier(recipe="linear", language=code).fit(list(texts), list(labels))
            pairs = _read(MARKED[name])
            right = [p == r["labels"][0] for p, r in zip(whole.predict([r["text"] for r in pairs]), pairs, strict=True)]
            marked = f"{sum(right[0::2])} of {len(right) // 2} / {sum(right[1::2])} of {len(right) // 2}"
        print(f"| {code} | {len(rows)} | {np.mean(scores):.3f} | {split:.3f} | {marked} |")


if __name__ == "__main__":
    main()
