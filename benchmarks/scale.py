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
* peak resident memory: of the build (citesearch: the largest single process, from
  wait4, and the sum over the process tree, sampled — PSS, so the pages the forked
  workers share with the parent count once; tantivy: the building process, its texts in
  memory included) and of the searching process (VmHWM; each system searches in a fresh
  process that opens the index from disk).

A build whose process tree passes ``--rss-limit-gb`` (default 20) is stopped. The build's
memory timeline and citesearch's phase log are written beside the corpus
(``DIR/citesearch-build-rss.tsv``, ``DIR/citesearch-build.log``).

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
# The command of the environment running this (a venv's, even when it is not on PATH).
_BESIDE = Path(sys.executable).parent / "citesearch"
CITESEARCH = str(_BESIDE) if _BESIDE.exists() else "citesearch"


def rss_peak_mb() -> float:
    return int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0]) / 1024


def rss_now_mb() -> float:
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) / 1024


RSS_LIMIT_GB = float(os.environ.get("SCALE_RSS_LIMIT_GB", "20"))


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in open(f"/proc/{p}/task/{task}/children").read().split()]
        except OSError:
            pass
    return out


def _kb(path: str, field: str) -> int:
    try:
        text = open(path).read()
    except OSError:
        return 0
    i = text.find(field + ":")
    return int(text[i + len(field) + 1 :].split()[0]) if i >= 0 else 0


def run_measured(cmd: list[str], timeline: Path, **kwargs) -> tuple[float, float, float]:
    """Run ``cmd``; its wall seconds, the peak RSS of its largest single process (MB,
    from wait4: the process and each descendant it waited for) and the peak of its
    process tree's summed PSS (MB, sampled every 0.2 s, written to ``timeline``). The
    tree is killed if its summed RSS passes RSS_LIMIT_GB."""
    import signal
    import threading

    t = time.perf_counter()
    proc = subprocess.Popen(cmd, start_new_session=True, **kwargs)
    peak_pss = 0.0
    done = threading.Event()

    def sample():
        nonlocal peak_pss
        with open(timeline, "w") as f:
            f.write("seconds\tmain_rss_mb\ttree_rss_mb\ttree_pss_mb\tprocesses\n")
            while not done.wait(0.2):
                pids = _tree(proc.pid)
                rss = sum(_kb(f"/proc/{p}/status", "VmRSS") for p in pids) / 1024
                pss = sum(_kb(f"/proc/{p}/smaps_rollup", "Pss") for p in pids) / 1024
                main = _kb(f"/proc/{proc.pid}/status", "VmRSS") / 1024
                peak_pss = max(peak_pss, pss)
                f.write(f"{time.perf_counter() - t:.1f}\t{main:.0f}\t{rss:.0f}\t{pss:.0f}\t{len(pids)}\n")
                f.flush()
                if rss > RSS_LIMIT_GB * 1024:
                    os.killpg(proc.pid, signal.SIGKILL)
                    f.write(f"# killed: tree RSS {rss:.0f} MB > {RSS_LIMIT_GB} GB\n")
                    return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    sampler.join()
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, cmd)
    return seconds, usage.ru_maxrss / 1024, peak_pss


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
    # `citesearch index`, with the builder's phase log (its debug lines, timed) kept.
    build_cmd = (
        "import logging, sys; h = logging.FileHandler(sys.argv.pop()); "
        "h.setFormatter(logging.Formatter('%(relativeCreated)8.0f ms %(message)s')); "
        "logging.getLogger('citesearch').addHandler(h); logging.getLogger('citesearch').setLevel(logging.DEBUG); "
        "from citesearch.cli import main; sys.argv[0] = 'citesearch'; main()"
    )
    build, build_rss, build_pss = run_measured(
        [sys.executable, "-c", build_cmd, "index", str(d / "corpus.jsonl"), "--index", str(idx),
         str(d / "citesearch-build.log")],
        d / "citesearch-build-rss.tsv", stderr=subprocess.DEVNULL, cwd=work,
    )
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
    common = {"build": build, "size": dir_mb(idx), "rss": res["rss"], "build_rss": build_rss, "build_pss": build_pss}
    out = {}
    for method in ("bm25", "hybrid"):
        t = time.perf_counter()
        subprocess.run(
            [CITESEARCH, "batch", str(d / "queries.jsonl"), "--index", str(idx), "-o", str(work / "run.trec"),
             "-k", "10", "--method", method],
            check=True, stderr=subprocess.DEVNULL,
        )
        batch = time.perf_counter() - t
        cold = []
        for q in queries[:10]:
            t = time.perf_counter()
            subprocess.run(
                [CITESEARCH, "search", re.sub(r'[":]|(?<!\w)-', " ", q), "--index", str(idx), "--method", method],
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


def tantivy_build(texts: list[str], path: Path, stored: bool = False):
    """A tantivy index of ``texts`` at ``path`` (one indexing thread, as the anchors'
    figures), and the seconds it took: the texts are in memory, not timed. ``stored``:
    the texts kept in the index too, as citesearch keeps them (``index_size.py``)."""
    import tantivy

    t = time.perf_counter()
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("body", stored=stored, tokenizer_name="en_stem")
    path.mkdir()
    idx = tantivy.Index(sb.build(), path=str(path))
    w = idx.writer(heap_size=1_000_000_000, num_threads=1)
    for text in texts:
        w.add_document(tantivy.Document(body=text))
    w.commit()
    w.wait_merging_threads()
    idx.reload()
    return idx, time.perf_counter() - t


def tantivy_search(path: Path, queries_file: Path) -> dict:
    """Latency of the tantivy index at ``path``, opened from disk in this process."""
    import tantivy

    queries = [json.loads(line)["text"] for line in open(queries_file)]
    idx = tantivy.Index.open(str(path))
    s = idx.searcher()
    lat = latencies(lambda q: s.search(idx.parse_query(re.sub(r"[^\w\s]", " ", q), ["body"]), 10), queries)
    return {"lat": lat, "rss": rss_peak_mb()}


def child_tantivy(d: Path, work: Path) -> dict:
    texts, _ = load(d)
    loaded = rss_now_mb()
    path = work / "tantivy-index"
    _, build = tantivy_build(texts, path)
    build_rss = rss_peak_mb()
    del texts
    # Searching happens in a fresh process, as citesearch's, so that its memory is the searcher's alone.
    code = f"""
import json, sys
sys.path.insert(0, {str(HERE)!r})
from pathlib import Path
from scale import tantivy_search
print(json.dumps(tantivy_search(Path({str(path)!r}), Path({str(d / 'queries.jsonl')!r}))))
"""
    res = json.loads(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)
    lat = res["lat"]
    return {
        "build": build, "size": dir_mb(path), "lat": lat, "batch_qps": len(lat) / sum(lat), "rss": res["rss"],
        "build_rss": build_rss, "texts_rss": loaded,
    }


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
    args.data = args.data.resolve()  # the children run in their work folders
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
                    "cold": r.get("cold"), "rss": r["rss"], "build_rss": r.get("build_rss"),
                    "build_pss": r.get("build_pss"), "texts_rss": r.get("texts_rss"),
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
        "| numpy path p50 / p99 ms | batch q/s | cold search s | build peak RSS MB | search peak RSS MB |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    lines = []
    for r in rows:
        rank = f"{r['rank_p50']:.2f} / {r['rank_p99']:.2f}" if r["rank_p50"] is not None else "—"
        numpy_path = f"{r['numpy_p50']:.2f} / {r['numpy_p99']:.2f}" if r.get("numpy_p50") is not None else "—"
        cold = f"{r['cold']:.3f}" if r["cold"] is not None else "—"
        build_rss = "—"
        if r.get("build_rss") is not None:
            build_rss = f"{r['build_rss']:.0f}"
            if r.get("build_pss") is not None:
                build_rss += f" (tree PSS {r['build_pss']:.0f})"
            if r.get("texts_rss") is not None:
                build_rss += f" (texts loaded: {r['texts_rss']:.0f})"
        lines.append(
            f"| {r['passages']:,} | {r['system']} | {r['build_s']:.1f} | {r['mb_s']:.1f} | {r['size_mb']:.0f} | "
            f"{r['p50']:.2f} | {r['p99']:.2f} | {rank} | {numpy_path} | {r['qps']:.0f} | {cold} | "
            f"{build_rss} | {r['rss']:.0f} |"
        )
    return head + "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
