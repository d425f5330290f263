"""Scoring passages against analyzed query terms.

A query is a bag of term ids with counts. Each scorer sums, over the query's terms, the
term's slice of the term-major postings times its query weight, and returns the scores
of the candidate passages (those containing a query term) as a compact array. BM25 reads the weights precomputed at index time, or computes them for
the query's terms only when asked for other parameters than the index was built with.
"""

from __future__ import annotations

import numpy as np

from ..indexer import bm25, tfidf
from ..indexer.storage import IndexReader


class Scorer:
    def __init__(self, reader: IndexReader):
        self.reader = reader
        m = reader.manifest
        self.n = reader.n_passages
        self.index_bm25 = bm25.BM25Params(m["bm25"]["variant"], m["bm25"]["k1"], m["bm25"]["b"], m["bm25"]["delta"])
        self.avgdl = float(m["bm25"]["avg_passage_length"])
        self.tfidf_params = tfidf.TfidfParams(m["tfidf"]["sublinear_tf"], m["tfidf"]["smooth_idf"])
        self._idf: dict[bm25.BM25Params, np.ndarray] = {}
        self._acc: np.ndarray | None = None
        self._mark: np.ndarray | None = None

    def postings(self, term: int) -> slice:
        return slice(int(self.reader.indptr[term]), int(self.reader.indptr[term + 1]))

    def df(self, term: int) -> int:
        s = self.postings(term)
        return s.stop - s.start

    def bm25_idf(self, params: bm25.BM25Params) -> np.ndarray:
        if params not in self._idf:
            self._idf[params] = bm25.idf(params, np.diff(self.reader.indptr), self.n)
        return self._idf[params]

    def bm25_weights(self, term: int, params: bm25.BM25Params | None = None) -> np.ndarray:
        s = self.postings(term)
        if params is None or params == self.index_bm25:
            return self.reader["bm25_weights"][s]
        rows = self.reader.postings[s]
        rel_len = self.reader["passage_length"][rows] / self.avgdl
        return bm25.weights(params, self.reader["postings_tf"][s], rel_len, self.bm25_idf(params)[term])

    # Per-query work touches only the passages that contain a query term: two dense
    # buffers (passage count long) are allocated once per Index and left zeroed after
    # each use, and every result is a compact array aligned with the sorted candidate
    # rows. An Index is therefore not safe to search from two threads at once.

    def _buffers(self) -> tuple[np.ndarray, np.ndarray]:
        if self._acc is None:
            self._acc = np.zeros(self.n, dtype=np.float64)
            self._mark = np.zeros(self.n, dtype=bool)
        return self._acc, self._mark  # type: ignore[return-value]

    def candidates(self, terms) -> np.ndarray:
        """Sorted rows of the passages that contain any of ``terms``."""
        parts = [self.reader.postings[self.postings(t)] for t in terms]
        if len(parts) == 1:
            return np.asarray(parts[0], dtype=np.int64)
        _, mark = self._buffers()
        for rows in parts:
            mark[rows] = True
        found = np.flatnonzero(mark)
        if len(found) > self.n // 8:
            mark.fill(False)
        else:
            mark[found] = False
        return found

    def containing(self, terms, rows: np.ndarray) -> np.ndarray:
        """Which of ``rows`` contain any of ``terms`` (a mask aligned with ``rows``)."""
        _, mark = self._buffers()
        parts = [self.reader.postings[self.postings(t)] for t in terms]
        for p in parts:
            mark[p] = True
        inside = mark[rows]
        for p in parts:
            mark[p] = False
        return inside

    def containing_all(self, terms, rows: np.ndarray) -> np.ndarray:
        inside = np.ones(len(rows), dtype=bool)
        for term in terms:
            inside &= self.containing([term], rows)
        return inside

    def _accumulate(self, parts, rows: np.ndarray) -> np.ndarray:
        acc, _ = self._buffers()
        for postings, values in parts:
            acc[postings] += values
        out = acc[rows]
        if sum(len(p) for p, _ in parts) > self.n // 8:
            acc.fill(0.0)  # cheaper than scattering zeros over long postings
        else:
            for postings, _ in parts:
                acc[postings] = 0.0
        return out

    def bm25(self, counts: dict[int, float], rows: np.ndarray, params: bm25.BM25Params | None = None) -> np.ndarray:
        """BM25 scores of ``rows`` (compact, aligned with them)."""
        parts = [(self.reader.postings[self.postings(t)], c * self.bm25_weights(t, params)) for t, c in counts.items()]
        return self._accumulate(parts, rows)

    def tfidf(self, counts: dict[int, float], rows: np.ndarray) -> np.ndarray:
        """TF-IDF cosine scores of ``rows`` (compact, aligned with them)."""
        weights = tfidf.query_weights(self.tfidf_params, counts, self.reader["tfidf_idf"])
        data = self.reader["tfidf_weights"]
        parts = []
        for term, w in weights.items():
            s = self.postings(term)
            parts.append((self.reader.postings[s], w * data[s]))
        return self._accumulate(parts, rows)


def top_indices(scores: np.ndarray, rows: np.ndarray, n: int | None) -> np.ndarray:
    """Positions of the ``n`` best entries by score (descending), ties by row (ascending)."""
    idx = np.arange(len(rows))
    if n is not None and len(rows) > n:
        kth = scores[np.argpartition(-scores, n - 1)[n - 1]]
        idx = idx[scores >= kth]  # keep every tie at the boundary
    order = np.lexsort((rows[idx], -scores[idx]))
    return idx[order[:n]]
