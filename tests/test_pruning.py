"""Pruned top-k search (Scorer.top, and Index.rank with a depth) returns exactly what
scoring every candidate and sorting returns: same rows in the same order, same scores.

The collection is synthetic so that it has what pruning must get right: posting lists far
longer than the stored impact prefix, and many exactly tied scores (short passages with
equal lengths and counts) at every cut-off.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from citesearch.corpus import load_documents
from citesearch.indexer.builder import IndexSettings, build_index
from citesearch.search import kernels
from citesearch.search.query import plain_query
from citesearch.search.searcher import Index

VOCABULARY = [f"w{i}x" for i in range(300)]


@pytest.fixture(scope="module", params=[8, 1024], ids=["prefix8", "prefix1024"])
def built(request, tmp_path_factory):
    rng = random.Random(7)
    zipf = [1 / (i + 1) for i in range(len(VOCABULARY))]
    tmp = tmp_path_factory.mktemp("zipf")
    with open(tmp / "corpus.jsonl", "w") as f:
        for i in range(3000):
            words = rng.choices(VOCABULARY, weights=zipf, k=rng.choice([3, 5, 5, 8, 20, 40]))
            f.write(json.dumps({"_id": f"d{i}", "title": "", "text": " ".join(words)}) + "\n")
    settings = IndexSettings(passage_words=1_000_000, impact_prefix=request.param)
    build_index(load_documents([tmp / "corpus.jsonl"]), tmp / "index", settings, workers=1)
    return tmp / "index"


@pytest.fixture(scope="module", params=[False, "numba", None], ids=["numpy", "numba", "kernel"])
def index(request, built):
    """The index, ranked by the numpy path, numba's kernel or the one compiled at install
    (the default, when it is built)."""
    if request.param is None and not kernels.AVAILABLE:
        pytest.skip("the search kernel is not built (python setup.py build_ext --inplace)")
    with Index.open(built, compiled=request.param) as opened:
        assert opened.scorer.compiled == (request.param is not False)
        assert (opened.scorer._kernel is not None) == (request.param is None)
        yield opened


def queries(n: int = 60) -> list[str]:
    rng = random.Random(11)
    out = []
    for _ in range(n):
        # Frequent and rare words, sometimes repeated (a count of 2 doubles a weight).
        words = rng.sample(VOCABULARY[:12], rng.randint(1, 3)) + rng.sample(VOCABULARY, rng.randint(0, 3))
        out.append(" ".join(words + rng.sample(words, rng.randint(0, 1))))
    return out


def straightforward(index: Index, kind: str, counts: dict[int, float], k: int):
    rows = index.scorer.candidates(counts)
    scores = index.scorer.score(kind, counts, rows)
    idx = np.lexsort((rows, -scores))[:k]
    return rows[idx], scores[idx]


def counts_of(index: Index, text: str) -> dict[int, float]:
    ids, _ = index.analyze(text)
    return {t: ids.count(t) for t in dict.fromkeys(ids)}


def test_lists_are_longer_than_the_prefix(index):
    df = np.diff(index.reader.indptr)
    prefix = index.manifest.impact_prefix
    if prefix < 1024:
        assert (df > prefix).sum() > 50
        assert len(index.reader["bm25_impacts"]) == prefix * (df > prefix).sum()


@pytest.mark.parametrize("kind", ["bm25", "tfidf", "dfr"])
@pytest.mark.parametrize("k", [1, 3, 10, 100, 1000, 5000])
def test_top_equals_scoring_everything(index, kind, k):
    for text in queries():
        counts = counts_of(index, text)
        expected_rows, expected_scores = straightforward(index, kind, counts, k)
        rows, scores = index.scorer.top(kind, counts, k)
        assert rows.tolist() == expected_rows.tolist(), text
        assert scores.tolist() == expected_scores.tolist(), text


def test_scores_have_ties_at_the_cut(index):
    """The property above is only worth something if ties straddle the k-th place."""
    tied = 0
    for text in queries():
        _, scores = straightforward(index, "bm25", counts_of(index, text), 11)
        tied += len(scores) == 11 and scores[9] == scores[10]
    assert tied >= 5


@pytest.mark.parametrize("method", ["bm25", "tfidf", "dfr", "hybrid"])
def test_rank_with_depth_equals_full_ranking(index, method):
    for text in queries(30):
        full = index.rank(f"source:* {text}", method=method)  # a filter: nothing is pruned
        pruned = index.rank(text, method=method, depth=10)
        assert len(full) > 10
        for a, b in zip(full.top(10), pruned.top(10)):
            assert a.tolist() == b.tolist(), text
        if method == "hybrid":  # without a depth, fusion of the two exact tops is the whole fused ranking
            whole = index.rank(text, method=method)
            assert whole.complete and len(whole) == len(full)
            for a, b in zip(full.top(), whole.top()):
                assert a.tolist() == b.tolist(), text


def test_search_and_documents_equal_unpruned(index):
    for text in queries(20):
        for per_source in (None, 1):
            a = index.search(f"source:* {text}", k=7, per_source=per_source)
            b = index.search(text, k=7, per_source=per_source)
            assert len(a.results) == 7
            assert [(r.passage.id, r.score) for r in a.results] == [(r.passage.id, r.score) for r in b.results]
        assert index.rank_documents(f"source:* {text}", k=25) == index.rank_documents(plain_query(text), k=25)


def test_asking_for_more_than_match(index):
    counts = counts_of(index, VOCABULARY[-1])
    rows, _ = straightforward(index, "bm25", counts, 10**6)
    got, _ = index.scorer.top("bm25", counts, len(rows) + 5)
    assert got.tolist() == rows.tolist()
    ranking = index.rank(VOCABULARY[-1], method="bm25", depth=len(rows) + 5)
    assert ranking.complete


def test_an_interrupted_search_leaves_no_trace(built, monkeypatch):
    index = Index.open(built, compiled=False)
    counts = counts_of(index, " ".join(VOCABULARY[:3]))
    expected = index.scorer.top("bm25", counts, 10)
    calls = []

    def interrupted(parts):
        calls.append(1)
        if len(calls) == 2:  # after the sample, with the essential lists accumulated
            raise KeyboardInterrupt
        return type(index.scorer)._take(index.scorer, parts)

    monkeypatch.setattr(index.scorer, "_take", interrupted)
    with pytest.raises(KeyboardInterrupt):
        index.scorer.top("bm25", counts, 10)
    monkeypatch.undo()
    for got, want in zip(index.scorer.top("bm25", counts, 10), expected):
        assert got.tolist() == want.tolist()


def test_numpy_float_weights_multiply_in_float64(index):
    """RM3's expanded weights are numpy float64s, and a float64 times a float32 array is a
    float64 product (a Python number's is float32): both paths must round alike."""
    for text in queries(20):
        counts = counts_of(index, text)
        first = next(iter(counts))
        mixed = {t: (np.float64(c) / 3 if t != first else c) for t, c in counts.items()}
        for kind in ("bm25", "tfidf", "dfr"):
            want_rows, want_scores = straightforward(index, kind, mixed, 50)
            rows, scores = index.scorer.top(kind, mixed, 50)
            assert rows.tolist() == want_rows.tolist(), text
            assert scores.tolist() == want_scores.tolist(), text


@pytest.mark.parametrize("workers", [1, 2])
def test_batch_runs_are_the_same_compiled_or_not(built, workers):
    from citesearch.search import SearchOptions
    from citesearch.search.batch import BatchOptions, run_queries, worth_compiling
    from citesearch.search.expansion import RM3

    assert not worth_compiling(1000, 3000) and worth_compiling(2000, 1_000_000)
    numbered = [(str(i), text) for i, text in enumerate(queries(40))]
    for opts in (
        BatchOptions(SearchOptions(method="bm25"), k=50),
        BatchOptions(k=20, level="passage"),  # hybrid, the default
        BatchOptions(SearchOptions(method="tfidf", expand=RM3(5, 10, 0.5)), k=10),
    ):
        runs = [list(run_queries(built, numbered, opts, workers, compiled=c)) for c in (False, True)]
        assert runs[0] == runs[1]
        assert all(lines and not error for lines, error in runs[0])


def test_batch_compiles_when_the_rankings_pay_for_it(built, monkeypatch):
    from citesearch.search import SearchOptions, batch

    loads = []
    monkeypatch.setattr(kernels, "AVAILABLE", False)  # numba's, which costs a load
    monkeypatch.setattr(batch, "_load_compiled", lambda: loads.append(1) or False)
    monkeypatch.setattr(batch, "COMPILED_FROM", 40 * 3000 + 1)  # 40 queries, 3000 passages
    numbered = [(str(i), text) for i, text in enumerate(queries(40))]
    list(batch.run_queries(built, numbered, batch.BatchOptions(SearchOptions(method="bm25")), workers=1))
    assert loads == []  # one ranking a query: 40 x 3000 is under the threshold
    list(batch.run_queries(built, numbered, batch.BatchOptions(), workers=1))
    assert loads == [1]  # hybrid, the default, ranks twice


@pytest.mark.parametrize("kind", ["bm25", "tfidf", "dfr"])
def test_the_compiled_bound_is_the_sampled_one(built, kind):
    """The compiled path's θ (``Scorer._bound``) is ``_sample``'s, to the bit: for
    Python-number and numpy float64 (RM3) weights, k below and past the sample."""
    positive = 0
    with Index.open(built, compiled="numba") as index:
        scorer = index.scorer
        for text in queries():
            counts = counts_of(index, text)
            for weights in (counts, {t: np.float64(c) * 0.7 for t, c in counts.items()}):
                coefficients = scorer.coefficients(kind, weights)
                for k in (1, 10, 100, 1000, 3000):
                    bound = scorer._bound(kind, coefficients, k)
                    assert bound == scorer._sample(kind, coefficients, k)[0]
                    positive += bound > 0
        acc, _ = scorer._buffers()
        assert not acc.any()  # left zeroed
    assert positive > 150  # not only the trivial 0 (deep k outruns a short sample)


@pytest.mark.parametrize("probabilistic", ["dfr", "bm25"])
def test_rm3_on_the_bm25_run_only_equals_unpruned(index, probabilistic):
    """expand_runs="bm25": the two runs rank different weights (the probabilistic run,
    In_expC2 or BM25, the expanded query, TF-IDF the original), pruned (a weights dict per
    run) exactly as scored in full."""
    from citesearch.search.expansion import RM3
    from citesearch.search.options import SearchOptions

    opts = SearchOptions(method="hybrid", expand=RM3(5, 10, 0.5), expand_runs="bm25", hybrid_with=probabilistic)
    changed = 0
    for text in queries(20):
        full = index.rank(f"source:* {text}", opts)  # a filter: nothing is pruned
        pruned = index.rank(text, opts, depth=10)
        original, _ = index.query_weights(plain_query(text))
        for ranking in (full, pruned):
            assert ranking.run_weights == {probabilistic: ranking.weights, "tfidf": original}
        assert pruned.complete and len(pruned) == len(full)
        for a, b in zip(full.top(), pruned.top()):
            assert a.tolist() == b.tolist(), text
        both = index.rank(text, opts.with_(expand_runs="all"), depth=10)
        changed += both.top(10)[0].tolist() != pruned.top(10)[0].tolist()
        assert both.run_weights == {probabilistic: both.weights, "tfidf": both.weights}
    assert changed  # the option does something
