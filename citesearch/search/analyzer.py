"""Query analysis: words → the index's term ids, as the indexed text was analyzed.

The index stores every surface form it met with its term id (stop words as -1), so a
query word is looked up, not stemmed; a form the corpus never had is stemmed with
PyStemmer (see ``indexer/analysis.py``) and matches if its stem is a term. Also here:
prefix queries (``immuno*``) and did-you-mean suggestions for words that match nothing.
"""

from __future__ import annotations

from collections.abc import Callable

from ..errors import QuerySyntaxError
from ..indexer.analysis import Tokenizer, make_query_stemmer
from ..indexer.storage import IndexReader

PREFIX_TERMS = 64
"""A prefix query stands for at most this many terms, the most frequent that match."""
MIN_PREFIX = 2


class QueryAnalyzer:
    def __init__(self, reader: IndexReader):
        self.reader = reader
        self.tokenizer = Tokenizer(reader.manifest.analyzer)
        self.stopwords = reader.stopwords
        self._stem: Callable[[str], str] | None = None

    def lookup(self, forms: list[str]) -> dict[str, int]:
        """Term id (-1: stop word) of each form that has one, stemming unseen forms."""
        known = self.reader.term_ids(forms)
        unseen = [f for f in set(forms) if f not in known and f not in self.stopwords]
        if unseen:
            if self._stem is None:
                self._stem = make_query_stemmer(self.tokenizer.config.stemmer)
            stems = {f: self._stem(f) for f in unseen}
            terms = self.reader.terms_by_string(list(stems.values()))
            known.update({f: terms[st] for f, st in stems.items() if st in terms})
        return known

    def analyze(self, text: str) -> tuple[list[int], list[str]]:
        """Term ids of ``text`` (repeats kept) and the words that match no term."""
        forms = self.tokenizer.forms(text)
        known = self.lookup(forms)
        ids = [known[f] for f in forms if known.get(f, -1) >= 0]
        unmatched = [f for f in forms if f not in known and f not in self.stopwords]
        return ids, unmatched

    def phrase_keys(self, text: str) -> list[int | str]:
        """Each form of ``text`` as its term id, or as itself when it has none."""
        forms = self.tokenizer.forms(text)
        known = self.lookup(forms)
        return [known[f] if known.get(f, -1) >= 0 else f for f in forms]

    def prefix_terms(self, prefix: str) -> list[int]:
        """Term ids of the forms starting with ``prefix`` (at most :data:`PREFIX_TERMS`,
        the most frequent), for a query word ``prefix*``."""
        forms = self.tokenizer.forms(prefix)
        if not forms or len(forms[-1]) < MIN_PREFIX:
            raise QuerySyntaxError(f"{prefix}*: a prefix needs at least {MIN_PREFIX} letters")
        if len(forms) != 1:
            return []
        return self.reader.terms_with_prefix(forms[0], PREFIX_TERMS)

    def suggest(self, word: str) -> str | None:
        """The indexed form closest to ``word`` (a query word that matches nothing): at
        most one edit away (two for words of eight letters or more), the most frequent
        on a tie. Candidates share the word's first letter: typos there are rare, and it
        keeps the look-up to a slice of the vocabulary."""
        if len(word) < 3:
            return None
        limit = 1 if len(word) < 8 else 2
        best: tuple[int, int, str] | None = None
        for form, df in self.reader.forms_like(word[0], len(word) - limit, len(word) + limit):
            d = _distance(word, form, limit)
            if d <= limit and (best is None or (d, -df, form) < best):
                best = (d, -df, form)
        return best[2] if best else None


def _distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance with adjacent transpositions (optimal string alignment),
    or ``limit + 1`` once it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] | None = None
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if prev2 is not None and i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]
