"""TF-IDF features: word (1-2)-grams and character (2-5)-grams, stacked side by side, and, where
enough training texts are Chinese or Japanese, their single characters as a third block.

Saved without pickle: each vocabulary as a JSON list of terms in column order, each idf as an
array; loading rebuilds the scikit-learn vectorizers with ``vocabulary`` and ``idf_`` set.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, partial
from operator import is_not
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from tagwise.errors import InvalidArgument

# A linear model keeps n_classes x n_features float32 weights in memory and on disk. Its TF-IDF
# features are capped so those weights stay under this many bytes: the scale probe's 195 classes
# over 100,000+ documents had made 495,000 features, 386 MB. The benchmark datasets are far below
# the cap (banking77: 24,206 features, 7.5 MB), so their models do not change.
WEIGHTS_BUDGET_BYTES = 100_000_000
# ... but never fewer features than this, whatever the number of classes
MIN_FEATURES = 20_000


# The Unicode form the n-grams are counted in: NFKC, so that what a keyboard or a PDF writes in another
# form counts as the same word: full-width "Ａｎｄｒｏｉｄ" from a Japanese input method was another word
# than "Android" (a probe's model answered iphone 0.77), half-width katakana, ligatures ("ﬁle"), "①".
# Since 2026-11-29 also without the marks Arabic and Hebrew writing may leave out, and with Arabic's
# alif forms, alif maqsura and ta marbuta spelt one way each (what the studio's search ignores too):
# fully vowelled Arabic sentences were answered 3 of 8 right against 8 of 8 without the vowels,
# pointed Hebrew 2 of 3 against 3 of 3. A model keeps the form it was trained in.
TEXT_FORM = "NFKC-optional-marks"
_OPTIONAL_MARKS = re.compile("[\u064b-\u065f\u0670\u0640\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7]")
_ARABIC_LETTERS = str.maketrans({**dict.fromkeys("أإآٱ", "ا"), "ى": "ي", "ة": "ه"})
_ARABIC_OR_HEBREW = re.compile("[\u0591-\u06ff]")


def in_form(texts: list[str], form: str) -> list[str]:
    """``texts`` in Unicode ``form`` (the recipes hand them over in NFC, which NFKC includes);
    ``NFKC-optional-marks``: NFKC without Arabic's and Hebrew's optional marks.

    >>> in_form(["Ａｎｄｒｏｉｄ の画面", "ﬁle", "plain"], "NFKC")
    ['Android の画面', 'file', 'plain']
    >>> in_form(["أُرِيدُ إلغاء", "שָׁלוֹם"], "NFKC-optional-marks") == ["اريد الغاء", "שלום"]
    True
    """
    if form == "NFC":
        return texts
    unicode_form, _, rest = form.partition("-")
    texts = [t if unicodedata.is_normalized(unicode_form, t) else unicodedata.normalize(unicode_form, t) for t in texts]
    if rest == "optional-marks":
        texts = [_OPTIONAL_MARKS.sub("", t).translate(_ARABIC_LETTERS) if _ARABIC_OR_HEBREW.search(t) else t for t in texts]
    return texts


# Chinese and Japanese write no spaces: a clause was one "word", and no single character (卡, 退, 款) was a
# feature, so `linear` scored 0.55-0.61 in cross-validation on small ticket sets where single characters
# too gave 0.75-0.86 (benchmarks/other_scripts.py). Those characters are a block of their own, made only
# where this share of the training texts has them, so that a few stray ones leave other models as they were.
CJK_SHARE = 0.05
_CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")  # kana and Han (half-width kana: NFKC)


def cjk_characters(text: str) -> list[str]:
    """The kana and Han characters of ``text``, each a term of the third block.

    >>> cjk_characters("カードを紛失 card")
    ['カ', 'ー', 'ド', 'を', '紛', '失']
    """
    return _CJK.findall(text)


# combining marks of no script of their own: after NFKC, what is left of them on Latin letters is decoration
# (a strikethrough "c̶h̶", stacked "zalgo" marks) and variation selectors pick an emoji's look; their letters stay
# words of their own, as before (goemotions' macro-F1 moved 0.5011 -> 0.4999 when they joined the words)
_GENERIC_MARKS = ((0x0300, 0x036F), (0x1AB0, 0x1AFF), (0x1DC0, 0x1DFF), (0x20D0, 0x20FF), (0xFE00, 0xFE0F), (0xFE20, 0xFE2F))


@cache
def _combining_marks() -> str:
    """Every combining mark (Unicode categories Mn, Mc, Me) of a script, in the Basic Multilingual Plane
    where the living scripts' are, as ranges of a regex character class (the whole of Unicode took 2 s)."""
    marks = [c for c in range(0x10000) if unicodedata.category(chr(c)).startswith("M")
             and not any(low <= c <= high for low, high in _GENERIC_MARKS)]
    ranges, start = [], marks[0]
    for previous, current in zip(marks, marks[1:] + [None], strict=True):
        if current != previous + 1:
            ranges.append(re.escape(chr(start)) + (f"-{re.escape(chr(previous))}" if previous != start else ""))
            start = current
    return "".join(ranges)


def word_pattern(kind: str) -> str:
    """The word tokens' pattern: ``plain`` (before 2026-11-29) split a word at every combining mark, as
    ``\\w`` has none: Hindi's vowel signs, Thai's vowels and tones, Hebrew's points (किताब was क, त, ब);
    ``marks`` keeps them in their word.

    >>> import re
    >>> re.findall(word_pattern("marks"), "किताब पढ़ना top-up"), re.findall(word_pattern("plain"), "किताब")
    (['किताब', 'पढ़ना', 'top', 'up'], ['क', 'त', 'ब'])
    """
    return r"(?u)\b\w+\b" if kind == "plain" else rf"(?u)\w[\w{_combining_marks()}]*"


def feature_budget(n_classes: int) -> int:
    """How many TF-IDF features a model over ``n_classes`` classes may have.

    >>> feature_budget(77), feature_budget(195), feature_budget(5_000)
    (324675, 128205, 20000)
    """
    return max(MIN_FEATURES, WEIGHTS_BUDGET_BYTES // (4 * max(1, n_classes)))


class TextFeaturizer(TransformerMixin, BaseEstimator):
    """Word + character TF-IDF, L2-normalised per block, sublinear tf.

    >>> f = TextFeaturizer(min_df=1).fit(["card lost", "card stolen"])
    >>> f.transform(["lost card"]).shape[0]
    1
    """

    def __init__(
        self,
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] = (2, 5),
        min_df: int = 2,
        max_features: int | None = 300_000,
        dtype: str = "float32",
        max_total_features: int | None = None,
        word_tokens: str = "marks",
    ) -> None:
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.dtype = dtype
        self.max_total_features = max_total_features
        self.word_tokens = word_tokens

    def _vectorizer_params(self) -> dict[str, dict[str, Any]]:
        common = {"sublinear_tf": True, "lowercase": True, "dtype": np.dtype(self.dtype)}
        word = {**common, "analyzer": "word", "ngram_range": tuple(self.word_ngram_range),
                "token_pattern": word_pattern(self.word_tokens)}
        char = {**common, "analyzer": "char_wb", "ngram_range": tuple(self.char_ngram_range)}
        cjk = {**common, "analyzer": cjk_characters}
        return {"word": word, "char": char, "cjk": cjk}

    def fit(self, texts: list[str], y: Any = None) -> TextFeaturizer:
        self.fit_transform(texts)
        return self

    def fit_transform(self, texts: list[str], y: Any = None) -> sp.csr_matrix:
        self.text_form_ = TEXT_FORM
        texts = in_form(texts, self.text_form_)
        params = self._vectorizer_params()
        # min_df only when there is enough data for it to mean something
        min_df = self.min_df if len(texts) >= 10 * self.min_df else 1
        blocks = []
        self.vectorizers_ = {}
        cjk_share = sum(1 for t in texts if _CJK.search(t)) / max(1, len(texts))
        for name, kw in params.items():
            if name == "cjk" and cjk_share < CJK_SHARE:
                continue
            vec = TfidfVectorizer(min_df=min_df, max_features=self.max_features, **kw)
            try:
                blocks.append(vec.fit_transform(texts))
            except ValueError:  # empty vocabulary (e.g. only punctuation): fall back to no pruning
                vec = TfidfVectorizer(min_df=1, **kw)
                try:
                    blocks.append(vec.fit_transform(texts))
                except ValueError:  # still none: no text has a word (emoji or punctuation only): the block is left out
                    continue
            self.vectorizers_[name] = vec
        if not blocks:
            raise InvalidArgument("The texts have nothing to learn from: no words and no characters other than spaces.")
        total = sum(b.shape[1] for b in blocks)
        if self.max_total_features is not None and total > self.max_total_features:
            # each block keeps its share of the cap: its terms found in the most documents
            for i, name in enumerate(self.vectorizers_):
                self.vectorizers_[name], blocks[i] = _keep_commonest(
                    self.vectorizers_[name], blocks[i], max(1, self.max_total_features * blocks[i].shape[1] // total), params[name])
        self.n_features_ = sum(b.shape[1] for b in blocks)
        return sp.hstack(blocks, format="csr")

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        texts = in_form(texts, getattr(self, "text_form_", "NFC"))
        return sp.hstack([_tfidf(v, texts) for v in self.vectorizers_.values()], format="csr")

    # --- persistence (no pickle) -------------------------------------------------------------
    def export_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        config: dict[str, Any] = {"params": _jsonable(self.get_params()), "vocabularies": {}, "text_form": self.text_form_}
        arrays = {}
        for name, vec in self.vectorizers_.items():
            terms = [""] * len(vec.vocabulary_)
            for term, col in vec.vocabulary_.items():
                terms[col] = term
            config["vocabularies"][name] = terms
            arrays[f"idf_{name}"] = np.asarray(vec.idf_, dtype=np.float64)
        return config, arrays

    @classmethod
    def from_state(cls, config: dict[str, Any], arrays: dict[str, np.ndarray]) -> TextFeaturizer:
        params = {"word_tokens": "plain", **config["params"]}  # a model from before 2026-11-29 splits words at marks
        self = cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in params.items()})
        self.text_form_ = config.get("text_form", "NFC")  # models trained before NFKC read their texts in NFC
        self.vectorizers_ = {}
        for name, kw in self._vectorizer_params().items():
            if name not in config["vocabularies"]:  # left out at training: no text had one
                continue
            terms = config["vocabularies"][name]
            vec = TfidfVectorizer(vocabulary={t: i for i, t in enumerate(terms)}, **kw)
            vec.idf_ = arrays[f"idf_{name}"]
            self.vectorizers_[name] = vec
        self.n_features_ = sum(len(t) for t in config["vocabularies"].values())
        return self


def _tfidf(vec: TfidfVectorizer, texts: list[str]) -> sp.csr_matrix:
    """``vec.transform(texts)`` with the n-grams counted by scipy instead of a Python loop per n-gram.

    Same numbers (a test compares them); prediction with ``linear`` spends most of its time here
    (banking77: char n-grams 410 -> 250 ms for 3,080 texts).
    """
    vocabulary = vec.vocabulary_  # also set on a loaded vectorizer (setting idf_ validates it)
    analyze, lookup, known = vec.build_analyzer(), vocabulary.get, partial(is_not, None)
    columns: list[int] = []
    indptr = [0]
    for text in texts:
        columns.extend(filter(known, map(lookup, analyze(text))))
        indptr.append(len(columns))
    dtype = np.dtype(vec.dtype)
    X = sp.csr_matrix((np.ones(len(columns), dtype=dtype), np.asarray(columns, dtype=np.int32),
                       np.asarray(indptr, dtype=np.int64)), shape=(len(texts), len(vocabulary)))
    X.sum_duplicates()  # counts per (document, term), indices sorted
    if vec.sublinear_tf:
        np.log(X.data, out=X.data)
        X.data += 1
    X.data *= np.asarray(vec.idf_, dtype=dtype)[X.indices]
    if not len(texts):  # scikit-learn's normalize refuses a matrix without rows
        return X
    return normalize(X, norm=vec.norm, copy=False)


def _keep_commonest(vec: TfidfVectorizer, X: sp.csr_matrix, keep: int,
                    params: dict[str, Any]) -> tuple[TfidfVectorizer, sp.csr_matrix]:
    """``vec`` with only the ``keep`` terms found in the most documents (as loading it would
    build it), and ``X`` as that one transforms: the kept columns, each row L2-normalised again
    (a term's tf-idf does not depend on the other terms, only the row's norm does)."""
    df = np.bincount(X.indices, minlength=X.shape[1])
    kept = np.sort(np.argsort(-df, kind="stable")[:keep])  # ties: the earlier column; order kept
    new_index = np.full(X.shape[1], -1)
    new_index[kept] = np.arange(len(kept))
    vocabulary = {term: int(new_index[col]) for term, col in vec.vocabulary_.items() if new_index[col] >= 0}
    shrunk = TfidfVectorizer(vocabulary=vocabulary, **params)
    shrunk.idf_ = vec.idf_[kept]
    return shrunk, normalize(X[:, kept], norm=shrunk.norm, copy=False)


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}
