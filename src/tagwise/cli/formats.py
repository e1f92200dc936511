"""Reading labelled documents from files (jsonl, csv, Azure project JSON, a folder of .txt) into one project file.

Every reader yields the same plain shape, ``Doc``; :func:`project_file` turns a list of them into
the Azure project file that ``documents.import_project`` (or ``POST :import``) takes.
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tagwise.cli.common import UsageError
from tagwise.errors import InvalidArgument

FORMATS = ("auto", "jsonl", "csv", "azure", "txt-dir")
SINGLE = "CustomSingleLabelClassification"
MULTI = "CustomMultiLabelClassification"
PROJECT_FILE_VERSION = "2022-05-01"
METADATA_KEYS = ("language", "storageInputContainerName", "description", "multilingual", "settings")


@dataclass
class Doc:
    location: str
    text: str | None
    labels: list[str] | None  # None: not tagged
    dataset: str | None = None  # "Train", "Test" or None
    language: str | None = None


@dataclass
class CsvColumns:
    text: str = "text"
    labels: str = "labels"
    separator: str = ";"


def detect(path: Path, fmt: str) -> str:
    if fmt != "auto":
        return fmt
    if path.is_dir():
        return "txt-dir"
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix in (".csv", ".tsv"):
        return "csv"
    if suffix == ".json":
        return "azure"
    raise UsageError(f"cannot tell the format of {path} from its name; pass --format jsonl|csv|azure|txt-dir")


def read(path: Path, fmt: str, multi: bool, columns: CsvColumns) -> tuple[list[Doc], dict[str, Any] | None]:
    """Documents of one file (or folder), and the metadata when it is an Azure project file."""
    if not path.exists():
        raise UsageError(f"{path}: no such file or folder")
    fmt = detect(path, fmt)
    if fmt == "txt-dir":
        if not path.is_dir():
            raise UsageError(f"{path} is not a folder (--format txt-dir reads a folder of .txt files)")
        return list(_txt_dir(path)), None
    if fmt == "azure":
        return _azure(path)
    if fmt == "jsonl":
        return list(_jsonl(path)), None
    if fmt == "csv":
        return list(_csv(path, multi, columns)), None
    raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def _labels(value: Any, where: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise InvalidArgument(f"{where}: 'labels' must be a list of strings or a string, not {value!r}")


def _dataset(value: Any, where: str) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.lower() in ("train", "test"):
        return value.capitalize()
    raise InvalidArgument(f"{where}: split {value!r} must be 'train' or 'test'")


def _location(raw: Any, fallback: str) -> str:
    return str(raw).replace("/", "_").replace("\\", "_") if raw not in (None, "") else fallback


def _jsonl(path: Path) -> Iterator[Doc]:
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise InvalidArgument(f"{where}: not a JSON line ({exc.msg})") from None
            if not isinstance(row, dict) or not isinstance(row.get("text"), str):
                raise InvalidArgument(f"{where}: each line needs a JSON object with a string 'text'")
            labels = _labels(row.get("labels", row.get("label")), where)
            yield Doc(_location(row.get("id"), f"{path.stem}-{number}"), row["text"], labels,
                      _dataset(row.get("split", row.get("dataset")), where), row.get("language"))


def _csv(path: Path, multi: bool, columns: CsvColumns) -> Iterator[Doc]:
    csv.field_size_limit(sys.maxsize)
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh, delimiter=delimiter)
        fields = reader.fieldnames or []
        if columns.text not in fields:
            raise UsageError(f"{path}: no column {columns.text!r} (columns: {', '.join(fields)}); pick one with --text-column")
        has_labels = columns.labels in fields
        for number, row in enumerate(reader, start=2):
            where = f"{path}:{number}"
            raw = (row.get(columns.labels) or "").strip() if has_labels else ""
            if not raw:
                labels = None
            elif multi:
                labels = [part.strip() for part in raw.split(columns.separator) if part.strip()]
            else:
                labels = [raw]
            yield Doc(_location(row.get("id"), f"{path.stem}-{number}"), row[columns.text], labels,
                      _dataset(row.get("split"), where), row.get("language") or None)


def _txt_dir(path: Path) -> Iterator[Doc]:
    """``folder/*.txt`` are untagged; ``folder/<class>/*.txt`` are tagged with the subfolder's name."""
    for file in sorted(path.rglob("*.txt")):
        relative = file.relative_to(path)
        labels = [relative.parts[0]] if len(relative.parts) > 1 else None
        yield Doc("__".join(relative.parts), file.read_text(encoding="utf-8"), labels)


def _azure(path: Path) -> tuple[list[Doc], dict[str, Any]]:
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise InvalidArgument(f"{path}: not a JSON project file ({exc.msg} at line {exc.lineno})") from None
    return azure_docs(body, str(path))


def azure_docs(body: Any, where: str = "project file") -> tuple[list[Doc], dict[str, Any]]:
    """Documents and metadata (with ``classes``) of an Azure project file."""
    if not isinstance(body, dict) or not isinstance(body.get("assets"), dict):
        raise InvalidArgument(f"{where}: an Azure project file needs 'metadata' and 'assets'")
    docs = []
    for item in body["assets"].get("documents") or []:
        if not isinstance(item, dict):
            raise InvalidArgument(f"{where}: every item of assets.documents must be an object")
        if "classes" in item:
            labels = [c.get("category") if isinstance(c, dict) else c for c in item["classes"] or []]
        elif item.get("class") is not None:
            labels = [item["class"].get("category") if isinstance(item["class"], dict) else item["class"]]
        else:
            labels = None
        docs.append(Doc(item.get("location"), item.get("text"), labels, _dataset(item.get("dataset"), where), item.get("language")))
    metadata = dict(body.get("metadata") or {})
    metadata.setdefault("projectKind", body["assets"].get("projectKind"))
    metadata["classes"] = [c.get("category") for c in body["assets"].get("classes") or [] if isinstance(c, dict)]
    return docs, metadata


def merge(existing: list[Doc], new: list[Doc]) -> list[Doc]:
    """``existing`` with ``new`` added; a new document replaces an existing one at the same location."""
    replaced = {d.location for d in new}
    return [d for d in existing if d.location not in replaced] + new


def project_file(name: str, kind: str, metadata: dict[str, Any], docs: list[Doc], extra_classes: list[str] = ()) -> dict[str, Any]:
    """The Azure project file for ``docs``; classes are those the documents use (plus ``extra_classes``)."""
    classes: list[str] = list(dict.fromkeys(extra_classes))
    out_docs = []
    for doc in docs:
        item: dict[str, Any] = {"location": doc.location}
        if doc.text is not None:
            item["text"] = doc.text
        if doc.language:
            item["language"] = doc.language
        if doc.dataset:
            item["dataset"] = doc.dataset
        if doc.labels is not None:
            for label in doc.labels:
                if label not in classes:
                    classes.append(label)
            if kind == MULTI:
                item["classes"] = [{"category": c} for c in doc.labels]
            elif len(doc.labels) > 1:
                raise InvalidArgument(
                    f"document {doc.location!r} has {len(doc.labels)} labels but project {name} is single-label; "
                    "give one label per document or use a multi-label project"
                )
            elif doc.labels:
                item["class"] = {"category": doc.labels[0]}
        out_docs.append(item)
    meta = {k: v for k, v in metadata.items() if k in METADATA_KEYS and v is not None}
    meta.update(projectName=name, projectKind=kind)
    return {
        "projectFileVersion": PROJECT_FILE_VERSION,
        "stringIndexType": "Utf16CodeUnit",
        "metadata": meta,
        "assets": {"projectKind": kind, "classes": [{"category": c} for c in sorted(classes)], "documents": out_docs},
    }
