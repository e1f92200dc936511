"""What to tell a person whose file tagwise cannot read as text: a spreadsheet or document saved in
its own format, or text in Windows' encoding (Excel's plain "CSV" on Windows writes Windows-1252,
where ``€`` is byte 0x80). The studio's upload, ``tagwise import`` and ``tagwise classify`` say it
alike."""

from __future__ import annotations

SAVE_AS_UTF8 = 'Excel: File > Save As > "CSV UTF-8"; a text editor: encoding UTF-8'

# files people reach for that are no text: named, with how to turn each into a CSV
_BINARY = {
    ".xlsx": "an Excel workbook", ".xlsm": "an Excel workbook", ".xls": "an Excel workbook",
    ".ods": "an OpenDocument spreadsheet", ".numbers": "a Numbers spreadsheet",
    ".docx": "a Word document", ".doc": "a Word document", ".odt": "an OpenDocument text", ".pdf": "a PDF",
}
_SPREADSHEETS = {".xlsx", ".xlsm", ".xls", ".ods", ".numbers"}


def not_text(name: str, suffix: str) -> str | None:
    """The message for a file whose suffix names a spreadsheet or document format, else None.

    >>> not_text("tickets.xlsx", ".xlsx")
    'tickets.xlsx is an Excel workbook, which tagwise does not read: save it as CSV (Excel: File > Save As > "CSV UTF-8") and use the .csv file'
    """
    kind = _BINARY.get(suffix.lower())
    if kind is None:
        return None
    if suffix.lower() in _SPREADSHEETS:
        return f"{name} is {kind}, which tagwise does not read: save it as CSV ({SAVE_AS_UTF8.split(';')[0]}) and use the .csv file"
    return f"{name} is {kind}, which tagwise does not read: copy its text into a .txt file saved as UTF-8 and use that"


def looks_windows_1252(data: bytes) -> bool:
    """Whether bytes that are not UTF-8 read as Windows-1252 (Western European) text: not one valid
    UTF-8 sequence beyond ASCII (a UTF-8 file with one stray byte has many), and every byte one that
    Windows-1252 defines.

    >>> looks_windows_1252("Réclamation;Facture de 12 €".encode("cp1252")), looks_windows_1252("Réclamation \\x80".encode())
    (True, False)
    """
    if any(ord(c) > 127 and c != "\ufffd" for c in data.decode("utf-8", errors="replace")):
        return False
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


WINDOWS_1252 = ("it looks like Windows-1252 text, which Excel's plain \"CSV\" format writes on Windows (there, a byte that "
                "UTF-8 does not allow is a letter such as é or €); save it as \"CSV UTF-8\" instead (Excel: File > Save As), "
                "which keeps every accent")
