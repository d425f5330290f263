"""Divergence from randomness: In_expC2 (Amati & van Rijsbergen, TOIS 2002; Terrier's formula).

The hybrid's probabilistic run since issue 13's third round: chosen over BM25 by
leave-one-collection-out on the four shared collections (``benchmarks/experiments/LOO_MORE.md``),
RRF-fused with TF-IDF it is at or above every anchor on all of them.

For a term with document frequency n_t and collection frequency F, in a passage of length
l (average avgl) of a collection of N passages, where the term occurs tf times:

    tfn_e = tf · ln(1 + c · avgl / l)                       (normalization 2, natural log: "C2")
    n_e   = N · (1 − (1 − 1/N)^F)                           (expected document frequency: "In_exp")
    w     = (F + 1) / (n_t · (tfn_e + 1)) · tfn_e · log2((N + 1) / (n_e + 0.5))

Like a BM25 weight, w depends only on the posting (tf, l) and on the collection's
statistics, so the index stores it for every posting and a query is a sum of stored
weights times the query term counts (pruned top-k as for BM25).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

MODELS = ("in_expc2",)
DEFAULT_C = 4.0  # chosen by leave-one-collection-out from {1, 4}; 4 to 10 all clear every anchor


@dataclass(frozen=True)
class DFRParams:
    model: str = "in_expc2"
    c: float = DEFAULT_C

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"unknown DFR model {self.model!r}; choose from {', '.join(MODELS)}")
        if not 0 < self.c < math.inf:  # nan fails the comparison too
            raise ValueError("DFR needs a finite c > 0")

    def to_dict(self) -> dict:
        return {"model": self.model, "c": self.c}

    @classmethod
    def from_dict(cls, data: dict) -> DFRParams:
        return cls(str(data["model"]), float(data["c"]))


def collection_frequency(indptr: np.ndarray, tf: np.ndarray) -> np.ndarray:
    """Each term's total count over the passages (its slice of the term-major ``tf``)."""
    df = np.diff(indptr)
    cf = np.zeros(len(df), dtype=np.float64)
    used = np.flatnonzero(df)
    if len(used):  # summed as integers (exact either way): 16x faster than converting tf to float64 first
        cf[used] = np.add.reduceat(np.asarray(tf), np.asarray(indptr[:-1])[used], dtype=np.int64)
    return cf


def term_factors(df: np.ndarray, cf: np.ndarray, n: int) -> np.ndarray:
    """(F + 1) / n_t · log2((N + 1) / (n_e + 0.5)) of every term; 0 for a term no passage
    has (any more, after an update)."""
    df = np.asarray(df, dtype=np.float64)
    cf = np.asarray(cf, dtype=np.float64)
    out = np.zeros(len(df))
    used = df > 0
    with np.errstate(divide="ignore"):  # one passage: log1p(-1) = -inf, and n_e = 1
        ne = n * -np.expm1(cf[used] * np.log1p(-1.0 / n))
    out[used] = (cf[used] + 1) / df[used] * np.log2((n + 1) / (ne + 0.5))
    return out


def length_norms(params: DFRParams, rel_len: np.ndarray) -> np.ndarray:
    """Normalization 2's factor, ln(1 + c · avgl / l), of passages of relative length
    ``rel_len`` (l / avgl): computed once a passage, a build gathers it for each posting."""
    with np.errstate(divide="ignore"):  # an empty passage (no postings): inf, never read
        return np.log1p(params.c / rel_len)


def weights(tf: np.ndarray, norms: np.ndarray, factor: np.ndarray) -> np.ndarray:
    """In_expC2 weights of postings with frequencies ``tf`` in passages whose
    :func:`length_norms` are ``norms``, each posting's term factor (:func:`term_factors`)
    in ``factor``."""
    tfn = np.asarray(tf, dtype=np.float64) * norms
    return factor * tfn / (tfn + 1)
