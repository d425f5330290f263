"""RM3 against its definition, computed by hand on a ten-document index.

``search/expansion.py`` implements the relevance model of Lavrenko & Croft (SIGIR 2001) in
the RM3 form of Abdul-Jaleel et al. (TREC 2004), as its docstring states:

* the feedback set is the first-pass BM25 top ``fb_docs`` passages, each weighted by its
  retrieval score (not normalized, not exponentiated);
* each feedback passage contributes its maximum-likelihood term distribution
  tf(t, D) / |D|, |D| counting its indexed terms (stop words out);
* P(t | R) ∝ Σ_D score(D) · tf(t, D) / |D|, truncated to its ``fb_terms`` most likely
  terms, then L1-normalized over those;
* the original query is L1-normalized (a repeated word counts twice) and mixed:
  weight · P(t | Q) + (1 − weight) · P(t | R).

Everything below is computed from the documents' text with the formulas written out:
BM25 (Okapi, rank_bm25's idf floor), the feedback set, the model, the mixture, and the
second-pass ranking of the expanded query.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter

import numpy as np
import pytest

from citesearch.corpus import load_documents
from citesearch.indexer.analysis import AnalyzerConfig
from citesearch.indexer.bm25 import BM25Params
from citesearch.indexer.builder import IndexSettings, build_index
from citesearch.search.expansion import RM3
from citesearch.search.query import parse_query, plain_query
from citesearch.search.searcher import Index

K1, B, EPSILON = 1.2, 0.4, 0.25
STOP = {"the", "and", "on", "over", "in", "into", "is"}
DOCS = [
    "lava lava ash and the rock",
    "lava flows over basalt and basalt cools",
    "ash cloud over the airport closes the airport runway",
    "glacier ice melts into the fjord",
    "lava lava lava crater glows red",
    "ash falls on the crater rim and on the village roofs",
    "coffee roast beans in the morning",
    "basalt columns cool slowly into hexagons",
    "the crater lake is acid and warm",
    "ash lava ash lava tephra",
]
QUERY = "lava lava ash"


def _terms(text: str) -> list[str]:
    """The index's analysis for these texts: lowercase words of 2+ letters, STOP dropped, no stemmer."""
    return [w for w in re.findall(r"\w\w+", text.lower()) if w not in STOP]


def _bm25(docs: list[list[str]]) -> dict[str, np.ndarray]:
    """term → BM25 Okapi weight in each document (0 where absent)."""
    n = len(docs)
    lengths = np.array([len(d) for d in docs], dtype=np.float64)
    avgdl = lengths.sum() / n
    vocabulary = sorted({t for d in docs for t in d})
    df = {t: sum(t in d for d in docs) for t in vocabulary}
    idf = {t: math.log((n - df[t] + 0.5) / (df[t] + 0.5)) for t in vocabulary}
    floor = EPSILON * sum(idf.values()) / len(idf)
    idf = {t: (v if v >= 0 else floor) for t, v in idf.items()}
    out = {}
    for t in vocabulary:
        tf = np.array([d.count(t) for d in docs], dtype=np.float64)
        out[t] = idf[t] * tf * (K1 + 1) / (tf + K1 * (1 - B + B * lengths / avgdl))
    return out


def _score(query: dict[str, float], weights: dict[str, np.ndarray], n: int) -> np.ndarray:
    total = np.zeros(n)
    for t, w in query.items():
        if t in weights:
            total += w * weights[t]
    return total


def _ranked(scores: np.ndarray, matching: np.ndarray) -> list[int]:
    """Documents that match, best first, ties by document order."""
    return [int(i) for i in np.lexsort((np.arange(len(scores)), -scores)) if matching[i]]


def _relevance_model(docs: list[list[str]], feedback: list[int], scores: np.ndarray) -> dict[str, float]:
    model: dict[str, float] = {}
    for d in feedback:
        for t, tf in Counter(docs[d]).items():
            model[t] = model.get(t, 0.0) + scores[d] * tf / len(docs[d])
    return model


def _rm3(query: list[str], model: dict[str, float], fb_terms: int, weight: float) -> dict[str, float]:
    best = sorted(model.items(), key=lambda kv: -kv[1])[:fb_terms]
    total = sum(v for _, v in best)
    expanded = {t: weight * c / len(query) for t, c in Counter(query).items()}
    for t, v in best:
        expanded[t] = expanded.get(t, 0.0) + (1 - weight) * v / total
    return expanded


def _cuts(values: list[float], rel: float = 1e-5) -> list[int]:
    """Sizes k at which the k best of ``values`` are well apart from the rest (no tie at the cut)."""
    v = sorted(values, reverse=True)
    return [k for k in range(1, len(v) + 1) if k == len(v) or v[k - 1] > v[k] * (1 + rel) + 1e-12]


@pytest.fixture(scope="module")
def rm3_index(tmp_path_factory):
    base = tmp_path_factory.mktemp("rm3")
    corpus = base / "docs.jsonl"
    corpus.write_text("".join(json.dumps({"_id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(DOCS)))
    settings = IndexSettings(
        analyzer=AnalyzerConfig(stemmer="none"), bm25=BM25Params("okapi", K1, B), passage_words=1_000_000
    )
    build_index(load_documents([corpus]), base / "index", settings, workers=1)
    with Index.open(base / "index") as index:
        yield index


def test_the_hand_analysis_is_the_index_analysis(rm3_index):
    words = {w for text in DOCS + [QUERY] for w in re.findall(r"\w\w+", text.lower())}
    assert words & rm3_index.reader.stopwords == STOP
    docs = [_terms(t) for t in DOCS]
    assert [int(n) for n in rm3_index.reader["passage_length"]] == [len(d) for d in docs]
    # Documents that would tie or flip under float32 rounding would make the cuts below moot.
    scores = _score(Counter(_terms(QUERY)), _bm25(docs), len(docs))
    assert len(_cuts([s for s in scores if s > 0])) >= 4


@pytest.mark.parametrize("weight", [0.0, 0.3, 0.7, 1.0])
@pytest.mark.parametrize("pruned", [True, False], ids=["pruned", "every-candidate"])
def test_expanded_query_is_rm3_by_hand(rm3_index, weight, pruned):
    docs = [_terms(t) for t in DOCS]
    n = len(docs)
    weights = _bm25(docs)
    query = _terms(QUERY)
    first = _score(Counter(query), weights, n)
    matching = np.array([any(t in d for t in query) for d in docs])
    ranked = _ranked(first, matching)
    names = rm3_index.reader.term_strings(list(range(len(rm3_index.reader.indptr) - 1)))
    # A filter that lets every passage through makes both passes score every candidate
    # instead of taking the pruned top.
    parsed = plain_query(QUERY) if pruned else parse_query(QUERY + " source:*")
    assert parsed.positive_text.split() == QUERY.split()
    checked = 0
    for fb_docs in _cuts([first[d] for d in ranked]):
        feedback = ranked[:fb_docs]
        model = _relevance_model(docs, feedback, first)
        for fb_terms in _cuts(list(model.values())) + [len(model) + 5]:
            expected = _rm3(query, model, fb_terms, weight)
            ranking = rm3_index.rank(parsed, method="bm25", expand=RM3(fb_docs, fb_terms, weight))
            ours = ranking.weights  # the expanded query it was ranked for
            got = {names[t]: float(w) for t, w in ours.items() if w != 0}
            want = {t: w for t, w in expected.items() if w != 0}
            assert got == pytest.approx(want, rel=1e-6), (fb_docs, fb_terms)
            assert sum(ours.values()) == pytest.approx(1.0)
            # The second pass: BM25 of the expanded query, every passage with a positive score.
            second = _score(expected, weights, n)
            rows, scores = ranking.top(None)
            rows, scores = rows[scores > 0], scores[scores > 0]
            order = [d for d in _ranked(second, second > 0)]
            np.testing.assert_allclose(scores, second[order], rtol=1e-6)
            if len(_cuts([second[d] for d in order], rel=1e-6)) == len(order):  # no near ties
                assert list(rows) == order
            checked += 1
    assert checked >= 10


def test_rm3_query_on_given_feedback():
    """``rm3_query`` alone, on feedback made up here: three passages, the last with no
    terms (skipped), the model truncated to two terms at a clear gap, a query word
    (5) that no feedback passage has."""
    from citesearch.search.expansion import rm3_query

    passage_terms = {10: [1, 2, 2, 3], 11: [2, 4], 12: []}
    rows = np.array([10, 11, 12])
    scores = np.array([3.0, 2.0, 1.0])
    query = {1: 2.0, 5: 1.0}
    # P(t|R) ∝ 3·tf/4 over passage 10 plus 2·tf/2 over passage 11:
    model = {1: 3 * 1 / 4, 2: 3 * 2 / 4 + 2 * 1 / 2, 3: 3 * 1 / 4, 4: 2 * 1 / 2}
    best = {2: model[2], 4: model[4]}  # 2.5 and 1.0, then 0.75 twice
    total = sum(best.values())
    expected = {1: 0.6 * 2 / 3, 5: 0.6 * 1 / 3, 2: 0.4 * best[2] / total, 4: 0.4 * best[4] / total}
    def terms(r):
        return {x: passage_terms[x] for x in r}

    got = rm3_query(RM3(fb_docs=3, fb_terms=2, weight=0.6), query, rows, scores, terms)
    assert got == pytest.approx(expected, rel=1e-12)
    # fb_docs limits the feedback to the first rows: passage 10 alone.
    only = rm3_query(RM3(fb_docs=1, fb_terms=1, weight=0.5), query, rows, scores, terms)
    assert only == pytest.approx({1: 0.5 * 2 / 3 + 0.0, 5: 0.5 / 3, 2: 0.5}, rel=1e-12)


def test_rm3_without_feedback_is_the_query():
    from citesearch.search.expansion import rm3_query

    query = {3: 1.0}
    assert rm3_query(RM3(), query, np.zeros(0, dtype=np.int64), np.zeros(0), lambda rows: {}) == query
