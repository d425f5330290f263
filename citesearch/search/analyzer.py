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
        """The indexed form one edit from ``word`` (a query word that matches nothing):
        a letter left out, added, changed, or two swapped; the most frequent on a tie.

        The candidates are generated, not searched for (Norvig's spelling corrector):
        about 75 per letter, looked up in the index's form table in a query or two, so
        the time does not grow with the vocabulary."""
        if len(word) < 3:
            return None
        found = self.reader.form_frequencies(sorted(_one_edit(word)))
        return min(found, key=lambda form: (-found[form], form)) if found else None


_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"


def _one_edit(word: str) -> set[str]:
    letters = _LETTERS + "".join(sorted(set(word) - set(_LETTERS)))
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = [a + b[1:] for a, b in splits if b]
    swaps = [a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1]
    changes = [a + c + b[1:] for a, b in splits if b for c in letters]
    inserts = [a + c + b for a, b in splits for c in letters]
    return set(deletes + swaps + changes + inserts) - {word}
