"""Combining the BM25 and TF-IDF rankings, chosen through ``FUSERS``.

Both take dense score arrays over all passages plus the mask of passages either method
touched, and return one fused score array (zero where untouched).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

RRF_K = 60
LINEAR_WEIGHT = 0.5


def _ranks(scores: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """1-based rank of each candidate by descending score, ties by row."""
    order = np.lexsort((candidates, -scores[candidates]))
    ranks = np.empty(len(candidates), dtype=np.float64)
    ranks[order] = np.arange(1, len(candidates) + 1)
    return ranks


def rrf(runs: list[np.ndarray], candidates: np.ndarray, k: int = RRF_K) -> np.ndarray:
    """Reciprocal rank fusion: sum of 1 / (k + rank) over the runs.

    Cormack, Clarke & Büttcher, "Reciprocal rank fusion outperforms Condorcet and
    individual rank learning methods" (SIGIR 2009). A passage a run did not score
    (score 0) gets no share from that run.
    """
    fused = np.zeros_like(runs[0], dtype=np.float64)
    for scores in runs:
        hit = candidates[scores[candidates] > 0]
        fused[hit] += 1.0 / (k + _ranks(scores, hit))
    return fused


def linear(runs: list[np.ndarray], candidates: np.ndarray, weight: float = LINEAR_WEIGHT) -> np.ndarray:
    """Weighted sum of max-normalized scores: w · s₁/max s₁ + (1 − w) · s₂/max s₂.

    A CombSUM with score normalization (Fox & Shaw, TREC-2, 1994; Lee, SIGIR 1997).
    """
    fused = np.zeros_like(runs[0], dtype=np.float64)
    for scores, w in zip(runs, (weight, 1.0 - weight)):
        top = float(scores[candidates].max()) if len(candidates) else 0.0
        if top > 0:
            fused[candidates] += w * scores[candidates] / top
    return fused


FUSERS: dict[str, Callable[[list[np.ndarray], np.ndarray], np.ndarray]] = {"rrf": rrf, "linear": linear}
