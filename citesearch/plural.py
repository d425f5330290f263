"""Counted nouns in messages, said one way everywhere: ``1 source``, ``2 sources``."""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """``n`` and ``word``, in the plural unless ``n`` is 1 (``many``, else ``word + "s"``).

    >>> plural(1, "source"), plural(1200, "passage"), plural(3, "query", "queries")
    ('1 source', '1,200 passages', '3 queries')
    """
    return f"{n:,} {word if n == 1 else many or word + 's'}"
