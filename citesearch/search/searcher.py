"""``Index``: open an index folder and search it.

>>> index = Index.open("examples-index")                      # doctest: +SKIP
>>> found = index.search('"cold brew" extraction', k=5)       # doctest: +SKIP
>>> [(r.rank, r.citation, r.source.title) for r in found.results]  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable

import numpy as np

from ..errors import QuerySyntaxError
from ..indexer import bm25
from ..indexer.analysis import Tokenizer, make_query_stemmer
from ..indexer.manifest import DEFAULT_METHOD, METHODS
from ..indexer.storage import IndexReader, default_index_path
from .citations import number_sources
from .expansion import RM3, rm3_query
from .fusion import FUSERS, RRF_DEPTH, rrf_ranked
from .query import ParsedQuery, parse_query
from .ranking import Scorer, top_indices
from .results import PassageRef, Result, SearchResults, SourceRef, TermContribution
from .snippets import make_snippet

AGGREGATES = ("max", "sum", "mean")
DEFAULT_FUSION = "rrf"


class Ranking:
    """Passages that match a query (rows) and their scores, best first on demand.

    Only what is asked for is sorted: :meth:`top` selects with ``np.argpartition`` and
    sorts just the selection, ties broken by passage row (earlier first) exactly as a
    full sort would. A ranking asked for to a depth may hold only the best passages
    (``complete`` is then false): the top of it is still exact.
    """

    def __init__(self, rows: np.ndarray, scores: np.ndarray, complete: bool = True):
        self.rows = rows
        self.scores = scores
        self.complete = complete

    def __len__(self) -> int:
        return len(self.rows)

    def top(self, n: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        idx = top_indices(self.scores, self.rows, n)
        return self.rows[idx], self.scores[idx]


class Index:
    """A citesearch index folder, opened for searching (memory-mapped, read-only)."""

    def __init__(self, reader: IndexReader, compiled: bool = False):
        self.reader = reader
        self.manifest = reader.manifest
        self.tokenizer = Tokenizer(self.manifest.analyzer)
        self._query_stem: Callable[[str], str] | None = None
        self.scorer = Scorer(reader, compiled)
        self.default_method = self.manifest.method

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None, compiled: bool = False) -> Index:
        """Open the index at ``path`` (default: :func:`default_index_path`).

        ``compiled=True`` ranks in compiled code (numba), with the same results: at a
        million passages a BM25 top 10 in 0.4 ms instead of 0.85 (median), for about
        0.75 s once to load numba. Worth it for many queries in one process, not for one.
        """
        return cls(IndexReader(path if path is not None else default_index_path()), compiled)

    def close(self) -> None:
        self.reader.close()

    def __enter__(self) -> Index:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- analysis ---------------------------------------------------------------

    def _lookup(self, forms: list[str]) -> dict[str, int]:
        """Term id (-1: stop word) of each form that has one, stemming unseen forms."""
        known = self.reader.term_ids(forms)
        unseen = [f for f in set(forms) if f not in known and f not in self.reader.stopwords]
        if unseen:
            if self._query_stem is None:
                self._query_stem = make_query_stemmer(self.tokenizer.config.stemmer)
            stems = {f: self._query_stem(f) for f in unseen}
            terms = self.reader.terms_by_string(list(stems.values()))
            known.update({f: terms[st] for f, st in stems.items() if st in terms})
        return known

    def analyze(self, text: str) -> tuple[list[int], list[str]]:
        """Term ids of ``text`` (repeats kept) and the words that match no term."""
        forms = self.tokenizer.forms(text)
        known = self._lookup(forms)
        ids = [known[f] for f in forms if known.get(f, -1) >= 0]
        unmatched = [f for f in forms if f not in known and f not in self.reader.stopwords]
        return ids, unmatched

    def _phrase_keys(self, text: str) -> list[int | str]:
        forms = self.tokenizer.forms(text)
        known = self._lookup(forms)
        return [known[f] if known.get(f, -1) >= 0 else f for f in forms]

    # -- filters ----------------------------------------------------------------

    def _source_rows(self, query: ParsedQuery) -> np.ndarray | None:
        """Rows of the sources the query's filters allow; None when it has none."""
        if not query.sources and not query.titles:
            return None
        db = self.reader.db
        rows: set[int] | None = None
        if query.sources:
            rows = set()
            for pattern in query.sources:
                rows.update(
                    r for (r,) in db.execute(
                        "SELECT row FROM sources WHERE path GLOB ?1 OR path GLOB '*/' || ?1 OR id GLOB ?1",
                        (pattern,),
                    )
                )
        for word in query.titles:
            wanted, _ = self.analyze(word)
            if not wanted:
                rows = set()
                break
            stems = self.reader.term_strings(wanted)
            like = [f"%{w}%" for w in [word, *stems.values()]]
            where = " OR ".join("COALESCE(title, text) LIKE ?" for _ in like)
            matched = set()
            for row, title in db.execute(f"SELECT row, COALESCE(title, text) FROM sources WHERE {where}", like):
                if set(wanted) <= set(self.analyze(title)[0]):
                    matched.add(row)
            rows = matched if rows is None else rows & matched
        return np.fromiter(sorted(rows or ()), dtype=np.int64)

    def _with_phrase(self, phrase: str, rows: np.ndarray) -> np.ndarray:
        """Which of ``rows`` contain ``phrase`` (a mask aligned with them)."""
        keys = self._phrase_keys(phrase)
        terms = [k for k in keys if isinstance(k, int)]
        if any(isinstance(k, str) and k not in self.reader.stopwords for k in keys) or not terms:
            return np.zeros(len(rows), dtype=bool)
        inside = self.scorer.containing_all(set(terms), rows)
        texts = self._passage_texts(rows[inside])
        for i in np.flatnonzero(inside):
            if not _contains_run(self._phrase_keys(texts[int(rows[i])]), keys):
                inside[i] = False
        return inside

    # -- ranking ----------------------------------------------------------------

    def _filtered(self, parsed: ParsedQuery, rows: np.ndarray) -> np.ndarray:
        """``rows`` narrowed by the query's source/title filters, exclusions and phrases."""
        allowed = self._source_rows(parsed)
        if allowed is not None:
            source_ok = np.zeros(self.manifest.counts.sources, dtype=bool)
            source_ok[allowed] = True
            rows = rows[source_ok[self.reader["passage_source"][rows]]]
        for text in parsed.excluded:
            keys = self._phrase_keys(text)
            terms = [k for k in keys if isinstance(k, int)]
            if len(keys) > 1 and terms:
                rows = rows[~self._with_phrase(text, rows)]
            elif terms:
                rows = rows[~self.scorer.containing(terms, rows)]
        for phrase in parsed.phrases:
            rows = rows[self._with_phrase(phrase, rows)]
        return rows

    def _scores(
        self, method: str, weights: dict[int, float], fusion: str, params: bm25.BM25Params | None, rows: np.ndarray
    ) -> Ranking:
        if method == "bm25":
            return Ranking(rows, self.scorer.bm25(weights, rows, params))
        if method == "tfidf":
            return Ranking(rows, self.scorer.tfidf(weights, rows))
        fused = FUSERS[fusion]([self.scorer.bm25(weights, rows, params), self.scorer.tfidf(weights, rows)], rows)
        keep = fused > 0
        return Ranking(rows[keep], fused[keep])

    def _pruned(self, method: str, weights: dict[int, float], fusion: str, depth: int | None) -> Ranking | None:
        """The ranking from :meth:`Scorer.top`, when it can give it: None otherwise.

        Reciprocal rank fusion only looks ``RRF_DEPTH`` deep into each method's ranking,
        so the fused ranking built from the two exact tops is the complete one.
        """
        if method == "hybrid" and fusion == "rrf":
            # Each top is already in rank order (positive scores, ties by row): what
            # rrf() would sort its scores into, so the ranks are read off it.
            runs = [self.scorer.top(kind, weights, RRF_DEPTH)[0] for kind in ("bm25", "tfidf")]
            both = np.sort(np.concatenate(runs))  # np.union1d, without its hash table: 0.10 -> 0.04 ms
            rows = both[np.concatenate(([True], both[1:] != both[:-1]))]
            return Ranking(rows, rrf_ranked([np.searchsorted(rows, ranked) for ranked in runs], len(rows)))
        if method in ("bm25", "tfidf") and depth is not None:
            rows, scores = self.scorer.top(method, weights, depth)
            return Ranking(rows, scores, complete=len(rows) < depth)
        return None

    def passage_terms(self, rows: list[int]) -> dict[int, list[int]]:
        """Term ids of each passage's text, in order (stop words and unknown forms dropped)."""
        texts = self._passage_texts(rows)
        forms = {row: self.tokenizer.forms(text) for row, text in texts.items()}
        known = self.reader.term_ids([f for fs in forms.values() for f in fs])
        return {row: [known[f] for f in fs if known.get(f, -1) >= 0] for row, fs in forms.items()}

    def rank(
        self,
        query: str | ParsedQuery,
        method: str | None = None,
        fusion: str = DEFAULT_FUSION,
        bm25_params: bm25.BM25Params | None = None,
        expand: RM3 | None = None,
        depth: int | None = None,
    ) -> Ranking:
        """The matching passages, best first (ties broken by passage order): every one,
        or, given ``depth``, at least the best ``depth`` of them, found faster.

        With ``expand``, the query is first run with BM25 and expanded by RM3 from its
        top passages; the expanded query is then scored by ``method``.
        """
        parsed = query if isinstance(query, ParsedQuery) else parse_query(query)
        method = method or self.default_method
        if method not in METHODS:
            raise QuerySyntaxError(f"unknown method {method!r}; choose from {', '.join(METHODS)}")
        if fusion not in FUSERS:
            raise QuerySyntaxError(f"unknown fusion {fusion!r}; choose from {', '.join(FUSERS)}")
        ids, unseen = self.analyze(parsed.positive_text)
        if not ids and not unseen:
            if parsed.positive_text.strip() and self.tokenizer.forms(parsed.positive_text):
                raise QuerySyntaxError(f"the query {parsed.text!r} has only stop words; add a more specific term")
            raise QuerySyntaxError("the query has no search terms" + (" (only filters)" if parsed.sources or parsed.titles else ""))
        weights: dict[int, float] = dict(Counter(ids))
        if not weights:
            return Ranking(np.zeros(0, dtype=np.int64), np.zeros(0))
        # Pruning needs every passage's score to be the plain sum of stored weights.
        prunable = not (parsed.sources or parsed.titles or parsed.excluded or parsed.phrases) and (
            bm25_params is None or bm25_params == self.scorer.index_bm25
        )
        if expand is not None:
            if prunable:
                top, scores = self.scorer.top("bm25", weights, expand.fb_docs)
            else:
                rows = self._filtered(parsed, self.scorer.candidates(weights))
                top, scores = Ranking(rows, self.scorer.bm25(weights, rows, bm25_params)).top(expand.fb_docs)
            weights = rm3_query(expand, weights, top, scores, self.passage_terms)
        if prunable:
            pruned = self._pruned(method, weights, fusion, depth)
            if pruned is not None:
                return pruned
        rows = self._filtered(parsed, self.scorer.candidates(weights))
        return self._scores(method, weights, fusion, bm25_params, rows)

    def rank_documents(
        self,
        query: str | ParsedQuery,
        k: int = 1000,
        method: str | None = None,
        fusion: str = DEFAULT_FUSION,
        bm25_params: bm25.BM25Params | None = None,
        expand: RM3 | None = None,
        aggregate: str = "max",
    ) -> list[tuple[str, float]]:
        """The top ``k`` sources as (source id, score), best first.

        A source scores as its best passage (``max``), or the ``sum`` or ``mean`` of its
        matching passages' scores.
        """
        if aggregate not in AGGREGATES:
            raise QuerySyntaxError(f"unknown aggregate {aggregate!r}; choose from {', '.join(AGGREGATES)}")
        passage_source = self.reader["passage_source"]
        if aggregate == "max":
            rows, scores = self._top_capped(query, k, 1, method, fusion, bm25_params, expand)
            source_rows = [int(r) for r in passage_source[rows]]
        else:
            ranked = self.rank(query, method, fusion, bm25_params, expand)
            unique, inverse = np.unique(passage_source[ranked.rows], return_inverse=True)
            totals = np.bincount(inverse, weights=ranked.scores)
            if aggregate == "mean":
                totals = totals / np.bincount(inverse)
            order = np.lexsort((unique, -totals))[:k]
            source_rows, scores = [int(r) for r in unique[order]], totals[order]
        ids = self.source_ids(source_rows)
        return [(ids[r], float(s)) for r, s in zip(source_rows, scores)]

    def passage_ids(self, rows: list[int]) -> dict[int, str]:
        """``doc_id#ordinal`` of each passage row."""
        return dict(
            self.reader.select_in(
                "SELECT p.row, s.id || '#' || p.ordinal FROM passages p JOIN sources s ON s.row = p.source "
                "WHERE p.row IN ({marks})",
                rows,
            )
        )

    def source_ids(self, rows: list[int]) -> dict[int, str]:
        return dict(self.reader.select_in("SELECT row, id FROM sources WHERE row IN ({marks})", rows))

    def search(
        self,
        query: str | ParsedQuery,
        k: int = 10,
        method: str | None = None,
        per_source: int | None = None,
        fusion: str = DEFAULT_FUSION,
        bm25_params: bm25.BM25Params | None = None,
        explain: bool = False,
        expand: RM3 | None = None,
    ) -> SearchResults:
        """The top ``k`` passages for ``query``, with citations and a sources list."""
        if k < 1:
            raise QuerySyntaxError("k must be at least 1")
        parsed = query if isinstance(query, ParsedQuery) else parse_query(query)
        method = method or self.default_method
        rows, scores = self._top_capped(parsed, k, per_source, method, fusion, bm25_params, expand)
        passages = self._passages(rows)
        sources = [p[1] for p in passages]
        numbers, cited = number_sources(sources)
        query_ids, _ = self.analyze(parsed.positive_text)
        highlight_forms = self.reader.forms_of(sorted(set(query_ids)))
        find = self.tokenizer.finder(highlight_forms)
        results = []
        for i, ((passage, source), score) in enumerate(zip(passages, scores)):
            matches = [(s, e, highlight_forms[f]) for s, e, f in find(passage.text)]
            snippet, spans = make_snippet(passage.text, matches)
            results.append(
                Result(
                    rank=i + 1,
                    score=round(float(score), 6),
                    citation=numbers[i],
                    passage=passage,
                    source=source,
                    snippet=snippet,
                    highlights=spans,
                    explanation=self.explain(Counter(query_ids), int(rows[i]), bm25_params) if explain else (),
                )
            )
        return SearchResults(query=parsed.text, method=method, results=results, sources=cited)

    def _top_capped(self, query, k: int, per_source: int | None, method, fusion, bm25_params, expand):
        """The top ``k`` passages, at most ``per_source`` from any one source, ranking
        only as deep as that takes."""
        depth = k * 4 if per_source else k
        while True:
            ranked = self.rank(query, method, fusion, bm25_params, expand, depth=depth)
            capped = _cap(ranked, k, per_source, self.reader["passage_source"])
            if capped is not None:
                return capped
            depth *= 4

    # -- records ----------------------------------------------------------------

    def _passage_texts(self, rows) -> dict[int, str]:
        return dict(
            self.reader.select_in(
                'SELECT p.row, substr(s.text, p.start + 1, p."end" - p.start) FROM passages p '
                "JOIN sources s ON s.row = p.source WHERE p.row IN ({marks})",
                [int(r) for r in rows],
            )
        )

    def _passages(self, rows: np.ndarray) -> list[tuple[PassageRef, SourceRef]]:
        if not len(rows):
            return []
        wanted = [int(r) for r in rows]
        found = {
            row: (
                PassageRef(f"{sid}#{ordinal}", sid, ordinal, start, end, text),
                SourceRef(sid, path, title),
            )
            for row, sid, path, title, ordinal, start, end, text in self.reader.select_in(
                'SELECT p.row, s.id, s.path, COALESCE(s.title, s.text), p.ordinal, p.start, p."end", '
                'substr(s.text, p.start + 1, p."end" - p.start) '
                "FROM passages p JOIN sources s ON s.row = p.source WHERE p.row IN ({marks})",
                wanted,
            )
        }
        return [found[r] for r in wanted]

    def explain(self, counts: dict[int, int], row: int, params: bm25.BM25Params | None = None) -> tuple[TermContribution, ...]:
        """Each query term's BM25 contribution to passage ``row``."""
        params = params or self.scorer.index_bm25
        names = self.reader.term_strings(list(counts))
        length = int(self.reader["passage_length"][row])
        idf = self.scorer.bm25_idf(params)
        variant = bm25.BM25_VARIANTS[params.variant]
        out = []
        for term, count in counts.items():
            s = self.scorer.postings(term)
            rows = self.reader.postings[s]
            j = int(np.searchsorted(rows, row))
            tf = int(self.reader["postings_tf"][s.start + j]) if j < len(rows) and rows[j] == row else 0
            part = float(variant.tf(np.float64(tf), length / self.scorer.avgdl, params.k1, params.b, params.effective_delta)) if tf else 0.0
            out.append(TermContribution(names.get(term, str(term)), count, float(idf[term]), tf, length, self.scorer.avgdl, part, count * float(idf[term]) * part))
        return tuple(out)


def _cap(
    ranked: Ranking, k: int, per_source: int | None, passage_source: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """The top ``k`` passages, at most ``per_source`` from any one source; None when an
    incomplete ranking runs out before that many are found."""
    if not per_source:
        return ranked.top(k)
    n = k * 4
    while True:
        rows, scores = ranked.top(n)
        keep = np.flatnonzero(_place_in_source(passage_source[rows]) < per_source)[:k]
        if len(keep) == k:
            return rows[keep], scores[keep]
        if n >= len(ranked):
            return (rows[keep], scores[keep]) if ranked.complete else None
        n *= 4


def _place_in_source(sources: np.ndarray) -> np.ndarray:
    """For each entry, how many entries before it have the same source."""
    order = np.argsort(sources, kind="stable")
    grouped = sources[order]
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    sizes = np.diff(np.r_[starts, len(grouped)])
    place = np.empty(len(sources), dtype=np.int64)
    place[order] = np.arange(len(grouped)) - np.repeat(starts, sizes)
    return place


def _contains_run(seq: list, run: list) -> bool:
    n = len(run)
    return any(seq[i : i + n] == run for i in range(len(seq) - n + 1))
