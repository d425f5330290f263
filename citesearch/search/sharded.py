"""Searching a sharded index (``indexer/sharding.py``) as one: every shard's answer, gathered.

The shards share one vocabulary (the same term ids everywhere) and were weighed with the
whole collection's statistics, so a query is analyzed once and each shard scores its
passages exactly as a single index of the collection would. What is left is numbering:
shard i's passage rows are offset by the passages of the shards before it, and its
source rows by their source rows, so that *global* rows follow the input order, as a
single index's rows do, and ties (broken by row) fall the same way.

:class:`ShardedIndex` is an :class:`~.searcher.Index` whose reader, scorer and filters
speak global rows and dispatch to the shards: the ranking itself (the :class:`~.ranking.Ranker`,
RM3, fusion, document aggregates, per-source caps, citations) is the single index's
code, unchanged. A top-k is each shard's exact top-k merged (ties by global row); a
full scoring is each shard's scores concatenated.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import CitesearchError, IndexCorrupt
from ..indexer import bm25
from ..indexer.manifest import Manifest, read_manifest
from ..indexer.sharding import ShardInfo, read_shards
from ..indexer.storage import IndexReader, PassageRecord, SourceRecord
from .analyzer import QueryAnalyzer
from .explain import Explainer
from .filters import Filters
from .query import ParsedQuery
from .ranking import Ranker
from .scoring import Scorer, top_indices
from .searcher import Index


class _ShardScorer(Scorer):
    """A shard's scorer, whose BM25 idf (for parameters other than the index's, and for
    snippets) is the collection's: from the global df its store holds and the global N."""

    def __init__(self, reader: IndexReader, compiled: bool, n_total: int, skip_absent: bool = True):
        super().__init__(reader, compiled)
        self.n_total = n_total
        self.skip_absent = skip_absent
        self._global_df: np.ndarray | None = None

    def _present(self, counts: dict[int, float]) -> dict[int, float]:
        """``counts`` without the terms this shard has no passage of (their lists are empty
        here: they add nothing, and pruning needs each list's heaviest posting)."""
        indptr = self.reader.indptr
        return {t: c for t, c in counts.items() if indptr[t + 1] > indptr[t]}

    def coefficients(self, kind: str, counts: dict[int, float]) -> dict[int, float]:
        # TF-IDF's query vector is normalized over every query term first, as one index would.
        found = super().coefficients(kind, counts)
        return self._present(found) if self.skip_absent else found

    def top(self, kind: str, counts: dict[int, float], k: int) -> tuple[np.ndarray, np.ndarray]:
        if not self._present(counts):
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        return super().top(kind, counts, k)

    def global_df(self) -> np.ndarray:
        """Every term's document frequency in the whole collection (the store's ``terms``)."""
        if self._global_df is None:
            df = np.zeros(len(self.reader.indptr) - 1, dtype=np.int64)
            for term, d in self.reader.db.execute("SELECT id, df FROM terms"):
                df[term] = d
            self._global_df = df
        return self._global_df

    def bm25_idf(self, params: bm25.BM25Params) -> np.ndarray:
        if params not in self._idf:
            self._idf[params] = bm25.term_idf(params, self.global_df(), self.n_total)  # gone terms left out
        return self._idf[params]


class _Shard:
    def __init__(self, reader: IndexReader, info: ShardInfo, first_row: int, first_source: int, compiled: bool,
                 n_total: int):
        self.reader = reader
        self.first_row = first_row
        self.first_source = first_source
        self.n = reader.n_passages
        self.analyzer = QueryAnalyzer(reader)
        self.scorer = _ShardScorer(reader, compiled, n_total)
        self.filters = Filters(reader, self.analyzer, self.scorer)
        # Explanations show every query term's TF-IDF weight, also those this shard lacks.
        explaining = _ShardScorer(reader, False, n_total, skip_absent=False)
        self.explainer = Explainer(reader, explaining, Ranker(explaining, self.filters, lambda rows: {}))

    def source(self, record: SourceRecord) -> SourceRecord:
        return replace(record, row=record.row + self.first_source)

    def passage(self, record: PassageRecord) -> PassageRecord:
        return replace(record, row=record.row + self.first_row, source=self.source(record.source))


class _Shards:
    """The shards, and where global rows fall among them."""

    def __init__(self, shards: list[_Shard]):
        self.shards = shards
        self.row_starts = np.array([s.first_row for s in shards], dtype=np.int64)
        self.source_starts = np.array([s.first_source for s in shards], dtype=np.int64)

    def split(self, rows) -> Iterator[tuple[_Shard, np.ndarray, np.ndarray]]:
        """(shard, its local rows, their positions in ``rows``) for each shard with some."""
        rows = np.asarray(rows, dtype=np.int64)
        which = np.searchsorted(self.row_starts, rows, side="right") - 1
        for i in np.unique(which).tolist():
            at = np.flatnonzero(which == i)
            yield self.shards[i], rows[at] - self.shards[i].first_row, at

    def split_sources(self, rows) -> Iterator[tuple[_Shard, list[int]]]:
        rows = np.asarray(list(rows), dtype=np.int64)
        which = np.searchsorted(self.source_starts, rows, side="right") - 1
        for i in np.unique(which).tolist():
            yield self.shards[i], (rows[which == i] - self.shards[i].first_source).tolist()

    def gather(self, per_shard, rows) -> np.ndarray:
        """The values ``per_shard(shard, local rows)`` returns, aligned with ``rows``."""
        rows = np.asarray(rows, dtype=np.int64)
        out = np.zeros(len(rows))
        for shard, local, at in self.split(rows):
            out[at] = per_shard(shard, local)
        return out


class _GatheredScorer:
    """:class:`Scorer`'s interface over global rows: each shard's part, gathered."""

    def __init__(self, shards: _Shards, manifest: Manifest):
        self.shards = shards
        first = shards.shards[0].scorer
        self.index_bm25 = first.index_bm25
        self.avgdl = manifest.avg_passage_length
        self.tfidf_params = first.tfidf_params
        self.index_dfr = first.index_dfr
        self.n = manifest.counts.passages

    @property
    def compiled(self) -> bool:
        return self.shards.shards[0].scorer.compiled

    def bm25_idf(self, params: bm25.BM25Params) -> np.ndarray:
        return self.shards.shards[0].scorer.bm25_idf(params)

    def coefficients(self, kind: str, counts: dict[int, float]) -> dict[int, float]:
        return self.shards.shards[0].scorer.coefficients(kind, counts)

    def candidates(self, terms) -> np.ndarray:
        terms = list(terms)
        parts = [s.scorer.candidates(terms) + s.first_row for s in self.shards.shards]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)

    def bm25(self, counts: dict[int, float], rows: np.ndarray, params: bm25.BM25Params | None = None) -> np.ndarray:
        return self.shards.gather(lambda s, local: s.scorer.bm25(counts, local, params), rows)

    def tfidf(self, counts: dict[int, float], rows: np.ndarray) -> np.ndarray:
        return self.shards.gather(lambda s, local: s.scorer.tfidf(counts, local), rows)

    def score(self, kind: str, counts: dict[int, float], rows: np.ndarray, params: bm25.BM25Params | None = None
              ) -> np.ndarray:
        return self.shards.gather(lambda s, local: s.scorer.score(kind, counts, local, params), rows)

    def top(self, kind: str, counts: dict[int, float], k: int) -> tuple[np.ndarray, np.ndarray]:
        """Each shard's exact top ``k``, merged: the collection's top ``k`` (ties by row)."""
        return self._merged([(s, s.scorer.top(kind, counts, k)) for s in self.shards.shards], k)

    def tops(self, runs: dict[str, dict[int, float]], k: int) -> tuple[np.ndarray, list[np.ndarray]]:
        """As :meth:`Scorer.tops`: each run's (kind: its weights) :meth:`top` ``k``, as
        distinct passage rows and, for each run, the positions of its top among them."""
        tops = [self.top(kind, counts, k)[0] for kind, counts in runs.items()]
        rows = np.unique(np.concatenate(tops))
        return rows, [np.searchsorted(rows, top) for top in tops]

    def one_pass(self, runs: dict[str, dict[int, float]]) -> bool:
        """Never: each shard ranks each run on its own (:meth:`tops`)."""
        return False

    @staticmethod
    def _merged(tops: list[tuple[_Shard, tuple[np.ndarray, np.ndarray]]], k: int) -> tuple[np.ndarray, np.ndarray]:
        rows = np.concatenate([np.asarray(r, dtype=np.int64) + s.first_row for s, (r, _) in tops])
        scores = np.concatenate([np.asarray(sc, dtype=np.float64) for _, (_, sc) in tops])
        best = top_indices(scores, rows, k)
        return rows[best], scores[best]



class _GatheredFilters:
    def __init__(self, shards: _Shards):
        self.shards = shards

    def apply(self, query: ParsedQuery, rows: np.ndarray) -> np.ndarray:
        kept = [s.filters.apply(query, local) + s.first_row for s, local, _ in self.shards.split(rows)]
        return np.concatenate(kept) if kept else np.zeros(0, dtype=np.int64)


class _GatheredExplainer(Explainer):
    """Explains with the gathered scores; each passage's terms from its own shard."""

    def __init__(self, reader: _GatheredReader, scorer: _GatheredScorer, ranker: Ranker, shards: _Shards):
        super().__init__(reader, scorer, ranker)  # type: ignore[arg-type]
        self.shards = shards

    def _terms(self, kind, weights, names, row, options):  # type: ignore[override]
        shard, local, _ = next(self.shards.split([row]))
        return shard.explainer._terms(kind, weights, names, int(local[0]), options)


class _GatheredReader:
    """The :class:`IndexReader` calls the search code makes, over global rows: the
    vocabulary is every shard's (the first answers), records come from their shards."""

    def __init__(self, path: Path, manifest: Manifest, shards: _Shards):
        self.path = path
        self.manifest = manifest
        self.shards = shards
        self.first = shards.shards[0].reader
        self.stopwords = manifest.stopwords
        self.n_passages = manifest.counts.passages
        self._arrays: dict[str, np.ndarray] = {}

    # the vocabulary: the same in every shard
    def term_ids(self, forms):
        return self.first.term_ids(forms)

    def terms_by_string(self, terms):
        return self.first.terms_by_string(terms)

    def term_strings(self, ids):
        return self.first.term_strings(ids)

    def forms_of(self, ids):
        return self.first.forms_of(ids)

    def terms_with_prefix(self, prefix, limit):
        return self.first.terms_with_prefix(prefix, limit)

    def form_frequencies(self, forms):
        return self.first.form_frequencies(forms)

    @property
    def indptr(self) -> np.ndarray:
        """Offsets whose differences are the collection's document frequencies."""
        if "indptr" not in self._arrays:
            self._arrays["indptr"] = np.concatenate([[0], np.cumsum(self.shards.shards[0].scorer.global_df())])
        return self._arrays["indptr"]

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._arrays:
            if name == "passage_source":
                parts = [np.asarray(s.reader[name], dtype=np.int64) + s.first_source for s in self.shards.shards]
            elif name == "passage_length":
                parts = [np.asarray(s.reader[name]) for s in self.shards.shards]
            elif name == "tfidf_idf":
                parts = [self.first[name]]
            else:
                raise KeyError(f"{name}: a sharded index has one per shard")
            self._arrays[name] = np.concatenate(parts)
        return self._arrays[name]

    # records, by global row
    def _by_rows(self, rows, fetch) -> dict:
        out = {}
        for shard, local, _ in self.shards.split(sorted({int(r) for r in rows})):
            for row, value in fetch(shard, local.tolist()).items():
                out[row + shard.first_row] = value
        return out

    def passage_ids(self, rows) -> dict[int, str]:
        return self._by_rows(rows, lambda s, local: s.reader.passage_ids(local))

    def passage_texts(self, rows) -> dict[int, str]:
        return self._by_rows(rows, lambda s, local: s.reader.passage_texts(local))

    def passages(self, rows) -> dict[int, PassageRecord]:
        return self._by_rows(rows, lambda s, local: {r: s.passage(p) for r, p in s.reader.passages(local).items()})

    def source_ids(self, rows) -> dict[int, str]:
        out = {}
        for shard, local in self.shards.split_sources(rows):
            out.update({r + shard.first_source: i for r, i in shard.reader.source_ids(local).items()})
        return out

    def sources_matching(self, pattern: str) -> set[int]:
        return {r + s.first_source for s in self.shards.shards for r in s.reader.sources_matching(pattern)}

    def titles_containing(self, words):
        for s in self.shards.shards:
            for row, title in s.reader.titles_containing(words):
                yield row + s.first_source, title

    def sources(self, pattern: str | None = None) -> Iterator[SourceRecord]:
        for s in self.shards.shards:
            for record in s.reader.sources(pattern):
                yield s.source(record)

    def source_by_id(self, doc_id: str) -> SourceRecord | None:
        for s in self.shards.shards:
            found = s.reader.source_by_id(doc_id)
            if found is not None:
                return s.source(found)
        return None

    def sources_by_path(self, path: str) -> list[SourceRecord]:
        return [s.source(r) for s in self.shards.shards for r in s.reader.sources_by_path(path)]

    def _shard_of_source(self, row: int) -> tuple[_Shard, int]:
        shard, local = next(self.shards.split_sources([row]))
        return shard, local[0]

    def source_text(self, row: int) -> tuple[str, dict]:
        shard, local = self._shard_of_source(row)
        return shard.reader.source_text(local)

    def passages_of(self, source: SourceRecord) -> list[PassageRecord]:
        shard, local = self._shard_of_source(source.row)
        return [shard.passage(p) for p in shard.reader.passages_of(replace(source, row=local))]

    def inputs(self) -> dict[str, tuple[str, int, int, str]]:
        out: dict[str, tuple[str, int, int, str]] = {}
        for s in self.shards.shards:
            out.update(s.reader.inputs())
        return out

    def verify(self) -> list[str]:
        """Files that do not match their manifest: the top manifest, ``shards.json``,
        and each shard's (named ``shard-000/store.sqlite`` and so on)."""
        from ..indexer.sharding import verify_sharded

        return verify_sharded(self.path, self.manifest)

    def close(self) -> None:
        for s in self.shards.shards:
            s.reader.close()


class ShardedIndex(Index):
    """A sharded index, opened for searching as one: :class:`Index`'s API over every
    shard (see the module's docstring). ``Index.open`` opens one when the folder holds one."""

    def __init__(self, path: str | os.PathLike[str], compiled: bool = False):
        path = Path(path)
        for attempt in range(5):
            manifest = read_manifest(path)
            if not manifest.shards:
                raise CitesearchError(f"the index at {path} is not sharded")
            try:
                readers = self._open_shards(path, manifest)
                break
            except (IndexCorrupt, CitesearchError):
                # A writer replaced the generation while we opened it: open the new one.
                if attempt == 4 or read_manifest(path).data == manifest.data:
                    raise
        infos = read_shards(path, manifest)
        shards, row, source = [], 0, 0
        for reader, info in zip(readers, infos):
            shards.append(_Shard(reader, info, row, source, compiled, manifest.counts.passages))
            row += reader.n_passages
            source += info.source_rows
        gathered = _Shards(shards)
        self.path = path
        self.shards = gathered
        self.reader = _GatheredReader(path, manifest, gathered)  # type: ignore[assignment]
        self.manifest = manifest
        self.analyzer = QueryAnalyzer(shards[0].reader)
        self.scorer = _GatheredScorer(gathered, manifest)  # type: ignore[assignment]
        self.filters = _GatheredFilters(gathered)  # type: ignore[assignment]
        self.ranker = Ranker(self.scorer, self.filters, self.passage_terms)  # type: ignore[arg-type]
        self.explainer = _GatheredExplainer(self.reader, self.scorer, self.ranker, gathered)
        self.default_method = manifest.method

    @staticmethod
    def _open_shards(path: Path, manifest: Manifest) -> list[IndexReader]:
        readers: list[IndexReader] = []
        try:
            for info in read_shards(path, manifest):
                readers.append(IndexReader(path / manifest.data / info.name))
        except BaseException:
            for r in readers:
                r.close()
            raise
        return readers

    @property
    def n_shards(self) -> int:
        return len(self.shards.shards)

