"""External oracles: rank_bm25 (BM25 Okapi), scikit-learn (TF-IDF), trec_eval (metrics)."""

from __future__ import annotations

import json
import random
from dataclasses import replace

import numpy as np
import pytest
from conftest import SHARED, needs_shared
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from citesearch.corpus import load_documents
from citesearch.evaluation import evaluate, parse_measure
from citesearch.indexer import blocks, builder, tfidf
from citesearch.indexer.analysis import AnalyzerConfig, TermMapper
from citesearch.indexer.bm25 import BM25Params
from citesearch.indexer.builder import IndexSettings, build_index
from citesearch.search.query import plain_query
from citesearch.search.searcher import Index

# One passage per document; a short impact prefix so that most query terms' lists count
# as long and pruned search takes every path.
# title_weight=1: the references score the text, and a title weight adds title tokens
# that no reference sees (tests/test_title_weight.py checks the weighting itself).
WHOLE_DOCUMENTS = IndexSettings(passage_words=1_000_000, impact_prefix=16, title_weight=1)


@pytest.fixture(scope="module", params=["cisi", "cacm"])
def collection(request, tmp_path_factory):
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the project")
    d = SHARED / "collections" / request.param
    out = tmp_path_factory.mktemp(request.param) / "index"
    build_index(load_documents([d / "corpus.jsonl"]), out, WHOLE_DOCUMENTS, workers=1)
    queries = [json.loads(line) for line in open(d / "queries.jsonl")]
    index = Index.open(out)
    yield d, index, [q for q in queries if q["text"].strip()][:40]
    index.close()


def _doc_texts(index: Index) -> list[str]:
    rows = index.reader.db.execute("SELECT text FROM documents ORDER BY row").fetchall()
    return [r[0] for r in rows]


@needs_shared
def test_weights_made_block_by_block_equal_those_made_at_once(collection, tmp_path, monkeypatch):
    """numpy weighs a million postings at a time; blocks that cut terms anywhere give the
    same weights as one block (these collections fit in one), and as the compiled
    weighing (BM25 and In_expC2), which the other build uses where it is built."""
    d, index, _ = collection
    monkeypatch.setattr(blocks, "BLOCK", 997)
    monkeypatch.setattr(builder, "_weighing", None)
    build_index(load_documents([d / "corpus.jsonl"]), tmp_path / "blocks", WHOLE_DOCUMENTS, workers=1)
    with Index.open(tmp_path / "blocks") as small:
        assert len(small.reader["bm25_weights"]) > 50 * 997
        for name in ("bm25_weights", "dfr_weights", "tfidf_weights"):
            assert np.array_equal(small.reader[name], index.reader[name]), name


@needs_shared
@pytest.mark.parametrize("k1,b", [(1.2, 0.4), (0.9, 0.4), (1.5, 0.75)])
def test_okapi_scores_equal_rank_bm25(collection, k1, b):
    from rank_bm25 import BM25Okapi

    _, index, queries = collection
    mapper = TermMapper(AnalyzerConfig())
    corpus = [mapper.terms(text) for text in _doc_texts(index)]
    oracle = BM25Okapi(corpus, k1=k1, b=b)
    params = BM25Params("okapi", k1, b)
    assert len(corpus) == index.reader.n_passages
    checked = 0
    for q in queries:
        tokens = mapper.terms(q["text"])
        if not tokens:
            continue
        expected = oracle.get_scores(tokens)
        ids, _ = index.analyze(q["text"])
        counts: dict[int, float] = {}
        for t in ids:
            counts[t] = counts.get(t, 0) + 1
        ours = index.scorer.bm25(counts, np.arange(index.reader.n_passages), params)
        # Documents without any query term score 0 in both; compare every document.
        np.testing.assert_allclose(ours, expected, rtol=1e-6, atol=1e-5)
        checked += 1
    assert checked >= 20


@needs_shared
def test_tfidf_scores_equal_scikit_learn(collection):
    from sklearn.feature_extraction.text import TfidfVectorizer

    _, index, queries = collection
    mapper = TermMapper(AnalyzerConfig())
    vectorizer = TfidfVectorizer(analyzer=mapper.terms, sublinear_tf=True)
    matrix = vectorizer.fit_transform(_doc_texts(index))
    for q in queries[:20]:
        expected = (matrix @ vectorizer.transform([q["text"]]).T).toarray().ravel()
        ids, _ = index.analyze(q["text"])
        counts: dict[int, float] = {}
        for t in ids:
            counts[t] = counts.get(t, 0) + 1
        np.testing.assert_allclose(index.scorer.tfidf(counts, np.arange(index.reader.n_passages)), expected, atol=1e-6)


@needs_shared
def test_query_time_parameters_equal_an_index_built_with_them(collection, tmp_path):
    d, index, queries = collection
    params = BM25Params("lucene", 1.5, 0.75)
    other = tmp_path / "other"
    build_index(
        load_documents([d / "corpus.jsonl"]), other, replace(WHOLE_DOCUMENTS, bm25=params), workers=1
    )
    with Index.open(other) as built:
        for q in queries[:10]:
            a = index.rank(plain_query(q["text"]), method="bm25", bm25=params).top(20)
            b = built.rank(plain_query(q["text"]), method="bm25").top(20)
            np.testing.assert_array_equal(a[0], b[0])
            np.testing.assert_allclose(a[1], b[1], rtol=1e-6)


MEASURE_NAMES = ["nDCG@10", "nDCG@5", "AP", "P@10", "P@3", "R@100", "RR", "Success@5", "Bpref"]


def _random_case(rng: random.Random, ties: bool):
    docs = [f"d{i}" for i in range(30)]
    qrels, run = {}, {}
    for q in range(6):
        qid = f"q{q}"
        if rng.random() < 0.85:
            qrels[qid] = {d: rng.choice([0, 0, 1, 2, 3]) for d in rng.sample(docs, rng.randint(1, 15))}
        if rng.random() < 0.85:
            ranked = rng.sample(docs, rng.randint(0, 25))
            run[qid] = {d: float(rng.choice([1, 2, 3])) if ties else rng.random() for d in ranked}
    return qrels, {q: v for q, v in run.items() if v}


@pytest.mark.parametrize("ties", [True, False])
def test_measures_equal_trec_eval(ties):
    ir_measures = pytest.importorskip("ir_measures")
    rng = random.Random(7 if ties else 8)
    names = MEASURE_NAMES + ([] if ties else ["RR@10", "Judged@10"])
    measures = [parse_measure(n) for n in names]
    oracle_measures = [ir_measures.parse_measure(n) for n in names]
    compared = 0
    for _ in range(150):
        qrels, run = _random_case(rng, ties)
        ours = evaluate(run, qrels, measures)
        theirs: dict[str, dict[str, float]] = {}
        for m in ir_measures.iter_calc(oracle_measures, qrels, run):
            theirs.setdefault(m.query_id, {})[str(m.measure)] = m.value
        for qid, values in ours.per_query.items():
            for name in names:
                assert values[name] == pytest.approx(theirs[qid][name], abs=1e-4), (qid, name)
                compared += 1
    assert compared > 1000


@needs_shared
def test_collection_run_metrics_equal_trec_eval(tmp_path):
    ir_measures = pytest.importorskip("ir_measures")
    from citesearch.evaluation import read_qrels, read_run
    from citesearch.search.batch import BatchOptions, run_queries, write_atomically
    from citesearch.search.queryfiles import read_queries

    d = SHARED / "collections" / "cacm"
    build_index(load_documents([d / "corpus.jsonl"]), tmp_path / "idx", IndexSettings(title_weight=1), workers=1)
    queries = read_queries(d / "queries.jsonl").queries
    run_path = tmp_path / "run.trec"
    write_atomically(
        run_path, (lines for lines, _ in run_queries(tmp_path / "idx", queries, BatchOptions(), workers=1))
    )
    run, _ = read_run(run_path)
    qrels = read_qrels(d / "qrels.txt")
    names = ["nDCG@10", "AP", "R@100", "P@10", "RR", "Bpref"]
    ours = evaluate(run, qrels, [parse_measure(n) for n in names]).metrics
    theirs = ir_measures.calc_aggregate(
        [ir_measures.parse_measure(n) for n in names],
        list(ir_measures.read_trec_qrels(str(d / "qrels.txt"))),
        list(ir_measures.read_trec_run(str(run_path))),
    )
    for name in names:
        assert ours[name] == pytest.approx(theirs[ir_measures.parse_measure(name)], abs=1e-4)
    # The quality floor of the core-engine issue: at least the best anchor's nDCG@10.
    assert ours["nDCG@10"] >= 0.4874


@needs_shared
def test_top_k_equals_straightforward_scoring(collection):
    """The candidate-only, argpartition top-k, the pruned one and the compiled one return
    what scoring every passage with rank_bm25 and sorting it all returns: same ids, scores
    within 1e-5."""
    from rank_bm25 import BM25Okapi

    _, index, queries = collection
    compiled = Index(index.reader, compiled=True)
    mapper = TermMapper(AnalyzerConfig())
    params = BM25Params()  # the index's: built with the default settings
    oracle = BM25Okapi([mapper.terms(text) for text in _doc_texts(index)], k1=params.k1, b=params.b)
    for q in queries:
        tokens = mapper.terms(q["text"])
        if not tokens:
            continue
        expected = oracle.get_scores(tokens)
        order = np.lexsort((np.arange(len(expected)), -expected))[:10]
        order = order[expected[order] > 0]
        near_tie = len(expected) > 10 and np.sort(expected)[::-1][9] - np.sort(expected)[::-1][10] < 1e-5
        for searcher, depth in ((index, None), (index, 10), (compiled, 10)):  # every candidate scored, pruned, compiled
            rows, scores = searcher.rank(plain_query(q["text"]), method="bm25", depth=depth).top(10)
            np.testing.assert_allclose(scores, expected[order], atol=1e-5)
            if not near_tie:
                assert list(rows) == list(order)


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.lists(st.integers(0, 9), min_size=12, max_size=12), min_size=1, max_size=30),
    sublinear=st.booleans(),
    smooth=st.booleans(),
    tf_type=st.sampled_from([np.int32, np.uint8, np.uint16]),
)
def test_tfidf_weights_are_scikit_learns_to_the_bit(counts, sublinear, smooth, tf_type):
    """The index's term-major weighting gives TfidfTransformer's values exactly, with
    frequencies of any type a build weighs (one byte: 1 + log tf looked up)."""
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import TfidfTransformer

    passage_major = csr_matrix(np.array(counts, dtype=np.float64))
    passage_major.eliminate_zeros()
    term_major = passage_major.T.tocsr()
    assume(term_major.nnz and (np.diff(term_major.indptr) > 0).all())  # an index's terms all occur
    transformer = TfidfTransformer(norm="l2", sublinear_tf=sublinear, smooth_idf=smooth)
    expected = transformer.fit_transform(passage_major).T.tocsr()
    expected.sort_indices()
    weights, idf = tfidf.passage_weights(
        tfidf.TfidfParams(sublinear_tf=sublinear, smooth_idf=smooth),
        term_major.indptr, term_major.indices, term_major.data.astype(tf_type), len(counts),
    )
    assert np.array_equal(idf, transformer.idf_)
    assert np.array_equal(weights, expected.data.astype(np.float32))
