"""Evaluation measures with trec_eval's definitions, named as ir_measures names them.

Each measure is a pure function of one query's ranking (doc ids, best first, ordered as
trec_eval orders them: score descending, then doc id descending — for every measure,
including RR@k and Judged@k, which trec_eval lacks and ir_measures computes with ties
ordered the other way), its judgments, an
optional cutoff and the relevance level (``rel >= level`` counts as relevant).
Registered in ``MEASURES``; ``parse_measure("nDCG@10")`` gives a :class:`Measure`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..errors import CitesearchError

Judgments = dict[str, int]


def precision(ranking: Sequence[str], qrels: Judgments, cutoff: int | None, level: int) -> float:
    """P@k: relevant documents in the top k, divided by k (trec_eval ``P_k``)."""
    if cutoff is None:
        cutoff = len(ranking)
    if cutoff == 0:
        return 0.0
    return sum(1 for d in ranking[:cutoff] if qrels.get(d, 0) >= level) / cutoff


def recall(ranking: Sequence[str], qrels: Judgments, cutoff: int | None, level: int) -> float:
    """R@k: relevant documents in the top k over all relevant (trec_eval ``recall_k``)."""
    num_rel = sum(1 for r in qrels.values() if r >= level)
    if num_rel == 0:
        return 0.0
    return sum(1 for d in ranking[:cutoff] if qrels.get(d, 0) >= level) / num_rel


def average_precision(ranking: Sequence[str], qrels: Judgments, cutoff: int | None, level: int) -> float:
    """AP: mean of the precision at each relevant document's rank, over all relevant
    documents (trec_eval ``map``; unretrieved relevant documents count as zero)."""
    num_rel = sum(1 for r in qrels.values() if r >= level)
    if num_rel == 0:
        return 0.0
    found, total = 0, 0.0
    for i, d in enumerate(ranking[:cutoff], 1):
        if qrels.get(d, 0) >= level:
            found += 1
            total += found / i
    return total / num_rel


def reciprocal_rank(ranking: Sequence[str], qrels: Judgments, cutoff: int | None, level: int) -> float:
    """RR: 1 / rank of the first relevant document (trec_eval ``recip_rank``)."""
    for i, d in enumerate(ranking[:cutoff], 1):
        if qrels.get(d, 0) >= level:
            return 1.0 / i
    return 0.0


def success(ranking: Sequence[str], qrels: Judgments, cutoff: int | None, level: int) -> float:
    """Success@k: 1 if any relevant document is in the top k (trec_eval ``success_k``)."""
    return float(any(qrels.get(d, 0) >= level for d in ranking[:cutoff]))


def ndcg(ranking: Sequence[str], qrels: Judgments, cutoff: int | None, level: int) -> float:
    """nDCG@k with linear gains and log2(rank + 1) discounts (Järvelin & Kekäläinen,
    TOIS 2002), as trec_eval's ``ndcg_cut_k``: gain is the judged relevance when
    positive; the ideal ranking is all judged documents by relevance."""
    dcg = sum(qrels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranking[:cutoff]) if qrels.get(d, 0) > 0)
    ideal = sorted((r for r in qrels.values() if r > 0), reverse=True)[:cutoff]
    idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def bpref(ranking: Sequence[str], qrels: Judgments, cutoff: int | None, level: int) -> float:
    """bpref (Buckley & Voorhees, SIGIR 2004), as trec_eval computes it: for each
    retrieved relevant document, 1 − (judged non-relevant ranked above it, at most R)
    / min(R, N), summed and divided by R."""
    num_rel = sum(1 for r in qrels.values() if r >= level)
    num_nonrel = sum(1 for r in qrels.values() if 0 <= r < level)
    if num_rel == 0:
        return 0.0
    nonrel_above, total = 0, 0.0
    for d in ranking[:cutoff]:
        rel = qrels.get(d)
        if rel is None or rel < 0:
            continue
        if rel >= level:
            if nonrel_above:
                total += 1.0 - min(nonrel_above, num_rel) / min(num_rel, num_nonrel)
            else:
                total += 1.0
        else:
            nonrel_above += 1
    return total / num_rel


def judged(ranking: Sequence[str], qrels: Judgments, cutoff: int | None, level: int) -> float:
    """Judged@k: the share of the top k that has a judgment, over min(k, retrieved)
    documents (ir_measures ``Judged``; trec_eval has no such measure)."""
    top = ranking[:cutoff]
    return sum(1 for d in top if d in qrels) / len(top) if top else 0.0


MEASURES: dict[str, Callable[[Sequence[str], Judgments, int | None, int], float]] = {
    "nDCG": ndcg,
    "AP": average_precision,
    "P": precision,
    "R": recall,
    "RR": reciprocal_rank,
    "Success": success,
    "Bpref": bpref,
    "Judged": judged,
}
ALIASES = {"ndcg": "nDCG", "map": "AP", "ap": "AP", "p": "P", "r": "R", "rr": "RR", "mrr": "RR",
           "success": "Success", "bpref": "Bpref", "judged": "Judged"}
NEEDS_CUTOFF = {"P", "Success", "Judged"}
DEFAULT_MEASURES = ("nDCG@10", "AP", "R@100", "P@10", "RR")

_NAME = re.compile(r"^([A-Za-z]+)(?:@(\d+))?$")


@dataclass(frozen=True)
class Measure:
    name: str
    cutoff: int | None = None

    def __str__(self) -> str:
        return self.name + (f"@{self.cutoff}" if self.cutoff is not None else "")

    def __call__(self, ranking: Sequence[str], qrels: Judgments, level: int = 1) -> float:
        return MEASURES[self.name](ranking, qrels, self.cutoff, level)


def parse_measure(text: str) -> Measure:
    """``"nDCG@10"`` → Measure("nDCG", 10); names as ir_measures spells them."""
    m = _NAME.match(text.strip())
    name = ALIASES.get(m.group(1).lower()) if m else None
    if not m or name is None:
        raise CitesearchError(f"unknown measure {text!r}; use {', '.join(MEASURES)}, with @k where needed (e.g. nDCG@10)")
    cutoff = int(m.group(2)) if m.group(2) else None
    if name in NEEDS_CUTOFF and cutoff is None:
        raise CitesearchError(f"{name} needs a cutoff, e.g. {name}@10")
    if cutoff == 0:
        raise CitesearchError(f"{text}: the cutoff must be at least 1")
    return Measure(name, cutoff)
