"""The compiled numbering of word forms: see :mod:`.numbering`.

Its loops (``scan``, ``number``, ``rehash``) are C, built at install (``_numbering.c``):
importing them costs microseconds. Where that extension is not built, numba compiles the
same loops (``_numba_numbering.py``) the first time a build needs them (about 2.4 s), and
loads them from its cache in the next builds (about 0.3 s).
"""

from __future__ import annotations

import string
from itertools import pairwise

import numpy as np

from .analysis import AnalyzerConfig, Tokenizer

_WORD_BYTES = frozenset((string.ascii_letters + string.digits + "_").encode())
# Each byte as it goes into a form: ASCII word characters lowercased, other ASCII bytes
# 0 (they end a token), bytes of multi-byte characters as they are (>= 128).
_FOLD = np.array(
    [(c | 0x20 if 65 <= c <= 90 else c) if c in _WORD_BYTES else (c if c >= 128 else 0) for c in range(256)],
    dtype=np.uint8,
)
_EMPTY = -1
_WIDE_KEPT = 1 << 17  # non-ASCII runs whose forms are kept, at most

try:
    from ._numbering import number as _number
    from ._numbering import rehash as _rehash
    from ._numbering import scan as _scan
except ImportError:  # not built (no C compiler at install): numba's, the same
    from ._numba_numbering import _number, _rehash, _scan


def _encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")  # JSON may hold lone surrogates


def _bounds(parts: list[bytes]) -> np.ndarray:
    bounds = np.zeros(len(parts) + 1, dtype=np.int64)
    np.cumsum([len(p) for p in parts], out=bounds[1:])
    return bounds


class CompiledFormIds:
    """:class:`.numbering.FormIds` for the default token pattern, compiled: the same ids."""

    def __init__(self, tokenizer: Tokenizer):
        if not tokenizer.default_pattern:
            raise ValueError("the compiled numbering knows only the default token pattern")
        self.tokenizer = tokenizer
        self._wide: dict[bytes, list[bytes]] = {}  # the encoded forms of each non-ASCII run met
        self.n_forms = 0
        self.table = np.full(2 << 16, _EMPTY, dtype=np.int64)  # 65536 slots
        self.arena = np.zeros(1 << 20, dtype=np.uint8)
        self.ends = np.zeros(1 << 15, dtype=np.int64)

    def __len__(self) -> int:
        return self.n_forms

    def _room(self, new_forms: int, new_bytes: int) -> None:
        """Grow the arrays so that ``new_forms`` more forms of ``new_bytes`` fit."""
        forms = self.n_forms + new_forms
        if 4 * forms > len(self.table):  # keep the table at most half full
            self.table = np.full(2 << (2 * forms).bit_length(), _EMPTY, dtype=np.int64)
            _rehash(self.table, self.arena, self.ends, self.n_forms)
        if forms + 1 > len(self.ends):
            self.ends = np.concatenate([self.ends, np.zeros(forms + 1, dtype=np.int64)])
        used = int(self.ends[self.n_forms])
        if used + new_bytes > len(self.arena):
            self.arena = np.concatenate([self.arena, np.zeros(used + new_bytes, dtype=np.uint8)])

    def number(self, passages: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """The form ids of every passage, concatenated, and how many each has."""
        parts = [_encode(p) for p in passages]
        data = b"".join(parts)
        bounds = _bounds(parts)
        buf = _FOLD[np.frombuffer(data, dtype=np.uint8)]
        most = len(buf) // 2 + 1  # every run but a passage's last is followed by a separator
        starts = np.empty(most, dtype=np.int64)
        stops = np.empty(most, dtype=np.int64)
        wide = np.empty(most, dtype=np.bool_)
        lengths = np.empty(len(parts), dtype=np.int32)
        n = _scan(buf, bounds, starts, stops, wide, lengths)
        starts, stops, wide = starts[:n], stops[:n], wide[:n]
        if wide.any():
            buf, starts, stops = self._read_wide(data, buf, starts, stops, wide, lengths)
        self._room(len(starts), int((stops - starts).sum()))
        ids = np.empty(len(starts), dtype=np.int32)
        self.n_forms = _number(buf, starts, stops, self.table, self.arena, self.ends, self.n_forms, ids)
        return ids, lengths

    def _read_wide(self, data, buf, starts, stops, wide, lengths):
        """Put the forms the tokenizer finds in each wide run in its place: their bytes
        after ``buf``, their spans instead of the run's."""
        at = np.flatnonzero(wide)
        forms_of, known = self.tokenizer.forms, self._wide
        if len(known) > _WIDE_KEPT:
            known.clear()
        found = []
        for a, b in zip(starts[at].tolist(), stops[at].tolist()):
            run = data[a:b]
            forms = known.get(run)
            if forms is None:  # most runs recur (a word with an accent, box drawing): 5/6 at 1M passages
                forms = known[run] = [_encode(f) for f in forms_of(run.decode("utf-8", "surrogatepass"))]
            found.append(forms)
        counts = np.array([len(f) for f in found], dtype=np.int64)
        extra = [f for forms in found for f in forms]
        extra_bounds = len(buf) + _bounds(extra)
        repeats = np.ones(len(starts), dtype=np.int64)
        repeats[at] = counts
        starts, stops = np.repeat(starts, repeats), np.repeat(stops, repeats)
        replaced = np.repeat(wide, repeats)
        starts[replaced] = extra_bounds[:-1]
        stops[replaced] = extra_bounds[1:]
        np.add.at(lengths, np.searchsorted(np.cumsum(lengths), at, side="right"), counts - 1)
        return np.concatenate([buf, np.frombuffer(b"".join(extra), dtype=np.uint8)]), starts, stops

    def forms_since(self, start: int) -> list[str]:
        """The forms numbered ``start`` and after, in id order."""
        ends = self.ends[start : self.n_forms + 1].tolist()
        arena = self.arena[ends[0] : ends[-1]].tobytes()
        base = ends[0]
        return [arena[a - base : b - base].decode("utf-8", "surrogatepass") for a, b in pairwise(ends)]


def warm_up() -> None:
    """Compile every function, or load it from the cache, before worker processes fork:
    once, rather than in each of them."""
    forms = CompiledFormIds(Tokenizer(AnalyzerConfig()))
    forms.number(["Warm up, café"])
    _rehash(np.full(8, _EMPTY, dtype=np.int64), forms.arena, forms.ends, 0)
