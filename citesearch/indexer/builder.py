"""Build an index: documents → passages → term ids → weighted postings on disk.

The steps, in order:

1. split each document into passages and map each passage's text to term ids;
2. count (term, passage) pairs into a term-major sparse matrix of frequencies;
3. weight every posting for BM25 and for TF-IDF;
4. write the arrays, the SQLite store and the manifest, then move the folder into place.
"""

from __future__ import annotations

import json
import os
import time
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone

import numpy as np

from .. import __version__
from ..corpus import DEFAULT_OVERLAP, DEFAULT_WORDS, Document, split_passages
from . import bm25, tfidf
from .analysis import AnalyzerConfig, TermMapper
from .storage import writing

DEFAULT_METHOD = "hybrid"  # the search package's default; kept here so indexer never imports search


@dataclass(frozen=True)
class IndexSettings:
    analyzer: AnalyzerConfig = field(default_factory=AnalyzerConfig)
    passage_words: int = DEFAULT_WORDS
    passage_overlap: int = DEFAULT_OVERLAP
    bm25: bm25.BM25Params = field(default_factory=bm25.BM25Params)
    tfidf: tfidf.TfidfParams = field(default_factory=tfidf.TfidfParams)


@dataclass(frozen=True)
class BuildSummary:
    sources: int
    passages: int
    terms: int
    postings: int
    seconds: float


def build_index(
    documents: Iterable[Document],
    target: str | os.PathLike[str],
    settings: IndexSettings | None = None,
    method: str = DEFAULT_METHOD,
) -> BuildSummary:
    """Index ``documents`` into the folder ``target``, replacing any index there."""
    settings = settings or IndexSettings()
    started = time.perf_counter()
    mapper = TermMapper(settings.analyzer)
    with writing(target) as writer:
        tokens = array("i")
        lengths = array("i")
        passage_source = array("i")
        sources: list[tuple[int, str, str, str, str, str]] = []
        passages: list[tuple[int, int, int, int, int]] = []
        n_sources = 0
        for doc in documents:
            row = n_sources
            n_sources += 1
            sources.append((row, doc.id, doc.path, doc.title, doc.text, json.dumps(doc.metadata, ensure_ascii=False)))
            for p in split_passages(doc, settings.passage_words, settings.passage_overlap):
                ids = mapper.term_ids(doc.text[p.start : p.end])
                tokens.extend(ids)
                lengths.append(len(ids))
                passage_source.append(row)
                passages.append((len(passages), row, p.ordinal, p.start, p.end))
            if len(sources) >= 2000:
                writer.add_sources(sources)
                sources.clear()
        writer.add_sources(sources)
        writer.add_passages(passages)
        n_passages = len(passages)
        del passages, sources

        # Term-major counts: sorting (term, passage) keys groups postings by term,
        # with passages ascending within each term.
        n_terms = len(mapper.terms_by_id)
        lengths_np = np.frombuffer(lengths, dtype=np.int32)
        passage_of_token = np.repeat(np.arange(n_passages, dtype=np.int64), lengths_np)
        keys = np.frombuffer(tokens, dtype=np.int32).astype(np.int64) * max(n_passages, 1) + passage_of_token
        del passage_of_token
        keys, tf = np.unique(keys, return_counts=True)
        postings_terms = keys // max(n_passages, 1)
        postings_passages = (keys - postings_terms * max(n_passages, 1)).astype(np.int32)
        del keys
        df = np.bincount(postings_terms, minlength=n_terms).astype(np.int64)
        indptr = np.zeros(n_terms + 1, dtype=np.int64)
        np.cumsum(df, out=indptr[1:])

        avgdl = float(lengths_np.mean()) if n_passages else 0.0
        rel_len = lengths_np[postings_passages] / avgdl if avgdl else np.zeros(len(tf))
        term_idf = bm25.idf(settings.bm25, df, n_passages)
        bm25_weights = bm25.weights(settings.bm25, tf, rel_len, term_idf[postings_terms]).astype(np.float32)
        del rel_len, postings_terms
        tfidf_weights, tfidf_idf = tfidf.passage_weights(settings.tfidf, indptr, postings_passages, tf, n_passages)

        writer.save_array("postings_indptr", indptr)
        writer.save_array("postings_passages", postings_passages)
        writer.save_array("postings_tf", np.minimum(tf, np.iinfo(np.uint16).max).astype(np.uint16))
        writer.save_array("bm25_weights", bm25_weights)
        writer.save_array("tfidf_weights", tfidf_weights)
        writer.save_array("tfidf_idf", tfidf_idf)
        writer.save_array("passage_source", np.frombuffer(passage_source, dtype=np.int32))
        writer.save_array("passage_length", lengths_np)
        writer.add_vocabulary(mapper.terms_by_id, df, mapper.forms)

        seconds = time.perf_counter() - started
        writer.commit(
            {
                "created_by": f"citesearch {__version__}",
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "analyzer": {**settings.analyzer.to_dict(), "stopword_list": sorted(mapper.stopwords)},
                "passages": {"words": settings.passage_words, "overlap": settings.passage_overlap},
                "bm25": {**settings.bm25.to_dict(), "avg_passage_length": avgdl},
                "tfidf": settings.tfidf.to_dict(),
                "search": {"method": method},
                "counts": {
                    "sources": n_sources,
                    "passages": n_passages,
                    "terms": n_terms,
                    "postings": int(len(tf)),
                    "tokens": int(lengths_np.sum()),
                },
                "build_seconds": round(seconds, 3),
            }
        )
    return BuildSummary(n_sources, n_passages, n_terms, int(len(tf)), seconds)
