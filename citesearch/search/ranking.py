"""Scoring passages against analyzed query terms.

A query is a bag of term ids with counts. Each scorer sums, over the query's terms, the
term's slice of the term-major postings times its query weight, into a dense array of
passage scores. BM25 reads the weights precomputed at index time, or computes them for
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

    def bm25(self, counts: dict[int, float], params: bm25.BM25Params | None = None) -> np.ndarray:
        scores = np.zeros(self.n, dtype=np.float64)
        for term, count in counts.items():
            rows = self.reader.postings[self.postings(term)]
            scores[rows] += count * self.bm25_weights(term, params)
        return scores

    def tfidf(self, counts: dict[int, float]) -> np.ndarray:
        scores = np.zeros(self.n, dtype=np.float64)
        weights = tfidf.query_weights(self.tfidf_params, counts, self.reader["tfidf_idf"])
        data = self.reader["tfidf_weights"]
        for term, w in weights.items():
            s = self.postings(term)
            scores[self.reader.postings[s]] += w * data[s]
        return scores

    def containing(self, terms) -> np.ndarray:
        """Mask of passages that contain any of ``terms``."""
        mask = np.zeros(self.n, dtype=bool)
        for term in terms:
            mask[self.reader.postings[self.postings(term)]] = True
        return mask

    def containing_all(self, terms) -> np.ndarray:
        mask = np.ones(self.n, dtype=bool)
        for term in terms:
            mask &= self.containing([term])
        return mask


def top_rows(scores: np.ndarray, candidates: np.ndarray, n: int | None) -> np.ndarray:
    """The ``n`` best of ``candidates`` by score (descending), ties by row (ascending)."""
    if n is not None and len(candidates) > n:
        values = scores[candidates]
        kth = values[np.argpartition(-values, n - 1)[n - 1]]
        candidates = candidates[values >= kth]  # keep every tie at the boundary
    order = np.lexsort((candidates, -scores[candidates]))
    return candidates[order[:n]]
