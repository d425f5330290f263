"""Text analysis: the same steps at index time and at query time.

A token is a run of word characters (``token_pattern``), Unicode-normalized (NFKC),
lowercased and, with ``strip_accents``, folded to its unaccented letters. Stop words are
dropped by their surface form; the rest are stemmed with NLTK (``porter`` or
``snowball``) or kept (``none``).

Stemming happens once per distinct surface form at index time (with NLTK), and the index
stores the form → term table, so the query path needs no NLTK: it tokenizes the query the
same way and looks each form up. A query word the corpus never contains in that form is
stemmed with PyStemmer's implementation of the same algorithm (C, imports in
milliseconds; it agrees with NLTK's Snowball stemmer on 99.7% of the words of the shared
collections) and matches when that stem is a term of the index.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from functools import cached_property

STEMMERS = ("snowball", "porter", "none")
DEFAULT_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
# In ASCII text the default pattern's tokens are the runs of two or more of these.
_ASCII_WORD = frozenset(string.ascii_letters + string.digits + "_")
_ASCII_NON_WORD = str.maketrans({chr(i): " " for i in range(128) if chr(i) not in _ASCII_WORD})
STOPWORD_LISTS = ("english", "none")


@dataclass(frozen=True)
class AnalyzerConfig:
    """Saved in the index manifest and reused at query time."""

    token_pattern: str = DEFAULT_TOKEN_PATTERN
    strip_accents: bool = True
    stopwords: str = "english"
    stemmer: str = "snowball"

    def __post_init__(self) -> None:
        if self.stemmer not in STEMMERS:
            raise ValueError(f"unknown stemmer {self.stemmer!r}; choose from {', '.join(STEMMERS)}")
        if self.stopwords not in STOPWORD_LISTS:
            raise ValueError(f"unknown stop word list {self.stopwords!r}; choose from {', '.join(STOPWORD_LISTS)}")

    def to_dict(self) -> dict:
        return asdict(self)


def normalize(token: str, strip_accents: bool = True) -> str:
    """NFKC, lowercase and (optionally) accent folding of one token.

    >>> normalize("Café")
    'cafe'
    """
    if token.isascii():
        return token.lower()
    token = unicodedata.normalize("NFKC", token).lower()
    if strip_accents:
        token = "".join(c for c in unicodedata.normalize("NFKD", token) if not unicodedata.combining(c))
    return token


class Tokenizer:
    """Splits text into normalized surface forms, with their character spans."""

    def __init__(self, config: AnalyzerConfig):
        self.config = config
        self._pattern = re.compile(config.token_pattern)
        self.default_pattern = config.token_pattern == DEFAULT_TOKEN_PATTERN

    def forms(self, text: str) -> list[str]:
        if text.isascii():
            if self.default_pattern:  # the same tokens, twice as fast as the regular expression
                return [w for w in text.lower().translate(_ASCII_NON_WORD).split() if len(w) > 1]
            return self._pattern.findall(text.lower())
        strip = self.config.strip_accents
        return [normalize(t, strip) for t in self._pattern.findall(text)]

    def finder(self, forms: Iterable[str]) -> Callable[[str], list[tuple[int, int, str]]]:
        """A function giving the (start, end, form) of each token of a text whose form is
        one of ``forms``: what filtering :meth:`spans` gives, but with the default token
        pattern and ASCII text, by ``str.find`` (in C) for each form.

        A form is a run of word characters, so an occurrence is a whole token exactly
        when no word character touches it; and two such occurrences cannot overlap.
        (One regular expression of all the forms scanned as fast, but compiling it for
        each query cost about as much as the compiled BM25 ranking at 1M passages.)"""
        wanted = frozenset(forms)
        ascii_forms = [f for f in wanted if f and f.isascii()] if self.default_pattern else None

        def find(text: str) -> list[tuple[int, int, str]]:
            if ascii_forms is None or not text.isascii():
                return [(s, e, f) for s, e, f in self.spans(text) if f in wanted]
            low = text.lower()
            found = []
            for form in ascii_forms:
                start = low.find(form)
                while start >= 0:
                    end = start + len(form)
                    if (start == 0 or low[start - 1] not in _ASCII_WORD) and low[end : end + 1] not in _ASCII_WORD:
                        found.append((start, end, form))
                    start = low.find(form, end)
            found.sort()
            return found

        return find

    def spans(self, text: str) -> Iterator[tuple[int, int, str]]:
        """(start, end, form) of each token, offsets into ``text``."""
        if text.isascii():  # lowercasing keeps every offset
            for m in self._pattern.finditer(text.lower()):
                yield m.start(), m.end(), m.group()
            return
        strip = self.config.strip_accents
        for m in self._pattern.finditer(text):
            yield m.start(), m.end(), normalize(m.group(), strip)


def stopword_list(name: str) -> list[str]:
    """The stop words to save in the index."""
    if name == "none":
        return []
    from .stopwords import ENGLISH

    return sorted(ENGLISH)


QUERY_STEMMERS = {"snowball": "english", "porter": "porter"}
"""PyStemmer's algorithm for each NLTK stemmer, for query words the index has not seen."""


def make_query_stemmer(name: str) -> Callable[[str], str]:
    """A fast stemmer for unseen query words (no NLTK import)."""
    if name == "none":
        return lambda form: form
    import Stemmer

    return Stemmer.Stemmer(QUERY_STEMMERS[name]).stemWord


def make_stemmer(name: str) -> Callable[[str], str]:
    """The stemming function for ``name`` (index time: loads NLTK's stemmers)."""
    from ..nltk_parts import porter, snowball

    if name == "none":
        return lambda form: form
    if name == "porter":
        return porter().PorterStemmer().stem
    return snowball().SnowballStemmer("english").stem


class TermMapper:
    """Index-time analysis: surface forms → term ids, stemming each distinct form once.

    ``vocabulary`` grows as new terms are seen; ``forms`` maps every surface form met
    (stop words included, mapped to ``-1``) to its term id, and is saved in the index.
    """

    def __init__(self, config: AnalyzerConfig):
        self.config = config
        self.tokenizer = Tokenizer(config)
        self.stopwords = frozenset(stopword_list(config.stopwords))
        self.vocabulary: dict[str, int] = {}
        self.terms_by_id: list[str] = []
        self.forms: dict[str, int] = {}

    @cached_property
    def stemmer(self) -> Callable[[str], str]:
        """The stemming function, made when first needed (NLTK takes ~0.7 s to import; a
        build makes it before its workers start, which then inherit NLTK)."""
        return make_stemmer(self.config.stemmer)

    def stem(self, form: str) -> str | None:
        """The term a surface form stands for; None for a stop word."""
        return None if form in self.stopwords else self.stemmer(form)

    def add_form(self, form: str, stem: str | None) -> int:
        """Record a new surface form whose stem is known; returns its term id."""
        if stem is None:
            term = -1
        else:
            term = self.vocabulary.get(stem, -1)
            if term < 0:
                term = self.vocabulary[stem] = len(self.terms_by_id)
                self.terms_by_id.append(stem)
        self.forms[form] = term
        return term

    def term_id(self, form: str) -> int:
        """The term id of a surface form (-1 for a stop word), adding it if new."""
        term = self.forms.get(form)
        return term if term is not None else self.add_form(form, self.stem(form))

    def term_ids(self, text: str) -> list[int]:
        ids = [self.term_id(f) for f in self.tokenizer.forms(text)]
        return [t for t in ids if t >= 0]

    def terms(self, text: str) -> list[str]:
        """Term strings of ``text`` (the analyzer the parity tests hand to scikit-learn and rank_bm25)."""
        return [self.terms_by_id[i] for i in self.term_ids(text)]
