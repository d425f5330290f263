"""Tried and not kept: numbering ASCII tokens with numpy instead of a dict lookup per token.

Usage: python benchmarks/experiments/packed_numbering.py CORPUS.jsonl [N]

A token of up to 10 characters is packed, six bits a character, into a 64-bit key that
stands for it exactly; only each batch's distinct keys meet the dict. The script checks
that it gives the same ids as the builder's per-token path on the first N documents'
ASCII texts (default 300,000) and times both: the numpy path was not faster, because
np.unique over the keys costs about what the dict lookups it saves do.
"""

from __future__ import annotations

import string
from itertools import chain, islice, repeat

import numpy as np

from citesearch.indexer.analysis import DEFAULT_TOKEN_PATTERN, AnalyzerConfig, Tokenizer

PACKED = 10  # characters per 64-bit key: 10 × 6 bits
_CODE = np.zeros(256, dtype=np.uint8)  # byte → 1..37 for word characters, 0 otherwise
for _i, _c in enumerate(string.ascii_lowercase + string.digits + "_", 1):
    _CODE[ord(_c)] = _i
    _CODE[ord(_c.upper())] = _i
# left-aligned: a zero pad cannot be a character
_PLACE = np.uint64(64) ** np.arange(PACKED - 1, -1, -1, dtype=np.uint64)


class _Numbering(dict):
    """Numbers keys in order of first appearance (what the build's numbering was then)."""

    def __missing__(self, key: str) -> int:
        value = self[key] = len(self)
        return value


class FormNumbering:
    """Numbers surface forms in order of first appearance, as a dict would, for one
    worker's passages batch after batch."""

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer
        self._packable = tokenizer.config.token_pattern == DEFAULT_TOKEN_PATTERN
        self.ids = _Numbering()  # form → id, in id order; a new form gets the next id
        self._by_key: dict[int, int] = {}  # packed key → id
        self._new_keys: list[int] = []  # keys added in this batch

    def __len__(self) -> int:
        return len(self.ids)

    def forms(self, start: int = 0) -> list[str]:
        """The forms numbered ``start`` and after, in id order."""
        return list(self.ids)[start:]

    def number(self, passages: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """``(ids, lengths)``: the form ids of every passage in turn, and how many each has."""
        known = len(self.ids)
        fast = [i for i, p in enumerate(passages) if self._packable and p.isascii()]
        slow = np.setdiff1d(np.arange(len(passages)), fast, assume_unique=True)
        parts_ids, parts_owner = [], []
        if fast:
            ids, owner = self._number_packed([passages[i] for i in fast])
            parts_ids.append(ids)
            parts_owner.append(np.asarray(fast, dtype=np.int64)[owner])
        if len(slow):
            forms = [self.tokenizer.forms(passages[i]) for i in slow]
            lengths = np.fromiter(map(len, forms), dtype=np.int64, count=len(forms))
            number = self.ids.__getitem__
            parts_ids.append(
                np.fromiter(map(number, chain.from_iterable(forms)), dtype=np.int32, count=int(lengths.sum()))
            )
            parts_owner.append(np.repeat(slow, lengths))
        if not parts_ids:
            return np.zeros(0, dtype=np.int32), np.zeros(len(passages), dtype=np.int32)
        ids, owner = np.concatenate(parts_ids), np.concatenate(parts_owner)
        ids = self._renumber(ids[np.argsort(owner, kind="stable")], known)
        return ids, np.bincount(owner, minlength=len(passages)).astype(np.int32)

    def _renumber(self, ids: np.ndarray, known: int) -> np.ndarray:
        """Give the forms first met in this batch (ids from ``known`` on) their ids in
        order of first appearance in ``ids``."""
        if len(self.ids) == known:
            return ids
        new = np.flatnonzero(ids >= known)
        seen, first = np.unique(ids[new], return_index=True)
        order = seen[np.argsort(first)]  # provisional ids, by first appearance
        remap = np.arange(len(self.ids), dtype=np.int32)
        remap[order] = np.arange(known, len(self.ids), dtype=np.int32)
        if len(order) != len(self.ids) - known:
            raise RuntimeError("a form was numbered that no token has")
        forms = list(islice(self.ids, known, None))
        for form in forms:
            del self.ids[form]
        for old in order.tolist():
            self.ids[forms[old - known]] = int(remap[old])
        for key in self._new_keys:
            self._by_key[key] = int(remap[self._by_key[key]])
        self._new_keys.clear()
        return remap[ids]

    def _number_packed(self, passages: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """Ids of the tokens of ASCII passages, and the passage (position in the list) of each."""
        text = "\n".join(passages)  # a non-word byte between passages
        data = np.frombuffer(text.encode("ascii") + b"\0" * PACKED, dtype=np.uint8)
        code = _CODE[data]
        word = np.concatenate(([False], code[: len(text)] > 0, [False]))
        edges = np.flatnonzero(word[1:] != word[:-1])
        starts, lengths = edges[0::2], edges[1::2] - edges[0::2]
        keep = lengths > 1  # the default pattern: two word characters or more
        starts, lengths = starts[keep], lengths[keep]
        offsets = np.cumsum([0] + [len(p) + 1 for p in passages[:-1]])
        owner = np.searchsorted(offsets, starts, side="right") - 1

        ids = np.empty(len(starts), dtype=np.int32)
        short = lengths <= PACKED
        s_starts, s_lengths = starts[short], lengths[short]
        window = code[s_starts[:, None] + np.arange(PACKED)].astype(np.uint64)
        window[np.arange(PACKED) >= s_lengths[:, None]] = 0
        keys = window @ _PLACE
        distinct, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        local = np.fromiter(map(self._by_key.get, distinct.tolist(), repeat(-1)), dtype=np.int32, count=len(distinct))
        low = text.lower()
        for j in np.flatnonzero(local < 0).tolist():  # forms this worker has not packed before
            key, s = int(distinct[j]), int(s_starts[first[j]])
            local[j] = self._by_key[key] = self.ids[low[s : s + int(s_lengths[first[j]])]]
            self._new_keys.append(key)
        ids[short] = local[inverse.reshape(-1)]
        long_forms = [low[s : s + n] for s, n in zip(starts[~short].tolist(), lengths[~short].tolist())]
        ids[~short] = np.fromiter(map(self.ids.__getitem__, long_forms), dtype=np.int32, count=len(long_forms))
        return ids, owner


def main() -> None:
    import gc
    import itertools
    import sys
    import time

    from citesearch.corpus import load_documents

    n = int(sys.argv[2]) if len(sys.argv) > 2 else 300_000
    texts = [d.text for d in itertools.islice(load_documents([sys.argv[1]]), n) if d.text.isascii()]
    batches = [texts[i : i + 2000] for i in range(0, len(texts), 2000)]
    tokenizer = Tokenizer(AnalyzerConfig())
    gc.disable()
    numbering = _Numbering()
    number = numbering.__getitem__
    started = time.perf_counter()
    expected = [np.array([number(f) for t in batch for f in tokenizer.forms(t)], dtype=np.int32) for batch in batches]
    per_token = time.perf_counter() - started
    packed = FormNumbering(tokenizer)
    started = time.perf_counter()
    got = [packed.number(batch)[0] for batch in batches]
    numpy_path = time.perf_counter() - started
    same = all(np.array_equal(a, b) for a, b in zip(expected, got))
    print(
        f"{len(texts):,} ASCII documents: per-token dict {per_token:.2f} s, "
        f"packed keys {numpy_path:.2f} s, same ids: {same}"
    )


if __name__ == "__main__":
    main()
