"""Batch runs: many queries from a file, over worker processes, into a run file.

Workers are forked processes that each open the memory-mapped index once; the parent
hands them chunks of queries in order and writes what comes back, so the output is in
query-file order whatever the number of workers. The output goes to a temporary file
renamed into place at the end.
"""

from __future__ import annotations

import contextlib
import errno
import json
import multiprocessing
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import CitesearchError
from ..evaluation.trec import trec_lines
from ..indexer.manifest import Manifest, read_manifest
from ..workers import die_with
from . import kernels
from .options import OptionError, SearchOptions
from .query import parse_query, plain_query
from .searcher import Index

RUN_FORMATS = ("trec", "jsonl", "tsv")
LEVELS = ("document", "passage")


@dataclass(frozen=True)
class BatchOptions:
    search: SearchOptions = SearchOptions()
    """How each query is ranked."""
    k: int = 1000
    level: str = "document"
    fmt: str = "trec"
    run_name: str | None = None
    """The TREC run tag; None: ``citesearch-METHOD`` with the method the run used."""
    syntax: bool = False
    """Read queries with the search syntax (phrases, -exclusions, filters); off by
    default, since topic files hold natural-language text with stray quotes and dashes."""

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise OptionError(f"unknown level {self.level!r}; choose from {', '.join(LEVELS)}")
        if self.fmt not in RUN_FORMATS:
            raise OptionError(f"unknown run format {self.fmt!r}; choose from {', '.join(RUN_FORMATS)}")
        if self.run_name is not None and (not self.run_name or any(c.isspace() for c in self.run_name)):
            # The tag is the last field of every run-file line, which white space separates.
            raise OptionError(f"the run name must be one word, without white space: {self.run_name!r}")

    def resolve(self, manifest: Manifest) -> BatchOptions:
        """These options with the index's defaults filled in, the run tag included."""
        search = self.search.resolve(manifest)
        return replace(self, search=search, run_name=self.run_name or run_tag(search))


def run_tag(options: SearchOptions) -> str:
    """``citesearch-METHOD`` (``-rm3`` with feedback), for resolved ``options``."""
    return f"citesearch-{options.method}" + ("-rm3" if options.expand is not None else "")


def _score(value: float) -> str:
    return f"{value:.9g}"


def ranked_ids(index: Index, text: str, opts: BatchOptions) -> list[tuple[str, float]]:
    """(id, score) best first: document ids, or passage ids ``doc#ordinal``.

    Ties (equal as written) are ordered by id descending: the order trec_eval sorts
    them into, so the ranks in the file are the ranks trec_eval evaluates.
    """
    query = parse_query(text) if opts.syntax else plain_query(text)
    if opts.level == "document":
        pairs = index.rank_documents(query, opts.k, opts.search)
    else:
        top, scores = index.rank(query, opts.search, depth=opts.k).top(opts.k)
        rows = top.tolist()
        ids = index.passage_ids(rows)
        pairs = [(ids[r], float(s)) for r, s in zip(rows, scores)]
    written = [(doc, float(_score(s))) for doc, s in pairs]
    return sorted(written, key=lambda p: (p[1], p[0]), reverse=True)


def run_one(index: Index, qid: str, text: str, opts: BatchOptions) -> tuple[str, str | None]:
    """(output lines, error) for one query; a query that cannot run yields no lines."""
    try:
        if opts.fmt == "jsonl":
            query = parse_query(text) if opts.syntax else plain_query(text)
            per_source = 1 if opts.level == "document" else opts.search.per_source
            found = index.search(query, opts.k, opts.search.with_(per_source=per_source))
            return json.dumps({"id": qid, **found.to_dict()}, ensure_ascii=False) + "\n", None
        pairs = ranked_ids(index, text, opts)
    except CitesearchError as exc:
        return "", f"query {qid}: {exc}"
    if opts.fmt == "tsv":
        return "".join(f"{qid}\t{d}\t{i}\t{_score(s)}\n" for i, (d, s) in enumerate(pairs, 1)), None
    assert opts.run_name is not None
    return trec_lines(qid, pairs, opts.run_name), None


_worker: tuple[Index, BatchOptions] | CitesearchError | None = None


def _init_worker(path: str, opts: BatchOptions, compiled: bool | None, parent: int) -> None:
    global _worker
    die_with(parent)
    try:
        _worker = (Index.open(path, compiled), opts)
    except CitesearchError as exc:
        # Raised here, it would make the pool start another worker, forever; raised by
        # the first task, it reaches the caller as one error.
        _worker = exc


def _work(chunk: list[tuple[str, str]]) -> list[tuple[str, str | None]]:
    if _worker is None:
        raise RuntimeError("batch worker not initialized")
    if isinstance(_worker, CitesearchError):
        raise _worker
    index, opts = _worker
    return [run_one(index, qid, text, opts) for qid, text in chunk]


def run_queries(
    index_path: str | os.PathLike[str],
    queries: list[tuple[str, str]],
    opts: BatchOptions,
    workers: int = 0,
    chunk: int = 16,
    compiled: bool | None = None,
    scheduler: str | None = None,
) -> Iterator[tuple[str, str | None]]:
    """(lines, error) per query, in order. ``workers=0`` uses every core. ``compiled``
    ranks in compiled code (see :meth:`Index.open`); by default when the run is large
    enough to pay for loading it (:func:`worth_compiling`). ``opts`` are resolved against
    the index (:meth:`BatchOptions.resolve`): its method, and the run tag from it.
    ``scheduler``: run the chunks on the Dask cluster at that address instead
    (``citesearch.cluster``; the index must be at a path its workers can read)."""
    workers = workers or os.cpu_count() or 1
    chunks = [queries[i : i + chunk] for i in range(0, len(queries), chunk)]
    manifest = read_manifest(index_path)
    opts = opts.resolve(manifest)
    if compiled is None and not kernels.AVAILABLE:  # else the kernel built at install ranks: nothing to load
        rankings = (2 if opts.search.method == "hybrid" else 1) + (opts.search.expand is not None)
        compiled = worth_compiling(len(queries) * rankings, manifest.counts.passages)
    if scheduler:
        from ..cluster import run_on_cluster

        yield from run_on_cluster(scheduler, str(index_path), opts, compiled, chunks)
        return
    # Loaded here, once, so that the forked workers share it; if numba cannot load,
    # rank with numpy, which returns the same.
    if compiled and not kernels.AVAILABLE:
        compiled = _load_compiled()
    if workers == 1 or len(chunks) == 1:
        with Index.open(index_path, compiled) as index:
            for qid, text in queries:
                yield run_one(index, qid, text, opts)
        return
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(str(index_path), opts, compiled, os.getpid())) as pool:
        for results in pool.imap(_work, chunks):
            yield from results


# Loading numba and the compiled ranking costs about 0.75 s, once. At a million passages,
# two workers, it saved about 0.35 ms of wall time a BM25 query and 1 ms a hybrid one
# (two rankings, 1000 deep), so it pays from about 2000 rankings; the saving shrinks
# with the index (its lists are shorter).
COMPILED_FROM = 2_000_000_000  # rankings x passages


def worth_compiling(n_rankings: int, n_passages: int) -> bool:
    """Whether ``n_rankings`` (queries, twice for hybrid) over ``n_passages`` pay for
    loading the compiled ranking."""
    return n_rankings * n_passages >= COMPILED_FROM


def _load_compiled() -> bool:
    try:
        from .compiled import warm_up

        warm_up()
    except Exception:  # noqa: BLE001 - numba missing or broken on this platform
        return False
    return True


def write_atomically(path: str | os.PathLike[str], pieces: Iterator[str], probe: bool = False) -> int:
    """Write ``pieces`` to a temporary file beside ``path``, then rename it; returns bytes.

    The file gets the permissions of the one it replaces, else those a new file gets
    (0666 less the umask), not mkstemp's 0600. A path that cannot be written (its folder
    cannot be made, a full disk...) is a :class:`CitesearchError`, raised before
    ``pieces`` is first asked for when it can be; the temporary file is removed. With
    ``probe``, only that is checked: nothing is written."""
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir():
            raise IsADirectoryError(errno.EISDIR, "is a directory")
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    if probe:
        os.close(fd)
        os.unlink(tmp)
        return 0
    size = 0
    try:
        os.fchmod(fd, target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask())
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for piece in pieces:
                f.write(piece)
                size += len(piece)
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError):
            raise _cannot_write(path, exc) from None
        raise
    return size


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise :class:`CitesearchError` now if :func:`write_atomically` could not write
    ``path`` (by making its folder and a temporary file there, as it will): before the
    work whose result the file is to hold."""
    write_atomically(path, iter(()), probe=True)


def _cannot_write(path: str | os.PathLike[str], exc: OSError) -> CitesearchError:
    return CitesearchError(f"{os.fspath(path)}: cannot write: {exc.strerror or exc}")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
