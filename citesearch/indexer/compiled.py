"""The compiled (numba) numbering of word forms: see :mod:`.numbering`.

The one module that imports numba. Its functions are compiled the first time a build
needs them and cached beside this file (or in numba's user cache) for the next builds.
"""

from __future__ import annotations

import string
from itertools import pairwise

import numba
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


@numba.njit(cache=True, nogil=True, inline="always")
def _key(data, a, n):  # pragma: no cover - compiled
    """(key, hash) of the form ``data[a:a + n]``: a form of up to 8 bytes (most are) is
    its own key, its bytes packed in an integer, so finding it needs no other memory
    than its slot; a longer one is keyed by its FNV-1a hash and compared byte by byte."""
    if n <= 8:
        key = np.uint64(0)
        for j in range(n):
            key |= np.uint64(data[a + j]) << np.uint64(8 * j)
        h = key * np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing
        return key, h ^ (h >> np.uint64(29))
    h = np.uint64(14695981039346656037)
    for j in range(n):
        h = (h ^ np.uint64(data[a + j])) * np.uint64(1099511628211)
    return h, h


@numba.njit(cache=True, nogil=True)
def _scan(buf, bounds, starts, stops, wide, lengths):  # pragma: no cover - compiled
    """The tokens of passage after passage (``buf[bounds[k]:bounds[k + 1]]``, folded):
    runs of ASCII word bytes (two or more), or runs of non-ASCII characters and ASCII
    word bytes (``wide``), for the tokenizer to read. Returns how many."""
    t = 0
    for k in range(len(bounds) - 1):
        first = t
        run = bounds[k]
        high = False
        end = bounds[k + 1]
        for p in range(bounds[k], end + 1):
            c = buf[p] if p < end else 0
            if c == 0:
                if p - run >= 2 or high:
                    starts[t] = run
                    stops[t] = p
                    wide[t] = high
                    t += 1
                run = p + 1
                high = False
            elif c >= 128:
                high = True
        lengths[k] = t - first
    return t


@numba.njit(cache=True, nogil=True)
def _number(buf, starts, stops, table, arena, ends, n_forms, out):  # pragma: no cover - compiled
    """Number each ``buf[starts[t]:stops[t]]`` as a form, in order (new forms go to the
    end of ``arena``, form i being ``arena[ends[i]:ends[i + 1]]``); returns the forms now.

    ``table`` is an open-addressing hash table, at most half full, of slots of two
    int64: the form's key (see :func:`_key`), then its id << 8 | its length (up to 255);
    -1 for an empty slot."""
    mask = (len(table) >> 1) - 1
    for t in range(len(starts)):
        a = starts[t]
        n = stops[t] - a
        key, h = _key(buf, a, n)
        slot = np.int64(h & np.uint64(mask))
        while True:
            meta = table[2 * slot + 1]
            if meta == _EMPTY:
                start = ends[n_forms]
                arena[start : start + n] = buf[a : a + n]
                ends[n_forms + 1] = start + n
                table[2 * slot] = np.int64(key)
                table[2 * slot + 1] = (np.int64(n_forms) << 8) | min(n, 255)
                out[t] = n_forms
                n_forms += 1
                break
            if (meta & 255) == min(n, 255) and table[2 * slot] == np.int64(key):
                form = meta >> 8
                if n <= 8:
                    out[t] = form
                    break
                start = ends[form]
                same = ends[form + 1] - start == n
                j = 0
                while same and j < n:
                    same = arena[start + j] == buf[a + j]
                    j += 1
                if same:
                    out[t] = form
                    break
            slot = (slot + 1) & mask
    return n_forms


@numba.njit(cache=True, nogil=True)
def _rehash(table, arena, ends, n_forms):  # pragma: no cover - compiled
    """Put forms 0 … n_forms - 1 in the (empty) ``table``."""
    mask = (len(table) >> 1) - 1
    for form in range(n_forms):
        n = ends[form + 1] - ends[form]
        key, h = _key(arena, ends[form], n)
        slot = np.int64(h & np.uint64(mask))
        while table[2 * slot + 1] != _EMPTY:
            slot = (slot + 1) & mask
        table[2 * slot] = np.int64(key)
        table[2 * slot + 1] = (np.int64(form) << 8) | min(n, 255)


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
