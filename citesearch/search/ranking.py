"""Ranking a query's passages: which method, how deep, fused how, capped per source.

:class:`Ranker` decides how a query is ranked. When every passage's score is the plain
sum of stored weights (no filters, the index's BM25 parameters), it asks
:meth:`Scorer.top` for an exact top without scoring every candidate; otherwise it
scores the filtered candidates. A :class:`Ranking` holds the result, sorted only as far
as asked.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .expansion import rm3_query
from .filters import Filters
from .fusion import FUSERS, RRF_DEPTH, rrf_ranked, rrf_top
from .options import SearchOptions
from .query import ParsedQuery
from .scoring import Scorer, top_indices


class Ranking:
    """Passages that match a query (rows) and their scores, best first on demand.

    Only what is asked for is sorted: :meth:`top` selects with ``np.argpartition`` and
    sorts just the selection, ties broken by passage row (earlier first) exactly as a
    full sort would. A ranking asked for to a depth may hold only the best passages
    (``complete`` is then false): the top of it is still exact.
    """

    def __init__(
        self, rows: np.ndarray, scores: np.ndarray, complete: bool = True, weights: dict[int, float] | None = None
    ):
        self.rows = rows
        self.scores = scores
        self.complete = complete
        self.weights = weights
        """The query's term weights it was ranked for (after expansion, if any)."""
        self.run_weights: dict[str, dict[int, float]] | None = None
        """The weights each method's run ranked (``bm25``, ``tfidf``): ``weights``, or for a
        run RM3 does not expand (``SearchOptions.expand_runs``), the original query's."""

    def __len__(self) -> int:
        return len(self.rows)

    def top(self, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        idx = top_indices(self.scores, self.rows, n)
        return self.rows[idx], self.scores[idx]


class Ranker:
    def __init__(self, scorer: Scorer, filters: Filters, passage_terms: Callable[[list[int]], dict[int, list[int]]]):
        self.scorer = scorer
        self.filters = filters
        self.passage_terms = passage_terms

    def rank(
        self, query: ParsedQuery, weights: dict[int, float], options: SearchOptions, depth: int | None = None
    ) -> Ranking:
        """The passages matching ``query`` (analyzed into ``weights``), best first: every
        one, or, given ``depth``, at least the best ``depth`` of them, found faster.

        ``options`` must be resolved (:meth:`SearchOptions.resolve`). With ``expand``,
        the query is first run with BM25 and expanded by RM3 from its top passages; the
        expanded query is then ranked by ``method`` (with ``expand_runs="bm25"``, hybrid's
        TF-IDF run ranks the original query).
        """
        if not weights:
            return Ranking(np.zeros(0, dtype=np.int64), np.zeros(0))
        prunable = self.prunable(query, options)
        kinds = options.runs()
        runs = {kind: weights for kind in kinds}
        if options.expand is not None and any(options.expanded(kind) for kind in kinds):
            fb = options.expand.fb_docs
            if prunable:
                top, scores = self.scorer.top("bm25", weights, fb)
            else:
                rows = self.filters.apply(query, self.scorer.candidates(weights))
                top, scores = Ranking(rows, self.scorer.bm25(weights, rows, options.bm25)).top(fb)
            expanded = rm3_query(options.expand, weights, top, scores, self.passage_terms)
            runs = {kind: expanded if options.expanded(kind) else weights for kind in kinds}
            weights = expanded
        ranking = self._pruned(runs, options, depth) if prunable else None
        if ranking is None:
            ranking = self.score(runs, options, self.filters.apply(query, self.scorer.candidates(weights)))
        ranking.weights = weights
        ranking.run_weights = runs
        return ranking

    def prunable(self, query: ParsedQuery, options: SearchOptions) -> bool:
        """Whether every passage's score is the plain sum of the stored weights, which
        pruning needs."""
        no_filters = not (query.sources or query.titles or query.excluded or query.phrases)
        # BM25 with other parameters than the stored weights' is computed, not summed; it
        # ranks the bm25 run and RM3's feedback passages.
        uses_bm25 = "bm25" in options.runs() or options.expand is not None
        return no_filters and (options.bm25 == self.scorer.index_bm25 or not uses_bm25)

    def score(self, runs: dict[str, dict[int, float]], options: SearchOptions, rows: np.ndarray) -> Ranking:
        """Every one of ``rows`` scored by the method (those with a fused score, for hybrid);
        ``runs``: the weights each method's run ranks (``bm25``, ``dfr``, ``tfidf``; see :meth:`rank`)."""
        if options.method != "hybrid":
            kind = options.method or "bm25"
            return Ranking(rows, self.scorer.score(kind, runs[kind], rows, options.bm25))
        scored = [self.scorer.score(kind, runs[kind], rows, options.bm25) for kind in options.runs()]
        fused = FUSERS[options.fusion](scored, rows, options.fusion_parameter)
        keep = fused > 0
        return Ranking(rows[keep], fused[keep])

    def _pruned(self, weights: dict[str, dict[int, float]], options: SearchOptions, depth: int | None
                ) -> Ranking | None:
        """The ranking from :meth:`Scorer.top`, when it can give it: None otherwise.
        ``weights``: each run's (``bm25`` or ``dfr``, and ``tfidf``).

        Reciprocal rank fusion only looks ``RRF_DEPTH`` deep into each method's ranking,
        so the fused ranking built from the two exact tops is the complete one.
        """
        method = options.method
        runs = {kind: weights[kind] for kind in options.runs()} if method == "hybrid" else {}
        if method == "hybrid" and options.fusion == "rrf" and depth is not None and self.scorer.one_pass(runs):
            # The fused top ``depth`` only, the runs ranked only as deep as settles it (one
            # pass of the compiled kernel ranks both; on numpy's path ranking twice costs
            # more than a shallower top saves, measured).
            rows, scores, complete = rrf_top(lambda d: self.scorer.tops(runs, d), depth, options.fusion_parameter)
            return Ranking(rows, scores, complete=complete)
        if method == "hybrid" and options.fusion == "rrf":
            # Each top is already in rank order (positive scores, ties by row): what
            # rrf() would sort its scores into, so the ranks are read off it.
            rows, orders = self.scorer.tops(runs, RRF_DEPTH)
            fused = rrf_ranked(orders, len(rows), options.fusion_parameter)
            keep = np.flatnonzero(fused > 0)  # the compiled kernel's candidates may hold passages in neither top
            if depth is None:  # the whole ranking, in passage order (sums over it round the same)
                keep = keep[np.argsort(rows[keep])]
            return Ranking(rows[keep], fused[keep])
        if method in ("bm25", "tfidf", "dfr") and depth is not None:
            rows, scores = self.scorer.top(method, weights[method], depth)
            if len(rows) < depth:
                # Passages whose every query term weighs 0 score 0 (BM25 Okapi's idf is 0
                # for a term in exactly half the passages). The top holds positive scores
                # only; these match too, and rank last, by row, as when every candidate is
                # scored. The top is short only when few passages score above 0.
                zero = np.setdiff1d(self.scorer.candidates(weights[method]), rows)[: depth - len(rows)]
                rows, scores = np.concatenate([rows, zero]), np.concatenate([scores, np.zeros(len(zero))])
            return Ranking(rows, scores, complete=len(rows) < depth)
        return None



def top_capped(
    rank: Callable[[int | None], Ranking], k: int, per_source: int | None, passage_source: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The top ``k`` passages, at most ``per_source`` from any one source, asking
    ``rank(depth)`` only as deep as that takes."""
    depth = k * 4 if per_source else k
    while True:
        capped = cap_per_source(rank(depth), k, per_source, passage_source)
        if capped is not None:
            return capped
        depth *= 4


def cap_per_source(
    ranked: Ranking, k: int, per_source: int | None, passage_source: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The top ``k`` passages, at most ``per_source`` from any one source; None when an
    incomplete ranking runs out before that many are found."""
    if not per_source:
        return ranked.top(k)
    n = k * 4
    while True:
        rows, scores = ranked.top(n)
        keep = np.flatnonzero(_place_in_source(passage_source[rows]) < per_source)[:k]
        if len(keep) == k:
            return rows[keep], scores[keep]
        if n >= len(ranked):
            return (rows[keep], scores[keep]) if ranked.complete else None
        n *= 4


def _place_in_source(sources: np.ndarray) -> np.ndarray:
    """For each entry, how many entries before it have the same source."""
    order = np.argsort(sources, kind="stable")
    grouped = sources[order]
    starts = np.flatnonzero(np.concatenate(([True], grouped[1:] != grouped[:-1])))  # np.r_ costs 10x more
    sizes = np.diff(starts, append=len(grouped))
    place = np.empty(len(sources), dtype=np.int64)
    place[order] = np.arange(len(grouped)) - np.repeat(starts, sizes)
    return place
