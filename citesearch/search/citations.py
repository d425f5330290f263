"""Citation numbers: sources numbered in order of their first appearance in a ranking."""

from __future__ import annotations

from collections.abc import Iterable

from .results import Citation, SourceRef


def number_sources(sources: Iterable[SourceRef]) -> tuple[list[int], list[Citation]]:
    """Citation number of each ranked item's source, and the numbered sources list.

    >>> a, b = SourceRef("a", "a.txt", "A"), SourceRef("b", "b.txt", "B")
    >>> numbers, cited = number_sources([b, a, b])
    >>> numbers, [(c.citation, c.source.id, c.hits) for c in cited]
    ([1, 2, 1], [(1, 'b', 2), (2, 'a', 1)])
    """
    order: dict[str, int] = {}
    refs: list[SourceRef] = []
    hits: list[int] = []
    numbers = []
    for src in sources:
        n = order.get(src.id)
        if n is None:
            n = order[src.id] = len(refs) + 1
            refs.append(src)
            hits.append(0)
        hits[n - 1] += 1
        numbers.append(n)
    return numbers, [Citation(i + 1, ref, h) for i, (ref, h) in enumerate(zip(refs, hits))]
