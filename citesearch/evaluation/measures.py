"""Evaluation measures with trec_eval's definitions, named as ir_measures names them.

Each measure is a pure function of one query's ranking (doc ids, best first, ordered as
trec_eval orders them: score descending, then doc id descending — for every measure,
including RR@k and Judged@k, which trec_eval lacks and ir_measures computes with ties
ordered the other way), its judgments, an
optional cutoff and the relevance level (``rel >= level`` counts as relevant).
Registered in ``MEASURES``; ``parse_measure("nDCG@10")`` gives a :class:`Measure`, and so
do trec_eval's names for the same measures (``parse_measure("ndcg_cut_10")``, see
``TREC_EVAL_NAMES``).
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


def r_precision(ranking: Sequence[str], qrels: Judgments, cutoff: int | None, level: int) -> float:
    """R-precision: relevant documents in the top R over R, R being the number of relevant
    documents (trec_eval ``Rprec``); takes no cutoff."""
    num_rel = sum(1 for r in qrels.values() if r >= level)
    if num_rel == 0:
        return 0.0
    return sum(1 for d in ranking[:num_rel] if qrels.get(d, 0) >= level) / num_rel


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
    "Rprec": r_precision,
    "Judged": judged,
}
ALIASES = {"ndcg": "nDCG", "map": "AP", "ap": "AP", "p": "P", "r": "R", "rr": "RR", "mrr": "RR",
           "success": "Success", "bpref": "Bpref", "rprec": "Rprec", "judged": "Judged"}
NEEDS_CUTOFF = {"P", "Success", "Judged"}
NO_CUTOFF = {"Rprec"}
TREC_EVAL_NAMES: dict[str, tuple[str, bool]] = {
    # trec_eval's name → (the measure here, whether trec_eval's name takes a _k cutoff)
    "ndcg": ("nDCG", False),
    "ndcg_cut": ("nDCG", True),
    "map": ("AP", False),
    "map_cut": ("AP", True),
    "P": ("P", True),
    "recall": ("R", True),
    "recip_rank": ("RR", False),
    "success": ("Success", True),
    "bpref": ("Bpref", False),
    "Rprec": ("Rprec", False),
}
"""trec_eval's measure names (as ``-m`` takes them, ``_k`` or ``.k``), for :func:`parse_measure`.
Every measure trec_eval has and this module computes; Judged@k has no trec_eval name."""
DEFAULT_MEASURES = ("nDCG@10", "AP", "R@100", "P@10", "RR")

_NAME = re.compile(r"^([A-Za-z]+(?:_[A-Za-z]+)*)(?:([@_.])(\d+))?$")
_TREC_EVAL_LOWER = {name.lower(): name for name in TREC_EVAL_NAMES}


def accepted_names() -> str:
    """The names :func:`parse_measure` accepts, from the registries (for error messages)."""
    ours = [name if name in NO_CUTOFF else f"{name}@k" if name in NEEDS_CUTOFF else f"{name}[@k]" for name in MEASURES]
    theirs = [f"{name}_k" if cut else name for name, (_, cut) in TREC_EVAL_NAMES.items()]
    return f"{', '.join(ours)} (ir_measures names) or {', '.join(theirs)} (trec_eval names)"


@dataclass(frozen=True)
class Measure:
    name: str
    cutoff: int | None = None

    def __str__(self) -> str:
        return self.name + (f"@{self.cutoff}" if self.cutoff is not None else "")

    def __call__(self, ranking: Sequence[str], qrels: Judgments, level: int = 1) -> float:
        return MEASURES[self.name](ranking, qrels, self.cutoff, level)


def parse_measure(text: str) -> Measure:
    """A measure by its ir_measures name (``"nDCG@10"`` → Measure("nDCG", 10); ``map``,
    ``mrr`` and lower case too) or its trec_eval name (``"ndcg_cut_10"``, ``"P_10"``,
    ``"recip_rank"``; ``ndcg_cut.10`` as ``trec_eval -m`` spells it)."""
    m = _NAME.match(text.strip())
    name = sep = None
    cutoff: int | None = None
    if m:
        word, sep, digits = m.groups()
        cutoff = int(digits) if digits else None
        if sep in (None, "@"):
            name = ALIASES.get(word.lower())
        if name is None and sep != "@" and word.lower() in _TREC_EVAL_LOWER:
            trec_name = _TREC_EVAL_LOWER[word.lower()]
            name, takes_cutoff = TREC_EVAL_NAMES[trec_name]
            if takes_cutoff and cutoff is None:
                raise CitesearchError(f"{trec_name} needs a cutoff, e.g. {trec_name}_10")
            if not takes_cutoff and cutoff is not None:
                cut = f"{trec_name}_cut"
                instead = f" (did you mean {cut}_{cutoff}?)" if TREC_EVAL_NAMES.get(cut, ("", False))[1] else ""
                raise CitesearchError(f"unknown measure {text.strip()!r}: {trec_name} takes no cutoff{instead}")
            sep = "@" if cutoff is not None else None
    if name is None or sep not in (None, "@"):
        raise CitesearchError(f"unknown measure {text.strip()!r}; use {accepted_names()}")
    if name in NEEDS_CUTOFF and cutoff is None:
        raise CitesearchError(f"{name} needs a cutoff, e.g. {name}@10")
    if name in NO_CUTOFF and cutoff is not None:
        raise CitesearchError(f"unknown measure {text.strip()!r}: {name} takes no cutoff")
    if cutoff == 0:
        raise CitesearchError(f"{text.strip()}: the cutoff must be at least 1")
    return Measure(name, cutoff)
