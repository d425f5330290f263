"""Speed and memory at scale: citesearch side by side with bm25s and tantivy, in one run.

For each size (passages) it builds (or reuses) a scale corpus with scale_corpus.py, then
measures each system in its own process:

* index build: wall seconds and MB/s of passage text, size on disk;
* per-query latency, one query at a time through the Python API, top 10: p50 and p99
  (citesearch, with BM25 — what the anchors rank by — and with its default hybrid
  method: ``Index.search``, which also fetches passages and makes snippets and
  citations, and ``Index.rank(q, depth=10).top(10)``, the ranking alone, which is what
  the anchors' calls return; both on the default ``Index.open(path)``, which ranks with
  the kernel compiled at install, and ``Index.search`` again on the numpy path,
  ``compiled=False``, what an install without a C compiler gets);
* batch throughput: citesearch's ``citesearch batch -k 10`` command (both cores, process
  start included); the anchors as in ../shared/bench/scale_anchors.py (single thread);
* cold start: a fresh ``citesearch search`` process, wall time, median of 10;
* peak resident memory of the searching process (VmHWM).

Usage:
    python benchmarks/scale.py --sizes 10000,100000,1000000 [--data /tmp/citesearch-scale]
Needs `apt-get install linux-doc-6.1` and, in the same environment, `pip install bm25s
PyStemmer tantivy` (benchmark-only, not project dependencies).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def rss_peak_mb() -> float:
    return int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 1e6


def load(d: Path):
    texts = [json.loads(line)["text"] for line in open(d / "corpus.jsonl")]
    queries = [json.loads(line)["text"] for line in open(d / "queries.jsonl")]
    return texts, queries


def latencies(fn, queries) -> list[float]:
    """Seconds per query, after 20 warm-up queries. A query a system refuses (only stop
    words, for citesearch) still counts with the time it took to say so."""

    def call(q):
        try:
            fn(q)
        except Exception as exc:
            if "stop words" not in str(exc):
                raise

    for q in queries[:20]:
        call(q)
    out = []
    for q in queries:
        t = time.perf_counter()
        call(q)
        out.append(time.perf_counter() - t)
    return out


def child_citesearch(d: Path, work: Path) -> dict:
    """One build; then, for BM25 (what the anchors rank by) and for the default hybrid
    method, latency, batch throughput and cold search."""
    idx = work / "citesearch-index"
    # The compiled numbering is compiled once after installing, then loaded from numba's
    # cache: do that first, as a user's first large build would, outside the timing.
    subprocess.run([sys.executable, "-c", "from citesearch.indexer.compiled import warm_up; warm_up()"], check=True)
    t = time.perf_counter()
    subprocess.run(
        ["citesearch", "index", str(d / "corpus.jsonl"), "--index", str(idx)], check=True, stderr=subprocess.DEVNULL
    )
    build = time.perf_counter() - t
    # Searching happens in a fresh process so that its memory is the searcher's alone.
    code = f"""
import json, time, sys
sys.path.insert(0, {str(HERE)!r})
from scale import latencies, rss_peak_mb
import citesearch
from citesearch.search.query import plain_query
qs = [json.loads(l)["text"] for l in open({str(d / 'queries.jsonl')!r})]
idx = citesearch.Index.open({str(idx)!r})  # the default: the kernel compiled at install, if built
plain = citesearch.Index(idx.reader, compiled=False)  # the same maps: mapping twice would count their pages twice
out = {{}}
for method in ("bm25", "hybrid"):
    out[method] = {{
        "full": latencies(lambda q: idx.search(plain_query(q), k=10, method=method), qs),
        "rank": latencies(lambda q: idx.rank(plain_query(q), method=method, depth=10).top(10), qs),
        "numpy": latencies(lambda q: plain.search(plain_query(q), k=10, method=method), qs),
    }}
out["rss"] = rss_peak_mb()
print(json.dumps(out))
"""
    # cwd: from a checkout, `python -c` would import its source tree, not the installed package.
    res = json.loads(
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=work).stdout
    )
    queries = [json.loads(line)["text"] for line in (d / "queries.jsonl").read_text().splitlines()]
    common = {"build": build, "size": dir_mb(idx), "rss": res["rss"]}
    out = {}
    for method in ("bm25", "hybrid"):
        t = time.perf_counter()
        subprocess.run(
            ["citesearch", "batch", str(d / "queries.jsonl"), "--index", str(idx), "-o", str(work / "run.trec"),
             "-k", "10", "--method", method],
            check=True, stderr=subprocess.DEVNULL,
        )
        batch = time.perf_counter() - t
        cold = []
        for q in queries[:10]:
            t = time.perf_counter()
            subprocess.run(
                ["citesearch", "search", re.sub(r'[":]|(?<!\w)-', " ", q), "--index", str(idx), "--method", method],
                check=False, capture_output=True,
            )
            cold.append(time.perf_counter() - t)
        out[method] = {
            **common, "lat": res[method]["full"], "lat_rank": res[method]["rank"], "lat_numpy": res[method]["numpy"],
            "batch_qps": len(queries) / batch, "cold": statistics.median(cold),
        }
    return out


def child_bm25s(d: Path, work: Path) -> dict:
    import bm25s
    import Stemmer

    stem = Stemmer.Stemmer("english")
    texts, queries = load(d)
    t = time.perf_counter()
    tok = bm25s.tokenize(texts, stopwords="en", stemmer=stem, show_progress=False)
    r = bm25s.BM25(k1=0.9, b=0.4)
    r.index(tok, show_progress=False)
    build = time.perf_counter() - t
    del tok, texts
    r.save(work / "bm25s-index")

    def one(q):
        tokens = bm25s.tokenize([q], stopwords="en", stemmer=stem, show_progress=False)
        r.retrieve(tokens, k=10, show_progress=False, n_threads=1)

    lat = latencies(one, queries)
    return {
        "build": build,
        "size": dir_mb(work / "bm25s-index"),
        "lat": lat,
        "batch_qps": len(lat) / sum(lat),
        "rss": rss_peak_mb(),
    }


def tantivy_build(texts: list[str], path: Path):
    """A tantivy index of ``texts`` at ``path`` (one indexing thread, as the anchors'
    figures), and the seconds it took: the texts are in memory, not timed."""
    import tantivy

    t = time.perf_counter()
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("body", stored=False, tokenizer_name="en_stem")
    path.mkdir()
    idx = tantivy.Index(sb.build(), path=str(path))
    w = idx.writer(heap_size=1_000_000_000, num_threads=1)
    for text in texts:
        w.add_document(tantivy.Document(body=text))
    w.commit()
    w.wait_merging_threads()
    idx.reload()
    return idx, time.perf_counter() - t


def child_tantivy(d: Path, work: Path) -> dict:
    texts, queries = load(d)
    path = work / "tantivy-index"
    idx, build = tantivy_build(texts, path)
    del texts
    s = idx.searcher()
    lat = latencies(lambda q: s.search(idx.parse_query(re.sub(r"[^\w\s]", " ", q), ["body"]), 10), queries)
    return {"build": build, "size": dir_mb(path), "lat": lat, "batch_qps": len(lat) / sum(lat), "rss": rss_peak_mb()}


CHILDREN = {"citesearch": child_citesearch, "bm25s": child_bm25s, "tantivy": child_tantivy}


def ms(values, q) -> float:
    return float(np.percentile(np.array(values) * 1000, q))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--systems", default="citesearch,bm25s,tantivy")
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "citesearch-scale")
    ap.add_argument("--markdown", type=Path, default=None, help="also write the table here")
    ap.add_argument("--child", nargs=2, metavar=("SYSTEM", "DIR"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        system, d = args.child
        with tempfile.TemporaryDirectory(dir=args.data) as work:
            print(json.dumps(CHILDREN[system](Path(d), Path(work))))
        return
    rows = []
    for n in [int(x) for x in args.sizes.split(",")]:
        d = args.data / str(n)
        if not (d / "corpus.jsonl").exists():
            subprocess.run([sys.executable, str(HERE / "scale_corpus.py"), str(d), "--passages", str(n)], check=True)
        mb = sum(len(json.loads(line)["text"]) for line in open(d / "corpus.jsonl")) / 1e6
        for system in args.systems.split(","):
            out = subprocess.run(
                [sys.executable, __file__, "--data", str(args.data), "--child", system, str(d)],
                check=True, capture_output=True, text=True,
            ).stdout
            result = json.loads(out.strip().splitlines()[-1])
            labelled = {f"{system} {m}": r for m, r in result.items()} if system == "citesearch" else {system: result}
            for label, r in labelled.items():
                row = {
                    "passages": n, "system": label,
                    "build_s": r["build"], "mb_s": mb / r["build"], "size_mb": r["size"],
                    "p50": ms(r["lat"], 50), "p99": ms(r["lat"], 99), "qps": r["batch_qps"],
                    "cold": r.get("cold"), "rss": r["rss"],
                    "rank_p50": ms(r["lat_rank"], 50) if "lat_rank" in r else None,
                    "rank_p99": ms(r["lat_rank"], 99) if "lat_rank" in r else None,
                    "numpy_p50": ms(r["lat_numpy"], 50) if "lat_numpy" in r else None,
                    "numpy_p99": ms(r["lat_numpy"], 99) if "lat_numpy" in r else None,
                }
                rows.append(row)
                print(json.dumps(row), flush=True)
    table = render(rows)
    print(table)
    if args.markdown:
        args.markdown.write_text(table)


def render(rows: list[dict]) -> str:
    head = (
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"`python benchmarks/scale.py --sizes {','.join(sorted({str(r['passages']) for r in rows}, key=int))}`\n\n"
        "| passages | system | build s | MB/s | index MB | p50 ms | p99 ms | rank-only p50 / p99 ms "
        "| numpy path p50 / p99 ms | batch q/s | cold search s | peak RSS MB |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        rank = f"{r['rank_p50']:.2f} / {r['rank_p99']:.2f}" if r["rank_p50"] is not None else "—"
        numpy_path = f"{r['numpy_p50']:.2f} / {r['numpy_p99']:.2f}" if r.get("numpy_p50") is not None else "—"
        cold = f"{r['cold']:.3f}" if r["cold"] is not None else "—"
        lines.append(
            f"| {r['passages']:,} | {r['system']} | {r['build_s']:.1f} | {r['mb_s']:.1f} | {r['size_mb']:.0f} | "
            f"{r['p50']:.2f} | {r['p99']:.2f} | {rank} | {numpy_path} | {r['qps']:.0f} | {cold} | {r['rss']:.0f} |"
        )
    return head + "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
