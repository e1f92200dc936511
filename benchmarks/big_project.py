"""A big project's ``linear`` model: its features, size on disk, memory once loaded, training
memory and how ``percentComplete`` moves. Prints a markdown table.

The project is built from the shared datasets as the scale probe of 2026-11-27 built it:
banking77 (train and test), the first 113 clinc150 intents and the hadoop_jira_priority
tickets, 195 classes, repeated with ticket numbers ("... (ticket #123456, ref 4711)") until
it holds ``--documents`` texts, about 20% of them (seeded) for test. Its test texts repeat training
texts with other numbers, so the accuracy only shows that nothing broke.

``--cap-sensitivity N ...`` instead trains banking77 + clinc150 (227 classes, real text) with the
TF-IDF features forced down to each N, to see what the feature cap costs where it binds.

    .venv/bin/python -m benchmarks.big_project --documents 100000
    .venv/bin/python -m benchmarks.big_project --cap-sensitivity 1000000 40000 25000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DATASETS = Path(os.environ.get("TAGWISE_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets")

# run in a fresh process: what loading the saved model and classifying adds to it
LOAD = """
import json, sys, psutil
from tagwise.ml.persist import load_model
p = psutil.Process()
import numpy, scipy, sklearn.feature_extraction.text  # noqa: F401  (the libraries are not the model)
before = p.memory_info().rss
model = load_model(sys.argv[1])
model.predict_proba(["my card was stolen"] * 64)
print(json.dumps({"added_mb": round((p.memory_info().rss - before) / 1e6)}))
"""


def _rows(path: Path, prefix: str = "") -> list[tuple[str, str]]:
    return [(r["text"], prefix + r["labels"][0]) for r in map(json.loads, path.open(encoding="utf-8"))]


def big_project(n: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(train, test) of ``n`` (text, class) pairs in all, drawn as the probe's script drew them."""
    rng = random.Random(1)
    base = _rows(DATASETS / "banking77" / "train.jsonl") + _rows(DATASETS / "banking77" / "test.jsonl")
    clinc = [row for split in ("train", "dev", "test") for row in _rows(DATASETS / "clinc150" / f"{split}.jsonl", "c_")]
    kept = set(sorted({label for _, label in clinc})[:113])
    base += [row for row in clinc if row[1] in kept]
    base += [row for split in ("train", "test") for row in _rows(DATASETS / "hadoop_jira_priority" / f"{split}.jsonl", "j_")]
    docs: list[tuple[str, str, bool]] = []  # text, class, in the test set
    while len(docs) < n:
        for text, label in base:
            if len(docs) >= n:
                break
            if len(docs) >= len(base):  # the second time round and after: the same text with a ticket's numbers
                text = f"{text} (ticket #{100000 + len(docs)}, ref {rng.randint(1000, 9999)})"
            docs.append((text, label, rng.random() < 0.2))
    rng.shuffle(docs)
    return [(t, c) for t, c, test in docs if not test], [(t, c) for t, c, test in docs if test]


def measure(train: list[tuple[str, str]], test: list[tuple[str, str]]) -> dict:
    from tagwise.ml.linear import LinearTextClassifier
    from tagwise.ml.persist import save_model

    started, steps = time.perf_counter(), []

    def progress(fraction: float) -> None:
        if not steps or fraction - steps[-1][1] >= 0.05 or (fraction == 1.0 and steps[-1][1] < 1.0):
            steps.append((round(time.perf_counter() - started), round(fraction, 2)))

    model = LinearTextClassifier().fit([t for t, _ in train], [c for _, c in train], progress=progress)
    fit_s = time.perf_counter() - started
    accuracy = float(np.mean([p == c for p, (_, c) in zip(model.predict([t for t, _ in test]), test, strict=True)]))
    with tempfile.TemporaryDirectory() as folder:
        save_model(model, Path(folder) / "m", {})
        size = sum(f.stat().st_size for f in (Path(folder) / "m").iterdir())
        loaded = json.loads(subprocess.run([sys.executable, "-c", LOAD, str(Path(folder) / "m")], check=True,
                                           capture_output=True, text=True).stdout)
    return {"train": len(train), "classes": len(model.classes_), "features": model.info_["n_features"],
            "folder_mb": round(size / 1e6, 1), "weights_mb": round(model.head_.coef_.nbytes / 1e6, 1),
            "load_mb": loaded["added_mb"], "peak_rss_gb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2),
            "fit_s": round(fit_s, 1), "accuracy": round(accuracy, 4), "progress": steps}


def cap_sensitivity(caps: list[int]) -> list[dict]:
    from tagwise.ml import text_features
    from tagwise.ml.linear import LinearTextClassifier

    train = _rows(DATASETS / "banking77" / "train.jsonl") + _rows(DATASETS / "clinc150" / "train.jsonl", "c_")
    test = _rows(DATASETS / "banking77" / "test.jsonl") + _rows(DATASETS / "clinc150" / "test.jsonl", "c_")
    classes = len({c for _, c in train})
    out = []
    for cap in caps:
        text_features.WEIGHTS_BUDGET_BYTES, text_features.MIN_FEATURES = cap * 4 * classes, 1
        started = time.perf_counter()
        model = LinearTextClassifier().fit([t for t, _ in train], [c for _, c in train])
        accuracy = float(np.mean([p == c for p, (_, c) in zip(model.predict([t for t, _ in test]), test, strict=True)]))
        out.append({"cap": cap, "features": model.info_["n_features"], "accuracy": round(accuracy, 4),
                    "fit_s": round(time.perf_counter() - started, 1)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=100_000, help="texts in the big project (train + test)")
    parser.add_argument("--cap-sensitivity", type=int, nargs="+", metavar="N", help="feature caps to train banking77 + clinc150 at")
    args = parser.parse_args()
    if args.cap_sensitivity:
        print("| feature cap | features | accuracy | training s |\n|---|---|---|---|")
        for row in cap_sensitivity(args.cap_sensitivity):
            print(f"| {row['cap']:,} | {row['features']:,} | {row['accuracy']:.4f} | {row['fit_s']} |")
        return
    row = measure(*big_project(args.documents))
    print("| train docs | classes | features | folder MB | weights MB | +MB loaded | peak RSS GB | training s | accuracy |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {row['train']:,} | {row['classes']} | {row['features']:,} | {row['folder_mb']} | {row['weights_mb']} | "
          f"{row['load_mb']} | {row['peak_rss_gb']} | {row['fit_s']} | {row['accuracy']:.4f} |")
    print("\nprogress (s, fraction):", ", ".join(f"{s} s {f:.0%}" for s, f in row["progress"]))


if __name__ == "__main__":
    main()
