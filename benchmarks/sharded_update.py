"""Issue 17, point 3: an in-place update of a sharded index against a full sharded rebuild.

    python benchmarks/sharded_update.py [--docs /tmp/citesearch-updates/docs] [--out /tmp/shd-update]
                                        [--shards 4] [--rounds 3]

Copies the 200k-passage collection of ``update_cost.py`` (20 JSONL files; left as it is),
builds it as --shards shards in local processes, then times through the command line
(process start included): a full rebuild (``--rebuild --shards N``), a run in which nothing
changed, and --rounds updates that each change 1% of the passages in one file
(``update_cost.change_one_percent``), checking ``info --verify`` after them.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from update_cost import change_one_percent  # noqa: E402


def cli(*args: object) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "citesearch", *map(str, args)], check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", type=Path, default=Path("/tmp/citesearch-updates/docs"))
    ap.add_argument("--out", type=Path, default=Path("/tmp/shd-update"))
    ap.add_argument("--passages", type=int, default=200_000)
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    shutil.rmtree(a.out, ignore_errors=True)
    docs, index = a.out / "docs", a.out / "index"
    shutil.copytree(a.docs, docs)
    rng = random.Random(0)
    shards = ("--shards", a.shards)
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    cli("index", docs, "--index", index, *shards)
    full = [cli("index", docs, "--index", index, "--rebuild", *shards) for _ in range(2)]
    none = [cli("index", docs, "--index", index) for _ in range(2)]
    ones = []
    for _ in range(a.rounds):
        change_one_percent(docs, a.passages, rng)
        ones.append(cli("index", docs, "--index", index))
    cli("info", "--index", index, "--verify")
    full_s = min(full)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"\n{a.passages:,} passages in 20 JSONL files, {a.shards} shards (local processes)\n")
    print("| run | seconds | share of a full sharded rebuild |\n|---|---|---|")
    print(f"| full rebuild (`--rebuild --shards {a.shards}`, best of 2: {', '.join(f'{s:.2f}' for s in full)}) "
          f"| {full_s:.2f} | 100% |")
    for name, runs in (("no change", none), (f"1% of the passages changed (median of {a.rounds})", ones)):
        print(f"| {name} ({', '.join(f'{s:.2f}' for s in runs)}) | {statistics.median(runs):.2f} "
              f"| {statistics.median(runs) / full_s:.0%} |")


if __name__ == "__main__":
    main()
