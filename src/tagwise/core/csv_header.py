"""The field separator of a CSV file, read from its header line.

A spreadsheet saved as CSV in a German, French or Spanish locale separates fields with ``;``
(the comma is that locale's decimal mark); some tools write tabs. The studio's upload,
``tagwise import`` and ``tagwise classify`` read all three the same way.
"""

from __future__ import annotations

import csv

OTHER_SEPARATORS = (";", "\t")


def delimiter(header: str) -> str:
    """``,``, unless the header is one field with commas but splits into several on ``;`` (or a tab)."""
    if len(_fields(header, ",")) > 1:
        return ","
    return next((sep for sep in OTHER_SEPARATORS if len(_fields(header, sep)) > 1), ",")


def _fields(header: str, separator: str) -> list[str]:
    return next(csv.reader([header.rstrip("\r\n")], delimiter=separator), [])
