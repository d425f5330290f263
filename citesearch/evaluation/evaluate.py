"""Evaluate runs against qrels, the way trec_eval does.

* Each query's documents are ordered by score descending, ties by doc id descending —
  trec_eval's order; ranks written in the run file are ignored.
* Queries without judgments are skipped (and counted). Judged queries missing from the
  run are skipped too, unless ``complete=True`` (trec_eval ``-c``): then they count, with
  every measure 0.
* Averages are arithmetic means over the evaluated queries.
* A run that shares no query with the judgments is an error (:func:`check_coverage`), not
  a score of 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..errors import CitesearchError
from .measures import Measure
from .trec import Qrels, Run

_DIGITS = re.compile(r"([0-9]+)")


def natural_key(qid: str) -> tuple[list[str | int], str]:
    """Sort key ordering ids as people count: ``q2`` before ``q10``, ``2`` before ``10``.

    >>> sorted(["q10", "q2", "10", "2", "q1b"], key=natural_key)
    ['2', '10', 'q1b', 'q2', 'q10']
    """
    parts: list[str | int] = [int(p) if i % 2 else p for i, p in enumerate(_DIGITS.split(qid))]
    return parts, qid


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

    def relabel(self, labels: Mapping[str, str]) -> Evaluation:
        """The same values with measures renamed (``{"P@10": "P_10"}``); others keep their names."""

        def rename(values: dict[str, float]) -> dict[str, float]:
            return {labels.get(k, k): v for k, v in values.items()}

        per_query = {q: rename(v) for q, v in self.per_query.items()}
        return Evaluation(rename(self.metrics), per_query, list(self.unjudged), list(self.missing))


def evaluate(run: Run, qrels: Qrels, measures: Sequence[Measure], level: int = 1, complete: bool = False) -> Evaluation:
    if isinstance(level, bool) or not isinstance(level, int) or level < 1:
        # Documents a run has and the judgments lack count as grade 0: a level of 0 or
        # less would count them relevant (AP above 1).
        raise CitesearchError(f"relevance level must be a whole number, 1 or more, not {level!r}")
    per_query: dict[str, dict[str, float]] = {}
    for qid in sorted(run, key=natural_key):
        judgments = qrels.get(qid)
        if judgments is None:
            continue
        ranking = trec_order(run[qid])
        per_query[qid] = {str(m): m(ranking, judgments, level) for m in measures}
    missing = sorted(q for q in qrels if q not in run)
    if complete:
        for qid in missing:
            per_query[qid] = {str(m): 0.0 for m in measures}
        per_query = dict(sorted(per_query.items(), key=lambda item: natural_key(item[0])))
    n = len(per_query)
    metrics = {str(m): (sum(v[str(m)] for v in per_query.values()) / n if n else 0.0) for m in measures}
    return Evaluation(metrics, per_query, sorted(q for q in run if q not in qrels), missing)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def check_coverage(run: Run, qrels: Qrels, run_file: str, qrels_file: str, complete: bool = False) -> str | None:
    """Raise when ``run`` shares no query with ``qrels`` (its scores would be 0, or nothing,
    whatever it retrieved: ids that do not match, or the wrong qrels); when it shares some,
    a one-line warning counting the queries only one side has, or None when they match."""
    shared = run.keys() & qrels.keys()
    if not run:
        raise CitesearchError(f"{run_file}: no results to score against {qrels_file}")
    if not shared:

        def some(ids: Iterable[str]) -> str:
            first = sorted(ids, key=natural_key)
            return ", ".join(first[:3]) + (", ..." if len(first) > 3 else "")

        raise CitesearchError(
            f"{run_file} and {qrels_file} share no query id (the run has {some(run)}; the judgments {some(qrels)})"
        )
    missing = len(qrels.keys() - run.keys())
    unjudged = len(run.keys() - qrels.keys())
    parts = []
    if missing:
        verb = "has" if missing == 1 else "have"
        treated = "scored as 0, -c" if complete else "skipped; -c scores them as 0"
        parts.append(f"{missing} of {_count(len(qrels), 'judged query', 'judged queries')} {verb} no results "
                     f"in the run ({treated})")
    if unjudged:
        parts.append(f"{_count(unjudged, 'run query has', 'run queries have')} no judgments (skipped)")
    return f"{run_file}: {'; '.join(parts)}" if parts else None
