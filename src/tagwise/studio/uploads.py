"""Reading uploaded files into documents: ``.txt`` (one document per file), CSV and JSONL.

CSV needs a header row with a ``text`` column; JSONL one object per line with ``text``. Both may
carry ``location`` (or ``id``), ``labels`` (or ``label``, ``class``, ``classes``, ``category``),
``dataset`` (``Train``/``Test``) and ``language`` (or ``lang``: the document's own language code). In CSV several labels are separated by ``|`` or ``;`` (what
``tagwise import`` and ``tagwise classify`` use).
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import PurePath
from typing import Any

from tagwise.core import csv_header
from tagwise.core.validation import blank
from tagwise.errors import InvalidArgument

TEXT_KEYS = ("text", "content", "document")
LABEL_KEYS = ("labels", "label", "classes", "class", "category")
LOCATION_KEYS = ("location", "id", "filename")
DATASET_KEYS = ("dataset", "split")
LANGUAGE_KEYS = ("language", "lang")
FORMATS = (".txt", ".csv", ".jsonl", ".ndjson")


def parse(filename: str, data: bytes) -> list[dict[str, Any]]:
    """Documents (``text``, ``location``, ``labels``, ``dataset``) of one uploaded file."""
    name = PurePath((filename or "upload.txt").replace("\\", "/")).name or "upload.txt"
    suffix = PurePath(name).suffix.lower()
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidArgument(f"{name} is not UTF-8 text; save it as UTF-8 and upload it again.") from None
    if suffix == ".csv":
        return _csv(name, content)
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl(name, content)
    if suffix == ".txt" or not suffix:
        return [{"location": name, "text": content.strip()}]
    raise InvalidArgument(f"{name}: upload .txt files, CSV or JSONL ({', '.join(FORMATS)}).")


def _pick(row: dict[str, Any], keys: tuple[str, ...]) -> Any:
    lowered = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
    return next((lowered[k] for k in keys if lowered.get(k) not in (None, "")), None)


def _document(name: str, line: int, row: dict[str, Any], labels: Any) -> dict[str, Any]:
    text = _pick(row, TEXT_KEYS)
    if not isinstance(text, str) or blank(text):
        raise InvalidArgument(f"{name}, line {line}: no text (a '{TEXT_KEYS[0]}' column or field is needed).")
    location = _pick(row, LOCATION_KEYS)
    dataset = _pick(row, DATASET_KEYS)
    language = _pick(row, LANGUAGE_KEYS)  # each document's own, as the Azure project file has it
    return {"text": text.strip(), "location": str(location) if location is not None else None,
            "labels": labels, "dataset": str(dataset) if dataset is not None else None, "language": language}


def _csv(name: str, content: str) -> list[dict[str, Any]]:
    try:
        reader = csv.DictReader(io.StringIO(content, newline=""), delimiter=csv_header.delimiter(content.split("\n", 1)[0]))
        out = []
        for row in reader:
            raw = _pick(row, LABEL_KEYS)
            labels = [p.strip() for p in re.split(r"[|;]", raw) if p.strip()] if isinstance(raw, str) else None
            out.append(_document(name, reader.line_num, row, labels))
    except csv.Error as exc:
        raise InvalidArgument(f"{name} is not valid CSV: {exc}.") from None
    if not out:
        raise InvalidArgument(f"{name} has no documents: it is empty or has only a header row.")
    return out


def _jsonl(name: str, content: str) -> list[dict[str, Any]]:
    out = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidArgument(f"{name}, line {number}: not JSON ({exc.msg}).") from None
        if not isinstance(row, dict):
            raise InvalidArgument(f"{name}, line {number}: each line must be a JSON object.")
        out.append(_document(name, number, row, _json_labels(name, number, _pick(row, LABEL_KEYS))))
    if not out:
        raise InvalidArgument(f"{name} has no documents: it has no JSON lines.")
    return out


def _json_labels(name: str, line: int, raw: Any) -> list[str] | None:
    if raw is None:
        return None
    items = raw if isinstance(raw, list) else [raw]
    labels = []
    for item in items:
        value = item.get("category") if isinstance(item, dict) else item
        if not isinstance(value, str):
            raise InvalidArgument(f"{name}, line {line}: labels must be strings (or {{\"category\": ...}} objects).")
        labels.append(value)
    return labels
