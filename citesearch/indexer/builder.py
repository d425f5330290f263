"""Build an index: documents → passages → term ids → weighted postings on disk.

The steps, in order:

1. split each document into passages and map each passage's text to term ids;
2. count (term, passage) pairs into a term-major sparse matrix of frequencies;
3. weight every posting for BM25 and for TF-IDF;
4. write the arrays, the SQLite store and the manifest, then move the folder into place.
"""

from __future__ import annotations

import gc
import json
import logging
import multiprocessing
import os
import threading
import time
from array import array
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import chain, compress, islice

import numpy as np

from .. import __version__
from ..corpus import DEFAULT_OVERLAP, DEFAULT_WORDS, Document, DocumentReader, JsonlLines, LoadReport
from ..corpus.loading import Batch
from ..corpus.passages import passage_spans
from ..errors import NoInputError
from . import bm25, tfidf
from .analysis import AnalyzerConfig, TermMapper
from .impacts import PREFIX, impact_prefixes
from .numbering import FormIds
from .manifest import DEFAULT_METHOD, Counts, Manifest
from .storage import IndexWriter, writing

log = logging.getLogger(__name__)

CHUNK = 2000  # documents per batch handed to a worker
_BLOCK = 1 << 20  # postings weighed at a time
_NO_IDS = np.zeros(0, dtype=np.int32)
# From this much text on, forms are numbered by compiled code, which takes ~0.7 s to load.
COMPILED_FROM = 16_000_000


@dataclass(frozen=True)
class IndexSettings:
    analyzer: AnalyzerConfig = field(default_factory=AnalyzerConfig)
    passage_words: int = DEFAULT_WORDS
    passage_overlap: int = DEFAULT_OVERLAP
    bm25: bm25.BM25Params = field(default_factory=bm25.BM25Params)
    tfidf: tfidf.TfidfParams = field(default_factory=tfidf.TfidfParams)
    impact_prefix: int = PREFIX  # heaviest postings kept per long list, for pruning


@dataclass(frozen=True)
class BuildSummary:
    sources: int
    passages: int
    terms: int
    postings: int
    seconds: float


@dataclass
class _Chunk:
    """What a worker returns for a batch of documents."""

    worker: int  # the worker's process id: form ids are numbered per worker
    passage_counts: np.ndarray  # passages of each document
    bounds: np.ndarray  # (start, end) of every passage, documents in order
    new_forms: list[str]  # forms the worker met for the first time, in id order
    tokens: np.ndarray  # the worker's form ids of every passage, concatenated, stop words left out
    lengths: np.ndarray  # tokens per passage
    sources: list[tuple] | None = None  # the batch's source rows, if the worker parsed it (JSONL lines)
    report: LoadReport | None = None  # and what parsing it ran into

    def only(self, keep: list[bool]) -> _Chunk:
        """This batch without the documents whose ``keep`` is False (their forms stay)."""
        docs = np.array(keep, dtype=bool)
        passages = np.repeat(docs, self.passage_counts)
        return _Chunk(
            self.worker,
            self.passage_counts[docs],
            self.bounds[passages],
            self.new_forms,
            self.tokens[np.repeat(passages, self.lengths)],
            self.lengths[passages],
            list(compress(self.sources, keep)) if self.sources is not None else None,
            self.report,
        )


def _source_row(doc_id: str, path: str, title: str, text: str, metadata: dict) -> tuple[str, str, str | None, str, str]:
    """A document's row of the store's ``sources`` table, but for the row number."""
    return (
        doc_id,
        path,
        None if title == text else title,  # a one-line document's text is its title: stored once
        text,
        json.dumps(metadata, ensure_ascii=False) if metadata else "{}",
    )


class _Analysis:
    """A worker's state: tokenizer, passage settings, and its numbering of word forms.

    Each worker numbers the forms it meets, so the parent only extends one id map per
    worker with the forms that are new to it, stemming those no other worker brought
    (once each: the workers meet mostly the same forms), then remaps a batch's tokens
    with a single numpy lookup. Batches of one worker come back in the order it did
    them, so its map is always extended in id order. Stop words are left out of the
    tokens here.
    """

    def __init__(self, mapper: TermMapper, words: int, overlap: int, compiled: bool):
        self.stopwords = mapper.stopwords
        self.words = words
        self.overlap = overlap
        if compiled:
            from .compiled import CompiledFormIds

            self.numbering: FormIds | CompiledFormIds = CompiledFormIds(mapper.tokenizer)
        else:
            self.numbering = FormIds(mapper.tokenizer)
        self.stop = np.zeros(0, dtype=bool)  # by form id


_analysis: _Analysis | None = None


def _init_analysis(mapper: TermMapper, words: int, overlap: int, compiled: bool) -> None:
    global _analysis
    _analysis = _Analysis(mapper, words, overlap, compiled)


def _analyze(batch: list[str] | JsonlLines) -> _Chunk:
    """Split texts into passages and passages into numbered surface forms; JSONL lines
    are parsed first, and their documents' rows returned with what parsing ran into."""
    if _analysis is None:
        raise RuntimeError("analysis worker not initialized")
    a = _analysis
    sources = report = None
    if isinstance(batch, JsonlLines):
        report = LoadReport()
        records = batch.records(report)
        texts = [text for _, _, text, _ in records]
        path = batch.file.display
        sources = [_source_row(doc_id, path, title, text, meta) for doc_id, title, text, meta in records]
    else:
        texts = batch
    known = len(a.numbering)
    counts = array("i")
    bounds = array("q")
    passages = []
    for text in texts:
        doc_spans = passage_spans(text, a.words, a.overlap)
        counts.append(len(doc_spans))
        for start, end in doc_spans:
            bounds.extend((start, end))
            passages.append(text[start:end])
    ids, lengths = a.numbering.number(passages)
    new = a.numbering.forms_since(known)
    a.stop = np.concatenate([a.stop, np.array([f in a.stopwords for f in new], dtype=bool)])
    keep = ~a.stop[ids]
    passage_of = np.repeat(np.arange(len(lengths)), lengths)
    return _Chunk(
        os.getpid(),
        np.frombuffer(counts, dtype=np.int32),
        np.frombuffer(bounds, dtype=np.int64).reshape(-1, 2),
        new,
        ids[keep],
        np.bincount(passage_of[keep], minlength=len(lengths)).astype(np.int32),
        sources,
        report,
    )


def _chunks(documents: Iterable[Document], size: int) -> Iterator[list[Document]]:
    it = iter(documents)
    while chunk := list(islice(it, size)):
        yield chunk


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


def _work(batch: Batch) -> list[str] | JsonlLines:
    """What a worker gets of a batch: JSONL lines as they are, documents' texts."""
    return batch if isinstance(batch, JsonlLines) else [d.text for d in batch]


def _compiled_numbering() -> bool:
    """Load the compiled numbering (import numba; compile, or load what it compiled
    before); False, to number in Python, if that fails."""
    try:
        from .compiled import warm_up

        warm_up()
    except Exception as exc:  # noqa: BLE001 - numba missing or unusable here: the Python numbering is the same
        log.debug("numbering in Python: the compiled numbering did not load (%s)", exc)
        return False
    return True


def _analyzed(
    batches: Iterator[Batch], mapper: TermMapper, settings: IndexSettings, workers: int
) -> Iterator[tuple[Batch, _Chunk]]:
    """(batch, its analysis) one by one, in order; over worker processes when
    ``workers`` > 1."""
    ahead, large = _read_ahead(batches, COMPILED_FROM)
    compiled = large and mapper.tokenizer.default_pattern and _compiled_numbering()
    chunks = chain(ahead, batches)
    init = (mapper, settings.passage_words, settings.passage_overlap, compiled)
    if workers <= 1:
        _init_analysis(*init)
        for batch in chunks:
            yield batch, _analyze(_work(batch))
        return
    # Batches are read and submitted from this thread (so that an error in the input
    # surfaces here), with a few in flight per worker to keep them busy.
    ctx = multiprocessing.get_context("fork")
    # Not multiprocessing.Pool: its worker-handling thread waits on the results pipe
    # too, and spins while a result sits there unread (1.5 s of the parent's CPU and
    # GIL at 1M passages).
    with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_analysis, initargs=init) as pool:
        in_flight: deque[tuple[Batch, Future]] = deque()
        for batch in chunks:
            in_flight.append((batch, pool.submit(_analyze, _work(batch))))
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


def _count_postings(tokens: np.ndarray, lengths: np.ndarray, n_terms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The term × passage frequency matrix of ``tokens`` (term ids, passage after
    passage, ``lengths[i]`` of them in passage i), term-major: ``(indptr, passages, tf)``
    with each term's passages ascending.

    scipy's COO → CSR conversion does it in linear time: a counting sort by term that
    keeps the passage order, then one pass adding up repeats. (Sorting (term, passage)
    keys took 6× as long at 1M passages.)
    """
    from scipy.sparse import csr_matrix

    owner = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
    counts = csr_matrix((np.ones(len(tokens), dtype=np.int32), (tokens, owner)), shape=(n_terms, len(lengths)))
    if not counts.has_canonical_format:  # sorted, no repeats: what the constructor guarantees
        raise RuntimeError("postings are not in term-major passage order")
    return counts.indptr.astype(np.int64), counts.indices.astype(np.int32), counts.data


def _load_stemmer(mapper: TermMapper) -> None:
    """Make ``mapper``'s stemmer (NLTK's import), on a thread of its own."""
    try:
        mapper.stemmer  # noqa: B018 - made and kept on first use
    except Exception:  # noqa: BLE001, S110 - raised again where the stemmer is first used, in the main thread
        pass


def _map_terms(chunks: list[_Chunk], mapper: TermMapper, id_maps: dict[int, np.ndarray], token_parts: list[np.ndarray]) -> None:
    """Turn the workers' form ids of ``chunks`` into global term ids (appended to
    ``token_parts``; the tokens hold no stop words), stemming forms no worker brought
    before, and empty ``chunks``."""
    for chunk in chunks:
        added = [mapper.term_id(f) for f in chunk.new_forms]
        id_map = id_maps[chunk.worker] = np.concatenate([id_maps.get(chunk.worker, _NO_IDS), np.array(added, dtype=np.int32)])
        token_parts.append(id_map[chunk.tokens])
    chunks.clear()


def _without_unused_terms(
    indptr: np.ndarray, terms: list[str], forms: dict[str, int]
) -> tuple[np.ndarray, list[str], dict[str, int]]:
    """The postings' ``indptr``, the terms and the forms, without the terms that are in
    no passage: those met only in documents dropped after they were analyzed (a
    duplicate id in a JSONL batch parsed by a worker). Their forms are left out too."""
    used = np.flatnonzero(np.diff(indptr))
    renumbered = np.full(len(terms), -1, dtype=np.int64)
    renumbered[used] = np.arange(len(used))
    new_ids = renumbered.tolist()
    return (
        indptr[np.concatenate([[0], used + 1])],
        [terms[i] for i in used.tolist()],
        {form: -1 if term < 0 else new_ids[term] for form, term in forms.items() if term < 0 or new_ids[term] >= 0},
    )


def _save_bm25(
    writer: IndexWriter, settings: IndexSettings, indptr: np.ndarray, passages: np.ndarray, tf: np.ndarray,
    lengths: np.ndarray, avgdl: float,
) -> None:
    """BM25 weights of every posting, and each long list's heaviest (also ``impact_indptr``).

    Weighed a block of postings at a time: the same values, without float64 temporaries
    the size of the whole index (151 MB each at 1M passages) beside TF-IDF's."""
    df = np.diff(indptr)
    term_idf = bm25.idf(settings.bm25, df, len(lengths))
    terms = np.repeat(np.arange(len(df), dtype=np.int32), df)
    weights = np.empty(len(tf), dtype=np.float32)
    for a in range(0, len(tf), _BLOCK):
        b = a + _BLOCK
        weights[a:b] = bm25.weights(settings.bm25, tf[a:b], lengths[passages[a:b]] / avgdl, term_idf[terms[a:b]])
    del terms
    writer.save_array("bm25_weights", weights)
    impact_indptr, top = impact_prefixes(indptr, weights, settings.impact_prefix)
    writer.save_array("bm25_impacts", top)
    writer.save_array("impact_indptr", impact_indptr)


def _save_tfidf(
    writer: IndexWriter, settings: IndexSettings, indptr: np.ndarray, passages: np.ndarray, tf: np.ndarray, n_passages: int
) -> None:
    """TF-IDF weights of every posting, the idf of every term, each long list's heaviest."""
    weights, idf = tfidf.passage_weights(settings.tfidf, indptr, passages, tf, n_passages)
    writer.save_array("tfidf_weights", weights)
    writer.save_array("tfidf_idf", idf)
    writer.save_array("tfidf_impacts", impact_prefixes(indptr, weights, settings.impact_prefix)[1])


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
    workers = workers or os.cpu_count() or 1
    started = time.perf_counter()
    mapper = TermMapper(settings.analyzer)
    reader = documents if isinstance(documents, DocumentReader) else None
    batches = reader.batches(CHUNK) if reader else _chunks(documents, CHUNK)
    with _collector_paused(), writing(target) as writer:
        token_parts: list[np.ndarray] = []
        length_parts: list[np.ndarray] = []
        source_parts: list[np.ndarray] = []
        id_maps: dict[int, np.ndarray] = {}
        n_sources = n_passages = 0
        stemmer: threading.Thread | None = None
        unmapped: list[_Chunk] = []  # batches whose forms wait for the stemmer

        for batch, chunk in _analyzed(batches, mapper, settings, workers):
            if stemmer is None:
                # The workers are forked (they need no stemmer): make it on a thread,
                # so that importing NLTK (~1.5 s) overlaps their work.
                stemmer = threading.Thread(target=_load_stemmer, args=(mapper,), name="citesearch-stemmer", daemon=True)
                stemmer.start()
            if chunk.sources is None:
                sources = [_source_row(d.id, d.path, d.title, d.text, d.metadata) for d in batch]
            else:  # parsed by the worker: admitted here, in order
                assert reader is not None and chunk.report is not None
                reader.merge(chunk.report)
                keep = [reader.admit(row[0], row[1]) for row in chunk.sources]
                if not all(keep):
                    chunk = chunk.only(keep)
                sources = chunk.sources
            counts = chunk.passage_counts
            owners = np.repeat(np.arange(n_sources, n_sources + len(sources), dtype=np.int32), counts)
            ordinals = np.arange(len(owners)) - np.repeat(np.cumsum(counts) - counts, counts)
            writer.add_sources([(row, *source) for row, source in enumerate(sources, n_sources)])
            writer.add_passages(
                list(
                    zip(
                        range(n_passages, n_passages + len(owners)),
                        owners.tolist(),
                        ordinals.tolist(),
                        chunk.bounds[:, 0].tolist(),
                        chunk.bounds[:, 1].tolist(),
                    )
                )
            )
            source_parts.append(owners)
            n_sources += len(sources)
            n_passages += len(owners)
            length_parts.append(chunk.lengths)
            unmapped.append(chunk)
            if not stemmer.is_alive():
                _map_terms(unmapped, mapper, id_maps, token_parts)
        if stemmer is not None:
            stemmer.join()
        _map_terms(unmapped, mapper, id_maps, token_parts)

        if reader:
            reader.finish()
        if not mapper.terms_by_id:
            raise NoInputError(
                f"no words to index in the {n_sources:,} document{'' if n_sources == 1 else 's'} read "
                "(only stop words and one-character tokens)"
            )
        writer.sources_done()
        log.debug("read, split and tokenized %d passages: %.1f s", n_passages, time.perf_counter() - started)
        # A term was found, so there is at least one batch and one token.
        n_terms = len(mapper.terms_by_id)
        lengths_np = np.concatenate(length_parts)
        tokens = np.concatenate(token_parts)
        del token_parts, length_parts
        indptr, postings_passages, tf = _count_postings(tokens, lengths_np, n_terms)
        del tokens
        log.debug("counted %d postings: %.1f s", len(tf), time.perf_counter() - started)
        terms, forms = mapper.terms_by_id, mapper.forms
        if not np.diff(indptr).all():
            indptr, terms, forms = _without_unused_terms(indptr, terms, forms)
            n_terms = len(terms)
        writer.add_vocabulary(terms, np.diff(indptr), forms)  # on the store thread, meanwhile
        avgdl = float(lengths_np.mean())
        writer.save_array("postings_indptr", indptr)
        writer.save_array("postings_passages", postings_passages)
        writer.save_array("postings_tf", np.minimum(tf, np.iinfo(np.uint16).max).astype(np.uint16))
        writer.save_array("passage_source", np.concatenate(source_parts))
        writer.save_array("passage_length", lengths_np)
        # The two weightings are independent, and numpy and scipy let go of the GIL in
        # their loops: TF-IDF on a second thread, BM25 on this one.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="citesearch-tfidf") as side:
            tfidf_saved = side.submit(_save_tfidf, writer, settings, indptr, postings_passages, tf, n_passages)
            _save_bm25(writer, settings, indptr, postings_passages, tf, lengths_np, avgdl)
            tfidf_saved.result()
        log.debug("arrays and vocabulary written: %.1f s", time.perf_counter() - started)
        seconds = time.perf_counter() - started
        writer.commit(
            Manifest(
                analyzer=settings.analyzer,
                stopwords=frozenset(mapper.stopwords),
                passage_words=settings.passage_words,
                passage_overlap=settings.passage_overlap,
                bm25=settings.bm25,
                avg_passage_length=avgdl,
                tfidf=settings.tfidf,
                method=method,
                impact_prefix=settings.impact_prefix,
                counts=Counts(n_sources, n_passages, n_terms, int(len(tf)), int(lengths_np.sum())),
                created_by=f"citesearch {__version__}",
                created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                build_seconds=round(seconds, 3),
            )
        )
    log.debug("committed: %.1f s", time.perf_counter() - started)
    return BuildSummary(n_sources, n_passages, n_terms, int(len(tf)), seconds)
