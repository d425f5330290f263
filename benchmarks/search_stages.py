"""Where a default search's time goes, stage by stage, without a profiler's overhead.

Usage:
    python benchmarks/search_stages.py INDEX QUERIES.jsonl

Times ``Index.open(INDEX).search(q, k=10)`` over the queries (after 50 warm-up ones),
and, within it, the query's analysis, the ranking, reading the passages and sources from
the store, numbering the sources, setting up the highlighter and making the snippets:
each stage's mean per query (a stage called several times a query is summed).
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict

import numpy as np

import citesearch
from citesearch.errors import CitesearchError
from citesearch.search import searcher
from citesearch.search.query import plain_query


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("index")
    ap.add_argument("queries")
    args = ap.parse_args()
    index = citesearch.Index.open(args.index)
    queries = [json.loads(line)["text"] for line in open(args.queries)]
    spent: dict[str, list[float]] = defaultdict(list)

    def timed(owner, name: str, label: str) -> None:
        fn = getattr(owner, name)

        def stage(*a, **kw):
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent[label].append(time.perf_counter() - t)

        setattr(owner, name, stage)

    timed(index, "query_weights", "query analysis")
    timed(index.ranker, "rank", "ranking")
    timed(index.reader, "passages", "passages and sources from the store")
    timed(searcher, "number_sources", "numbering the sources")
    timed(index, "_highlighter", "highlighter setup")
    timed(searcher, "make_snippet", "snippets (without finding the words)")

    def search(q: str) -> None:
        try:
            index.search(plain_query(q), k=10)
        except CitesearchError:  # only stop words
            pass

    for q in queries[:50]:
        search(q)
    spent.clear()
    total = []
    for q in queries:
        t = time.perf_counter()
        search(q)
        total.append(time.perf_counter() - t)
    p50, mean = np.median(total) * 1e3, np.mean(total) * 1e3
    print(f"search: p50 {p50:.3f} ms, mean {mean:.3f} ms over {len(queries)} queries")
    for label, times in spent.items():
        print(f"  {label}: {sum(times) / len(queries) * 1e3:.3f} ms a query ({len(times) / len(queries):.1f} calls)")


if __name__ == "__main__":
    main()
