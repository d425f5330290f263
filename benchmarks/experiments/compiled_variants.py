"""Tried and not kept: two other ways to rank in numba than ``search/compiled.py``'s blocks.

Usage: python benchmarks/experiments/compiled_variants.py INDEX QUERIES.jsonl [N]

* ``whole``: every candidate accumulated term at a time into one float64 array as long
  as the collection, then the k best picked from the touched passages. At a million
  passages the accumulator is 8 MB: nearly every posting is a cache miss.
* ``merge``: the query's lists merged document at a time, each passage summed as it
  passes, into a k-heap. No scattered writes, but choosing the next list is a branch
  the processor mispredicts about once a posting.

Both are checked against ``Scorer.top`` (same rows and scores, bit for bit) on the first
N queries (default 1000), then timed beside it and beside the kept block kernel
(``Index.open(compiled=True)``), for BM25 at k = 10 and 1000.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter

import numba
import numpy as np

from citesearch import Index
from citesearch.search.compiled import _sift_down, _sift_up, _worse
from citesearch.search.scoring import top_indices


@numba.njit(cache=True, nogil=True)
def whole(indptr, postings, data, terms, coefs, k, acc, mark, touched):  # pragma: no cover - compiled
    n = 0
    for i in range(len(terms)):
        c = coefs[i]
        for j in range(indptr[terms[i]], indptr[terms[i] + 1]):
            r = postings[j]
            if not mark[r]:
                mark[r] = True
                touched[n] = r
                n += 1
            acc[r] += c * data[j]
    scores = np.empty(n)
    for i in range(n):
        scores[i] = acc[touched[i]]
        acc[touched[i]] = 0.0
        mark[touched[i]] = False
    kth = -np.partition(-scores, k - 1)[k - 1] if n > k else 0.0
    keep = np.flatnonzero((scores >= kth) & (scores > 0))
    return touched[keep].astype(np.int64), scores[keep]


@numba.njit(cache=True, nogil=True)
def merge(indptr, postings, data, terms, coefs, k):  # pragma: no cover - compiled
    m = len(terms)
    pos = np.empty(m, np.int64)
    end = np.empty(m, np.int64)
    for i in range(m):
        pos[i] = indptr[terms[i]]
        end[i] = indptr[terms[i] + 1]
    hs = np.empty(k)
    hr = np.empty(k, np.int64)
    size = 0
    none = np.iinfo(np.int64).max
    while True:
        row = none
        for i in range(m):
            if pos[i] < end[i] and postings[pos[i]] < row:
                row = np.int64(postings[pos[i]])
        if row == none:
            break
        s = 0.0
        for i in range(m):  # in query-term order, as the numpy path sums
            if pos[i] < end[i] and postings[pos[i]] == row:
                s += coefs[i] * data[pos[i]]
                pos[i] += 1
        if s <= 0.0:
            continue
        if size < k:
            hs[size] = s
            hr[size] = row
            _sift_up(hs, hr, size)
            size += 1
        elif _worse(hs[0], hr[0], s, row):
            hs[0] = s
            hr[0] = row
            _sift_down(hs, hr, size)
    return hr[:size].copy(), hs[:size].copy()


def main(path: str, queries_path: str, n: int = 1000) -> None:
    index = Index.open(path)
    compiled = Index.open(path, compiled=True)
    scorer, reader = index.scorer, index.reader
    data = reader["bm25_weights"]
    acc, mark, touched = np.zeros(scorer.n), np.zeros(scorer.n, dtype=np.bool_), np.zeros(scorer.n, dtype=np.int64)
    queries = []
    for line in open(queries_path).readlines()[:n]:
        counts = dict(Counter(index.analyze(json.loads(line)["text"])[0]))
        if counts:  # integer counts: float32 products, as the numpy path makes them
            queries.append((counts, np.fromiter(counts, np.int64), np.array(list(counts.values()), np.float32)))

    def ordered(rows, scores, k):
        best = top_indices(scores, rows, k)
        return rows[best], scores[best]

    variants = {
        "numpy (Scorer.top)": lambda q, k: scorer.top("bm25", q[0], k),
        "blocks (kept)": lambda q, k: compiled.scorer.top("bm25", q[0], k),
        "whole": lambda q, k: ordered(
            *whole(reader.indptr, reader.postings, data, q[1], q[2], k, acc, mark, touched), k
        ),
        "merge": lambda q, k: ordered(*merge(reader.indptr, reader.postings, data, q[1], q[2], k), k),
    }
    for k in (10, 1000):
        for q in queries:  # checks, and warms every path up
            want = scorer.top("bm25", q[0], k)
            for name, fn in variants.items():
                got = fn(q, k)
                assert got[0].tolist() == want[0].tolist() and got[1].tolist() == want[1].tolist(), name
        for name, fn in variants.items():
            times = []
            for q in queries:
                started = time.perf_counter()
                fn(q, k)
                times.append((time.perf_counter() - started) * 1000)
            p50, p99 = np.percentile(times, [50, 99])
            print(f"BM25 k={k:<5} {name:20} p50 {p50:.2f} ms  p99 {p99:.2f} ms  mean {np.mean(times):.2f} ms")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:]))
