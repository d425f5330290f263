"""citesearch: ranked, cited passages from a pile of documents.

>>> import citesearch
>>> index = citesearch.Index.open(".citesearch")        # doctest: +SKIP
>>> for hit in index.search("caffeine half-life", k=3).results:  # doctest: +SKIP
...     print(hit.citation, hit.source.title, hit.score)
"""

from __future__ import annotations

from typing import Any

from .errors import CitesearchError

__version__ = "0.1.0"
__all__ = ["CitesearchError", "Index", "__version__"]


def __getattr__(name: str) -> Any:
    # Importing numpy and the search package only when they are used keeps
    # `citesearch --help` and `citesearch index` start-up light.
    if name == "Index":
        from .search.searcher import Index

        return Index
    raise AttributeError(name)
