"""Update an index in place: add, re-index and remove documents, exactly as a rebuild would.

The design: **weights recomputed from stored counts**. An index stores each posting's term
frequency and each passage's length beside the weights. An update analyzes only the
documents that are new or changed, then

1. drops the passages of removed (and replaced) documents from the frequency matrix and
   appends the new documents' passages (old passages keep their order, renumbered densely);
2. weighs every posting again, BM25 and TF-IDF, from the merged frequencies and the new
   global statistics (N, df, average length, TF-IDF norms) with the very code a build
   uses (``builder._weigh``).

So every score after any sequence of updates is the one a fresh build of the same
documents gives (tested with hypothesis). Term ids and source rows stay stable: a term no
passage has any more keeps its id with an empty posting list (its forms leave the store,
so no query reaches it, and the idf floor ignores it), a removed source leaves a gap.
Nothing is tokenized again but what changed: the cost of an update is the new documents'
analysis plus a few passes over the postings arrays.

Which documents changed is decided per input file (the store's ``inputs``): same size and
modification time, unchanged; else same checksum, unchanged; else its documents are read
and compared with the stored ones by id (a JSONL collection is upserted by ``_id``; ids
gone from it are removed). Files under the given paths that no longer exist are removed.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..corpus import Document, InputFile, JsonlLines, LoadReport, discover, read_documents
from ..errors import CitesearchError
from . import builder
from .analysis import TermMapper
from .builder import input_row
from .locking import writer_lock
from .manifest import Counts
from .storage import IndexReader, PassageArrays, remove_debris, source_row, writing


@dataclass
class UpdateSummary:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    seconds: float = 0.0
    written: bool = False
    """Whether a new generation was written (False: nothing changed)."""
    missing: list[str] = field(default_factory=list)
    """Arguments of ``remove`` that matched nothing."""


def settings_of(reader: IndexReader) -> builder.IndexSettings:
    """The settings the index was built with."""
    m = reader.manifest
    return builder.IndexSettings(
        analyzer=m.analyzer,
        passage_words=m.passage_words,
        passage_overlap=m.passage_overlap,
        bm25=m.bm25,
        tfidf=m.tfidf,
        dfr=m.dfr,
        impact_prefix=m.impact_prefix,
        title_weight=m.title_weight,
    )


def _under(key: str, roots: Sequence[str]) -> bool:
    return any(key == r or key.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


# -- what changed ---------------------------------------------------------------------------


@dataclass
class _Changes:
    removed: set[int] = field(default_factory=set)  # source rows
    claimed: set[str] = field(default_factory=set)  # ids of the documents to add
    documents: list[Document] = field(default_factory=list)  # to add
    inputs: list[tuple] = field(default_factory=list)  # rows to record
    forget: list[str] = field(default_factory=list)  # input files to drop
    added: int = 0
    updated: int = 0

    def __bool__(self) -> bool:
        return bool(self.removed or self.documents)


def _file_changes(
    reader: IndexReader, f: InputFile, known: tuple | None, report: LoadReport, changes: _Changes
) -> None:
    """Compare a changed file's documents with those stored from it, by id."""
    display = known[0] if known else f.display
    stored = reader.stored_documents(display)
    seen: set[str] = set()
    for doc in _documents(f, report):
        seen.add(doc.id)
        old = stored.get(doc.id)
        if old is not None:
            if display == f.display and source_row(doc.id, doc.path, doc.title, doc.text, doc.metadata)[2:] == old[1]:
                continue  # unchanged
            changes.removed.add(old[0])
            changes.updated += 1
        else:
            if reader.source_rows(doc_id=doc.id) or doc.id in changes.claimed:  # the first with an id wins
                report.duplicates.append(f"{doc.id} ({f.display})")
                continue
            changes.added += 1
        changes.claimed.add(doc.id)
        changes.documents.append(doc)
    changes.removed.update(row for doc_id, (row, _) in stored.items() if doc_id not in seen)


def _documents(f: InputFile, report: LoadReport) -> Iterator[Document]:
    """The documents of one file, each id once (a file with none is no error here)."""
    reader = read_documents([f], report)
    for batch in reader.batches(builder.CHUNK):
        if isinstance(batch, JsonlLines):
            yield from (d for d in batch.documents(report) if reader.ids.admit(d.id, d.path))
        else:
            yield from batch


def find_changes(
    reader: IndexReader, paths: Sequence[str | os.PathLike[str]], include: Sequence[str], exclude: Sequence[str],
    report: LoadReport,
) -> tuple[_Changes, list[InputFile]]:
    """What indexing ``paths`` again changes in the index, and the files listed."""
    changes = _Changes()
    stored = reader.inputs()
    files = discover(paths, include, exclude, report)
    listed = set()
    for f in files:
        key = builder.input_key(f.path)
        listed.add(key)
        known = stored.get(key)
        try:
            st = os.stat(f.path)
        except OSError as exc:
            report.error(f.display, f"cannot read ({exc.strerror})")
            continue
        if known is not None and (known[1], known[2]) == (st.st_size, st.st_mtime_ns):
            continue
        try:
            row = input_row(f)
        except OSError as exc:
            report.error(f.display, f"cannot read ({exc.strerror})")
            continue
        if known is not None and known[3] == row[4] and known[0] == f.display:
            continue  # touched, not changed
        _file_changes(reader, f, known, report, changes)
        changes.inputs.append(row)
    roots = [builder.input_key(p) for p in paths]
    for key, (display, *_) in stored.items():
        if key not in listed and _under(key, roots) and not os.path.exists(key):
            changes.forget.append(key)
            changes.removed |= reader.source_rows(path=display)
    return changes, files


# -- apply ------------------------------------------------------------------------------------


class _GrowingMapper(TermMapper):
    """Term ids for an update's new documents: the index's own for the forms and stems it
    has, new ids after its last for the others."""

    def __init__(self, reader: IndexReader):
        super().__init__(reader.manifest.analyzer)
        self.reader = reader
        self.first_new = len(reader.indptr) - 1
        self.added_terms: list[str] = []
        self.added_forms: dict[str, int] = {}

    def learn(self, forms: list[str]) -> None:
        """Look up (in bulk) the forms the index has; stem the others."""
        unknown = [f for f in forms if f not in self.forms]
        self.forms.update(self.reader.term_ids(unknown))
        stems = {f: self.stem(f) for f in unknown if f not in self.forms}
        wanted = {s for s in stems.values() if s is not None and s not in self.vocabulary}
        self.vocabulary.update(self.reader.terms_by_string(sorted(wanted)))
        for form, stem in stems.items():
            self.add_form(form, stem)

    def add_form(self, form: str, stem: str | None) -> int:
        term = -1
        if stem is not None:
            term = self.vocabulary.get(stem, -1)
            if term < 0:
                term = self.vocabulary[stem] = self.first_new + len(self.added_terms)
                self.added_terms.append(stem)
        self.forms[form] = self.added_forms[form] = term
        return term

    @property
    def n_terms(self) -> int:
        return self.first_new + len(self.added_terms)


def apply_changes(target: Path, reader: IndexReader, changes: _Changes, workers: int = 0) -> Counts:
    """Write the index with ``changes`` applied as a new generation (see the module's
    docstring), and commit it."""
    settings = settings_of(reader)
    old_sources = reader["passage_source"]
    removed = np.array(sorted(changes.removed), dtype=np.int64)
    live = ~np.isin(old_sources, removed)
    kept = int(live.sum())
    mapper = _GrowingMapper(reader)
    if changes.documents:
        builder._import_nltk(mapper)
    with builder._collector_paused(), writing(target, base=reader) as writer:
        # Sources: the removed go, the new get rows after the last. Passages: the kept ones
        # renumbered densely, in their order, then the new ones.
        writer.remove_sources(removed.tolist())
        next_source = reader.next_source_row()
        rows, term_ids = add_documents(writer, mapper, changes.documents, settings, next_source, kept, workers)
        postings, passages = _merged(reader, live, rows, term_ids, mapper.n_terms)
        lengths = passages.length
        if not len(lengths):
            raise CitesearchError(
                f"the update would leave the index at {target} with no passages",
                hint="Remove the index folder instead, or add documents.",
            )
        _update_vocabulary(writer, reader, mapper, np.diff(postings.indptr))
        writer.set_inputs(changes.inputs)
        writer.forget_inputs(changes.forget)
        builder._save_postings(writer, postings, passages)
        avgdl = float(lengths.mean())
        builder._weigh(writer, settings, postings, lengths, avgdl)
        df = np.diff(postings.indptr)
        counts = Counts(
            reader.manifest.counts.sources - len(removed) + (rows.sources - next_source),
            len(lengths), int((df > 0).sum()), len(postings.tf), int(lengths.sum()),
        )
        manifest = replace(reader.manifest, counts=counts, avg_passage_length=avgdl)
        writer.commit(manifest)
    return counts


def add_documents(
    writer, mapper: _GrowingMapper, documents: list[Document], settings: builder.IndexSettings,
    first_source: int, first_passage: int, workers: int = 0,
) -> tuple[builder._StoreRows, builder._TermIds]:
    """Analyze an update's new documents and store their rows (sources numbered from
    ``first_source``, passages from ``first_passage``): their rows and term ids, for
    :func:`_merged`. Also used by a sharded index's update (``sharding.py``)."""
    rows = builder._StoreRows(writer)
    rows.sources, rows.passages = first_source, first_passage
    term_ids = builder._TermIds(mapper)
    ids = builder.FirstIdWins(LoadReport())
    batches = builder._batches_of(documents, builder.CHUNK)
    # Worker processes for more than a few documents (starting them costs more than a few).
    workers = (workers or os.cpu_count() or 1) if len(documents) > 200 else 1
    for batch, analyzed in builder._analyzed(batches, settings, workers):
        sources, analyzed = builder._admitted(None, ids, batch, analyzed)
        mapper.learn(analyzed.new_forms)
        rows.add(sources, analyzed)
        term_ids.add(analyzed)
    return rows, term_ids


def _merged(
    reader: IndexReader, live: np.ndarray, rows: builder._StoreRows, term_ids: builder._TermIds, n_terms: int
) -> tuple[builder._Postings, PassageArrays]:
    """The frequency matrix of the kept passages (renumbered) and the new ones; and their
    arrays.

    Both parts are term-major with passages ascending, and every new passage comes after
    every kept one, so each term's list is its kept postings, then its new ones: the new
    are inserted at the ends of the kept lists, in linear time, without sorting."""
    indptr, passages, tf = reader["postings_indptr"], reader["postings_passages"], reader["postings_tf"]
    kept = int(live.sum())
    parts = [reader.passage_arrays().take(live)]
    kept_counts = np.zeros(n_terms, dtype=np.int64)
    kept_counts[: len(indptr) - 1] = np.diff(indptr)
    if kept < len(live):
        # Few postings go, as a rule: find them, count them per term, drop them, and
        # renumber the passages after each removed one.
        dead = np.flatnonzero(~live[passages])
        kept_counts -= np.bincount(np.searchsorted(indptr, dead, side="right") - 1, minlength=n_terms)
        keep = np.ones(len(passages), dtype=bool)
        keep[dead] = False
        renumbered = (np.cumsum(live, dtype=np.int64) - 1).astype(np.int32)
        old_passages, old_tf = renumbered[passages[keep]], tf[keep]
    else:
        old_passages, old_tf = np.asarray(passages), np.asarray(tf)
    if rows._parts:
        new = rows.passage_arrays()
        new_lengths = new.length
        new_indptr, new_passages, new_tf = builder._count_postings(term_ids.tokens(), new_lengths, n_terms)
        new_counts = np.diff(new_indptr)
        # Each term's new postings go after its kept ones (np.insert keeps their order).
        at = np.repeat(np.cumsum(kept_counts), new_counts)
        out_passages = np.insert(old_passages.astype(np.int32), at, (new_passages + kept).astype(np.int32))
        out_tf = np.insert(old_tf.astype(np.int32), at, new_tf)
        merged_counts = kept_counts + new_counts
        parts.append(new)
    else:
        out_passages, out_tf, merged_counts = old_passages.astype(np.int32), old_tf.astype(np.int32), kept_counts
    merged_indptr = np.concatenate([[0], np.cumsum(merged_counts)])
    postings = builder._Postings(merged_indptr.astype(np.int64), out_passages, out_tf)
    return postings, PassageArrays.joined(parts)


def _update_vocabulary(
    writer, reader: IndexReader, mapper: _GrowingMapper, df: np.ndarray, old_df: np.ndarray | None = None
) -> None:
    """The store's terms and forms after the update: new ones added, document frequencies
    brought up to date, terms no passage has any more (and their forms) removed.

    ``old_df``: the document frequencies the store holds, when they are not the reader's
    own postings' (a shard's store holds the whole collection's: ``sharding.py``)."""
    first_new = mapper.first_new
    if old_df is None:
        old_df = np.diff(reader["postings_indptr"])
    changed = np.flatnonzero(df[:first_new] != old_df)
    gone = changed[df[changed] == 0]
    still = changed[df[changed] > 0]
    new_terms = [(first_new + i, term, int(df[first_new + i])) for i, term in enumerate(mapper.added_terms)]
    writer.update_vocabulary(
        [(int(df[t]), int(t)) for t in still],
        [int(t) for t in gone],
        [t for t in new_terms if t[2] > 0],
        [(form, term) for form, term in mapper.added_forms.items() if term < 0 or df[term] > 0],
    )


# -- the two entry points ---------------------------------------------------------------------


def update_index(
    target: str | os.PathLike[str],
    paths: Sequence[str | os.PathLike[str]],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    report: LoadReport | None = None,
    workers: int = 0,
) -> UpdateSummary:
    """Bring the index at ``target`` up to date with ``paths`` (see the module docstring)."""
    started = time.perf_counter()
    report = report if report is not None else LoadReport()
    target = Path(target)
    with writer_lock(target):
        with IndexReader(target) as reader:
            changes, _ = find_changes(reader, paths, include, exclude, report)
            summary = UpdateSummary(added=changes.added, updated=changes.updated)
            summary.removed = len(changes.removed) - changes.updated
            summary.written, sources = _write(target, reader, changes, workers)
            summary.unchanged = sources - changes.added - changes.updated
    summary.seconds = time.perf_counter() - started
    return summary


def _write(target: Path, reader: IndexReader, changes: _Changes, workers: int = 0) -> tuple[bool, int]:
    """Apply ``changes`` if there are any (else only remove what killed writers left);
    whether a new generation was written, and how many sources the index has now."""
    if changes:
        return True, apply_changes(target, reader, changes, workers).sources
    remove_debris(target)
    return False, reader.manifest.counts.sources


def find_removals(reader: IndexReader, names: Sequence[str]) -> tuple[_Changes, list[str]]:
    """The changes that remove documents by id, or every document read from a file (or
    under a folder); and the names that match nothing."""
    changes, missing = _Changes(), []
    stored = reader.inputs()
    for name in names:
        rows = reader.source_rows(doc_id=name)
        key = builder.input_key(name)
        files = [k for k in stored if _under(k, [key])]
        displays = [stored[k][0] for k in files] or [name]
        for display in displays:
            rows |= reader.source_rows(path=display)
        if not rows:
            missing.append(name)
        changes.removed |= rows
        changes.forget += files
    return changes, missing


def remove_documents(target: str | os.PathLike[str], names: Sequence[str]) -> UpdateSummary:
    """Remove documents by id, or every document read from a file (or under a folder)."""
    started = time.perf_counter()
    target = Path(target)
    summary = UpdateSummary()
    with writer_lock(target):
        with IndexReader(target) as reader:
            changes, summary.missing = find_removals(reader, names)
            summary.removed = len(changes.removed)
            summary.written, summary.unchanged = _write(target, reader, changes)
    summary.seconds = time.perf_counter() - started
    return summary
