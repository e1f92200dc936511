"""How well ``auto``'s time estimate matches the time a head fit really takes.

``auto`` decides whether the ensemble fits its time budget from the data alone
(``tagwise.ml.auto.estimate_seconds``: characters, non-zero TF-IDF features, classes). This
times, on each training set, the TF-IDF fit, the ``linear`` head and the ``ensemble`` head
(with the sentence vectors computed first and kept out of the timing), next to the estimates,
so the constants in ``ml/auto.py`` can be checked or re-measured on another machine. Prints a
markdown table.

    .venv/bin/python -m benchmarks.auto_estimate
    .venv/bin/python -m benchmarks.auto_estimate --datasets banking77 --cache-dir /tmp/tagwise-cache
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from tagwise.ml.auto import HEAD_S_PER_UNIT, estimate_seconds
from tagwise.ml.embedding import embed
from tagwise.ml.encoder import backend_of, get_encoder
from tagwise.ml.ensemble import EnsembleClassifier
from tagwise.ml.linear import LinearTextClassifier
from tagwise.ml.text_features import TextFeaturizer

MULTI_LABEL = {"goemotions"}


def measure(folder: Path, cache_dir: Path | None) -> dict:
    rows = [json.loads(line) for line in (folder / "train.jsonl").open(encoding="utf-8") if line.strip()]
    texts = [r["text"] for r in rows]
    multi = folder.name in MULTI_LABEL
    classes = sorted({c for r in rows for c in r["labels"]})
    y = (np.array([[c in r["labels"] for c in classes] for r in rows]) if multi
         else np.array([classes.index(r["labels"][0]) for r in rows]))
    encoder = get_encoder()
    E = embed(texts, encoder, cache_dir)
    linear = LinearTextClassifier(multi_label=multi)
    linear.classes_ = classes
    t0 = time.perf_counter()
    featurizer = TextFeaturizer(min_df=linear.min_df, max_features=linear.max_features)
    T = featurizer.fit_transform(texts)
    t1 = time.perf_counter()
    linear.fit_features(featurizer, T, y)
    t2 = time.perf_counter()
    ensemble = EnsembleClassifier(multi_label=multi)
    ensemble.classes_ = classes
    ensemble.fit_features(featurizer, T, backend_of(encoder), E, y)
    t3 = time.perf_counter()
    estimate = estimate_seconds(texts, T.nnz, encoder.dim, len(classes), multi, backend_of(encoder))
    problems = len(classes) if multi or len(classes) > 2 else 1
    per_unit = HEAD_S_PER_UNIT[multi]
    return {"dataset": folder.name, "texts": len(texts), "classes": len(classes), "nnz": T.nnz,
            "featurize_s": t1 - t0, "linear_head_s": t2 - t1, "linear_head_est": per_unit * T.nnz * problems,
            "ensemble_head_s": t3 - t2, "ensemble_head_est": per_unit * (T.nnz + len(texts) * encoder.dim) * problems,
            "estimate_total": estimate["linear"] + estimate["ensemble"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", default="banking77,clinc150,goemotions")
    parser.add_argument("--data-dir", type=Path, default=Path(os.environ.get("TAGWISE_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets"))
    parser.add_argument("--cache-dir", type=Path, default=None, help="embedding cache (the vectors are not timed)")
    args = parser.parse_args(argv)
    print("| dataset | texts | classes | TF-IDF non-zeros | featurize s | linear head s (estimate) "
          "| ensemble head s (estimate) | estimate linear + ensemble, s |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.datasets.split(","):
        r = measure(args.data_dir / name, args.cache_dir)
        print(f"| {r['dataset']} | {r['texts']:,} | {r['classes']} | {r['nnz'] / 1e6:.2f} M | {r['featurize_s']:.1f} "
              f"| {r['linear_head_s']:.1f} ({r['linear_head_est']:.1f}) | {r['ensemble_head_s']:.1f} ({r['ensemble_head_est']:.1f}) "
              f"| {r['estimate_total']:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
