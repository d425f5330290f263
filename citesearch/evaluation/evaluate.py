"""Evaluate runs against qrels, the way trec_eval does.

* Each query's documents are ordered by score descending, ties by doc id descending —
  trec_eval's order; ranks written in the run file are ignored.
* Queries without judgments are skipped (and counted). Judged queries missing from the
  run are skipped too, unless ``complete=True`` (trec_eval ``-c``): then they count, with
  every measure 0.
* Averages are arithmetic means over the evaluated queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .measures import Measure
from .trec import Qrels, Run


def trec_order(scores: dict[str, float]) -> list[str]:
    """Doc ids by score descending, ties by doc id descending (as trec_eval sorts)."""
    return sorted(scores, key=lambda d: (scores[d], d), reverse=True)


@dataclass
class Evaluation:
    metrics: dict[str, float]
    per_query: dict[str, dict[str, float]]
    unjudged: list[str] = field(default_factory=list)
    """Queries of the run that have no judgments (skipped)."""
    missing: list[str] = field(default_factory=list)
    """Judged queries the run has no ranking for (skipped, or 0 with ``complete``)."""


def evaluate(run: Run, qrels: Qrels, measures: Sequence[Measure], level: int = 1, complete: bool = False) -> Evaluation:
    per_query: dict[str, dict[str, float]] = {}
    for qid in sorted(run):
        judgments = qrels.get(qid)
        if judgments is None:
            continue
        ranking = trec_order(run[qid])
        per_query[qid] = {str(m): m(ranking, judgments, level) for m in measures}
    missing = sorted(q for q in qrels if q not in run)
    if complete:
        for qid in missing:
            per_query[qid] = {str(m): 0.0 for m in measures}
    n = len(per_query)
    metrics = {str(m): (sum(v[str(m)] for v in per_query.values()) / n if n else 0.0) for m in measures}
    return Evaluation(metrics, per_query, sorted(q for q in run if q not in qrels), missing)
