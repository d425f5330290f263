"""Explaining a result's score: each method's part, term by term, and the fusion.

The explanation recomputes what the ranking summed, from the same stored values: BM25's
idf and tf normalization (or the stored weight, with the index's parameters), In_expC2's
stored weight split into its term factor and normalized tf, TF-IDF's query and passage
weights, and, for hybrid, the passage's rank in each method's ranking
and the fusion formula applied to it.
"""

from __future__ import annotations

import numpy as np

from ..indexer import bm25, dfr
from ..indexer.storage import IndexReader
from .fusion import RRF_DEPTH
from .options import SearchOptions
from .ranking import Ranker
from .results import Explanation, MethodExplanation, TermContribution
from .scoring import Scorer


class Explainer:
    def __init__(self, reader: IndexReader, scorer: Scorer, ranker: Ranker):
        self.reader = reader
        self.scorer = scorer
        self.ranker = ranker

    def explain(self, weights: dict[int, float], rows: list[int], scores: list[float], candidates: np.ndarray,
                options: SearchOptions, runs: dict[str, dict[int, float]] | None = None) -> list[Explanation]:
        """An explanation of each of ``rows`` (their final ``scores``), ranked among the
        ``candidates`` (the query's matching rows, filtered) for ``weights`` (the final
        query, expanded if it was) with resolved ``options``; ``runs``: the weights each
        method ranked, where they differ (``Ranking.run_weights``), else ``weights``."""
        kinds = options.runs()
        ranked = {kind: (runs or {}).get(kind, weights) for kind in kinds}
        names = self.reader.term_strings(sorted({t for w in ranked.values() for t in w}))
        columns = {kind: self._scores(kind, ranked[kind], candidates, options) for kind in kinds}
        out = []
        for row, score in zip(rows, scores):
            parts = tuple(
                MethodExplanation(
                    kind,
                    float(column[np.searchsorted(candidates, row)]),
                    _rank_of(row, candidates, column),
                    self._terms(kind, ranked[kind], names, row, options),
                    self._formula(kind, options),
                )
                for kind, column in columns.items()
            )
            if options.method != "hybrid":
                out.append(Explanation(options.method, score, parts))
                continue
            fused = _fused(options.fusion, options.fusion_parameter, parts, columns)
            out.append(Explanation("hybrid", score, parts, options.fusion, fused))
        return out

    def _scores(self, kind: str, weights: dict[int, float], rows: np.ndarray, options: SearchOptions) -> np.ndarray:
        return self.scorer.score(kind, weights, rows, options.bm25)

    def _formula(self, kind: str, options: SearchOptions) -> str:
        if kind == "tfidf":
            p = self.scorer.tfidf_params
            tf = "1 + log tf" if p.sublinear_tf else "tf"
            return f"cosine of ({tf}) × idf, L2-normalized query and passage vectors"
        if kind == "dfr":
            d = self.scorer.index_dfr
            assert d is not None
            return (f"In_expC2 c={d.c:g}: (F+1)/(df·(tfn+1)) · tfn · log2((N+1)/(n_exp+0.5)), "
                    f"tfn = tf·ln(1 + c·{self.scorer.avgdl:.1f}/length)")
        b = options.bm25
        assert b is not None
        delta = f" delta={b.effective_delta}" if b.effective_delta else ""
        return f"{b.variant} k1={b.k1} b={b.b}{delta}, average passage length {self.scorer.avgdl:.1f}"

    def _terms(self, kind: str, weights: dict[int, float], names: dict[int, str], row: int, options: SearchOptions
               ) -> tuple[TermContribution, ...]:
        length = int(self.reader["passage_length"][row])
        coefficients = self.scorer.coefficients(kind, weights)
        out = []
        for term, count in weights.items():
            tf, at = self._tf(term, row)
            name = names.get(term, str(term))
            rel = np.float64(length / self.scorer.avgdl)
            if kind == "bm25":
                params = options.bm25
                assert params is not None
                idf = float(self.scorer.bm25_idf(params)[term])
                variant = bm25.BM25_VARIANTS[params.variant]
                part = float(variant.tf(np.float64(tf), bm25.length_parts(params, rel), params.k1,
                                        params.effective_delta)) if tf else 0.0
                out.append(TermContribution(name, float(count), idf, tf, length, part, float(count) * idf * part))
            elif kind == "dfr":
                d = self.scorer.index_dfr
                assert d is not None
                w = float(self.reader["dfr_weights"][at]) if tf else 0.0
                tfn = tf * float(dfr.length_norms(d, rel)) if tf else 0.0
                part = tfn / (tfn + 1)
                out.append(TermContribution(name, float(count), w / part if tf else 0.0, tf, length, part, count * w))
            else:
                idf = float(self.reader["tfidf_idf"][term])
                q = float(coefficients.get(term, 0.0))
                d = float(self.reader["tfidf_weights"][at]) if tf else 0.0
                out.append(TermContribution(name, q, idf, tf, length, d, q * d))
        return tuple(out)

    def _tf(self, term: int, row: int) -> tuple[int, int]:
        """The term's frequency in passage ``row`` and the posting's position (0 when absent)."""
        s = self.scorer.postings(term)
        plist = self.reader.postings[s]
        j = int(np.searchsorted(plist, row))
        if j < len(plist) and plist[j] == row:
            return int(self.reader["postings_tf"][s.start + j]), s.start + j
        return 0, 0


def _rank_of(row: int, rows: np.ndarray, scores: np.ndarray) -> int | None:
    """1-based rank of ``row`` among ``rows`` by score (ties by row), None if it has none."""
    i = int(np.searchsorted(rows, row))
    mine = scores[i]
    if mine <= 0:
        return None
    return 1 + int(np.count_nonzero(scores > mine) + np.count_nonzero((scores == mine) & (rows < row)))


def _fused(fusion: str | None, parameter: float, parts: tuple[MethodExplanation, ...],
           columns: dict[str, np.ndarray]) -> str:
    """The fusion written out; ``parameter`` is RRF's k or the linear weight of BM25."""
    if fusion == "rrf":
        k = parameter
        terms = [f"1/({k:g}+{p.rank})" for p in parts if p.rank is not None and p.rank <= RRF_DEPTH]
        value = sum(1 / (k + p.rank) for p in parts if p.rank is not None and p.rank <= RRF_DEPTH)
        return f"{' + '.join(terms) or '0'} = {value:.6f}  (reciprocal rank fusion, k={k:g})"
    pieces, value = [], 0.0
    for p, w in zip(parts, (parameter, 1 - parameter)):
        top = float(columns[p.method].max()) if len(columns[p.method]) else 0.0
        if top > 0:
            pieces.append(f"{w:g}·{p.score:.4f}/{top:.4f}")
            value += w * p.score / top
    return f"{' + '.join(pieces) or '0'} = {value:.6f}  (each method's score over its best)"
