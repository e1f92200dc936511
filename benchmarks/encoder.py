"""Sentence-encoder speed: documents per second for each backend, thread count and batch size.

Encodes the banking77 test texts (3,080 short queries) with every backend tagwise has, warm
(one small call first), best of ``--repeats`` runs, in this process. Also prints how far each
vector moves when its text is encoded alone instead of in a batch (``onnx-int8`` scales
activations per batch, ``onnx-int8-token`` per token) and the lowest cosine to the fp32 (``onnx``)
vectors. Prints a markdown table.

    .venv/bin/python -m benchmarks.encoder
    .venv/bin/python -m benchmarks.encoder --backends onnx-int8 --threads 1,2 --batch-sizes 8,16,32
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from tagwise.ml import encoder as enc


def build(backend: str, threads: int) -> enc.Encoder:
    """An ONNX encoder running ``threads`` batches at a time; other backends as they are."""
    shared = enc.get_encoder(backend)  # exports the ONNX file once if needed
    if isinstance(shared, enc.OnnxEncoder):
        return enc.OnnxEncoder(shared.path, shared.name, threads=threads)
    if isinstance(shared, enc.Bf16Encoder):
        if threads == 1:
            import torch

            torch.set_num_threads(os.cpu_count() or 1)  # one batch at a time over every core
        return enc.Bf16Encoder(threads=threads)
    return shared


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default=f"onnx-int8,onnx-int8-token,torch-bf16,onnx,{enc.MULTILINGUAL}")
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--batch-sizes", default="16,32")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--data", type=Path, default=Path(os.environ.get("TAGWISE_DATASETS") or Path(__file__).resolve().parents[2] / "shared" / "datasets")
                        / "banking77" / "test.jsonl")
    args = parser.parse_args(argv)
    texts = [json.loads(line)["text"] for line in args.data.open(encoding="utf-8")]
    print(f"{len(texts)} texts from {args.data}, {os.cpu_count()} cores\n")
    exact = enc.get_encoder("onnx").encode(texts)
    print(f"| backend | threads | batch | docs/s (best of {args.repeats}) | max change alone vs batched "
          "| lowest cosine to fp32 |")
    print("|---|---|---|---|---|---|")
    for backend in args.backends.split(","):
        for threads in (int(t) for t in args.threads.split(",")):
            encoder = build(backend, threads)
            encoder.encode(texts[:64])
            for batch in (int(b) for b in args.batch_sizes.split(",")):
                best, vectors = 0.0, None
                for _ in range(args.repeats):
                    t0 = time.perf_counter()
                    vectors = encoder.encode(texts, batch_size=batch)
                    best = max(best, len(texts) / (time.perf_counter() - t0))
                alone = np.vstack([encoder.encode([t]) for t in texts[:200]])
                drift = float(np.abs(alone - vectors[:200]).max())
                cosine = f"{(vectors * exact).sum(axis=1).min():.4f}" if vectors.shape == exact.shape else "-"
                print(f"| {backend} | {threads} | {batch} | {best:,.0f} | {drift:.1e} | {cosine} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
