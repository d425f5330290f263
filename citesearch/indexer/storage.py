"""The index on disk: a folder of plain files, never pickles.

``manifest.json``
    format version, analyzer / passage / scoring settings, counts and file checksums.
``store.sqlite``
    ``sources`` (one row per document, with its full text; its title is NULL when it is
    the whole text, so a one-line document is stored once), ``passages`` (character
    offsets into their source), ``terms`` (term, document frequency) and ``forms``
    (surface form → term id, stop words as -1): what the query path needs instead of
    a stemmer.
``*.npy``
    a term-major compressed sparse matrix over passages, shared by both scorers:
    ``postings_indptr`` (terms + 1), ``postings_passages`` (passage row ids),
    ``postings_tf``, ``bm25_weights`` and ``tfidf_weights`` (one value per posting);
    ``passage_source`` and ``passage_length`` (one value per passage);
    ``tfidf_idf`` (one value per term); ``bm25_impacts`` and ``tfidf_impacts``, each
    long list's heaviest postings, indexed by ``impact_indptr`` (see ``impacts.py``).
    All are memory-mapped when read, as plain arrays.

An index is written to a temporary sibling folder and renamed into place, so a failed
build leaves the previous index as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path

import numpy as np

from ..errors import CitesearchError, IndexClosed, IndexCorrupt
from .manifest import MANIFEST, FileEntry, Manifest, read_manifest, write_manifest

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
)

SCHEMA = """
CREATE TABLE sources (
    row INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    path TEXT NOT NULL,
    title TEXT,  -- NULL when the title is the whole text: read COALESCE(title, text)
    text TEXT NOT NULL,
    metadata TEXT NOT NULL
);
CREATE TABLE passages (
    row INTEGER PRIMARY KEY,
    source INTEGER NOT NULL REFERENCES sources(row),
    ordinal INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL
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


def source_row(doc_id: str, path: str, title: str, text: str, metadata: dict) -> tuple[str, str, str | None, str, str]:
    """A document's row of the ``sources`` table, but for its row number."""
    return (
        doc_id,
        path,
        None if title == text else title,  # a one-line document's text is its title: stored once
        text,
        json.dumps(metadata, ensure_ascii=False) if metadata else "{}",
    )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class IndexWriter:
    """Writes one index into a temporary folder; :meth:`commit` moves it into place."""

    def __init__(self, target: str | os.PathLike[str]):
        self.target = Path(target)
        _check_replaceable(self.target)
        self.target.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.building-", dir=self.target.parent))
        # SQLite work runs on one background thread (it releases the GIL while it
        # writes), overlapping the caller's tokenizing and counting.
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="citesearch-store")
        self._pending: list[Future] = []
        self.db = self._call(self._connect).result()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.tmp / STORE, check_same_thread=False)
        # 64 KiB pages and the id index built once at the end: a third less time
        # writing a million sources than 4 KiB pages and an index kept up per row.
        db.executescript("PRAGMA page_size=65536; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
        # Bound parameters a statement may take: 32766 by default since SQLite 3.32, 999 before.
        self._parameters = min(db.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER), 32766)
        return db

    def _call(self, fn, *args) -> Future:
        future = self._thread.submit(fn, *args)
        self._pending = [f for f in self._pending if not f.done() or f.exception()]
        for f in self._pending:
            if f.done() and f.exception():
                raise f.exception()  # type: ignore[misc]
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

    def add_sources(self, rows: list[tuple[int, str, str, str, str, str]]) -> None:
        self._call(self._insert, "sources", rows)

    def add_passages(self, rows: list[tuple[int, int, int, int, int]]) -> None:
        self._call(self._insert, "passages", rows)

    def add_vocabulary(self, terms: list[str], df: np.ndarray, forms: dict[str, int]) -> None:
        self._call(self._insert, "terms", list(zip(range(len(terms)), terms, df.tolist())))
        self._call(self._insert, "forms", list(forms.items()))

    def sources_done(self) -> None:
        """No more sources: index their ids (on the store thread, while the caller goes on)."""
        self._call(self._execute, "CREATE UNIQUE INDEX sources_by_id ON sources(id)")

    def _finish_store(self) -> None:
        for f in self._pending:
            f.result()  # re-raises a failed write
        self._thread.submit(self.db.commit).result()
        self._thread.submit(self.db.close).result()
        self._thread.shutdown()

    def save_array(self, name: str, array: np.ndarray) -> None:
        if name not in ARRAYS:
            raise ValueError(f"unknown index array {name!r}")
        np.save(self.tmp / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)

    def commit(self, manifest: Manifest) -> Path:
        self._finish_store()
        files = sorted(p.name for p in self.tmp.iterdir())
        with ThreadPoolExecutor(max_workers=2) as pool:  # hashlib lets go of the GIL
            digests = pool.map(_sha256, [self.tmp / name for name in files])
            checksums = {name: FileEntry((self.tmp / name).stat().st_size, d) for name, d in zip(files, digests)}
        write_manifest(self.tmp, manifest.with_files(checksums))
        old = None
        if self.target.exists():
            old = self.target.with_name(f".{self.target.name}.old-{os.getpid()}")
            os.rename(self.target, old)
        os.rename(self.tmp, self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return self.target

    def abort(self) -> None:
        try:
            self._thread.submit(self.db.close).result()
            self._thread.shutdown()
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


def _check_replaceable(target: Path) -> None:
    """Refuse to replace a folder that is not an index (a typo must not cost files)."""
    if target.exists():
        if not target.is_dir():
            raise CitesearchError(f"{target} exists and is not a directory")
        if any(target.iterdir()) and not (target / MANIFEST).exists():
            raise CitesearchError(
                f"{target} is a non-empty directory that holds no citesearch index; refusing to replace it",
                hint="Choose another --index directory.",
            )


@contextmanager
def writing(target: str | os.PathLike[str]) -> Iterator[IndexWriter]:
    """``with writing(dir) as w: ...; w.commit(manifest)`` — cleaned up if anything fails."""
    writer = IndexWriter(target)
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


def default_index_path() -> Path:
    """``$CITESEARCH_INDEX``, else ``./.citesearch``."""
    return Path(os.environ.get("CITESEARCH_INDEX") or DEFAULT_INDEX_DIR)


class IndexReader:
    """Read access to an index folder: memory-mapped arrays and the SQLite store."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.manifest = read_manifest(self.path)
        try:
            # A file cut short (an interrupted copy, a full disk) fails here in one line, not
            # as a traceback from the first query that reads past its end.
            for name, entry in self.manifest.files.items():
                size = (self.path / name).stat().st_size
                if size != entry.bytes:
                    raise IndexCorrupt(f"index at {self.path} is damaged: {name} has {size} bytes, not {entry.bytes}")
            # Plain ndarray views of the maps: slicing a np.memmap costs microseconds
            # per call in Python, and search slices a few dozen times per query.
            self.arrays = {
                name: np.load(self.path / f"{name}.npy", mmap_mode="r", allow_pickle=False).view(np.ndarray)
                for name in ARRAYS
            }
            uri = (self.path / STORE).resolve().as_uri() + "?mode=ro"
            self._db: sqlite3.Connection | None = sqlite3.connect(uri, uri=True, check_same_thread=False)
            # Read the store through a memory map too: a row lookup then touches its
            # page in place instead of copying all 64 KiB of it (8.5 -> 3.3 us a row).
            self._db.execute(f"PRAGMA mmap_size={(self.path / STORE).stat().st_size}")
            self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # "file is not a database"
        except (OSError, ValueError, EOFError, sqlite3.Error) as exc:  # EOFError: np.load of an empty file
            raise IndexCorrupt(f"index at {self.path} is damaged: {exc}") from None
        self.indptr = self.arrays["postings_indptr"]
        self.postings = self.arrays["postings_passages"]
        self.n_passages = self.manifest.counts.passages
        self.stopwords = self.manifest.stopwords

    def __getitem__(self, name: str) -> np.ndarray:
        return self.arrays[name]

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
        """Names of files whose checksum no longer matches the manifest."""
        bad = []
        for name, meta in self.manifest.files.items():
            p = self.path / name
            if not p.is_file() or _sha256(p) != meta.sha256:
                bad.append(name)
        return bad

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

    def passage_ids(self, rows) -> dict[int, str]:
        """``doc_id#ordinal`` of each passage row."""
        return dict(
            self.select_in(
                "SELECT p.row, s.id || '#' || p.ordinal FROM passages p JOIN sources s ON s.row = p.source "
                "WHERE p.row IN ({marks})",
                [int(r) for r in rows],
            )
        )

    def source_ids(self, rows) -> dict[int, str]:
        return dict(self.select_in("SELECT row, id FROM sources WHERE row IN ({marks})", [int(r) for r in rows]))

    def passage_texts(self, rows) -> dict[int, str]:
        return dict(
            self.select_in(
                'SELECT p.row, substr(s.text, p.start + 1, p."end" - p.start) FROM passages p '
                "JOIN sources s ON s.row = p.source WHERE p.row IN ({marks})",
                [int(r) for r in rows],
            )
        )

    def passages(self, rows) -> dict[int, PassageRecord]:
        """Each passage row's record, with its source's."""
        return {
            row: PassageRecord(row, ordinal, start, end, text, SourceRecord(source, sid, path, title))
            for row, source, sid, path, title, ordinal, start, end, text in self.select_in(
                'SELECT p.row, s.row, s.id, s.path, COALESCE(s.title, s.text), p.ordinal, p.start, p."end", '
                'substr(s.text, p.start + 1, p."end" - p.start) '
                "FROM passages p JOIN sources s ON s.row = p.source WHERE p.row IN ({marks})",
                [int(r) for r in rows],
            )
        }

    def sources_matching(self, pattern: str) -> set[int]:
        """Rows of the sources whose path (or its end after a ``/``) or id matches the glob."""
        sql = "SELECT row FROM sources WHERE path GLOB ?1 OR path GLOB '*/' || ?1 OR id GLOB ?1"
        return {r for (r,) in self.db.execute(sql, (pattern,))}

    def titles_containing(self, words: list[str]) -> Iterator[tuple[int, str]]:
        """(row, title) of the sources whose title contains any of ``words`` (case-blind)."""
        where = " OR ".join("COALESCE(title, text) LIKE ?" for _ in words)
        yield from self.db.execute(
            f"SELECT row, COALESCE(title, text) FROM sources WHERE {where}", [f"%{w}%" for w in words]
        )

    def sources(self, pattern: str | None = None) -> Iterator[SourceRecord]:
        """Every source (or those whose path or id matches the glob), in row order, with
        its passage count (counted in one pass over the passages)."""
        sql = (
            "SELECT s.row, s.id, s.path, COALESCE(s.title, s.text), COALESCE(n.passages, 0) FROM sources s "
            "LEFT JOIN (SELECT source, count(*) AS passages FROM passages GROUP BY source) n ON n.source = s.row"
        )
        if pattern is None:
            rows = self.db.execute(sql + " ORDER BY s.row")
        else:
            where = " WHERE s.path GLOB ?1 OR s.path GLOB '*/' || ?1 OR s.id GLOB ?1 ORDER BY s.row"
            rows = self.db.execute(sql + where, (pattern,))
        for row, sid, path, title, count in rows:
            yield SourceRecord(row, sid, path, title, count)

    def source_by_id(self, doc_id: str) -> SourceRecord | None:
        return self._one_source("s.id = ?", doc_id)

    def sources_by_path(self, path: str) -> list[SourceRecord]:
        """The sources read from the file ``path`` (one, or a collection's many)."""
        return list(self._sources_where("s.path = ?", path))

    def _one_source(self, where: str, value: str) -> SourceRecord | None:
        return next(self._sources_where(where, value), None)

    def _sources_where(self, where: str, value: str) -> Iterator[SourceRecord]:
        for found in self.db.execute(
            "SELECT s.row, s.id, s.path, COALESCE(s.title, s.text), "
            f"(SELECT count(*) FROM passages p WHERE p.source = s.row) FROM sources s WHERE {where} ORDER BY s.row",
            (value,),
        ):
            yield SourceRecord(*found)

    def source_text(self, row: int) -> tuple[str, dict]:
        """A source's full text and metadata."""
        text, metadata = self.db.execute("SELECT text, metadata FROM sources WHERE row = ?", (row,)).fetchone()
        return text, json.loads(metadata)

    def passages_of(self, source: SourceRecord) -> list[PassageRecord]:
        """A source's passages, in order."""
        text, _ = self.source_text(source.row)
        return [
            PassageRecord(row, ordinal, start, end, text[start:end], source)
            for row, ordinal, start, end in self.db.execute(
                'SELECT row, ordinal, start, "end" FROM passages WHERE source = ? ORDER BY ordinal', (source.row,)
            )
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
