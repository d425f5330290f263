"""Sharded indexes: one collection split into N ordinary indexes, built and searched as one.

A sharded index is a folder like any index: ``manifest.json`` is its commit point and
names a generation folder. Its manifest is the whole collection's (counts, average
passage length, settings, tuned search settings) and says how many shards there are;
the generation folder holds them, each an ordinary index folder, and ``shards.json``::

    DIR/manifest.json            the collection: N, avgdl, settings; "shards": 4
    DIR/g000002/shards.json      each shard's folder name and passage count
    DIR/g000002/shard-000/ ...   an index of the first quarter of the input, in order

**Exact global statistics, by a two-phase build.** BM25's idf and TF-IDF's idf (and with
it every passage's TF-IDF norm) depend on the whole collection: N, each term's document
frequency, the average passage length. So:

1. each shard is built on its own (:func:`_build_shard`, a task) from a contiguous part
   of the input, in input order: whole files, or byte ranges of a JSONL collection, cut
   at line starts (:func:`plan`);
2. the shards' vocabularies are merged (:func:`_merge`, a task): every term string gets
   one global id (in order of first appearance, shard after shard), its df and collection
   frequency (In_expC2's) summed over the shards; N and the average length are summed up too;
3. every shard is weighed again (:func:`_reweigh`, a task per shard) with the global
   statistics, by the build's own code (``builder._weigh`` given the collection's df and
   N), its postings renumbered to the global term ids and its store given the global
   vocabulary (forms and terms with their global df).

Each shard then holds exactly the weights a single index of the whole input holds for
its passages, under the same term ids in every shard, so a query is analyzed once and
each shard's top-k is a slice of the single index's scores; gathering them (ties by
global passage row: the shards are numbered in input order) gives the single index's
ranking (``search/sharded.py``). The alternative, applying global statistics at query
time, would give up the precomputed weights and the pruning built on them.

The tasks run in local processes or on a Dask cluster (``citesearch.cluster``); every
task reads and writes the index folder itself, so on a cluster it must be on storage
that every worker, and the client, see at the same path.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..corpus import DocumentReader, InputFile, JsonlLines, LoadReport
from ..errors import CitesearchError, NoInputError
from . import builder, dfr
from .locking import writer_lock
from .manifest import Counts, FileEntry, Manifest, read_manifest, write_manifest
from .storage import (
    PASSAGE_ARRAYS,
    IndexReader,
    IndexWriter,
    _current_data,
    _fsync,
    _next_generation,
    _remove_debris,
    _remove_generation,
    check_replaceable,
    sha256_of,
    writing,
)

log = logging.getLogger(__name__)

SHARDS_FILE = "shards.json"
VOCABULARY = "vocabulary.sqlite"
MAX_SHARDS = 1024
_LINE_LIMIT = 64 << 20  # a JSONL line longer than this is an error (as corpus.loading's)
_SNIFF = 8192


def shard_name(i: int) -> str:
    return f"shard-{i:03d}"


# -- the plan: which part of the input each shard reads -------------------------------------


@dataclass(frozen=True)
class Part:
    """A file, or the lines of a JSONL file that start in the bytes ``[start, end)``."""

    file: InputFile
    start: int = 0
    end: int | None = None  # None: the whole file

    @property
    def whole(self) -> bool:
        return self.end is None


def _splittable(f: InputFile) -> bool:
    """A plain (not gzipped) JSONL file that is not binary can be cut at line starts."""
    if f.path.name.lower().endswith(".gz") or f.suffix != ".jsonl":
        return False
    try:
        with open(f.path, "rb") as fh:
            return b"\x00" not in fh.read(_SNIFF)
    except OSError:
        return False


def plan(files: Sequence[InputFile], n: int) -> list[list[Part]]:
    """``n`` contiguous parts of the input, in order, of about equal size in bytes: a
    plain JSONL file is cut at the boundaries that fall inside it; any other file goes
    whole to the shard its middle falls in."""
    sizes = []
    for f in files:
        try:
            sizes.append(os.stat(f.path).st_size)
        except OSError:
            sizes.append(0)  # read (and reported) by whichever shard gets it
    total = sum(sizes) or 1
    shards: list[list[Part]] = [[] for _ in range(n)]
    at = 0
    for f, size in zip(files, sizes):
        if size and _splittable(f):
            for k in range(n):
                lo, hi = max(at, total * k / n), min(at + size, total * (k + 1) / n)
                if hi > lo:
                    start = int(lo) - at if k else 0
                    end = int(hi) - at if k < n - 1 and int(hi) < at + size else size
                    if end > start:
                        shards[k].append(Part(f, start, end))
        else:
            shards[min(n - 1, int((at + size / 2) * n / total))].append(Part(f))
        at += size
    return shards


def _newlines_before(fh, position: int) -> int:
    fh.seek(0)
    count, left = 0, position
    while left > 0:
        block = fh.read(min(left, 1 << 22))
        if not block:
            break
        count += block.count(b"\n")
        left -= len(block)
    return count


def _range_lines(part: Part, report: LoadReport) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of the non-blank lines that start in the part's byte range
    (the line that holds ``start`` belongs to the part before), as corpus.loading reads
    a whole file's."""
    f = part.file
    assert part.end is not None
    lineno = 0
    try:
        with open(f.path, "rb") as fh:
            if part.start > 0:
                lineno = _newlines_before(fh, part.start - 1)
                fh.seek(part.start - 1)
                if fh.readline().endswith(b"\n"):
                    lineno += 1
            else:
                report.files += 1
            position = fh.tell()
            while position < part.end:
                line = fh.readline(_LINE_LIMIT + 1)
                if not line:
                    break
                lineno += 1
                if lineno == 1:
                    line = line.removeprefix(b"\xef\xbb\xbf")
                if len(line) > _LINE_LIMIT and not line.endswith(b"\n"):
                    while (rest := fh.readline(1 << 20)) and not rest.endswith(b"\n"):
                        pass
                    report.error(f.display, f"line longer than {_LINE_LIMIT >> 20} MB; skipped", lineno)
                elif line.strip():
                    yield lineno, line
                position = fh.tell()
    except OSError as exc:
        report.error(f.display, f"cannot read past line {lineno}: {exc.strerror or exc}")


class ShardReader(DocumentReader):
    """The documents of one shard's parts of the input, in order, batched as
    :class:`DocumentReader` batches them (JSONL lines left for the build's workers)."""

    def __init__(self, parts: Sequence[Part], report: LoadReport):
        super().__init__(list(dict.fromkeys(p.file for p in parts)), report)
        self.parts = list(parts)

    def batches(self, size: int) -> Iterator[JsonlLines | list]:
        whole: list[InputFile] = []
        for part in self.parts:
            if part.whole:
                whole.append(part.file)
                continue
            if whole:
                yield from self._whole(whole, size)
                whole = []
            numbers: list[int] = []
            lines: list[bytes] = []
            for lineno, line in _range_lines(part, self.report):
                numbers.append(lineno)
                lines.append(line)
                if len(lines) == size:
                    yield JsonlLines(part.file, numbers, lines)
                    numbers, lines = [], []
            if lines:
                yield JsonlLines(part.file, numbers, lines)
        if whole:
            yield from self._whole(whole, size)

    def _whole(self, files: list[InputFile], size: int) -> Iterator[JsonlLines | list]:
        reader = DocumentReader(files, self.report)
        reader.ids = self.ids  # one admission for the shard
        yield from reader.batches(size)


# -- the shards -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShardInfo:
    name: str
    passages: int
    source_rows: int  # the shard's highest source row + 1: its span of global source rows


def read_shards(folder: str | os.PathLike[str], manifest: Manifest) -> list[ShardInfo]:
    """The shards of the sharded index at ``folder`` (whose manifest is ``manifest``)."""
    path = Path(folder) / manifest.data / SHARDS_FILE
    try:
        data = json.loads(path.read_text())
        shards = [ShardInfo(str(s["name"]), int(s["passages"]), int(s["source_rows"])) for s in data["shards"]]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        from ..errors import IndexCorrupt

        raise IndexCorrupt(f"index at {folder} is damaged: {SHARDS_FILE} unreadable ({exc})") from None
    if len(shards) != manifest.shards or any("/" in s.name or s.name in ("", ".", "..") for s in shards):
        from ..errors import IndexCorrupt

        raise IndexCorrupt(f"index at {folder} is damaged: {SHARDS_FILE} does not match its manifest")
    return shards


def shard_paths(folder: str | os.PathLike[str], manifest: Manifest) -> list[Path]:
    return [Path(folder) / manifest.data / s.name for s in read_shards(folder, manifest)]


# -- the tasks --------------------------------------------------------------------------------


def _build_shard(
    target: str, parts: list[Part], settings: builder.IndexSettings, method: str, strict: bool
) -> tuple[builder.BuildSummary, LoadReport]:
    """Phase 1, a task: an ordinary index of the shard's part of the input."""
    reader = ShardReader(parts, LoadReport(strict=strict))
    try:
        summary = builder.build_index(reader, target, settings, method=method, workers=1)
    except NoInputError as exc:
        raise NoInputError(
            f"shard {Path(target).name} has nothing to index ({exc})",
            hint="Use fewer --shards for this little input.",
        ) from None
    return summary, reader.report


def _duplicates(targets: list[str]) -> dict[str, list[tuple[int, str, str]]]:
    """A task: the documents of each shard whose id an earlier shard has, as (row, id,
    path): read where the shards are, not sent to the client (a million ids are 60 MB)."""
    seen: set[str] = set()
    found: dict[str, list[tuple[int, str, str]]] = {}
    for target in targets:
        with IndexReader(target) as reader:
            ids = [doc_id for (doc_id,) in reader.db.execute("SELECT id FROM sources")]
            repeated = [i for i in ids if i in seen]
            seen.update(ids)
            if repeated:
                found[target] = reader.db.execute(
                    f"SELECT row, id, path FROM documents WHERE id IN ({','.join('?' * len(repeated))})", repeated
                ).fetchall()
    return found


def _drop_sources(target: str, rows: list[int]) -> None:
    """Remove documents (whose ids an earlier shard has: the first with an id wins)."""
    from .updating import _Changes, apply_changes

    with IndexReader(target) as reader:
        apply_changes(Path(target), reader, _Changes(removed=set(rows)), workers=1)


@dataclass(frozen=True)
class Collection:
    """The whole collection's statistics, from its shards (:func:`_merge`)."""

    terms: int
    passages: int
    tokens: int
    postings: int

    @property
    def avgdl(self) -> float:
        return self.tokens / self.passages


def _merge(targets: list[str], out: str) -> Collection:
    """Phase 2, a task: the global vocabulary of the shards (written to ``out``: terms
    with their global ids and df, every form's global term id) and the collection's
    counts."""
    ids: dict[str, int] = {}
    df: list[int] = []
    cf: list[int] = []
    forms: dict[str, int] = {}
    passages = tokens = postings = 0
    for target in targets:
        with IndexReader(target) as reader:
            local = {}
            local_cf = dfr.collection_frequency(reader["postings_indptr"], reader["postings_tf"]).astype(np.int64)
            for term_id, term, d in reader.db.execute("SELECT id, term, df FROM terms ORDER BY id"):
                g = ids.setdefault(term, len(ids))
                if g == len(df):
                    df.append(0)
                    cf.append(0)
                df[g] += d
                cf[g] += int(local_cf[term_id])
                local[term_id] = g
            for form, term_id in reader.db.execute("SELECT form, term FROM forms"):
                if form not in forms:
                    forms[form] = -1 if term_id < 0 else local[term_id]
            passages += reader.manifest.counts.passages
            tokens += reader.manifest.counts.tokens
            postings += reader.manifest.counts.postings
    if os.path.exists(out):
        os.unlink(out)
    db = sqlite3.connect(out)
    db.executescript(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
        "CREATE TABLE terms (id INTEGER PRIMARY KEY, term TEXT NOT NULL, df INTEGER NOT NULL, cf INTEGER NOT NULL);"
        "CREATE TABLE forms (form TEXT PRIMARY KEY, term INTEGER NOT NULL) WITHOUT ROWID;"
    )
    db.executemany("INSERT INTO terms VALUES (?, ?, ?, ?)", ((g, t, df[g], cf[g]) for t, g in ids.items()))
    db.executemany("INSERT INTO forms VALUES (?, ?)", forms.items())
    db.commit()
    db.close()
    return Collection(len(ids), passages, tokens, postings)


def _reweigh(target: str, vocabulary: str, collection: Collection) -> None:
    """Phase 3, a task: the shard with the global vocabulary and term ids, weighed with
    the collection's statistics (``builder._weigh``), committed as its new generation."""
    from scipy.sparse import csr_matrix

    from .updating import settings_of

    with IndexReader(target) as reader:
        settings = settings_of(reader)
        vocab = sqlite3.connect(Path(vocabulary).resolve().as_uri() + "?mode=ro", uri=True)
        global_ids = dict(vocab.execute("SELECT term, id FROM terms"))
        stats = np.array(vocab.execute("SELECT df, cf FROM terms ORDER BY id").fetchall(), dtype=np.int64)
        global_df, global_cf = stats.reshape(-1, 2).T.copy()
        vocab.close()
        indptr, passages, tf = reader["postings_indptr"], reader["postings_passages"], reader["postings_tf"]
        to_global = np.zeros(len(indptr) - 1, dtype=np.int64)
        for term_id, term in reader.db.execute("SELECT id, term FROM terms"):
            to_global[term_id] = global_ids[term]
        n = reader.n_passages
        terms = np.repeat(to_global, np.diff(indptr))
        matrix = csr_matrix((tf.astype(np.int32), (terms, passages)), shape=(len(global_df), n))
        if not matrix.has_canonical_format:
            raise RuntimeError("renumbered postings are not in term-major passage order")
        postings = builder._Postings(matrix.indptr.astype(np.int64), matrix.indices.astype(np.int32), matrix.data)
        passages = reader.passage_arrays()
        lengths = passages.length
        with writing(target, base=reader) as writer:
            writer.replace_vocabulary(vocabulary)
            builder._save_postings(writer, postings, passages)
            builder._weigh(
                writer, settings, postings, lengths, collection.avgdl,
                builder.CollectionStats(global_df, collection.passages, global_cf),
            )
            m = reader.manifest
            counts = Counts(m.counts.sources, n, len(global_df), len(postings.tf), m.counts.tokens)
            writer.commit(replace(m, counts=counts, avg_passage_length=collection.avgdl))


def _shard_info(target: str) -> ShardInfo:
    with IndexReader(target) as reader:
        last = reader.db.execute("SELECT max(row) FROM sources").fetchone()[0]
        return ShardInfo(Path(target).name, reader.n_passages, 0 if last is None else last + 1)


# -- running tasks ----------------------------------------------------------------------------


Map = Callable[..., list]
"""``map(fn, *iterables)``: ``[fn(*args) ...]`` in order, run wherever the caller chose
(local processes or a Dask cluster: ``citesearch.cluster``)."""


def _serial(fn, *iterables) -> list:
    return [fn(*args) for args in zip(*iterables)]


# -- the build ----------------------------------------------------------------------------------


def build_sharded(
    files: Sequence[InputFile],
    target: str | os.PathLike[str],
    shards: int,
    settings: builder.IndexSettings | None = None,
    method: str = "hybrid",
    report: LoadReport | None = None,
    run: Map = _serial,
    strict: bool = False,
) -> builder.BuildSummary:
    """Index ``files`` into ``shards`` shard indexes under ``target`` (see the module's
    docstring), replacing any index there; ``run`` maps the tasks (default: here, one
    after another)."""
    if not 1 <= shards <= MAX_SHARDS:
        raise CitesearchError(f"--shards must be between 1 and {MAX_SHARDS}, not {shards}")
    settings = settings or builder.IndexSettings()
    report = report if report is not None else LoadReport(strict=strict)
    started = time.perf_counter()
    target = Path(target)
    check_replaceable(target)
    created = not target.exists()
    try:
        with writer_lock(target):
            previous = _current_data(target)
            _remove_debris(target, previous)
            generation = _next_generation(target)
            folder = target / generation
            folder.mkdir()
            try:
                summary = _build_generation(files, folder, shards, settings, method, report, run, strict, started)
                for p in folder.iterdir():
                    if p.is_file():
                        _fsync(p)
                _fsync(folder)
                shard_manifest = read_manifest(folder / shard_name(0))
                manifest = replace(
                    shard_manifest,
                    counts=summary[1],
                    avg_passage_length=summary[2],
                    data=generation,
                    shards=shards,
                    build_seconds=round(time.perf_counter() - started, 3),
                    files={SHARDS_FILE: FileEntry((folder / SHARDS_FILE).stat().st_size,
                                                  sha256_of(folder / SHARDS_FILE))},
                )
                write_manifest(target, manifest)  # the commit
            except BaseException:
                import shutil

                shutil.rmtree(folder, ignore_errors=True)
                raise
            _remove_generation(target, previous)
    except BaseException:
        if created and not (target / "manifest.json").exists():
            import shutil

            shutil.rmtree(target, ignore_errors=True)
        raise
    counts = summary[1]
    return builder.BuildSummary(counts.sources, counts.passages, counts.terms, counts.postings,
                                time.perf_counter() - started)


def _build_generation(
    files, folder: Path, shards: int, settings, method, report: LoadReport, run: Map, strict: bool, started: float
) -> tuple[list[ShardInfo], Counts, float]:
    targets = [str(folder / shard_name(i)) for i in range(shards)]
    parts = plan(files, shards)
    if any(not p for p in parts):
        raise CitesearchError(
            f"the input ({len(files)} file(s)) cannot be split into {shards} shards",
            hint="Use fewer --shards, or split the input into more files.",
        )
    # 1. each shard on its own
    built = run(_build_shard, targets, parts, [settings] * shards, [method] * shards, [strict] * shards)
    for _, shard_report in built:
        _merge_report(report, shard_report)
    log.debug("phase 1 (shards built): %.1f s", time.perf_counter() - started)
    # The first document with an id wins across shards too.
    drops = run(_duplicates, [targets])[0]
    for rows in drops.values():
        report.duplicates += [f"{doc_id} ({path})" for _, doc_id, path in rows]
        report.documents -= len(rows)
    if drops:
        run(_drop_sources, list(drops), [[row for row, _, _ in rows] for rows in drops.values()])
    # 2. the global vocabulary and statistics
    vocabulary = str(folder / VOCABULARY)
    collection = run(_merge, [targets], [vocabulary])[0]
    log.debug("phase 2 (vocabularies merged): %.1f s", time.perf_counter() - started)
    # 3. every shard weighed with them
    run(_reweigh, targets, [vocabulary] * shards, [collection] * shards)
    os.unlink(vocabulary)
    log.debug("phase 3 (shards weighed): %.1f s", time.perf_counter() - started)
    infos = run(_shard_info, targets)
    write_shards_file(folder, infos)
    sources = sum(n for n in (_count_sources(t) for t in targets))
    counts = Counts(sources, collection.passages, collection.terms, collection.postings, collection.tokens)
    return infos, counts, collection.avgdl


def _count_sources(target: str) -> int:
    return read_manifest(target).counts.sources


def write_shards_file(folder: Path, infos: list[ShardInfo]) -> None:
    data = {"shards": [{"name": s.name, "passages": s.passages, "source_rows": s.source_rows} for s in infos]}
    (folder / SHARDS_FILE).write_text(json.dumps(data, indent=2) + "\n")


def _merge_report(into: LoadReport, part: LoadReport) -> None:
    into.files += part.files
    into.documents += part.documents
    into.errors.extend(part.errors)
    into.binary.extend(part.binary)
    into.empty.extend(part.empty)
    into.empty_records.extend(part.empty_records)
    for display, n in part.invalid_utf8.items():
        into.invalid_utf8[display] = into.invalid_utf8.get(display, 0) + n
    into.duplicates.extend(part.duplicates)
    for name in ("outside_links", "special"):
        getattr(into, name).extend(getattr(part, name, []))
    if into.first_error is None:
        into.first_error = part.first_error


# -- updates ------------------------------------------------------------------------------------


class _ShardedStore:
    """What ``updating.find_changes`` and ``updating.find_removals`` ask of an index, over
    every shard of a sharded one; a source is named (shard, row)."""

    def __init__(self, readers: list[IndexReader]):
        self.readers = readers

    def inputs(self) -> dict[str, tuple[str, int, int, str]]:
        """The input files every shard read (a JSONL file cut between shards is in each
        of them, with the same row: an update writes it to all)."""
        merged: dict[str, tuple[str, int, int, str]] = {}
        for reader in self.readers:
            for key, row in reader.inputs().items():
                if merged.get(key, row) != row:  # the shards disagree: read it again
                    row = (row[0], -1, -1, "")
                merged[key] = row
        return merged

    def stored_documents(self, path: str) -> dict[str, tuple[tuple[int, int], tuple[str | None, str, str]]]:
        out = {}
        for i, reader in enumerate(self.readers):
            for doc_id, (row, fields) in reader.stored_documents(path).items():
                out[doc_id] = ((i, row), fields)
        return out

    def source_rows(self, *, doc_id: str | None = None, path: str | None = None) -> set[tuple[int, int]]:
        return {(i, r) for i, reader in enumerate(self.readers) for r in reader.source_rows(doc_id=doc_id, path=path)}


@dataclass
class _ShardUpdate:
    """One shard's part of an update, between its two passes."""

    reader: IndexReader
    writer: IndexWriter
    removed: list[int]
    added_sources: int = 0
    passages: int = 0
    tokens: int = 0
    postings: int = 0
    df: np.ndarray | None = None  # the shard's own document frequencies, by global term id
    cf: np.ndarray | None = None  # and its collection frequencies
    done: bool = False  # committed, or aborted


def apply_sharded_changes(
    target: Path, manifest: Manifest, readers: list[IndexReader], changes, workers: int = 0
) -> Counts:
    """Write the sharded index at ``target`` with ``changes`` (``updating._Changes`` whose
    sources are (shard, row)) applied, as a new generation of every shard, and commit it
    (see "Updates" in the module's docstring)."""
    from .updating import _GrowingMapper, _update_vocabulary, settings_of

    settings = settings_of(readers[0])
    last = len(readers) - 1
    removed: list[list[int]] = [[] for _ in readers]
    for shard, row in changes.removed:
        removed[shard].append(row)
    # New terms get ids after the collection's last (every shard's postings span them all),
    # as in a single index; the last shard, which gets the new documents, numbers them.
    mapper = _GrowingMapper(readers[last])
    old_df = np.zeros(mapper.first_new, dtype=np.int64)
    for reader in readers:
        old_df += np.diff(reader.indptr)
    if changes.documents:
        builder._import_nltk(mapper)
    _remove_debris(target, manifest.data)
    generation = _next_generation(target)
    folder = target / generation
    folder.mkdir()
    updates: list[_ShardUpdate | None] = [None] * len(readers)
    try:
        with builder._collector_paused():
            # 1. Each shard's passages: the removed go, and the last shard gets the new
            # documents after its own; the frequencies are merged and saved, and each
            # shard's df counted (the last first: its new terms are everybody's).
            for i in [last, *range(last)]:
                updates[i] = _renumbered_shard(
                    readers[i], folder / shard_name(i), sorted(removed[i]),
                    changes.documents if i == last else [], mapper, settings, workers,
                )
            kept = [u for u in updates if u is not None and u.passages]
            for u in updates:
                if u is not None and not u.passages:  # every document of the shard removed: the shard goes
                    u.writer.abort()
                    u.done = True
            if not kept:
                raise CitesearchError(
                    f"the update would leave the index at {target} with no passages",
                    hint="Remove the index folder instead, or add documents.",
                )
            # 2. The collection's statistics, from every shard's.
            df = np.sum([u.df for u in kept], axis=0)
            cf = np.sum([u.cf for u in kept], axis=0)
            n = sum(u.passages for u in kept)
            tokens = sum(u.tokens for u in kept)
            avgdl = tokens / n
            terms = int((df > 0).sum())
            # 3. Every shard weighed with them, its store given the collection's vocabulary.
            infos = []
            for i, u in enumerate(updates):
                if u is None or not u.passages:
                    continue
                _update_vocabulary(u.writer, u.reader, mapper, df, old_df)
                known = u.reader.inputs()
                u.writer.set_inputs([row for row in changes.inputs if row[0] in known or i == last])
                u.writer.forget_inputs(changes.forget)
                saved = u.writer.tmp
                postings = builder._Postings(
                    np.load(saved / "postings_indptr.npy").astype(np.int64),
                    np.load(saved / "postings_passages.npy").astype(np.int32),
                    np.load(saved / "postings_tf.npy").astype(np.int32),
                )
                lengths = np.load(saved / "passage_length.npy")
                builder._weigh(u.writer, settings, postings, lengths, avgdl, builder.CollectionStats(df, n, cf))
                del postings, lengths
                m = u.reader.manifest
                counts = Counts(m.counts.sources - len(u.removed) + u.added_sources, u.passages, terms, u.postings,
                                u.tokens)
                u.writer.commit(replace(m, counts=counts, avg_passage_length=avgdl))
                u.done = True
                infos.append(_shard_info(str(folder / shard_name(i))))
        write_shards_file(folder, infos)
        _fsync(folder / SHARDS_FILE)
        _fsync(folder)
        counts = Counts(sum(_count_sources(str(folder / s.name)) for s in infos), n, terms,
                        sum(u.postings for u in kept), tokens)
        entry = FileEntry((folder / SHARDS_FILE).stat().st_size, sha256_of(folder / SHARDS_FILE))
        write_manifest(target, replace(manifest, counts=counts, avg_passage_length=avgdl, data=generation,
                                       shards=len(infos), files={SHARDS_FILE: entry}))  # the commit
    except BaseException:
        for u in updates:
            if u is not None and not u.done:
                u.writer.abort()
        import shutil

        shutil.rmtree(folder, ignore_errors=True)
        raise
    _remove_generation(target, manifest.data)
    return counts


_UNCHANGED = ("postings_passages", "postings_tf", *PASSAGE_ARRAYS)


def _renumbered_shard(
    reader: IndexReader, target: Path, removed: list[int], documents: list, mapper, settings, workers: int
) -> _ShardUpdate:
    """Pass 1 of an update, for one shard: a new generation of it (its store copied) with
    ``removed`` gone and ``documents`` added, its postings saved, its df counted."""
    from .updating import _merged, add_documents

    writer = IndexWriter(target, base=reader)
    u = _ShardUpdate(reader, writer, removed)
    try:
        if not removed and not documents:
            # Its passages are as they were: their arrays are linked, not written again;
            # only the term index grows by the new terms (empty here).
            indptr = np.asarray(reader.indptr, dtype=np.int64)
            indptr = np.concatenate([indptr, np.full(mapper.n_terms + 1 - len(indptr), indptr[-1])])
            for name in _UNCHANGED:
                writer.link_array(name, reader.data_dir)
            writer.save_array("postings_indptr", indptr)
            u.passages, u.tokens = reader.n_passages, int(reader["passage_length"].sum(dtype=np.int64))
            u.postings, u.df = len(reader.postings), np.diff(indptr)
            u.cf = dfr.collection_frequency(indptr, reader["postings_tf"])
            return u
        writer.remove_sources(removed)
        live = ~np.isin(reader["passage_source"], np.array(removed, dtype=np.int64))
        first = reader.next_source_row()
        rows, term_ids = builder._StoreRows(writer), builder._TermIds(mapper)
        if documents:
            rows, term_ids = add_documents(writer, mapper, documents, settings, first, int(live.sum()), workers)
            u.added_sources = rows.sources - first
        postings, passages = _merged(reader, live, rows, term_ids, mapper.n_terms)
        lengths = passages.length
        u.passages, u.tokens, u.postings = len(lengths), int(lengths.sum(dtype=np.int64)), len(postings.tf)
        u.df = np.diff(postings.indptr)
        u.cf = dfr.collection_frequency(postings.indptr, postings.tf)
        if u.passages:
            builder._save_postings(writer, postings, passages)
        return u
    except BaseException:
        writer.abort()
        raise


def _open_shards(target: Path, manifest: Manifest) -> list[IndexReader]:
    readers: list[IndexReader] = []
    try:
        for path in shard_paths(target, manifest):
            readers.append(IndexReader(path))
    except BaseException:
        for r in readers:
            r.close()
        raise
    return readers


def _updated(target: str | os.PathLike[str], find, workers: int = 0):
    """Run an update of the sharded index at ``target``: ``find(store)`` gives the
    changes (and the summary so far); they are applied to every shard and committed."""
    started = time.perf_counter()
    target = Path(target)
    with writer_lock(target):
        manifest = read_manifest(target)
        readers = _open_shards(target, manifest)
        try:
            changes, summary, unchanged = find(_ShardedStore(readers))
            if changes:
                counts = apply_sharded_changes(target, manifest, readers, changes, workers)
                summary.written = True
                summary.unchanged = counts.sources - unchanged
            else:
                summary.unchanged = manifest.counts.sources
        finally:
            for r in readers:
                r.close()
    summary.seconds = time.perf_counter() - started
    return summary


def update_sharded(
    target: str | os.PathLike[str],
    paths: Sequence[str | os.PathLike[str]],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    report: LoadReport | None = None,
    workers: int = 0,
):
    """``updating.update_index`` for a sharded index: the changes found across every
    shard, new and changed documents added to the last shard, every shard weighed again."""
    from .updating import UpdateSummary, find_changes

    report = report if report is not None else LoadReport()

    def find(store):
        changes, _ = find_changes(store, paths, include, exclude, report)  # type: ignore[arg-type]
        summary = UpdateSummary(added=changes.added, updated=changes.updated)
        summary.removed = len(changes.removed) - changes.updated
        return changes, summary, changes.added + changes.updated

    return _updated(target, find, workers)


def remove_from_sharded(target: str | os.PathLike[str], names: Sequence[str]):
    """``updating.remove_documents`` for a sharded index."""
    from .updating import UpdateSummary, find_removals

    def find(store):
        changes, missing = find_removals(store, names)  # type: ignore[arg-type]
        return changes, UpdateSummary(removed=len(changes.removed), missing=missing), 0

    return _updated(target, find)


def verify_sharded(folder: str | os.PathLike[str], manifest: Manifest | None = None) -> list[str]:
    """Names of the files of the sharded index at ``folder`` that do not match their
    manifests: the top manifest itself, ``shards.json``, and every shard's
    (``shard-001/tfidf_weights.npy``; a shard that cannot be opened, with the reason)."""
    from .manifest import MANIFEST, manifest_intact

    folder = Path(folder)
    manifest = manifest or read_manifest(folder)
    bad = [] if manifest_intact(folder) else [MANIFEST]
    bad += sorted({SHARDS_FILE} - set(manifest.files))
    for name, meta in manifest.files.items():
        p = folder / manifest.data / name
        if not p.is_file() or sha256_of(p) != meta.sha256:
            bad.append(name)
    try:
        infos = read_shards(folder, manifest)
    except CitesearchError:
        return bad + ([] if SHARDS_FILE in bad else [SHARDS_FILE])
    for info in infos:
        path = folder / manifest.data / info.name
        try:
            with IndexReader(path) as reader:
                bad += [f"{info.name}/{name}" for name in reader.verify()]
        except CitesearchError as exc:
            bad.append(f"{info.name} ({exc})")
    return bad


class ShardedSummary:
    """What ``citesearch info`` shows of a sharded index, read from its manifests alone
    (a damaged shard does not keep it from being summarized and verified)."""

    def __init__(self, folder: str | os.PathLike[str]):
        self.path = Path(folder)
        self.manifest = read_manifest(self.path)
        self.shards = read_shards(self.path, self.manifest)

    def _manifests(self) -> list[Manifest | None]:
        out: list[Manifest | None] = []
        for s in self.shards:
            try:
                out.append(read_manifest(self.path / self.manifest.data / s.name))
            except CitesearchError:
                out.append(None)
        return out

    @property
    def size(self) -> int:
        """Bytes of every shard's files (as their manifests list them)."""
        return sum(f.bytes for m in self._manifests() if m is not None for f in m.files.values())

    def describe(self) -> str:
        return ", ".join(f"{s.name} {s.passages:,}" for s in self.shards) + " passages"

    def verify(self) -> list[str]:
        return verify_sharded(self.path, self.manifest)

    def close(self) -> None:
        pass
