"""Compiled (numba) top-k scoring, for processes that run many queries: see
:meth:`Scorer.top <citesearch.search.scoring.Scorer.top>`.

Importing numba and loading the cached kernel takes about 0.75 s, more than a whole
terminal search, so only an Index opened with ``compiled=True`` imports this module
(``citesearch batch`` does for large runs). It returns exactly what the numpy path
returns: the same rows, ties and float64 sums, bit for bit.

The kernel scores every passage that contains a query term, but a block of passages at
a time: each term's postings that fall in the block are added into a block-sized
accumulator (which stays in cache, unlike one as long as the collection), then the
block's touched passages go through a k-sized heap. At a million passages the BM25 top
10 takes 0.3-0.4 ms at the median against the numpy path's 0.75-0.85 ms, which prunes
but pays for each numpy call and for scattered writes over an 8 MB accumulator. Scoring
every candidate over such an accumulator in numba, or merging the lists document at a
time, measured slower than blocks (``benchmarks/experiments/compiled_variants.py``).
"""

from __future__ import annotations

import numba
import numpy as np

BLOCK = 1 << 16  # passages per block: a 512 KiB float64 accumulator


@numba.njit(cache=True, nogil=True, inline="always")
def _worse(s1, r1, s2, r2):  # pragma: no cover - compiled
    """Whether (score s1, row r1) ranks below (s2, r2): lower score, or tied and later."""
    return s1 < s2 or (s1 == s2 and r1 > r2)


@numba.njit(cache=True, nogil=True)
def _sift_down(hs, hr, size):  # pragma: no cover - compiled
    """Restore the heap order from the root down, after the root was replaced."""
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            return
        if child + 1 < size and _worse(hs[child + 1], hr[child + 1], hs[child], hr[child]):
            child += 1
        if not _worse(hs[child], hr[child], hs[i], hr[i]):
            return
        hs[i], hs[child] = hs[child], hs[i]
        hr[i], hr[child] = hr[child], hr[i]
        i = child


@numba.njit(cache=True, nogil=True)
def _sift_up(hs, hr, j):  # pragma: no cover - compiled
    """Restore the heap order from a new leaf ``j`` up."""
    while j > 0:
        parent = (j - 1) // 2
        if not _worse(hs[j], hr[j], hs[parent], hr[parent]):
            return
        hs[j], hs[parent] = hs[parent], hs[j]
        hr[j], hr[parent] = hr[parent], hr[j]
        j = parent


@numba.njit(cache=True, nogil=True, inline="always")
def _add(postings, data, c, p, e, base, limit, acc, mark, touched, n):  # pragma: no cover - compiled
    """Add ``c * data[p]`` (in the type of ``c``: float32 or float64) to the accumulator
    for the postings from ``p`` whose rows are below ``limit``; returns (next p, touched)."""
    while p < e:
        r = np.int64(postings[p])
        if r >= limit:
            break
        r -= base
        touched[n] = r
        n += 1 - mark[r]  # branch-free: listed once, on its first posting
        mark[r] = 1
        acc[r] += c * data[p]
        p += 1
    return p, n


@numba.njit(cache=True, nogil=True)
def top_k(  # pragma: no cover - compiled
    indptr, postings, data, terms, coefs, narrow, k, floor, n_rows, acc, mark, touched
):
    """The ``k`` best passages (positive scores only) for the query ``terms``, unordered:
    (rows, scores).

    A passage's score is the sum, in query-term order, of ``coefs[i] * data[p]`` for each
    of its postings p of term i, in float64, the product rounded to float32 where
    ``narrow[i]`` (as numpy rounds a Python number times a float32 array): what
    :meth:`Scorer.bm25` and :meth:`Scorer.tfidf` compute. A passage scoring below
    ``floor`` (a lower bound on the k-th best score) is passed over. ``acc``, ``mark``
    and ``touched`` are block-sized scratch buffers, left zeroed.
    """
    m = len(terms)
    pos = np.empty(m, np.int64)
    end = np.empty(m, np.int64)
    for i in range(m):
        pos[i] = indptr[terms[i]]
        end[i] = indptr[terms[i] + 1]
    hs = np.empty(k)
    hr = np.empty(k, np.int64)
    size = 0
    block = len(acc)
    for base in range(0, n_rows, block):
        limit = base + block
        n = 0
        for i in range(m):
            if narrow[i]:
                pos[i], n = _add(
                    postings, data, np.float32(coefs[i]), pos[i], end[i], base, limit, acc, mark, touched, n
                )
            else:
                pos[i], n = _add(postings, data, coefs[i], pos[i], end[i], base, limit, acc, mark, touched, n)
        for t in range(n):
            r = touched[t]
            s = acc[r]
            acc[r] = 0.0
            mark[r] = 0
            if s <= 0.0 or s < floor:
                continue
            row = r + base
            if size < k:  # a heap of the k best so far, the worst at its root
                hs[size] = s
                hr[size] = row
                _sift_up(hs, hr, size)
                size += 1
            elif _worse(hs[0], hr[0], s, row):
                hs[0] = s
                hr[0] = row
                _sift_down(hs, hr, size)
    return hr[:size].copy(), hs[:size].copy()


@numba.njit(cache=True, nogil=True)
def sampled_bound(  # pragma: no cover - compiled
    indptr, postings, data, prefixes, prefix_ptr, terms, coefs, narrow, sample_size, k, acc
):
    """θ of :meth:`Scorer._sample <citesearch.search.scoring.Scorer._sample>`, the same
    value: the k-th best score of the passages counting only each term's sampled
    postings (its ``sample_size`` heaviest, by ``prefixes``, or all of a short list), in
    query-term order; 0 if fewer than k passages score. ``acc`` is a zeroed
    passage-long buffer, left zeroed."""
    m = len(terms)
    total = 0
    for i in range(m):
        t = terms[i]
        a, b = prefix_ptr[t], prefix_ptr[t + 1]
        total += min(b - a, sample_size) if b > a else indptr[t + 1] - indptr[t]
    rows = np.empty(total, np.int64)
    n = 0
    for i in range(m):
        t = terms[i]
        start = indptr[t]
        a, b = prefix_ptr[t], prefix_ptr[t + 1]
        count = min(b - a, sample_size) if b > a else indptr[t + 1] - start
        for j in range(count):
            p = start + prefixes[a + j] if b > a else start + j
            r = np.int64(postings[p])
            if narrow[i]:
                acc[r] += np.float32(coefs[i]) * data[p]
            else:
                acc[r] += coefs[i] * data[p]
            rows[n] = r
            n += 1
    values = np.empty(n)
    above = 0
    for j in range(n):  # each passage once; its repeats read as 0
        values[j] = acc[rows[j]]
        acc[rows[j]] = 0.0
        if values[j] > 0.0:
            above += 1
    if above < k:
        return 0.0
    return -np.partition(-values[values > 0.0], k - 1)[k - 1]


def _query(coefficients: dict[int, float], data: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kernels' view of a query: its terms, coefficients and ``narrow`` flags."""
    terms = np.fromiter(coefficients, dtype=np.int64, count=len(coefficients))
    coefs = np.empty(len(terms))
    narrow = np.empty(len(terms), dtype=np.bool_)
    for i, c in enumerate(coefficients.values()):
        # A Python number times a float32 array is a float32 product; a numpy float64
        # (RM3's weights) makes it float64. The product of two float32 values is exact
        # in float64, so rounding it to float32 gives numpy's float32 product.
        narrow[i] = np.result_type(c, data.dtype) == data.dtype
        coefs[i] = np.float32(c) if narrow[i] else c
    return terms, coefs, narrow


class Blocks:
    """The scratch buffers of :func:`top_k` (one set per Scorer: not thread-safe)."""

    def __init__(self) -> None:
        self.acc = np.zeros(BLOCK)
        self.mark = np.zeros(BLOCK, dtype=np.uint8)
        self.touched = np.zeros(BLOCK, dtype=np.int64)

    def top(self, indptr, postings, data, coefficients: dict[int, float], k: int, n_rows: int, floor: float = 0.0):
        """Unordered (rows, scores) of the ``k`` best, as :func:`top_k`."""
        k = min(k, n_rows)
        if k < 1 or not coefficients:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        terms, coefs, narrow = _query(coefficients, data)
        return top_k(indptr, postings, data, terms, coefs, narrow, k, floor, n_rows, self.acc, self.mark, self.touched)

    @staticmethod
    def bound(indptr, postings, data, prefixes, prefix_ptr, coefficients: dict[int, float], k: int, acc) -> float:
        """θ, as :func:`sampled_bound` (``acc``: a zeroed passage-long float64 buffer)."""
        if k < 1 or not coefficients:
            return 0.0
        terms, coefs, narrow = _query(coefficients, data)
        return float(
            sampled_bound(indptr, postings, data, prefixes, prefix_ptr, terms, coefs, narrow, max(4 * k, 64), k, acc)
        )


def warm_up() -> None:
    """Load (or, the first time, compile and cache) the kernel for an index's types."""
    ro = []
    for a in (np.array([0, 2], np.int64), np.array([0, 1], np.int32), np.ones(2, np.float32)):
        a.flags.writeable = False  # the index's arrays are read-only maps
        ro.append(a)
    Blocks().top(*ro, {0: 1}, 1, 2)
    ro_ptr = np.zeros(2, np.int64)
    ro_ptr.flags.writeable = False
    Blocks.bound(*ro, np.zeros(0, np.int32), ro_ptr, {0: 1}, 1, np.zeros(2))
