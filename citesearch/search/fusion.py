"""Combining the BM25 and TF-IDF rankings, chosen through ``FUSERS``.

Both take the two methods' scores of the candidate passages (arrays aligned with the
candidates' rows) and their one parameter (RRF's k, the linear weight: ``SearchOptions``
carries both, defaulting to the constants here), and return the fused scores, aligned the
same way.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .scoring import top_indices

RRF_K = 60
"""Reciprocal rank fusion's k, as its authors set it (``SearchOptions.rrf_k``)."""
RRF_DEPTH = 1000
LINEAR_WEIGHT = 0.5
"""Linear fusion's weight of BM25 (TF-IDF gets the rest; ``SearchOptions.linear_weight``)."""


def rrf(runs: list[np.ndarray], rows: np.ndarray, k: float = RRF_K, depth: int = RRF_DEPTH) -> np.ndarray:
    """Reciprocal rank fusion: the sum over runs of 1 / (k + rank), each run cut at
    ``depth`` (a passage below it, or unscored, gets nothing from that run).

    ``runs`` are score arrays aligned with ``rows``. Cormack, Clarke & Büttcher,
    "Reciprocal rank fusion outperforms Condorcet and individual rank learning methods"
    (SIGIR 2009), who fused runs 1000 deep.
    """
    orders = []
    for scores in runs:
        hit = np.flatnonzero(scores > 0)
        orders.append(hit[top_indices(scores[hit], rows[hit], depth)])
    return rrf_ranked(orders, len(rows), k)


def rrf_ranked(orders: list[np.ndarray], n: int, k: float = RRF_K) -> np.ndarray:
    """Reciprocal rank fusion of runs already ranked: each of ``orders`` lists positions
    (into ``n`` candidates) best first; the fused score of each candidate."""
    fused = np.zeros(n, dtype=np.float64)
    for order in orders:
        fused[order] += 1.0 / (k + np.arange(1, len(order) + 1))
    return fused


def rrf_top(
    tops: Callable[[int], tuple[np.ndarray, list[np.ndarray]]], n: int, k: float = RRF_K, depth: int = RRF_DEPTH,
    start: int | None = None,
) -> tuple[np.ndarray, np.ndarray, bool]:
    """The ``n`` best passages by reciprocal rank fusion and their fused scores, best
    first, ties by row: exactly what :func:`rrf` over the runs cut at ``depth`` ranks
    first, usually without ranking the runs ``depth`` deep; and False. Or, when the runs
    had to be ranked to the end (``depth`` deep, or all they match), the whole fused
    ranking, in no order, and True.

    ``tops(d)`` gives each run's exact top ``d`` (shorter only when fewer passages score) as
    :meth:`Scorer.tops <citesearch.search.scoring.Scorer.tops>` does: distinct rows, and for
    each run the positions of its top among them, best first. The runs start ``start`` deep,
    by default 25n and at least 256: 256 settles the top 10 of 91% of the 1M-passage scale
    queries, 64 of 52% (their fused top 10 often holds a passage one run ranks first and the
    other 100th or 150th); a top 40 (a batch's ten documents) is seldom settled short of
    1000, so starting lower only adds a pass. A passage a run has not ranked within its
    current depth d gets at most 1 / (k + d + 1) from it (nothing, once the run is ``depth``
    deep or has run out), so its fused score lies between what it is known to get and that
    plus the bounds it misses. The top ``n`` is settled when ``n`` passages have every rank
    known and the lowest of their fused scores is above every other passage's upper bound,
    those no run has ranked included; if not, the runs go four times deeper. The early stop
    of threshold algorithms for merging ranked lists (Fagin, Lotem & Naor, "Optimal
    aggregation algorithms for middleware", PODS 2001), with ranks for grades.
    """
    d = min(start if start is not None else max(256, 25 * n), depth)
    while True:
        rows, orders = tops(d)
        orders = [order[:depth] for order in orders]
        done = [d >= depth or len(order) < d for order in orders]
        bounds = np.array([0.0 if f else 1.0 / (k + d + 1) for f in done])
        fused = rrf_ranked(orders, len(rows), k)
        if all(done):  # every rank known: the whole fused ranking
            ranked = fused > 0  # not the rows in no run's top
            return rows[ranked], fused[ranked], True
        missing = np.ones((len(orders), len(rows)), dtype=bool)
        for i, order in enumerate(orders):
            missing[i, order] = False
        missing[bounds == 0] = False  # a finished run gives nothing to those it did not rank
        upper = fused + bounds @ missing
        doubtful = missing.any(axis=0)
        exact = np.flatnonzero(~doubtful)
        if len(exact) >= n:
            best = exact[top_indices(fused[exact], rows[exact], n)]
            # Settled when no other passage can reach the lowest of them (the exact ones
            # are ranked below it already; a relative margin covers the sums' rounding).
            reach = fused[best[-1]] * (1 - 1e-12)
            if not (upper[doubtful] >= reach).any() and bounds.sum() < reach:
                return rows[best], fused[best], False
        d = min(4 * d, depth)


def linear(runs: list[np.ndarray], rows: np.ndarray, weight: float = LINEAR_WEIGHT) -> np.ndarray:
    """Weighted sum of max-normalized scores: w · s₁/max s₁ + (1 − w) · s₂/max s₂.

    A CombSUM with score normalization (Fox & Shaw, TREC-2, 1994; Lee, SIGIR 1997).
    """
    fused = np.zeros(len(rows), dtype=np.float64)
    for scores, w in zip(runs, (weight, 1.0 - weight)):
        top = float(scores.max()) if len(scores) else 0.0
        if top > 0:
            fused += w * scores / top
    return fused


FUSERS: dict[str, Callable[[list[np.ndarray], np.ndarray, float], np.ndarray]] = {"rrf": rrf, "linear": linear}
"""Each fusion by name: ``FUSERS[name](runs, rows, parameter)``."""
