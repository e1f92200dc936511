"""The field separator of a CSV file, read from its header line.

A spreadsheet saved as CSV in a German, French or Spanish locale separates fields with ``;``
(the comma is that locale's decimal mark); some tools write tabs. The studio's upload,
``tagwise import`` and ``tagwise classify`` read all three the same way, and refuse a row whose
fields are more or fewer than the header's (:func:`field_count`).
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from tagwise.core.validation import language_code

OTHER_SEPARATORS = (";", "\t")

# the names a file's fields may have, first found wins: the studio's upload and tagwise import
# read CSV and JSONL files alike (a CSV's "label" column was read by one and not the other)
# with the French, German, Spanish and Italian words a spreadsheet's header has for them ("Texte;Catégorie"
# was refused with "the header has no text column")
TEXT_KEYS = ("text", "content", "document", "texte", "texto", "testo")
LABEL_KEYS = ("labels", "label", "classes", "class", "category", "catégorie", "categorie", "kategorie", "categoría",
              "categoria", "classe", "klasse", "clase", "étiquette", "etiqueta", "etichetta")
LOCATION_KEYS = ("location", "id", "filename")
DATASET_KEYS = ("dataset", "split")
LANGUAGE_KEYS = ("language", "lang")


def first_of(names: Sequence[str], fields: Sequence[str]) -> str | None:
    """The field of a header (``fields``) that is the first of ``names``, in any case and with spaces
    around it (a spreadsheet's "Text" column), or None.

    >>> first_of(LABEL_KEYS, ["ID", "Text", " Label "])
    ' Label '
    """
    spelled = {name_of(field): field for field in reversed(fields) if field is not None}
    return next((spelled[name] for name in names if name in spelled), None)


def name_of(field: Any) -> str:
    """A header field as names are compared: without case, spaces around it, or the difference
    between a composed and a decomposed accent (a Mac's "Catégorie" was not "catégorie").

    >>> name_of(" Cate\u0301gorie ") == "catégorie"
    True
    """
    return unicodedata.normalize("NFC", str(field).strip().lower())


def twins(fields: Sequence[str], groups: Sequence[Sequence[str]] = (TEXT_KEYS, LABEL_KEYS, LOCATION_KEYS, DATASET_KEYS,
                                                                     LANGUAGE_KEYS)) -> str | None:
    """A header's problem when two of its fields are one name that tagwise reads (case and spaces
    aside: ``text`` and ``Text``), else None: only one of them would be read, and which one differed
    between the studio and ``tagwise import``. ``groups``: the names to check.

    >>> twins(["id", "text", "Text "])
    "the columns 'text' and 'Text ' are one column to tagwise (case and spaces aside), so one of them would not be read"
    >>> twins(["text", "Summary"]) is None
    True
    """
    read = {name for names in groups for name in names}
    seen: dict[str, str] = {}
    for field in fields:
        key = name_of(field) if field is not None else ""
        if key in read and key in seen:
            return (f"the columns {seen[key]!r} and {field!r} are one column to tagwise (case and spaces aside), "
                    "so one of them would not be read")
        seen.setdefault(key, field)
    return None


def pick(row: dict[Any, Any], names: Sequence[str]) -> Any:
    """The value of the first of ``names`` that a row (a CSV record or a JSON object) has, its key
    in any case and with spaces around it, and that is not null or "": the one reading of the
    studio's upload and ``tagwise import``.

    >>> pick({"ID": "q1", " Label ": "", "category": "card", None: ["extra"]}, LABEL_KEYS)
    'card'
    """
    spelled = {name_of(key): value for key, value in row.items() if key is not None}
    return next((spelled[name] for name in names if spelled.get(name) not in (None, "")), None)


def pick_language(row: dict[Any, Any]) -> Any:
    """A document's language: its ``language`` (or ``lang``) field, or else a JSON line's
    ``meta.lang``, where the shared datasets (and Hugging Face exports) keep it: an upload of
    sib200 "as is" stored every German, Spanish and French sentence in the project's language.

    >>> pick_language({"text": "Hallo", "meta": {"lang": "de"}}), pick_language({"lang": "fr", "meta": {"lang": "de"}})
    ('de', 'fr')
    >>> pick_language({"text": "def f(): pass", "meta": {"language": "python"}}) is None
    True
    """
    found = pick(row, LANGUAGE_KEYS)
    return meta_language(row) if found is None else found


def meta_language(row: dict[Any, Any]) -> str | None:
    """A JSON line's ``meta.lang`` (or ``meta.language``), when it is a language code: a "meta" is
    anybody's, and its "language": "python" refused a whole file.

    >>> meta_language({"meta": {"lang": "DE"}}), meta_language({"meta": {"language": "python"}}), meta_language({"lang": "de"})
    ('de', None, None)
    """
    meta = row.get("meta")
    given = pick(meta, LANGUAGE_KEYS) if isinstance(meta, dict) else None
    return language_code(given) if isinstance(given, str) else None


def empty_row(row: dict[Any, Any]) -> bool:
    """Whether every field of a CSV record is empty: the ``;;`` rows a spreadsheet writes for rows
    that were formatted and then emptied, also wider than the header (its extra fields are a list
    under the key None). They carry nothing and are skipped, as blank lines are (the first one
    refused a whole import, naming a document that was never in the file).

    >>> empty_row({"text": "", "labels": " ", "id": None}), empty_row({"text": "", None: ["", " "]}), empty_row({"text": "", "id": "t4"})
    (True, True, False)
    """
    return all(_blank(value) for value in row.values())


def _blank(value: Any) -> bool:
    if isinstance(value, list):
        return all(_blank(item) for item in value)
    return value is None or (isinstance(value, str) and not value.strip())


def separator_line(line: str) -> str | None:
    """The field separator that a file's first line names, as Excel reads it and hides it
    (``sep=;``), else None: it was read as a header with the columns 'sep=' and ''.

    >>> separator_line("sep=;\\r\\n"), separator_line('"sep=,"'), separator_line("text;labels")
    (';', ',', None)
    """
    found = re.fullmatch(r'"?sep=(.)"?', line.lstrip("\ufeff").rstrip("\r\n"))
    return found.group(1) if found else None


def dialect(first_line: str, given: str | None = None) -> tuple[str, bool]:
    """(the field separator, whether the first line is Excel's ``sep=`` line rather than the header):
    what a ``sep=`` line names, else ``given`` (a ``.tsv``'s tab), else what the header splits on
    (:func:`delimiter`). The studio's upload, ``tagwise import`` and ``tagwise classify`` read a
    file's first line through this.

    >>> dialect("sep=;"), dialect("id;text;label"), dialect("id\\ttext", "\\t")
    ((';', True), (';', False), ('\\t', False))
    """
    if named := separator_line(first_line):
        return named, True
    return given or delimiter(first_line), False


def delimiter(header: str) -> str:
    """``,``, unless the header is one field with commas but splits into several on ``;`` (or a tab)."""
    if len(_fields(header, ",")) > 1:
        return ","
    return next((sep for sep in OTHER_SEPARATORS if len(_fields(header, sep)) > 1), ",")


def _fields(header: str, separator: str) -> list[str]:
    return next(csv.reader([header.rstrip("\r\n")], delimiter=separator), [])


def field_count(row: dict[Any, Any], fieldnames: Sequence[str]) -> int | None:
    """How many fields a ``csv.DictReader`` row has, when that is not as many as its header names
    (more: the reader keeps the rest under the key None; fewer: it fills the missing ones with
    None), else None. Extra fields that are all empty (a trailing separator) fit: nothing shifts.
    A text ``Qué miedo; qué tristeza`` left unquoted, or labels ``fear;sadness`` in a ``;`` file,
    made the fields after it land one column to the right: the label ``sadness`` became the language."""
    extra = row.get(None) or []
    if any(value.strip() for value in extra):
        return len(fieldnames) + len(extra)
    missing = sum(1 for name in fieldnames if row.get(name) is None)
    return len(fieldnames) - missing if missing else None


def misfit(count: int, fieldnames: Sequence[str], delimiter: str) -> str:
    """Why a row of ``count`` fields is refused, and the usual fix (quoting): for an error message."""
    tab = delimiter == "\t"
    sep = "a tab" if tab else repr(delimiter)
    columns = f"{len(fieldnames)} ({', '.join(fieldnames)})"
    if count > len(fieldnames):
        return (f"{count} fields, but the header has {columns}, so its values would land in the wrong columns; "
                f"put a field that holds {sep} in double quotes" + ("" if tab else f" (\"like{delimiter} this\")"))
    return (f"{count} field{'s' if count != 1 else ''}, but the header has {columns}: give every column a field, "
            "empty ones too" + ("" if tab else f" (a{delimiter}{delimiter}c)") + ", and close every double quote")


def start_line(reader: csv.DictReader, row: dict[Any, Any]) -> int:
    """The line ``row``, just read by ``reader``, starts on: its last line less the line breaks
    inside its quoted fields. (The line after the previous record is wrong after blank lines,
    which the reader skips.)"""
    values = [v for v in row.values() if isinstance(v, str)] + [v for v in row.get(None) or [] if isinstance(v, str)]
    return reader.line_num - sum(v.count("\n") for v in values)


def formula_safe(value: str) -> str:
    """A cell a spreadsheet would run as a formula (``=HYPERLINK(...)`` as a ticket's text, an id or
    a class name) with a leading ``'``, which spreadsheets show as text (OWASP's CSV injection
    advice); numbers such as ``-1.5`` stay as they are. Every CSV tagwise writes for a spreadsheet
    passes its cells through this.

    >>> [formula_safe(v) for v in ("=1+1", "@SUM(A1)", "-1.5", "'=x", "plain", "\\r=1+1")]
    ["'=1+1", "'@SUM(A1)", '-1.5', "''=x", 'plain', "'\\r=1+1"]
    """
    return "'" + value if _FORMULA.match(value) and not _NUMBER.fullmatch(value) else value


def unformula(value: Any) -> Any:
    """The inverse of :func:`formula_safe`, for a CSV read back: one leading ``'`` off a cell that
    would run as a formula without it (``'=x`` -> ``=x``, ``''=x`` -> ``'=x``). A file the studio
    gave came back with a ``'`` more on each such text, id and class at every upload; Excel writes
    a cell typed ``'=x`` as ``=x``, so a spreadsheet's own file is read as before.

    >>> [unformula(v) for v in ("'=1+1", "''=x", "'-1.5", "'plain", "=x", None)]
    ['=1+1', "'=x", "'-1.5", "'plain", '=x', None]
    """
    if isinstance(value, str) and value.startswith("'") and formula_safe(value[1:]) == value:
        return value[1:]
    return value


_FORMULA = re.compile(r"'*[=+\-@\t\r\n|%]")  # OWASP's list and a line feed; leading quotes too: '=x and =x stay two different values
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")

# languages whose spreadsheets separate a CSV's fields with ";" (their decimal mark is the comma)
_SEMICOLON_LANGUAGES = frozenset({"de", "fr", "es", "it", "pt", "nl", "da", "sv", "nb", "no", "nn", "fi", "pl", "cs", "sk",
                                  "hu", "ro", "ru", "uk", "tr", "el", "bg", "hr", "sl", "sr", "lt", "lv", "et", "ca", "is"})


def spreadsheet_separator(accept_language: str | None) -> str:
    """The field separator a spreadsheet in the reader's language opens a CSV with: ``;`` where
    the comma is the decimal mark (German, French, Spanish, ...), else ``,``; from a browser's
    ``Accept-Language`` (its first language).

    >>> spreadsheet_separator("fr-FR,fr;q=0.9,en;q=0.8"), spreadsheet_separator("en-US,en"), spreadsheet_separator("es-MX"), spreadsheet_separator(None)
    (';', ',', ',', ',')
    """
    first = (accept_language or "").split(",")[0].split(";")[0].strip().lower().replace("_", "-")
    language, _, region = first.partition("-")
    if language == "es" and region[:2] in _DECIMAL_POINT_SPANISH:  # Mexico and its neighbours write 12.50
        return ","
    return ";" if language in _SEMICOLON_LANGUAGES else ","


_DECIMAL_POINT_SPANISH = frozenset({"mx", "us", "pr", "do", "gt", "hn", "ni", "pa", "sv", "cu"})

