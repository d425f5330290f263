"""citesearch's default search and tantivy's, query by query in turns, in one process.

Usage:
    python benchmarks/interleaved_latency.py INDEX DATA_DIR [--tantivy TANTIVY_DIR] [--rounds 3]

INDEX is a citesearch index of DATA_DIR/corpus.jsonl (a scale corpus, see scale.py);
TANTIVY_DIR a tantivy index of the same texts, built there (as scale.py builds it) if it
does not exist. Each query runs through ``Index.open(INDEX).search(q, k=10)`` (the index's
default method, hybrid, and BM25), then through tantivy's search, top 10, so that both
meet the same load on a shared machine: scale.py measures the systems one after the
other, minutes apart. 20 warm-up queries, then every query once per round; p50 and p99
in ms of each round, and their medians over rounds.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from pathlib import Path

import numpy as np
from scale import load, tantivy_build

import citesearch
from citesearch.search.query import plain_query


def timed(fn, q) -> float:
    t = time.perf_counter()
    try:
        fn(q)
    except Exception as exc:  # citesearch refuses a query of stop words only: it still counts
        if "stop words" not in str(exc):
            raise
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("index", type=Path)
    ap.add_argument("data", type=Path)
    ap.add_argument("--tantivy", type=Path, default=None, help="tantivy index folder (default: DATA/tantivy-index)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    import tantivy

    texts, queries = load(args.data)
    path = args.tantivy or args.data / "tantivy-index"
    if path.exists():
        sb = tantivy.SchemaBuilder()
        sb.add_text_field("body", stored=False, tokenizer_name="en_stem")
        tindex = tantivy.Index(sb.build(), path=str(path))
    else:
        tindex, _ = tantivy_build(texts, path)
    del texts
    searcher = tindex.searcher()
    index = citesearch.Index.open(args.index)
    systems = {
        "citesearch default (hybrid)": lambda q: index.search(plain_query(q), k=10),
        "citesearch bm25": lambda q: index.search(plain_query(q), k=10, method="bm25"),
        "tantivy": lambda q: searcher.search(tindex.parse_query(re.sub(r"[^\w\s]", " ", q), ["body"]), 10),
    }
    for q in queries[:20]:
        for fn in systems.values():
            timed(fn, q)
    figures: dict[str, list[tuple[float, float]]] = {name: [] for name in systems}
    for _ in range(args.rounds):
        times: dict[str, list[float]] = {name: [] for name in systems}
        for q in queries:
            for name, fn in systems.items():
                times[name].append(timed(fn, q))
        for name, t in times.items():
            ms = np.array(t) * 1e3
            figures[name].append((float(np.percentile(ms, 50)), float(np.percentile(ms, 99))))
    for name, rounds in figures.items():
        each = ", ".join(f"{p50:.2f} / {p99:.2f}" for p50, p99 in rounds)
        p50 = statistics.median(r[0] for r in rounds)
        p99 = statistics.median(r[1] for r in rounds)
        print(f"{name}: p50 / p99 ms per round {each}; median {p50:.2f} / {p99:.2f}")


if __name__ == "__main__":
    main()
