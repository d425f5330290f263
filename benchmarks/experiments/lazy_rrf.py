"""Tried and not kept: hybrid RRF from two shallower tops, proven or else redone 1000 deep.

Usage: python benchmarks/experiments/lazy_rrf.py INDEX QUERIES.jsonl

Idea: take each method's exact top D (D < 1000). A passage missing from one of the two
lists gets at most 1 / (RRF_K + D + 1) from it, so if the 10th best of the passages
found in both lists beats every other passage's upper bound, the fused top 10 (and its
scores) is proven; otherwise redo it with the two 1000-deep tops. For each D this checks
the proven results against the 1000-deep ones and prints how often the proof holds and
the time per query of both ways (BENCHMARKS.md quotes it). It is slower than always
going 1000 deep: the proof fails too often, and a top D is not much cheaper than a top
1000.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter

import numpy as np

import citesearch
from citesearch.search.fusion import RRF_DEPTH, RRF_K, rrf
from citesearch.search.query import plain_query
from citesearch.search.scoring import top_indices

K = 10


def fused_tops(index, counts: dict[int, float], depth: int):
    """The union of both methods' top ``depth`` rows, their RRF scores, and which rows
    each list holds, plus whether each list holds every match."""
    runs = [index.scorer.top(kind, counts, depth) for kind in ("bm25", "tfidf")]
    rows = np.union1d(runs[0][0], runs[1][0])
    aligned, listed = [], []
    for top_rows, top_scores in runs:
        at = np.searchsorted(rows, top_rows)
        scores = np.zeros(len(rows))
        scores[at] = top_scores
        aligned.append(scores)
        held = np.zeros(len(rows), dtype=bool)
        held[at] = True
        listed.append(held)
    return rows, rrf(aligned, rows), listed, [len(top_rows) < depth for top_rows, _ in runs]


def proven_top(index, counts: dict[int, float], depth: int):
    """The fused top K from two top-``depth`` lists, or None when it cannot be proven."""
    rows, fused, listed, complete = fused_tops(index, counts, depth)
    most_missing = 1.0 / (RRF_K + depth + 1)  # from a list a passage is not in
    unknown = np.zeros(len(rows))
    for held, whole in zip(listed, complete):
        if not whole:
            unknown += np.where(held, 0.0, most_missing)
    exact = np.flatnonzero(unknown == 0)
    if len(exact) < K:
        return None
    best = exact[top_indices(fused[exact], rows[exact], K)]
    kth = fused[best[-1]]
    others = (fused + unknown)[unknown > 0]
    unseen = sum(0.0 if whole else most_missing for whole in complete)  # in neither list
    if kth > unseen and (len(others) == 0 or kth > others.max()):
        return rows[best], fused[best]
    return None


def full_top(index, counts: dict[int, float]):
    rows, fused, _, _ = fused_tops(index, counts, RRF_DEPTH)
    best = top_indices(fused, rows, K)
    return rows[best], fused[best]


def main() -> None:
    index = citesearch.Index.open(sys.argv[1])
    with open(sys.argv[2]) as f:
        texts = [json.loads(line)["text"] for line in f]
    # as Index.rank makes them
    queries = [dict(Counter(index.analyze(plain_query(text).positive_text)[0])) for text in texts]
    queries = [counts for counts in queries if counts]
    for depth in (50, 100, 200):
        proven = wrong = 0
        lazy_ms, full_ms = [], []
        for counts in queries:
            started = time.perf_counter()
            got = proven_top(index, counts, depth)
            lazy = time.perf_counter() - started
            started = time.perf_counter()
            want = full_top(index, counts)
            full = time.perf_counter() - started
            if got is not None:
                proven += 1
                wrong += not (np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1]))
                lazy_ms.append(lazy * 1000)
            else:
                lazy_ms.append((lazy + full) * 1000)  # the fallback is the full way
            full_ms.append(full * 1000)
        print(
            f"D={depth}: proven for {proven} of {len(queries)} queries, {wrong} differing; "
            f"lazy mean {np.mean(lazy_ms):.2f} ms, "
            f"p50 {np.percentile(lazy_ms, 50):.2f}, p99 {np.percentile(lazy_ms, 99):.2f}; "
            f"1000 deep mean {np.mean(full_ms):.2f} ms, "
            f"p50 {np.percentile(full_ms, 50):.2f}, p99 {np.percentile(full_ms, 99):.2f}"
        )


if __name__ == "__main__":
    main()
