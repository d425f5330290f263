"""Queries, ranking, fusion, citations and output formats (no NLTK, no scikit-learn)."""

from .query import ParsedQuery, parse_query
from .results import Citation, PassageRef, Result, SearchResults, SourceRef
from .searcher import METHODS, Index, default_index_path

__all__ = [
    "METHODS",
    "Citation",
    "Index",
    "ParsedQuery",
    "PassageRef",
    "Result",
    "SearchResults",
    "SourceRef",
    "default_index_path",
    "parse_query",
]
