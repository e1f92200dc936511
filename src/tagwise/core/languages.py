"""Per-document warnings at classify time for text in a language the model was not trained for.

A model answers any text, but one trained on English texts with the English sentence encoder
answers German, Arabic or Japanese text with a class all the same, and nothing told the caller
(a probe: German and Japanese tickets answered ``neutral``, ``warnings: []``). Two cheap checks:

- a document that declares its ``language``, when that is not the model's language (a model of a
  multilingual project reads every language; its encoder knows 16);
- a document without one, when most of its letters are of a script the model's language is not
  written in (Arabic letters sent to an English model). Words are not checked: German in Latin
  letters, or English tickets full of log lines, would be guesses.
"""

from __future__ import annotations

import unicodedata
from typing import Any

# the languages Universal Sentence Encoder multilingual v3 was trained on (zh: simplified and traditional)
ENCODER_LANGUAGES = frozenset(["ar", "de", "en", "es", "fr", "it", "ja", "ko", "nl", "pl", "pt", "ru", "th", "tr", "zh"])
# languages written in another script than Latin (a model for one of them gets no script check)
NOT_LATIN = frozenset([
    "am", "ar", "be", "bg", "bn", "el", "fa", "gu", "he", "hi", "hy", "ja", "ka", "kk", "km", "kn", "ko", "ky",
    "lo", "mk", "ml", "mn", "mr", "my", "ne", "or", "pa", "ru", "si", "ta", "te", "th", "uk", "ur", "yi", "zh",
])
MIN_LETTERS = 10  # fewer letters than this say too little about a script
CODE = "LanguageNotTrained"


def primary(language: str) -> str:
    return language.replace("_", "-").split("-")[0].lower()


def model_language(model: Any) -> tuple[str | None, str | None]:
    """(the language a model was built for: a code, ``mul`` for a multilingual project, None when it
    does not say; the backend of its sentence encoder, None without one)."""
    inner = getattr(model, "model_", model)  # auto: the recipe it chose
    encoder = (getattr(inner, "info_", None) or {}).get("encoder") or {}
    return getattr(model, "language", None), encoder.get("backend")


def warning(language: str | None, backend: str | None, text: str, declared: str | None) -> dict[str, str] | None:
    """The document's warning, if its language is one the model was not trained for.

    >>> warning("en", None, "Wo ist meine Karte?", "de")["message"][:60]
    "The document declares the language 'de', but the model was t"
    >>> warning("en", None, "أين بطاقتي؟ لقد فقدتها أمس", None)["message"][:66]
    'The document is written mostly in Arabic script, but the model was'
    >>> warning("mul", "use-multilingual", "Missä korttini on?", "fi")["code"]
    'LanguageNotTrained'
    >>> [warning("en", None, "where is my card", d) for d in (None, "en", "en-GB")]
    [None, None, None]
    """
    if not language:
        return None
    if declared:
        if language == "mul":
            if backend == "use-multilingual" and primary(declared) not in ENCODER_LANGUAGES:
                return _warning(f"The document declares the language '{declared}', which the multilingual sentence encoder "
                                f"was not trained on (it knows {', '.join(sorted(ENCODER_LANGUAGES))}): expect weaker "
                                "answers, unless the project has training examples in that language.")
            return None
        if primary(declared) != primary(language):
            return _warning(f"The document declares the language '{declared}', but the model was trained for '{language}' "
                            "texts: expect weaker answers. A multilingual project (multilingual: true) with training "
                            "examples in that language classifies it better.")
        return None
    if language == "mul" or primary(language) in NOT_LATIN or text.isascii():
        return None
    script = _other_script(text)
    if script is None:
        return None
    return _warning(f"The document is written mostly in {script}, but the model was trained for '{language}' texts: expect weaker "
                    "answers. Send the document's language with it, or train a multilingual project with such examples.")


def _other_script(text: str) -> str | None:
    """The script of most of ``text``'s letters when that is not Latin (e.g. 'Arabic script'), else None."""
    counts: dict[str, int] = {}
    letters = 0
    for ch in text[:2_000]:  # the start says enough, and keeps a long document cheap
        if ch.isalpha():
            letters += 1
            name = unicodedata.name(ch, "")
            script = name.split(" ", 1)[0] if name else "UNKNOWN"
            if script != "LATIN":
                counts[script] = counts.get(script, 0) + 1
    if letters < MIN_LETTERS or not counts:
        return None
    if sum(counts.values()) * 2 <= letters:
        return None
    script = max(counts, key=counts.__getitem__)
    return {"CJK": "Chinese characters", "HIRAGANA": "Japanese kana", "KATAKANA": "Japanese kana",
            "HANGUL": "Korean Hangul"}.get(script, f"{script.title()} script")


def _warning(message: str) -> dict[str, str]:
    return {"code": CODE, "message": message}
