"""The index on disk: a folder of plain files, never pickles.

``manifest.json``
    format version, analyzer / passage / scoring settings, counts and file checksums.
``store.sqlite``
    ``sources`` (one row per document, with its full text; its title is NULL when it is
    the whole text, so a one-line document is stored once), ``terms`` (term, document
    frequency) and ``forms``
    (surface form → term id, stop words as -1): what the query path needs instead of
    a stemmer.
``*.npy``
    a term-major compressed sparse matrix over passages, shared by both scorers:
    ``postings_indptr`` (terms + 1), ``postings_passages`` (passage row ids),
    ``postings_tf``, ``bm25_weights``, ``tfidf_weights`` and (unless the manifest has no
    ``dfr``) ``dfr_weights`` (one value per posting); ``passage_source``,
    ``passage_length``, ``passage_ordinal``, ``passage_start`` and ``passage_end`` (one
    value per passage: :class:`PassageArrays`; before format 6 the last three were the
    store's table ``passages``); ``tfidf_idf`` (one value per term);
    ``bm25_impacts``, ``tfidf_impacts`` and ``dfr_impacts``, each long list's heaviest
    postings, indexed by ``impact_indptr`` (see ``impacts.py``).
    All are memory-mapped when read, as plain arrays.

The store also lists the ``inputs`` read (path, size, mtime, checksum), for updates.

Each build or update writes a new generation folder inside the index folder and then
replaces ``manifest.json``, which names it (:class:`IndexWriter`): a failed or killed
build leaves the previous index as it was.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from itertools import chain
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import CitesearchError, IndexClosed, IndexCorrupt
from .locking import LOCK, writer_lock
from .manifest import FORMAT_VERSION, MANIFEST, FileEntry, Manifest, manifest_intact, read_manifest, write_manifest
from .packing import Packer, Unpacker

DEFAULT_INDEX_DIR = ".citesearch"
STORE = "store.sqlite"
ARRAYS = (
    "postings_indptr",
    "postings_passages",
    "postings_tf",
    "bm25_weights",
    "tfidf_weights",
    "tfidf_idf",
    "impact_indptr",
    "bm25_impacts",
    "tfidf_impacts",
    "passage_source",
    "passage_length",
    "dfr_weights",
    "dfr_impacts",
    "passage_ordinal",
    "passage_start",
    "passage_end",
)
DFR_ARRAYS = ("dfr_weights", "dfr_impacts")
"""Stored only for a manifest with ``dfr`` (an index built before them has none)."""
SPAN_ARRAYS = ("passage_ordinal", "passage_start", "passage_end")
"""Stored from format 6 (before, the store's table ``passages`` held them)."""


def arrays_of(manifest: Manifest) -> tuple[str, ...]:
    """The arrays an index with this manifest has."""
    absent = (DFR_ARRAYS if manifest.dfr is None else ()) + (SPAN_ARRAYS if manifest.format_version < 6 else ())
    return tuple(a for a in ARRAYS if a not in absent)


class PassageArrays(NamedTuple):
    """What an index keeps of each passage, an array each (``passage_*.npy``), aligned
    with the passage rows."""

    source: np.ndarray  # its source's row
    length: np.ndarray  # its tokens, stop words left out
    ordinal: np.ndarray  # its place among its source's passages, from 0
    start: np.ndarray  # where it starts and ends in its source's text (characters)
    end: np.ndarray

    @classmethod
    def joined(cls, parts: list[PassageArrays]) -> PassageArrays:
        return cls(*(np.concatenate([p[i] for p in parts]).astype(np.int32) for i in range(len(cls._fields))))

    def take(self, which: np.ndarray) -> PassageArrays:
        """The passages ``which`` (a mask or rows) selects, in order."""
        return PassageArrays(*(a[which] for a in self))


PASSAGE_ARRAYS = tuple(f"passage_{field}" for field in PassageArrays._fields)
"""The files of :class:`PassageArrays`, field by field."""


SCHEMA = """
CREATE TABLE paths (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE
);
CREATE TABLE sources (
    row INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    path INTEGER NOT NULL REFERENCES paths(id),
    title TEXT,  -- NULL when the title is the whole text: read COALESCE(title, text)
    text NOT NULL,  -- a BLOB when packed (packing.py), else TEXT
    metadata TEXT  -- NULL when there is none
);
CREATE TABLE dictionaries (
    name TEXT PRIMARY KEY,
    data BLOB NOT NULL
);
CREATE TABLE terms (
    id INTEGER PRIMARY KEY,
    term TEXT NOT NULL,
    df INTEGER NOT NULL
);
CREATE UNIQUE INDEX terms_by_term ON terms(term);
CREATE TABLE forms (
    form TEXT PRIMARY KEY,
    term INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX forms_by_term ON forms(term);
"""

# The input files the documents were read from, for updates (``indexer/updating.py``):
# a file's absolute path; the path its sources were stored with (``sources.path``); its
# size, modification time and checksum when it was read.
INPUTS_SCHEMA = """
CREATE TABLE inputs (
    file TEXT PRIMARY KEY,
    display TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL
);
"""
SCHEMA += INPUTS_SCHEMA

_TEXT = 4  # where a source's text is in the rows add_sources takes

# What readers query: the sources with their paths, texts unpacked and metadata as
# source_row makes them; a store made before format 5 has its paths and texts in place.
_DOCUMENTS = """
CREATE TEMP VIEW documents AS SELECT s.row AS row, s.id AS id, p.path AS path, s.title AS title,
    unpack(s.row, s.text) AS text, COALESCE(s.metadata, '{}') AS metadata, s.text AS packed
FROM sources s JOIN paths p ON p.id = s.path
"""
_DOCUMENTS_BEFORE_5 = "CREATE TEMP VIEW documents AS SELECT *, text AS packed FROM sources"

def source_row(doc_id: str, path: str, title: str, text: str, metadata: dict) -> tuple[str, str, str | None, str, str]:
    """A document's row of the ``sources`` table, but for its row number."""
    return (
        doc_id,
        path,
        None if title == text else title,  # a one-line document's text is its title: stored once
        text,
        json.dumps(metadata, ensure_ascii=False) if metadata else "{}",
    )


def sha256_of(path: str | os.PathLike[str]) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class IndexWriter:
    """Writes one generation of an index into its folder; :meth:`commit` makes it the
    index's, at once, by renaming a new manifest over the old one.

    The folder holds ``manifest.json``, the generation it names (``g000003/``: the store
    and the arrays) and the writer lock. A new generation is written beside the current
    one, made durable (every file and folder fsynced), then the manifest is replaced: a
    reader, or a writer killed at any moment, finds the old index or the new one, never a
    mix. Generations no manifest names (a killed writer's) are removed by the next writer,
    which also holds the lock (:mod:`.locking`) that keeps writers one at a time.

    ``base``: an index to start from (an update): its store is copied into the new
    generation, to be changed there, instead of starting empty.
    """

    def __init__(self, target: str | os.PathLike[str], base: IndexReader | None = None):
        self.target = Path(target)
        check_replaceable(self.target)
        if base is not None and base.manifest.format_version < FORMAT_VERSION:
            raise CitesearchError(
                f"the index at {base.path} has format {base.manifest.format_version}, which this citesearch "
                "reads but does not change",
                hint="Rebuild it from its documents: citesearch index PATHS --rebuild",
            )
        self.created = not self.target.exists()  # a failed first build leaves no folder
        self._lock = writer_lock(self.target)
        self._lock.__enter__()
        try:
            self.previous = _current_data(self.target)
            _remove_debris(self.target, self.previous)
            self.generation = _next_generation(self.target)
            self.tmp = self.target / self.generation
            self.tmp.mkdir()
            # SQLite work runs on one background thread (it releases the GIL while it
            # writes), overlapping the caller's tokenizing and counting; so does copying
            # an update's base store, which the store's first task does.
            self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="citesearch-store")
            self._pending: list[Future] = []
            self._removed = False  # whether sources were removed: their paths may go too
            self._call(self._open_store, base.data_dir / STORE if base is not None else None)
        except BaseException:
            if hasattr(self, "tmp"):
                shutil.rmtree(self.tmp, ignore_errors=True)
            self._lock.__exit__(None, None, None)
            if self.created:
                shutil.rmtree(self.target, ignore_errors=True)
            raise

    def _open_store(self, base: Path | None) -> None:
        if base is not None:
            shutil.copyfile(base, self.tmp / STORE)
        self.db = self._connect(base is None)
        self._paths = dict(self.db.execute("SELECT path, id FROM paths"))
        self._packer = Packer(_text_dictionary(self.db))

    def _connect(self, new: bool) -> sqlite3.Connection:
        db = sqlite3.connect(self.tmp / STORE, check_same_thread=False)
        # 64 KiB pages and the id index built once at the end: a third less time
        # writing a million sources than 4 KiB pages and an index kept up per row.
        db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
            + ("PRAGMA page_size=65536;" + SCHEMA if new else INPUTS_SCHEMA.replace("TABLE", "TABLE IF NOT EXISTS"))
        )
        # Bound parameters a statement may take: 32766 by default since SQLite 3.32, 999 before.
        self._parameters = min(db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER), 32766)
        return db

    def _call(self, fn, *args) -> Future:
        future = self._thread.submit(fn, *args)
        self._pending = [f for f in self._pending if not f.done() or f.exception()]
        for f in self._pending:
            if f.done() and f.exception():
                exc = f.exception()
                if isinstance(exc, sqlite3.Error):
                    raise CitesearchError(f"{self.tmp / STORE}: {exc}", hint="Free some space and run again.")
                raise exc  # type: ignore[misc]
        self._pending.append(future)
        return future

    def _insert(self, table: str, rows: list[tuple]) -> None:
        """Insert ``rows`` a few thousand to a statement.

        ``executemany`` would run one statement per row, letting go of the GIL and taking
        it back each time: with the builder's threads busy in Python, each take waits for
        the interpreter's switch interval, and both sides lose (a million-passage build
        spent seconds so). One statement per few thousand rows lets go of it a few
        hundred times, for longer.
        """
        if not rows:
            return
        width = len(rows[0])
        per = self._parameters // width
        for i in range(0, len(rows), per):
            part = rows[i : i + per]
            marks = ",".join(["(" + ",".join("?" * width) + ")"] * len(part))
            # The cursor must be freed on the store thread, not wherever the future dies.
            self.db.execute(f"INSERT INTO {table} VALUES {marks}", list(chain.from_iterable(part))).close()

    def _execute(self, sql: str) -> None:
        self.db.execute(sql).close()

    def add_sources(self, rows: list[tuple[int, str, str, str | None, str, str]]) -> None:
        """Store sources: (row, *:func:`source_row`), their texts packed (``packing.py``)
        and their paths listed once, on the store thread."""
        self._call(self._add_sources, rows)

    def _add_sources(self, rows: list[tuple], flush: bool = False) -> None:
        ready, texts = self._packer.flush(_TEXT) if flush else self._packer.add(rows, _TEXT)
        for path in {r[2] for r in ready} - self._paths.keys():
            self._paths[path] = self.db.execute("INSERT INTO paths (path) VALUES (?)", (path,)).lastrowid
        paths = self._paths
        self._insert(
            "sources", [(r, i, paths[p], t, x, None if m == "{}" else m) for (r, i, p, t, _, m), x in zip(ready, texts)]
        )

    def add_vocabulary(self, terms: list[str], df: np.ndarray, forms: dict[str, int]) -> None:
        self._call(self._insert, "terms", list(zip(range(len(terms)), terms, df.tolist())))
        self._call(self._insert, "forms", list(forms.items()))

    def set_inputs(self, rows: list[tuple[str, str, int, int, str]]) -> None:
        """Record input files read: (file, display, bytes, mtime_ns, sha256), replacing
        the rows of the same files."""
        self._call(self._upsert_inputs, rows)

    def _upsert_inputs(self, rows: list[tuple]) -> None:
        self.db.executemany("INSERT OR REPLACE INTO inputs VALUES (?, ?, ?, ?, ?)", rows).close()

    def forget_inputs(self, files: list[str]) -> None:
        self._call(self._delete_inputs, files)

    def _delete_inputs(self, files: list[str]) -> None:
        self.db.executemany("DELETE FROM inputs WHERE file = ?", [(f,) for f in files]).close()

    # -- an update's changes to a copied store (``updating.py``) --

    def remove_sources(self, rows: list[int]) -> None:
        """Delete sources (their passages go from the arrays the update saves)."""
        if not rows:
            return
        self._call(self._run, "DELETE FROM sources WHERE row = ?", [(r,) for r in rows])
        self._removed = True

    def update_vocabulary(
        self,
        df: list[tuple[int, int]],
        gone: list[int],
        terms: list[tuple[int, str, int]],
        forms: list[tuple[str, int]],
    ) -> None:
        """New document frequencies ``(df, term id)``; terms no passage has any more
        (``gone``), with their forms; new terms ``(id, term, df)`` and forms."""
        self._call(self._run, "UPDATE terms SET df = ? WHERE id = ?", df)
        self._call(self._run, "DELETE FROM forms WHERE term = ?", [(t,) for t in gone])
        self._call(self._run, "DELETE FROM terms WHERE id = ?", [(t,) for t in gone])
        self._call(self._insert, "terms", terms)
        self._call(self._insert, "forms", forms)

    def replace_vocabulary(self, vocabulary: str | os.PathLike[str]) -> None:
        """Replace the store's terms and forms with those of the SQLite file ``vocabulary``
        (tables ``terms`` and ``forms`` as the store's): a shard's global vocabulary
        (``sharding.py``)."""
        quoted = str(Path(vocabulary).resolve()).replace("'", "''")
        self._call(
            self._run,
            f"ATTACH DATABASE '{quoted}' AS vocabulary; DELETE FROM forms; DELETE FROM terms;"
            "INSERT INTO terms SELECT id, term, df FROM vocabulary.terms;"
            "INSERT INTO forms SELECT form, term FROM vocabulary.forms;",
            None,
        )

    def _run(self, sql: str, rows: list[tuple] | None) -> None:
        if rows is None:
            self.db.executescript(sql)
        else:
            self.db.executemany(sql, rows).close()

    def sources_done(self) -> None:
        """No more sources: index their ids (on the store thread, while the caller goes on)."""
        self._call(self._add_sources, [], True)
        self._call(self._execute, "CREATE UNIQUE INDEX sources_by_id ON sources(id)")

    def _close_sources(self) -> None:
        """Store the sources held back for the dictionary, the dictionary if one was
        trained, and forget the paths no source has any more."""
        self._add_sources([], flush=True)
        if self._packer.trained:
            self.db.execute("INSERT OR REPLACE INTO dictionaries VALUES ('text', ?)", (self._packer.dictionary,))
            self._packer.trained = False
        if self._removed:
            self.db.execute("DELETE FROM paths WHERE id NOT IN (SELECT DISTINCT path FROM sources)")

    def _finish_store(self) -> None:
        try:
            self._call(self._close_sources)
            for f in self._pending:
                f.result()  # re-raises a failed write
            self._thread.submit(lambda: self.db.commit()).result()
            self._thread.submit(lambda: self.db.close()).result()
        except sqlite3.Error as exc:  # "database or disk is full", most likely
            raise CitesearchError(f"{self.tmp / STORE}: {exc}", hint="Free some space and run again.") from None
        self._thread.shutdown()

    def save_passages(self, passages: PassageArrays) -> None:
        for name, array in zip(PASSAGE_ARRAYS, passages):
            self.save_array(name, np.asarray(array, dtype=np.int32))

    def save_array(self, name: str, array: np.ndarray) -> None:
        if name not in ARRAYS:
            raise ValueError(f"unknown index array {name!r}")
        path = self.tmp / f"{name}.npy"
        try:
            np.save(path, np.ascontiguousarray(array), allow_pickle=False)
        except OSError as exc:  # numpy's short write says neither where nor why
            raise CitesearchError(
                f"{path}: could not be written ({exc.strerror or exc})", hint="Is the disk full? Free some space."
            ) from None

    def link_array(self, name: str, generation: Path) -> None:
        """Take the array ``name`` unchanged from another generation folder: a hard link
        (files are never written in place), else a copy."""
        if name not in ARRAYS:
            raise ValueError(f"unknown index array {name!r}")
        source, path = generation / f"{name}.npy", self.tmp / f"{name}.npy"
        try:
            os.link(source, path)
        except OSError:
            shutil.copyfile(source, path)

    def commit(self, manifest: Manifest) -> Path:
        self._finish_store()
        files = sorted(p.name for p in self.tmp.iterdir())
        with ThreadPoolExecutor(max_workers=2) as pool:  # hashlib lets go of the GIL
            digests = pool.map(sha256_of, [self.tmp / name for name in files])
            checksums = {name: FileEntry((self.tmp / name).stat().st_size, d) for name, d in zip(files, digests)}
        for name in files:
            _fsync(self.tmp / name)
        _fsync(self.tmp)
        write_manifest(self.target, replace(manifest.with_files(checksums), data=self.generation))  # the commit
        self._release()
        # Readers that opened the old generation keep reading it (their files stay open);
        # a reader opening it now finds the new manifest and retries (IndexReader).
        _remove_generation(self.target, self.previous)
        return self.target

    def abort(self) -> None:
        try:
            with contextlib.suppress(Exception):  # already closed, or failing: the folder goes anyway
                self._thread.submit(lambda: self.db.close()).result()
            self._thread.shutdown()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self._release()
            if self.created:
                shutil.rmtree(self.target, ignore_errors=True)

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.__exit__(None, None, None)
            self._lock = None


_GENERATION = re.compile(r"g(\d{6,})")


def _current_data(folder: Path) -> str | None:
    """The generation the index's manifest names ("": the folder itself, before format
    4), or None when there is no readable manifest."""
    try:
        return read_manifest(folder).data
    except CitesearchError:
        return None


def _next_generation(folder: Path) -> str:
    numbers = [int(m.group(1)) for p in folder.iterdir() if (m := _GENERATION.fullmatch(p.name))]
    return f"g{max(numbers, default=0) + 1:06d}"


def _remove_generation(folder: Path, data: str | None) -> None:
    """Remove a generation the manifest no longer names (the files of a pre-4 index:
    those in the folder itself)."""
    if data is None:
        return
    if data:
        shutil.rmtree(folder / data, ignore_errors=True)
        return
    for name in (STORE, *(f"{a}.npy" for a in ARRAYS)):
        with contextlib.suppress(FileNotFoundError):
            (folder / name).unlink()


def remove_debris(folder: str | os.PathLike[str]) -> None:
    """Remove what writers killed before their commit left in the index folder ``folder``
    (call it holding the writer lock)."""
    _remove_debris(Path(folder), _current_data(Path(folder)))


def _remove_debris(folder: Path, current: str | None) -> None:
    """What writers killed before their commit left: generations no manifest names, and
    (from versions before format 4) temporary folders beside the index. Called with the
    lock held, so no writer is using them."""
    for p in folder.iterdir():
        if _GENERATION.fullmatch(p.name) and p.name != current:
            shutil.rmtree(p, ignore_errors=True)
    for p in folder.parent.glob(f".{glob.escape(folder.name)}.building-*"):
        shutil.rmtree(p, ignore_errors=True)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_replaceable(target: Path) -> None:
    """Refuse to replace a folder that is not an index (a typo must not cost files). A
    folder holding only what a killed first build left (a lock, a generation) is one."""
    if target.exists():
        if not target.is_dir():
            raise CitesearchError(f"{target} exists and is not a directory")
        ours = {p.name for p in target.iterdir() if p.name == LOCK or _GENERATION.fullmatch(p.name)}
        if any(p.name not in ours for p in target.iterdir()) and not (target / MANIFEST).exists():
            raise CitesearchError(
                f"{target} is a non-empty directory that holds no citesearch index; refusing to replace it",
                hint="Choose another --index directory.",
            )


@contextmanager
def writing(target: str | os.PathLike[str], base: IndexReader | None = None) -> Iterator[IndexWriter]:
    """``with writing(dir) as w: ...; w.commit(manifest)`` — cleaned up if anything fails."""
    writer = IndexWriter(target, base)
    try:
        yield writer
    except BaseException:
        writer.abort()
        raise


@dataclass(frozen=True)
class SourceRecord:
    """A row of the store's ``sources`` table (its text left in the store)."""

    row: int
    id: str
    path: str
    title: str
    passages: int = 0


@dataclass(frozen=True)
class PassageRecord:
    row: int
    ordinal: int
    start: int
    end: int
    text: str
    source: SourceRecord


def _text_dictionary(db: sqlite3.Connection) -> bytes | None:
    """The dictionary a store's texts are packed with (``packing.py``), if it has one."""
    found = db.execute("SELECT data FROM dictionaries WHERE name = 'text'").fetchone()
    return found[0] if found else None


def _check_shapes(path: Path, arrays: dict[str, np.ndarray], manifest: Manifest) -> None:
    """What can be checked of the arrays without reading them through: their lengths
    agree with each other (a file swapped for another index's, or cut and re-padded,
    fails here rather than as wrong results or a crash in compiled code)."""
    n_terms = len(arrays["postings_indptr"]) - 1
    n_postings = len(arrays["postings_passages"])
    per_posting = ("postings_tf", "bm25_weights", "tfidf_weights", *(a for a in ("dfr_weights",) if a in arrays))
    ok = (
        n_terms >= 0
        and all(a.ndim == 1 for a in arrays.values())
        and int(arrays["postings_indptr"][-1]) == n_postings
        and all(len(arrays[name]) == n_postings for name in per_posting)
        and all(len(a) == manifest.counts.passages for name, a in arrays.items() if name.startswith("passage_"))
        and len(arrays["tfidf_idf"]) == n_terms
        and len(arrays["impact_indptr"]) == n_terms + 1
        and int(arrays["impact_indptr"][-1]) == len(arrays["bm25_impacts"]) == len(arrays["tfidf_impacts"])
        and int(arrays["impact_indptr"][-1]) == len(arrays.get("dfr_impacts", arrays["bm25_impacts"]))
    )
    if not ok:
        raise IndexCorrupt(f"index at {path} is damaged: its arrays do not agree in length")


def default_index_path() -> Path:
    """``$CITESEARCH_INDEX``, else ``./.citesearch``."""
    return Path(os.environ.get("CITESEARCH_INDEX") or DEFAULT_INDEX_DIR)


class IndexReader:
    """Read access to an index folder: memory-mapped arrays and the SQLite store.

    Everything is opened here, at once: the reader then answers from that generation
    of the index for as long as it is open, whatever writers do meanwhile."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        for attempt in range(5):
            self.manifest = read_manifest(self.path)
            if self.manifest.shards:  # its shards are indexes; it is opened as a whole by search.sharded
                raise CitesearchError(
                    f"the index at {self.path} is sharded ({self.manifest.shards} shards): this reads one index",
                    hint="Search it with citesearch search, or the Python API's Index.open.",
                )
            self.data_dir = self.path / self.manifest.data if self.manifest.data else self.path
            try:
                self._open()
                break
            except IndexCorrupt:
                # A writer replaced the generation between our reading its manifest and
                # opening its files: read the new manifest and open those.
                if attempt == 4 or _current_data(self.path) == self.manifest.data:
                    raise
        self.indptr = self.arrays["postings_indptr"]
        self.postings = self.arrays["postings_passages"]
        self.n_passages = self.manifest.counts.passages
        self.stopwords = self.manifest.stopwords
        self._counts: np.ndarray | None = None  # passages per source row, counted when first asked

    def _open(self) -> None:
        data = self.data_dir
        try:
            # A file cut short (an interrupted copy, a full disk) fails here in one line, not
            # as a traceback from the first query that reads past its end.
            for name, entry in self.manifest.files.items():
                size = (data / name).stat().st_size
                if size != entry.bytes:
                    raise IndexCorrupt(f"index at {self.path} is damaged: {name} has {size} bytes, not {entry.bytes}")
            # Plain ndarray views of the maps: slicing a np.memmap costs microseconds
            # per call in Python, and search slices a few dozen times per query.
            self.arrays = {
                name: np.load(data / f"{name}.npy", mmap_mode="r", allow_pickle=False).view(np.ndarray)
                for name in arrays_of(self.manifest)
            }
            uri = (data / STORE).resolve().as_uri() + "?mode=ro"
            self._db: sqlite3.Connection | None = sqlite3.connect(uri, uri=True, check_same_thread=False)
            # Read the store through a memory map too: a row lookup then touches its
            # page in place instead of copying all 64 KiB of it (8.5 -> 3.3 us a row).
            self._db.execute(f"PRAGMA mmap_size={(data / STORE).stat().st_size}")
            tables = {name for (name,) in self._db.execute("SELECT name FROM sqlite_master")}  # "not a database"
            self._unpack = Unpacker(_text_dictionary(self._db) if "dictionaries" in tables else None)
            self._db.create_function("unpack", 2, self._unpack, deterministic=True)
            self._db.execute(_DOCUMENTS if "paths" in tables else _DOCUMENTS_BEFORE_5)
        except (OSError, ValueError, EOFError, sqlite3.Error) as exc:  # EOFError: np.load of an empty file
            raise IndexCorrupt(f"index at {self.path} is damaged: {exc}") from None
        _check_shapes(self.path, self.arrays, self.manifest)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

    def __enter__(self) -> IndexReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise IndexClosed(f"the index at {self.path} is closed", hint="Open it again: Index.open(path)")
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    def verify(self) -> list[str]:
        """Names of the files that do not match the manifest: a changed or missing file,
        a file the manifest should list and does not, or the manifest itself, edited."""
        bad = [] if manifest_intact(self.path) else [MANIFEST]
        expected = {STORE, *(f"{a}.npy" for a in arrays_of(self.manifest))}
        bad += sorted(expected - set(self.manifest.files))
        for name, meta in self.manifest.files.items():
            p = self.data_dir / name
            if not p.is_file() or sha256_of(p) != meta.sha256:
                bad.append(name)
        return bad

    def stored_documents(self, path: str) -> dict[str, tuple[int, tuple[str | None, str, str]]]:
        """The sources read from ``path``: id → (row, (title, text, metadata)), the last
        three as :func:`source_row` makes them."""
        rows = self.db.execute("SELECT row, id, title, text, metadata FROM documents WHERE path = ?", (path,))
        return {doc_id: (row, (title, text, metadata)) for row, doc_id, title, text, metadata in rows}

    def source_rows(self, *, doc_id: str | None = None, path: str | None = None) -> set[int]:
        """Rows of the source with id ``doc_id``, or of the sources read from ``path``."""
        where, value = ("id", doc_id) if doc_id is not None else ("path", path)
        return {r for (r,) in self.db.execute(f"SELECT row FROM documents WHERE {where} = ?", (value,))}

    def next_source_row(self) -> int:
        last = self.db.execute("SELECT max(row) FROM sources").fetchone()[0]
        return 0 if last is None else last + 1

    def inputs(self) -> dict[str, tuple[str, int, int, str]]:
        """The input files read: file → (display, bytes, mtime_ns, sha256); empty for
        an index made before they were recorded."""
        try:
            return {f: tuple(rest) for f, *rest in self.db.execute("SELECT * FROM inputs")}  # type: ignore[misc]
        except sqlite3.OperationalError:  # no such table
            return {}

    def select_in(self, sql: str, keys) -> Iterator[tuple]:
        """Rows of ``sql`` (a SELECT whose ``IN ({marks})`` takes the keys) for all of
        ``keys``, queried in chunks to stay under SQLite's limit on parameters."""
        unique = sorted(set(keys))
        for i in range(0, len(unique), 500):
            chunk = unique[i : i + 500]
            yield from self.db.execute(sql.format(marks=",".join("?" * len(chunk))), chunk)

    def term_ids(self, forms: list[str]) -> dict[str, int]:
        """Term id of each surface form the index has seen (stop words map to -1)."""
        return dict(self.select_in("SELECT form, term FROM forms WHERE form IN ({marks})", forms))

    def forms_of(self, ids: list[int]) -> dict[str, int]:
        """Every surface form of each of the terms ``ids``, with its term id."""
        return dict(self.select_in("SELECT form, term FROM forms WHERE term IN ({marks})", ids))

    def terms_by_string(self, terms: list[str]) -> dict[str, int]:
        """Term id of each term (stem) the index has."""
        return dict(self.select_in("SELECT term, id FROM terms WHERE term IN ({marks})", terms))

    def term_strings(self, ids: list[int]) -> dict[int, str]:
        return dict(self.select_in("SELECT id, term FROM terms WHERE id IN ({marks})", ids))

    # -- records: every query of the store's tables is here --------------------------

    def passage_arrays(self) -> PassageArrays:
        """Every passage's arrays (the store's table for the last three, before format 6)."""
        a = self.arrays
        if self.manifest.format_version >= 6:
            return PassageArrays(*(a[name] for name in PASSAGE_ARRAYS))
        spans = np.array(self.db.execute('SELECT ordinal, start, "end" FROM passages ORDER BY row').fetchall(),
                         dtype=np.int64).reshape(-1, 3)
        return PassageArrays(a["passage_source"], a["passage_length"], spans[:, 0], spans[:, 1], spans[:, 2])

    def _spans(self, rows) -> dict[int, tuple[int, int, int, int]]:
        """(source row, ordinal, start, end) of each of the passage ``rows`` the index has."""
        rows = [int(r) for r in rows]
        if self.manifest.format_version < 6:
            sql = 'SELECT row, source, ordinal, start, "end" FROM passages WHERE row IN ({marks})'
            return {row: tuple(rest) for row, *rest in self.select_in(sql, rows)}  # type: ignore[misc]
        rows = [r for r in dict.fromkeys(rows) if 0 <= r < self.n_passages]
        at = np.array(rows, dtype=np.int64)
        columns = (self.arrays[f"passage_{f}"][at].tolist() for f in ("source", "ordinal", "start", "end"))
        return dict(zip(rows, zip(*columns)))

    def _count(self, source: int) -> int:
        """How many passages the source row ``source`` has (all counted in one pass, the
        first time)."""
        if self._counts is None:
            if self.manifest.format_version < 6:
                counts = self.db.execute("SELECT source, count(*) FROM passages GROUP BY source").fetchall()
                self._counts = np.zeros(max((s for s, _ in counts), default=-1) + 1, dtype=np.int64)
                for s, n in counts:
                    self._counts[s] = n
            else:
                self._counts = np.bincount(self.arrays["passage_source"])
        return int(self._counts[source]) if 0 <= source < len(self._counts) else 0

    def passage_ids(self, rows) -> dict[int, str]:
        """``doc_id#ordinal`` of each passage row."""
        spans = self._spans(rows)
        ids = self.source_ids({source for source, *_ in spans.values()})
        return {row: f"{ids[source]}#{ordinal}" for row, (source, ordinal, _, _) in spans.items() if source in ids}

    def source_ids(self, rows) -> dict[int, str]:
        return dict(self.select_in("SELECT row, id FROM sources WHERE row IN ({marks})", [int(r) for r in rows]))

    def passage_texts(self, rows) -> dict[int, str]:
        spans = self._spans(rows)
        sources = {source for source, *_ in spans.values()}
        texts = dict(self.select_in("SELECT row, text FROM documents WHERE row IN ({marks})", sources))
        return {row: texts[source][start:end] for row, (source, _, start, end) in spans.items() if source in texts}

    def passages(self, rows) -> dict[int, PassageRecord]:
        """Each passage row's record, with its source's. A row the store does not have
        (postings overwritten with garbage) is the index's damage, said in one line."""
        wanted = {int(r) for r in rows}
        found = self._passages(wanted)
        if len(found) < len(wanted):
            missing = min(wanted - set(found))
            raise IndexCorrupt(
                f"index at {self.path} is damaged: it ranks passage {missing}, which its store does not have",
                hint="Run citesearch info --verify to see which file, and rebuild the index.",
            )
        return found

    def _passages(self, rows: set[int]) -> dict[int, PassageRecord]:
        spans = self._spans(rows)
        sources = {
            row: rest
            for row, *rest in self.select_in(
                "SELECT row, id, path, title, packed FROM documents WHERE row IN ({marks})",
                {source for source, *_ in spans.values()},
            )
        }
        found = {}
        for row, (source, ordinal, start, end) in spans.items():
            if source not in sources:
                continue
            sid, path, title, packed = sources[source]
            # The texts unpacked here rather than by SQLite: once a row, without the round trip.
            text = self._unpack(source, packed)
            record = SourceRecord(source, sid, path, text if title is None else title)
            found[row] = PassageRecord(row, ordinal, start, end, text[start:end], record)
        return found

    def sources_matching(self, pattern: str) -> set[int]:
        """Rows of the sources whose path (or its end after a ``/``) or id matches the glob."""
        sql = "SELECT row FROM documents WHERE path GLOB ?1 OR path GLOB '*/' || ?1 OR id GLOB ?1"
        return {r for (r,) in self.db.execute(sql, (pattern,))}

    def titles_containing(self, words: list[str]) -> Iterator[tuple[int, str]]:
        """(row, title) of the sources whose title may contain one of ``words``, for the
        caller to check: those whose own title contains one (case-blind), and those whose
        title is their whole text (a one-line document's) with one of ``words`` as a
        term of their passages. The postings find the latter, so that only they are
        unpacked, not every one-line document (2 s of a million)."""
        where = " OR ".join("title LIKE ?" for _ in words)
        yield from self.db.execute(
            f"SELECT row, title FROM sources WHERE title IS NOT NULL AND ({where})", [f"%{w}%" for w in words]
        )
        terms = self.terms_by_string(words).values()
        if not terms:
            return
        rows = np.concatenate([self.postings[self.indptr[t] : self.indptr[t + 1]] for t in terms])
        sources = np.unique(self.arrays["passage_source"][rows]).tolist()
        yield from self.select_in("SELECT row, text FROM documents WHERE title IS NULL AND row IN ({marks})", sources)

    def sources(self, pattern: str | None = None) -> Iterator[SourceRecord]:
        """Every source (or those whose path or id matches the glob), in row order, with
        its passage count (counted in one pass over the passages)."""
        sql = "SELECT s.row, s.id, s.path, COALESCE(s.title, s.text) FROM documents s"
        if pattern is None:
            rows = self.db.execute(sql + " ORDER BY s.row")
        else:
            where = " WHERE s.path GLOB ?1 OR s.path GLOB '*/' || ?1 OR s.id GLOB ?1 ORDER BY s.row"
            rows = self.db.execute(sql + where, (pattern,))
        for row, sid, path, title in rows:
            yield SourceRecord(row, sid, path, title, self._count(row))

    def source_by_id(self, doc_id: str) -> SourceRecord | None:
        return self._one_source("s.id = ?", doc_id)

    def sources_by_path(self, path: str) -> list[SourceRecord]:
        """The sources read from the file ``path`` (one, or a collection's many)."""
        return list(self._sources_where("s.path = ?", path))

    def _one_source(self, where: str, value: str) -> SourceRecord | None:
        return next(self._sources_where(where, value), None)

    def _sources_where(self, where: str, value: str) -> Iterator[SourceRecord]:
        for row, sid, path, title in self.db.execute(
            f"SELECT s.row, s.id, s.path, COALESCE(s.title, s.text) FROM documents s WHERE {where} ORDER BY s.row",
            (value,),
        ):
            yield SourceRecord(row, sid, path, title, self._count(row))

    def source_text(self, row: int) -> tuple[str, dict]:
        """A source's full text and metadata."""
        text, metadata = self.db.execute("SELECT text, metadata FROM documents WHERE row = ?", (row,)).fetchone()
        return text, json.loads(metadata)

    def passages_of(self, source: SourceRecord) -> list[PassageRecord]:
        """A source's passages, in order."""
        text, _ = self.source_text(source.row)
        if self.manifest.format_version < 6:
            sql = 'SELECT row, source, ordinal, start, "end" FROM passages WHERE source = ?'
            spans = {row: tuple(rest) for row, *rest in self.db.execute(sql, (source.row,))}
        else:
            spans = self._spans(np.flatnonzero(self.arrays["passage_source"] == source.row))
        return [
            PassageRecord(row, ordinal, start, end, text[start:end], source)
            for row, (_, ordinal, start, end) in sorted(spans.items(), key=lambda item: item[1][1])
        ]

    def terms_with_prefix(self, prefix: str, limit: int) -> list[int]:
        """Ids of up to ``limit`` terms with a surface form that starts with ``prefix``,
        the most frequent first (stop words left out)."""
        return [
            t
            for (t,) in self.db.execute(
                "SELECT DISTINCT f.term FROM forms f JOIN terms t ON t.id = f.term "
                "WHERE f.form >= ?1 AND f.form < ?1 || char(1114111) AND f.term >= 0 ORDER BY t.df DESC, t.id LIMIT ?2",
                (prefix, limit),
            )
        ]

    def form_frequencies(self, forms: list[str]) -> dict[str, int]:
        """The document frequency of the term of each of ``forms`` the index has (stop
        words left out)."""
        return dict(
            self.select_in(
                "SELECT f.form, t.df FROM forms f JOIN terms t ON t.id = f.term WHERE f.form IN ({marks})", forms
            )
        )
