"""Tried and not kept: splitting and numbering ASCII passages with pyarrow's string kernels.

Usage: pip install pyarrow; python benchmarks/experiments/arrow_tokens.py CORPUS.jsonl [N]

Lowercases and splits each 2000-document batch in Arrow (RE2), dictionary-encodes the
tokens so that only distinct ones meet the dict, and compares with the builder's
per-token path on the first N documents' ASCII texts (default 600,000): same ids, and
not faster.
"""

import gc
import itertools
import sys
import time

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from citesearch.corpus import load_documents
from citesearch.indexer.analysis import AnalyzerConfig, Tokenizer


class _Numbering(dict):
    """Numbers keys in order of first appearance (what the build's numbering was then)."""

    def __missing__(self, key: str) -> int:
        value = self[key] = len(self)
        return value


def arrow_ids(batch: list[str], number) -> np.ndarray:
    lists = pc.split_pattern_regex(pc.ascii_lower(pa.array(batch, pa.large_string())), "[^a-z0-9_]+")
    flat = pc.list_flatten(lists)
    words = flat.filter(pc.greater(pc.binary_length(flat), 1)).dictionary_encode()
    local = np.fromiter(map(number, words.dictionary.to_pylist()), np.int32)
    return local[words.indices.to_numpy()]


def main() -> None:
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 600_000
    texts = [d.text for d in itertools.islice(load_documents([sys.argv[1]]), n) if d.text.isascii()]
    batches = [texts[i : i + 2000] for i in range(0, len(texts), 2000)]
    tokenizer = Tokenizer(AnalyzerConfig())
    gc.disable()
    numbering = _Numbering()
    number = numbering.__getitem__
    started = time.perf_counter()
    for batch in batches:
        for text in batch:
            list(map(number, tokenizer.forms(text)))
    per_token = time.perf_counter() - started
    started = time.perf_counter()
    for batch in batches:
        arrow_ids(batch, number)
    arrow = time.perf_counter() - started
    same = True
    for batch in batches[:30]:
        lists = pc.split_pattern_regex(pc.ascii_lower(pa.array(batch, pa.large_string())), "[^a-z0-9_]+")
        flat = pc.list_flatten(lists)
        words = flat.filter(pc.greater(pc.binary_length(flat), 1)).to_pylist()
        same &= words == [f for t in batch for f in tokenizer.forms(t)]
    print(f"{len(texts):,} ASCII documents: per-token dict {per_token:.2f} s, Arrow {arrow:.2f} s; same tokens: {same}")


if __name__ == "__main__":
    main()
