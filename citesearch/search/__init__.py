"""Queries, ranking, fusion, citations and output formats (no NLTK, no scikit-learn)."""

from ..indexer.manifest import METHODS
from ..indexer.storage import default_index_path
from .options import SearchOptions
from .query import ParsedQuery, parse_query
from .results import Citation, PassageRef, Result, SearchResults, SourceRef
from .searcher import Index

__all__ = [
    "METHODS",
    "Citation",
    "Index",
    "ParsedQuery",
    "PassageRef",
    "Result",
    "SearchOptions",
    "SearchResults",
    "SourceRef",
    "default_index_path",
    "parse_query",
]
