"""Per-document warnings at classify time for text in a language the model was not trained for.

A model answers any text, but one trained on English texts with the English sentence encoder
answers German, Arabic or Japanese text with a class all the same, and nothing told the caller
(a probe: German and Japanese tickets answered ``neutral``, ``warnings: []``). Two cheap checks:

- a document that declares its ``language``, when that is not the model's language (a model of a
  multilingual project reads every language; its encoder knows 16);
- a document that declares none (or the model's own), when most of its letters are of another
  script than Latin while the model's language is written in Latin letters (Arabic letters sent to an English model),
  or of another script than its own while the model's language is written in one (Korean sent to a Japanese model). Words
  are not checked: German in Latin letters, or English tickets full of log lines, would be
  guesses. A declared ``en`` sent to a model of another language counts as none: the Azure SDKs
  send it for every document whose caller gave no language.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from tagwise.core.validation import CANONICAL_LANGUAGES

# the 16 languages Universal Sentence Encoder multilingual v3 was trained on, with their names: what
# GET .../projects/global/languages lists (the SDKs' list_supported_languages), as the languages the
# embedding recipes read (English: all-MiniLM-L6-v2; the others: the multilingual encoder, as for a
# multilingual project). A project may declare any other language code: `linear`'s TF-IDF word and
# character n-grams need no language.
SUPPORTED_LANGUAGES = (
    ("ar", "Arabic"), ("de", "German"), ("en", "English"), ("es", "Spanish"), ("fr", "French"), ("it", "Italian"),
    ("ja", "Japanese"), ("ko", "Korean"), ("nl", "Dutch"), ("pl", "Polish"), ("pt", "Portuguese"), ("ru", "Russian"),
    ("th", "Thai"), ("tr", "Turkish"), ("zh-Hans", "Chinese Simplified"), ("zh-Hant", "Chinese Traditional"),
)
# the same languages by their primary subtag (zh: simplified and traditional), as a declared code is compared
ENCODER_LANGUAGES = frozenset(code.split("-")[0] for code, _ in SUPPORTED_LANGUAGES)
# languages written in Latin letters: only a model for one of them checks a text's script (a list of
# the others missed Serbian, Tajik, Pashto and Sorani, and their own texts were "foreign")
LATIN = frozenset([
    "af", "az", "bs", "ca", "cs", "cy", "da", "de", "en", "eo", "es", "et", "eu", "fi", "fil", "fo", "fr", "fy",
    "ga", "gd", "gl", "ha", "haw", "hr", "ht", "hu", "id", "ig", "is", "it", "jv", "kmr", "la", "lb", "lt", "lv",
    "mg", "mi", "ms", "mt", "nb", "nl", "nn", "no", "ny", "oc", "pl", "pt", "qu", "rm", "ro", "sk", "sl", "sm",
    "sn", "so", "sq", "st", "su", "sv", "sw", "tk", "tl", "tr", "uz", "vi", "wo", "xh", "yo", "zu",
])
# languages written in scripts other than Latin, with the scripts (Unicode's names, the first word of a letter's
# name) their texts are in: a model for one of them warns of a text mostly in another such script (Korean sent to a
# Japanese model, Arabic to a Hebrew one answered a class at its prior, 0.22, without a word). A text mostly in Latin
# letters is not warned of: such tickets are full of product names and English terms
NON_LATIN = {
    "ja": {"CJK", "HIRAGANA", "KATAKANA"}, "zh": {"CJK"}, "ko": {"HANGUL", "CJK"}, "ar": {"ARABIC"}, "fa": {"ARABIC"},
    "ur": {"ARABIC"}, "he": {"HEBREW"}, "yi": {"HEBREW"}, "th": {"THAI"}, "el": {"GREEK"}, "ru": {"CYRILLIC"},
    "uk": {"CYRILLIC"}, "bg": {"CYRILLIC"}, "be": {"CYRILLIC"}, "mk": {"CYRILLIC"}, "kk": {"CYRILLIC"},
    "hi": {"DEVANAGARI"}, "mr": {"DEVANAGARI"}, "ne": {"DEVANAGARI"}, "bn": {"BENGALI"}, "ta": {"TAMIL"},
    "te": {"TELUGU"}, "kn": {"KANNADA"}, "ml": {"MALAYALAM"}, "gu": {"GUJARATI"}, "hy": {"ARMENIAN"},
    "ka": {"GEORGIAN"}, "am": {"ETHIOPIC"}, "km": {"KHMER"}, "lo": {"LAO"}, "my": {"MYANMAR"}, "si": {"SINHALA"},
}
MIN_LETTERS = 10  # fewer letters than this say too little about a script
# a Han character or a kana or Hangul syllable says as much as a few letters: "我的包裹还没到" (a whole sentence, 7
# characters) was too short to be checked
WORD_LIKE = {"CJK": 3, "HIRAGANA": 2, "KATAKANA": 2, "HANGUL": 2}
CODE = "LanguageNotTrained"


def primary(language: str) -> str:
    """A code's language part, as ``validation.language_code`` reads it (``iw`` is ``he``, ``jp`` is ``ja``): a
    project stored with such a code before it was read so compares equal to its documents' codes."""
    part = language.replace("_", "-").split("-")[0].lower()
    return CANONICAL_LANGUAGES.get(part, part)


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
    >>> warning("en", None, "我的包裹还没到", None)["message"].startswith("The document is written mostly in Chinese or Japanese")
    True
    >>> warning("mul", "use-multilingual", "Missä korttini on?", "fi")["code"]
    'LanguageNotTrained'
    >>> [warning("en", None, "where is my card", d) for d in (None, "en", "en-GB")]
    [None, None, None]
    >>> [warning(lang, None, text, None) for lang, text in (("sr", "Где је моја картица? Изгубио сам је јуче"),
    ...     ("en", "𝐇𝐞𝐥𝐥𝐨 𝐦𝐲 𝐜𝐚𝐫𝐝 𝐢𝐬 𝐛𝐥𝐨𝐜𝐤𝐞𝐝"), ("en", "Ｍｙ ｃａｒｄ ｉｓ ｂｌｏｃｋｅｄ"))]
    [None, None, None]
    >>> warning("de", None, "Wo ist meine Karte?", "en") is None  # the Azure SDKs' default language, not a claim
    True
    >>> warning("en", None, "أين بطاقتي؟ لقد فقدتها أمس", "en")["message"][:49]  # ... so the script still counts
    'The document is written mostly in Arabic script, '
    >>> warning("ja", None, "택배가 아직 안 왔어요 언제 오나요", None)["message"][:51]  # a model of another script's language
    'The document is written mostly in Korean Hangul, bu'
    >>> [warning("ja", None, t, None) for t in ("荷物がまだ届かないのですが", "iPhone 15 Pro Max is not charging at all")]
    [None, None]
    """
    if not language:
        return None
    if declared and primary(declared) == "en" and language != "mul" and primary(language) != "en":
        # the Azure SDKs send language "en" for every document the caller gave none (their default
        # language): taken at its word, every document to a German model would be warned of
        declared = None
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
        # the model's own language declared: the text's script still speaks (an SDK declares "en" by default)
    script_part = language.replace("_", "-").split("-")[1:2]
    other_script_tag = bool(script_part) and len(script_part[0]) == 4 and script_part[0].lower() != "latn"
    if other_script_tag and primary(language) not in NON_LATIN:
        return None  # a language written in another script than usual (sr-Cyrl, az-Arab): not guessed at
    if text.isascii():
        return None
    if (expected := NON_LATIN.get(primary(language))) is not None:
        script = _other_script(text, expected)
    elif primary(language) in LATIN:  # (with another script tag it returned above: no Latin language is in NON_LATIN)
        script = _other_script(text)
    else:
        return None  # a multilingual model ("mul"), or a language not (or not always) written in Latin letters
    if script is None:
        return None
    return _warning(f"The document is written mostly in {script}, but the model was trained for '{language}' texts: expect weaker "
                    "answers. Send the document's language with it, or train a multilingual project with such examples.")


def _other_script(text: str, expected: set[str] | frozenset[str] = frozenset()) -> str | None:
    """The script of most of ``text``'s letters when that is neither Latin nor one of ``expected``
    (e.g. 'Arabic script'), else None."""
    counts: dict[str, int] = {}
    letters = 0
    # NFKC: styled and full-width Latin letters (𝐇𝐞𝐥𝐥𝐨, Ｍｙ) are Latin letters
    for ch in unicodedata.normalize("NFKC", text[:2_000]):  # the start says enough, and keeps a long document cheap
        if ch.isalpha():
            name = unicodedata.name(ch, "")
            script = name.split(" ", 1)[0] if name else "UNKNOWN"
            weight = WORD_LIKE.get(script, 1)
            letters += weight
            if "LATIN" not in name:
                counts[script] = counts.get(script, 0) + weight
    if letters < MIN_LETTERS or not counts:
        return None
    if sum(counts.values()) * 2 <= letters:
        return None
    script = max(counts, key=counts.__getitem__)
    if script in expected or sum(n for s, n in counts.items() if s in expected) * 2 > letters:
        return None
    return {"CJK": "Chinese or Japanese characters (Han)", "HIRAGANA": "Japanese kana", "KATAKANA": "Japanese kana",
            "HANGUL": "Korean Hangul"}.get(script, f"{script.title()} script")


def _warning(message: str) -> dict[str, str]:
    return {"code": CODE, "message": message}
