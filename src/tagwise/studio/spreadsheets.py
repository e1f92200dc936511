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


def download(request: Request, filename: str, header: list[str], rows: Iterable[list[str]]) -> StreamingResponse:
    """A CSV attachment named ``filename``, streamed, separated for the browser's language."""
    separator = spreadsheet_separator(request.headers.get("accept-language"))
    body = (chunk.encode("utf-8") for chunk in csv_lines(header, rows, separator))
    ascii_name = filename.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return StreamingResponse(body, media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"})
