"""What to tell a person whose file tagwise cannot read as text: a spreadsheet or document saved in
its own format, or text in Windows' encoding (Excel's plain "CSV" on Windows writes Windows-1252,
where ``€`` is byte 0x80). The studio's upload, ``tagwise import`` and ``tagwise classify`` say it
alike."""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import BinaryIO

_EXCEL = 'Excel: File > Save As > "CSV UTF-8"'
SAVE_AS_UTF8 = f"{_EXCEL}; a text editor: encoding UTF-8"

# files people reach for that are no text: named, with how to turn each into a CSV
_SPREADSHEETS = {
    ".xlsx": ("an Excel workbook", _EXCEL), ".xlsm": ("an Excel workbook", _EXCEL), ".xls": ("an Excel workbook", _EXCEL),
    ".ods": ("an OpenDocument spreadsheet", 'LibreOffice: File > Save As > "Text CSV", character set UTF-8'),
    ".numbers": ("a Numbers spreadsheet", "Numbers: File > Export To > CSV, text encoding Unicode (UTF-8)"),
}
_DOCUMENTS = {".docx": "a Word document", ".doc": "a Word document", ".odt": "an OpenDocument text", ".pdf": "a PDF"}
# what to do with a document's text, for the command that read it
TEXT_FILE_HINTS = {
    "upload": "copy its text into a .txt file saved as UTF-8 and use that",
    "import": "copy its text into a .txt file saved as UTF-8, in a folder, and import the folder (a folder of .txt files is "
              "read as one document each)",
    "classify": "copy its text into a .txt file saved as UTF-8, one document per line, and classify that",
}


def not_text(name: str, suffix: str, reader: str = "upload") -> str | None:
    """The message for a file whose suffix names a spreadsheet or document format, else None;
    ``reader`` (``upload``, ``import``, ``classify``) picks the next step for a document's text.

    >>> not_text("tickets.xlsx", ".xlsx")
    'tickets.xlsx is an Excel workbook, which tagwise does not read: save it as CSV (Excel: File > Save As > "CSV UTF-8") and use the .csv file'
    """
    if found := _SPREADSHEETS.get(suffix.lower()):
        kind, how = found
        return f"{name} is {kind}, which tagwise does not read: save it as CSV ({how}) and use the .csv file"
    if kind := _DOCUMENTS.get(suffix.lower()):
        return f"{name} is {kind}, which tagwise does not read: {TEXT_FILE_HINTS[reader]}"
    return None


_MAGIC = ((b"\x1f\x8b", "gzip-compressed"), (b"PK\x03\x04", "a zip archive (or an Office document)"),
          (b"%PDF", "a PDF"), (b"\xd0\xcf\x11\xe0", "an old Office document (.xls, .doc)"))


def packed(name: str, start: bytes) -> str | None:
    """The message for a file whose first bytes say it is compressed or a document, whatever its
    name (a gzip file named .csv was "Windows-1252 text"), else None.

    >>> packed("tickets.csv", b"\\x1f\\x8b\\x08\\x00")
    'tickets.csv is gzip-compressed, not text: unpack it (or save it as CSV) and use the text file'
    """
    kind = next((kind for magic, kind in _MAGIC if start.startswith(magic)), None)
    return None if kind is None else f"{name} is {kind}, not text: unpack it (or save it as CSV) and use the text file"


def looks_windows_1252(data: bytes) -> bool:
    """Whether bytes that are not UTF-8 read as Windows-1252 (Western European) text: not one valid
    UTF-8 sequence beyond ASCII (a UTF-8 file with one stray byte has many), and every byte one that
    Windows-1252 defines.

    >>> looks_windows_1252("Réclamation;Facture de 12 €".encode("cp1252")), looks_windows_1252("Réclamation \\x80".encode())
    (True, False)
    """
    return stream_looks_windows_1252([data])


def stream_looks_windows_1252(chunks: Iterable[bytes]) -> bool:
    """:func:`looks_windows_1252` over a whole file read in chunks (a big file's first megabytes can
    be plain ASCII while its accents come later): False at the first valid UTF-8 letter beyond
    ASCII, or the first byte Windows-1252 does not define.

    >>> stream_looks_windows_1252([b"r\\xc3", b"\\xa9clamation \\x80"])  # a UTF-8 é split between two chunks
    False
    """
    return stream_code_page(chunks) == "windows-1252"


_LETTERS = re.compile(r"[^\W\d_]+")


def stream_code_page(chunks: Iterable[bytes]) -> str | None:
    """Which Windows code page a file that is not UTF-8 seems written in: ``"windows-1252"``
    (Western European), ``"other"`` (one for another alphabet: Hebrew 1255, Arabic 1256, Cyrillic
    1251, Greek 1253, ...), or None (not such a file: a valid UTF-8 letter beyond ASCII, or a byte
    Windows-1252 does not define). Those pages put their letters where Windows-1252 has accented
    Latin ones, so their words read as 1252 are runs of accented letters without one ASCII letter
    ("áá÷ùä"), which Western text hardly has ("été", "où", "ça" each have one): calling a Hebrew
    file Windows-1252, with its iconv line, had imported every text and class garbled.

    >>> stream_code_page(["Réclamation où ça".encode("cp1252")]), stream_code_page(["שלום עולם חשבונית".encode("cp1255")])
    ('windows-1252', 'other')
    """
    utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")  # a letter split between two chunks is still one
    latin = foreign = 0  # words with a letter beyond ASCII: with an ASCII letter too, or (3 letters or more) without
    for chunk in chunks:
        if any(ord(c) > 127 and c != "\ufffd" for c in utf8.decode(chunk)):
            return None
        try:
            text = chunk.decode("cp1252")
        except UnicodeDecodeError:
            return None
        for word in _LETTERS.findall(text):
            if not word.isascii():
                if any(c.isascii() for c in word):
                    latin += 1
                elif len(word) >= 3:
                    foreign += 1
    return "other" if foreign >= 2 and foreign > latin else "windows-1252"


OTHER_CODE_PAGE = ("it looks like text in a Windows code page for another alphabet (Hebrew 1255, Arabic 1256, Cyrillic 1251, "
                   "Greek 1253, ...), which Excel's plain \"CSV\" format writes on Windows in those languages; save it as "
                   "\"CSV UTF-8\" instead (Excel: File > Save As), which keeps every letter")
WINDOWS_1252 = ("it looks like Windows-1252 text, which Excel's plain \"CSV\" format writes on Windows (there, a byte that "
                "UTF-8 does not allow is a letter such as é or €); save it as \"CSV UTF-8\" instead (Excel: File > Save As), "
                "which keeps every accent")


@dataclass(frozen=True)
class Undecodable:
    """What a file that is not UTF-8 is, found by :func:`diagnose`; each reader words it its own way.
    One of: ``packed`` (the message of :func:`packed`), ``utf16``, ``windows_1252``,
    ``other_code_page`` (:func:`stream_code_page`), or the ``line`` (from 1), ``column`` (from 1)
    and value of the first ``byte`` UTF-8 does not allow."""

    packed: str | None = None
    utf16: bool = False
    windows_1252: bool = False
    other_code_page: bool = False
    line: int = 0
    column: int = 0
    byte: int = 0


def diagnose(name: str, fh: BinaryIO) -> Undecodable:
    """Why a seekable binary file named ``name`` is not UTF-8, read from its start: compressed or a
    document whatever its name, UTF-16 with a byte-order mark (Excel's "Unicode Text", PowerShell's
    redirections), Windows-1252 over the whole file (a line number sent the user to a row with
    nothing wrong in it), else the place of its first bad byte.

    >>> import io
    >>> diagnose("t.csv", io.BytesIO(b"id;text\\nt1;r\\xc3\\xa9clamation \\x80\\n"))  # a UTF-8 é, then a stray byte
    Undecodable(packed=None, utf16=False, windows_1252=False, other_code_page=False, line=2, column=16, byte=128)
    """
    start = fh.read(8)
    if found := packed(name, start):
        return Undecodable(packed=found)
    if start[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return Undecodable(utf16=True)
    fh.seek(0)
    code_page = stream_code_page(iter(lambda: fh.read(1 << 20), b""))
    if code_page is not None:
        return Undecodable(windows_1252=code_page == "windows-1252", other_code_page=code_page == "other")
    fh.seek(0)
    for number, line in enumerate(fh, start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as bad:
            before = line[:bad.start].removeprefix(codecs.BOM_UTF8) if number == 1 else line[:bad.start]  # the mark is no column
            return Undecodable(line=number, column=len(before.decode("utf-8")) + 1, byte=line[bad.start])
    return Undecodable()


def json_problem(exc: json.JSONDecodeError) -> str:
    """What is wrong with a JSON line, and where: the decoder's short message (which ends in 'at'
    before a position) and the column. A string whose closing quote is missing runs into the
    line's end, which the decoder calls an "Invalid control character": it is said to be a string
    never closed.

    >>> for line in ('{"text": "a\\tb"}', '{"id": 1, "text": "no end\\n'):
    ...     try:
    ...         json.loads(line)
    ...     except json.JSONDecodeError as exc:
    ...         print(json_problem(exc))
    Invalid control character at column 12
    the string that starts at column 19 is never closed: its closing quote is missing
    """
    if exc.msg == "Invalid control character at" and exc.doc[exc.pos:exc.pos + 1] in ("\n", "\r"):
        try:
            json.loads(exc.doc[:exc.pos])
        except json.JSONDecodeError as cut:
            if cut.msg.startswith("Unterminated string"):
                return f"the string that starts at column {cut.colno} is never closed: its closing quote is missing"
    return f"{exc.msg.removesuffix(' at')} at column {exc.colno}"
