"""How to rank: one frozen record that travels from the CLI or API to the ranking.

Every query-time default is defined here once. ``method=None`` and ``bm25=None`` mean
"what the index was built with" (its manifest), resolved by :meth:`SearchOptions.resolve`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..errors import CitesearchError
from ..indexer.bm25 import BM25Params
from ..indexer.manifest import METHODS, Manifest
from .expansion import RM3
from .fusion import FUSERS

DEFAULT_FUSION = "rrf"
AGGREGATES = ("max", "sum", "mean")
DEFAULT_AGGREGATE = "max"


class OptionError(CitesearchError, ValueError):
    """A search option has a value citesearch does not know."""


@dataclass(frozen=True)
class SearchOptions:
    method: str | None = None
    """``bm25``, ``tfidf`` or ``hybrid``; None: the index's default."""
    fusion: str = DEFAULT_FUSION
    """How hybrid combines its two rankings (see ``FUSERS``)."""
    bm25: BM25Params | None = None
    """BM25 parameters for this query; None: the index's."""
    expand: RM3 | None = None
    """Pseudo-relevance feedback, or None."""
    per_source: int | None = None
    """At most this many passages of one source in a result list."""
    aggregate: str = DEFAULT_AGGREGATE
    """A document's score from its passages' (document-level ranking)."""
    explain: bool = False
    """Explain each result's score (see ``explain.py``)."""

    def __post_init__(self) -> None:
        _check("method", self.method, METHODS, none_ok=True)
        _check("fusion", self.fusion, tuple(FUSERS))
        _check("aggregate", self.aggregate, AGGREGATES)
        if self.per_source is not None and self.per_source < 1:
            raise OptionError("per_source must be at least 1")

    def resolve(self, manifest: Manifest) -> SearchOptions:
        """These options with the index's method and BM25 parameters filled in."""
        return replace(self, method=self.method or manifest.method, bm25=self.bm25 or manifest.bm25)

    def with_(self, **changes: object) -> SearchOptions:
        return replace(self, **changes)  # type: ignore[arg-type]


def _check(name: str, value: str | None, allowed: tuple[str, ...], none_ok: bool = False) -> None:
    if value is None and none_ok:
        return
    if value not in allowed:
        raise OptionError(f"unknown {name} {value!r}; choose from {', '.join(allowed)}")
