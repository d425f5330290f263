"""Where a query's time goes: cProfile over a few hundred scale queries.

Usage:
    python benchmarks/profile_query.py INDEX QUERIES.jsonl [--method bm25] [--what search|rank] [-n 300]

INDEX is an index of a scale corpus (benchmarks/scale_corpus.py), QUERIES its
queries.jsonl. The queries run once to warm up, then again under cProfile; the functions
with the most time of their own are printed.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
from pathlib import Path

from citesearch import Index
from citesearch.errors import CitesearchError
from citesearch.search.query import plain_query


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("index", type=Path)
    ap.add_argument("queries", type=Path)
    ap.add_argument("--method", default=None, help="bm25, tfidf or hybrid (default: the index's)")
    ap.add_argument("--what", choices=["search", "rank"], default="search")
    ap.add_argument("-n", type=int, default=300, help="queries to profile")
    ap.add_argument("--top", type=int, default=20, help="functions to print")
    args = ap.parse_args()
    queries = [json.loads(line)["text"] for line in args.queries.read_text().splitlines()][: args.n]
    index = Index.open(args.index)

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


if __name__ == "__main__":
    main()
