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
