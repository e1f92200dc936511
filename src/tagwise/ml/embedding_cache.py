"""A disk cache of sentence embeddings keyed by the sha256 of the text.

One folder per encoder (int8 and fp32 vectors differ); each ``put`` writes one ``.npz`` file
(``keys``: sha256 digests, ``vectors``: float32) under a fresh name and renames it into place,
so concurrent writers never clash and a crash leaves no half file. Retraining on the same texts
reads every vector back instead of re-embedding. A reader loads every file of the folder, so the
caller keeps a folder small: tagwise gives each project its own and :func:`compact` keeps only
the texts of its latest training.
"""

from __future__ import annotations

import hashlib
import os
import threading
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
        if self.folder.is_dir():
            for path in sorted(self.folder.glob("*.npz")):
                if path.name in self._seen_files:
                    continue
                try:
                    with np.load(path, allow_pickle=False) as npz:
                        keys, vectors = npz["keys"], npz["vectors"]
                except FileNotFoundError:  # compacted away since the listing: the merged file holds its vectors
                    continue
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
        name = f"{uuid.uuid4().hex}.npz"
        tmp = self.folder / f".{name}.tmp"
        with open(tmp, "wb") as fh:
            np.savez(fh, keys=keys, vectors=np.asarray(vectors, dtype=np.float32))
        os.replace(tmp, self.folder / name)
        with self._lock:
            index = self._index if self._index is not None else {}
            index.update(zip(keys.tolist(), np.asarray(vectors, dtype=np.float32)))
            self._index = index
            self._seen_files.add(name)


def compact(folder: Path, keep: list[str]) -> None:
    """Rewrite each encoder's cache under ``folder`` as one file holding the vectors of ``keep``
    alone: the texts of other trainings (documents deleted, retagged away, moved to Test) leave
    the disk, and the files of one training per run stop piling up. The merged file is in place
    before the old ones go, so a reader never misses a vector it could have had."""
    wanted = {text_key(t) for t in keep}
    for encoder_dir in (p for p in Path(folder).glob("*") if p.is_dir()):
        files = sorted(encoder_dir.glob("*.npz"))
        merged: dict[bytes, np.ndarray] = {}
        stored = 0
        for path in files:
            with np.load(path, allow_pickle=False) as npz:
                keys, vectors = npz["keys"], npz["vectors"]
            stored += len(keys)
            merged.update((k, v) for k, v in zip(keys.tolist(), vectors) if k in wanted)
        if len(files) <= 1 and len(merged) == stored:
            continue  # already one file of only these texts
        if merged:
            name = f"{uuid.uuid4().hex}.npz"
            tmp = encoder_dir / f".{name}.tmp"
            with open(tmp, "wb") as fh:
                np.savez(fh, keys=np.array(list(merged), dtype="S64"), vectors=np.stack(list(merged.values())))
            os.replace(tmp, encoder_dir / name)
        for path in files:
            path.unlink(missing_ok=True)
