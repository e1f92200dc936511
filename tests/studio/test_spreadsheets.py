"""The studio's CSV downloads (tagwise.studio.spreadsheets)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from starlette.requests import Request

from tagwise.errors import StoreUnavailable
from tagwise.studio.spreadsheets import download


def _request(language: str = "en-US") -> Request:
    return Request({"type": "http", "method": "GET", "path": "/", "headers": [(b"accept-language", language.encode())]})


def _rows_of_a_store_that_went_away():
    raise StoreUnavailable("The store could not be reached.")
    yield ["never"]


def test_a_download_whose_query_fails_is_an_error_not_a_file_of_the_header_alone():
    # the rows are read lazily: a 200 of the header alone read as "no documents" in the spreadsheet
    with pytest.raises(StoreUnavailable):
        download(_request(), "documents.csv", ["text", "labels"], _rows_of_a_store_that_went_away())


def test_a_download_streams_every_row_after_the_first_it_read_ahead():
    response = download(_request("fr-FR"), "documents.csv", ["text", "labels"], iter([["=1+1", "a"], ["b", "c"]]))

    async def read() -> bytes:
        return b"".join([chunk async for chunk in response.body_iterator])

    read_in = []  # on a thread of its own: a Playwright test before it leaves this thread's event loop running
    reader = threading.Thread(target=lambda: read_in.append(asyncio.run(read())))
    reader.start()
    reader.join(30)
    body = read_in[0].decode("utf-8")
    assert body == "\ufefftext;labels\r\n'=1+1;a\r\nb;c\r\n"  # French Excel's separator, the formula made text
