"""TF-IDF cosine scoring.

At index time scikit-learn's ``TfidfTransformer`` (the weighting half of
``TfidfVectorizer``) weights the passage × term counts that the index already holds, so
the text is analyzed once; a test checks the result against ``TfidfVectorizer`` run with
the same analyzer. At query time the stored idf weights the query the same way
scikit-learn's ``transform`` would, without importing scikit-learn.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class TfidfParams:
    sublinear_tf: bool = True
    smooth_idf: bool = True

    def to_dict(self) -> dict:
        return {**asdict(self), "norm": "l2"}


def passage_weights(
    params: TfidfParams, indptr: np.ndarray, passages: np.ndarray, tf: np.ndarray, n_passages: int
) -> tuple[np.ndarray, np.ndarray]:
    """(weights per posting in term-major order, idf per term), via scikit-learn."""
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import TfidfTransformer

    n_terms = len(indptr) - 1
    term_major = csr_matrix((tf.astype(np.float64), passages, indptr), shape=(n_terms, n_passages))
    transformer = TfidfTransformer(norm="l2", sublinear_tf=params.sublinear_tf, smooth_idf=params.smooth_idf)
    passage_major = term_major.T.tocsr()
    weighted = transformer.fit(passage_major).transform(passage_major, copy=False)  # in place: no second copy
    back = weighted.T.tocsr()
    back.sort_indices()
    if back.nnz != len(passages) or not np.array_equal(back.indptr, indptr):
        raise RuntimeError("TF-IDF weights lost their alignment with the postings")
    return back.data.astype(np.float32), transformer.idf_


def _tf(count: float, sublinear: bool) -> float:
    # Sublinear tf is 1 + log(tf) for the integer counts of a typed query; weights below
    # one (terms added by query expansion) are used as they are.
    return 1 + float(np.log(count)) if sublinear and count >= 1 else float(count)


def query_weights(params: TfidfParams, counts: dict[int, float], idf: np.ndarray) -> dict[int, float]:
    """The query vector scikit-learn's ``transform`` would make, L2-normalized."""
    w = {t: _tf(c, params.sublinear_tf) * float(idf[t]) for t, c in counts.items()}
    norm = float(np.sqrt(sum(v * v for v in w.values())))
    return {t: v / norm for t, v in w.items()} if norm > 0 else {}
