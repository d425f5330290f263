"""The compiled kernel's pass alone, on the passes a default search makes.

Usage:
    python benchmarks/kernel_time.py INDEX QUERIES.jsonl [--depths 10,256] [--rounds 3]

Runs ``Index.open(INDEX).search(q, k=10)`` over the queries once, recording every
``Scorer.tops`` call it makes (the hybrid's one pass over both runs: 256 deep first, 1000
deep when the fusion is not settled), then replays those calls at each depth and prints,
per call, the mean of ``Scorer.tops`` (the pass with its numpy around it) and of the C
``scan`` alone; the best of ``--rounds`` rounds. Rebuild the extension after changing
``_kernels.c`` (``python setup.py build_ext --inplace``).
"""

from __future__ import annotations

import argparse
import json
import time

import citesearch
from citesearch.errors import CitesearchError
from citesearch.search import kernels, scoring


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("index")
    ap.add_argument("queries")
    ap.add_argument("--depths", default="10,256")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    if not kernels.AVAILABLE:
        raise SystemExit("the compiled kernel is not built: python setup.py build_ext --inplace")
    index = citesearch.Index.open(args.index)
    calls = []
    tops = scoring.Scorer.tops

    def recording(self, runs, k):
        calls.append((self, dict(runs)))
        return tops(self, runs, k)

    scoring.Scorer.tops = recording
    for line in open(args.queries):
        try:
            index.search(json.loads(line)["text"], k=10)
        except CitesearchError:  # a query of stop words only
            pass
    scoring.Scorer.tops = tops

    scan = kernels._kernels.scan  # type: ignore[union-attr]
    spent = [0.0]

    class Timed:  # the module's scan, timed
        VERSION = kernels._kernels.VERSION  # type: ignore[union-attr]

        @staticmethod
        def scan(*a):
            t = time.perf_counter()
            try:
                return scan(*a)
            finally:
                spent[0] += time.perf_counter() - t

    kernels._kernels = Timed  # type: ignore[assignment]
    print(f"{len(calls)} passes recorded from {args.queries}")
    for depth in (int(d) for d in args.depths.split(",")):
        best = None
        for _ in range(args.rounds):
            spent[0] = 0.0
            t = time.perf_counter()
            for scorer, runs in calls:
                scorer.tops(runs, depth)
            run = ((time.perf_counter() - t) / len(calls) * 1e3, spent[0] / len(calls) * 1e3)
            best = run if best is None or run < best else best
        print(f"depth {depth}: tops {best[0]:.3f} ms, scan {best[1]:.3f} ms a pass (best of {args.rounds})")


if __name__ == "__main__":
    main()
