"""Where a query's time goes: cProfile over a few hundred scale queries.

Usage:
    python benchmarks/profile_query.py INDEX QUERIES.jsonl [--method bm25] [--what search|rank] [-n 300]
    python benchmarks/profile_query.py INDEX QUERIES.jsonl --what top --method bm25 --depth 1000 [--path numpy]

INDEX is an index of a scale corpus (benchmarks/scale_corpus.py), QUERIES its
queries.jsonl. The queries run once to warm up, then again under cProfile; the functions
with the most time of their own are printed. ``--what top`` instead times
``Scorer.top`` alone (no profiler) for every query and prints its percentiles: the
pruned top-k search that ``rank`` and ``search`` are built on (hybrid runs it twice,
1000 deep). ``--path`` opens the index as ``Index.open(path)`` does (``default``: the
kernel compiled at install, if built), with ``compiled="numba"`` or with
``compiled=False`` (numpy).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
from collections import Counter
from pathlib import Path

import numpy as np

from citesearch import Index
from citesearch.errors import CitesearchError
from citesearch.search.query import plain_query

PATHS = {"default": None, "numba": "numba", "numpy": False}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("index", type=Path)
    ap.add_argument("queries", type=Path)
    ap.add_argument("--method", default=None, help="bm25, tfidf or hybrid (default: the index's)")
    ap.add_argument("--what", choices=["search", "rank", "top"], default="search")
    ap.add_argument("--depth", type=int, default=10, help="k for --what top")
    ap.add_argument("-n", type=int, default=300, help="queries to profile")
    ap.add_argument("--top", type=int, default=20, help="functions to print")
    ap.add_argument("--path", choices=sorted(PATHS), default="default", help="how the index ranks")
    args = ap.parse_args()
    queries = [json.loads(line)["text"] for line in args.queries.read_text().splitlines()][: args.n]
    index = Index.open(args.index, compiled=PATHS[args.path])
    if args.what == "top":
        time_top(index, queries, args.method or "bm25", args.depth)
        return

    def run() -> None:
        for q in queries:
            try:
                if args.what == "rank":
                    index.rank(plain_query(q), method=args.method, depth=10).top(10)
                else:
                    index.search(plain_query(q), k=10, method=args.method)
            except CitesearchError:
                pass  # a query of stop words only

    run()
    profile = cProfile.Profile()
    profile.runcall(run)
    stats = pstats.Stats(profile)
    print(f"{len(queries)} queries, {stats.total_tt / len(queries) * 1000:.2f} ms each under cProfile")
    stats.sort_stats("tottime").print_stats(args.top)


def time_top(index: Index, queries: list[str], kind: str, depth: int) -> None:
    times = []
    index.scorer.top(kind, {0: 1}, depth)  # loads the compiled kernel, if compiled
    for q in queries:
        counts = dict(Counter(index.analyze(plain_query(q).positive_text)[0]))  # as Index.rank makes them
        if counts:
            started = time.perf_counter()
            index.scorer.top(kind, counts, depth)
            times.append((time.perf_counter() - started) * 1000)
    p50, p90, p99 = np.percentile(times, [50, 90, 99])
    print(
        f"Scorer.top({kind!r}, k={depth}) over {len(times)} queries: "
        f"p50 {p50:.2f} ms, p90 {p90:.2f}, p99 {p99:.2f}, mean {np.mean(times):.2f}"
    )


if __name__ == "__main__":
    main()
