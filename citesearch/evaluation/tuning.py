"""Tuning the query-time settings on one's own judged queries, with an honest estimate.

:func:`tune` searches the settings an index can be searched with — method, BM25 variant,
k1 and b (where BM25 ranks), fusion and its parameter, the run hybrid fuses with TF-IDF
(In_expC2 or BM25), RM3 feedback (for hybrid, on both runs or on the probabilistic one
only), document aggregate — in stages, one
group at a time from the best so far (:data:`STAGES`; coordinate ascent, not the full
product), keeping the current settings on ties. Each configuration is run once over all
the judged queries (1000 documents deep, as ``evaluate --index`` does) and its
per-query scores cached; everything after that is arithmetic on the cache.

K-fold cross-validation over the queries (seeded shuffle, folds of nearly equal size)
runs the same staged search once per fold on the other folds' queries and scores its
choice on the held-out fold. The mean of those held-out scores is an honest estimate of
how settings chosen this way do on queries they were not chosen on. The in-sample
score of the settings chosen on all queries is not: it is the maximum over many
configurations on the very queries that chose it (selection bias), so it flatters.

The K + 1 searches run in lockstep, stage by stage: a configuration one of them needs
is run once, in parallel with the others that stage needs (one process per core), and
is shared by every search that reaches it.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, TypeVar

import numpy as np

from ..errors import CitesearchError
from ..indexer.bm25 import BM25Params
from ..indexer.manifest import METHODS, Manifest, read_manifest, save_tuned
from ..search.batch import BatchOptions, ranked_ids
from ..search.expansion import RM3
from ..search.options import AGGREGATES, HYBRID_WITH, SearchOptions
from ..search.searcher import Index
from ..workers import die_with
from .evaluate import natural_key
from .measures import Measure, parse_measure
from .trec import Qrels, read_qrels

Config = TypeVar("Config", bound=Hashable)

DEPTH = 1000
"""Documents ranked per query, as ``evaluate --index`` and ``batch`` rank by default."""

TUNED_VARIANTS = ("okapi", "lucene")
K1S = (0.6, 0.9, 1.2, 1.5, 2.0)
BS = (0.2, 0.4, 0.6, 0.75, 0.9)
RRF_KS = (5, 10, 20, 40, 60, 100)
LINEAR_WEIGHTS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
FEEDBACK = tuple(RM3(d, t, w) for d in (5, 10, 20) for t in (10, 20) for w in (0.5, 0.7, 0.9))
BM25_RUN_FEEDBACK = tuple(RM3(d, 10, w) for d in (10, 20) for w in (0.7, 0.8, 0.9))
"""Hybrid's RM3 on the BM25 run only: a smaller grid (each RM3 configuration costs most of
a tune's time) around issue 13's 20 passages, 10 terms, weight 0.8."""


def _method(current: SearchOptions) -> list[SearchOptions]:
    """Every method, and hybrid of either probabilistic run with TF-IDF, that an index
    storing In_expC2 weights can rank (``_methods_without_dfr`` for one that does not)."""
    return [current.with_(method=m) for m in METHODS] + [
        current.with_(method="hybrid", hybrid_with=h) for h in HYBRID_WITH
    ]


def _methods_without_dfr(current: SearchOptions) -> list[SearchOptions]:
    return [current.with_(method=m) for m in METHODS if m != "dfr"]


def _bm25(current: SearchOptions) -> list[SearchOptions]:
    if "bm25" not in current.runs() and current.expand is None:
        return []  # BM25's parameters change nothing (until feedback, tuned after)
    return [current.with_(bm25=BM25Params(v, k1, b)) for v in TUNED_VARIANTS for k1 in K1S for b in BS]


def _fusion(current: SearchOptions) -> list[SearchOptions]:
    if current.method != "hybrid":
        return []
    return [current.with_(fusion="rrf", rrf_k=k) for k in RRF_KS] + [
        current.with_(fusion="linear", linear_weight=w) for w in LINEAR_WEIGHTS
    ]


def _feedback(current: SearchOptions) -> list[SearchOptions]:
    out = [current.with_(expand=None)] + [current.with_(expand=e, expand_runs="all") for e in FEEDBACK]
    if current.method == "hybrid":  # also RM3 on the BM25 run only (TF-IDF ranks the original query)
        out += [current.with_(expand=e, expand_runs="bm25") for e in BM25_RUN_FEEDBACK]
    return out


def _aggregate(current: SearchOptions) -> list[SearchOptions]:
    return [current.with_(aggregate=a) for a in AGGREGATES]


STAGES: tuple[tuple[str, Callable[[SearchOptions], list[SearchOptions]]], ...] = (
    ("method", _method),
    ("BM25", _bm25),
    ("fusion", _fusion),
    ("feedback", _feedback),
    ("aggregate", _aggregate),
)
"""The staged search: each stage varies one group of settings of the best so far (the
current settings always among the candidates, so a stage never loses in-sample)."""


def stages_for(manifest: Manifest) -> tuple[tuple[str, Callable[[SearchOptions], list[SearchOptions]]], ...]:
    """:data:`STAGES` for an index: one without In_expC2 weights is not offered ``dfr``."""
    return STAGES if manifest.dfr is not None else (("method", _methods_without_dfr), *STAGES[1:])


@dataclass(frozen=True)
class Fold:
    """One fold of the cross-validation."""

    queries: tuple[str, ...]
    """The held-out queries."""
    settings: SearchOptions
    """The settings chosen on the other folds' queries."""
    train_score: float
    """Their mean score on the other folds' queries."""
    score: float
    """Their mean score on the held-out queries."""


@dataclass
class TuneResult:
    metric: str
    queries: tuple[str, ...]
    """The judged queries tuned on, in natural order; per-query scores align with them."""
    default: SearchOptions
    """The index's own settings (as built, without saved tuned ones): where the search starts."""
    best: SearchOptions
    """The settings chosen on all the queries."""
    folds: list[Fold]
    scores: dict[SearchOptions, np.ndarray]
    """Every configuration run, with its per-query scores (aligned with ``queries``)."""
    searched: list[SearchOptions]
    """The candidates the search on all the queries compared, stage by stage."""
    errors: list[str] = field(default_factory=list)
    """Queries that could not run (they score 0), one message each."""
    seconds: float = 0.0
    saved: bool = False
    """Whether the command saved the best settings (the JSON's ``saved``)."""

    def score(self, settings: SearchOptions, queries: Iterable[str] | None = None) -> float:
        """The mean score of ``settings`` (a configuration run) over ``queries`` (default all)."""
        values = self.scores[settings]
        if queries is None:
            return mean(values)
        position = {q: i for i, q in enumerate(self.queries)}
        return mean(values[[position[q] for q in queries]])

    @property
    def default_score(self) -> float:
        return self.score(self.default)

    @property
    def best_score(self) -> float:
        return self.score(self.best)

    @property
    def cv_score(self) -> float:
        """The mean over folds of the held-out scores."""
        return mean([f.score for f in self.folds])

    def to_dict(self) -> dict[str, Any]:
        """The ``tune --format json`` object."""
        return {
            "metric": self.metric,
            "folds": len(self.folds),
            "default": {"settings": self.default.to_dict(), "score": self.default_score},
            "best": {"settings": self.best.to_dict(), "score": self.best_score},
            "cross_validated": {
                "score": self.cv_score,
                "per_fold": [
                    {"score": f.score, "default_score": self.score(self.default, f.queries),
                     "train_score": f.train_score, "queries": list(f.queries), "settings": f.settings.to_dict()}
                    for f in self.folds
                ],
            },
            "saved": self.saved,
        }


def folds_of(queries: Sequence[str], k: int, seed: int = 0) -> list[tuple[str, ...]]:
    """``queries`` shuffled with ``seed`` and cut into ``k`` folds of nearly equal size
    (the first ones a query larger), each in natural order."""
    if k < 2:
        raise CitesearchError(f"cross-validation needs at least 2 folds, not {k}")
    if k > len(queries):
        raise CitesearchError(
            f"{k} folds need at least {k} judged queries; there {'is' if len(queries) == 1 else 'are'} "
            f"{len(queries)}"
        )
    order = sorted(queries, key=natural_key)
    random.Random(seed).shuffle(order)
    return [tuple(sorted(part, key=natural_key)) for part in np.array_split(np.array(order, dtype=object), k)]


def tune(
    index_path: str | os.PathLike[str],
    queries: str | os.PathLike[str] | Sequence[tuple[str, str]],
    qrels: str | os.PathLike[str] | Qrels,
    metric: str = "nDCG@10",
    folds: int = 5,
    seed: int = 0,
    workers: int = 0,
    progress: Callable[[int, int, str], None] | None = None,
    scheduler: str | None = None,
) -> TuneResult:
    """Tune the index's query-time settings on judged ``queries`` for ``metric``, with
    ``folds``-fold cross-validation (seeded): see the module's docstring.

    ``queries``: a query file (any format ``batch`` reads) or (id, text) pairs; ``qrels``:
    a judgments file or :func:`read_qrels`' mapping. Only queries with judgments count; one
    a configuration finds nothing for scores 0. ``workers=0``: one process per core.
    ``progress(done, total, stage)`` is called as configurations finish (``total`` grows
    as stages reveal what they need). ``scheduler``: run the configurations on the Dask
    cluster at that address (``citesearch.cluster``). Raises :class:`CitesearchError` for an unknown
    metric, fewer judged queries than folds, or no query with judgments.
    """
    started = time.perf_counter()
    measure = parse_measure(metric)
    manifest = read_manifest(index_path)
    if not isinstance(queries, (str, os.PathLike)):
        pairs = list(queries)
        source = "the queries"
    else:
        from ..search.queryfiles import read_queries

        pairs = read_queries(queries, strict=True).queries  # a malformed line is an error, not a lost query
        source = str(queries)
    judgments = read_qrels(qrels) if isinstance(qrels, (str, os.PathLike)) else qrels
    judged = {qid: text for qid, text in pairs if qid in judgments}
    if not judged:
        where = f" in {qrels}" if isinstance(qrels, (str, os.PathLike)) else ""
        raise CitesearchError(f"no query of {source} has judgments{where}")
    qids = tuple(sorted(judged, key=natural_key))
    parts = folds_of(qids, folds, seed)

    default = SearchOptions().resolve(_untuned(manifest))
    position = {q: i for i, q in enumerate(qids)}
    everything = np.arange(len(qids))
    selections = [everything] + [np.setdiff1d(everything, [position[q] for q in part]) for part in parts]
    work = _Runner(str(index_path), [(q, judged[q]) for q in qids], judgments, measure, workers, scheduler)
    scores: dict[SearchOptions, np.ndarray] = {}
    errors: dict[str, str] = {}
    total = [0]

    def run(stage: str, needed: list[SearchOptions]) -> None:
        total[0] += len(needed)
        for settings, values, failed in work.run(needed):
            scores[settings] = values
            errors.update(failed)
            if progress is not None:
                progress(len(scores), total[0], stage)

    try:
        chosen, searched = staged_search(default, stages_for(manifest), selections, scores, run)
    finally:
        work.close()
    result_folds = []
    for part, fold_choice, rows in zip(parts, chosen[1:], selections[1:]):
        held = [position[q] for q in part]
        result_folds.append(
            Fold(part, fold_choice, mean(scores[fold_choice][rows]), mean(scores[fold_choice][held]))
        )
    return TuneResult(
        metric=metric.strip(),
        queries=qids,
        default=default,
        best=chosen[0],
        folds=result_folds,
        scores=scores,
        searched=searched,
        errors=[errors[q] for q in sorted(errors, key=natural_key)],
        seconds=time.perf_counter() - started,
    )


def staged_search(
    start: Config,
    stages: Sequence[tuple[str, Callable[[Config], list[Config]]]],
    selections: Sequence[np.ndarray],
    scores: dict[Config, np.ndarray],
    run: Callable[[str, list[Config]], None],
) -> tuple[list[Config], list[Config]]:
    """The staged search from ``start``, once per selection (the positions of the queries
    it may look at), in lockstep: at each stage every search takes its candidates (its
    current configuration first, then the stage's), ``run(stage, configurations)`` adds
    the per-query scores of those not yet in ``scores``, all at once, and each search
    moves to its best candidate by mean over its own queries (the first such: a tie keeps
    the current one). Returns each search's choice, and the candidates the first compared."""
    current = [start] * len(selections)
    searched: list[Config] = []
    for stage, candidates_of in stages:
        candidates = [_unique([c, *candidates_of(c)]) for c in current]
        run(stage, _unique(c for cs in candidates for c in cs if c not in scores))
        searched.extend(c for c in candidates[0] if c not in searched)
        current = [_best(cs, scores, rows) for cs, rows in zip(candidates, selections)]
    return current, searched


def save(index_path: str | os.PathLike[str], result: TuneResult) -> None:
    """Save ``result``'s best settings in the index: searches use them from now on where
    no option says otherwise (``SearchOptions.resolve``)."""
    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    tuned = result.best.tuned(
        metric=result.metric, score=result.cv_score, queries=len(result.queries), folds=len(result.folds),
        created=created,
    )
    save_tuned(index_path, tuned)


def reset(index_path: str | os.PathLike[str]) -> bool:
    """Remove the saved settings from the index; whether it had any."""
    had = read_manifest(index_path).tuned is not None
    if had:
        save_tuned(index_path, None)
    return had


def _untuned(manifest: Manifest) -> Manifest:
    from dataclasses import replace

    return replace(manifest, tuned=None)


def mean(values: Sequence[float] | np.ndarray) -> float:
    """The arithmetic mean, summed in order as ``evaluate`` sums (so the default's score is
    the figure ``evaluate --index`` prints for the same settings)."""
    values = [float(v) for v in values]
    return sum(values) / len(values)


def _unique(items: Iterable[Config]) -> list[Config]:
    return list(dict.fromkeys(items))


def _best(candidates: list[Config], scores: dict[Config, np.ndarray], rows: np.ndarray) -> Config:
    """The candidate with the highest mean over ``rows``; the first such (the current
    settings come first, so a tie keeps them)."""
    means = [mean(scores[c][rows]) for c in candidates]
    return candidates[int(np.argmax(means))]


# -- running configurations --------------------------------------------------------------


class _Runner:
    """Runs configurations over the queries: in this process, or over a pool of forked
    workers that each open the memory-mapped index once."""

    def __init__(self, index_path: str, queries: list[tuple[str, str]], qrels: Qrels, measure: Measure,
                 workers: int, scheduler: str | None = None) -> None:
        self.state = (index_path, queries, qrels, measure)
        self.workers = workers or os.cpu_count() or 1
        self.pool: Any = None
        self.index: Index | None = None
        self.scheduler = scheduler

    def run(self, configurations: list[SearchOptions]):
        """(settings, per-query scores, {qid: error}) for each configuration, in order."""
        if not configurations:
            return
        if self.scheduler:
            from ..cluster import ConfigurationRunner

            if self.pool is None:
                self.pool = ConfigurationRunner(self.scheduler, *self.state)
            yield from self.pool.run(configurations)
            return
        if self.workers == 1 or len(configurations) == 1:
            if self.index is None:
                self.index = Index.open(self.state[0])
            for settings in configurations:
                yield (settings, *_scores(self.index, settings, *self.state[1:]))
            return
        if self.pool is None:
            ctx = multiprocessing.get_context("fork")
            self.pool = ctx.Pool(self.workers, initializer=_init_worker, initargs=(*self.state, os.getpid()))
        yield from self.pool.imap(_work, configurations)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
        if self.index is not None:
            self.index.close()


def _scores(
    index: Index, settings: SearchOptions, queries: list[tuple[str, str]], qrels: Qrels, measure: Measure
) -> tuple[np.ndarray, dict[str, str]]:
    """Each query's score under ``settings`` (0 when it cannot run), and the errors."""
    opts = BatchOptions(settings, k=DEPTH)
    values = np.zeros(len(queries))
    errors = {}
    for i, (qid, text) in enumerate(queries):
        try:
            ranking = [doc for doc, _ in ranked_ids(index, text, opts)]
        except CitesearchError as exc:
            errors[qid] = f"query {qid}: {exc}"
            continue
        values[i] = measure(ranking, qrels[qid])
    return values, errors


_worker: tuple[Index, list[tuple[str, str]], Qrels, Measure] | CitesearchError | None = None


def _init_worker(
    index_path: str, queries: list[tuple[str, str]], qrels: Qrels, measure: Measure, parent: int
) -> None:
    global _worker
    die_with(parent)
    try:
        _worker = (Index.open(index_path), queries, qrels, measure)
    except CitesearchError as exc:  # raised by the first task instead (see search.batch)
        _worker = exc


def _work(settings: SearchOptions) -> tuple[SearchOptions, np.ndarray, dict[str, str]]:
    if _worker is None:
        raise RuntimeError("tuning worker not initialized")
    if isinstance(_worker, CitesearchError):
        raise _worker
    index, *rest = _worker
    return (settings, *_scores(index, settings, *rest))
