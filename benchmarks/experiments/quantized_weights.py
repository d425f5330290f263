"""Issue 16 study: which lossy encodings of the per-posting weights keep ranking quality.

The index stores one float32 BM25 weight and one float32 TF-IDF weight per posting
(``bm25_weights.npy``, ``tfidf_weights.npy``; 2 x 76 MB at 1M passages). This simulates
storing them in fewer bits: for each encoding it copies each collection's index, writes
the *dequantized* weights back as float32 (same file size, so the reader opens it as is),
recomputes both impact prefixes from them (``impact_prefixes``, as ``builder._save_bm25``
and ``_save_tfidf`` do: the MaxScore bounds read each list's heaviest postings from
there), and evaluates every row of BENCHMARKS.md's quality tables exactly as
``benchmarks/quality.py --markdown`` does (same settings, same ``evaluate``, runs 1000 and
100 deep). Figures are compared with the unquantized index's, unrounded.

What is simulated is storage precision only: a real implementation that multiplies a
stored code by its scale at query time (or folds the scale into the query coefficient)
could differ from these float32 products in the last bits, which can only move exact ties.

Usage (from the worktree, ~1 min per encoding on 2 cores):
    PYTHONPATH=. python benchmarks/experiments/quantized_weights.py \\
        /work/shared/collections/{cisi,cacm,med,adi} --json /tmp/quant.json --markdown > /tmp/quant.md
    ... --only f32,lin8,float16     # some encodings only
    PYTHONPATH=. python benchmarks/experiments/quantized_weights.py --stats-index /tmp/size1m  # 1M weights' errors
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from citesearch.indexer.builder import IndexSettings
from citesearch.indexer.impacts import impact_prefixes
from citesearch.indexer.manifest import read_manifest
from citesearch.search.expansion import RM3
from citesearch.search.options import SearchOptions
from citesearch.search.searcher import Index

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # benchmarks/
from quality import build, evaluate, load_collection  # noqa: E402 - the official table's code

FIGURES = ["nDCG@10", "AP (100 deep)", "AP (1000 deep)", "R@100", "P@10"]
# BENCHMARKS.md's citesearch rows, as quality.py --markdown makes them: (label, options)
ROWS = [
    ("bm25", dict(method="bm25", expand=None)),
    ("bm25 + RM3", dict(method="bm25", expand=RM3())),
    ("tfidf", dict(method="tfidf", expand=None)),
    ("tfidf + RM3", dict(method="tfidf", expand=RM3())),
    ("hybrid (default)", dict(method="hybrid", expand=None)),
    ("hybrid + RM3", dict(method="hybrid", expand=RM3())),
    ("hybrid + RM3 20/10/0.8 on BM25", dict(options=SearchOptions(expand=RM3(20, 10, 0.8), expand_runs="bm25"))),
]
# The 1M-passage scale index (benchmarks/scale.py, format 5): 18,908,274 postings over 92,387
# terms, 75.6 MB per float32 weight array, 465 MB in all (store.sqlite 192 MB).
POSTINGS_1M, TERMS_1M = 18_908_274, 92_387


# -- encodings: float32 weights in, dequantized float32 weights out --------------------------


def linear(bits: int, mode: str = "round"):
    """One global scale: q = round|floor(w / max * (2^bits - 1)), w' = q * max / (2^bits - 1)."""
    levels = (1 << bits) - 1

    def enc(w: np.ndarray, indptr: np.ndarray) -> np.ndarray:
        step = float(w.max()) / levels
        x = w.astype(np.float64) / step
        q = np.floor(x) if mode == "floor" else np.rint(x)
        return (q * step).astype(np.float32)

    return enc


def linear_per_term(bits: int):
    """A scale per term (its list's largest weight): w' = round(w / max_t * L) * max_t / L."""
    levels = (1 << bits) - 1

    def enc(w: np.ndarray, indptr: np.ndarray) -> np.ndarray:
        df = np.diff(indptr)
        nonempty = df > 0
        term_max = np.zeros(len(df))
        term_max[nonempty] = np.maximum.reduceat(w.astype(np.float64), indptr[:-1][nonempty])
        step = np.repeat(term_max / levels, df)
        step[step == 0] = 1.0
        return (np.rint(w / step) * step).astype(np.float32)

    return enc


def logarithmic(bits: int):
    """q = round(log(w / min) / log(max / min) * L), min the smallest positive weight;
    w' = min * (max / min)^(q / L). Zero weights (if any) stay zero."""
    levels = (1 << bits) - 1

    def enc(w: np.ndarray, indptr: np.ndarray) -> np.ndarray:
        pos = w > 0
        lo, hi = float(w[pos].min()), float(w.max())
        span = math.log(hi / lo)
        q = np.rint(np.log(w[pos].astype(np.float64) / lo) / span * levels)
        out = np.zeros(len(w), dtype=np.float64)
        out[pos] = lo * np.exp(q / levels * span)
        return out.astype(np.float32)

    return enc


def minifloat(exp_bits: int, man_bits: int):
    """An unsigned float of exp_bits + man_bits bits (with subnormals, no inf/nan), scaled
    so that its largest value is the array's largest weight; round to nearest code."""
    bias = (1 << (exp_bits - 1)) - 1
    codes = []
    for e in range(1 << exp_bits):
        for m in range(1 << man_bits):
            frac = m / (1 << man_bits)
            codes.append(frac * 2.0 ** (1 - bias) if e == 0 else (1 + frac) * 2.0 ** (e - bias))
    table = np.array(sorted(codes))

    def enc(w: np.ndarray, indptr: np.ndarray) -> np.ndarray:
        scaled = table * (float(w.max()) / table[-1])
        return _nearest(scaled, w.astype(np.float64)).astype(np.float32)

    return enc


def _nearest(table: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Each of x rounded to the nearest value of the sorted table (ties down)."""
    i = np.clip(np.searchsorted(table, x), 1, len(table) - 1)
    lo, hi = table[i - 1], table[i]
    return np.where(x - lo <= hi - x, lo, hi)


def float16(w: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    return w.astype(np.float16).astype(np.float32)


def bfloat16(w: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    """float32 with its mantissa rounded (to nearest even) to 7 bits."""
    u = np.ascontiguousarray(w, dtype=np.float32).view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32)


def identity(w: np.ndarray, indptr: np.ndarray) -> np.ndarray:
    return w.copy()


def jitter(eps: float, seed: int):
    """A control, not an encoding: each weight times (1 + u), u uniform in [-eps, eps]
    (seeded), drawn once per distinct weight, so that equal weights stay equal as under
    any encoding (exact ties between passages are not broken). Shows how far the figures
    move for errors of a given size that have no pattern."""

    def enc(w: np.ndarray, indptr: np.ndarray) -> np.ndarray:
        values, inverse = np.unique(w, return_inverse=True)
        u = np.random.default_rng(seed).uniform(-eps, eps, len(values))[inverse]
        return (w * (1 + u)).astype(np.float32)

    return enc


# name: (function, bits per posting as stored, extra bytes per term, description)
ENCODINGS = {
    "f32": (identity, 32, 0, "float32, as stored today (the copy-and-rewrite path, checked against the original)"),
    "lin8": (linear(8), 8, 0, "8-bit linear, global scale, round"),
    "lin8-floor": (linear(8, "floor"), 8, 0, "8-bit linear, global scale, floor"),
    "lin8-term": (linear_per_term(8), 8, 4, "8-bit linear, per-term scale (list max), round"),
    "log8": (logarithmic(8), 8, 0, "8-bit logarithmic, global min/max"),
    "fp8-e4m4": (minifloat(4, 4), 8, 0, "8-bit unsigned float, 4 exponent + 4 mantissa bits, global scale"),
    "lin10": (linear(10), 10, 0, "10-bit linear, global scale, round"),
    "lin12": (linear(12), 12, 0, "12-bit linear, global scale, round"),
    "lin12-term": (linear_per_term(12), 12, 4, "12-bit linear, per-term scale (list max), round"),
    "lin14": (linear(14), 14, 0, "14-bit linear, global scale, round"),
    "lin16": (linear(16), 16, 0, "16-bit linear, global scale, round"),
    "float16": (float16, 16, 0, "IEEE float16 round trip"),
    "bfloat16": (bfloat16, 16, 0, "bfloat16 (float32 with 8-bit mantissa) round trip"),
    **{
        f"jitter-{eps:.0e}/{seed}": (
            jitter(eps, seed), 32, 0, f"control: float32 times (1 + u), u uniform in ±{eps:.0e}, seed {seed}"
        )
        for eps, seeds in ((1e-3, (1,)), (1e-4, (1, 2, 3)), (1e-5, (1, 2, 3)), (1e-6, (1,)))
        for seed in seeds
    },
}


# -- indexes -----------------------------------------------------------------------------------


def base_index(coll: Path, cache: Path) -> Path:
    """The collection's index with quality.py's settings (its defaults), built once."""
    out = cache / "base" / coll.name
    if not (out / "manifest.json").exists():
        if out.exists():
            shutil.rmtree(out)
        secs = build(coll, out, IndexSettings())
        print(f"  built {coll.name} in {secs:.1f}s", file=sys.stderr)
    return out


def quantized_copy(base: Path, dest: Path, enc) -> dict:
    """Copy ``base`` to ``dest`` with both weight arrays passed through ``enc`` and the
    impact prefixes recomputed from them. Returns per-array statistics."""
    if dest.exists():
        shutil.rmtree(dest)
    shutil.copytree(base, dest)
    manifest = read_manifest(dest)
    data = dest / json.loads((dest / "manifest.json").read_text())["data"]
    indptr = np.load(data / "postings_indptr.npy")
    stats = {}
    for kind in ("bm25", "tfidf"):
        path = data / f"{kind}_weights.npy"
        w = np.load(path)
        q = enc(w, indptr)
        assert q.dtype == np.float32 and q.shape == w.shape
        size = path.stat().st_size
        np.save(path, q)
        assert path.stat().st_size == size
        top_indptr, top = impact_prefixes(indptr, q, manifest.impact_prefix)
        assert np.array_equal(top_indptr, np.load(data / "impact_indptr.npy"))
        old_top = np.load(data / f"{kind}_impacts.npy")
        np.save(data / f"{kind}_impacts.npy", top)
        stats[kind] = weight_stats(w, q) | {"impacts_changed": int((old_top != top).sum())}
    return stats


def weight_stats(w: np.ndarray, q: np.ndarray) -> dict:
    w64, q64 = w.astype(np.float64), q.astype(np.float64)
    rel = np.abs(q64 - w64) / np.where(w64 > 0, w64, 1)
    return {
        "postings": int(len(w)),
        "distinct_before": int(len(np.unique(w))),
        "distinct": int(len(np.unique(q))),
        "zeros_before": int((w <= 0).sum()),
        "zeros": int((q <= 0).sum()),
        "max_rel_err": float(rel.max()),
        "mean_rel_err": float(rel.mean()),
        "median_rel_err": float(np.median(rel)),
    }


def stats_only(index: Path, names: list[str]) -> str:
    """Each encoding's statistics on a (large) existing index's weights, read only."""
    data = index / json.loads((index / "manifest.json").read_text())["data"]
    indptr = np.load(data / "postings_indptr.npy")
    lines = [
        f"Weights of {index} ({len(indptr) - 1:,} terms), read only.\n",
        "| encoding | array | min / max weight (f32) | distinct (f32 → enc) | zero weights "
        "| max / median / mean rel. error |",
        "|---|---|---|---|---|---|",
    ]
    for kind in ("bm25", "tfidf"):
        w = np.load(data / f"{kind}_weights.npy")
        for name in names:
            st = weight_stats(w, ENCODINGS[name][0](w, indptr))
            lines.append(
                f"| {name} | {kind} | {float(w.min()):.3g} / {float(w.max()):.3g} | "
                f"{st['distinct_before']:,} → {st['distinct']:,} | {st['zeros']:,} | "
                f"{st['max_rel_err']:.2e} / {st['median_rel_err']:.2e} / {st['mean_rel_err']:.2e} |"
            )
            print(lines[-1], file=sys.stderr, flush=True)
    return "\n".join(lines)


def evaluate_rows(path: Path, queries, qrels) -> dict[str, dict[str, float]]:
    """Every row of the collection's BENCHMARKS.md table, as quality.py --markdown computes it."""
    index = Index.open(path)
    out = {}
    for label, kw in ROWS:
        m = evaluate(index, queries, qrels, **kw)
        m100 = evaluate(index, queries, qrels, k=100, **kw)
        out[label] = dict(zip(FIGURES, (m["nDCG@10"], m100["AP"], m["AP"], m["R@100"], m["P@10"])))
    index.close()
    return out


# -- report ------------------------------------------------------------------------------------


def saving_mb(bits: int, extra_per_term: int) -> float:
    """Both arrays together, at 1M passages, less the per-term scales if any."""
    return 2 * (POSTINGS_1M * (32 - bits) / 8 - TERMS_1M * extra_per_term) / 1e6


def markdown(results: dict, stats: dict, colls: list[str], tol: float) -> str:
    base = results["f32"]
    lines = []
    lines.append("## Summary\n")
    lines.append(
        f"Figures: {len(colls)} collections x {len(ROWS)} rows x {len(FIGURES)} figures = "
        f"{len(colls) * len(ROWS) * len(FIGURES)} per encoding. Δ = quantized − float32, unrounded; "
        f"'over' counts figures with |Δ| > {tol}, 'drops' those with Δ < −{tol}.\n"
    )
    lines.append(
        "| encoding | bits/posting | saving at 1M (2 arrays) | distinct BM25 / TF-IDF values (max over collections) "
        "| worst drop (Δ, where) | worst |Δ| | mean Δ | over | drops | within 0.001 everywhere |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|---|")
    for name, (_, bits, extra, _desc) in ENCODINGS.items():
        if name not in results:
            continue
        deltas = [
            (results[name][c][r][f] - base[c][r][f], c, r, f) for c in colls for r, _ in ROWS for f in FIGURES
        ]
        worst_drop = min(deltas)
        worst_abs = max(deltas, key=lambda d: abs(d[0]))
        over = sum(abs(d[0]) > tol for d in deltas)
        drops = sum(d[0] < -tol for d in deltas)
        dist = [max(stats[name][c][k]["distinct"] for c in colls) for k in ("bm25", "tfidf")]
        bytes_pp = f"{bits / 8:g} B" + (" + 4 B/term" if extra else "")
        saved = f"{saving_mb(bits, extra):.1f} MB"
        if name.startswith("jitter"):
            bytes_pp, saved = "(control)", "—"
        lines.append(
            f"| {name} | {bytes_pp} | {saved} | {dist[0]:,} / {dist[1]:,} | "
            f"{worst_drop[0]:+.5f} ({worst_drop[1]} {worst_drop[2]} {worst_drop[3]}) | {abs(worst_abs[0]):.5f} | "
            f"{sum(d[0] for d in deltas) / len(deltas):+.5f} | {over} | {drops} | {'yes' if over == 0 else 'no'} |"
        )
    lines.append("\n## Encodings\n")
    for name, (_, _bits, _extra, desc) in ENCODINGS.items():
        if name in results:
            lines.append(f"- `{name}`: {desc}.")
    lines.append("\n## Weight statistics per collection\n")
    lines.append(
        "| encoding | collection | postings | distinct BM25 (f32 → enc) | distinct TF-IDF (f32 → enc) "
        "| zero weights BM25 / TF-IDF | max rel. error BM25 / TF-IDF | mean rel. error BM25 / TF-IDF "
        "| impact-prefix entries reordered BM25 / TF-IDF |"
    )
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for name in ENCODINGS:
        if name not in results:
            continue
        for c in colls:
            b, t = stats[name][c]["bm25"], stats[name][c]["tfidf"]
            lines.append(
                f"| {name} | {c} | {b['postings']:,} | {b['distinct_before']:,} → {b['distinct']:,} | "
                f"{t['distinct_before']:,} → {t['distinct']:,} | {b['zeros']} / {t['zeros']} | "
                f"{b['max_rel_err']:.2e} / {t['max_rel_err']:.2e} | "
                f"{b['mean_rel_err']:.2e} / {t['mean_rel_err']:.2e} | "
                f"{b['impacts_changed']} / {t['impacts_changed']} |"
            )
    lines.append("\n## Worst drop per encoding and collection\n")
    lines.append("| encoding | " + " | ".join(colls) + " |")
    lines.append("|---|" + "---|" * len(colls))
    for name in ENCODINGS:
        if name not in results:
            continue
        cells = []
        for c in colls:
            d = min((results[name][c][r][f] - base[c][r][f], r, f) for r, _ in ROWS for f in FIGURES)
            flag = "**" if d[0] < -tol else ""
            cells.append(f"{flag}{d[0]:+.5f}{flag} ({d[1]}, {d[2]})" if d[0] < 0 else "0 or better")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("\n## Every figure\n")
    lines.append(
        "Each cell: the figure, then Δ from float32 in parentheses; **bold** where |Δ| > "
        f"{tol}. The f32 rows are the unquantized index (they reproduce BENCHMARKS.md's tables).\n"
    )
    for c in colls:
        lines.append(f"### {c}\n")
        lines.append("| encoding | row | " + " | ".join(FIGURES) + " |")
        lines.append("|---|---|" + "---|" * len(FIGURES))
        for name in ENCODINGS:
            if name not in results:
                continue
            for r, _ in ROWS:
                cells = []
                for f in FIGURES:
                    v, d = results[name][c][r][f], results[name][c][r][f] - base[c][r][f]
                    if name == "f32":
                        cells.append(f"{v:.4f}")
                    else:
                        s = f"{v:.4f} ({d:+.4f})"
                        cells.append(f"**{s}**" if abs(d) > tol else s)
                lines.append(f"| {name} | {r} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("collections", nargs="*", type=Path)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/citesearch_quant"))
    ap.add_argument("--only", default="", help="comma-separated encodings (f32 always included)")
    ap.add_argument("--tol", type=float, default=0.001)
    ap.add_argument("--json", type=Path, help="write every figure and statistic here")
    ap.add_argument("--markdown", action="store_true", help="print the results tables")
    ap.add_argument("--stats-index", type=Path, help="only each encoding's weight statistics on this index")
    args = ap.parse_args()
    names = list(ENCODINGS) if not args.only else ["f32"] + [n for n in args.only.split(",") if n != "f32"]
    if args.stats_index:
        print(stats_only(args.stats_index, [n for n in names if n != "f32"]))
        return
    results: dict = {}
    stats: dict = {}
    colls = [c.name for c in args.collections]
    for coll in args.collections:
        queries, qrels = load_collection(coll)
        base = base_index(coll, args.cache)
        t = time.perf_counter()
        original = evaluate_rows(base, queries, qrels)
        print(f"== {coll.name}: original index evaluated in {time.perf_counter() - t:.1f}s", file=sys.stderr)
        for name in names:
            fn = ENCODINGS[name][0]
            t = time.perf_counter()
            dest = args.cache / name / coll.name
            stats.setdefault(name, {})[coll.name] = quantized_copy(base, dest, fn)
            res = results.setdefault(name, {})[coll.name] = evaluate_rows(dest, queries, qrels)
            if name == "f32":
                assert res == original, "rewriting the arrays unchanged changed the figures"
            worst = min(
                (res[r][f] - results["f32"][coll.name][r][f], r, f) for r, _ in ROWS for f in FIGURES
            )
            print(
                f"  {name:10s} {time.perf_counter() - t:5.1f}s  worst Δ {worst[0]:+.4f} ({worst[1]}, {worst[2]})",
                file=sys.stderr,
                flush=True,
            )
            shutil.rmtree(dest)
    if args.json:
        args.json.write_text(json.dumps({"results": results, "stats": stats}, indent=1))
    if args.markdown:
        print(markdown(results, stats, colls, args.tol))


if __name__ == "__main__":
    main()
