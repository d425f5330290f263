"""In_expC2 (``indexer/dfr.py``), the hybrid's probabilistic run since issue 13's third round:
its stored weights are Terrier's formula, the default hybrid is the reciprocal rank fusion of
its ranking and TF-IDF's, and an index built without its weights (before it, or with
``IndexSettings(dfr=None)``) ranks hybrid with BM25 as before."""

from __future__ import annotations

import json
import math
import random

import numpy as np
import pytest

from citesearch.corpus import load_documents
from citesearch.indexer.builder import IndexSettings, build_index
from citesearch.indexer.dfr import DFRParams, collection_frequency, term_factors
from citesearch.indexer.manifest import read_manifest
from citesearch.indexer.updating import update_index
from citesearch.search.fusion import RRF_DEPTH, RRF_K
from citesearch.search.options import OptionError, SearchOptions
from citesearch.search.searcher import Index

from .conftest import data_dir

WORDS = [f"w{i}" for i in range(300)]


def _corpus(path, n: int = 400, seed: int = 13) -> None:
    rng = random.Random(seed)
    weights = [1 / (i + 1) for i in range(len(WORDS))]  # Zipf: long lists and rare terms
    with open(path, "w") as f:
        for i in range(n):
            words = rng.choices(WORDS, weights, k=rng.randint(5, 120))
            f.write(json.dumps({"_id": f"d{i}", "title": " ".join(words[:3]), "text": " ".join(words)}) + "\n")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("dfr")
    _corpus(root / "c.jsonl")
    build_index(load_documents([root / "c.jsonl"]), root / "idx", IndexSettings(passage_words=40), workers=1)
    return root


@pytest.fixture(scope="module")
def index(built):
    with Index.open(built / "idx") as idx:
        yield idx


def queries(n: int = 25, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [" ".join(rng.sample(WORDS[:150], rng.randint(1, 5))) for _ in range(n)]


def test_the_stored_weights_are_terriers_in_expc2(index):
    """Each posting's weight, recomputed term by term from the formula with Python floats."""
    r = index.reader
    assert r.manifest.dfr == DFRParams("in_expc2", 4.0)
    indptr, tf, rows = np.asarray(r.indptr), np.asarray(r["postings_tf"]), np.asarray(r.postings)
    length, n, c = np.asarray(r["passage_length"], dtype=float), r.n_passages, 4.0
    avgl = float(length.mean())
    stored = np.asarray(r["dfr_weights"])
    for t in range(0, len(indptr) - 1, 3):
        a, b = int(indptr[t]), int(indptr[t + 1])
        df, cf = b - a, float(tf[a:b].sum())
        ne = n * (1 - (1 - 1 / n) ** cf)
        for j in range(a, b):
            tfn = float(tf[j]) * math.log(1 + c * avgl / length[rows[j]])
            w = (cf + 1) / (df * (tfn + 1)) * tfn * math.log2((n + 1) / (ne + 0.5))
            assert stored[j] == pytest.approx(w, rel=1e-6)


def test_term_factors_leave_out_terms_no_passage_has():
    df, cf = np.array([0, 1, 3]), np.array([0, 2, 5])
    f = term_factors(df, cf, 10)
    assert f[0] == 0 and f[1] > f[2] > 0
    assert collection_frequency(np.array([0, 0, 2, 3]), np.array([1, 4, 2])).tolist() == [0, 5, 2]
    assert term_factors(np.array([1]), np.array([3]), 1)[0] == pytest.approx(4 * math.log2(2 / 1.5))  # one passage


def _rrf(index, kinds, text):
    """The fusion written out: each run's exhaustive ranking, 1000 deep, RRF k=60."""
    counts = {}
    for t in index.analyze(text)[0]:
        counts[t] = counts.get(t, 0) + 1
    rows = index.scorer.candidates(counts)
    fused = np.zeros(len(rows))
    for kind in kinds:
        s = index.scorer.score(kind, counts, rows)
        order = np.lexsort((rows, -s))[:RRF_DEPTH]
        order = order[s[order] > 0]
        fused[order] += 1 / (RRF_K + np.arange(1, len(order) + 1))
    best = np.lexsort((rows, -fused))
    best = best[fused[best] > 0]
    return rows[best], fused[best]


@pytest.mark.parametrize("hybrid_with", [None, "dfr", "bm25"])
def test_the_hybrid_fuses_its_probabilistic_run_with_tfidf(index, hybrid_with):
    kinds = ("bm25" if hybrid_with == "bm25" else "dfr", "tfidf")
    for text in queries():
        want_rows, want_scores = _rrf(index, kinds, text)
        ranking = index.rank(text, hybrid_with=hybrid_with, depth=10)
        assert set(ranking.run_weights) == set(kinds)
        rows, scores = ranking.top(10)
        assert rows.tolist() == want_rows[:10].tolist(), text
        np.testing.assert_allclose(scores, want_scores[:10], rtol=1e-12)
        docs = index.rank_documents(text, 5, hybrid_with=hybrid_with)
        assert docs and docs[0][1] == pytest.approx(want_scores[0], rel=1e-12)


def test_the_default_is_in_expc2_and_says_so(index):
    opts = index.options()
    assert opts.method == "hybrid" and opts.hybrid_with == "dfr" and opts.runs() == ("dfr", "tfidf")
    assert "of In_expC2 and TF-IDF" in opts.describe() and "BM25" not in opts.describe()
    assert "BM25 okapi" in opts.with_(hybrid_with="bm25").describe()
    back = SearchOptions.from_dict(json.loads(json.dumps(opts.to_dict())))
    assert back == opts
    with pytest.raises(OptionError):
        SearchOptions(hybrid_with="ql")


def test_an_index_without_in_expc2_weights_ranks_hybrid_with_bm25(built, tmp_path):
    build_index(load_documents([built / "c.jsonl"]), tmp_path / "old", IndexSettings(passage_words=40, dfr=None),
                workers=1)
    manifest = read_manifest(tmp_path / "old")
    assert manifest.dfr is None and "dfr" not in json.loads((tmp_path / "old" / "manifest.json").read_text())
    assert not list(data_dir(tmp_path / "old").glob("dfr_*"))
    with Index.open(tmp_path / "old") as old, Index.open(built / "idx") as new:
        assert old.reader.verify() == []
        assert old.options().hybrid_with == "bm25"
        for text in queries(10):
            a = old.rank(text, depth=10)
            assert set(a.run_weights) == {"bm25", "tfidf"}
            b = new.rank(text, hybrid_with="bm25", depth=10)
            assert [x.tolist() for x in a.top(10)] == [x.tolist() for x in b.top(10)]
        for bad in ({"method": "dfr"}, {"hybrid_with": "dfr"}):
            with pytest.raises(OptionError, match="no In_expC2"):
                old.search("w1", **bad)
    # An update keeps it as it was built: no In_expC2 weights.
    with open(built / "c.jsonl") as f, open(tmp_path / "more.jsonl", "w") as g:
        g.write(f.readline().replace('"d0"', '"extra"'))
    update_index(tmp_path / "old", [built / "c.jsonl", tmp_path / "more.jsonl"], workers=1)
    assert read_manifest(tmp_path / "old").dfr is None
    with Index.open(tmp_path / "old") as old:
        assert old.reader.verify() == [] and old.search("w1 w2").results


def test_the_c_parameter_is_saved_and_used(built, tmp_path):
    settings = IndexSettings(passage_words=40, dfr=DFRParams(c=7))
    build_index(load_documents([built / "c.jsonl"]), tmp_path / "c7", settings, workers=1)
    with Index.open(tmp_path / "c7") as c7, Index.open(built / "idx") as c4:
        assert c7.manifest.dfr == DFRParams("in_expc2", 7.0)
        assert not np.array_equal(c7.reader["dfr_weights"], c4.reader["dfr_weights"])
    with pytest.raises(ValueError):
        DFRParams(c=0)
    with pytest.raises(ValueError):
        DFRParams(model="pl2")
