"""Postings a block at a time, for weighing them without arrays the size of the index.

A build weighs every posting (hundreds of millions at 10M passages). Doing it a block of
postings at a time keeps each temporary array a few megabytes, reused from one block to
the next, instead of several arrays the size of the postings, each new one costing
seconds of page faults at that scale; the values are the same, one posting at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

BLOCK = 1 << 20  # postings at a time


def term_blocks(indptr: np.ndarray) -> Iterator[tuple[int, int, np.ndarray]]:
    """(start, stop, each posting's term id) of consecutive blocks of ``BLOCK`` postings
    of the term-major matrix whose term t's postings are ``[indptr[t], indptr[t + 1])``."""
    total, size = int(indptr[-1]), BLOCK
    for a in range(0, total, size):
        b = min(a + size, total)
        first, last = int(np.searchsorted(indptr, a, "right")) - 1, int(np.searchsorted(indptr, b, "left"))
        counts = np.minimum(indptr[first + 1 : last + 1], b) - np.maximum(indptr[first:last], a)
        yield a, b, np.repeat(np.arange(first, last, dtype=np.int32), counts)
