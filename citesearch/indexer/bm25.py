"""BM25 weighting: pure functions over numpy arrays, chosen through ``BM25_VARIANTS``.

Each variant is an idf function of (document frequency, number of passages), a length
function of (passage length / average length, k1, b), computed once a passage, and a
term-frequency function of (tf, that length part, k1, delta). The index stores
``idf * tf_part`` for every (term, passage) pair, so a query is a few slices and a sum.
Terms absent from a passage contribute nothing, in every variant.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

DEFAULT_K1 = 0.9  # issue 13: chosen by leave-one-collection-out (BENCHMARKS.md); Anserini's too
DEFAULT_B = 0.4
DEFAULT_DELTA = {"bm25+": 1.0, "bm25l": 0.5}
OKAPI_EPSILON = 0.25


def idf_okapi(df: np.ndarray, n: int, epsilon: float = OKAPI_EPSILON) -> np.ndarray:
    """Robertson–Spärck Jones idf, log((N - df + 0.5) / (df + 0.5)), as rank_bm25's
    BM25Okapi floors it: negative values become ``epsilon`` times the mean idf."""
    idf = np.log((n - df + 0.5) / (df + 0.5))
    if idf.size:
        idf[idf < 0] = epsilon * idf.mean()
    return idf


def idf_lucene(df: np.ndarray, n: int) -> np.ndarray:
    """Lucene's BM25Similarity (and Anserini's) idf: log(1 + (N - df + 0.5) / (df + 0.5))."""
    return np.log1p((n - df + 0.5) / (df + 0.5))


def idf_bm25plus(df: np.ndarray, n: int) -> np.ndarray:
    """Lv & Zhai, "Lower-bounding term frequency normalization" (CIKM 2011): log((N + 1) / df)."""
    return np.log((n + 1) / df)


def idf_bm25l(df: np.ndarray, n: int) -> np.ndarray:
    """Lv & Zhai, "When documents are very long, BM25 fails!" (SIGIR 2011): log((N + 1) / (df + 0.5))."""
    return np.log((n + 1) / (df + 0.5))


def length_okapi(rel_len: np.ndarray, k1: float, b: float) -> np.ndarray:
    """A passage's part of Okapi's denominator: k1 (1 - b + b dl/avgdl)."""
    return k1 * (1 - b + b * rel_len)


def tf_okapi(tf: np.ndarray, length: np.ndarray, k1: float, delta: float = 0.0) -> np.ndarray:
    """Robertson et al., Okapi at TREC-3: tf (k1 + 1) / (tf + k1 (1 - b + b dl/avgdl))."""
    return tf * (k1 + 1) / (tf + length)


def tf_lucene(tf: np.ndarray, length: np.ndarray, k1: float, delta: float = 0.0) -> np.ndarray:
    """Lucene 8+: tf / (tf + k1 (1 - b + b dl/avgdl)) — Okapi without the constant (k1 + 1)."""
    return tf / (tf + length)


def tf_bm25plus(tf: np.ndarray, length: np.ndarray, k1: float, delta: float = 1.0) -> np.ndarray:
    """BM25+: the Okapi part plus ``delta`` for every passage that has the term."""
    return tf_okapi(tf, length, k1) + delta


def length_bm25l(rel_len: np.ndarray, k1: float, b: float) -> np.ndarray:
    """BM25L's length normalization: 1 - b + b dl/avgdl."""
    return 1 - b + b * rel_len


def tf_bm25l(tf: np.ndarray, length: np.ndarray, k1: float, delta: float = 0.5) -> np.ndarray:
    """BM25L: c = tf / (1 - b + b dl/avgdl), then (k1 + 1)(c + delta) / (k1 + c + delta)."""
    c = tf / length
    return (k1 + 1) * (c + delta) / (k1 + c + delta)


@dataclass(frozen=True)
class Variant:
    """A variant's idf of (df, N); its passage part of (dl/avgdl, k1, b), computed once a
    passage; and its tf part of (tf, that passage part, k1, delta)."""

    idf: Callable[[np.ndarray, int], np.ndarray]
    length: Callable[[np.ndarray, float, float], np.ndarray]
    tf: Callable[..., np.ndarray]


BM25_VARIANTS: dict[str, Variant] = {
    "okapi": Variant(idf_okapi, length_okapi, tf_okapi),
    "lucene": Variant(idf_lucene, length_okapi, tf_lucene),
    "bm25+": Variant(idf_bm25plus, length_okapi, tf_bm25plus),
    "bm25l": Variant(idf_bm25l, length_bm25l, tf_bm25l),
}


@dataclass(frozen=True)
class BM25Params:
    variant: str = "okapi"
    k1: float = DEFAULT_K1
    b: float = DEFAULT_B
    delta: float | None = None

    def __post_init__(self) -> None:
        if self.variant not in BM25_VARIANTS:
            raise ValueError(f"unknown BM25 variant {self.variant!r}; choose from {', '.join(BM25_VARIANTS)}")
        if not (0 <= self.k1 < math.inf and 0 <= self.b <= 1):  # nan fails every comparison
            raise ValueError("BM25 needs a finite k1 >= 0 and 0 <= b <= 1")
        if self.delta is not None and not -math.inf < self.delta < math.inf:
            raise ValueError("BM25's delta must be a finite number")
        if self.delta is None:  # the variant's own: equal to the same parameters written out
            object.__setattr__(self, "delta", DEFAULT_DELTA.get(self.variant, 0.0))

    @property
    def effective_delta(self) -> float:
        """``delta``, which ``__post_init__`` fills in with the variant's own when not given."""
        return float(self.delta)  # type: ignore[arg-type]

    def to_dict(self) -> dict:
        return {"variant": self.variant, "k1": self.k1, "b": self.b, "delta": self.effective_delta}


def idf(params: BM25Params, df: np.ndarray, n: int) -> np.ndarray:
    return BM25_VARIANTS[params.variant].idf(df.astype(np.float64), n)


def term_idf(params: BM25Params, df: np.ndarray, n: int) -> np.ndarray:
    """The idf of every term of an index, by term id. A term no passage has any more (df
    0, after an update removed its passages) gets 0 and is left out of the Okapi floor's
    mean, as if it had never been indexed."""
    out = np.zeros(len(df))
    used = df > 0
    out[used] = idf(params, df[used], n)
    return out


def length_parts(params: BM25Params, rel_len: np.ndarray) -> np.ndarray:
    """The passage part of the tf part, for passages of relative length ``rel_len``
    (dl / avgdl): computed once a passage rather than once a posting, the same values."""
    return BM25_VARIANTS[params.variant].length(rel_len, params.k1, params.b)


def weights(params: BM25Params, tf: np.ndarray, lengths: np.ndarray, term_idf: np.ndarray) -> np.ndarray:
    """idf × tf part for postings with frequencies ``tf`` in passages whose
    :func:`length_parts` are ``lengths``, each posting's term idf in ``term_idf``."""
    v = BM25_VARIANTS[params.variant]
    return term_idf * v.tf(tf.astype(np.float64), lengths, params.k1, params.effective_delta)
