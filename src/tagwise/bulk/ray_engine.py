"""Bulk classification on Ray: a deployed model over the input, batch by batch, as Ray tasks.

The driver reads the input lazily in batches of ``batch_size`` documents, the same batches the
local engine makes, and hands each to a Ray task; tasks run in parallel on the cluster (a window
of twice its CPUs in flight), and their rows come back in input order, a batch at a time, so the
caller writes (and a rerun resumes after) each batch as the local engine does. Ray workers load
the model from the shared model store (``TAGWISE_MODEL_STORE_DIR``: every node must see it at the
same path) once per worker process. The deployment is looked up for every batch, as the local
engine does: a model deployed under the name mid-run answers from the next batch on. Output rows
are the ones the local engine writes, in input order::

    {"id": "...", "predictions": [{"category": "...", "confidenceScore": 0.93}, ...]}
    {"id": "...", "predictions": [], "error": "Document text is empty."}

With the same batches the answers are the same bits too: the default int8 encoder's vectors move
slightly with the texts batched beside them, and Ray Data's blocks (the engine before) made other
batches than the local engine's, so 1,333 of 2,521 lines differed (a probe).

>>> rows = classify_with_ray(settings, "banking", "prod", [("1", "card lost")])   # doctest: +SKIP
>>> classify_file_with_ray(settings, "banking", "prod", "in.jsonl", "out.jsonl")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tagwise.bulk import batches
from tagwise.core.csv_header import meta_language
from tagwise.errors import TagwiseError
from tagwise.settings import Settings

RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
CONNECT_TIMEOUT_S = 5.0  # a cluster address nobody answers at: ray.init retried it for ever


class RayUnavailable(TagwiseError):
    """The Ray cluster cannot be reached, or a Ray task failed for a reason of Ray's."""

    code = "ServiceUnavailable"


class _Lookup:
    """What a Ray worker needs to classify with a deployment (plain values, no connections), looked
    up on one store connection for the whole run."""

    def __init__(self, settings: Settings) -> None:
        from tagwise.core.context import Context

        self.settings = settings
        self.ctx = Context.open(settings, migrate=False)

    def spec(self, project: str, deployment: str, top: int | None) -> dict[str, Any]:
        from tagwise.core.deployments import lookup_served

        project_row, model_id, artifact = lookup_served(self.ctx, project, deployment)
        return {
            "kind": project_row["kind"],
            "settings": project_row["settings"],
            "model_id": model_id,
            "artifact": str(artifact),
            "max_chars": self.settings.max_document_characters,
            "encoder_model_dir": str(self.settings.encoder_model_dir) if self.settings.encoder_model_dir else None,
            "top": top,
        }

    def close(self) -> None:
        self.ctx.close()


def connect(address: str | None = None, num_cpus: int | None = None) -> None:
    """Join the Ray cluster at ``address`` (``ray://host:10001`` needs ``ray[client]``), or start a
    local one. An address nobody answers at is a :class:`RayUnavailable` within
    ``CONNECT_TIMEOUT_S`` (ray.init retried it for ever, saying only Ray's log lines). The
    process's SIGINT and SIGTERM handlers are kept: ray.init put its own, which ended
    ``tagwise classify`` with exit code 15 and a C++ stack dump instead of "interrupted"."""
    for name, value in RAY_ENV.items():
        os.environ.setdefault(name, value)
    import ray

    if ray.is_initialized():
        return
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        if address:
            _check_reachable(address)
            ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
        else:
            ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
                     _node_ip_address="127.0.0.1", object_store_memory=512 * 1024**2)
    finally:
        if threading.current_thread() is threading.main_thread():  # the only thread that may set them
            for signum, handler in handlers.items():
                if handler is not None:
                    signal.signal(signum, handler)


def _check_reachable(address: str) -> None:
    """Whether something listens at a cluster address's host and port (``auto`` and a bare host are Ray's to find)."""
    client = address.startswith("ray://")
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_TIMEOUT_S).close()  # [::1]:6379 too
    except OSError as exc:
        start = f"--ray-client-server-port {port}" if client else f"--port {port}"
        raise RayUnavailable(f"cannot reach the Ray cluster at {address} ({exc.strerror or exc}): start it (ray start --head "
                             f"{start}) or give --address the head node's address") from None


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
    """Classify (id, text) or (id, text, language or None) documents on Ray; yields the output rows of
    each batch of ``batch_size``, in input order. When the input goes bad (a line that is not JSON,
    not UTF-8), the batches read before it are yielded first, as the local engine writes them."""
    import ray

    lookup = _Lookup(settings)
    try:
        lookup.spec(project, deployment, top)  # an unknown project or deployment is said before Ray starts
        connect(address)
        task = ray.remote(num_cpus=1)(_classify_rows)
        window = max(2, 2 * int(ray.cluster_resources().get("CPU", 1)))
        pending: deque[Any] = deque()
        source = batches(iter(docs), batch_size)  # the local engine's batches
        try:
            while True:
                try:
                    batch = next(source)
                except StopIteration:
                    break
                except Exception:  # the input went bad: what was read before it is written, as the local engine does
                    while pending:
                        yield _rows(pending.popleft())
                    raise
                items = [(doc[0], doc[1], doc[2] if len(doc) > 2 else None) for doc in batch]
                pending.append(task.remote(items, lookup.spec(project, deployment, top)))
                if len(pending) >= window:
                    yield _rows(pending.popleft())  # a failed batch ends the run there: no batch after it is written
            while pending:
                yield _rows(pending.popleft())
        finally:
            for ref in pending:  # stopped early (an error, Ctrl-C, the caller closed it): the cluster drops the rest
                ray.cancel(ref)
    finally:
        lookup.close()


def _rows(ref: Any) -> list[dict[str, Any]]:
    """A task's rows; its failure as tagwise's error (a traceback of hundreds of lines before)."""
    import ray

    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, TagwiseError):
            raise cause from None
        first = str(cause or exc).strip().splitlines()
        raise RayUnavailable(f"a Ray task failed: {type(cause or exc).__name__}: {first[0] if first else ''}") from None
    except ray.exceptions.RayError as exc:  # the cluster went away, a worker died past its retries
        first = str(exc).strip().splitlines()
        raise RayUnavailable(f"Ray could not classify a batch ({type(exc).__name__}: {first[0] if first else ''})") from None


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
    as default id, the language a jsonl line names in ``language`` or ``meta.lang`` (None: none)."""
    jsonl = name.endswith((".jsonl", ".ndjson"))
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if not jsonl:
            yield str(number), line.rstrip("\r\n"), None
            continue
        row = json.loads(line)
        doc_id = row.get("id")
        yield (str(doc_id) if doc_id not in (None, "") else str(number)), row["text"], row.get("language") or meta_language(row)


# -- on the Ray workers ----------------------------------------------------------------------

_models: dict[str, Any] = {}


def _classify_rows(items: list[tuple[str, str, str | None]], spec: dict[str, Any]) -> list[dict[str, Any]]:
    """One batch of (id, text, language) -> its output rows, as the local engine's
    ``analyze.classify_documents`` makes them: the valid documents in one prediction."""
    from tagwise.core.analyze import annotate, document_problem, document_result
    from tagwise.core.predictors import decide, thresholds_of
    from tagwise.core.validation import language_code

    model = _models.get(spec["model_id"])
    if model is None:
        from tagwise.ml import encoder, load_model

        if spec["encoder_model_dir"]:  # the server's own sentence encoder, at the same path on every host
            encoder.configure(model_folder=spec["encoder_model_dir"])
        _models.clear()  # a model deployed in its place mid-run: the one before is not needed again
        model = _models[spec["model_id"]] = load_model(Path(spec["artifact"]))
    rows: list[dict[str, Any] | None] = [None] * len(items)
    valid = []
    for pos, (doc_id, text, language) in enumerate(items):
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
            row = {"id": doc_id, "predictions": [{"category": c["category"], "confidenceScore": c["confidenceScore"]} for c in result["class"]]}
            if result["warnings"]:  # as the local engine writes them
                row["warnings"] = result["warnings"]
            rows[pos] = row
    return rows  # type: ignore[return-value]


def _error_row(doc_id: str, error: dict[str, Any]) -> dict[str, Any]:
    inner = (error.get("error") or {}).get("innererror") or error.get("error") or {}
    return {"id": doc_id, "predictions": [], "error": inner.get("message", "invalid document")}
