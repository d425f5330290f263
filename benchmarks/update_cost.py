"""What an update costs against a full rebuild (issue 14), through the command line.

A collection of about 200k passages in 20 JSONL files (made by scale_corpus.py, split):

* full build (``citesearch index DIR --index IDX --rebuild``), median of 3;
* a run in which nothing changed;
* an update that changes 1% of the passages, all in one file (records rewritten);
* after ``--rounds`` such updates, search latency on the updated index against a fresh
  build of the same documents (the same queries, ``Index.search`` k=10, p50/p99).

Usage:
    python benchmarks/update_cost.py [--data /tmp/citesearch-updates] [--passages 200000]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def cli(*args: object) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "citesearch", *map(str, args)], check=True, capture_output=True)
    return time.perf_counter() - started


def make(data: Path, passages: int) -> tuple[Path, list[str]]:
    source = data / "source"
    if not (source / "corpus.jsonl").exists():
        subprocess.run([sys.executable, HERE / "scale_corpus.py", source, "--passages", str(passages)], check=True)
    docs = data / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    lines = (source / "corpus.jsonl").read_text().splitlines()
    per = -(-len(lines) // 20)
    for i in range(20):
        (docs / f"part{i:02d}.jsonl").write_text("\n".join(lines[i * per : (i + 1) * per]) + "\n")
    queries = [json.loads(q)["text"] for q in (source / "queries.jsonl").read_text().splitlines()]
    return docs, queries


def change_one_percent(docs: Path, passages: int, rng: random.Random) -> None:
    """Rewrite records of one file until 1% of the collection's passages changed (a
    record's passages, about one per 200 words)."""
    path = docs / f"part{rng.randrange(20):02d}.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    target, changed = passages // 100, 0
    for r in rng.sample(records, len(records)):
        if changed >= target:
            break
        words = r["text"].split()
        rng.shuffle(words)
        r["text"] = " ".join(words)
        changed += max(1, round(len(words) / 200))
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


def latencies(index: Path, queries: list[str]) -> tuple[float, float]:
    from citesearch import Index
    from citesearch.errors import CitesearchError

    with Index.open(index) as idx:
        runnable = []
        for q in queries:
            try:
                idx.search(q, k=10)
                runnable.append(q)
            except CitesearchError:  # only stop words
                pass
        times = []
        for q in runnable:
            started = time.perf_counter()
            idx.search(q, k=10)
            times.append(time.perf_counter() - started)
    times.sort()
    return statistics.median(times) * 1e3, times[int(len(times) * 0.99)] * 1e3


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=Path("/tmp/citesearch-updates"))
    ap.add_argument("--passages", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=10)
    args = ap.parse_args()
    docs, queries = make(args.data, args.passages)
    index, fresh = args.data / "index", args.data / "fresh"
    rng = random.Random(0)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    full = [cli("index", docs, "--index", index, "--rebuild") for _ in range(3)]
    none = [cli("index", docs, "--index", index) for _ in range(3)]
    ones = []
    for _ in range(args.rounds):
        change_one_percent(docs, args.passages, rng)
        ones.append(cli("index", docs, "--index", index))
    cli("index", docs, "--index", fresh, "--rebuild")
    updated_lat, fresh_lat = latencies(index, queries), latencies(fresh, queries)
    full_s = statistics.median(full)  # medians on both sides
    rows = [
        ("full rebuild", full_s, 1.0),
        ("no change", statistics.median(none), statistics.median(none) / full_s),
        ("1% of the passages changed (median of rounds)", statistics.median(ones), statistics.median(ones) / full_s),
    ]
    print(f"\n{args.passages:,} passages in 20 JSONL files ({docs}); load average after: {os.getloadavg()[0]:.2f}\n")
    print("full rebuilds:", ", ".join(f"{t:.2f}" for t in full), "s")
    print("1% updates:", ", ".join(f"{t:.2f}" for t in ones), "s")
    print("| run | seconds | share of a full rebuild |\n|---|---|---|")
    for name, seconds, share in rows:
        print(f"| {name} | {seconds:.2f} | {share:.0%} |")
    print(f"\nsearch after {args.rounds} updates vs a fresh build of the same documents (Index.search, k=10):")
    print("| index | p50 ms | p99 ms |\n|---|---|---|")
    print(f"| updated {args.rounds} times | {updated_lat[0]:.2f} | {updated_lat[1]:.2f} |")
    print(f"| fresh build | {fresh_lat[0]:.2f} | {fresh_lat[1]:.2f} |")


if __name__ == "__main__":
    main()
