"""One index build with the builder's phase log, wall time and CPU time per process.

Usage:
    python benchmarks/build_time.py CORPUS.jsonl [--index DIR] [--workers N]

Prints the debug log of ``citesearch.indexer.builder`` (seconds since the start at the
end of reading, counting, writing and committing), then the wall time, the CPU time of
this (the parent) process, of its main thread, and of the worker processes. Runs on this machine vary by
±1–2 s at 1M passages; compare several runs.
"""

from __future__ import annotations

import argparse
import logging
import resource
import shutil
import tempfile
import time
from pathlib import Path

from citesearch.corpus import load_documents
from citesearch.indexer.builder import build_index


def cpu(who: int) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--index", type=Path, default=None, help="where to build (default: a temporary folder, removed)")
    ap.add_argument("--workers", type=int, default=0)
    args = ap.parse_args()
    logging.basicConfig(level=logging.DEBUG, format="%(relativeCreated)7.0f ms  %(message)s")
    logging.getLogger("citesearch.indexer.builder").setLevel(logging.DEBUG)
    target = args.index or Path(tempfile.mkdtemp()) / "index"
    started, main_thread = time.perf_counter(), time.thread_time()
    summary = build_index(load_documents([args.corpus]), target, workers=args.workers)
    wall, main_thread = time.perf_counter() - started, time.thread_time() - main_thread
    print(f"{summary.passages:,} passages, {summary.postings:,} postings")
    print(
        f"wall {wall:.1f} s; CPU: parent {cpu(resource.RUSAGE_SELF):.1f} s (its main thread {main_thread:.1f} s), "
        f"workers {cpu(resource.RUSAGE_CHILDREN):.1f} s"
    )
    if args.index is None:
        shutil.rmtree(target.parent)


if __name__ == "__main__":
    main()
