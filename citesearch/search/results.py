"""Typed search results; ``to_dict`` gives exactly the JSON output schema."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SourceRef:
    id: str
    path: str
    title: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "path": self.path, "title": self.title}


@dataclass(frozen=True)
class PassageRef:
    id: str
    doc_id: str
    ordinal: int
    start: int
    end: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "doc_id": self.doc_id,
            "ordinal": self.ordinal,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }


@dataclass(frozen=True)
class TermContribution:
    """One query term's part of one method's score of one passage (``--explain``).

    BM25: ``score = query_weight × idf × tf_part``, with ``query_weight`` the term's
    count in the query and ``tf_part`` the variant's saturated, length-normalized tf.
    TF-IDF: ``score = query_weight × tf_part``, both L2-normalized tf·idf weights, of
    the query and of the passage. In_expC2 (``dfr``): ``score = query_weight × idf ×
    tf_part``, ``idf`` the term factor (F+1)/df · log2((N+1)/(n_exp+0.5)) and ``tf_part``
    tfn/(tfn+1)."""

    term: str
    query_weight: float
    idf: float
    tf: int
    length: int
    tf_part: float
    score: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "term": self.term,
            "query_weight": self.query_weight,
            "idf": self.idf,
            "tf": self.tf,
            "length": self.length,
            "tf_part": self.tf_part,
            "score": self.score,
        }


@dataclass(frozen=True)
class MethodExplanation:
    """One ranking method's score of a passage, term by term, and the passage's rank in
    that method's ranking."""

    method: str
    score: float
    rank: int | None
    terms: tuple[TermContribution, ...]
    formula: str
    """How the method scores, e.g. ``okapi k1=1.2 b=0.4, avg length 180.3``."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "score": self.score,
            "rank": self.rank,
            "formula": self.formula,
            "terms": [t.to_dict() for t in self.terms],
        }


@dataclass(frozen=True)
class Explanation:
    """Why a result scored what it did: each method's part and, for hybrid, the fusion."""

    method: str
    score: float
    parts: tuple[MethodExplanation, ...]
    fusion: str | None = None
    fused: str | None = None
    """The fusion written out, e.g. ``1/(60+3) + 1/(60+1) = 0.032266``."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "score": self.score,
            "fusion": self.fusion,
            "fused": self.fused,
            "parts": [p.to_dict() for p in self.parts],
        }


@dataclass(frozen=True)
class Result:
    rank: int
    score: float
    citation: int
    passage: PassageRef
    source: SourceRef
    snippet: str
    highlights: tuple[tuple[int, int], ...] = ()
    """Spans of ``snippet`` that match the query."""
    explanation: Explanation | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            "rank": self.rank,
            "score": self.score,
            "citation": self.citation,
            "passage": self.passage.to_dict(),
            "source": self.source.to_dict(),
            "snippet": self.snippet,
        }
        if self.explanation is not None:
            out["explain"] = self.explanation.to_dict()
        return out


@dataclass(frozen=True)
class Citation:
    """A numbered entry of the sources list."""

    citation: int
    source: SourceRef
    hits: int

    def to_dict(self) -> dict[str, Any]:
        return {"citation": self.citation, **self.source.to_dict(), "hits": self.hits}


@dataclass(frozen=True)
class SearchResults:
    query: str
    method: str
    results: list[Result] = field(default_factory=list)
    sources: list[Citation] = field(default_factory=list)
    unmatched: tuple[str, ...] = ()
    """Query words that match nothing in the index."""
    suggestions: dict[str, str] = field(default_factory=dict)
    """For some of ``unmatched``: the indexed word it was probably meant to be."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "method": self.method,
            "results": [r.to_dict() for r in self.results],
            "sources": [s.to_dict() for s in self.sources],
        }
