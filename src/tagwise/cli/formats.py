"""Reading labelled documents from files (jsonl, csv, Azure project JSON, a folder of .txt) into one project file.

Every reader yields the same plain shape, ``Doc``; :func:`project_file` turns a list of them into
the Azure project file that ``documents.import_project`` (or ``POST :import``) takes. A file that
cannot be read as its format says is a :class:`UsageError` naming the file (and line, or document).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tagwise.cli.common import UsageError
from tagwise.cli.textfiles import csv_reader, csv_rows, json_text, not_utf8
from tagwise.core.csv_header import DATASET_KEYS, LABEL_KEYS, LANGUAGE_KEYS, LOCATION_KEYS, TEXT_KEYS, first_of, pick, pick_language, twins
from tagwise.core.textencoding import json_problem, not_text
from tagwise.core.validation import COMMAS, check_location, class_form, file_labels, file_language, project_kind
from tagwise.errors import InvalidArgument, TagwiseError

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
    renamed: str | None = None  # "FILE:LINE: id 'a/b' imported as 'a_b'" when the id could not be a location
    where: str | None = None  # "FILE:LINE" (or the file's document), for an error about the document as a whole
    named: bool = True  # False: no id was given, the location is <file stem>-<line>


@dataclass
class CsvColumns:
    text: str | None = None  # None: the first of csv_header.TEXT_KEYS the header has (text, content, document, texte, ...)
    labels: str | None = None  # None: the first of csv_header.LABEL_KEYS (labels, label, classes, class, category, catégorie, ...)
    separator: str = ";"
    separator_given: bool = True  # False: the default, and a cell that looks split another way is refused
    id: str | None = None  # None: the first of csv_header.LOCATION_KEYS (location, id, filename): each document's name


def detect(path: Path, fmt: str) -> str:
    if fmt != "auto":
        return fmt
    if path.is_dir():
        return "txt-dir"
    suffix = path.suffix.lower()
    if binary := not_text(str(path), suffix, "import"):  # "pass --format", and then "not UTF-8 text (byte 0xe4)"
        raise UsageError(binary)
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
    try:
        if fmt == "azure":
            return _azure(path)
        if fmt == "jsonl":
            return list(_jsonl(path)), None
        if fmt == "csv":
            return list(_csv(path, multi, columns)), None
    except UnicodeDecodeError as exc:
        raise not_utf8(path, exc) from None
    raise UsageError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def check_unique(docs: list[Doc]) -> None:
    """Refuse two documents with one id, naming both places (the service's "The document location 'a'
    appears twice." named no file or line, and exited 1 as if the service had failed)."""
    first: dict[str, Doc] = {}
    for doc in docs:
        if (seen := first.setdefault(doc.location, doc)) is not doc:
            if doc.named and seen.named:
                raise UsageError(f"{doc.where or 'a document'}: id {doc.location!r} is also at {seen.where or 'another document'}; "
                                 "each document needs its own id (nothing was imported)")
            # a document without an id is named after its file and line: two files named alike, or one with such ids
            raise UsageError(f"{doc.where or 'a document'}: the location {doc.location!r} is also that of {seen.where or 'another document'} "
                             "(a document without an id is named <file name>-<line>); give the documents ids, or rename one "
                             "of the files (nothing was imported)")


def _labels(value: Any, where: str) -> list[str] | None:
    """A row's labels as the studio reads them too, or an error naming the row."""
    try:
        return file_labels(value, _shown)
    except InvalidArgument as exc:
        raise UsageError(f"{where}: {exc.message}") from None


def _dataset(value: Any, where: str) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, str) and value.lower() in ("train", "test"):
        return value.capitalize()
    raise UsageError(f"{where}: split {value!r} must be 'train' or 'test'")


def _language(value: Any, where: str) -> str | None:
    """A row's own language code in its usual spelling, None for the project's, or an error naming the row."""
    try:
        return file_language(value, _shown)
    except InvalidArgument as exc:
        raise UsageError(f"{where}: {exc.message}") from None


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else text[:77] + "..."


def _doc(raw_id: Any, fallback: str, where: str, text: str, labels: list[str] | None, dataset: str | None,
         language: Any) -> Doc:
    """A document from a jsonl or csv row; an id with '/' or '\\' (not allowed in a location) gets '_' instead."""
    language = _language(language, where)
    if raw_id in (None, ""):
        return Doc(fallback, text, labels, dataset, language, where=where, named=False)
    location = str(raw_id).replace("/", "_").replace("\\", "_")
    try:  # a control character or a lone surrogate: the service's refusal named neither file nor line, and exited 1
        check_location(location)
    except TagwiseError as exc:
        raise UsageError(f"{where}: {exc.message}") from None
    renamed = f"{where}: id {str(raw_id)!r} imported as {location!r}" if location != str(raw_id) else None
    return Doc(location, text, labels, dataset, language, renamed, where)


def _jsonl(path: Path) -> Iterator[Doc]:
    with open(path, encoding="utf-8-sig") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise UsageError(f"{where}: not a JSON line ({json_problem(exc)})") from None
            except RecursionError:  # "[[[[..." 100,000 deep ended in a traceback
                raise UsageError(f"{where}: its JSON is nested too deeply to be a document") from None
            text = json_text(row, "text", where, missing="each line needs a JSON object with a string 'text'",
                             listed="this one has {fields}")
            labels = _labels(pick(row, LABEL_KEYS), where)
            yield _doc(pick(row, LOCATION_KEYS), f"{path.stem}-{number}", where, text, labels,
                       _dataset(pick(row, DATASET_KEYS), where), pick_language(row))


def _csv(path: Path, multi: bool, columns: CsvColumns) -> Iterator[Doc]:
    delimiter = "\t" if path.suffix.lower() == ".tsv" else None  # a .csv's header decides: , or ;
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv_reader(fh, str(path), delimiter)
        fields = reader.fieldnames or []
        named = [keys for keys, chosen in ((TEXT_KEYS, columns.text), (LABEL_KEYS, columns.labels), (LOCATION_KEYS, columns.id))
                 if chosen is None]
        if twin := twins(fields, [*named, DATASET_KEYS, LANGUAGE_KEYS]):  # the studio read the other one
            raise UsageError(f"{path}:1: {twin}; rename or remove one of them (or name the column to read with "
                             "--text-column / --label-column / --id-column)")
        text = columns.text or first_of(TEXT_KEYS, fields) or "text"
        if text not in fields:
            raise UsageError(f"{path}: no column {text!r} (columns: {', '.join(fields)}); pick one with --text-column")
        if columns.labels is not None and columns.labels not in fields:  # named, not there: every document came in untagged
            raise UsageError(f"{path}: no column {columns.labels!r} (columns: {', '.join(fields)}); pick the labels column with --label-column")
        label = columns.labels or first_of(LABEL_KEYS, fields)
        if columns.id is not None and columns.id not in fields:  # named, not there: every document got a generated name
            raise UsageError(f"{path}: no column {columns.id!r} (columns: {', '.join(fields)}); pick the id column with --id-column")
        location, dataset, language = (first_of(keys, fields) for keys in (LOCATION_KEYS, DATASET_KEYS, LANGUAGE_KEYS))
        location = columns.id or location
        # errors name the line a row starts on; a row without an id is named by its record number, as before
        tip = _extra_fields_tip(reader, label if multi else None, columns)
        for number, line, row in csv_rows(reader, str(path), tip):
            where = f"{path}:{line}"
            if not (row[text] or "").strip():  # "The document 'tickets-4' has no text" named no line of the file
                raise UsageError(f"{where}: its text is empty; fill it in or remove the row (nothing was imported)")
            raw = (row.get(label) or "").strip() if label else ""
            if not raw:
                labels = None
            elif multi:
                # by default "|" separates too, as the studio's upload splits (and its download joins) them
                parts = raw.split(columns.separator) if columns.separator_given else re.split(f"[{re.escape(columns.separator)}|]", raw)
                labels = [part.strip() for part in parts if part.strip()]
                if not columns.separator_given and (comma := next((c for c in raw if c in COMMAS), None)):
                    # "anger,confusion" became one class of its own, 35 of them in one file, and the import said nothing
                    raise UsageError(f"{where}: the labels {raw!r} hold {comma!r}, but labels are split on ';' or '|'; pass "
                                     f"--label-separator {comma!r} if {comma!r} separates them, or --label-separator ';' to keep such "
                                     "names whole")
            else:
                labels = [raw]
            yield _doc(row.get(location) if location else None, f"{path.stem}-{number}", where, row[text], labels,
                       _dataset(row.get(dataset) if dataset else None, where), row.get(language) if language else None)


def _extra_fields_tip(reader: Any, label: str | None, columns: CsvColumns) -> str:
    """What to add to the error for a row with more fields than the header: in a multi-label file
    (``label``: its labels column) they are most often labels written as fields of their own
    (``fear;sadness`` in a ``;`` file)."""
    if not label:
        return ""
    delimiter, separator = reader.reader.dialect.delimiter, columns.separator
    if separator == delimiter:
        return (f"; several labels go in the one {label!r} field: quoted (\"fear{separator}sadness\"), or joined by "
                "another character that --label-separator names (--label-separator '|': fear|sadness)")
    return f"; several labels go in the one {label!r} field, joined by {separator!r} (fear{separator}sadness)"


def _txt_dir(path: Path) -> Iterator[Doc]:
    """``folder/*.txt`` are untagged; ``folder/<class>/*.txt`` are tagged with the subfolder's name."""
    for file in sorted(path.rglob("*.txt")):
        relative = file.relative_to(path)
        labels = [relative.parts[0]] if len(relative.parts) > 1 else None
        try:
            text = file.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise not_utf8(file, exc) from None
        yield Doc("__".join(relative.parts), text, labels, where=str(file))


def _azure(path: Path) -> tuple[list[Doc], dict[str, Any]]:
    try:
        body = json.loads(path.read_text(encoding="utf-8-sig"))
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}: not a JSON project file ({json_problem(exc)}, line {exc.lineno})") from None
    except RecursionError:
        raise UsageError(f"{path}: its JSON is nested too deeply to be a project file") from None
    return azure_docs(body, str(path))


def azure_docs(body: Any, where: str = "project file") -> tuple[list[Doc], dict[str, Any]]:
    """Documents and metadata (with ``classes``) of an Azure project file; anything of the wrong shape is
    an error naming the document (its location, or its index when it has none)."""
    if not isinstance(body, dict) or not isinstance(body.get("assets"), dict):
        raise UsageError(f"{where}: an Azure project file needs 'metadata' and 'assets' objects")
    assets = body["assets"]
    items = assets.get("documents") or []
    if not isinstance(items, list):
        raise UsageError(f"{where}: assets.documents must be a list of documents, not {_shown(items)}")
    docs = [_azure_doc(item, index, where) for index, item in enumerate(items)]
    metadata = body.get("metadata") or {}
    classes = assets.get("classes") or []
    if not isinstance(metadata, dict):
        raise UsageError(f"{where}: metadata must be an object, not {_shown(metadata)}")
    if not isinstance(classes, list):
        raise UsageError(f"{where}: assets.classes must be a list of {{\"category\": ...}} objects, not {_shown(classes)}")
    metadata = dict(metadata)
    metadata.setdefault("projectKind", assets.get("projectKind"))
    # in Azure's spelling (Microsoft Learn writes customMultiLabelClassification); another value stays for the server to refuse
    metadata["projectKind"] = project_kind(metadata["projectKind"]) or metadata["projectKind"]
    metadata["classes"] = [_category(c, f"assets.classes[{i}]", where) for i, c in enumerate(classes)]
    return docs, metadata


def _azure_doc(item: Any, index: int, where: str) -> Doc:
    name = f"assets.documents[{index}]"
    if not isinstance(item, dict):
        raise UsageError(f"{where}: {name} must be an object, not {_shown(item)}")
    location = item.get("location")
    if location in (None, ""):
        raise UsageError(f"{where}: {name} has no 'location'")
    if not isinstance(location, str):
        raise UsageError(f"{where}: {name}: 'location' must be a string, not {_shown(location)}")
    name = f"document {location!r}"
    for key in ("text", "language"):
        if item.get(key) is not None and not isinstance(item[key], str):
            raise UsageError(f"{where}: {name}: {key!r} must be a string, not {_shown(item[key])}")
    if "classes" in item:
        tags = item["classes"] or []
        if not isinstance(tags, list):
            raise UsageError(f"{where}: {name}: 'classes' must be a list of {{\"category\": ...}} objects, not {_shown(tags)}")
        labels: list[str] | None = [_category(c, f"{name}: classes[{i}]", where) for i, c in enumerate(tags)]
    elif item.get("class") is not None:
        labels = [_category(item["class"], f"{name}: class", where)]
    else:
        labels = None
    return Doc(location, item.get("text"), labels, _dataset(item.get("dataset"), f"{where}: {name}"), item.get("language"),
               where=f"{where}: assets.documents[{index}]")


def _category(value: Any, what: str, where: str) -> str:
    """The class of ``{"category": "x"}`` (or of a bare ``"x"``)."""
    category = value.get("category") if isinstance(value, dict) else value
    if isinstance(category, str) and category.strip():
        return category
    raise UsageError(f"{where}: {what} must be {{\"category\": \"<class name>\"}}, not {_shown(value)}")


def project_file(name: str, kind: str, metadata: dict[str, Any], docs: list[Doc], extra_classes: list[str] = ()) -> dict[str, Any]:
    """The Azure project file for ``docs``; classes are those the documents use (plus ``extra_classes``)."""
    classes: list[str] = list(dict.fromkeys(class_form(c) for c in extra_classes))
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
            labels = list(dict.fromkeys(class_form(label) for label in doc.labels))  # as the server keeps them
            for label in labels:
                if label not in classes:
                    classes.append(label)
            if kind == MULTI:
                item["classes"] = [{"category": c} for c in labels]
            elif len(labels) > 1:
                raise InvalidArgument(
                    f"document {doc.location!r} has {len(labels)} labels but project {name} is single-label; "
                    "give one label per document or use a multi-label project"
                )
            elif labels:
                item["class"] = {"category": labels[0]}
        out_docs.append(item)
    meta = {k: v for k, v in metadata.items() if k in METADATA_KEYS and v is not None}
    meta.update(projectName=name, projectKind=kind)
    return {
        "projectFileVersion": PROJECT_FILE_VERSION,
        "stringIndexType": "Utf16CodeUnit",
        "metadata": meta,
        "assets": {"projectKind": kind, "classes": [{"category": c} for c in sorted(classes)], "documents": out_docs},
    }
