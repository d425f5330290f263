"""TF-IDF cosine scoring.

At index time the passage × term counts the index already holds are weighted as
scikit-learn's ``TfidfTransformer`` (the weighting half of ``TfidfVectorizer``) weights
them, so the text is analyzed once; tests check the result against ``TfidfVectorizer``
run with the same analyzer, and against ``TfidfTransformer`` to the bit. At query time
the stored idf weights the query the same way scikit-learn's ``transform`` would,
without importing scikit-learn.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from .blocks import term_blocks

try:
    from . import _weighing
except ImportError:  # not built: numpy weighs, a block at a time
    _weighing = None


@dataclass(frozen=True)
class TfidfParams:
    sublinear_tf: bool = True
    smooth_idf: bool = True

    def to_dict(self) -> dict:
        return {**asdict(self), "norm": "l2"}


def passage_weights(
    params: TfidfParams, indptr: np.ndarray, passages: np.ndarray, tf: np.ndarray, n_passages: int,
    collection: tuple[np.ndarray, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(weights per posting in term-major order, idf per term): the values scikit-learn's
    ``TfidfTransformer(norm="l2")`` gives the passage × term counts, to the bit.

    Computed where the postings are, in term-major order, instead of transposing the
    counts to passages × terms and back (a third of a 1M-passage build's time after
    reading). The same operations in the same order: ``(1 + log tf) × idf`` in float64,
    each passage's sum of squares added up in ascending term order (as scikit-learn's
    row loop does, since a passage meets its terms in that order here too), then divided
    by its square root. A test checks the result against ``TfidfVectorizer``.

    ``collection``: (document frequency of every term, passage count) of the whole
    collection when these postings are one shard of it (``indexer/sharding.py``): the
    idf, and so the norms, are the collection's. Default: these postings' own.
    """
    df = np.diff(indptr)
    global_df, n_total = collection if collection is not None else (df, n_passages)
    smooth = int(params.smooth_idf)
    idf = np.full(len(df), n_total + smooth, dtype=np.float64)
    idf /= np.maximum(global_df + float(smooth), 1.0)  # a term no passage has any more (updates): never a 0 df
    np.log(idf, out=idf)
    idf += 1.0
    if _weighing is not None and tf.dtype in (np.uint8, np.uint16):
        # Compiled (indexer/_weighing.c): the same operations in one pass each, no temporaries.
        top = np.iinfo(tf.dtype).max
        table = _log_table(tf.dtype) if params.sublinear_tf else np.arange(top + 1, dtype=np.float64)
        weights = np.empty(len(tf), dtype=np.float32)
        indptr, passages = np.ascontiguousarray(indptr, dtype=np.int64), np.ascontiguousarray(passages, dtype=np.int32)
        _weighing.tfidf(indptr, passages, np.ascontiguousarray(tf), table, idf, np.zeros(n_passages), weights)
        return weights, idf
    tf_part = _tf_part(params, tf.dtype)
    # Block by block, twice (each posting's weight made again the second time, the same
    # value): no array of float64 the size of the postings (1.5 GB each at 10M passages).
    # Each passage's sum of squares is added up in posting order, as bincount would.
    squares = np.zeros(n_passages)
    for a, b, terms in term_blocks(indptr):
        w = tf_part(tf[a:b])
        w *= idf[terms]
        np.add.at(squares, passages[a:b], w * w)
    norms = np.sqrt(squares)
    weights = np.empty(len(tf), dtype=np.float32)
    for a, b, terms in term_blocks(indptr):
        w = tf_part(tf[a:b])
        w *= idf[terms]
        w /= norms[passages[a:b]]
        weights[a:b] = w
    return weights, idf


def _tf_part(params: TfidfParams, dtype: np.dtype) -> Callable[[np.ndarray], np.ndarray]:
    """The tf part, in float64, of frequencies of type ``dtype``: 1 + log tf (sublinear)
    or tf. For one or two bytes, 1 + log tf is looked up: the same values (numpy's log
    of each), without a log per posting."""
    if params.sublinear_tf and dtype.kind == "u" and dtype.itemsize <= 2:
        table = _log_table(dtype)
        return lambda tf: table[tf]

    def tf_part(tf: np.ndarray) -> np.ndarray:
        w = tf.astype(np.float64)
        if params.sublinear_tf:
            np.log(w, out=w)
            w += 1.0
        return w

    return tf_part


def _log_table(dtype: np.dtype) -> np.ndarray:
    """1 + log tf for every value of the unsigned integer ``dtype`` (numpy's log of each)."""
    table = np.arange(np.iinfo(dtype).max + 1, dtype=np.float64)
    with np.errstate(divide="ignore"):  # log 0: no posting has tf 0
        np.log(table, out=table)
    table += 1.0
    return table


def _tf(count: float, sublinear: bool) -> float:
    # Sublinear tf is 1 + log(tf) for the integer counts of a typed query; weights below
    # one (terms added by query expansion) are used as they are.
    return 1 + float(np.log(count)) if sublinear and count >= 1 else float(count)


def query_weights(params: TfidfParams, counts: dict[int, float], idf: np.ndarray) -> dict[int, float]:
    """The query vector scikit-learn's ``transform`` would make, L2-normalized."""
    w = {t: _tf(c, params.sublinear_tf) * float(idf[t]) for t, c in counts.items()}
    norm = float(np.sqrt(sum(v * v for v in w.values())))
    return {t: v / norm for t, v in w.items()} if norm > 0 else {}
