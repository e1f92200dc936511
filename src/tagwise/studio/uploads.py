"""Reading uploaded files into documents: ``.txt`` (one document per file), CSV, TSV and JSONL.

CSV (and TSV, tab-separated) needs a header row with a ``text`` column; JSONL one object per line
with ``text``. Both may carry ``location`` (or ``id``), ``labels`` (or ``label``, ``class``,
``classes``, ``category``), ``dataset`` (``Train``/``Test``) and ``language`` (or ``lang``: the
document's own language code, ``validation.language_code``). In CSV several labels are separated
by ``|`` or ``;`` (``tagwise import`` splits on ``;``, or on its ``--label-separator``). A CSV row
with more or fewer fields than the header is refused with its line, as ``tagwise import`` does.
Another column (or field) can be named as the text's or the labels' (:class:`Columns`), as
``tagwise import --text-column/--label-column`` does.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from tagwise.core import csv_header
from tagwise.core.csv_header import DATASET_KEYS, LABEL_KEYS, LANGUAGE_KEYS, LOCATION_KEYS, TEXT_KEYS, pick, pick_language, unformula
from tagwise.core.textencoding import OTHER_CODE_PAGE, SAVE_AS_UTF8, WINDOWS_1252, diagnose, json_problem, not_text
from tagwise.core.validation import COMMAS, blank, class_form, file_labels, file_language
from tagwise.errors import InvalidArgument

FORMATS = (".txt", ".csv", ".tsv", ".jsonl", ".ndjson")
LABEL_SEPARATORS = "|;"


@dataclass(frozen=True)
class Columns:
    """The columns (CSV, TSV) or fields (JSONL) a user named as the text's, the labels' and each
    document's name (``location``: a ticket export's "Issue key", so that next week's export of
    the same tickets can skip them); None or blank: the usual names. A named one is compared as
    header names are (any case, spaces around it), and the other columns with a name of that kind
    are then not read."""

    text: str | None = None
    labels: str | None = None
    location: str | None = None

    def named(self) -> list[tuple[str, tuple[str, ...], str]]:
        """(what it holds, the names it replaces, the name given) of each column named."""
        return [(what, keys, given.strip()) for what, keys, given in (("text", TEXT_KEYS, self.text), ("labels", LABEL_KEYS, self.labels),
                                                                       ("name", LOCATION_KEYS, self.location))
                if given and given.strip()]

    def rename(self, fields: list[str]) -> list[str]:
        """The fields as they are read: a named column under its usual name, the ones it replaces
        under a name nothing reads (so they are listed as not read)."""
        renamed = list(fields)
        for _what, keys, given in self.named():
            for i, field in enumerate(fields):
                if csv_header.name_of(field) == csv_header.name_of(given):
                    renamed[i] = keys[0]
                elif csv_header.name_of(field) in keys and csv_header.name_of(renamed[i]) in keys:
                    renamed[i] = f"{field}\u0000"  # not read: the named column holds it
        return renamed

    def check(self) -> None:
        """One column holds one of them."""
        named = self.named()
        for i, (what, _keys, given) in enumerate(named):
            if twin := next((other for other, _k, name in named[i + 1:] if csv_header.name_of(name) == csv_header.name_of(given)), None):
                raise InvalidArgument(f"The {_READ[what]} and the {_READ[twin]} cannot both be read from the column {given!r}.")

    def missing(self, fields: list[str]) -> list[tuple[str, str]]:
        """(what, name given) of each named column the fields lack."""
        have = {csv_header.name_of(f) for f in fields if f is not None}
        return [(what, given) for what, _keys, given in self.named() if csv_header.name_of(given) not in have]


NO_COLUMNS = Columns()
_READ = {"text": "text", "labels": "classes", "name": "documents' names"}


def parse(filename: str, data: bytes, multi: bool = False) -> list[dict[str, Any]]:
    """Documents (``text``, ``location``, ``labels``, ``dataset``) of one uploaded file (:func:`parse_file` without its columns)."""
    return parse_file(filename, data, multi)[0]


def parse_file(filename: str, data: bytes, multi: bool = False, limit: int | None = None,
               beyond: str = "", columns: Columns = NO_COLUMNS, named_blank_ok: bool = False,
               classes: Collection[str] = ()) -> tuple[list[dict[str, Any]], list[str]]:
    """(documents, the CSV columns not read) of one uploaded file; ``multi``: for a multi-label
    project, where a labels cell with a comma is refused (``card, payments`` became one class)
    unless each of its classes with a comma is one of ``classes`` (the project's: its own download
    of a class "billing, refunds" was refused).
    ``limit``: refused at the document after it, with ``beyond`` said of it (3 million one-word
    rows were read whole, 600 MB, before a limit was checked). ``columns``: the text's and the
    labels' columns when the user named them (a ``.txt`` file has none). ``named_blank_ok``: a row
    with a name and no text is kept with an empty text, for the store to skip (a document the
    project has) or refuse by its name: "Skip documents the project already has" refused a new
    export for an empty text in a row it would have skipped."""
    columns.check()
    name = PurePath((filename or "upload.txt").replace("\\", "/")).name or "upload.txt"
    suffix = PurePath(name).suffix.lower()
    if binary := not_text(name, suffix):  # a workbook was "line 1: not UTF-8 text (byte 0xe4)"
        raise InvalidArgument(f"{binary}. Nothing was added.")
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _not_utf8(name, data, exc) from None
    counted = _Limit(name, limit, beyond)
    if suffix in (".csv", ".tsv"):
        return _csv(name, content, "\t" if suffix == ".tsv" else None, multi, counted, columns, named_blank_ok, classes)
    if suffix in (".jsonl", ".ndjson"):
        return _jsonl(name, content, counted, columns, named_blank_ok), []
    if suffix == ".txt" or not suffix:
        return [{"location": name, "text": content.strip()}], []
    raise InvalidArgument(f"{name}: upload .txt files, CSV, TSV or JSONL ({', '.join(FORMATS)}).")


def _not_utf8(name: str, data: bytes, exc: UnicodeDecodeError) -> InvalidArgument:
    found = diagnose(name, io.BytesIO(data))
    if found.packed:  # a gzip file named .csv was "Windows-1252 text"
        return InvalidArgument(f"{found.packed}. Nothing was added.")
    if found.utf16:
        return InvalidArgument(f"{name} is UTF-16 text (it starts with a UTF-16 byte-order mark), not UTF-8: save it as UTF-8 "
                               f"({SAVE_AS_UTF8}) and upload it again.")
    if found.windows_1252:
        return InvalidArgument(f"{name} is not UTF-8 text: {WINDOWS_1252}, and upload it again. Nothing was added.")
    if found.other_code_page:
        return InvalidArgument(f"{name} is not UTF-8 text: {OTHER_CODE_PAGE}, and upload it again. Nothing was added.")
    if not found.line:  # cannot be: the decoder found a bad byte
        return InvalidArgument(f"{name} is not UTF-8 text ({exc.reason}); save it as UTF-8 ({SAVE_AS_UTF8}) and upload it again.")
    return InvalidArgument(f"{name}, line {found.line}: not UTF-8 text (byte 0x{found.byte:02x}); save it as UTF-8 "
                           f"({SAVE_AS_UTF8}) and upload it again.")


def _document(where: str, row: dict[str, Any], labels: Any, text_column: bool = False, named_blank_ok: bool = False) -> dict[str, Any]:
    """One document of a row; ``where`` names it in a message ("tickets.csv, row 30 (line 225 of
    the file)"); ``text_column``: the file has a text column, so a missing text is an empty cell;
    ``named_blank_ok``: see :func:`parse_file`."""
    text = pick(row, TEXT_KEYS)
    if text is not None and not isinstance(text, str):  # a JSONL "text": 5 was said to be empty
        raise InvalidArgument(f"{where}: its text is {json.dumps(text)[:40]}, not a string; nothing was added.")
    if named_blank_ok and text_column and pick(row, LOCATION_KEYS) not in (None, "") and (text is None or blank(text)):
        text = ""
    elif not isinstance(text, str) or blank(text):
        if text_column:  # "no text (a 'text' column is needed)" was said of a file that had one, for one empty cell
            raise InvalidArgument(f"{where}: its text is empty. Fill it in or remove the row; nothing was added.")
        raise InvalidArgument(f"{where}: no text (a '{TEXT_KEYS[0]}' column or field is needed).")
    location = pick(row, LOCATION_KEYS)
    dataset = pick(row, DATASET_KEYS)
    language = _language(where, pick_language(row))  # each document's own, as the Azure project file has it
    return {"text": text.strip(), "location": str(location) if location is not None else None,
            "labels": labels, "dataset": str(dataset) if dataset is not None else None, "language": language}


def _language(where: str, value: Any) -> str | None:
    """The row's language code in its usual spelling, None for the project's, or an error naming the row."""
    try:
        return file_language(value)
    except InvalidArgument as exc:
        raise InvalidArgument(f"{where}: {exc.message}.") from None


class _Limit:
    """Refuses the document after ``limit`` as it is read."""

    def __init__(self, name: str, limit: int | None, beyond: str) -> None:
        self.name, self.limit, self.beyond = name, limit, beyond

    def check(self, read: int) -> None:
        if self.limit is not None and read > self.limit:
            raise InvalidArgument(f"{self.name} has more than {self.limit:,} documents; {self.beyond}")


def _unknown_comma_class(raw: str, known: frozenset[str]) -> bool:
    """Whether a multi-label labels cell holds a comma that does not belong to one of the ``known``
    classes (in their kept form)."""
    return any(c in COMMAS for c in raw) and any(any(c in COMMAS for c in part) and class_form(part.strip()) not in known
                                                 for part in re.split(f"[{re.escape(LABEL_SEPARATORS)}]", raw))


def _csv(name: str, content: str, delimiter: str | None, multi: bool, counted: _Limit, columns: Columns = NO_COLUMNS,
         named_blank_ok: bool = False, classes: Collection[str] = ()) -> tuple[list[dict[str, Any]], list[str]]:
    # Excel's "sep=;" line names the separator (it was read as a header with the columns 'sep=' and '')
    known_classes = frozenset(class_form(c) for c in classes)  # once: per row, 100,000 rows of 200 classes took 4.7 s more
    delimiter, named = csv_header.dialect(content.split("\n", 1)[0], delimiter)
    csv.field_size_limit(sys.maxsize)  # a long ticket is refused by the document limit, with its size, not as "field larger than field limit"
    reader = csv.DictReader(io.StringIO(content, newline=""), delimiter=delimiter)
    if named:
        next(reader.reader, None)  # past it, so that rows keep Excel's numbers and lines the file's
    out = []
    try:
        given = reader.fieldnames or []
        listed = f"{', '.join(repr(f) for f in given[:8])}{', ...' if len(given) > 8 else ''}"
        if given and (missing := columns.missing(given)):
            raise InvalidArgument(f"{name}, line 1: the header has no column {missing[0][1]!r} for the {missing[0][0]} (its columns, split "
                                  f"on {delimiter!r}: {listed}). Nothing was added.")
        reader.fieldnames = fieldnames = columns.rename(given)
        if fieldnames and not csv_header.first_of(TEXT_KEYS, fieldnames):  # the header's fault, not line 2's
            raise InvalidArgument(f"{name}, line 1: the header has no text column (its columns, split on {delimiter!r}: {listed}). "
                                  f"Name the column that holds the text under \"Columns\" (or rename it to one of "
                                  f"{', '.join(repr(k) for k in TEXT_KEYS)}), and separate fields with ',', ';' or a tab. "
                                  "Nothing was added.")
        if twin := csv_header.twins(fieldnames):  # "text" and "Text": the upload read the last, tagwise import the first
            raise InvalidArgument(f"{name}, line 1: {twin}. Rename or remove one of them; nothing was added.")
        number, last_line = 1, reader.line_num  # the header's row, and the file line it ended on
        while True:
            row = next(reader, None)
            if row is None:
                break
            start = csv_header.start_line(reader, row)  # a quoted text may span lines, and blank lines are skipped
            # a spreadsheet's row (the header is row 1, a blank line a row of its own, a text with line breaks one row):
            # "line 225" was another ticket than row 30 in the spreadsheet
            number += 1 + max(start - last_line - 1, 0)
            last_line = reader.line_num
            if csv_header.empty_row(row):  # a spreadsheet's emptied rows (";;"): nothing to add, as a blank line
                continue
            row = {key: unformula(value) for key, value in row.items()}  # a cell the studio's download made formula-safe
            where = f"{name}, row {number}" + (f" (line {start} of the file)" if start != number else "")
            if (count := csv_header.field_count(row, fieldnames)) is not None:
                raise InvalidArgument(f"{where}: {csv_header.misfit(count, fieldnames, delimiter)}"
                                      f"{_labels_tip(delimiter) if count > len(fieldnames) else ''}. Nothing was added.")
            raw = pick(row, LABEL_KEYS)
            if multi and isinstance(raw, str) and _unknown_comma_class(raw, known_classes):  # "card, payments|refund" made the class "card, payments" too
                split = [p.strip() for p in re.split(f"[{COMMAS}{re.escape(LABEL_SEPARATORS)}]", raw) if p.strip()]
                raise InvalidArgument(f"{where}: the labels {raw!r} hold a comma. Several classes go in the labels field "
                                      f"joined by '|' or ';' ({'|'.join(split)}); a class whose name has a comma can come in a "
                                      "JSONL file. Nothing was added.")
            if not isinstance(raw, str):
                labels = None
            elif multi:
                labels = [p.strip() for p in re.split(f"[{re.escape(LABEL_SEPARATORS)}]", raw) if p.strip()]
            else:  # one class, whole, as tagwise import reads it: "Billing | Refunds" was refused as two classes
                labels = [raw.strip()] if raw.strip() else None
            out.append(_document(where, row, labels, text_column=True, named_blank_ok=named_blank_ok))
            counted.check(len(out))
    except csv.Error as exc:
        raise InvalidArgument(f"{name} is not valid CSV: {exc}.") from None
    if not out:
        raise InvalidArgument(f"{name} has no documents: it is empty or has only a header row.")
    known = {*TEXT_KEYS, *LABEL_KEYS, *LOCATION_KEYS, *DATASET_KEYS, *LANGUAGE_KEYS}  # each is read where the one before is empty
    return out, [f for f, read in zip(given, fieldnames, strict=True) if f and f.strip() and csv_header.name_of(read) not in known]


def _labels_tip(delimiter: str) -> str:
    """Most often the extra fields are labels written as fields of their own (``fear;sadness`` in a ``;`` file)."""
    if delimiter in LABEL_SEPARATORS:
        return f"; several labels go in the one labels field, joined by '|' (fear|sadness) or quoted (\"fear{delimiter}sadness\")"
    return "; several labels go in the one labels field, joined by '|' or ';' (fear|sadness)"


def _jsonl(name: str, content: str, counted: _Limit, columns: Columns = NO_COLUMNS,
           named_blank_ok: bool = False) -> list[dict[str, Any]]:
    out = []
    for number, line in enumerate(io.StringIO(content), start=1):  # line by line: no second copy of a big file
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidArgument(f"{name}, line {number}: not JSON ({json_problem(exc)}).") from None
        except RecursionError:  # "[[[[..." 100,000 deep was a 500
            raise InvalidArgument(f"{name}, line {number}: its JSON is nested too deeply to be a document.") from None
        if not isinstance(row, dict):
            raise InvalidArgument(f"{name}, line {number}: each line must be a JSON object.")
        if columns.named():
            keys = [str(k) for k in row]
            if missing := [(what, given) for what, given in columns.missing(keys) if what == "text"]:
                raise InvalidArgument(f"{name}, line {number}: no field {missing[0][1]!r} for the text (its fields: "
                                      f"{', '.join(repr(k) for k in keys[:8])}). Nothing was added.")
            row = dict(zip(columns.rename(keys), row.values(), strict=True))
        has_text = any(csv_header.name_of(k) in TEXT_KEYS for k in row)
        out.append(_document(f"{name}, line {number}", row, _json_labels(name, number, pick(row, LABEL_KEYS)), text_column=has_text,
                             named_blank_ok=named_blank_ok))
        counted.check(len(out))
    if not out:
        raise InvalidArgument(f"{name} has no documents: it has no JSON lines.")
    return out


def _json_labels(name: str, line: int, raw: Any) -> list[str] | None:
    try:
        return file_labels(raw)
    except InvalidArgument as exc:
        raise InvalidArgument(f"{name}, line {line}: {exc.message}.") from None
