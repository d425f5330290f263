"""What In_expC2 in place of BM25 in the default hybrid would cost per query (issue 13).

In_expC2's weight of a posting depends only on the posting (tf, passage length) and its
term's collection statistics (df, collection frequency, N, average length), like BM25's:
so it can be stored at index time and ranked by the same pruned top-k path. This measures
that path: it opens an index, computes In_expC2 weights (c = 4) and their impact prefixes
in memory, times the default hybrid query with the index's BM25 weights and then with the
In_expC2 weights put in their place (same kernel, same pruning), taking turns, and times
computing the weights (the build's extra work). Given an index the library built with
In_expC2 weights (``manifest.dfr``), it times the library's two hybrids instead: the
default and ``hybrid_with="bm25"``, taking turns.

Usage:
    python benchmarks/experiments/dfr_cost.py /tmp/scale1m/idx /tmp/scale1m/queries.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # benchmarks/
from scale import latencies  # noqa: E402

import citesearch  # noqa: E402
from citesearch.indexer.impacts import impact_prefixes  # noqa: E402
from citesearch.search.query import plain_query  # noqa: E402


def in_expc2(indptr, tf, passages, length, c: float) -> np.ndarray:
    """Amati & van Rijsbergen's In_expC2 (Terrier's formula) for every posting, float32."""
    df = np.diff(indptr).astype(np.float64)
    n = float(len(length))
    avgl = float(length.mean())
    cf = np.add.reduceat(tf.astype(np.float64), indptr[:-1]) if len(tf) else np.zeros(0)
    cf[df == 0] = 0
    ne = n * (1 - (1 - 1 / n) ** cf)
    term = (cf + 1) / np.maximum(df, 1) * np.log2((n + 1) / (ne + 0.5))  # per term: (F+1)/df · idf
    tfne = tf.astype(np.float64) * np.log1p(c * avgl / length[passages])
    w = tfne / (tfne + 1)
    w *= np.repeat(term, np.diff(indptr))
    return w.astype(np.float32)


def _p(fn, queries) -> tuple[float, float]:
    times = sorted(latencies(fn, queries))
    return times[len(times) // 2] * 1e3, times[int(len(times) * 0.99)] * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("index")
    ap.add_argument("queries")
    ap.add_argument("--c", type=float, default=4.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--feedback", action="store_true",
                    help="also time RM3 3 passages / 20 terms on the BM25 run only: the cost of Bo1 3/20@bm25 "
                         "(the same work: 3 feedback passages tokenized, a second BM25 ranking of ~20 terms)")
    args = ap.parse_args()
    queries = [json.loads(line)["text"] for line in open(args.queries)]
    index = citesearch.Index.open(args.index)
    r = index.reader
    if r.manifest.dfr is not None:  # built by the library with In_expC2 weights: its two hybrids
        from citesearch.search.options import SearchOptions

        before = SearchOptions(hybrid_with="bm25")
        for rnd in range(args.rounds):
            for name, opts in (("hybrid_with=bm25", before), ("default (In_expC2)", None)):
                s50, s99 = _p(lambda q, o=opts: index.search(plain_query(q), k=10, options=o), queries)
                k50, k99 = _p(lambda q, o=opts: index.rank_documents(plain_query(q), k=100, options=o), queries)
                print(f"round {rnd + 1} {name:20s} search top 10 p50 {s50:.3f} p99 {s99:.3f} ms | "
                      f"rank_documents top 100 p50 {k50:.3f} p99 {k99:.3f} ms", flush=True)
        return
    t = time.perf_counter()
    w = in_expc2(np.asarray(r["postings_indptr"]), np.asarray(r["postings_tf"]), np.asarray(r["postings_passages"]),
                 np.asarray(r["passage_length"], dtype=np.float64), args.c)
    t_w = time.perf_counter() - t
    t = time.perf_counter()
    ptr, top = impact_prefixes(np.asarray(r["postings_indptr"]), w)
    t_i = time.perf_counter() - t
    assert np.array_equal(ptr, np.asarray(r["impact_indptr"]))
    print(f"{r.n_passages} passages, {len(w)} postings: In_expC2 weights {t_w:.2f} s, impact prefixes {t_i:.2f} s, "
          f"+{(w.nbytes + top.nbytes) / 1e6:.0f} MB stored if kept beside BM25's")
    arrays = r.arrays
    bm25 = (arrays["bm25_weights"], arrays["bm25_impacts"])
    dfr = (w, top)

    def p(fn):
        times = sorted(latencies(fn, queries))
        return times[len(times) // 2] * 1e3, times[int(len(times) * 0.99)] * 1e3

    for rnd in range(args.rounds):
        for name, (weights, impacts) in (("bm25+tfidf (today)", bm25), ("In_expC2+tfidf", dfr)):
            arrays["bm25_weights"], arrays["bm25_impacts"] = weights, impacts
            s50, s99 = p(lambda q: index.search(plain_query(q), k=10))
            k50, k99 = p(lambda q: index.rank_documents(plain_query(q), k=100))
            print(f"round {rnd + 1} {name:20s} search top 10 p50 {s50:.3f} p99 {s99:.3f} ms | "
                  f"rank_documents top 100 p50 {k50:.3f} p99 {k99:.3f} ms", flush=True)
    arrays["bm25_weights"], arrays["bm25_impacts"] = bm25
    if args.feedback:
        from citesearch.search.expansion import RM3
        from citesearch.search.options import SearchOptions

        fb = SearchOptions(expand=RM3(3, 20, 0.5), expand_runs="bm25")
        for rnd in range(args.rounds):
            for name, opts in (("default", None), ("+ feedback 3/20 (Bo1's cost)", fb)):
                s50, s99 = p(lambda q, o=opts: index.search(plain_query(q), k=10, options=o))
                print(f"round {rnd + 1} {name:30s} search top 10 p50 {s50:.3f} p99 {s99:.3f} ms", flush=True)


if __name__ == "__main__":
    main()
