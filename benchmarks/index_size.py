"""Index size on disk, side by side: citesearch (file by file, its store table by table)
and tantivy with and without the texts stored.

Usage:
    python benchmarks/index_size.py CORPUS.jsonl [--work /tmp/citesearch-size]

citesearch stores every text, which its snippets, citations and ``cite`` read; tantivy's
index in ``scale.py`` (and in the anchors' tables) stores none, so a result there is a
document number with no text to show. Both tantivy indexes are built here by ``scale.py``'s
``tantivy_build`` (one indexing thread, ``en_stem``), from CORPUS.jsonl and the
queries.jsonl beside it (a ``scale_corpus.py`` folder). Needs ``pip install tantivy``
(benchmark-only). Sizes are in MiB (2**20 bytes).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

from scale import load, tantivy_build

MIB = 2**20


def _size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def citesearch_size(corpus: Path, path: Path) -> tuple[int, dict[str, int], dict[str, int]]:
    """Total bytes, bytes per file of the generation folder, bytes per table of the store."""
    subprocess.run(["citesearch", "index", str(corpus), "--index", str(path), "--rebuild"], check=True)
    data = path / json.loads((path / "manifest.json").read_text())["data"]
    files = {f.name: f.stat().st_size for f in sorted(data.iterdir())}
    with sqlite3.connect(f"file:{data / 'store.sqlite'}?mode=ro", uri=True) as db:
        tables = dict(db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"))
    return _size(path), files, tables


def tantivy_size(corpus: Path, path: Path, stored: bool) -> int:
    shutil.rmtree(path, ignore_errors=True)
    tantivy_build(load(corpus.parent)[0], path, stored=stored)
    return _size(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--work", type=Path, default=Path("/tmp/citesearch-size"))
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    total, files, tables = citesearch_size(args.corpus, args.work / "citesearch")
    bare = tantivy_size(args.corpus, args.work / "tantivy", stored=False)
    stored = tantivy_size(args.corpus, args.work / "tantivy-stored", stored=True)
    print("| index | MiB | citesearch ÷ it |\n|---|---|---|")
    print(f"| citesearch | {total / MIB:.1f} | |")
    print(f"| tantivy, texts not stored | {bare / MIB:.1f} | {total / bare:.2f}× |")
    print(f"| tantivy, texts stored | {stored / MIB:.1f} | {total / stored:.2f}× |")
    print("\n| citesearch file | MiB |\n|---|---|")
    for name, size in files.items():
        print(f"| {name} | {size / MIB:.1f} |")
    print("\n| store.sqlite table or index | MiB |\n|---|---|")
    for name, size in tables.items():
        if size >= MIB / 10:
            print(f"| {name} | {size / MIB:.1f} |")


if __name__ == "__main__":
    main()
