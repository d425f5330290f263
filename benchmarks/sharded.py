"""Issue 17: a sharded index on a local Dask cluster next to a single index.

    python benchmarks/sharded.py CORPUS.jsonl QUERIES.jsonl OUT_DIR [--shards 4] [--workers 2]

Builds a single index (``citesearch index``, every core) and an index of --shards shards
on a ``distributed.LocalCluster`` of --workers single-threaded worker processes
(``citesearch index --shards N --scheduler ADDRESS``), then runs ``citesearch batch`` (TREC,
1000 deep, hybrid and bm25) on the single index locally and on the sharded index on the
cluster, and checks the run files are identical. Every figure is a wall-clock time of the
command, process start included; the build's phases are timed by its debug log.
"""

from __future__ import annotations

import argparse
import filecmp
import logging
import os
import shutil
import subprocess
import sys
import time


def timed(*args: str, env=None) -> float:
    started = time.perf_counter()
    done = subprocess.run(["citesearch", *args], capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"citesearch {' '.join(args)} failed:\n{done.stderr}")
    return seconds


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("corpus")
    p.add_argument("queries")
    p.add_argument("out")
    p.add_argument("--shards", type=int, default=4)
    p.add_argument("--workers", type=int, default=2)
    a = p.parse_args()
    from distributed import LocalCluster

    logging.basicConfig(level=logging.WARNING)
    os.makedirs(a.out, exist_ok=True)
    single, sharded = os.path.join(a.out, "single"), os.path.join(a.out, "sharded")
    for path in (single, sharded):
        shutil.rmtree(path, ignore_errors=True)
    with LocalCluster(n_workers=a.workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster:
        address = cluster.scheduler_address
        print(f"load before: {os.getloadavg()[0]:.2f}")
        print(f"build single: {timed('index', a.corpus, '--index', single):.1f} s")
        seconds = timed("index", a.corpus, "--index", sharded, "--shards", str(a.shards), "--scheduler", address)
        print(f"build {a.shards} shards on {a.workers} workers: {seconds:.1f} s")
        for method in ("bm25", "hybrid"):
            one, many = os.path.join(a.out, f"single-{method}.trec"), os.path.join(a.out, f"sharded-{method}.trec")
            t1 = timed("batch", a.queries, "--index", single, "-o", one, "--method", method)
            t2 = timed("batch", a.queries, "--index", sharded, "-o", many, "--method", method, "--scheduler", address)
            with open(a.queries) as f:
                n = sum(1 for _ in f)
            print(f"batch {method}: single (local, {os.cpu_count()} processes) {t1:.1f} s = {n / t1:.0f} q/s; "
                  f"sharded on the cluster {t2:.1f} s = {n / t2:.0f} q/s; identical runs: {filecmp.cmp(one, many)}")
        print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
