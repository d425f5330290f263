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
    """One query term's BM25 contribution to one passage's score (``--explain``)."""

    term: str
    query_count: int
    idf: float
    tf: int
    length: int
    avg_length: float
    tf_part: float
    score: float


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
    explanation: tuple[TermContribution, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "score": self.score,
            "citation": self.citation,
            "passage": self.passage.to_dict(),
            "source": self.source.to_dict(),
            "snippet": self.snippet,
        }


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "method": self.method,
            "results": [r.to_dict() for r in self.results],
            "sources": [s.to_dict() for s in self.sources],
        }
