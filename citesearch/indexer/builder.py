"""Build an index: documents → passages → term ids → weighted postings on disk.

The steps, in order, each a function or class below that :func:`build_index` calls:

1. read the input in batches (a :class:`~citesearch.corpus.DocumentReader`'s, which leaves
   JSONL lines for the next step to parse, or :func:`_batches_of` documents);
2. split each document into passages and number the word forms of each passage, stop
   words left out (:class:`_Analysis`);
3. admit the documents, the first with an id winning (:func:`_admitted`), and store their
   rows and their passages' (:class:`_StoreRows`);
4. number terms: stem each form once and map every batch's form ids to term ids
   (:class:`_TermIds`);
5. count (term, passage) pairs into a term-major sparse matrix of frequencies
   (:func:`_count_postings`), and keep the terms some passage has (:func:`_used_terms`);
6. weigh every posting for BM25, In_expC2 and TF-IDF (:func:`_weigh`);
7. write the vocabulary, the arrays (:func:`_save_postings`; the weights as they are
   weighed) and the manifest (:func:`_manifest`), then move the folder into place.

The plumbing around the steps: NLTK imported once, before the workers start
(:func:`_import_nltk`); step 2 in worker processes (:func:`_analyzed`); the store written
on a thread of its own (by the :class:`~.storage.IndexWriter`) and TF-IDF weighed on
another; the garbage collector paused (:func:`_collector_paused`).
"""

from __future__ import annotations

import gc
import logging
import multiprocessing
import os
import time
from array import array
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import chain, compress, islice
from typing import NamedTuple

import numpy as np

from .. import __version__
from ..corpus import DEFAULT_OVERLAP, DEFAULT_WORDS, Document, DocumentReader, JsonlLines, LoadReport
from ..corpus.loading import Batch, FirstIdWins, InputFile
from ..corpus.passages import DEFAULT_TITLE_WEIGHT, _sentence_splitter, passage_spans
from ..errors import CitesearchError, NoInputError
from ..plural import plural
from ..workers import die_with
from . import bm25, dfr, tfidf
from .analysis import DEFAULT_TOKEN_PATTERN, AnalyzerConfig, TermMapper, Tokenizer, stopword_list
from .blocks import term_blocks
from .impacts import PREFIX, impact_prefixes
from .manifest import DEFAULT_METHOD, Counts, Manifest
from .numbering import FormIds
from .storage import IndexWriter, PassageArrays, sha256_of, source_row, writing

try:
    from . import _counting
except ImportError:  # not built: scipy counts instead
    _counting = None
try:
    from . import _weighing
except ImportError:  # not built: numpy weighs, a block at a time
    _weighing = None
_WEIGHED_TF = (np.uint8, np.uint16, np.int32)  # the tf types the compiled weighing reads

log = logging.getLogger(__name__)

CHUNK = 2000  # documents per batch handed to a worker
_NO_IDS = np.zeros(0, dtype=np.int32)
# From this much text on, forms are numbered by compiled code (C: loaded in microseconds;
# numba's, where C was not built: ~0.3 s to load, ~2.4 s to compile the first time).
COMPILED_FROM = 16_000_000
# Workers are forked: they start in milliseconds and share what this process has loaded
# (NLTK, the compiled numbering). Their state is made from picklable settings alone
# (:class:`_AnalysisSettings`), so any start method builds the same index ("spawn" is tested).
START_METHOD = "fork"


@dataclass(frozen=True)
class IndexSettings:
    analyzer: AnalyzerConfig = field(default_factory=AnalyzerConfig)
    passage_words: int = DEFAULT_WORDS
    passage_overlap: int = DEFAULT_OVERLAP
    bm25: bm25.BM25Params = field(default_factory=bm25.BM25Params)
    tfidf: tfidf.TfidfParams = field(default_factory=tfidf.TfidfParams)
    impact_prefix: int = PREFIX  # heaviest postings kept per long list, for pruning
    title_weight: int = DEFAULT_TITLE_WEIGHT  # a document's title terms count this many times (see _Analysis)
    dfr: dfr.DFRParams | None = field(default_factory=dfr.DFRParams)
    """In_expC2 weights stored for the hybrid's probabilistic run (``indexer/dfr.py``);
    None: none stored, and the hybrid fuses BM25 with TF-IDF (as before issue 13's third round)."""


@dataclass(frozen=True)
class BuildSummary:
    sources: int
    passages: int
    terms: int
    postings: int
    seconds: float


# -- 1. read ---------------------------------------------------------------------------


def _batches_of(documents: Iterable[Document], size: int) -> Iterator[list[Document]]:
    it = iter(documents)
    while batch := list(islice(it, size)):
        yield batch


# -- 2. split into passages, number word forms -------------------------------------------


@dataclass(frozen=True)
class _AnalysisSettings:
    """All a worker's state is made from: plain settings, picklable."""

    analyzer: AnalyzerConfig
    words: int  # passage size
    overlap: int
    compiled: bool  # number forms with the compiled code
    title_weight: int


@dataclass
class _Analyzed:
    """A batch of documents, analyzed."""

    worker: int  # the worker's process id: form ids are numbered per worker
    passage_counts: np.ndarray  # passages of each document
    bounds: np.ndarray  # (start, end) of every passage, documents in order
    new_forms: list[str]  # forms the worker met for the first time, in id order
    tokens: np.ndarray  # the worker's form ids of every passage, concatenated, stop words left out
    lengths: np.ndarray  # tokens per passage
    sources: list[tuple] | None = None  # the batch's source rows, if the worker parsed it (JSONL lines)
    report: LoadReport | None = None  # and what parsing it ran into

    def only(self, keep: list[bool]) -> _Analyzed:
        """This batch without the documents whose ``keep`` is False (their forms stay)."""
        docs = np.array(keep, dtype=bool)
        passages = np.repeat(docs, self.passage_counts)
        return _Analyzed(
            self.worker,
            self.passage_counts[docs],
            self.bounds[passages],
            self.new_forms,
            self.tokens[np.repeat(passages, self.lengths)],
            self.lengths[passages],
            list(compress(self.sources, keep)) if self.sources is not None else None,
            self.report,
        )


class _Analysis:
    """Step 2, as one worker does it: split texts into passages and number the surface
    forms of each passage, in order of first appearance; stop words are left out of the
    tokens here. JSONL lines are parsed first.

    Each worker numbers the forms it meets, so that the parent only extends one id map
    per worker with the forms new to it (:class:`_TermIds`).

    With a title weight w > 1, a document's title counts w times: its tokens (stop words
    left out, as in the text) are added w − 1 more times to its first passage's tokens,
    so that tf and passage length grow, for BM25 and TF-IDF alike, while the stored text,
    the passages' offsets and the snippets stay as they are. A document whose title is
    its whole text (a one-line document), or that has no title of its own
    (:attr:`Document.title_declared`), gets nothing added.
    """

    def __init__(self, settings: _AnalysisSettings):
        tokenizer = Tokenizer(settings.analyzer)
        self.stopwords = frozenset(stopword_list(settings.analyzer.stopwords))
        self.words = settings.words
        self.overlap = settings.overlap
        self.title_weight = settings.title_weight
        if settings.compiled:
            from .compiled import CompiledFormIds

            self.numbering: FormIds | CompiledFormIds = CompiledFormIds(tokenizer)
        else:
            self.numbering = FormIds(tokenizer)
        self.stop = np.zeros(0, dtype=bool)  # by form id

    def analyze(self, batch: list[str] | JsonlLines, titles: list[str] | None = None) -> _Analyzed:
        """The analysis of texts (whose ``titles`` are needed with a title weight), or of
        JSONL lines with their documents' rows and what parsing them ran into."""
        sources = report = None
        if isinstance(batch, JsonlLines):
            report = LoadReport()
            records = batch.records(report)
            texts = [text for _, _, text, _, _ in records]
            titles = [title if declared else "" for _, title, _, _, declared in records]
            path = batch.file.display
            sources = [source_row(doc_id, path, title, text, meta) for doc_id, title, text, meta, _ in records]
        else:
            texts = batch
        known = len(self.numbering)
        counts = array("i")
        bounds = array("q")
        passages = []
        for text in texts:
            doc_spans = passage_spans(text, self.words, self.overlap)
            counts.append(len(doc_spans))
            for start, end in doc_spans:
                bounds.extend((start, end))
                passages.append(text[start:end])
        weighted = self.title_weight > 1 and titles is not None
        if weighted:
            assert titles is not None
            passages += ["" if title == text else title for title, text in zip(titles, texts)]
        ids, lengths = self.numbering.number(passages)
        passage_counts = np.frombuffer(counts, dtype=np.int32)
        if weighted:
            ids, lengths = self._titles_weighed(ids, lengths, passage_counts)
        new = self.numbering.forms_since(known)
        self.stop = np.concatenate([self.stop, np.array([f in self.stopwords for f in new], dtype=bool)])
        keep = ~self.stop[ids]
        passage_of = np.repeat(np.arange(len(lengths)), lengths)
        return _Analyzed(
            os.getpid(),
            passage_counts,
            np.frombuffer(bounds, dtype=np.int64).reshape(-1, 2),
            new,
            ids[keep],
            np.bincount(passage_of[keep], minlength=len(lengths)).astype(np.int32),
            sources,
            report,
        )


    def _titles_weighed(
        self, ids: np.ndarray, lengths: np.ndarray, passage_counts: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """The form ids and lengths of the passages, from those of the passages followed
        by the documents' titles, each document's title put ``title_weight`` − 1 times
        after its first passage's tokens."""
        n_passages = len(lengths) - len(passage_counts)
        starts = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)])
        # The token segments, in order: each passage's own, then, after a document's first
        # passage, its title's (w − 1) times (a document without passages has no title added).
        firsts = (np.cumsum(passage_counts) - passage_counts)[passage_counts > 0]
        docs = np.flatnonzero(passage_counts > 0)
        extra = self.title_weight - 1
        seg_passage = np.concatenate([np.arange(n_passages), np.repeat(firsts, extra)])
        seg_source = np.concatenate([np.arange(n_passages), np.repeat(n_passages + docs, extra)])
        # Stable sort by passage: a passage's own tokens first, then its title copies.
        order = np.argsort(seg_passage, kind="stable")
        seg_passage, seg_source = seg_passage[order], seg_source[order]
        seg_lengths = lengths[seg_source].astype(np.int64)
        seg_out = np.cumsum(seg_lengths) - seg_lengths
        gather = np.arange(int(seg_lengths.sum()), dtype=np.int64)
        gather += np.repeat(starts[seg_source] - seg_out, seg_lengths)
        new_lengths = np.bincount(seg_passage, weights=seg_lengths, minlength=n_passages).astype(np.int32)
        return ids[gather], new_lengths


# -- 3. admit documents, store their rows ------------------------------------------------


def _admitted(
    reader: DocumentReader | None, ids: FirstIdWins, batch: Batch, analyzed: _Analyzed
) -> tuple[list[tuple], _Analyzed]:
    """The store rows of a batch's documents that go into the index, and their analysis.

    The first document with an id wins (:class:`~citesearch.corpus.loading.FirstIdWins`).
    The reader admitted the documents it parsed as it read them; the documents of JSONL
    lines, parsed by a worker, are admitted here, in input order, and one whose id was
    taken is left out with its passages (its forms stay numbered: the terms only it had
    are left out by :func:`_used_terms`). Documents handed over as a plain iterable must
    have distinct ids (``ids`` checks them): a repeat is an error.
    """
    if analyzed.sources is None:
        if reader is None:  # a plain iterable: nobody admitted its documents
            for d in batch:
                if not ids.admit(d.id, d.path):
                    raise CitesearchError(
                        f"{d.path}: document id {d.id!r} was already taken by another document",
                        hint="Ids must be unique; corpus.read_documents skips a repeated id with a warning.",
                    )
        return [source_row(d.id, d.path, d.title, d.text, d.metadata) for d in batch], analyzed
    assert reader is not None and analyzed.report is not None
    reader.merge(analyzed.report)
    keep = [reader.ids.admit(doc_id, path) for doc_id, path, *_ in analyzed.sources]
    if not all(keep):
        analyzed = analyzed.only(keep)
    assert analyzed.sources is not None
    return analyzed.sources, analyzed


class _StoreRows:
    """The store's rows of the admitted documents (``sources``), numbered across batches,
    written on the store's thread; and their passages' arrays (:class:`PassageArrays`)."""

    def __init__(self, writer: IndexWriter):
        self.writer = writer
        self.sources = 0
        self.passages = 0
        self._parts: list[PassageArrays] = []

    def add(self, sources: list[tuple], analyzed: _Analyzed) -> None:
        counts = analyzed.passage_counts
        owners = np.repeat(np.arange(self.sources, self.sources + len(sources), dtype=np.int32), counts)
        ordinals = np.arange(len(owners)) - np.repeat(np.cumsum(counts) - counts, counts)
        self.writer.add_sources([(row, *source) for row, source in enumerate(sources, self.sources)])
        bounds = analyzed.bounds
        self._parts.append(PassageArrays(owners, analyzed.lengths, ordinals, bounds[:, 0], bounds[:, 1]))
        self.sources += len(sources)
        self.passages += len(owners)

    def passage_arrays(self) -> PassageArrays:
        """Every passage's arrays, in row order."""
        return PassageArrays.joined(self._parts) if self._parts else PassageArrays(*([np.zeros(0, np.int32)] * 5))


# -- 4. number terms ---------------------------------------------------------------------


class _TermIds:
    """Every passage's term ids, from its worker's form ids.

    A worker's forms are numbered in the order it met them: its id map is extended with
    the forms new to it (stemming, once each, those no worker brought before: the workers
    meet mostly the same forms), then a batch's tokens are mapped with one numpy lookup.
    A worker's batches come back in the order it did them, so its map grows in id order.
    """

    def __init__(self, mapper: TermMapper):
        self.mapper = mapper
        self._id_maps: dict[int, np.ndarray] = {}  # by worker
        self._tokens: list[np.ndarray] = []

    def add(self, analyzed: _Analyzed) -> None:
        added = np.array([self.mapper.term_id(f) for f in analyzed.new_forms], dtype=np.int32)
        id_map = np.concatenate([self._id_maps.get(analyzed.worker, _NO_IDS), added])
        self._id_maps[analyzed.worker] = id_map
        self._tokens.append(id_map[analyzed.tokens])

    def tokens(self) -> list[np.ndarray]:
        """The term ids of every passage, batch after batch (handed over, not kept here)."""
        tokens, self._tokens = self._tokens, []
        return tokens


# -- 5. count postings ---------------------------------------------------------------------


class _Postings(NamedTuple):
    """A term-major sparse matrix of frequencies: term t's passages, ascending, are
    ``passages[indptr[t]:indptr[t + 1]]``."""

    indptr: np.ndarray
    passages: np.ndarray
    tf: np.ndarray


class CollectionStats(NamedTuple):
    """The whole collection's statistics, when the postings weighed are one shard of it
    (``sharding.py``): each term's document frequency, the passage count, each term's
    collection frequency (In_expC2's)."""

    df: np.ndarray
    passages: int
    cf: np.ndarray


def _count_postings(tokens: list[np.ndarray], lengths: np.ndarray, n_terms: int) -> _Postings:
    """The term × passage frequency matrix of ``tokens`` (term ids, passage after
    passage, ``lengths[i]`` of them in passage i; in parts, as the batches came).

    A counting sort by term that keeps the passage order, then each term's repeats in a
    passage made one posting: in linear time, by the compiled ``_counting`` (built with
    the package; its frequencies take one byte when they fit) or else by scipy's COO →
    CSR conversion, which does the same with four more arrays as long as the tokens (at
    10M passages, 770 MB each, and seconds of page faults). The same matrix either way.
    (Sorting (term, passage) keys took 6× as long at 1M passages.)
    """
    if _counting is not None:
        parts = [np.ascontiguousarray(part, dtype=np.int32) for part in tokens]
        indptr = np.empty(n_terms + 1, dtype=np.int64)
        passages = np.empty(sum(map(len, parts)), dtype=np.int32)
        m, longest = _counting.count(parts, np.ascontiguousarray(lengths, dtype=np.int32), n_terms, indptr, passages)
        tf = np.empty(m, dtype=np.uint8 if longest <= np.iinfo(np.uint8).max else np.uint32)
        _counting.compact(indptr, passages, tf, m)
        # The slots left over after the postings (a term's repeats) stay unless they are many.
        return _Postings(indptr, passages[:m] if m > 0.9 * len(passages) else passages[:m].copy(), tf)
    from scipy.sparse import csr_matrix

    tokens = np.concatenate(tokens) if tokens else np.zeros(0, dtype=np.int32)
    owner = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
    counts = csr_matrix((np.ones(len(tokens), dtype=np.int32), (tokens, owner)), shape=(n_terms, len(lengths)))
    if not counts.has_canonical_format:  # sorted, no repeats: what the constructor guarantees
        raise RuntimeError("postings are not in term-major passage order")
    return _Postings(counts.indptr.astype(np.int64), counts.indices.astype(np.int32), counts.data)


def _used_terms(indptr: np.ndarray, mapper: TermMapper) -> tuple[np.ndarray, list[str], dict[str, int]]:
    """The postings' ``indptr``, the terms and the forms, without the terms that are in
    no passage (so that no term has df 0): those met only in documents left out after
    they were analyzed (see :func:`_admitted`). Their forms are left out too."""
    terms, forms = mapper.terms_by_id, mapper.forms
    if np.diff(indptr).all():
        return indptr, terms, forms
    used = np.flatnonzero(np.diff(indptr))
    renumbered = np.full(len(terms), -1, dtype=np.int64)
    renumbered[used] = np.arange(len(used))
    new_ids = renumbered.tolist()
    return (
        indptr[np.concatenate([[0], used + 1])],
        [terms[i] for i in used.tolist()],
        {form: -1 if term < 0 else new_ids[term] for form, term in forms.items() if term < 0 or new_ids[term] >= 0},
    )


# -- 6. weigh --------------------------------------------------------------------------------


def _weigh(
    writer: IndexWriter, settings: IndexSettings, postings: _Postings, lengths: np.ndarray, avgdl: float,
    collection: CollectionStats | None = None,
) -> None:
    """BM25, In_expC2 and TF-IDF weights of every posting, written as they are made. They
    are independent, and numpy lets go of the GIL in its loops: each on a thread of its
    own. (With BM25 and In_expC2 one after the other beside TF-IDF, a 10M-passage build's
    second core idled for their last 7 s: weighing took 19.0 s, on three threads 16.2.)

    ``collection``: the whole collection's statistics when these postings are one shard
    of it (``avgdl`` is then the collection's too)."""
    # One byte a tf where they fit: a quarter of the bytes to read for each weighing, and
    # TF-IDF looks up 1 + log tf.
    postings = postings._replace(tf=_one_byte(postings.tf))
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="citesearch-weigh") as side:
        saved = [side.submit(_save_tfidf, writer, settings, postings, len(lengths), collection)]
        if settings.dfr is not None:
            saved.append(side.submit(_save_dfr, writer, settings, postings, lengths, avgdl, collection))
        _save_bm25(writer, settings, postings, lengths, avgdl, collection)
        for future in saved:
            future.result()


def _save_bm25(
    writer: IndexWriter, settings: IndexSettings, postings: _Postings, lengths: np.ndarray, avgdl: float,
    collection: CollectionStats | None = None,
) -> None:
    """BM25 weights of every posting, and each long list's heaviest (also ``impact_indptr``).

    Weighed a block of postings at a time: the same values, without float64 temporaries
    the size of the whole index (151 MB each at 1M passages) beside TF-IDF's."""
    indptr, passages, tf = postings
    df = np.diff(indptr)
    global_df, n_total = (collection.df, collection.passages) if collection is not None else (df, len(lengths))
    term_idf = bm25.term_idf(settings.bm25, global_df, n_total)  # terms gone after an update: left out
    parts = bm25.length_parts(settings.bm25, lengths / avgdl)  # a passage's, once: the same values per posting
    if _weighing is not None and settings.bm25.variant == "okapi" and tf.dtype in _WEIGHED_TF:
        weights = np.empty(len(tf), dtype=np.float32)
        _weighing.okapi(indptr, passages, tf, parts, term_idf, settings.bm25.k1 + 1, weights)
    else:
        weights = _blockwise(postings, lambda terms, a, b: bm25.weights(settings.bm25, tf[a:b], parts[passages[a:b]],
                                                                        term_idf[terms]))
    writer.save_array("bm25_weights", weights)
    impact_indptr, top = impact_prefixes(indptr, weights, settings.impact_prefix)
    writer.save_array("bm25_impacts", top)
    writer.save_array("impact_indptr", impact_indptr)


def _save_dfr(
    writer: IndexWriter, settings: IndexSettings, postings: _Postings, lengths: np.ndarray, avgdl: float,
    collection: CollectionStats | None = None,
) -> None:
    """In_expC2 weights of every posting (``indexer/dfr.py``), and each long list's heaviest."""
    assert settings.dfr is not None
    indptr, passages, tf = postings
    if collection is None:
        collection = CollectionStats(np.diff(indptr), len(lengths), dfr.collection_frequency(indptr, tf))
    global_df, n_total, cf = collection
    factor = dfr.term_factors(global_df, cf, n_total)
    norms = dfr.length_norms(settings.dfr, lengths / avgdl)  # a passage's, once: the same values per posting
    if _weighing is not None and tf.dtype in _WEIGHED_TF:
        weights = np.empty(len(tf), dtype=np.float32)
        _weighing.in_expc2(indptr, passages, tf, norms, factor, weights)
    else:
        weights = _blockwise(postings, lambda terms, a, b: dfr.weights(tf[a:b], norms[passages[a:b]], factor[terms]))
    writer.save_array("dfr_weights", weights)
    writer.save_array("dfr_impacts", impact_prefixes(indptr, weights, settings.impact_prefix)[1])


def _blockwise(postings: _Postings, weigh) -> np.ndarray:
    """float32 weights of every posting, ``weigh(term ids, start, stop)`` a block at a time."""
    weights = np.empty(len(postings.tf), dtype=np.float32)
    for a, b, terms in term_blocks(postings.indptr):
        weights[a:b] = weigh(terms, a, b)
    return weights


def _save_tfidf(
    writer: IndexWriter, settings: IndexSettings, postings: _Postings, n_passages: int,
    collection: CollectionStats | None = None,
) -> None:
    """TF-IDF weights of every posting, the idf of every term, each long list's heaviest."""
    indptr, passages, tf = postings
    weights, idf = tfidf.passage_weights(
        settings.tfidf, indptr, passages, tf, n_passages,
        (collection.df, collection.passages) if collection is not None else None,
    )
    writer.save_array("tfidf_weights", weights)
    writer.save_array("tfidf_idf", idf)
    writer.save_array("tfidf_impacts", impact_prefixes(indptr, weights, settings.impact_prefix)[1])


# -- 7. write --------------------------------------------------------------------------------


def _save_postings(writer: IndexWriter, postings: _Postings, passages: PassageArrays) -> None:
    """The matrix, and the passages' arrays. Frequencies take one byte when none is above
    255 (no 200-word passage has one), else two, capped there."""
    writer.save_array("postings_indptr", postings.indptr)
    writer.save_array("postings_passages", postings.passages)
    tf = _one_byte(postings.tf)
    if tf.dtype != np.uint8:
        tf = np.minimum(tf, np.iinfo(np.uint16).max).astype(np.uint16)
    writer.save_array("postings_tf", tf)
    writer.save_passages(passages)


def _one_byte(tf: np.ndarray) -> np.ndarray:
    """``tf`` as one byte a value if every one fits (as the compiled counting gives it
    already), else as it is."""
    if tf.dtype == np.uint8 or int(tf.max(initial=0)) > np.iinfo(np.uint8).max:
        return tf
    return tf.astype(np.uint8)


def _manifest(
    settings: IndexSettings, mapper: TermMapper, method: str, counts: Counts, avgdl: float, seconds: float
) -> Manifest:
    return Manifest(
        analyzer=settings.analyzer,
        stopwords=frozenset(mapper.stopwords),
        passage_words=settings.passage_words,
        passage_overlap=settings.passage_overlap,
        bm25=settings.bm25,
        avg_passage_length=avgdl,
        tfidf=settings.tfidf,
        dfr=settings.dfr,
        method=method,
        impact_prefix=settings.impact_prefix,
        counts=counts,
        created_by=f"citesearch {__version__}",
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        build_seconds=round(seconds, 3),
        title_weight=settings.title_weight,
    )


# -- the input files, for updates ---------------------------------------------------------------


def input_key(path: str | os.PathLike[str]) -> str:
    """How the store's ``inputs`` name a file: its absolute path."""
    return os.path.abspath(path)


def input_row(f: InputFile) -> tuple[str, str, int, int, str]:
    """A file's row of the store's ``inputs``: (file, display, bytes, mtime_ns, sha256)."""
    st = os.stat(f.path)
    return (input_key(f.path), f.display, st.st_size, st.st_mtime_ns, sha256_of(f.path))


def _input_rows(files: list[InputFile]) -> list[tuple[str, str, int, int, str]]:
    """The ``inputs`` rows of the files read (checksummed on two threads)."""
    with ThreadPoolExecutor(max_workers=2) as pool:  # hashlib lets go of the GIL
        return [r for r in pool.map(_maybe_input_row, files) if r is not None]


def _maybe_input_row(f: InputFile) -> tuple[str, str, int, int, str] | None:
    try:
        return input_row(f) if os.path.isfile(f.path) else None
    except OSError:
        return None


# -- plumbing ----------------------------------------------------------------------------------


def _import_nltk(mapper: TermMapper) -> None:
    """Import NLTK (about 0.7 s) once, here, before the workers start: this process stems
    with it (step 4), the workers split sentences with it (step 2, ``corpus.passages``).
    Forked, they inherit it instead of each importing it again."""
    mapper.stemmer  # noqa: B018 - made now, and kept
    _sentence_splitter()


def _compiled_numbering() -> bool:
    """Load the compiled numbering (C, built at install; else numba's: compiled, or
    loaded from what it compiled before); False, to number in Python, if that fails."""
    try:
        from .compiled import warm_up

        warm_up()
    except Exception as exc:  # noqa: BLE001 - numba missing or unusable here: the Python numbering is the same
        log.debug("numbering in Python: the compiled numbering did not load (%s)", exc)
        return False
    return True


def _read_ahead(batches: Iterator[Batch], chars: int) -> tuple[list[Batch], bool]:
    """Batches until they hold ``chars`` characters of text (or bytes of JSONL) or run
    out; and whether they reached it."""
    ahead: list[Batch] = []
    read = 0
    for batch in batches:
        ahead.append(batch)
        read += batch.size if isinstance(batch, JsonlLines) else sum(len(d.text) for d in batch)
        if read >= chars:
            return ahead, True
    return ahead, False


def _work(batch: Batch, title_weight: int = 1) -> tuple:
    """What a worker gets of a batch, as :meth:`_Analysis.analyze`'s arguments: JSONL lines
    as they are, documents' texts (and, with a title weight, their titles)."""
    if isinstance(batch, JsonlLines):
        return (batch,)
    texts = [d.text for d in batch]
    return (texts, [d.title if d.title_declared else "" for d in batch]) if title_weight > 1 else (texts,)


_worker: _Analysis | None = None  # a worker process's state, made by _start_worker


def _start_worker(settings: _AnalysisSettings, parent: int) -> None:
    global _worker
    die_with(parent)
    _worker = _Analysis(settings)


def _analyze_in_worker(*work: list[str] | JsonlLines) -> _Analyzed:
    if _worker is None:
        raise RuntimeError("analysis worker not initialized")
    return _worker.analyze(*work)


def _analyzed(batches: Iterator[Batch], settings: IndexSettings, workers: int) -> Iterator[tuple[Batch, _Analyzed]]:
    """(batch, its analysis) one by one, in order; over worker processes when ``workers``
    > 1. The first batches are read ahead to tell whether the input is large enough for
    the compiled numbering, which is then loaded here, before the workers start."""
    ahead, large = _read_ahead(batches, COMPILED_FROM)
    default_pattern = settings.analyzer.token_pattern == DEFAULT_TOKEN_PATTERN
    compiled = large and default_pattern and _compiled_numbering()
    analysis = _AnalysisSettings(
        settings.analyzer, settings.passage_words, settings.passage_overlap, compiled, settings.title_weight
    )
    batches = chain(ahead, batches)
    if workers <= 1:
        here = _Analysis(analysis)
        for batch in batches:
            yield batch, here.analyze(*_work(batch, settings.title_weight))
        return
    # Batches are read and submitted from this thread (so that an error in the input
    # surfaces here), with a few in flight per worker to keep them busy.
    ctx = multiprocessing.get_context(START_METHOD)
    # Not multiprocessing.Pool: its worker-handling thread waits on the results pipe
    # too, and spins while a result sits there unread (1.5 s of the parent's CPU and
    # GIL at 1M passages).
    start = {"initializer": _start_worker, "initargs": (analysis, os.getpid())}
    with ProcessPoolExecutor(workers, mp_context=ctx, **start) as pool:
        in_flight: deque[tuple[Batch, Future]] = deque()
        for batch in batches:
            in_flight.append((batch, pool.submit(_analyze_in_worker, *_work(batch, settings.title_weight))))
            if len(in_flight) > 2 * workers:
                done, result = in_flight.popleft()
                yield done, result.result()
        while in_flight:
            done, result = in_flight.popleft()
            yield done, result.result()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: a build allocates millions of objects that
    live a moment (records, documents, rows), and each full collection would also walk
    everything the imports made (about 3 s of a 1M-passage build). Nothing it makes is
    cyclic garbage worth collecting midway."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def build_index(
    documents: Iterable[Document] | DocumentReader,
    target: str | os.PathLike[str],
    settings: IndexSettings | None = None,
    method: str = DEFAULT_METHOD,
    workers: int = 0,
) -> BuildSummary:
    """Index ``documents`` into the folder ``target``, replacing any index there.

    ``workers`` processes split and tokenize the text (0: one per core), and parse the
    JSONL lines of a :class:`DocumentReader` (what ``read_documents`` and
    ``load_documents`` return); this process reads the files, numbers terms and writes
    the store.
    """
    settings = settings or IndexSettings()
    if settings.title_weight < 1:
        raise ValueError(f"title_weight must be 1 or more, not {settings.title_weight}")
    workers = workers or os.cpu_count() or 1
    started = time.perf_counter()
    mapper = TermMapper(settings.analyzer)
    _import_nltk(mapper)
    reader = documents if isinstance(documents, DocumentReader) else None
    ids = reader.ids if reader else FirstIdWins(LoadReport())
    batches = reader.batches(CHUNK) if reader else _batches_of(documents, CHUNK)
    inputs: Future | None = None
    with _collector_paused(), writing(target) as writer:
        rows, term_ids = _StoreRows(writer), _TermIds(mapper)
        for batch, analyzed in _analyzed(batches, settings, workers):
            sources, analyzed = _admitted(reader, ids, batch, analyzed)
            rows.add(sources, analyzed)
            term_ids.add(analyzed)
        if reader:
            reader.finish()
            if isinstance(reader.files, list):  # what was read, for updates (while the arrays are made)
                inputs = ThreadPoolExecutor(max_workers=1).submit(_input_rows, reader.files)
        if not mapper.terms_by_id:
            raise NoInputError(
                f"no words to index in the {plural(rows.sources, 'document')} read "
                "(only stop words and one-character tokens)"
            )
        writer.sources_done()
        log.debug("read, split and tokenized %d passages: %.1f s", rows.passages, time.perf_counter() - started)
        passages = rows.passage_arrays()
        lengths = passages.length
        postings = _count_postings(term_ids.tokens(), lengths, len(mapper.terms_by_id))
        log.debug("counted %d postings: %.1f s", len(postings.tf), time.perf_counter() - started)
        indptr, terms, forms = _used_terms(postings.indptr, mapper)
        postings = postings._replace(indptr=indptr)
        writer.add_vocabulary(terms, np.diff(indptr), forms)  # on the store thread, meanwhile
        _save_postings(writer, postings, passages)
        avgdl = float(lengths.mean())
        _weigh(writer, settings, postings, lengths, avgdl)
        log.debug("arrays and vocabulary written: %.1f s", time.perf_counter() - started)
        seconds = time.perf_counter() - started
        counts = Counts(rows.sources, rows.passages, len(terms), len(postings.tf), int(lengths.sum()))
        if inputs is not None:
            writer.set_inputs(inputs.result())
        writer.commit(_manifest(settings, mapper, method, counts, avgdl, seconds))
    log.debug("committed: %.1f s", time.perf_counter() - started)
    return BuildSummary(counts.sources, counts.passages, counts.terms, counts.postings, seconds)
