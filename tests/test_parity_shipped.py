"""External oracles on the collection the project ships (``tests/data/parity.jsonl``), so
that they run everywhere, not only beside ../shared (``test_parity.py`` runs the same
checks on the shared collections when they are there).

rank_bm25's ``BM25Okapi``, ``BM25Plus`` and ``BM25L`` check every BM25 variant but
Lucene's (checked against its formula written out here), scikit-learn's
``TfidfVectorizer`` checks TF-IDF. The oracles get the index's own analysis: the terms
a :class:`TermMapper` gives each document's text, one passage per document.

Two documented differences from rank_bm25, accounted for term by term:

* Lv & Zhai's BM25+ and BM25L sum over the query terms a document *contains*; rank_bm25
  sums over every query term, so a document without the term still gets idf·δ (BM25+).
  citesearch follows the papers (``bm25.py``: "terms absent from a passage contribute
  nothing, in every variant"), so the oracle's per-term scores count only where tf > 0.
* rank_bm25 0.2.2 (its last release) multiplies BM25L's term score by tf once more, a typo
  fixed upstream after that release (dorianbrown/rank_bm25#5, PR #20). Which of the two
  the installed rank_bm25 does is probed, not assumed, and its extra factor divided out.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from citesearch.corpus import load_documents
from citesearch.indexer.analysis import AnalyzerConfig, TermMapper
from citesearch.indexer.bm25 import BM25Params
from citesearch.indexer.builder import IndexSettings, build_index
from citesearch.search.query import plain_query
from citesearch.search.searcher import Index

rank_bm25 = pytest.importorskip("rank_bm25")

DATA = Path(__file__).resolve().parent / "data"
CORPUS = DATA / "parity.jsonl"
QUERIES = DATA / "parity_queries.jsonl"
# One passage per document, as the oracles see documents; a short impact prefix so that
# pruned top-k search takes every path.
# title_weight=1: the references score the text, and a title weight adds title tokens
# that no reference sees (tests/test_title_weight.py checks the weighting itself).
WHOLE_DOCUMENTS = IndexSettings(passage_words=1_000_000, impact_prefix=16, title_weight=1)
ORACLES = {"okapi": rank_bm25.BM25Okapi, "bm25+": rank_bm25.BM25Plus, "bm25l": rank_bm25.BM25L}


def _build(out: Path, settings: IndexSettings = WHOLE_DOCUMENTS) -> Index:
    build_index(load_documents([CORPUS]), out, settings, workers=1)
    return Index.open(out)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory):
    """(index, queries, each document's terms as the index analyzed it)."""
    index = _build(tmp_path_factory.mktemp("shipped") / "index")
    queries = [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines()]
    mapper = TermMapper(AnalyzerConfig())
    corpus = [mapper.terms(text) for text in _doc_texts(index)]
    yield index, queries, corpus
    index.close()


def _doc_texts(index: Index) -> list[str]:
    return [r[0] for r in index.reader.db.execute("SELECT text FROM documents ORDER BY row")]


def _query_terms(index: Index, text: str) -> tuple[dict[int, float], list[str]]:
    """The query as the index counts it (term id → count) and as rank_bm25 gets it (term strings)."""
    ids, _ = index.analyze(text)
    names = index.reader.term_strings(sorted(set(ids)))
    return dict(Counter(ids)), [names[t] for t in ids]


def _bm25l_multiplies_by_tf() -> bool:
    """Whether the installed rank_bm25 has BM25L's extra tf factor. With k1 = 0 the BM25L
    term score is idf·(c + δ)/(c + δ) = idf whatever tf: two documents of equal length
    with tf 1 and 2 score equally, unless the score is multiplied by tf."""
    s = rank_bm25.BM25L([["a", "b"], ["a", "a"], ["c", "d"]], k1=0).get_scores(["a"])
    doubled = s[1] == pytest.approx(2 * s[0], rel=1e-12)
    assert s[0] > 0 and (doubled or s[1] == pytest.approx(s[0], rel=1e-12)), s
    return doubled


def _term_scores(oracle, term: str) -> np.ndarray:
    """The oracle's score of every document for the one-word query ``term``, 0 where the
    document lacks it, without rank_bm25's extra tf factor in BM25L."""
    tf = np.array([d.get(term, 0) for d in oracle.doc_freqs], dtype=np.float64)
    scores = np.asarray(oracle.get_scores([term]), dtype=np.float64)
    if isinstance(oracle, rank_bm25.BM25L) and _bm25l_multiplies_by_tf():
        scores = np.divide(scores, tf, out=np.zeros_like(scores), where=tf > 0)
    return np.where(tf > 0, scores, 0.0)


def _oracle_scores(oracle, tokens: list[str]) -> np.ndarray:
    """Scores as rank_bm25 adds them up: token by token in query order, repeats included."""
    total = np.zeros(oracle.corpus_size)
    for token in tokens:
        total += _term_scores(oracle, token)
    return total


def _oracle(variant: str, corpus: list[list[str]], params: BM25Params):
    if variant == "okapi":
        return rank_bm25.BM25Okapi(corpus, k1=params.k1, b=params.b)
    return ORACLES[variant](corpus, k1=params.k1, b=params.b, delta=params.effective_delta)


def test_the_shipped_collection_reaches_the_edge_cases(shipped):
    index, queries, corpus = shipped
    n = len(corpus)
    df = Counter(t for terms in corpus for t in set(terms))
    assert n == index.reader.n_passages == 300
    assert df["stone"] * 2 == n  # Okapi idf exactly 0
    assert df["water"] * 2 > n and df["studi"] == n  # negative Okapi idf, floored
    assert max(max(Counter(terms).values()) for terms in corpus) >= 6
    assert len({len(terms) for terms in corpus}) > 40
    assert sum(len(t) != len(set(t)) for t in (_query_terms(index, q["text"])[1] for q in queries)) >= 5


def test_the_shipped_files_are_what_their_generator_writes():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_parity", DATA / "make_parity.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)  # type: ignore[union-attr]
    docs = generator.documents()
    assert [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()] == docs
    assert [json.loads(line) for line in QUERIES.read_text(encoding="utf-8").splitlines()] == generator.queries(docs)


def test_the_bm25l_probe_sees_the_installed_rank_bm25():
    from importlib.metadata import version

    if version("rank-bm25") == "0.2.2":  # the release before the fix
        assert _bm25l_multiplies_by_tf()


VARIANT_PARAMS = [
    ("okapi", BM25Params("okapi", 1.5, 0.75)),
    ("okapi", BM25Params("okapi", 1.2, 0.4)),
    ("okapi", BM25Params("okapi", 1.2, 1.0)),
    ("bm25+", BM25Params("bm25+")),
    ("bm25+", BM25Params("bm25+", 1.5, 0.75)),
    ("bm25+", BM25Params("bm25+", 0.9, 0.3, delta=0.5)),
    ("bm25l", BM25Params("bm25l")),
    ("bm25l", BM25Params("bm25l", 1.5, 0.75)),
    ("bm25l", BM25Params("bm25l", 2.0, 0.0, delta=1.0)),
]


VARIANT_IDS = [f"{v}-{p.k1}-{p.b}-{p.delta}" for v, p in VARIANT_PARAMS]


@pytest.mark.parametrize("variant,params", VARIANT_PARAMS, ids=VARIANT_IDS)
def test_query_time_variant_scores_equal_rank_bm25(shipped, variant, params):
    """Parameters other than the index's are computed at query time in float64: every
    document's score agrees with rank_bm25's to 1e-12 (relative), and documents without a
    query term score exactly 0 in both."""
    index, queries, corpus = shipped
    assert params != index.scorer.index_bm25  # the float64 path, not the stored float32 weights
    oracle = _oracle(variant, corpus, params)
    everything = np.arange(index.reader.n_passages)
    checked = 0
    for q in queries:
        counts, tokens = _query_terms(index, q["text"])
        if not tokens:
            continue
        expected = _oracle_scores(oracle, tokens)
        ours = index.scorer.bm25(counts, everything, params)
        np.testing.assert_allclose(ours, expected, rtol=1e-12, atol=0, err_msg=q["text"])
        checked += 1
    assert checked >= 40


def _lucene_term_scores(corpus: list[list[str]], term: str, k1: float, b: float) -> np.ndarray:
    """Lucene's BM25Similarity, written out: log(1 + (N - df + 0.5) / (df + 0.5)) ·
    tf / (tf + k1 (1 - b + b dl / avgdl))."""
    n = len(corpus)
    lengths = np.array([len(d) for d in corpus], dtype=np.float64)
    avgdl = lengths.sum() / n
    tf = np.array([d.count(term) for d in corpus], dtype=np.float64)
    df = float((tf > 0).sum())
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
    return idf * tf / (tf + k1 * (1 - b + b * lengths / avgdl))


@pytest.mark.parametrize("variant", ["okapi", "lucene", "bm25+", "bm25l"])
def test_an_index_built_with_each_variant_stores_its_weights(shipped, tmp_path, variant):
    """The stored float32 weight of every (term, document) pair is the oracle's one-term
    score rounded to float32; and search on such an index (pruned top 10, and every
    candidate scored) ranks as sorting the oracle's scores does."""
    _, queries, corpus = shipped
    params = BM25Params(variant, 1.3, 0.6)
    with _build(tmp_path / "idx", replace(WHOLE_DOCUMENTS, bm25=params)) as index:
        assert index.scorer.index_bm25.to_dict() == params.to_dict()
        weights = index.reader["bm25_weights"]
        assert weights.dtype == np.float32
        oracle = None if variant == "lucene" else _oracle(variant, corpus, params)
        names = index.reader.term_strings(list(range(len(index.reader.indptr) - 1)))
        for term, name in names.items():
            s = index.scorer.postings(term)
            if oracle is None:
                expected = _lucene_term_scores(corpus, name, params.k1, params.b)
            else:
                expected = _term_scores(oracle, name)
            rows = index.reader.postings[s]
            assert list(rows) == [i for i, terms in enumerate(corpus) if name in terms], name
            # float32 rounding is within 2**-24 relative; the two float64 values within 1e-12
            np.testing.assert_allclose(weights[s], expected[rows], rtol=2**-24 + 1e-12, atol=0, err_msg=name)
        for q in queries:
            _, tokens = _query_terms(index, q["text"])
            if not tokens:
                continue
            if oracle is None:
                expected = sum(_lucene_term_scores(corpus, t, params.k1, params.b) for t in tokens)
            else:
                expected = _oracle_scores(oracle, tokens)
            order = np.lexsort((np.arange(len(expected)), -expected))[:10]
            order = order[expected[order] > 0]
            for depth in (None, 10):
                rows, scores = index.rank(plain_query(q["text"]), method="bm25", depth=depth).top(10)
                rows, scores = rows[scores > 0], scores[scores > 0]  # see the zero-score test below
                np.testing.assert_allclose(scores, expected[order], rtol=1e-6, err_msg=q["text"])
                ranked = np.sort(expected)[::-1]
                if len(ranked) <= 10 or ranked[9] - ranked[10] > 1e-5:  # no near tie at the cut
                    assert set(rows) == set(order), q["text"]


def test_okapi_default_scores_equal_rank_bm25(shipped):
    """The index's own (stored, float32) Okapi weights: rank_bm25 to float32 precision."""
    index, queries, corpus = shipped
    params = index.scorer.index_bm25
    oracle = rank_bm25.BM25Okapi(corpus, k1=params.k1, b=params.b)
    everything = np.arange(index.reader.n_passages)
    for q in queries:
        counts, tokens = _query_terms(index, q["text"])
        if tokens:
            expected = _oracle_scores(oracle, tokens)
            np.testing.assert_allclose(index.scorer.bm25(counts, everything), expected, rtol=1e-6, atol=1e-6)


def test_tfidf_scores_equal_scikit_learn(shipped):
    from sklearn.feature_extraction.text import TfidfVectorizer

    index, queries, _ = shipped
    mapper = TermMapper(AnalyzerConfig())
    vectorizer = TfidfVectorizer(analyzer=mapper.terms, sublinear_tf=True)
    matrix = vectorizer.fit_transform(_doc_texts(index))
    everything = np.arange(index.reader.n_passages)
    checked = 0
    for q in queries:
        counts, tokens = _query_terms(index, q["text"])
        if not tokens:
            continue
        expected = (matrix @ vectorizer.transform([q["text"]]).T).toarray().ravel()
        np.testing.assert_allclose(index.scorer.tfidf(counts, everything), expected, atol=1e-6, err_msg=q["text"])
        checked += 1
    assert checked >= 40


def test_query_time_parameters_equal_an_index_built_with_them(shipped, tmp_path):
    index, queries, _ = shipped
    for params in (BM25Params("lucene", 1.5, 0.75), BM25Params("bm25l", 1.2, 0.75), BM25Params("bm25+", 0.9, 0.4)):
        with _build(tmp_path / params.variant, replace(WHOLE_DOCUMENTS, bm25=params)) as built:
            for q in queries:
                if not _query_terms(index, q["text"])[1]:
                    continue
                a = index.rank(plain_query(q["text"]), method="bm25", bm25=params).top(20)
                b = built.rank(plain_query(q["text"]), method="bm25").top(20)
                np.testing.assert_allclose(a[1], b[1], rtol=1e-6)
                if len(a[1]) < 2 or np.min(np.abs(np.diff(a[1]))) > 1e-5:
                    np.testing.assert_array_equal(a[0], b[0])


def test_top_k_equals_straightforward_scoring(shipped):
    """Every-candidate, pruned and compiled top 10 of the default index: what scoring every
    document with rank_bm25 and sorting gives."""
    index, queries, corpus = shipped
    params = index.scorer.index_bm25
    compiled = Index(index.reader, compiled=True)
    oracle = rank_bm25.BM25Okapi(corpus, k1=params.k1, b=params.b)
    for q in queries:
        _, tokens = _query_terms(index, q["text"])
        if not tokens:
            continue
        expected = _oracle_scores(oracle, tokens)
        order = np.lexsort((np.arange(len(expected)), -expected))[:10]
        order = order[expected[order] > 0]
        ranked = np.sort(expected)[::-1]
        near_tie = ranked[9] - ranked[10] < 1e-5
        for searcher, depth in ((index, None), (index, 10), (compiled, 10)):
            rows, scores = searcher.rank(plain_query(q["text"]), method="bm25", depth=depth).top(10)
            # Only the positive scores: see the next test for passages that match with 0.
            rows, scores = rows[scores > 0], scores[scores > 0]
            np.testing.assert_allclose(scores, expected[order], atol=1e-5, err_msg=q["text"])
            if not near_tie:
                assert list(rows) == list(order), q["text"]


def test_passages_matching_with_score_zero_rank_alike_with_and_without_pruning(shipped):
    """``stone`` is in exactly half of the passages, so its Okapi idf is 0 and every
    passage that contains it scores 0. Scoring every candidate returns those 150
    passages; the pruned and compiled tops (``Scorer.top``: "exactly what scoring every
    candidate and sorting returns") hold positive scores only: the ranking adds the
    passages that match with 0 after them, so ``citesearch search stone --method bm25``
    finds what ``--aggregate sum`` ranks at 0."""
    index, _, _ = shipped
    compiled = Index(index.reader, compiled=True)
    every = index.rank(plain_query("stone"), method="bm25").top(10)
    for searcher in (index, compiled):
        pruned = searcher.rank(plain_query("stone"), method="bm25", depth=10).top(10)
        assert list(pruned[0]) == list(every[0])
