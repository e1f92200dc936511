"""Bulk classification: the batches every engine reads its input in, and the engines that go beyond
one process (``ray_engine``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")


def batches(docs: Iterator[T], size: int) -> Iterator[list[T]]:
    """Lists of ``size`` documents; when reading fails (a bad line), the documents before it still come
    as a last batch, so the output holds everything up to the bad line and a rerun resumes there.
    Both engines read through it: with the same batches they give the same answers (the int8
    encoder's vectors move slightly with their batch)."""
    batch: list[T] = []
    try:
        for doc in docs:
            batch.append(doc)
            if len(batch) == size:
                yield batch
                batch = []
    except Exception:
        if batch:
            yield batch
        raise
    if batch:
        yield batch
