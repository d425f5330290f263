"""Leave-one-collection-out (LOO) choice of citesearch's default ranking (issue 13).

For a list of named configurations, builds (and caches under ``--cache``) every index a
configuration needs on every collection, ranks each judged query's documents, scores
the runs 100 deep with ir_measures (trec_eval's code) and prints:

1. per collection, per configuration: nDCG@10, AP, R@100, P@10 (runs cut at 100, as the
   anchors' runs are);
2. per configuration, its margin over the best anchor on each (collection, metric);
3. the LOO table: for each held-out collection, the configuration chosen on the other
   three (over every configuration) and its figures on the held-out one;
4. the change-by-change LOO (:func:`forward`) over the factorial grid ``FACTORS``, under
   two readings of "wins on the held-out collection" (rules ``improve`` and ``bar``);
5. the nested LOO (:func:`nested`): that whole procedure run on three collections, its
   end point measured on the fourth. Results and the recommendation: LOO_RESULTS.md.
6. round 2 (:func:`robust_report`, the ``x:`` rows, ``--round2`` for those alone): other
   document aggregates (max + λ·rest, log-sum-exp, top-k mean, max–mean interpolation), RRF
   of three document rankings, TF-IDF variants, RM3 on the BM25 run only, k1 × b; each judged
   by rule ``bar`` against round 1's recommendation (REC), and a stress test on corpora whose
   documents are padded with off-topic ones (:class:`PadIdx`).

Selection criterion (``--criterion``): ``maximin`` (default) picks the configuration
with the largest minimum, over the (collection, metric) cells of the selection
collections, of the relative margin (ours − best anchor) / best anchor. The Done
criterion of the issue is "at or above the best anchor in every cell", and a
configuration meets it exactly when that minimum is >= 0, so maximin optimizes the
criterion itself rather than a proxy; relative margins keep a cell with small values
(cisi AP ~ 0.18) from counting less than one with large ones (med nDCG ~ 0.70). Ties
(within 1e-9) go to the higher mean relative margin. ``mean`` picks by mean of nDCG@10
and AP over the selection collections instead (shown beside it: a smoother, less
cell-driven criterion). adi's R@100 is exempt (the BM25 anchors rank all 82 documents).

Two kinds of configuration:

- ``Lib``: the library's own ranking, ``Index.rank_documents(plain_query(text), k,
  options=SearchOptions(...))``; everything the library already offers (method, fusion,
  BM25 parameters, RM3, aggregate) and every index setting (passage size, stemmer, stop
  words, title repeated ``w`` times).
- ``Proto``: scoring prototyped here from the index's arrays, for ideas the library does
  not have: query likelihood with Dirichlet smoothing, other RRF k, CombSUM of z-scores
  or min-max scores, fusion of three scorers. The prototype of the default (BM25 Okapi
  1.2/0.4 + TF-IDF, RRF k=60 over passages 1000 deep, MaxP) is checked against ``Lib``.
- ``DocFuse``: fusion at the document level of other configurations' document rankings
  (whole-document evidence + best passage, Callan 1994).

Runs are cached (pickled) per (collection, configuration) under the cache directory.

Usage:
    python benchmarks/experiments/loo.py                       # every configuration
    python benchmarks/experiments/loo.py --only default,ql-1000 --no-loo
    python benchmarks/experiments/loo.py --markdown > /tmp/tables.md
    python benchmarks/experiments/loo.py --round2 --markdown
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import ir_measures
import numpy as np
from ir_measures import AP, P, R, nDCG

from citesearch.corpus import load_documents
from citesearch.indexer import bm25 as bm25mod
from citesearch.indexer import tfidf as tfidfmod
from citesearch.indexer.analysis import AnalyzerConfig
from citesearch.indexer.bm25 import BM25Params
from citesearch.indexer.builder import IndexSettings, build_index
from citesearch.indexer.tfidf import TfidfParams
from citesearch.search import SearchOptions
from citesearch.search.expansion import RM3, rm3_query
from citesearch.search.query import plain_query
from citesearch.search.searcher import Index

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # benchmarks/

MEASURES = [nDCG @ 10, AP, R @ 100, P @ 10]
NAMES = ["nDCG@10", "AP", "R@100", "P@10"]
CHOSEN_ON = ["nDCG@10", "AP", "R@100"]  # the Done criterion's metrics
DEPTH = 100  # the anchors' run depth: AP and R@100 of 100-deep runs
FUSE_DEPTH = 1000  # depth of the runs a fusion combines (as RRF in the library)
COLLECTIONS = ["cisi", "cacm", "med", "adi"]
DOC_WORDS = 1_000_000  # passage_words that makes every document one passage

from quality import ANCHORS  # noqa: E402 - benchmarks/quality.py: the anchors' table, kept there once

BEST = {c: {m: max(v[i] for v in a.values()) for i, m in enumerate(NAMES)} for c, a in ANCHORS.items()}


def cells(coll: str) -> list[str]:
    """The metrics of the Done criterion on a collection (adi's R@100 is exempt)."""
    return [m for m in CHOSEN_ON if not (coll == "adi" and m == "R@100")]


# -- configurations -----------------------------------------------------------------------


@dataclass(frozen=True)
class Idx:
    """Index settings: passage size, stemmer, stop words, title repeated ``title`` times."""

    words: int = 200
    stemmer: str = "snowball"
    stopwords: str = "english"
    title: int = 1

    @property
    def key(self) -> str:
        return f"pw{self.words}-{self.stemmer}-{self.stopwords}-t{self.title}"

    def settings(self) -> IndexSettings:
        return IndexSettings(analyzer=AnalyzerConfig(stemmer=self.stemmer, stopwords=self.stopwords),
                             passage_words=self.words)


@dataclass(frozen=True)
class PadIdx(Idx):
    """A stress test of document aggregation (long pages with one relevant section):
    every document's text followed by ``pad`` documents of another collection
    (``donor``), chosen at random (seed 13), so that its own text is one section among
    ``pad`` + 1 and most of its passages are off topic."""

    pad: int = 0
    donor: str = "auto"  # cacm's documents, or med's for cacm

    @property
    def key(self) -> str:
        return super().key + f"-pad{self.pad}-{self.donor}"


P200, P100, P400, PDOC = Idx(), Idx(words=100), Idx(words=400), Idx(words=DOC_WORDS)


@dataclass(frozen=True)
class Lib:
    """The library's ranking with these SearchOptions fields."""

    idx: Idx = P200
    method: str = "hybrid"
    fusion: str = "rrf"
    bm25: tuple | None = None  # (variant, k1, b)
    rm3: tuple | None = None  # (fb_docs, fb_terms, weight)
    aggregate: str = "max"


@dataclass(frozen=True)
class Proto:
    """Scored here from the index's arrays: passage scores of each part, fused at the
    passage level (``fuse``), then aggregated to documents (``aggregate``).

    parts: ("bm25", variant, k1, b) | ("tfidf",) | ("ql", mu)
    fuse: ("rrf", k) | ("zsum",) | ("minmax",) | ("none",) (one part)
    weights: one per part (RRF and CombSUM are weighted sums)
    """

    idx: Idx = P200
    parts: tuple = (("bm25", "okapi", 1.2, 0.4), ("tfidf",))
    fuse: tuple = ("rrf", 60)
    weights: tuple | None = None
    aggregate: str = "max"


@dataclass(frozen=True)
class DocFuse:
    """Document-level fusion of other configurations' document rankings."""

    children: tuple = ()
    fuse: tuple = ("rrf", 60)
    weights: tuple | None = None


DEFAULT_BM25 = ("bm25", "okapi", 1.2, 0.4)
TFIDF = ("tfidf",)


def configurations() -> dict[str, object]:
    c: dict[str, object] = {}
    c["default"] = Lib()
    c["proto-default"] = Proto()  # must equal "default"
    c["bm25"] = Lib(method="bm25")
    c["tfidf"] = Lib(method="tfidf")
    c["linear"] = Lib(fusion="linear")
    # BM25 inside the hybrid
    for k1 in (0.6, 0.9, 1.2, 1.5, 2.0):
        for b in (0.2, 0.3, 0.4, 0.6, 0.75, 0.9):
            if (k1, b) != (1.2, 0.4):
                c[f"hyb-okapi-{k1}-{b}"] = Lib(bm25=("okapi", k1, b))
    for variant in ("lucene", "bm25+", "bm25l"):
        for k1, b in ((1.2, 0.4), (0.9, 0.4), (1.2, 0.75)):
            c[f"hyb-{variant}-{k1}-{b}"] = Lib(bm25=(variant, k1, b))
    for k1, b in ((0.9, 0.4), (1.2, 0.75)):
        c[f"bm25-okapi-{k1}-{b}"] = Lib(method="bm25", bm25=("okapi", k1, b))
    # fusion
    for k in (10, 20, 40, 80, 120):
        c[f"rrf-k{k}"] = Proto(fuse=("rrf", k))
    c["zsum"] = Proto(fuse=("zsum",))
    c["minmax"] = Proto(fuse=("minmax",))
    for w in (0.3, 0.7):
        c[f"rrf-w{w}"] = Proto(weights=(w, 1 - w))
    # passages and aggregation
    for name, idx in (("p100", P100), ("p400", P400), ("doc", PDOC)):
        c[name] = Lib(idx=idx)
    c["sump"] = Lib(aggregate="sum")
    c["meanp"] = Lib(aggregate="mean")
    c["doc+maxp"] = DocFuse((Lib(idx=PDOC), Lib()))
    c["doc+maxp-z"] = DocFuse((Lib(idx=PDOC), Lib()), fuse=("zsum",))
    c["doc+p100"] = DocFuse((Lib(idx=PDOC), Lib(idx=P100)))
    # query likelihood, Dirichlet
    for mu in (500, 1000, 1500, 2000, 2500):
        c[f"ql-{mu}"] = Proto(parts=(("ql", mu),), fuse=("none",))
    for mu in (500, 1000, 2000):
        c[f"hyb+ql-{mu}"] = Proto(parts=(DEFAULT_BM25, TFIDF, ("ql", mu)))
    c["bm25+ql-1000"] = Proto(parts=(DEFAULT_BM25, ("ql", 1000)))
    c["tfidf+ql-1000"] = Proto(parts=(TFIDF, ("ql", 1000)))
    c["hyb+ql-1000-z"] = Proto(parts=(DEFAULT_BM25, TFIDF, ("ql", 1000)), fuse=("zsum",))
    # title weight (BM25F-like: the title counted w times)
    for w in (2, 3):
        c[f"title{w}"] = Lib(idx=Idx(title=w))
    # RM3
    for fb in ((10, 20, 0.7), (10, 10, 0.8), (5, 10, 0.8), (10, 20, 0.9), (3, 10, 0.8)):
        c["rm3-{}-{}-{}".format(*fb)] = Lib(rm3=fb)
    c["rrf(default,rm3)"] = DocFuse((Lib(), Lib(rm3=(10, 20, 0.7))))
    # analysis
    c["porter"] = Lib(idx=Idx(stemmer="porter"))
    c["nostem"] = Lib(idx=Idx(stemmer="none"))
    c["nostop"] = Lib(idx=Idx(stopwords="none"))
    # the factorial grid of the changes that moved med or adi (see FACTORS), for the
    # change-by-change LOO (forward selection)
    for assign in grid():
        c[factor_name(assign)] = factor_spec(assign)
    # the neighbourhood of the LOO-selected configuration (sensitivity, not selection)
    t2 = Idx(title=2)
    for k1, b in ((0.75, 0.4), (1.05, 0.4), (0.9, 0.35), (0.9, 0.5)):
        c[f"s:t2-ok{k1}-{b}-meanp"] = Lib(idx=t2, bm25=("okapi", k1, b), aggregate="mean")
    for k in (20, 40, 60, 80, 120):
        c[f"s:t2-ok0.9-.4-meanp-rrf{k}"] = Proto(idx=t2, parts=(("bm25", "okapi", 0.9, 0.4), TFIDF),
                                                 fuse=("rrf", k), aggregate="mean")
    c["s:t2-ok0.9-.4-meanp-zsum"] = Proto(idx=t2, parts=(("bm25", "okapi", 0.9, 0.4), TFIDF),
                                          fuse=("zsum",), aggregate="mean")
    c["s:t2-ok0.9-.4-meanp-hyb+ql1000"] = Proto(idx=t2, parts=(("bm25", "okapi", 0.9, 0.4), TFIDF, ("ql", 1000)),
                                                aggregate="mean")
    robust_configurations(c)
    return c


REC = "g:t2-ok0.9-.4-meanp-none"  # the recommendation of the first round (LOO_RESULTS.md)
OK09 = ("bm25", "okapi", 0.9, 0.4)


def robust_configurations(c: dict[str, object]) -> None:
    """Second round (``x:`` rows): ideas to close the recommendation's med R@100 gap
    without the plain mean of passages. Families (the part of the name before the first
    '/') are judged by LOO among themselves and against REC."""
    t2, t2doc = Idx(title=2), Idx(words=DOC_WORDS, title=2)

    def hyb(parts=(OK09, TFIDF), aggregate="mean", idx=t2):
        return Proto(idx=idx, parts=parts, aggregate=aggregate)

    # document score from its passages' fused scores
    c["x:agg/max"] = hyb(aggregate="max")
    c["x:agg/mean"] = hyb(aggregate="mean")
    for lam in (0.25, 0.5, 1.0):
        c[f"x:agg/max+{lam}mean"] = hyb(aggregate=("maxplus", lam, "mean"))
    for lam in (0.1, 0.25, 0.5):
        c[f"x:agg/max+{lam}sum"] = hyb(aggregate=("maxplus", lam, "sum"))
    for tau in (0.05, 0.1, 0.2, 0.5):
        c[f"x:agg/lse{tau}"] = hyb(aggregate=("lse", tau))
    for k in (2, 3, 5):
        c[f"x:agg/top{k}mean"] = hyb(aggregate=("topmean", k))
    # RRF of three document rankings: BM25 passages (MaxP), TF-IDF passages (MaxP), whole documents
    bm25p = Lib(idx=t2, method="bm25", bm25=("okapi", 0.9, 0.4))
    tfidfp = Lib(idx=t2, method="tfidf")
    tfidfd = Lib(idx=t2doc, method="tfidf")
    bm25d = Lib(idx=t2doc, method="bm25", bm25=("okapi", 0.9, 0.4))
    c["x:rrf3/bm25p+tfidfp+tfidfdoc"] = DocFuse((bm25p, tfidfp, tfidfd))
    c["x:rrf3/bm25p+tfidfp+bm25doc"] = DocFuse((bm25p, tfidfp, bm25d))
    c["x:rrf3/hyb-maxp+tfidfdoc"] = DocFuse((hyb(aggregate="max"), tfidfd))
    c["x:rrf3/hyb-meanp+tfidfdoc"] = DocFuse((hyb(), tfidfd))
    # TF-IDF weighting inside the hybrid (sublinear tf?, norm)
    for sub, norm in ((False, "l2"), (True, "none"), (False, "none"), (True, "pivot")):
        lab = f"{'log' if sub else 'raw'}tf-{norm}"
        for agg in ("max", "mean"):
            c[f"x:tfidf/{lab}-{agg}p"] = hyb(parts=(OK09, ("tfidfv", sub, norm)), aggregate=agg)
    # RM3 on the BM25 side of the fusion only (feedback from BM25 k1 0.9's own top passages)
    for fb in ((10, 20, 0.9), (10, 10, 0.9), (5, 10, 0.9), (10, 20, 0.95), (10, 10, 0.95), (5, 10, 0.95),
               (10, 5, 0.9), (10, 10, 0.8)):
        name = "{}-{}-{}".format(*fb)
        for agg, lab in (("max", "maxp"), ("mean", "meanp"), (("topmean", 2), "top2mean")):
            c[f"x:rm3bm25/{name}-{lab}"] = hyb(parts=(("bm25rm3", "okapi", 0.9, 0.4, *fb), TFIDF), aggregate=agg)
    # after looking: the neighbourhood of the RM3 settings that cleared every cell (not candidates)
    for fb in ((10, 10, 0.85), (10, 10, 0.75), (5, 10, 0.8), (20, 10, 0.8), (10, 20, 0.8), (10, 15, 0.95),
               (20, 10, 0.95), (10, 5, 0.95), (10, 10, 0.975)):
        name = "{}-{}-{}".format(*fb)
        for agg, lab in (("mean", "meanp"), (("topmean", 2), "top2mean")):
            c[f"x:post-rm3/{name}-{lab}"] = hyb(parts=(("bm25rm3", "okapi", 0.9, 0.4, *fb), TFIDF), aggregate=agg)
    # after looking (the stress test below): max and mean interpolated, alone and with RM3
    rm3s = (("", OK09), ("rm3-10-10-0.95-", ("bm25rm3", "okapi", 0.9, 0.4, 10, 10, 0.95)),
            ("rm3-10-10-0.8-", ("bm25rm3", "okapi", 0.9, 0.4, 10, 10, 0.8)),
            ("rm3-20-10-0.8-", ("bm25rm3", "okapi", 0.9, 0.4, 20, 10, 0.8)))
    for lam in (0.1, 0.2, 0.3, 0.4, 0.5):
        for rlab, part in rm3s:
            c[f"x:post-interp/{rlab}max-{lam}(max-mean)"] = hyb(parts=(part, TFIDF), aggregate=("interp", lam))
    c["x:post-interp/rm3-10-10-0.8-maxp"] = hyb(parts=(rm3s[2][1], TFIDF), aggregate="max")
    # after looking: RM3 20/10/0.8 with MaxP (the interpolations above at λ 0.1–0.5 all clear every
    # cell with it), and its neighbourhood
    for fb in ((20, 10, 0.8), (15, 10, 0.8), (30, 10, 0.8), (20, 5, 0.8), (20, 20, 0.8), (20, 10, 0.7), (20, 10, 0.85),
               (20, 10, 0.9), (20, 10, 0.95), (30, 20, 0.8)):
        c["x:post-maxp/rm3-{}-{}-{}".format(*fb)] = hyb(parts=(("bm25rm3", "okapi", 0.9, 0.4, *fb), TFIDF),
                                                         aggregate="max")
    # stress test: every document padded with 8 off-topic documents of another collection
    aggs = (("maxp", "max"), ("meanp", "mean"), ("top2mean", ("topmean", 2)), ("top3mean", ("topmean", 3)),
            ("max-0.1(max-mean)", ("interp", 0.1)), ("max-0.2(max-mean)", ("interp", 0.2)),
            ("max-0.3(max-mean)", ("interp", 0.3)), ("max-0.4(max-mean)", ("interp", 0.4)),
            ("max-0.5(max-mean)", ("interp", 0.5)))
    for lab, agg in aggs:
        for rlab, part in rm3s:
            c[f"x:pad/{rlab}{lab}"] = hyb(parts=(part, TFIDF), aggregate=agg, idx=PadIdx(title=2, pad=8))

    # k1 and b around the recommendation, title x2
    for k1 in (0.7, 0.8, 0.9, 1.0, 1.1):
        for b in (0.3, 0.4, 0.5, 0.6, 0.75):
            for agg, lab in (("max", "maxp"), ("mean", "meanp"), (("topmean", 2), "top2mean")):
                c[f"x:k1b/{k1}-{b}-{lab}"] = hyb(parts=(("bm25", "okapi", k1, b), TFIDF), aggregate=agg)


# The factors of the change-by-change LOO, each a list of (label, value), the first the
# current default.
FACTORS: dict[str, list[tuple[str, object]]] = {
    "title": [("t1", 1), ("t2", 2), ("t3", 3)],
    "bm25": [("ok1.2-.4", None), ("ok0.9-.4", ("okapi", 0.9, 0.4)), ("luc1.2-.4", ("lucene", 1.2, 0.4)),
             ("ok0.9-.3", ("okapi", 0.9, 0.3))],
    "unit": [("maxp", "max"), ("meanp", "mean"), ("doc", "doc")],
    "rm3": [("none", None), ("rm3-10-20-.9", (10, 20, 0.9)), ("rm3-10-20-.95", (10, 20, 0.95)),
            ("rm3-5-10-.9", (5, 10, 0.9))],
}


def grid() -> list[dict[str, str]]:
    out = [{}]
    for f, levels in FACTORS.items():
        out = [dict(a, **{f: lab}) for a in out for lab, _ in levels]
    return out


def factor_name(assign: dict[str, str]) -> str:
    return "g:" + "-".join(assign[f] for f in FACTORS)


def factor_spec(assign: dict[str, str]) -> Lib:
    v = {f: dict(FACTORS[f])[assign[f]] for f in FACTORS}
    whole = v["unit"] == "doc"
    idx = Idx(words=DOC_WORDS if whole else 200, title=v["title"])
    return Lib(idx=idx, bm25=v["bm25"], rm3=v["rm3"], aggregate="max" if whole else v["unit"])


# -- collections, indexes -----------------------------------------------------------------


def load_collection(d: Path):
    queries = [json.loads(line) for line in open(d / "queries.jsonl")]
    qrels: dict[str, dict[str, int]] = {}
    for line in list(open(d / "qrels" / "test.tsv"))[1:]:
        q, doc, s = line.rstrip("\n").split("\t")
        qrels.setdefault(q, {})[doc] = int(s)
    return [q for q in queries if q["_id"] in qrels], qrels


def padded_corpus(coll_dir: Path, idx: PadIdx, cache: Path) -> Path:
    out = cache / "corpora" / f"{coll_dir.name}-{idx.key}.jsonl"
    if not out.exists():
        src = corpus_file(coll_dir, idx.title, cache)
        name = idx.donor if idx.donor != "auto" else ("med" if coll_dir.name == "cacm" else "cacm")
        donor = [json.loads(line) for line in open(coll_dir.parent / name / "corpus.jsonl")]
        donor = [" ".join(filter(None, [r.get("title"), r.get("text")])) for r in donor]
        rng = np.random.default_rng(13)
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(src) as f, open(out.with_suffix(".tmp"), "w") as g:
            for line in f:
                r = json.loads(line)
                extra = [donor[i] for i in rng.choice(len(donor), idx.pad, replace=False)]
                r["text"] = "\n\n".join([r.get("text") or "", *extra])
                g.write(json.dumps(r) + "\n")
        os.replace(out.with_suffix(".tmp"), out)
    return out


def corpus_file(coll_dir: Path, title, cache: Path) -> Path:
    """The corpus, or a copy whose text starts with the title repeated ``title`` − 1 more
    times (load_documents prepends the title once)."""
    if isinstance(title, PadIdx):
        return padded_corpus(coll_dir, title, cache)
    if title == 1:
        return coll_dir / "corpus.jsonl"
    out = cache / "corpora" / f"{coll_dir.name}-t{title}.jsonl"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(coll_dir / "corpus.jsonl") as f, open(out.with_suffix(".tmp"), "w") as g:
            for line in f:
                r = json.loads(line)
                t = (r.get("title") or "").strip()
                if t:
                    r["text"] = "\n\n".join([t] * (title - 1) + [r.get("text") or ""])
                g.write(json.dumps(r) + "\n")
        os.replace(out.with_suffix(".tmp"), out)
    return out


def index_dir(cache: Path, coll: str, idx: Idx) -> Path:
    return cache / "index" / coll / idx.key


def ensure_index(coll_dir: Path, idx: Idx, cache: Path) -> Path:
    out = index_dir(cache, coll_dir.name, idx)
    if not (out / "manifest.json").exists():
        t = time.perf_counter()
        out.parent.mkdir(parents=True, exist_ok=True)
        build_index(load_documents([corpus_file(coll_dir, idx if isinstance(idx, PadIdx) else idx.title, cache)]),
                    out, idx.settings())
        print(f"  built {coll_dir.name}/{idx.key} in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    return out


def indexes_of(spec) -> set[Idx]:
    if isinstance(spec, DocFuse):
        return set().union(*(indexes_of(s) for s in spec.children))
    return {spec.idx}


# -- ranking --------------------------------------------------------------------------------


class Arrays:
    """An index's arrays, for prototyped scoring over every passage."""

    def __init__(self, index: Index):
        r = index.reader
        self.index = index
        self.indptr = np.asarray(r["postings_indptr"], dtype=np.int64)
        self.passages = np.asarray(r["postings_passages"], dtype=np.int64)
        self.tf = np.asarray(r["postings_tf"], dtype=np.float64)
        self.length = np.asarray(r["passage_length"], dtype=np.float64)
        self.source = np.asarray(r["passage_source"], dtype=np.int64)
        self.tfidf_w = np.asarray(r["tfidf_weights"], dtype=np.float64)
        self.tfidf_idf = np.asarray(r["tfidf_idf"], dtype=np.float64)
        self.n = len(self.length)
        self.avgdl = index.manifest.avg_passage_length
        self.df = np.diff(self.indptr)
        cf = np.add.reduceat(self.tf, self.indptr[:-1]) if len(self.tf) else np.zeros(0)
        cf[self.df == 0] = 0
        self.p_coll = cf / self.length.sum()
        self.tfidf_params = index.manifest.tfidf
        n_src = int(self.source.max()) + 1
        ids = r.source_ids(list(range(n_src)))
        self.source_id = [ids[i] for i in range(n_src)]
        self._idf: dict = {}

    def tfidf_variant(self, sublinear: bool, norm: str) -> np.ndarray:
        """Posting weights of TF-IDF with (1 + log tf) or raw tf, and an L2 norm per passage
        ("l2"), none ("none"), or the L2 norm pivoted on its mean (slope 0.25, "pivot")."""
        key = ("tfidfv", sublinear, norm)
        if key not in self._idf:
            w = self.tf.copy()
            if sublinear:
                w = 1 + np.log(w)
            w *= np.repeat(self.tfidf_idf, self.df)
            rows = self.passages
            if norm != "none":
                l2 = np.sqrt(np.bincount(rows, weights=w * w, minlength=self.n))
                if norm == "pivot":
                    l2 = 0.75 * l2[l2 > 0].mean() + 0.25 * l2
                w /= l2[rows]
            self._idf[key] = w
        return self._idf[key]

    def part(self, spec: tuple, counts: dict[int, float]) -> tuple[np.ndarray, np.ndarray]:
        """(score of every passage, mask of the passages the part ranks)."""
        scores = np.zeros(self.n)
        mask = np.zeros(self.n, dtype=bool)
        kind = spec[0]
        if kind == "bm25rm3":  # RM3 from this BM25's own top passages, then BM25 again
            fb = RM3(*spec[4:7])
            s0, m0 = self.part(("bm25", *spec[1:4]), counts)
            top = ranked(s0, m0, fb.fb_docs)
            counts = rm3_query(fb, counts, top, s0[top], self.index.passage_terms)
            kind, spec = "bm25", ("bm25", *spec[1:4])
        if kind == "tfidf":
            coef = tfidfmod.query_weights(self.tfidf_params, counts, self.tfidf_idf)
        elif kind == "tfidfv":
            coef = tfidfmod.query_weights(TfidfParams(sublinear_tf=spec[1]), counts, self.tfidf_idf)
            tw = self.tfidf_variant(spec[1], spec[2])
        else:
            coef = counts
        if kind == "bm25":
            params = BM25Params(spec[1], spec[2], spec[3])
            if params not in self._idf:
                self._idf[params] = bm25mod.idf(params, self.df, self.n)
            idf = self._idf[params]
        for t, c in coef.items():
            s = slice(self.indptr[t], self.indptr[t + 1])
            rows = self.passages[s]
            mask[rows] = True
            if kind == "bm25":
                w = bm25mod.weights(params, self.tf[s], self.length[rows] / self.avgdl, idf[t])
            elif kind == "tfidf":
                w = self.tfidf_w[s]
            elif kind == "tfidfv":
                w = tw[s]
            elif kind == "ql":  # Zhai & Lafferty: rank-equivalent sum over matched terms
                w = np.log1p(self.tf[s] / (spec[1] * self.p_coll[t]))
            else:
                raise ValueError(kind)
            scores[rows] += c * w
        if kind == "ql":
            qlen = sum(counts.values())
            scores += qlen * np.log(spec[1] / (self.length + spec[1]))
        if kind != "ql":
            mask &= scores > 0
        return scores, mask


def ranked(scores: np.ndarray, mask: np.ndarray, depth: int | None) -> np.ndarray:
    """Positions with ``mask``, best score first, ties by position; the top ``depth``."""
    hit = np.flatnonzero(mask)
    order = hit[np.lexsort((hit, -scores[hit]))]
    return order[:depth] if depth else order


def fuse(runs: list[tuple[np.ndarray, np.ndarray]], how: tuple, weights, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Fusion of aligned (scores, mask) runs over ``n`` items: (fused scores, mask)."""
    weights = weights or (1.0,) * len(runs)
    fused = np.zeros(n)
    mask = np.zeros(n, dtype=bool)
    for (scores, m), w in zip(runs, weights):
        order = ranked(scores, m, FUSE_DEPTH)
        if not len(order):
            continue
        mask[order] = True
        if how[0] == "rrf":
            fused[order] += w / (how[1] + np.arange(1, len(order) + 1))
        elif how[0] == "zsum":
            s = scores[order]
            sd = s.std()
            z = (s - s.mean()) / sd if sd > 0 else np.zeros(len(s))
            part = np.full(n, z.min())  # an item the run does not rank: its lowest z
            part[order] = z
            fused += w * part
        elif how[0] == "minmax":
            s = scores[order]
            lo, hi = s.min(), s.max()
            part = np.zeros(n)
            part[order] = (s - lo) / (hi - lo) if hi > lo else 1.0
            fused += w * part
        else:
            raise ValueError(how)
    return fused, mask


def to_docs(arr: Arrays, scores: np.ndarray, mask: np.ndarray, aggregate: str, k: int) -> dict[str, float]:
    order = ranked(scores, mask, None)
    src = arr.source[order]
    if aggregate == "max":  # the first (best) passage of each source
        _, first = np.unique(src, return_index=True)
        keep = np.sort(first)[:k]
        return {arr.source_id[int(s)]: float(v) for s, v in zip(src[keep], scores[order][keep])}
    unique, inverse = np.unique(src, return_inverse=True)
    s = scores[order]
    totals = np.bincount(inverse, weights=s)
    count = np.bincount(inverse)
    if aggregate == "mean":
        totals = totals / count
    elif isinstance(aggregate, tuple):
        _, first = np.unique(src, return_index=True)  # each source's best passage
        best = s[first]  # aligned with unique (np.unique sorts both the same way)
        kind = aggregate[0]
        if kind == "maxplus":  # max + λ · (mean or sum) of the other matching passages
            lam, of = aggregate[1], aggregate[2]
            rest = totals - best
            if of == "mean":
                rest = np.where(count > 1, rest / np.maximum(count - 1, 1), 0.0)
            totals = best + lam * rest
        elif kind == "interp":  # (1 − λ) · max + λ · mean: dilution bounded to a factor 1 − λ
            totals = (1 - aggregate[1]) * best + aggregate[1] * totals / count
        elif kind == "lse":  # τ · log Σ exp(s / τ), s relative to the query's best passage
            tau = aggregate[1] * (s.max() if len(s) else 1.0)
            totals = best + tau * np.log(np.bincount(inverse, weights=np.exp((s - best[inverse]) / tau)))
        elif kind == "topmean":  # mean of the best k matching passages
            by = np.argsort(inverse, kind="stable")  # by source, best first within each
            starts = np.concatenate(([0], np.cumsum(count)[:-1]))
            pos = np.empty(len(src), dtype=np.int64)
            pos[by] = np.arange(len(src)) - starts[inverse[by]]
            top = pos < aggregate[1]
            totals = np.bincount(inverse[top], weights=s[top], minlength=len(unique))
            totals = totals / np.bincount(inverse[top], minlength=len(unique))
        else:
            raise ValueError(aggregate)
    top = np.lexsort((unique, -totals))[:k]
    return {arr.source_id[int(unique[i])]: float(totals[i]) for i in top}


class Runner:
    """Makes document runs for the configurations of one collection."""

    def __init__(self, coll_dir: Path, cache: Path):
        self.coll_dir = coll_dir
        self.cache = cache
        self.queries, self.qrels = load_collection(coll_dir)
        self._index: dict[Idx, Index] = {}
        self._arrays: dict[Idx, Arrays] = {}

    def index(self, idx: Idx) -> Index:
        if idx not in self._index:
            self._index[idx] = Index.open(ensure_index(self.coll_dir, idx, self.cache))
        return self._index[idx]

    def arrays(self, idx: Idx) -> Arrays:
        if idx not in self._arrays:
            self._arrays[idx] = Arrays(self.index(idx))
        return self._arrays[idx]

    def run(self, spec, k: int = FUSE_DEPTH) -> dict[str, dict[str, float]]:
        path = self.cache / "runs" / self.coll_dir.name / f"{spec_hash(spec)}-{k}.pkl"
        if path.exists():
            return pickle.loads(path.read_bytes())
        if isinstance(spec, Lib):
            out = self._lib(spec, k)
        elif isinstance(spec, Proto):
            out = self._proto(spec, k)
        else:
            out = self._docfuse(spec, k)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}")
        tmp.write_bytes(pickle.dumps(out))
        os.replace(tmp, path)
        return out

    def _lib(self, spec: Lib, k: int):
        index = self.index(spec.idx)
        opts = SearchOptions(
            method=spec.method, fusion=spec.fusion, aggregate=spec.aggregate,
            bm25=BM25Params(*spec.bm25) if spec.bm25 else None,
            expand=RM3(*spec.rm3) if spec.rm3 else None,
        )
        out = {}
        for q in self.queries:
            try:
                out[q["_id"]] = dict(index.rank_documents(plain_query(q["text"]), k=k, options=opts))
            except Exception as exc:  # a query of stop words only
                print(f"  {self.coll_dir.name} query {q['_id']}: {exc}", file=sys.stderr)
                out[q["_id"]] = {}
        return out

    def _proto(self, spec: Proto, k: int):
        arr = self.arrays(spec.idx)
        out = {}
        for q in self.queries:
            ids, _ = arr.index.analyze(q["text"])
            counts = dict(Counter(ids))
            if not counts:
                out[q["_id"]] = {}
                continue
            runs = [arr.part(p, counts) for p in spec.parts]
            if spec.fuse[0] == "none":
                scores, mask = runs[0]
            else:
                scores, mask = fuse(runs, spec.fuse, spec.weights, arr.n)
            out[q["_id"]] = to_docs(arr, scores, mask, spec.aggregate, k)
        return out

    def _docfuse(self, spec: DocFuse, k: int):
        children = [self.run(c) for c in spec.children]
        out = {}
        for q in self.queries:
            qid = q["_id"]
            docs = sorted(set().union(*(c.get(qid, {}) for c in children)))
            pos = {d: i for i, d in enumerate(docs)}
            runs = []
            for c in children:
                s = np.full(len(docs), -np.inf)
                m = np.zeros(len(docs), dtype=bool)
                for d, v in c.get(qid, {}).items():
                    s[pos[d]], m[pos[d]] = v, True
                runs.append((s, m))
            scores, mask = fuse(runs, spec.fuse, spec.weights, len(docs))
            order = ranked(scores, mask, k)
            out[qid] = {docs[i]: float(scores[i]) for i in order}
        return out


def spec_hash(spec) -> str:
    return hashlib.sha1(repr(spec).encode()).hexdigest()[:16]


def cut(run: dict[str, dict[str, float]], k: int) -> dict[str, dict[str, float]]:
    """Each query's top ``k`` in the run's order (dicts keep it)."""
    return {q: dict(list(docs.items())[:k]) for q, docs in run.items()}


def evaluate(run, qrels) -> dict[str, float]:
    agg = ir_measures.calc_aggregate(MEASURES, qrels, cut(run, DEPTH))
    return {n: float(agg[m]) for n, m in zip(NAMES, MEASURES)}


_RUNNERS: dict[str, Runner] = {}


def _task(args) -> tuple[str, str, dict[str, float]]:
    coll_dir, cache, name, spec = args
    runner = _RUNNERS.get(coll_dir.name)
    if runner is None:
        runner = _RUNNERS[coll_dir.name] = Runner(coll_dir, cache)
    return coll_dir.name, name, evaluate(runner.run(spec), runner.qrels)


# -- selection ------------------------------------------------------------------------------


def margins(res: dict[str, dict[str, float]], colls: list[str]) -> dict[tuple[str, str], float]:
    """Relative margin over the best anchor of each criterion cell."""
    return {(c, m): res[c][m] / BEST[c][m] - 1 for c in colls for m in cells(c)}


def score(res, colls: list[str], criterion: str) -> tuple[float, float]:
    mg = margins(res, colls)
    mean = float(np.mean(list(mg.values())))
    if criterion == "maximin":
        return min(mg.values()), mean
    return float(np.mean([res[c][m] for c in colls for m in ("nDCG@10", "AP")])), mean


def choose(results: dict[str, dict[str, dict[str, float]]], colls: list[str], criterion: str) -> str:
    return max(results, key=lambda n: tuple(round(v, 9) for v in score(results[n], colls, criterion)))


# -- report ---------------------------------------------------------------------------------


def describe(spec) -> str:
    return repr(spec).replace("Idx(words=200, stemmer='snowball', stopwords='english', title=1)", "P200")


def report(results, specs, criterion: str, markdown: bool, show_specs: bool) -> None:
    colls = [c for c in COLLECTIONS if all(c in r for r in results.values())]
    names = [n for n in results if not n.startswith("x:")]
    pr = print
    if len(names) < len(results):  # the second round's rows: their own section, after the first round's
        every = results
        results = {n: results[n] for n in names}
        if set(names) <= {"default", REC}:
            robust_report(every, colls, criterion, specs if show_specs else None)
            return
        report(results, specs, criterion, markdown, show_specs)
        robust_report(every, colls, criterion, specs if show_specs else None)
        return
    if show_specs:
        pr("## Configurations\n")
        for n in names:
            pr(f"- `{n}`: `{describe(specs[n])}`")
        pr()
    for c in colls:
        pr(f"\n## {c}: metrics (runs 100 deep)\n")
        pr(f"| {c} | nDCG@10 | AP | R@100 | P@10 |\n|---|---|---|---|---|")
        for a, v in ANCHORS[c].items():
            pr(f"| {a} (anchor) | " + " | ".join(f"{x:.4f}" for x in v) + " |")
        for n in names:
            r = results[n][c]
            marks = ["**" if m in cells(c) and r[m] >= BEST[c][m] else "" for m in NAMES]
            pr(f"| {n} | " + " | ".join(f"{mk}{r[m]:.4f}{mk}" for mk, m in zip(marks, NAMES)) + " |")
    pr("\n## Margin over the best anchor (ours − best; adi R@100 exempt), min relative margin\n")
    head = [f"{c} {m}" for c in colls for m in cells(c)]
    pr("| config | " + " | ".join(head) + " | min rel. | mean rel. | all ≥ |")
    pr("|---" * (len(head) + 4) + "|")
    for n in names:
        mg = margins(results[n], colls)
        diffs = [results[n][c][m] - BEST[c][m] for c in colls for m in cells(c)]
        lo, mean = min(mg.values()), float(np.mean(list(mg.values())))
        pr(f"| {n} | " + " | ".join(f"{d:+.4f}" for d in diffs)
           + f" | {lo:+.2%} | {mean:+.2%} | {'yes' if lo >= 0 else 'no'} |")
    if len(colls) < 2:
        return
    # the sensitivity configurations (s:) were made after looking at the results: not candidates
    pool = {n: r for n, r in results.items() if not n.startswith(("s:", "x:"))}
    for crit in (criterion, "mean" if criterion == "maximin" else "maximin"):
        pr(f"\n## LOO, criterion `{crit}`: chosen on the other three, measured on the held-out one\n")
        pr("| held out | chosen | its min rel. margin on the 3 | held-out nDCG@10 | AP | R@100 | P@10 "
           "| held-out margins vs best anchor | all ≥ on held out | beats default on held out |")
        pr("|---|---|---|---|---|---|---|---|---|---|")
        for h in colls:
            rest = [c for c in colls if c != h]
            best = choose(pool, rest, crit)
            r = results[best][h]
            mg = {m: r[m] - BEST[h][m] for m in cells(h)}
            ok = all(v >= 0 for v in mg.values())
            d = results.get("default", {}).get(h)
            beats = "—"
            if d is not None:
                beats = f"{sum(r[m] - d[m] for m in cells(h)) / len(cells(h)):+.4f} (mean Δ)"
            pr(f"| {h} | `{best}` | {score(results[best], rest, 'maximin')[0]:+.2%} | "
               + " | ".join(f"{r[m]:.4f}" for m in NAMES) + " | "
               + ", ".join(f"{m} {v:+.4f}" for m, v in mg.items()) + f" | {'yes' if ok else 'no'} | {beats} |")
    for rule in ("improve", "bar"):
        forward(results, colls, criterion, rule)
    nested(results, colls, criterion, "bar")
    best_all = choose(pool, colls, criterion)
    pr(f"\nChosen on all four by `{criterion}`: `{best_all}` "
       f"(min rel. margin {score(results[best_all], colls, 'maximin')[0]:+.2%})")


def pair_verdict(results, base: str, cands: list[str], colls: list[str], criterion: str) -> tuple[bool, list]:
    """Rule ``bar`` for a change from ``base`` to one of ``cands``: in each fold the
    setting is chosen among base and cands on the other three, and the held-out
    collection judges it (its shortfall below the best anchor must not grow; if no
    shortfall moves, its mean relative margin must rise in one fold and fall in none).
    Returns (kept, [(held out, pick, Δ shortfall, Δ mean rel.)])."""
    sub = {n: results[n] for n in [base, *cands]}
    folds = []
    for h in colls:
        pick = choose(sub, [c for c in colls if c != h], criterion)
        d = round(shortfall(results[pick], h) - shortfall(results[base], h), 9)
        dm = round(score(results[pick], [h], "maximin")[1] - score(results[base], [h], "maximin")[1], 9)
        folds.append((h, pick, d, dm))
    ds, dms = [f[2] for f in folds], [f[3] for f in folds]
    gains = ds if any(ds) else (dms if all(m >= 0 for m in dms) else [-1.0])
    kept = all(d >= 0 for d in gains) and any(d > 0 for d in gains)
    return kept, folds


def robust_report(results, colls: list[str], criterion: str, specs: dict | None = None) -> None:
    """The second-round (``x:``) rows: metrics, margins, and LOO verdicts, pairwise
    against REC and today's default, per family, and over all of them together."""
    pr = print
    pads = [n for n in results if n.startswith("x:pad/")]
    xs = [n for n in results if n.startswith("x:") and n not in pads]
    bases = [b for b in ("default", REC) if b in results]
    pr("\n## Round 2: the x: rows\n")
    if specs is not None:
        pr("### Configurations\n")
        for n in [*xs, *pads]:
            t2 = "Idx(words=200, stemmer='snowball', stopwords='english', title=2)"
            pr(f"- `{n}`: `{describe(specs[n]).replace(t2, 'P200-t2')}`")
    rows = bases + xs
    pr("\n### Metrics (runs 100 deep; bold: at or above the best anchor)\n")
    head = [f"{c} {m}" for c in colls for m in NAMES]
    pr("| config | " + " | ".join(head) + " |\n" + "|---" * (len(head) + 1) + "|")
    pr("| best anchor | " + " | ".join(f"{BEST[c][m]:.4f}" for c in colls for m in NAMES) + " |")
    for n in rows:
        cellsv = []
        for c in colls:
            for m in NAMES:
                v = results[n][c][m]
                mk = "**" if m in cells(c) and v >= BEST[c][m] else ""
                cellsv.append(f"{mk}{v:.4f}{mk}")
        pr(f"| {n} | " + " | ".join(cellsv) + " |")

    def verdict(base: str, n: str) -> str:
        if n == base:
            return "—"
        kept, folds = pair_verdict(results, base, [n], colls, criterion)
        chosen = sum(f[1] == n for f in folds)
        worst = min(folds, key=lambda f: (f[2], f[3]))
        why = "" if kept else f" ({worst[0]} {worst[2]:+.2%} / {worst[3]:+.2%})"
        return f"{'**yes**' if kept else 'no'} {chosen}/4{why}"

    pr("\n### Margins over the best anchor, and LOO verdicts (rule `bar`)\n")
    pr("`vs X`: the change X → row judged by rule `bar`, each fold choosing between X and the row on the "
       "other three by maximin; n/4 = folds that chose the row; on a `no`, the worst fold "
       "(held out, Δ shortfall / Δ mean rel. margin).\n")
    head = [f"{c} {m}" for c in colls for m in cells(c)]
    pr("| config | " + " | ".join(head) + " | min rel. | mean rel. | all ≥ | vs default | vs rec |")
    pr("|---" * (len(head) + 6) + "|")
    for n in rows:
        mg = margins(results[n], colls)
        diffs = [results[n][c][m] - BEST[c][m] for c in colls for m in cells(c)]
        lo, mean = min(mg.values()), float(np.mean(list(mg.values())))
        pr(f"| {n} | " + " | ".join(f"{d:+.4f}" for d in diffs) + f" | {lo:+.2%} | {mean:+.2%} | "
           f"{'yes' if lo >= 0 else 'no'} | {verdict('default', n)} | {verdict(REC, n) if REC in results else '—'} |")

    fams = {}
    for n in xs:
        fams.setdefault(n.split("/")[0], []).append(n)
    groups = [(f"family {f}", REC, ns) for f, ns in fams.items()]
    # RM3 with the aggregate held fixed (round 1 chose mean; max is the undilutable one)
    for agg, base in (("meanp", REC), ("top2mean", REC), ("maxp", "x:agg/max")):
        ns = [n for n in xs if n.startswith("x:rm3bm25/") and n.endswith("-" + agg)]
        if ns and base in results:
            groups.append((f"x:rm3bm25 *-{agg} only", base, ns))
    groups.append(("all x: rows made before looking", REC, [n for n in xs if not n.startswith("x:post")]))
    pr("\n### LOO within each family (and over every x: row made before looking), the base included as a "
       "candidate (REC unless named)\n")
    pr("| candidates | held out | chosen on the other 3 | its min rel. on the 3 | held-out nDCG@10 | AP | R@100 "
       "| held-out margins vs best anchor | all ≥ | rule `bar` vs the base |")
    pr("|---|---|---|---|---|---|---|---|---|---|")
    for label, base, ns in groups:
        cands = [m for m in ns if m != base]
        kept, folds = pair_verdict(results, base, cands, colls, criterion) if base in results else (False, [])
        for h, pick, d, dm in folds:
            rest = [c for c in colls if c != h]
            r = results[pick][h]
            mg = {m: r[m] - BEST[h][m] for m in cells(h)}
            pr(f"| {label} | {h} | `{pick}` | {score(results[pick], rest, 'maximin')[0]:+.2%} | "
               + " | ".join(f"{r[m]:.4f}" for m in CHOSEN_ON) + " | "
               + ", ".join(f"{m} {v:+.4f}" for m, v in mg.items())
               + f" | {'yes' if all(v >= 0 for v in mg.values()) else 'no'} | Δ shortfall {d:+.2%}, Δ mean {dm:+.2%} |")
        pr(f"| {label} | — | **{'kept' if kept else 'not kept'}** vs `{base}` (chosen on all four: "
           f"`{choose({m: results[m] for m in [base, *cands]}, colls, criterion)}`) | | | | | | | |")
    if pads:
        pr("\n### Stress test: each document followed by 8 random off-topic documents (another collection's)\n")
        pr("Same queries and judgments; no anchor ran on these corpora, so the comparison is between rows "
           "(Δ: vs `x:pad/maxp`, the aggregate that cannot be diluted).\n")
        head = [f"{c} {m}" for c in colls for m in CHOSEN_ON]
        pr("| config | " + " | ".join(head) + " | mean Δ vs maxp |\n" + "|---" * (len(head) + 2) + "|")
        ref = results.get("x:pad/maxp")
        keys = [(c, m) for c in colls for m in CHOSEN_ON]
        for n in pads:
            vals = [results[n][c][m] for c, m in keys]
            md = "—" if ref is None else f"{np.mean([v - ref[c][m] for v, (c, m) in zip(vals, keys)]):+.4f}"
            pr(f"| {n} | " + " | ".join(f"{v:.4f}" for v in vals) + f" | {md} |")


def shortfall(res, coll: str) -> float:
    """How far the worst criterion cell of a collection is below the best anchor
    (relative; 0 when every cell is at or above it)."""
    return min(0.0, min(margins(res, [coll]).values()))


def forward(results, colls: list[str], criterion: str, rule: str, quiet: bool = False) -> dict[str, str] | None:
    """Change-by-change LOO over FACTORS, from the default. For each factor in turn and
    each held-out collection, the factor's setting is chosen on the other three (by the
    criterion); the held-out collection then judges it against the current configuration:

    - rule ``improve``: the held-out collection's mean relative margin over its criterion
      cells (i.e. its mean relative change in nDCG@10, AP, R@100) must not fall;
    - rule ``bar``: the held-out collection's shortfall below the best anchor must not
      grow (a change that keeps it at or above the anchors passes).

    The setting chosen on all four is kept when every fold passes and at least one fold
    strictly gains (by the rule's measure); under ``bar``, a change that moves no
    shortfall (all folds at 0 change) is kept only if its mean relative margin does not
    fall on any held-out collection and rises on one. Passes repeat until no factor
    changes."""
    current = {f: levels[0][0] for f, levels in FACTORS.items()}
    if not all(factor_name(a) in results for a in grid()):
        return None

    pr = (lambda *a, **k: None) if quiet else print

    def judge(name: str, h: str) -> float:
        return score(results[name], [h], "maximin")[1] if rule == "improve" else shortfall(results[name], h)

    pr(f"\n## Change-by-change LOO, rule `{rule}` (selection on three by `{criterion}`)\n")
    pr("| pass | factor | current | held out | chosen on the other 3 | held-out Δ (rule) | held-out Δ mean rel. "
          "| held-out shortfall after | passes |")
    pr("|---|---|---|---|---|---|---|---|---|")
    steps = []
    for n_pass in range(1, 5):
        changed = False
        for f, levels in FACTORS.items():
            cands = {lab: factor_name(dict(current, **{f: lab})) for lab, _ in levels}
            sub = {n: results[n] for n in cands.values()}
            cur = factor_name(current)
            deltas, means = [], []
            for h in colls:
                pick = choose(sub, [c for c in colls if c != h], criterion)
                d = judge(pick, h) - judge(cur, h)
                dm = score(results[pick], [h], "maximin")[1] - score(results[cur], [h], "maximin")[1]
                deltas.append(round(d, 9))
                means.append(round(dm, 9))
                label = next(lab for lab, n in cands.items() if n == pick)
                ok = "= (no change chosen)" if pick == cur else ("yes" if d >= -1e-9 else "no")
                pr(f"| {n_pass} | {f} | {current[f]} | {h} | {label} | {d:+.2%} | {dm:+.2%} | "
                      f"{shortfall(results[pick], h):+.2%} | {ok} |")
            label = next(lab for lab, n in cands.items() if n == choose(sub, colls, criterion))
            gains = deltas
            if rule == "bar" and not any(deltas):
                gains = means if all(m >= 0 for m in means) else [-1.0]
            keep = label != current[f] and all(d >= 0 for d in gains) and any(d > 0 for d in gains)
            verdict = f"**kept: {f} = {label}**" if keep else f"not kept (chosen on all four: {label})"
            pr(f"| {n_pass} | {f} | {current[f]} | — | {verdict} | | | | |")
            if keep:
                steps.append((f, current[f], label))
                current[f] = label
                changed = True
        if not changed:
            break
    final = factor_name(current)
    r = results[final]
    pr(f"\nRule `{rule}` ends at `{final}` (changes: "
          + (", ".join(f"{f} {a} → {b}" for f, a, b in steps) or "none") + ")")
    for c in colls:
        pr(f"- {c}: " + ", ".join(f"{m} {r[c][m]:.4f} ({r[c][m] - BEST[c][m]:+.4f})" for m in NAMES[:3]))
    return current


def nested(results, colls: list[str], criterion: str, rule: str) -> None:
    """The whole change-by-change procedure run on three collections (its own LOO over
    those three), its end point measured on the fourth."""
    print(f"\n## Nested LOO: the change-by-change procedure (rule `{rule}`) run on three, measured on the fourth\n")
    print("| held out | end point chosen on the other 3 | held-out nDCG@10 | AP | R@100 | P@10 "
          "| margins vs best anchor | all ≥ | Δ vs default (nDCG@10, AP, R@100) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for h in colls:
        end = forward(results, [c for c in colls if c != h], criterion, rule, quiet=True)
        if end is None:
            return
        name = factor_name(end)
        r, d = results[name][h], results[factor_name({f: lv[0][0] for f, lv in FACTORS.items()})][h]
        mg = {m: r[m] - BEST[h][m] for m in cells(h)}
        print(f"| {h} | `{name}` | " + " | ".join(f"{r[m]:.4f}" for m in NAMES) + " | "
              + ", ".join(f"{m} {v:+.4f}" for m, v in mg.items())
              + f" | {'yes' if all(v >= 0 for v in mg.values()) else 'no'} | "
              + ", ".join(f"{r[m] - d[m]:+.4f}" for m in CHOSEN_ON) + " |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--collections", default=",".join(f"/work/shared/collections/{c}" for c in COLLECTIONS))
    ap.add_argument("--cache", type=Path, default=Path("/tmp/citesearch_loo"))
    ap.add_argument("--only", default="", help="comma-separated configuration names (default: all)")
    ap.add_argument("--round2", action="store_true", help="only today's default, REC and the x: rows")
    ap.add_argument("--skip", default="", help="comma-separated name prefixes to leave out of the report")
    ap.add_argument("--criterion", choices=["maximin", "mean"], default="maximin")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--markdown", action="store_true", help="(tables are Markdown; also list the specs)")
    ap.add_argument("--dump", type=Path, help="write the metrics of every run here (JSON)")
    ap.add_argument("--extra", default="", help="Python file defining extra(c: dict) to add configurations")
    args = ap.parse_args()
    specs = configurations()
    if args.extra:
        ns: dict = {}
        exec(Path(args.extra).read_text(), globals() | ns, ns)
        ns["extra"](specs)
    if args.only:
        specs = {n: specs[n] for n in args.only.split(",")}
    if args.round2:
        specs = {n: s for n, s in specs.items() if n in ("default", REC) or n.startswith("x:")}
    skip = tuple(filter(None, args.skip.split(",")))
    specs = {n: s for n, s in specs.items() if not (skip and n.startswith(skip))}
    coll_dirs = [Path(p) for p in args.collections.split(",")]
    t0 = time.perf_counter()
    for d in coll_dirs:  # build first, in this process (a build forks its own workers)
        for idx in sorted(set().union(*(indexes_of(s) for s in specs.values())), key=lambda i: i.key):
            ensure_index(d, idx, args.cache)
    tasks = [(d, args.cache, n, s) for d in coll_dirs for n, s in specs.items()]
    # DocFuse children first, so that two workers do not make the same child run
    tasks.sort(key=lambda t: isinstance(t[3], DocFuse))
    results: dict[str, dict[str, dict[str, float]]] = {n: {} for n in specs}
    if args.jobs > 1:
        import multiprocessing

        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("fork")) as pool:
            for coll, name, res in pool.map(_task, tasks, chunksize=4):
                results[name][coll] = res
    else:
        for coll, name, res in map(_task, tasks):
            results[name][coll] = res
    print(f"{len(tasks)} (collection, configuration) runs in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    if args.dump:
        args.dump.write_text(json.dumps(results, indent=1))
    report(results, specs, args.criterion, args.markdown, args.markdown)
    if "default" in results and "proto-default" in results:
        gap = max(abs(results["default"][c][m] - results["proto-default"][c][m])
                  for c in results["default"] for m in NAMES)
        print(f"\nproto-default vs default (library): largest metric difference {gap:.2e}")


if __name__ == "__main__":
    main()
