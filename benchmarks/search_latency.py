"""Per-query latency of ``Index.search`` and of the ranking alone, BM25 and hybrid.

Usage:
    python benchmarks/search_latency.py INDEX QUERIES.jsonl [--path default|numba|numpy]
    PYTHONPATH=/tmp/old python benchmarks/search_latency.py INDEX QUERIES.jsonl   # another checkout's code

``--path``: how the index is opened: ``Index.open(path)`` (default: the kernel built at
install, else numpy), ``compiled="numba"``, or ``compiled=False`` (numpy).

Each query runs one at a time, top 10, after 20 warm-up queries; p50 and p99 in ms. To
compare two versions of the code, run it with each (a ``git worktree`` of the other
commit on ``PYTHONPATH``), taking turns: the machine's speed drifts more than the gaps.
"""

from __future__ import annotations

import argparse
import json

from scale import latencies

import citesearch
from citesearch.search.query import plain_query

PATHS = {"default": None, "numba": "numba", "numpy": False}


def percentiles(fn, queries: list[str]) -> tuple[float, float]:
    """p50 and p99 of ``fn``'s time per query, in ms (``scale.latencies``: 20 warm-up queries)."""
    times = sorted(latencies(fn, queries))
    return times[len(times) // 2] * 1e3, times[int(len(times) * 0.99)] * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("index")
    ap.add_argument("queries")
    ap.add_argument("--path", choices=sorted(PATHS), default="default", help="how the index ranks")
    args = ap.parse_args()
    queries = [json.loads(line)["text"] for line in open(args.queries)]
    index = citesearch.Index.open(args.index, compiled=PATHS[args.path])
    path = args.path
    for method in ("bm25", "hybrid"):
        search = percentiles(lambda q, m=method: index.search(plain_query(q), k=10, method=m), queries)
        rank = percentiles(lambda q, m=method: index.rank(plain_query(q), method=m, depth=10).top(10), queries)
        print(f"{path} {method}: search p50 {search[0]:.3f} p99 {search[1]:.3f} ms | "
              f"rank p50 {rank[0]:.3f} p99 {rank[1]:.3f} ms")


if __name__ == "__main__":
    main()
