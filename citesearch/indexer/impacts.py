"""Each long posting list's highest-weight postings, stored so search can prune.

Exact top-k search (``search/scoring.py``) needs, before it touches a long posting
list, a lower bound on the k-th best score. It gets one by scoring the few postings of
each query term that weigh the most. For every term with more than ``PREFIX`` postings
the index keeps the positions (within the term's slice of the postings) of its
``PREFIX`` heaviest postings, heaviest first; shorter lists are read whole. Kept for
the BM25 and the TF-IDF weights separately: their orders differ.
"""

from __future__ import annotations

import numpy as np

PREFIX = 1024


def impact_prefixes(indptr: np.ndarray, weights: np.ndarray, prefix: int = PREFIX) -> tuple[np.ndarray, np.ndarray]:
    """``(top_indptr, top)``: term t's heaviest postings are ``top[top_indptr[t]:top_indptr[t + 1]]``
    (int32 offsets into the term's slice), ``prefix`` of them if the term has more
    postings than that, else none."""
    df = np.diff(indptr)
    long_terms = np.flatnonzero(df > prefix)
    top_indptr = np.zeros(len(df) + 1, dtype=np.int64)
    np.cumsum(np.where(df > prefix, prefix, 0), out=top_indptr[1:])
    top = np.empty(int(top_indptr[-1]), dtype=np.int32)
    for t in long_terms:
        w = -np.asarray(weights[indptr[t] : indptr[t + 1]], dtype=np.float64)
        best = np.argpartition(w, prefix - 1)[:prefix]
        top[top_indptr[t] : top_indptr[t + 1]] = best[np.lexsort((best, w[best]))]
    return top_indptr, top
