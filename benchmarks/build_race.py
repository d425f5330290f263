"""Index builds of citesearch and tantivy, taking turns, to compare build times on a
machine whose speed drifts.

Usage:
    python benchmarks/build_race.py --data /work/scale --size 1000000 [--rounds 4]

Each round builds the scale corpus of ``--size`` passages (made by ``scale_corpus.py``)
with ``citesearch index`` (a fresh process, reading the JSONL file, as in ``scale.py``)
and then with tantivy (one indexing thread, the texts already in memory, as in
``scale.py``), each in its own process. Prints each round's two times and their ratio.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def citesearch_seconds(corpus: Path, work: Path) -> float:
    t = time.perf_counter()
    subprocess.run(
        ["citesearch", "index", str(corpus), "--index", str(work / "citesearch")], check=True, stderr=subprocess.DEVNULL
    )
    return time.perf_counter() - t


def tantivy_seconds(data: Path, work: Path) -> float:
    code = (
        f"import sys; sys.path.insert(0, {str(HERE)!r}); "
        "from pathlib import Path; from scale import load, tantivy_build; "
        f"print(tantivy_build(load(Path({str(data)!r}))[0], Path({str(work / 'tantivy')!r}))[1])"
    )
    return float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--rounds", type=int, default=4)
    args = ap.parse_args()
    data = args.data / str(args.size)
    # The compiled numbering is compiled once after installing: do that outside the timing.
    subprocess.run([sys.executable, "-c", "from citesearch.indexer.compiled import warm_up; warm_up()"], check=True)
    rows = []
    for r in range(1, args.rounds + 1):
        work = Path(tempfile.mkdtemp())
        try:
            c, t = citesearch_seconds(data / "corpus.jsonl", work), tantivy_seconds(data, work)
        finally:
            shutil.rmtree(work)
        rows.append((c, t))
        result = {"round": r, "citesearch_s": round(c, 2), "tantivy_s": round(t, 2), "ratio": round(c / t, 3)}
        print(json.dumps(result), flush=True)
    ratios = [c / t for c, t in rows]
    print(f"citesearch / tantivy build time: median {statistics.median(ratios):.3f}, "
          f"range {min(ratios):.3f}–{max(ratios):.3f} over {len(rows)} rounds")


if __name__ == "__main__":
    main()
