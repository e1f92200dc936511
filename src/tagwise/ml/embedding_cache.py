"""A disk cache of sentence embeddings keyed by the sha256 of the text.

One folder per encoder (int8 and fp32 vectors differ); each ``put`` writes one ``.npz`` file
(``keys``: sha256 digests, ``vectors``: float32) under a fresh name and renames it into place,
so concurrent writers never clash and a crash leaves no half file. Retraining on the same texts
reads every vector back instead of re-embedding. A reader loads every file of the folder, so the
caller keeps a folder small: tagwise gives each project its own and :func:`compact` keeps only
the texts of its latest training.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import threading
import time
import uuid
from pathlib import Path

import numpy as np


def text_key(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).hexdigest().encode("ascii")


class EmbeddingCache:
    def __init__(self, folder: Path, dim: int) -> None:
        self.folder = Path(folder)
        self.dim = dim
        self._index: dict[bytes, np.ndarray] | None = None
        self._seen_files: set[str] = set()
        self._lock = threading.Lock()

    def _refresh(self) -> dict[bytes, np.ndarray]:
        if self._index is None:
            self._index = {}
            with contextlib.suppress(OSError):  # read by a training: compact(used_since=) keeps this encoder's (a read-only cache is read all the same)
                os.utime(self.folder)
        if self.folder.is_dir():
            for path in sorted(self.folder.glob("*.npz")):
                if path.name in self._seen_files:
                    continue
                if (read := _read(path)) is None:  # compacted away since the listing: the merged file holds its vectors
                    continue
                keys, vectors = read
                if vectors.shape[1:] == (self.dim,):
                    self._index.update(zip(keys.tolist(), vectors))
                self._seen_files.add(path.name)
        return self._index

    def get_many(self, texts: list[str]) -> tuple[np.ndarray, list[int]]:
        """Vectors for ``texts`` (zeros where missing) and the positions that were missing."""
        with self._lock:
            index = self._refresh()
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing = []
        for i, text in enumerate(texts):
            vector = index.get(text_key(text))
            if vector is None:
                missing.append(i)
            else:
                out[i] = vector
        return out, missing

    def put_many(self, texts: list[str], vectors: np.ndarray) -> None:
        if not texts:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        keys = np.array([text_key(t) for t in texts], dtype="S64")
        name = _write(self.folder, keys, np.asarray(vectors, dtype=np.float32))
        with self._lock:
            index = self._index if self._index is not None else {}
            index.update(zip(keys.tolist(), np.asarray(vectors, dtype=np.float32)))
            self._index = index
            self._seen_files.add(name)


def compact(folder: Path, keep: list[str], used_since: float | None = None) -> None:
    """Rewrite each encoder's cache under ``folder`` as one file holding the vectors of ``keep``
    alone: the texts of other trainings (documents deleted, retagged away, moved to Test) leave
    the disk, and the files of one training per run stop piling up. The merged file is in place
    before the old ones go, so a reader never misses a vector it could have had.

    ``used_since`` (a ``time.time()``): when the training read or wrote an encoder's cache since
    then, the other encoders' caches go: an encoder setting changed, the project turned
    multilingual, or an upgrade exported the encoder anew, and the old vectors were kept for good
    beside the new ones (a full copy per project each time)."""
    wanted = {text_key(t) for t in keep}
    encoder_dirs = [p for p in Path(folder).glob("*") if p.is_dir()]
    if used_since is not None and (used := [p for p in encoder_dirs if _mtime(p) >= used_since]):
        for stale in set(encoder_dirs) - set(used):
            shutil.rmtree(stale, ignore_errors=True)
        encoder_dirs = used
    for encoder_dir in encoder_dirs:
        for half_written in encoder_dir.glob(".*.tmp"):  # a training killed while it wrote vectors
            if _mtime(half_written) < time.time() - 3600:
                half_written.unlink(missing_ok=True)
        files = sorted(encoder_dir.glob("*.npz"))
        merged: dict[bytes, np.ndarray] = {}
        stored = 0
        for path in files:
            if (read := _read(path)) is None:  # the cache was deleted meanwhile ("safe to delete"): nothing to keep of it
                continue
            keys, vectors = read
            stored += len(keys)
            merged.update((k, v) for k, v in zip(keys.tolist(), vectors) if k in wanted)
        if len(files) <= 1 and len(merged) == stored:
            continue  # already one file of only these texts
        if merged:
            try:
                _write(encoder_dir, np.array(list(merged), dtype="S64"), np.stack(list(merged.values())))
            except FileNotFoundError:  # the cache was deleted meanwhile: the next training embeds again
                continue
        for path in files:
            path.unlink(missing_ok=True)


def forget(folder: Path, texts: list[str]) -> None:
    """Rewrite each encoder's cache under ``folder`` without the vectors of ``texts`` (deleted
    documents: their vectors, keyed by the text's hash, stayed until the project's next training)."""
    unwanted = {text_key(t) for t in texts}
    for encoder_dir in (p for p in Path(folder).glob("*") if p.is_dir()):
        for path in sorted(encoder_dir.glob("*.npz")):
            if (read := _read(path)) is None:
                continue
            keys, vectors = read
            keep = np.array([k not in unwanted for k in keys.tolist()], dtype=bool)
            if keep.all():
                continue
            if keep.any():
                _write(encoder_dir, keys[keep], vectors[keep])
            path.unlink(missing_ok=True)


def _read(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """(keys, vectors) of one cache file; None when it is gone (compacted or deleted since it was listed)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            return npz["keys"], npz["vectors"]
    except FileNotFoundError:
        return None


def _write(folder: Path, keys: np.ndarray, vectors: np.ndarray) -> str:
    """A new cache file in ``folder`` holding these vectors, in place whole or not at all (written
    beside it, then renamed); returns its name."""
    name = f"{uuid.uuid4().hex}.npz"
    tmp = folder / f".{name}.tmp"
    with open(tmp, "wb") as fh:
        np.savez(fh, keys=keys, vectors=vectors)
    os.replace(tmp, folder / name)
    return name


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0
