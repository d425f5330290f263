"""The numba version of the build's compiled numbering (``compiled.py``), used where the C
one (``_numbering.c``, built at install) is not: the same functions, compiled the first
time a build needs them and cached beside this file (or in numba's user cache).

The one module of the build that imports numba.
"""

from __future__ import annotations

import numba
import numpy as np

_EMPTY = -1


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
