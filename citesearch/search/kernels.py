"""The ahead-of-time compiled search kernel (``_kernels.c``, built when the package is
installed): exact top-k for one method, or for BM25 and TF-IDF in one pass.

It is what :class:`~.scoring.Scorer` ranks with by default when it is built: importing
it takes microseconds, so a one-off search gets compiled speed too, and a fresh
install's first batch compiles nothing (numba, ``search/compiled.py``, loads in about
0.75 s and compiles its kernels for several seconds the first time). Without a C
compiler at install time the module is missing and searches run on numpy, with the
same results.

The kernel scores every passage that contains a query term, a block of passages at a
time (``BLOCK``; the accumulators stay in cache), and appends each passage that may be
in a method's top k to a candidate buffer: one scoring at least the method's floor, a
lower bound on its k-th best score. The floor starts at the highest of the query terms'
k-th heaviest contributions (read off the impact prefixes: k passages score at least
that); when the buffer fills, it rises to the k-th best score in the buffer (real
passages' exact scores) and the candidates below every floor are dropped. At the end
the buffer holds every passage of each method's top k (ties at the k-th score
included) and few others, which :func:`~.scoring.top_indices` then orders.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

try:
    from . import _kernels
except ImportError:  # not built: numpy ranks instead
    _kernels = None

VERSION = 3
"""The build this module calls (``_kernels.VERSION``): a checkout whose extension was
built from an older source ranks with numpy until it is built again
(``python setup.py build_ext --inplace``, or reinstalling)."""
AVAILABLE = getattr(_kernels, "VERSION", None) == VERSION
BLOCK = 1 << 14  # passages per block: a 256 KiB array of paired float64 sums (8k: the same, 32k: 7% slower, 64k: 17%)
_ROOM = 8  # candidate buffer: this many times k (at least _MIN_ROOM), grown if ties fill it
_MIN_ROOM = 2048


class Arrays(NamedTuple):
    """The index arrays every scan reads."""

    indptr: np.ndarray
    postings: np.ndarray
    prefix_ptr: np.ndarray
    n_rows: int


def usable(index: Arrays, *per_method: np.ndarray) -> bool:
    """Whether the kernel takes an index with these arrays (``per_method``: each method's
    weights and impact prefixes)."""
    want = [(index.indptr, np.int64), (index.postings, np.int32), (index.prefix_ptr, np.int64)]
    want += [(a, np.float32 if a.dtype.kind == "f" else np.int32) for a in per_method]
    return AVAILABLE and all(a.dtype == w and a.flags.c_contiguous for a, w in want)


class Kernel:
    """Scratch buffers for the kernel (one per Scorer: not thread-safe)."""

    def __init__(self) -> None:
        self.acc = np.zeros(2 * BLOCK)  # the two methods' sums of a passage side by side
        self.mark = np.zeros(BLOCK, dtype=np.uint8)
        self.touched = np.zeros(BLOCK, dtype=np.int64)
        self._out: tuple[np.ndarray, ...] = ()

    def _buffers(self, cap: int) -> tuple[np.ndarray, ...]:
        if not self._out or len(self._out[0]) < cap:
            self._out = (np.empty(cap, dtype=np.int64), np.empty(cap), np.empty(cap), np.empty(cap))
        return tuple(a[:cap] for a in self._out)

    def candidates(
        self, index: Arrays, data: list[np.ndarray], prefixes: list[np.ndarray], coefficients: list[dict[int, float]],
        k: int,
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """(rows, [scores per method]): every passage in each method's top ``k`` (by
        score, positive scores only, ties at the k-th all kept) and maybe a few more, in
        no order. One or two methods (``data``: each one's weights, ``prefixes``: its
        impact prefixes, see ``indexer/impacts.py``); two must have the same terms in the
        same order."""
        two = len(data) == 2
        terms = np.fromiter(coefficients[0], dtype=np.int64, count=len(coefficients[0]))
        query = [_coefficients(c, d) for c, d in zip(coefficients, data)]
        if not two:
            query.append(query[0])
        cap = max(_ROOM * k, _MIN_ROOM)
        while True:
            rows, s1, s2, scratch = self._buffers(cap)
            n = _kernels.scan(  # type: ignore[union-attr]
                index.indptr, index.postings, data[0], data[-1], terms, *query[0], *query[1], prefixes[0], prefixes[-1],
                index.prefix_ptr, two, k, index.n_rows,
                self.acc, self.mark, self.touched, rows, s1, s2, scratch,
            )
            if n >= 0:
                return rows[:n].copy(), [s1[:n].copy(), s2[:n].copy()][: len(data)]
            cap *= 4


def _coefficients(coefficients: dict[int, float], data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each term's coefficient (float64) and whether its product with the float32 weights
    rounds to float32: a Python number times a float32 array does in numpy, a numpy
    float64 (RM3's weights) does not. The product of two float32 values is exact in
    float64, so rounding it to float32 gives numpy's float32 product."""
    values = list(coefficients.values())
    if all(type(c) is int or type(c) is float for c in values):  # the usual query: no numpy scalars
        return np.array(values, dtype=np.float32).astype(np.float64), np.ones(len(values), dtype=np.uint8)
    coefs = np.empty(len(values))
    narrow = np.empty(len(values), dtype=np.uint8)
    for i, c in enumerate(values):
        narrow[i] = np.result_type(c, data.dtype) == data.dtype
        coefs[i] = np.float32(c) if narrow[i] else c
    return coefs, narrow
