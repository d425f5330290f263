"""Pseudo-relevance feedback: RM3.

Lavrenko & Croft, "Relevance-based language models" (SIGIR 2001), in the RM3 form of
Abdul-Jaleel et al. (TREC 2004) as Anserini and PyTerrier run it: the top ``fb_docs``
passages' term distributions (tf / length), weighted by their retrieval scores, make a
relevance model; its ``fb_terms`` most likely terms, L1-normalized, are mixed with the
L1-normalized original query: ``weight · query + (1 − weight) · model``.

Defaults (10 passages, 20 terms, weight 0.7) are the setting that measured best across
both shared collections (BENCHMARKS.md); Anserini's are 10, 10 and 0.5.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RM3:
    fb_docs: int = 10
    fb_terms: int = 20
    weight: float = 0.7

    def __post_init__(self) -> None:
        if self.fb_docs < 1 or self.fb_terms < 1 or not 0 <= self.weight <= 1:
            raise ValueError("RM3 needs fb_docs >= 1, fb_terms >= 1 and 0 <= weight <= 1")


def rm3_query(
    params: RM3,
    query: dict[int, float],
    rows: np.ndarray,
    scores: np.ndarray,
    passage_terms: Callable[[list[int]], dict[int, list[int]]],
) -> dict[int, float]:
    """The expanded query: term id → weight."""
    top = [int(r) for r in rows[: params.fb_docs]]
    if not top:
        return dict(query)
    terms = passage_terms(top)
    weights = np.asarray(scores[: len(top)], dtype=np.float64)
    model: Counter[int] = Counter()
    for row, w in zip(top, weights):
        ids = terms.get(row, [])
        if not ids:
            continue
        for term, tf in Counter(ids).items():
            model[term] += w * tf / len(ids)
    best = model.most_common(params.fb_terms)
    total = sum(v for _, v in best)
    q_total = sum(query.values())
    expanded: Counter[int] = Counter()
    for term, v in query.items():
        expanded[term] += params.weight * v / q_total
    if total > 0:
        for term, v in best:
            expanded[term] += (1 - params.weight) * v / total
    return dict(expanded)
