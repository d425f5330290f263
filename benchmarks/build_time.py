"""One index build with the builder's phase log, wall time and CPU time per process.

Usage:
    python benchmarks/build_time.py CORPUS.jsonl [--index DIR] [--workers N] [--threads] [--steps]

Prints the debug log of ``citesearch.indexer.builder`` (seconds since the start at the
end of reading, counting, writing and committing), then the wall time, the CPU time of
this (the parent) process, of its main thread, and of the worker processes; with
``--threads``, the CPU of each of the parent's threads (read from ``/proc`` every 0.1 s,
Linux only), which is how the GIL's contenders show up; with ``--steps``, each step
after reading (counting, saving the postings, each method's weighing, the commit) with
its start, end, wall and CPU seconds and its thread. Runs on this machine vary by ±1–2 s
at 1M passages and by ±10 s at 10M; compare several runs.
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import shutil
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from citesearch.corpus import load_documents
from citesearch.indexer import builder
from citesearch.indexer.builder import build_index

STEPS = ("_count_postings", "_save_postings", "_save_bm25", "_save_dfr", "_save_tfidf")


def log_steps(started: float) -> None:
    """Print each of the builder's STEPS (and the commit) as it ends."""

    def timed(fn, name):
        def step(*args, **kwargs):
            t, c = time.perf_counter(), time.thread_time()
            out = fn(*args, **kwargs)
            print(
                f"  {name}: {t - started:.2f} -> {time.perf_counter() - started:.2f} s, "
                f"wall {time.perf_counter() - t:.2f} s, CPU {time.thread_time() - c:.2f} s "
                f"[{threading.current_thread().name}]",
                flush=True,
            )
            return out

        return step

    for name in STEPS:
        setattr(builder, name, timed(getattr(builder, name), name))
    builder.IndexWriter.commit = timed(builder.IndexWriter.commit, "commit")


def cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def watch_threads(seen: dict[int, tuple[str, float]]) -> None:
    """Keep ``seen`` (thread id → name, CPU seconds) up to date for this process's threads."""
    tick = os.sysconf("SC_CLK_TCK")
    while True:
        names = {t.native_id: t.name for t in threading.enumerate()}
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:  # the thread ended
                continue
            name = names.get(int(tid)) or seen.get(int(tid), (tid, 0))[0]
            seen[int(tid)] = (name, (int(fields[11]) + int(fields[12])) / tick)
        time.sleep(0.1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--index", type=Path, default=None, help="where to build (default: a temporary folder, removed)")
    ap.add_argument("--workers", type=int, default=0)
    ap.add_argument("--threads", action="store_true", help="also print the CPU of each of the parent's threads")
    ap.add_argument("--steps", action="store_true", help="also print each step's times after reading")
    args = ap.parse_args()
    seen: dict[int, tuple[str, float]] = {}
    if args.threads:
        threading.Thread(target=watch_threads, args=(seen,), name="watcher", daemon=True).start()
    logging.basicConfig(level=logging.DEBUG, format="%(relativeCreated)7.0f ms  %(message)s")
    logging.getLogger("citesearch.indexer.builder").setLevel(logging.DEBUG)
    target = args.index or Path(tempfile.mkdtemp()) / "index"
    started, main_thread = time.perf_counter(), time.thread_time()
    if args.steps:
        log_steps(started)
    summary = build_index(load_documents([args.corpus]), target, workers=args.workers)
    wall, main_thread = time.perf_counter() - started, time.thread_time() - main_thread
    print(f"{summary.passages:,} passages, {summary.postings:,} postings")
    print(
        f"wall {wall:.1f} s; CPU: parent {cpu(resource.RUSAGE_SELF):.1f} s (its main thread {main_thread:.1f} s), "
        f"workers {cpu(resource.RUSAGE_CHILDREN):.1f} s"
    )
    if args.threads:
        by_name: Counter[str] = Counter()
        for name, seconds in seen.values():
            by_name[name.rsplit("_", 1)[0]] += seconds  # executor threads end in _0, _1…
        print("parent threads, CPU s: " + ", ".join(f"{name} {s:.2f}" for name, s in by_name.most_common()))
    if args.index is None:
        shutil.rmtree(target.parent)


if __name__ == "__main__":
    main()
