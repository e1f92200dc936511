"""Bulk classification on Ray: a deployed model mapped over the input with Ray Data.

The driver resolves the deployment once (project kind, threshold, model artifact), reads the
input lazily in chunks and hands each chunk to Ray Data; Ray workers load the model from the
shared model store (``TAGWISE_MODEL_STORE_DIR``: every node must see it at the same path)
once per worker process and classify batches in parallel. Output rows are the ones the local
engine writes, in input order::

    {"id": "...", "predictions": [{"category": "...", "confidenceScore": 0.93}, ...]}
    {"id": "...", "predictions": [], "error": "Document text is empty."}

>>> rows = classify_with_ray(settings, "banking", "prod", [("1", "card lost")])   # doctest: +SKIP
>>> classify_file_with_ray(settings, "banking", "prod", "in.jsonl", "out.jsonl")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path
from typing import Any

from tagwise.settings import Settings

CHUNK_DOCUMENTS = 100_000  # documents the driver holds at once
RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0", "RAY_DATA_DISABLE_PROGRESS_BARS": "1"}


def resolve(settings: Settings, project: str, deployment: str) -> dict[str, Any]:
    """What a Ray worker needs to classify with a deployment: plain values, no connections."""
    from tagwise.core.context import Context
    from tagwise.core.deployments import lookup_served

    ctx = Context.open(settings, migrate=False)
    try:
        project_row, model_id, artifact = lookup_served(ctx, project, deployment)
    finally:
        ctx.close()
    return {
        "kind": project_row["kind"],
        "settings": project_row["settings"],
        "model_id": model_id,
        "artifact": str(artifact),
        "max_chars": settings.max_document_characters,
        "encoder_model_dir": str(settings.encoder_model_dir) if settings.encoder_model_dir else None,
    }


def connect(address: str | None = None, num_cpus: int | None = None) -> None:
    """Join the Ray cluster at ``address`` (``ray://host:10001`` needs ``ray[client]``), or start a local one."""
    for name, value in RAY_ENV.items():
        os.environ.setdefault(name, value)
    import ray
    from ray.data import DataContext

    if not ray.is_initialized():
        if address:
            ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                     _node_ip_address="127.0.0.1", object_store_memory=512 * 1024**2)
    DataContext.get_current().execution_options.preserve_order = True


def classify_with_ray(
    settings: Settings,
    project: str,
    deployment: str,
    docs: Iterable[tuple[str, str] | tuple[str, str, str | None]],
    *,
    address: str | None = None,
    batch_size: int = 1000,
    top: int | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Classify (id, text) or (id, text, language or None) documents on Ray; yields lists of output
    rows, in input order."""
    import ray

    spec = dict(resolve(settings, project, deployment), top=top)
    connect(address)
    docs = iter(docs)
    while chunk := list(islice(docs, CHUNK_DOCUMENTS)):
        items = [{"pos": i, "id": doc[0], "text": doc[1], "language": doc[2] if len(doc) > 2 else None} for i, doc in enumerate(chunk)]
        dataset = ray.data.from_items(items).map_batches(_classify_batch, fn_kwargs={"spec": spec}, batch_size=batch_size,
                                                         batch_format="pandas")
        lines = sorted(dataset.iter_rows(), key=lambda r: r["pos"])
        yield [json.loads(row["line"]) for row in lines]


def classify_file_with_ray(
    settings: Settings,
    project: str,
    deployment: str,
    input_path: str | Path,
    output_path: str | Path,
    *,
    address: str | None = None,
    batch_size: int = 1000,
    top: int | None = None,
) -> int:
    """Classify a jsonl (``{"id"?, "text"}``) or txt (one document a line) file into jsonl; returns the count."""
    count = 0
    with open(input_path, encoding="utf-8-sig") as source, open(output_path, "w", encoding="utf-8") as sink:
        for rows in classify_with_ray(settings, project, deployment, read_documents(source, str(input_path)),
                                      address=address, batch_size=batch_size, top=top):
            sink.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
            count += len(rows)
    return count


def read_documents(lines: Iterable[str], name: str) -> Iterator[tuple[str, str, str | None]]:
    """(id, text, language) like ``tagwise classify`` reads them: blank lines skipped, the line number
    as default id, the language a jsonl line names (None: none)."""
    jsonl = name.endswith((".jsonl", ".ndjson"))
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if not jsonl:
            yield str(number), line.rstrip("\r\n"), None
            continue
        row = json.loads(line)
        doc_id = row.get("id")
        yield (str(doc_id) if doc_id not in (None, "") else str(number)), row["text"], row.get("language") or None


# -- on the Ray workers ----------------------------------------------------------------------

_models: dict[str, Any] = {}


def _classify_batch(batch: Any, spec: dict[str, Any]) -> Any:
    """One batch (a pandas DataFrame with pos, id, text) -> pos and the output row as a JSON line."""
    import pandas as pd

    from tagwise.core.analyze import annotate, document_problem, document_result
    from tagwise.core.predictors import decide, thresholds_of
    from tagwise.core.validation import language_code

    model = _models.get(spec["model_id"])
    if model is None:
        from tagwise.ml import encoder, load_model

        if spec["encoder_model_dir"]:  # the server's own sentence encoder, at the same path on every host
            encoder.configure(model_folder=spec["encoder_model_dir"])
        model = _models[spec["model_id"]] = load_model(Path(spec["artifact"]))
    rows: dict[int, dict[str, Any]] = {}
    valid = []
    for pos, doc_id, text, language in zip(batch["pos"], batch["id"], batch["text"], batch["language"], strict=True):
        language = language if isinstance(language, str) else None  # pandas holds a missing one as None or NaN
        if problem := document_problem({"id": doc_id, "text": text, "language": language}, spec["max_chars"]):
            rows[pos] = _error_row(doc_id, problem)
        else:
            valid.append((pos, doc_id, text, language_code(language)))
    if valid:
        texts = [t for _, _, t, _ in valid]
        decided = decide(model, model.predict_proba(texts), *thresholds_of(spec["settings"]))
        predictions = annotate(model, texts, decided, [language for *_, language in valid])
        for (pos, doc_id, _text, _language), prediction in zip(valid, predictions, strict=True):
            result = document_result(doc_id, spec["kind"], prediction, spec["top"])
            rows[pos] = {"id": doc_id, "predictions": [{"category": c["category"], "confidenceScore": c["confidenceScore"]} for c in result["class"]]}
            if result["warnings"]:  # as the local engine writes them
                rows[pos]["warnings"] = result["warnings"]
    positions = list(batch["pos"])
    return pd.DataFrame({"pos": positions, "line": [json.dumps(rows[p], ensure_ascii=False) for p in positions]})


def _error_row(doc_id: str, error: dict[str, Any]) -> dict[str, Any]:
    inner = (error.get("error") or {}).get("innererror") or error.get("error") or {}
    return {"id": doc_id, "predictions": [], "error": inner.get("message", "invalid document")}
