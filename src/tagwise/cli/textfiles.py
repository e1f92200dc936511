"""What the input readers of ``import`` and ``classify`` share, so a bad file is ONE ``error: FILE:LINE: ...``.

A file that is not UTF-8 (the line and byte of the first bad byte; UTF-16 named as such), a CSV
whose quote is never closed or whose row has more or fewer fields than its header (the line the
record starts on), a JSON line that does not parse (its column). Each is a
:class:`UsageError`: exit code 2, and nothing imported.
"""

from __future__ import annotations

import csv
import itertools
import json
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tagwise.cli.common import UsageError
from tagwise.core import csv_header
from tagwise.core.textencoding import OTHER_CODE_PAGE, SAVE_AS_UTF8, WINDOWS_1252, diagnose

CSV_UNCLOSED = "unexpected end of data"  # what csv says, in strict mode, when a file ends inside quotes


def not_utf8(path: Path | str, exc: UnicodeDecodeError) -> UsageError:
    """The error for a file that is not UTF-8, with the place of its first bad byte (found by rereading it:
    the decoder's own position counts from the start of whatever chunk it was given)."""
    if str(path) == "-":
        line = next((note.removeprefix("line ") for note in getattr(exc, "__notes__", []) if note.startswith("line ")), None)
        where = f"stdin:{line}" if line else "stdin"
        column = f" at column {exc.start + 1}" if line else ""
        return UsageError(f"{where}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x}{column}); send UTF-8")
    converted = Path(path).with_name(f"{Path(path).stem}-utf8{Path(path).suffix}")  # where the iconv lines write
    with open(path, "rb") as fh:
        found = diagnose(str(path), fh)
    if found.packed:  # a gzip file named .csv was "Windows-1252 text"
        return UsageError(found.packed)
    if found.utf16:
        return UsageError(f"{path}:1: UTF-16 text (it starts with a UTF-16 byte-order mark), not UTF-8; save it as UTF-8 "
                          f"({SAVE_AS_UTF8}) or convert it: "
                          f"iconv -f UTF-16 -t UTF-8 {shlex.quote(str(path))} > {shlex.quote(str(converted))}")
    if found.windows_1252:  # Excel's plain "CSV" on Windows: the whole file (its accents may come after the first megabytes)
        return UsageError(f"{path}: not UTF-8 text: {WINDOWS_1252}; or convert it: iconv -f WINDOWS-1252 -t UTF-8 "
                          f"{shlex.quote(str(path))} > {shlex.quote(str(converted))}")
    if found.other_code_page:  # its iconv line would need the page, which the bytes do not tell: 1252's garbled every letter
        return UsageError(f"{path}: not UTF-8 text: {OTHER_CODE_PAGE}; or convert it from its page, e.g. Hebrew: iconv -f "
                          f"WINDOWS-1255 -t UTF-8 {shlex.quote(str(path))} > {shlex.quote(str(converted))}")
    if found.line:
        return UsageError(f"{path}:{found.line}: not UTF-8 text (byte 0x{found.byte:02x} at column {found.column}); "
                          f"save it as UTF-8 ({SAVE_AS_UTF8})")
    return UsageError(f"{path}: not UTF-8 text ({exc.reason}); save it as UTF-8")


def json_text(row: Any, field: str, where: str, *, missing: str, listed: str) -> str:
    """The string under ``field`` of a JSON line, or a UsageError at ``where``: a value that is no
    string is named ("'text' is null"); a line without the field gets ``missing`` and, formatted
    with its first ``{fields}``, ``listed`` (the fields it has tell which one holds the text)."""
    if isinstance(row, dict) and isinstance(row.get(field), str):
        return row[field]
    if isinstance(row, dict) and field in row:
        raise UsageError(f"{where}: {field!r} is {json.dumps(row[field])[:40]}, not a string")
    fields = ", ".join(repr(k) for k in list(row)[:6]) if isinstance(row, dict) else ""
    raise UsageError(f"{where}: {missing}" + (f" ({listed.format(fields=fields)})" if fields else ""))


def csv_reader(stream: Iterator[str], where: str, delimiter: str | None = None) -> csv.DictReader:
    """A strict DictReader (a quote never closed is an error, not the rest of the file read as one field)
    whose header has been read; ``where`` names the input in errors. Tab-separated files are read
    with the same quoting as CSV, as pandas and spreadsheets write them: a field that starts with a
    quote is quoted (raw TSV with such a field is refused, naming the line, never read wrong).
    Without ``delimiter``, the header line decides: ``,``, or the ``;`` a spreadsheet in a
    German, French or Spanish locale writes (:func:`tagwise.core.csv_header.delimiter`); a first
    line ``sep=;`` (which Excel reads) names it, whatever ``delimiter`` says."""
    csv.field_size_limit(sys.maxsize)
    header = next(iter(stream), "")
    delimiter, named = csv_header.dialect(header, delimiter)  # Excel's "sep=;" line: the separator, then the header
    reader = csv.DictReader(itertools.chain([header], stream), delimiter=delimiter, strict=True)
    if named:
        next(reader.reader)  # read past it here, so that every line keeps its number in messages
    try:
        reader.fieldnames  # noqa: B018 - reads the header now, so its errors come from here
    except csv.Error as exc:
        raise _csv_error(where, 1, exc) from None
    return reader


def csv_rows(reader: csv.DictReader, where: str, tip: str = "") -> Iterator[tuple[int, int, dict[str, str | None]]]:
    """The reader's rows, each with its record number (the header is 1, as a spreadsheet numbers
    rows) and the line it starts on (a quoted text can span lines, so that is not the record's
    number); a malformed record, or one with more or fewer fields than the header
    (:func:`tagwise.core.csv_header.field_count`: its values would be read into the wrong columns),
    is an error naming that line. ``tip``: what else to say about extra fields. A record whose
    every field is empty is skipped (:func:`tagwise.core.csv_header.empty_row`), and still counted;
    a cell's formula-safe ``'`` is taken off (:func:`tagwise.core.csv_header.unformula`)."""
    fieldnames = reader.fieldnames or []
    number = 1
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _csv_error(where, start, exc) from None
        start = csv_header.start_line(reader, row)  # blank lines before it are skipped, a quoted text may span lines
        number += 1
        if csv_header.empty_row(row):
            continue
        if (count := csv_header.field_count(row, fieldnames)) is not None:
            problem = csv_header.misfit(count, fieldnames, reader.reader.dialect.delimiter)
            raise UsageError(f"{where}:{start}: {problem}{tip if count > len(fieldnames) else ''}")
        # a cell made formula-safe by a tagwise download ("'=x") comes back as it was
        yield number, start, {key: csv_header.unformula(value) for key, value in row.items()}


def _csv_error(where: str, line: int, exc: csv.Error) -> UsageError:
    problem = "a quoted field is never closed" if CSV_UNCLOSED in str(exc) else f"not valid CSV ({exc})"
    return UsageError(f"{where}:{line}: {problem}")
