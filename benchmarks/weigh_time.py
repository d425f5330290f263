"""The build's weighing step alone, on an index's own arrays: wall, CPU and peak memory.

Usage:
    python benchmarks/weigh_time.py INDEX

Loads INDEX's postings, frequencies (one byte, as the build's counting gives them) and
passage lengths into memory, then runs ``builder._weigh`` with the
index's default settings, writing the weights to a temporary folder, and prints its wall
and CPU seconds and the peak RSS above what was loaded (sampled every 50 ms). At 10M
passages this is the step whose temporary arrays (1.5 GB each in float64) decided the
build's peak memory.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from scale import rss_now_mb

from citesearch.indexer import builder
from citesearch.indexer.manifest import read_manifest


class Folder:
    """What ``_weigh`` writes to: .npy files in a folder."""

    def __init__(self, path: Path):
        self.path = path

    def save_array(self, name: str, array: np.ndarray) -> None:
        np.save(self.path / f"{name}.npy", array)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("index", type=Path)
    args = ap.parse_args()
    data = args.index / read_manifest(args.index).data  # the generation the manifest names
    names = ("postings_indptr", "postings_passages", "postings_tf", "passage_length")
    load = {n: np.load(data / f"{n}.npy") for n in names}
    postings = builder._Postings(load["postings_indptr"], load["postings_passages"], load["postings_tf"])
    lengths = load["passage_length"]
    base, peak, done = rss_now_mb(), [0.0], threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], rss_now_mb())

    threading.Thread(target=sample, daemon=True).start()
    with tempfile.TemporaryDirectory() as out:
        t, c = time.perf_counter(), time.process_time()
        builder._weigh(Folder(Path(out)), builder.IndexSettings(), postings, lengths, float(lengths.mean()))
        wall, cpu = time.perf_counter() - t, time.process_time() - c
    done.set()
    print(f"{len(postings.tf):,} postings: weighing {wall:.1f} s wall, {cpu:.1f} s CPU; "
          f"RSS {base:.0f} MB loaded, peak {peak[0]:.0f} MB (+{peak[0] - base:.0f})")


if __name__ == "__main__":
    main()
