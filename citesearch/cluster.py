"""Where a sharded build's tasks and a batch's queries run: local processes, or a Dask cluster.

Dask (``pip install 'citesearch[distributed]'``) is imported only here, and only when a
scheduler address is given: the single-index query path never loads it.

On a cluster, every task reads and writes the index folder (and the input files) itself,
so they must be on storage every worker sees at the same path (NFS, Lustre, a mounted
bucket). Query tasks open an index once per worker process (:func:`open_cached`) and
keep it open for the next tasks.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from .errors import CitesearchError
from .workers import die_with

INSTALL_HINT = "Install it: pip install 'citesearch[distributed]'"
CONNECT_TIMEOUT = 10  # seconds


def _dask_client(address: str) -> Any:
    try:
        from distributed import Client
    except ImportError:
        raise CitesearchError("--scheduler needs Dask's distributed scheduler, which is not installed",
                              hint=INSTALL_HINT) from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CitesearchError(
            f"cannot reach the Dask scheduler at {address}: {detail}",
            hint="Start one (dask scheduler), or check the address (tcp://HOST:8786).",
        ) from None


class DaskRunner:
    """Maps tasks over a Dask cluster: ``runner(fn, *iterables)`` → results in order."""

    def __init__(self, address_or_client: Any):
        self.client = _dask_client(address_or_client) if isinstance(address_or_client, str) else address_or_client
        self._own = isinstance(address_or_client, str)

    def __call__(self, fn: Callable, *iterables: Iterable) -> list:
        futures = self.client.map(fn, *[list(it) for it in iterables], pure=False)
        return self.client.gather(futures)

    def as_completed_in_order(self, fn: Callable, items: list) -> Iterator:
        """``fn(item)`` for each item, yielded in order as they finish (the cluster runs
        ahead of the caller)."""
        futures = self.client.map(fn, items, pure=False)
        try:
            for future in futures:
                yield future.result()
        finally:
            self.client.cancel(futures)

    @property
    def workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def close(self) -> None:
        if self._own:
            self.client.close()


class LocalRunner:
    """Maps tasks over forked local processes (each dies with this one)."""

    def __init__(self, processes: int = 0):
        self.processes = processes or os.cpu_count() or 1

    def __call__(self, fn: Callable, *iterables: Iterable) -> list:
        args = list(zip(*iterables))
        if self.processes == 1 or len(args) <= 1:
            return [fn(*a) for a in args]
        ctx = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(min(self.processes, len(args)), mp_context=ctx, initializer=die_with,
                                 initargs=(os.getpid(),)) as pool:
            return list(pool.map(fn, *zip(*args)))

    def close(self) -> None:
        pass


@contextmanager
def runner(scheduler: str | None, processes: int = 0) -> Iterator[DaskRunner | LocalRunner]:
    """A :class:`DaskRunner` on the scheduler at ``scheduler``, else a :class:`LocalRunner`."""
    r: DaskRunner | LocalRunner = DaskRunner(scheduler) if scheduler else LocalRunner(processes)
    try:
        yield r
    finally:
        r.close()


# -- on the workers -----------------------------------------------------------------------------

_open: dict[tuple[str, str, bool], Any] = {}  # (path, generation, compiled) -> Index, per worker process


def open_cached(path: str, compiled: bool = False) -> Any:
    """The index at ``path``, opened once per worker process (each shard once) and kept
    open; opened again when a writer has committed a new generation since."""
    from .indexer.manifest import read_manifest
    from .search.searcher import Index

    key = (os.path.abspath(path), read_manifest(path).data, compiled)
    index = _open.get(key)
    if index is None:
        for old in [k for k in _open if k[0] == key[0]]:
            _open.pop(old).close()
        index = _open[key] = Index.open(path, compiled)
    return index


def run_chunk(path: str, opts: Any, compiled: bool, chunk: list[tuple[str, str]]) -> list[tuple[str, str | None]]:
    """A batch task: (lines, error) of each of ``chunk``'s queries (``search.batch.run_one``)."""
    from .search.batch import run_one

    index = open_cached(path, compiled)
    return [run_one(index, qid, text, opts) for qid, text in chunk]


def run_configuration(path: str, queries: list, qrels: Any, measure: Any, settings: Any) -> tuple:
    """A tuning task: (settings, per-query scores, errors) of one configuration."""
    from .evaluation.tuning import _scores

    return (settings, *_scores(open_cached(path), settings, queries, qrels, measure))


def run_on_cluster(
    scheduler: str, path: str, opts: Any, compiled: bool, chunks: list[list[tuple[str, str]]]
) -> Iterator[tuple[str, str | None]]:
    """(lines, error) per query of ``chunks``, in order, each chunk a task on the cluster."""
    from functools import partial

    cluster = DaskRunner(scheduler)
    try:
        task = partial(run_chunk, os.path.abspath(path), opts, compiled)
        for results in cluster.as_completed_in_order(task, chunks):
            yield from results
    finally:
        cluster.close()


class ConfigurationRunner:
    """Runs tuning configurations on a Dask cluster: the queries, judgments and measure
    are sent to every worker once; each configuration is a task."""

    def __init__(self, scheduler: str, path: str, queries: list, qrels: Any, measure: Any):
        self.cluster = DaskRunner(scheduler)
        self.path = os.path.abspath(path)
        self.state = self.cluster.client.scatter([queries, qrels, measure], broadcast=True)

    def run(self, configurations: list) -> Iterator[tuple]:
        from functools import partial

        task = partial(_configuration, self.path)
        futures = self.cluster.client.map(task, configurations, state=self.state, pure=False)
        try:
            for future in futures:
                yield future.result()
        finally:
            self.cluster.client.cancel(futures)

    def terminate(self) -> None:
        self.cluster.close()

    def join(self) -> None:
        pass


def _configuration(path: str, settings: Any, state: list) -> tuple:
    queries, qrels, measure = state
    return run_configuration(path, queries, qrels, measure, settings)
