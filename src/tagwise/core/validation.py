"""Checks on names and values shared by every service (Azure's naming rules, section 7)."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable

from tagwise.errors import InvalidArgument, InvalidRequest

_NAME = re.compile(r"^[A-Za-z0-9_.\-]{1,50}$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # C0 and DEL: what class names and locations may not hold
# a UTF-16 surrogate on its own (JSON lets "\ud800" through): not a character, and no store or
# tokenizer can encode it; a whole emoji is one code point in a Python string, never two
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
SINGLE = "CustomSingleLabelClassification"
MULTI = "CustomMultiLabelClassification"
PROJECT_KINDS = (SINGLE, MULTI)
RESERVED_PROJECT = "global"  # …/projects/global/… are Azure's account-wide routes
RESERVED_DEPLOYMENT = "swap"  # …/deployments/swap/jobs/{id} is the swap job's status, not a deployment's job
SHOWN_CHARS = 100  # how much of a value an error message quotes
MAX_SEARCH_CHARACTERS = 1_000  # a search of the document list; the studio's field takes 200
# commas a labels cell may join classes with, which are no label separator: ASCII, ideographic (、), full-width (，),
# Arabic (،) and small (﹐); "請求、配送" had become one class, as "anger,confusion" had before the ASCII one was checked
COMMAS = ",\u3001\uff0c\u060c\ufe50"


def lone_surrogate(value: str) -> str | None:
    """Why ``value`` is not valid Unicode text (a lone surrogate, and where), or None."""
    found = _LONE_SURROGATE.search(value)
    if found is None:
        return None
    return f"it has a lone UTF-16 surrogate (\\u{ord(found.group()):04x}) at character {found.start()}, which is not a character"


def first_lone_surrogate(value: object, path: str = "") -> str | None:
    """Where the first string in ``value`` (nested dicts and lists, keys included) is not valid
    Unicode, and why; None when every string is."""
    where = path or "the body"
    if isinstance(value, str):
        reason = lone_surrogate(value)
        return f"{where}: {reason}" if reason else None
    if isinstance(value, dict):
        for key, item in value.items():
            reason = lone_surrogate(key) if isinstance(key, str) else None
            found = f"{where}: a key {reason}" if reason else first_lone_surrogate(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if found := first_lone_surrogate(item, f"{path}[{index}]"):
                return found
    return None


def shown(value: object, limit: int = SHOWN_CHARS) -> str:
    """``value`` as an error message quotes it (its repr), cut to ``limit`` characters with an
    ellipsis: a message must not echo a 5,000-character value whole. A cut string keeps its closing
    quote, so the message reads where the value ends.

    >>> shown("en"), shown("x" * 500, 8), shown(list(range(100)), 8)
    ("'en'", "'xxxxx…'", '[0, 1, …')
    """
    if value is None or isinstance(value, bool):  # as the JSON it came in: true, not True
        return json.dumps(value)
    text = repr(value)
    if len(text) <= limit:
        return text
    if isinstance(value, str):
        return text[:limit - 2] + "…" + text[-1]
    return text[:limit - 1] + "…"


def listed(names: list[str], most: int, more: str = "more") -> str:
    """Names for a message, at most ``most`` of them, then how many were left out: a project may
    have hundreds of classes. ``more``: the words after the count ("more", "more classes")."""
    return ", ".join(names[:most]) + (f" and {len(names) - most:,} {more}" if len(names) > most else "")


def its_classes(classes: list[str]) -> str:
    """A project's classes for a message that names one it lacks (at most 20 of them).

    >>> its_classes(["card", "refund"]), its_classes([])
    ('its classes: card, refund.', 'it has no classes yet.')
    """
    return f"its classes: {listed(classes, 20)}." if classes else "it has no classes yet."


# the body field each kind of name comes in, for the message when it is missing
_NAME_FIELDS = {"project": "projectName", "model": "modelLabel", "deployment": "deploymentName"}
# names a route of the API's own already takes: what a request with that name would reach instead
_RESERVED_NAMES = {("project", RESERVED_PROJECT): "…/projects/global/…",
                   ("deployment", RESERVED_DEPLOYMENT): "…/deployments/swap/jobs/{jobId}, the swap job's status"}


# BCP 47's common shape: an ISO 639 language of 2 or 3 letters, then an optional ISO 15924 script
# (4 letters) and an optional region (ISO 3166, 2 letters, or UN M.49, 3 digits). Any 2-8-letter
# word was a code before, so a shifted CSV field ("sadness") was stored as a document's language
# ... and BCP 47's rarer parts, which were taken before: extended languages (zh-yue), variants
# (de-CH-1996, ca-ES-valencia) and a private use part (en-US-x-twain); at most 16 characters (stored so)
_LANGUAGE = re.compile(r"(?P<language>[A-Za-z]{2,3})(?P<extlang>(?:-[A-Za-z]{3}){0,3})(?:-(?P<script>[A-Za-z]{4}))?"
                       r"(?:-(?P<region>[A-Za-z]{2}|[0-9]{3}))?(?P<rest>(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
                       r"(?:-x(?:-[A-Za-z0-9]{1,8})+)?)")
LANGUAGE_MAX_CHARS = 16
LANGUAGE_EXAMPLES = "'en', 'de', 'pt-BR', 'zh-Hans' or 'es-419'"
LANGUAGE_RULE = (f"a language code is 2 or 3 letters (ISO 639), then optionally a script of 4 letters and a region of "
                 f"2 letters or 3 digits (and BCP 47's rarer parts, such as 'de-CH-1996'), joined by '-', at most "
                 f"{LANGUAGE_MAX_CHARS} characters, such as {LANGUAGE_EXAMPLES}")


# codes people write for a language that are not its ISO 639 code, read as that code: ISO 639's withdrawn codes,
# which BCP 47 replaces (a "he" model warned every text declared "iw"), and countries' codes taken for their
# language (a project "in jp" matched no Japanese "ja" text: every document declared ja was warned)
CANONICAL_LANGUAGES = {"iw": "he", "in": "id", "ji": "yi", "jw": "jv", "mo": "ro", "jp": "ja", "cn": "zh", "gr": "el",
                       "dk": "da", "cz": "cs", "ua": "uk", "vn": "vi", "ir": "fa"}


def language_code(value: object) -> str | None:
    """``value`` as a language code in its usual spelling, or None when it is not one: an ISO 639
    language of 2 or 3 letters, an optional script (4 letters) and an optional region (2 letters or
    3 digits), as BCP 47 writes them, a withdrawn code as its replacement and a country's code taken
    for its language as the language's (``iw`` is ``he``, ``jp`` is ``ja``). A '_' (locales spell
    ``en_US``) becomes '-'; the language is
    lowercased, the script title-cased and the region uppercased, so Azure's ``zh-hans`` and
    ``ZH-HANS`` are ``zh-Hans``. No list of languages is checked.

    >>> [language_code(v) for v in ("DE", "de_de", "zh-hans", "es-419", "sr-latn-rs", "english", "en-", "iw", "jp-JP")]
    ['de', 'de-DE', 'zh-Hans', 'es-419', 'sr-Latn-RS', None, None, 'he', 'ja-JP']
    >>> [language_code(v) for v in ("de-CH-1996", "ca-ES-Valencia", "zh-yue", "en-US-x-twain", "de-1996", "en-US-x-" + "t" * 20)]
    ['de-CH-1996', 'ca-ES-valencia', 'zh-yue', 'en-US-x-twain', 'de-1996', None]
    """
    found = _LANGUAGE.fullmatch(value.replace("_", "-")) if isinstance(value, str) and len(value) <= LANGUAGE_MAX_CHARS else None
    if found is None:
        return None
    language, extlang, script, region, rest = found.group("language", "extlang", "script", "region", "rest")
    language = CANONICAL_LANGUAGES.get(language.lower(), language)
    return (language.lower() + extlang.lower() + "".join(f"-{part}" for part in (script and script.title(), region and region.upper()) if part)
            + rest.lower())


def file_language(value: object, quote: Callable[[object], str] = shown) -> str | None:
    """A file row's own language (a CSV column, a JSONL field) as :func:`language_code` spells it;
    None when empty (the project's language). A word that is no code ("sadness", a label shifted
    into the language column) raises InvalidArgument, its value quoted by ``quote``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    code = language_code(value.strip()) if isinstance(value, str) else None
    if code is None:
        raise InvalidArgument(f"the language {quote(value)} is not a language code: {LANGUAGE_RULE} "
                              "(leave it empty for the project's language)")
    return code


def file_labels(value: object, quote: Callable[[object], str] = shown) -> list[str] | None:
    """A file row's labels (a JSONL field) as one list: a string, an Azure ``{"category": ...}``
    object, or a list of either. None when absent (an untagged row); an empty string is no class
    (as an empty CSV cell is). Anything else raises InvalidArgument, its value quoted by ``quote``."""
    if value is None:
        return None
    if isinstance(value, str):
        return [value] if value else []
    items = value if isinstance(value, list) else [value]
    labels = [item.get("category") if isinstance(item, dict) else item for item in items]
    if all(isinstance(label, str) for label in labels):
        return labels
    raise InvalidArgument('the labels must be a string, or a list of strings or of {"category": ...} objects, '
                          f"not {quote(value)}")


def check_name(value: object, what: str) -> str:
    """Project, model and deployment names: ASCII letters, digits, ``_ . -``, at most 50 characters (Azure's rule)."""
    rule = ("use 1 to 50 ASCII letters (A-Z, a-z, without accents), digits, '_', '.' or '-', with no spaces, "
            "such as 'support_tickets-2' or 'v1.2'.")
    if value is None:
        raise InvalidArgument(f"{_NAME_FIELDS.get(what, what)} is required: the {what} name; {rule}", target=what)
    if not isinstance(value, str) or not _NAME.fullmatch(value) or value in (".", ".."):  # not match: "$" also matches before a final newline
        raise InvalidArgument(f"The {what} name {shown(value)} is invalid: {rule}", target=what)
    if (what, value) in _RESERVED_NAMES:
        raise InvalidArgument(f"The {what} name {value!r} is taken by the API's own routes "
                              f"({_RESERVED_NAMES[what, value]}): choose another name.", target=what)
    return value


def class_form(value: str) -> str:
    """A class name as tagwise keeps it: Unicode NFC, so "Café" typed with a composed é and one with
    e + a combining accent (macOS file names, some keyboards) are one class, not two that look alike."""
    return unicodedata.normalize("NFC", value)


# control characters but tab, line feed and carriage return (C0, DEL and C1): what a description may not hold, and what
# the CLI prints as escapes (a terminal reads them as commands)
CONTROL_BUT_LINE_BREAKS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


# direction embeddings, overrides and isolates: drawn, they turn the text after them around ("invoice\u202etxt.exe"
# reads "invoiceexe.txt", and a message quoting "refund\u202e" read "Class refund.dedda")
DIRECTION_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# they, direction marks and invisible spaces (not U+200C/U+200D, which Persian and Indic names need)
INVISIBLE = DIRECTION_OVERRIDES | frozenset("\u200b\u200e\u200f\u2060\u061c\ufeff")


def check_class_name(value: object) -> str:
    """``value`` checked, in its kept form (``class_form``)."""
    if not isinstance(value, str):
        raise InvalidArgument(f"A class name must be a string, not {shown(value)}.", target="category")
    if blank(value):  # a zero-width space alone was a class, drawn as an empty button
        raise InvalidArgument(f"The class name {shown(value)} is blank: give it at least one character that is not a space or "
                              "invisible.", target="category")
    if ":" in value or len(value) > 50 or CONTROL.search(value) or _LONE_SURROGATE.search(value):
        raise InvalidArgument(
            f"The class name {shown(value)} is invalid: use 1 to 50 characters, no ':', no control characters and no lone surrogates.",
            target="category",
        )
    return class_form(value)


def check_location(value: object) -> str:
    """A document's location (file name in its container): no '/', no '..', no control characters."""
    if (
        not isinstance(value, str)
        or not value
        or len(value) > 1024
        or "/" in value
        or "\\" in value
        or value in (".", "..")
        or CONTROL.search(value)
        or _LONE_SURROGATE.search(value)
    ):
        raise InvalidRequest(
            f"The document location {shown(value)} is invalid: give a file name without '/', '\\', control characters or lone surrogates.",
            inner_code="InvalidDocument",
            target="location",
        )
    return value


# what a new location may not hold: direction overrides, and invisible spaces (not the direction marks U+200E/U+200F/
# U+061C, which file names around Hebrew and Arabic words carry)
_HIDDEN_IN_LOCATIONS = DIRECTION_OVERRIDES | frozenset("\u200b\u2060\ufeff")


def check_drawn_as_written(value: str, what: str) -> str:
    """A NEW class name (``what`` "class") or document location ("location") that a reader would see
    otherwise than it is written is refused: a direction override drew class "invoice\u202etxt.exe"
    as "invoiceexe.txt" and turned the flash message after it around, and locations differing only by
    a zero-width space were listed alike (deleting "ticket-42.txt" left two more). Names a project
    already has, and a replacing import's (Azure's project file, taken as it is), are not checked:
    their export must import again."""
    hidden = DIRECTION_OVERRIDES if what == "class" else _HIDDEN_IN_LOCATIONS
    if found := next((c for c in value if c in hidden), None):
        if what == "class":
            raise InvalidArgument(f"The class name {shown(value)} holds U+{ord(found):04X}, a direction override, which shows the "
                                  "name other than it is written: leave it out.", target="category")
        raise InvalidRequest(f"The document location {shown(value)} holds U+{ord(found):04X} (invisible, or a direction override): a "
                             "location must read as it is; leave it out.", inner_code="InvalidDocument", target="location")
    return value


_KINDS_BY_CASE = {kind.lower(): kind for kind in PROJECT_KINDS}


def project_kind(value: object) -> str | None:
    """A project kind in Azure's spelling, whatever its case, or None when it is none of tagwise's:
    Microsoft Learn's REST pages and the SDK samples write ``customSingleLabelClassification``.

    >>> project_kind("customSingleLabelClassification"), project_kind("CUSTOMMULTILABELCLASSIFICATION"), project_kind("CustomEntityRecognition")
    ('CustomSingleLabelClassification', 'CustomMultiLabelClassification', None)
    """
    return _KINDS_BY_CASE.get(value.lower()) if isinstance(value, str) else None


def check_kind(value: object, field: str = "projectKind") -> str:
    """:func:`project_kind`, or an InvalidArgument naming ``field``."""
    if (kind := project_kind(value)) is None:
        raise InvalidArgument(f"The project kind {shown(value)} is not supported: use {SINGLE} or {MULTI}.", target=field)
    return kind


_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")  # Hangul fillers and the blank braille pattern: letters that draw nothing


def blank(text: str) -> bool:
    """Whether a text has nothing to read: only spaces, line breaks and invisible characters (zero-width
    spaces and joiners, byte-order marks, soft hyphens: Unicode's format and control characters;
    combining marks with nothing to sit on; Hangul fillers, the blank braille pattern), which
    ``str.strip`` keeps. A text of zero-width spaces was classified, with a confident class."""
    return not any(not (c.isspace() or c in _BLANK_LETTERS or unicodedata.category(c) in ("Cf", "Cc", "Mn")) for c in text)


def check_text(value: object, location: str, max_chars: int) -> str:
    if value is not None and not isinstance(value, str):
        raise InvalidRequest(f"The document {shown(location)}: 'text' must be a string, not {shown(value)}.", inner_code="InvalidDocument",
                             target=location)
    if not isinstance(value, str) or blank(value):
        raise InvalidRequest(f"The document {shown(location)} has no text" + (" (only spaces or invisible characters)" if value else "") + ".",
                             inner_code="InvalidDocument", target=location)
    if reason := lone_surrogate(value):
        raise InvalidRequest(f"The document {shown(location)}: its text is not valid Unicode: {reason}.", inner_code="InvalidDocument", target=location)
    if (at := value.find("\x00")) >= 0:  # PostgreSQL cannot store it (a 500), and SQLite's search stopped at it
        raise InvalidRequest(f"The document {shown(location)}: its text has a NUL character (U+0000) at character {at:,}, which "
                             "no text holds (a binary file read as text, most often): remove it.", inner_code="InvalidDocument",
                             target=location)
    if len(value) > max_chars:
        raise InvalidRequest(
            f"The document {shown(location)} has {len(value):,} characters; the limit is {max_chars:,}.",
            inner_code="InvalidDocument",
            target=location,
        )
    return value
