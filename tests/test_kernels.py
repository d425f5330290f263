"""The search kernel compiled at install (search/kernels.py, _kernels.c) returns exactly
what scoring every candidate and sorting returns: for one method, for BM25 and TF-IDF in
one pass, and through hybrid search, on the shared collections and on random queries.

The straightforward reference is Scorer.bm25 / Scorer.tfidf over every candidate (numpy),
sorted by score then row; hybrid's reference is the unpruned fusion (a filter that keeps
every passage turns pruning off)."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from conftest import SHARED
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citesearch.corpus import load_documents
from citesearch.indexer.builder import IndexSettings, build_index
from citesearch.search import kernels
from citesearch.search.query import plain_query
from citesearch.search.ranking import Ranking
from citesearch.search.searcher import Index

pytestmark = pytest.mark.skipif(not kernels.AVAILABLE, reason="the kernel is not built: python setup.py build_ext -i")

VOCABULARY = [f"w{i}x" for i in range(200)]


@pytest.fixture(scope="module")
def zipf(tmp_path_factory):
    """Short passages of Zipf-distributed words: many exact ties, lists longer than the prefix."""
    rng = random.Random(3)
    weights = [1 / (i + 1) for i in range(len(VOCABULARY))]
    tmp = tmp_path_factory.mktemp("kzipf")
    with open(tmp / "corpus.jsonl", "w") as f:
        for i in range(4000):
            words = rng.choices(VOCABULARY, weights=weights, k=rng.choice([2, 3, 5, 8, 30]))
            f.write(json.dumps({"_id": f"d{i}", "title": "", "text": " ".join(words)}) + "\n")
    settings_ = IndexSettings(passage_words=1_000_000, impact_prefix=8)
    build_index(load_documents([tmp / "corpus.jsonl"]), tmp / "index", settings_, workers=1)
    with Index.open(tmp / "index") as index:
        assert index.scorer._kernel is not None
        yield index


@pytest.fixture(scope="module", params=["cisi", "cacm"])
def shared(request, tmp_path_factory):
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the project")
    d = SHARED / "collections" / request.param
    out = tmp_path_factory.mktemp(request.param) / "index"
    build_index(load_documents([d / "corpus.jsonl"]), out, IndexSettings(impact_prefix=16), workers=1)
    queries = [json.loads(line)["text"] for line in open(d / "queries.jsonl")]
    with Index.open(out) as index:
        yield index, [q for q in queries if q.strip()]


def straightforward(index: Index, kind: str, counts: dict, k: int):
    rows = index.scorer.candidates(counts)
    scores = index.scorer.bm25(counts, rows) if kind == "bm25" else index.scorer.tfidf(counts, rows)
    idx = np.lexsort((rows, -scores))
    idx = idx[scores[idx] > 0][:k]
    return rows[idx].tolist(), scores[idx].tolist()


def weights_of(index: Index, text: str) -> dict:
    return index.query_weights(plain_query(text))[0]


def check_tops(index: Index, counts: dict, k: int) -> None:
    for kind in ("bm25", "tfidf"):
        rows, scores = index.scorer.top(kind, counts, k)
        assert (rows.tolist(), scores.tolist()) == straightforward(index, kind, counts, k)
    rows, orders = index.scorer.tops({"bm25": counts, "tfidf": counts}, k)
    assert len(set(rows.tolist())) == len(rows)
    for kind, order in zip(("bm25", "tfidf"), orders):
        assert (rows[order].tolist(), None) == (straightforward(index, kind, counts, k)[0], None)


@pytest.fixture(params=[False, True], ids=["roomy", "cramped"])
def room(request, monkeypatch):
    """``cramped``: a candidate buffer of 2k, so that it fills, compacts and, with ties,
    overflows and is retried larger on most queries."""
    if request.param:
        monkeypatch.setattr(kernels, "_ROOM", 2)
        monkeypatch.setattr(kernels, "_MIN_ROOM", 1)


@pytest.mark.parametrize("k", [1, 10, 100, 1000])
def test_tops_equal_scoring_everything_on_shared_collections(shared, room, k):
    index, queries = shared
    for text in queries[:30]:
        check_tops(index, weights_of(index, text), k)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    words=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=8),
    k=st.sampled_from([1, 2, 5, 10, 37, 100, 1000, 5000]),
    numpy_weights=st.booleans(),
)
def test_tops_equal_scoring_everything_on_random_queries(zipf, words, k, numpy_weights):
    counts = weights_of(zipf, " ".join(words))
    if numpy_weights:  # as RM3's: float64 products, not float32
        counts = {t: np.float64(c) * 0.37 for t, c in counts.items()}
    check_tops(zipf, counts, k)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=6), k=st.sampled_from([1, 10, 40]))
def test_tops_in_a_cramped_buffer(zipf, words, k):
    old = kernels._ROOM, kernels._MIN_ROOM
    kernels._ROOM, kernels._MIN_ROOM = 2, 1
    try:
        check_tops(zipf, weights_of(zipf, " ".join(words)), k)
    finally:
        kernels._ROOM, kernels._MIN_ROOM = old


def test_hybrid_search_equals_unpruned_fusion(shared):
    index, queries = shared
    for text in queries[:25]:
        full = index.rank(f"source:* {text}")  # a filter: every candidate scored, no pruning
        for depth in (10, 40, None):
            pruned = index.rank(text, depth=depth)
            for a, b in zip(full.top(depth or 100), pruned.top(depth or 100)):
                assert a.tolist() == b.tolist(), text
        a = index.search(f"source:* {text}", k=10)
        b = index.search(text, k=10)
        assert [(r.passage.id, r.score) for r in a.results] == [(r.passage.id, r.score) for r in b.results]


def test_the_kernel_equals_the_numpy_path_on_random_queries(zipf):
    """Whole searches, the default path (kernel) against compiled=False (numpy)."""
    rng = random.Random(5)
    plain = Index(zipf.reader, compiled=False)  # the same maps (closing it would close them)
    for _ in range(80):
        text = " ".join(rng.sample(VOCABULARY[:15], rng.randint(1, 3)) + rng.sample(VOCABULARY, rng.randint(0, 3)))
        for method in ("bm25", "tfidf", "hybrid"):
            a = zipf.search(text, k=10, method=method)
            b = plain.search(text, k=10, method=method)
            assert [(r.passage.id, r.score) for r in a.results] == [(r.passage.id, r.score) for r in b.results]
            assert zipf.rank_documents(text, k=20, method=method) == plain.rank_documents(text, k=20, method=method)


def test_scratch_buffers_are_left_zeroed(zipf):
    for text in ("w0x w1x", "w2x w3x w4x w150x"):
        zipf.scorer.tops({"bm25": weights_of(zipf, text), "tfidf": weights_of(zipf, text)}, 5)
    kernel = zipf.scorer._kernel
    assert not kernel.acc.any() and not kernel.mark.any()


def test_the_kernel_needs_no_numba():
    import subprocess
    import sys

    code = "import sys, citesearch.search.kernels as k; assert k.AVAILABLE; assert 'numba' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=6), rrf_k=st.sampled_from([0.0, 5.0, 60.0]))
def test_fusion_in_the_kernel_equals_unpruned_fusion(zipf, words, rrf_k):
    """The whole fused ranking (every passage either run ranks, with its fused score) as
    the kernel's rrf() makes it, against rrf() over every candidate scored."""
    text = " ".join(words)
    full = zipf.rank(f"source:* {text}", rrf_k=rrf_k)  # a filter: every candidate scored, no pruning
    fused = zipf.rank(text, rrf_k=rrf_k)
    assert len(fused) == len(full)
    for a, b in zip(full.top(), fused.top()):
        assert a.tolist() == b.tolist()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    words=st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=6),
    n=st.sampled_from([1, 3, 10, 40]),
    start=st.sampled_from([1, 2, 8, 256]),
    rrf_k=st.sampled_from([0.0, 60.0]),
)
def test_the_early_stopped_fusion_equals_the_whole_fusion(zipf, words, n, start, rrf_k):
    """rrf_top from shallow tops, deepened until settled, gives the fused top n of the
    whole fusion (rows, order, scores), from any starting depth: 1 and 2 deepen almost
    every time, through 4, 16, 64, 256 and 1000."""
    from citesearch.search.fusion import rrf_top

    weights = weights_of(zipf, " ".join(words))
    runs = {"dfr": weights, "tfidf": weights}  # the default hybrid's (issue 13: In_expC2 and TF-IDF)
    full = zipf.rank(f"source:* {' '.join(words)}", rrf_k=rrf_k)  # a filter: every candidate scored

    rows, scores, complete = rrf_top(lambda d: zipf.scorer.tops(runs, d), n, rrf_k, start=start)
    if complete:  # the whole fused ranking, in no order
        rows, scores = Ranking(rows, scores).top()
    want_rows, want_scores = full.top(None if complete else n)
    assert rows.tolist() == want_rows.tolist()
    assert scores.tolist() == want_scores.tolist()


def test_per_source_caps_over_an_early_stopped_fusion(tmp_path):
    """A capped search asks the fusion deeper until k sources fill; a fusion that ran
    out (every rank known) must say it is complete only when it holds every passage."""
    texts = [" ".join(f"w{(i * 7 + j) % 40}x" for j in range(60)) for i in range(300)]
    with open(tmp_path / "c.jsonl", "w") as f:
        for i, text in enumerate(texts):
            f.write(json.dumps({"_id": f"d{i}", "title": "", "text": text}) + "\n")
    build_index(load_documents([tmp_path / "c.jsonl"]), tmp_path / "idx", IndexSettings(passage_words=20), workers=1)
    with Index.open(tmp_path / "idx") as index:
        plain = Index(index.reader, compiled=False)
        for text in ("w3x", "w3x w17x", "w1x w2x w39x"):
            for k, cap in ((5, 1), (20, 1), (40, 2)):
                a = index.search(text, k=k, per_source=cap)
                b = plain.search(text, k=k, per_source=cap)
                assert [(r.passage.id, r.score) for r in a.results] == [(r.passage.id, r.score) for r in b.results]
                assert len(a.results) == min(k, len({r.source.id for r in plain.search(text, k=1000).results}) * cap)


def test_search_takes_the_early_stop(zipf, monkeypatch):
    """The default hybrid search ranks its runs shallow when that settles its top."""
    depths = []
    tops = zipf.scorer.tops
    monkeypatch.setattr(zipf.scorer, "tops", lambda runs, d: depths.append(d) or tops(runs, d))
    zipf.search("w3x w40x w120x", k=5)
    assert depths and depths[0] < 1000
