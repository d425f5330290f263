"""What narrows a query's candidates without scoring them: ``source:`` and ``title:``
filters, ``-exclusions`` and ``"phrases"`` (see ``query.py`` for the syntax)."""

from __future__ import annotations

import numpy as np

from ..indexer.storage import IndexReader
from .analyzer import QueryAnalyzer
from .query import ParsedQuery
from .scoring import Scorer


class Filters:
    def __init__(self, reader: IndexReader, analyzer: QueryAnalyzer, scorer: Scorer):
        self.reader = reader
        self.analyzer = analyzer
        self.scorer = scorer

    def apply(self, query: ParsedQuery, rows: np.ndarray) -> np.ndarray:
        """``rows`` narrowed by the query's source/title filters, exclusions and phrases."""
        allowed = self.source_rows(query)
        if allowed is not None:
            # Source rows may have gaps (an update removes sources): test membership, not an
            # array indexed by row.
            rows = rows[np.isin(self.reader["passage_source"][rows], allowed)]
        for text in query.excluded:
            keys = self.analyzer.phrase_keys(text)
            terms = [k for k in keys if isinstance(k, int)]
            if len(keys) > 1 and terms:
                rows = rows[~self.with_phrase(text, rows)]
            elif terms:
                rows = rows[~self.scorer.containing(terms, rows)]
        for phrase in query.phrases:
            rows = rows[self.with_phrase(phrase, rows)]
        return rows

    def source_rows(self, query: ParsedQuery) -> np.ndarray | None:
        """Rows of the sources the query's filters allow; None when it has none.

        ``source:`` globs widen each other; ``title:`` words narrow (each must be in the
        title, analyzed as the text is)."""
        if not query.sources and not query.titles:
            return None
        rows: set[int] | None = None
        if query.sources:
            rows = set()
            for pattern in query.sources:
                rows |= self.reader.sources_matching(pattern)
        for word in query.titles:
            wanted, _ = self.analyzer.analyze(word)
            if not wanted:
                rows = set()
                break
            stems = self.reader.term_strings(wanted)
            matched = {
                row
                for row, title in self.reader.titles_containing([word, *stems.values()])
                if set(wanted) <= set(self.analyzer.analyze(title)[0])
            }
            rows = matched if rows is None else rows & matched
        return np.fromiter(sorted(rows or ()), dtype=np.int64)

    def with_phrase(self, phrase: str, rows: np.ndarray) -> np.ndarray:
        """Which of ``rows`` contain ``phrase`` (a mask aligned with them)."""
        keys = self.analyzer.phrase_keys(phrase)
        terms = [k for k in keys if isinstance(k, int)]
        if any(isinstance(k, str) and k not in self.analyzer.stopwords for k in keys) or not terms:
            return np.zeros(len(rows), dtype=bool)
        inside = self.scorer.containing_all(set(terms), rows)
        texts = self.reader.passage_texts(rows[inside])
        for i in np.flatnonzero(inside):
            if not _contains_run(self.analyzer.phrase_keys(texts[int(rows[i])]), keys):
                inside[i] = False
        return inside


def _contains_run(seq: list, run: list) -> bool:
    n = len(run)
    return any(seq[i : i + n] == run for i in range(len(seq) - n + 1))
