"""``Index``: open an index folder and search it.

>>> index = Index.open("examples-index")                      # doctest: +SKIP
>>> found = index.search('"cold brew" extraction', k=5)       # doctest: +SKIP
>>> [(r.rank, r.citation, r.source.title) for r in found.results]  # doctest: +SKIP

The work is done by one part per job, each in the module named for it: the query's
words become term ids in :class:`~.analyzer.QueryAnalyzer`, filters narrow the
candidates in :class:`~.filters.Filters`, :class:`~.ranking.Ranker` ranks them (pruning
where it can), :class:`~.explain.Explainer` explains scores, and the store's SQL is the
:class:`~citesearch.indexer.storage.IndexReader`'s. ``Index`` puts them together and
turns rows into results with citations and snippets.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import numpy as np

from ..errors import QuerySyntaxError
from ..indexer.manifest import read_manifest
from ..indexer.storage import IndexReader, PassageRecord, SourceRecord, default_index_path
from .analyzer import QueryAnalyzer
from .citations import number_sources
from .explain import Explainer
from .filters import Filters
from .options import SearchOptions
from .query import ParsedQuery, parse_query
from .ranking import Ranker, Ranking, top_capped
from .results import PassageRef, Result, SearchResults, SourceRef
from .scoring import Scorer
from .snippets import make_snippet


class Index:
    """A citesearch index folder, opened for searching (memory-mapped, read-only).

    Each ranking call takes its settings as one :class:`SearchOptions`, or as its fields
    by keyword (``index.search(q, method="bm25")``); unset ones are the index's.
    """

    def __init__(self, reader: IndexReader, compiled: bool | str | None = None):
        self.reader = reader
        self.manifest = reader.manifest
        self.analyzer = QueryAnalyzer(reader)
        self.scorer = Scorer(reader, compiled)
        self.filters = Filters(reader, self.analyzer, self.scorer)
        self.ranker = Ranker(self.scorer, self.filters, self.passage_terms)
        self.explainer = Explainer(reader, self.scorer, self.ranker)
        self.default_method = self.manifest.method

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, compiled: bool | str | None = None) -> Index:
        """Open the index at ``path`` (default: :func:`default_index_path`).

        It ranks with the search kernel compiled when citesearch was installed
        (``search/kernels.py``), or with numpy where that could not be built; the results
        are the same. ``compiled=True`` asks for compiled ranking even then, by numba
        (about 0.75 s once to load it: worth it for many queries in one process, not for
        one); ``False`` for numpy; ``"numba"`` for numba's kernel. See :class:`Scorer`.
        """
        path = path if path is not None else default_index_path()
        if read_manifest(path).shards:  # a sharded index (indexer/sharding.py): searched as one
            from .sharded import ShardedIndex

            return ShardedIndex(path, compiled)
        return cls(IndexReader(path), compiled)

    def close(self) -> None:
        self.reader.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def tokenizer(self):
        return self.analyzer.tokenizer

    def options(self, options: SearchOptions | None = None, **settings: object) -> SearchOptions:
        """``options`` (default ones if None) with ``settings`` changed, resolved against
        this index's manifest: where they are unset, its tuned settings (``citesearch tune
        --save``), else its own method and BM25 parameters (:meth:`SearchOptions.resolve`)."""
        opts = options or SearchOptions()
        if settings:
            opts = opts.with_(**settings)
        return opts.resolve(self.manifest)

    def analyze(self, text: str) -> tuple[list[int], list[str]]:
        """Term ids of ``text`` (repeats kept) and the words that match no term."""
        return self.analyzer.analyze(text)

    def query_weights(self, query: ParsedQuery) -> tuple[dict[int, float], list[str]]:
        """Each query term's weight (its count; 1 for a word a prefix stands for) and
        the query's words that match nothing (a prefix that matches nothing as ``word*``)."""
        ids, unmatched = self.analyzer.analyze(query.positive_text)
        weights: dict[int, float] = dict(Counter(ids))
        for prefix in query.prefixes:
            terms = self.analyzer.prefix_terms(prefix)
            if not terms:
                unmatched.append(prefix + "*")
            for term in terms:
                weights.setdefault(term, 1)
        if not weights and not unmatched:
            if query.positive_text.strip() and self.analyzer.tokenizer.forms(query.positive_text):
                raise QuerySyntaxError(f"the query {query.text!r} has only stop words; add a more specific term")
            only_filters = " (only filters)" if query.sources or query.titles else ""
            raise QuerySyntaxError("the query has no search terms" + only_filters)
        return weights, unmatched

    # -- ranking ----------------------------------------------------------------

    def rank(
        self, query: str | ParsedQuery, options: SearchOptions | None = None, *, depth: int | None = None,
        **settings: object,
    ) -> Ranking:
        """The matching passages, best first (ties broken by passage order): every one,
        or, given ``depth``, at least the best ``depth`` of them, found faster."""
        parsed = _parsed(query)
        opts = self.options(options, **settings)
        weights, _ = self.query_weights(parsed)
        return self.ranker.rank(parsed, weights, opts, depth)

    def rank_documents(
        self, query: str | ParsedQuery, k: int = 1000, options: SearchOptions | None = None, **settings: object
    ) -> list[tuple[str, float]]:
        """The top ``k`` sources as (source id, score), best first.

        A source scores as its best passage (``aggregate="max"``), or the ``sum`` or
        ``mean`` of its matching passages' scores.
        """
        parsed = _parsed(query)
        opts = self.options(options, **settings)
        weights, _ = self.query_weights(parsed)
        passage_source = self.reader["passage_source"]
        if opts.aggregate == "max":
            rows, scores = top_capped(
                lambda depth: self.ranker.rank(parsed, weights, opts, depth), k, 1, passage_source
            )
            source_rows = [int(r) for r in passage_source[rows]]
        else:
            ranked = self.ranker.rank(parsed, weights, opts)
            unique, inverse = np.unique(passage_source[ranked.rows], return_inverse=True)
            totals = np.bincount(inverse, weights=ranked.scores)
            if opts.aggregate == "mean":
                totals = totals / np.bincount(inverse)
            order = np.lexsort((unique, -totals))[:k]
            source_rows, scores = [int(r) for r in unique[order]], totals[order]
        ids = self.reader.source_ids(source_rows)
        return [(ids[r], float(s)) for r, s in zip(source_rows, scores)]

    def passage_ids(self, rows: list[int]) -> dict[int, str]:
        """``doc_id#ordinal`` of each passage row."""
        return self.reader.passage_ids(rows)

    def passage_terms(self, rows: list[int]) -> dict[int, list[int]]:
        """Term ids of each passage's text, in order (stop words and unknown forms dropped)."""
        texts = self.reader.passage_texts(rows)
        forms = {row: self.analyzer.tokenizer.forms(text) for row, text in texts.items()}
        known = self.reader.term_ids([f for fs in forms.values() for f in fs])
        return {row: [known[f] for f in fs if known.get(f, -1) >= 0] for row, fs in forms.items()}

    # -- search -----------------------------------------------------------------

    def search(
        self, query: str | ParsedQuery, k: int = 10, options: SearchOptions | None = None, **settings: object
    ) -> SearchResults:
        """The top ``k`` passages for ``query``, with citations and a sources list.

        Words that match nothing are listed in ``unmatched``, with a close indexed word
        in ``suggestions`` where there is one."""
        if k < 1:
            raise QuerySyntaxError("k must be at least 1")
        parsed = _parsed(query)
        opts = self.options(options, **settings)
        weights, unmatched = self.query_weights(parsed)
        last: list[Ranking] = []

        def rank(depth: int | None) -> Ranking:
            last[:] = [self.ranker.rank(parsed, weights, opts, depth)]
            return last[0]

        rows, scores = top_capped(rank, k, opts.per_source, self.reader["passage_source"])
        records = self.reader.passages(rows)
        passages = [_refs(records[int(r)]) for r in rows]
        numbers, cited = number_sources(source for _, source in passages)
        final = last[0].weights if last and last[0].weights else weights
        runs = last[0].run_weights if last else None
        explanations = self._explain(parsed, final, rows, scores, opts, runs) if opts.explain else [None] * len(rows)
        highlight = self._highlighter(weights)
        results = []
        for i, ((passage, source), score) in enumerate(zip(passages, scores)):
            snippet, spans = highlight(passage.text)
            results.append(
                Result(
                    rank=i + 1,
                    score=round(float(score), 6),
                    citation=numbers[i],
                    passage=passage,
                    source=source,
                    snippet=snippet,
                    highlights=spans,
                    explanation=explanations[i],
                )
            )
        words = [w for w in unmatched if not w.endswith("*")]
        suggestions = {w: s for w in words if (s := self.analyzer.suggest(w))} if words else {}
        return SearchResults(parsed.text, opts.method or "", results, cited, tuple(unmatched), suggestions)

    def _highlighter(self, weights: dict[int, float]):
        """A function of a passage's text giving its snippet and highlight spans: the
        window showing the rarest of the query's terms (by BM25 idf)."""
        forms = self.reader.forms_of(sorted(weights))
        find = self.analyzer.tokenizer.finder(forms)
        idf = self.scorer.bm25_idf(self.scorer.index_bm25)
        rarity = {term: float(idf[term]) for term in weights}

        def highlight(text: str):
            return make_snippet(text, [(s, e, forms[f]) for s, e, f in find(text)], rarity)

        return highlight

    def _explain(self, parsed: ParsedQuery, weights: dict[int, float], rows: np.ndarray, scores: np.ndarray,
                 opts: SearchOptions, runs: dict[str, dict[int, float]] | None = None) -> list:
        candidates = self.filters.apply(parsed, self.scorer.candidates(weights))
        return self.explainer.explain(
            weights, [int(r) for r in rows], [float(s) for s in scores], candidates, opts, runs
        )

    # -- citing a text ----------------------------------------------------------

    def cite(self, text: str, max_citations: int = 2, min_support: float | None = None, **settings: Any):
        """Each claim of ``text`` (Markdown or plain), supported or not by this index's
        passages, with citations: a :class:`~.citing.Citing`, whose ``to_dict()`` is
        ``citesearch cite --format json``. See :func:`.citing.cite`."""
        from .citing import cite

        return cite(self, text, max_citations, min_support, **settings)

    def check_citations(self, text: str, max_citations: int = 2, min_support: float | None = None, **settings: Any):
        """The verdict on each citation ``text`` already has (``[n]`` markers and a
        numbered source list): a :class:`~.citing.Checking` (``citesearch cite --check``).
        See :func:`.citing.check`."""
        from .citing import check

        return check(self, text, max_citations, min_support, **settings)

    # -- records ----------------------------------------------------------------

    def sources(self, pattern: str | None = None) -> list[SourceRecord]:
        """The indexed sources (those whose path or id matches the glob), in index order."""
        return list(self.reader.sources(pattern))

    def lookup(self, item_id: str) -> tuple[SourceRecord, list[PassageRecord]] | None:
        """A source by its id (or by its file's path, when that file holds one source),
        with all its passages; or a passage by its id (``doc_id#ordinal``), with its
        source; None if there is no such id."""
        source = self.reader.source_by_id(item_id)
        if source is None:
            by_path = self.reader.sources_by_path(item_id)
            if len(by_path) > 1:
                raise QuerySyntaxError(
                    f"{item_id} is a collection of {len(by_path)} documents; show one by its id",
                    hint=f"List them: citesearch sources '{item_id}'",
                )
            source = by_path[0] if by_path else None
        if source is not None:
            return source, self.reader.passages_of(source)
        doc_id, sep, ordinal = item_id.rpartition("#")
        if sep and ordinal.isdigit() and (source := self.reader.source_by_id(doc_id)) is not None:
            wanted = [p for p in self.reader.passages_of(source) if p.ordinal == int(ordinal)]
            return (source, wanted) if wanted else None
        return None


def _parsed(query: str | ParsedQuery) -> ParsedQuery:
    return query if isinstance(query, ParsedQuery) else parse_query(query)


def _refs(record: PassageRecord) -> tuple[PassageRef, SourceRef]:
    s = record.source
    passage = PassageRef(f"{s.id}#{record.ordinal}", s.id, record.ordinal, record.start, record.end, record.text)
    return passage, SourceRef(s.id, s.path, s.title)
