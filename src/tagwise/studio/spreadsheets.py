"""CSV files the studio hands back, written for the spreadsheet that opens them: UTF-8 with a
byte-order mark (without one, Excel reads UTF-8 as its local code page: "RÃ©clamation"), fields
separated as the reader's language does (``;`` where the comma is the decimal mark: a ``,`` file
opened in a French Excel is one column), every cell formula-safe
(:func:`tagwise.core.csv_header.formula_safe`). The studio's upload and ``tagwise import`` read
them back."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from itertools import chain, islice
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import StreamingResponse

from tagwise.core.csv_header import formula_safe, spreadsheet_separator

ROWS_PER_CHUNK = 500


def csv_lines(header: list[str], rows: Iterable[list[str]], separator: str) -> Iterator[str]:
    """The file's text in chunks: the byte-order mark and the header, then ``ROWS_PER_CHUNK`` rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow(header)
    yield "\ufeff" + buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    for number, row in enumerate(rows, start=1):
        writer.writerow([formula_safe(cell) for cell in row])
        if number % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def separator_for(request: Request) -> str:
    """The field separator of a CSV for the browser that asked (its first language's spreadsheet)."""
    return spreadsheet_separator(request.headers.get("accept-language"))


def download(request: Request, filename: str, header: list[str], rows: Iterable[list[str]]) -> StreamingResponse:
    """A CSV attachment named ``filename``, streamed, separated for the browser's language. Its first
    row is read before the answer starts, so that a query that fails (the store away) is an error
    page, not a 200 of the header alone that reads as "no documents"."""
    rows = iter(rows)
    first = list(islice(rows, 1))
    # "replace": a text that is not valid Unicode (a lone surrogate) cannot end the download halfway
    body = (chunk.encode("utf-8", errors="replace") for chunk in csv_lines(header, chain(first, rows), separator_for(request)))
    return StreamingResponse(body, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": attachment(filename)})


def attachment(filename: str) -> str:
    """A Content-Disposition for ``filename``: ASCII in ``filename`` (quotes and control characters,
    which made the server send no answer at all, as ``_``), the name itself in ``filename*``.

    >>> attachment('a"b\\x01é.csv')
    'attachment; filename="a_b__.csv"; filename*=UTF-8\\'\\'a%22b%01%C3%A9.csv'
    """
    shown = "".join(c if " " <= c < "\x7f" and c not in '"\\' else "_" for c in filename)
    return f"attachment; filename=\"{shown}\"; filename*=UTF-8''{quote(filename, safe='')}"
