"""Scoring passages against analyzed query terms.

A query is a bag of term ids with counts. Each scorer sums, over the query's terms, the
term's slice of the term-major postings times its query weight, and returns the scores
of the candidate passages (those containing a query term) as a compact array. BM25 reads
the weights precomputed at index time, or computes them for the query's terms only when
asked for other parameters than the index was built with; In_expC2 (``dfr``, the hybrid's
probabilistic run in an index that stores it) and TF-IDF read theirs.

:meth:`Scorer.top` finds the best k passages without scoring them all; see there.
"""

from __future__ import annotations

import functools

import numpy as np

from ..indexer import bm25, tfidf
from ..indexer.storage import IndexReader
from . import kernels

_SLACK = 1e-9  # relative margin for float rounding in the pruning bounds
_FLOOR_FROM = 100  # k from which the compiled top starts from the sampled bound


def _scratch(method):
    """For methods that use the scratch buffers: if one is interrupted midway (an error, a
    KeyboardInterrupt), the buffers may not be zeroed; drop them so the next use starts
    clean."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except BaseException:
            self._acc = self._mark = None
            raise

    return wrapper


class Scorer:
    """Scores an index's passages for a query's terms, and finds the top k.

    ``compiled``: None (the default) ranks with the ahead-of-time compiled kernel
    (``search/kernels.py``) when it is built, else with numpy; True likewise, but with
    numba's kernel (``search/compiled.py``) where that one is not built; ``"numba"``
    always with numba's; False always with numpy. All return the same, bit for bit.
    """

    def __init__(self, reader: IndexReader, compiled: bool | str | None = None):
        self.reader = reader
        m = reader.manifest
        self.n = reader.n_passages
        self.index_bm25 = m.bm25
        self.avgdl = m.avg_passage_length
        self.tfidf_params = m.tfidf
        self.index_dfr = m.dfr
        self._idf: dict[bm25.BM25Params, np.ndarray] = {}
        self._acc: np.ndarray | None = None
        self._mark: np.ndarray | None = None
        self._blocks = None
        self._kernel: kernels.Kernel | None = None
        arrays = kernels.Arrays(reader.indptr, reader.postings, reader["impact_indptr"], self.n)
        kinds = ("bm25", "tfidf", "dfr") if m.dfr is not None else ("bm25", "tfidf")
        per_method = [reader[f"{kind}_{what}"] for kind in kinds for what in ("weights", "impacts")]
        if compiled not in (False, "numba") and kernels.usable(arrays, *per_method):
            self._kernel = kernels.Kernel()
            self._arrays = arrays
        elif compiled:
            from .compiled import Blocks  # imports numba: ~0.75 s, for many queries only

            self._blocks = Blocks()

    @property
    def compiled(self) -> bool:
        return self._blocks is not None or self._kernel is not None

    def postings(self, term: int) -> slice:
        return slice(int(self.reader.indptr[term]), int(self.reader.indptr[term + 1]))

    def df(self, term: int) -> int:
        s = self.postings(term)
        return s.stop - s.start

    def bm25_idf(self, params: bm25.BM25Params) -> np.ndarray:
        if params not in self._idf:
            self._idf[params] = bm25.term_idf(params, np.diff(self.reader.indptr), self.n)  # gone terms left out
        return self._idf[params]

    def bm25_weights(self, term: int, params: bm25.BM25Params | None = None) -> np.ndarray:
        s = self.postings(term)
        if params is None or params == self.index_bm25:
            return self.reader["bm25_weights"][s]
        rows = self.reader.postings[s]
        lengths = bm25.length_parts(params, self.reader["passage_length"][rows] / self.avgdl)
        return bm25.weights(params, self.reader["postings_tf"][s], lengths, self.bm25_idf(params)[term])

    # Per-query work touches only the passages that contain a query term: two dense
    # buffers (passage count long) are allocated once per Index and left zeroed after
    # each use, and every result is a compact array aligned with the sorted candidate
    # rows. An Index is therefore not safe to search from two threads at once.

    def _buffers(self) -> tuple[np.ndarray, np.ndarray]:
        if self._acc is None:
            self._acc = np.zeros(self.n, dtype=np.float64)
            self._mark = np.zeros(self.n, dtype=bool)
        return self._acc, self._mark  # type: ignore[return-value]

    @_scratch
    def candidates(self, terms) -> np.ndarray:
        """Sorted rows of the passages that contain any of ``terms``."""
        parts = [self.reader.postings[self.postings(t)] for t in terms]
        if len(parts) == 1:
            return np.asarray(parts[0], dtype=np.int64)
        _, mark = self._buffers()
        for rows in parts:
            mark[rows] = True
        found = np.flatnonzero(mark)
        if len(found) > self.n // 8:
            mark.fill(False)
        else:
            mark[found] = False
        return found

    @_scratch
    def containing(self, terms, rows: np.ndarray) -> np.ndarray:
        """Which of ``rows`` contain any of ``terms`` (a mask aligned with ``rows``)."""
        _, mark = self._buffers()
        parts = [self.reader.postings[self.postings(t)] for t in terms]
        for p in parts:
            mark[p] = True
        inside = mark[rows]
        for p in parts:
            mark[p] = False
        return inside

    def containing_all(self, terms, rows: np.ndarray) -> np.ndarray:
        inside = np.ones(len(rows), dtype=bool)
        for term in terms:
            inside &= self.containing([term], rows)
        return inside

    @_scratch
    def _accumulate(self, parts, rows: np.ndarray) -> np.ndarray:
        acc, _ = self._buffers()
        for postings, values in parts:
            acc[postings] += values
        out = acc[rows]
        if sum(len(p) for p, _ in parts) > self.n // 8:
            acc.fill(0.0)  # cheaper than scattering zeros over long postings
        else:
            for postings, _ in parts:
                acc[postings] = 0.0
        return out

    def bm25(self, counts: dict[int, float], rows: np.ndarray, params: bm25.BM25Params | None = None) -> np.ndarray:
        """BM25 scores of ``rows`` (compact, aligned with them)."""
        parts = [(self.reader.postings[self.postings(t)], c * self.bm25_weights(t, params)) for t, c in counts.items()]
        return self._accumulate(parts, rows)

    def tfidf(self, counts: dict[int, float], rows: np.ndarray) -> np.ndarray:
        """TF-IDF cosine scores of ``rows`` (compact, aligned with them)."""
        return self.stored("tfidf", counts, rows)

    def stored(self, kind: str, counts: dict[int, float], rows: np.ndarray) -> np.ndarray:
        """Scores of ``rows`` (compact, aligned with them) by a method ranked with its
        stored weights alone, ``tfidf`` or ``dfr`` (In_expC2: the index must store them)."""
        data = self.reader[f"{kind}_weights"]
        parts = []
        for term, w in self.coefficients(kind, counts).items():
            s = self.postings(term)
            parts.append((self.reader.postings[s], w * data[s]))
        return self._accumulate(parts, rows)

    def score(self, kind: str, counts: dict[int, float], rows: np.ndarray, params: bm25.BM25Params | None = None
              ) -> np.ndarray:
        """Scores of ``rows`` by ``kind`` (``bm25``, with ``params``; ``tfidf``; ``dfr``)."""
        return self.bm25(counts, rows, params) if kind == "bm25" else self.stored(kind, counts, rows)

    def coefficients(self, kind: str, counts: dict[int, float]) -> dict[int, float]:
        """What each term's stored weights are multiplied by: its count for BM25 and
        In_expC2, its normalized query weight for TF-IDF."""
        if kind in ("bm25", "dfr"):
            return counts
        return tfidf.query_weights(self.tfidf_params, counts, self.reader["tfidf_idf"])

    @_scratch
    def top(self, kind: str, counts: dict[int, float], k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best passages by ``kind`` ("bm25", with the index's parameters,
        "tfidf" or "dfr") and their scores, best first, ties by row: exactly what scoring every
        candidate and sorting returns, usually without reading most of the long lists.

        A passage's score is a sum of non-negative per-term contributions, so:

        1. Scoring each term's heaviest postings (stored at index time, see
           ``indexer/impacts.py``) counting only those, gives real passages scores no
           higher than their true ones: the k-th best of them, θ, is a lower bound on the
           true k-th best score.
        2. A term contributes at most its heaviest weight (its upper bound). Terms whose
           upper bounds, smallest first, sum to less than θ are *non-essential*: a
           passage containing only those cannot reach the top k (MaxScore; Turtle &
           Flood, 1995). Only the essential terms' lists are read whole.
        3. Their partial scores raise θ; a passage can still make the top k only if its
           partial score plus the non-essential bound reaches θ. The survivors look the
           non-essential terms up (see :meth:`_exact`), heaviest first, dropping those
           that fall out of reach; the last few are scored term by term in query order
           (so sums round exactly as in straightforward scoring) and sorted.

        A Scorer made with ``compiled=True`` instead scores every candidate in compiled
        code (see ``search/compiled.py``), passing on only those that reach θ when k is
        large, with the same result.
        """
        data = self.reader[f"{kind}_weights"]
        postings = self.reader.postings
        coefficients = self.coefficients(kind, counts)
        if self._kernel is not None:
            prefixes = self.reader[f"{kind}_impacts"]
            rows, (scores,) = self._kernel.candidates(self._arrays, [data], [prefixes], [coefficients], k)
            best = top_indices(scores, rows, k)
            return rows[best], scores[best]
        if self._blocks is not None:
            # θ bars passages from the kernel's heap: for a deep top that saves more
            # than sampling costs (k = 1000 at 1M passages: 0.95 -> 0.68 ms p50), for a
            # shallow one it does not (k = 10: 0.29 -> 0.34 ms).
            floor = self._bound(kind, coefficients, k) if k >= _FLOOR_FROM else 0.0
            rows, scores = self._blocks.top(self.reader.indptr, postings, data, coefficients, k, self.n, floor)
            best = top_indices(scores, rows, k)
            return rows[best], scores[best]
        theta, terms = self._sample(kind, coefficients, k)
        acc, _ = self._buffers()

        skipped, bound = set(), 0.0
        if theta > 0:
            for i in sorted(range(len(terms)), key=lambda i: terms[i][3]):
                if bound + terms[i][3] >= theta * (1 - _SLACK):
                    break
                bound += terms[i][3]
                skipped.add(i)
        read = []
        for i, (start, stop, c, _) in enumerate(terms):
            if i not in skipped:
                acc[postings[start:stop]] += c * data[start:stop]
                read.append(postings[start:stop])
        partial = self._take(read)  # each passage once, then zeros for its repeats
        rows = np.concatenate(read)
        theta = _kth_largest(partial, k, theta)
        keep = np.flatnonzero((partial > 0) & (partial >= theta - bound - _SLACK * (theta + bound)))
        rows, scores = rows[keep], partial[keep]
        if skipped:
            # rows is the essential lists one after another, each ascending: timsort
            # merges such runs 4× faster than quicksort sorts them (150k survivors).
            order = np.argsort(rows, kind="stable")
            rows, scores = rows[order], scores[order]
            # The skipped terms, heaviest first, each adding its weights to the
            # survivors and retiring its share of the bound, so fewer survive.
            for i in sorted(skipped, key=lambda i: -terms[i][3]):
                scores = scores + self._exact([terms[i]], data, rows)
                bound -= terms[i][3]
                theta = _kth_largest(scores, k, theta)
                alive = np.flatnonzero(scores >= theta - bound - _SLACK * (theta + abs(bound)))
                rows, scores = rows[alive], scores[alive]
            scores = self._exact(terms, data, rows)
        best = top_indices(scores, rows, k)
        return rows[best], scores[best]

    def one_pass(self, runs: dict[str, dict[int, float]]) -> bool:
        """Whether :meth:`tops` ranks ``runs`` in one pass of the compiled kernel."""
        if self._kernel is None or len(runs) != 2:
            return False
        coefficients = [self.coefficients(kind, counts) for kind, counts in runs.items()]
        return list(coefficients[0]) == list(coefficients[1])

    @_scratch
    def tops(self, runs: dict[str, dict[int, float]], k: int) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each of ``runs``' (kind: the weights it ranks) :meth:`top` ``k``, as passage rows
        (distinct, in no order) and, for each run, the positions of its top among them, best
        first. With the compiled kernel, BM25 and TF-IDF of the same terms are ranked in one
        pass over their shared postings."""
        coefficients = [self.coefficients(kind, counts) for kind, counts in runs.items()]
        if self._kernel is None or len(runs) != 2 or list(coefficients[0]) != list(coefficients[1]):
            tops = [self.top(kind, counts, k)[0] for kind, counts in runs.items()]
            both = np.sort(np.concatenate(tops))  # np.union1d, without its hash table: 0.10 -> 0.04 ms
            rows = both[np.concatenate(([True], both[1:] != both[:-1]))]
            return rows, [np.searchsorted(rows, top) for top in tops]
        data = [self.reader[f"{kind}_weights"] for kind in runs]
        prefixes = [self.reader[f"{kind}_impacts"] for kind in runs]
        rows, scores = self._kernel.candidates(self._arrays, data, prefixes, coefficients, k)
        orders = []
        for s in scores:
            best = top_indices(s, rows, k)
            orders.append(best[s[best] > 0])  # not those in the other run's top only
        return rows, orders

    def _bound(self, kind: str, coefficients: dict[int, float], k: int) -> float:
        """θ of :meth:`_sample`, computed in compiled code (a compiled Scorer only)."""
        acc, _ = self._buffers()
        return self._blocks.bound(  # type: ignore[union-attr]
            self.reader.indptr, self.reader.postings, self.reader[f"{kind}_weights"], self.reader[f"{kind}_impacts"],
            self.reader["impact_indptr"], coefficients, k, acc,
        )

    def _sample(
        self, kind: str, coefficients: dict[int, float], k: int
    ) -> tuple[float, list[tuple[int, int, float, float]]]:
        """θ, the lower bound on the k-th best score from each term's heaviest postings
        (step 1 of :meth:`top`), and each term's (start, stop, coefficient, upper bound),
        in query order, for the query's :meth:`coefficients`.

        A passage's sampled score sums some of its terms' contributions in query order,
        skipping others; float addition of non-negative numbers rounds monotonically,
        so it is never above its true score, and θ never above the true k-th best."""
        data = self.reader[f"{kind}_weights"]
        prefixes = self.reader[f"{kind}_impacts"]
        prefix_ptr = self.reader["impact_indptr"]
        postings = self.reader.postings
        acc, _ = self._buffers()
        sample_size = max(4 * k, 64)
        terms = []
        sampled = []
        for term, c in coefficients.items():
            s = self.postings(term)
            a, b = int(prefix_ptr[term]), int(prefix_ptr[term + 1])
            if b > a:  # a long list: its heaviest postings, heaviest first
                at = prefixes[a : min(b, a + sample_size)].astype(np.int64) + s.start
                values, rows = c * data[at], postings[at]
            else:
                values, rows = c * data[s], postings[s]
            acc[rows] += values
            sampled.append(rows)
            terms.append((s.start, s.stop, c, float(values.max())))
        return _kth_largest(self._take(sampled), k, 0.0), terms

    def _take(self, parts: list[np.ndarray]) -> np.ndarray:
        """The accumulator at each array of rows in turn, zeroing what was read: a row
        listed twice is read once and then as 0."""
        acc, _ = self._buffers()
        out = []
        for rows in parts:
            out.append(acc[rows])
            acc[rows] = 0.0
        return np.concatenate(out) if out else np.zeros(0)

    def _exact(self, terms, data: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Scores of sorted ``rows``, looking each term's weights up: by binary search
        when the rows are few beside the list, else by spreading the list over the
        accumulator and reading it at the rows (cheaper than 100k binary searches)."""
        postings = self.reader.postings
        acc, _ = self._buffers()
        scores = np.zeros(len(rows))
        for start, stop, c, _ in terms:
            plist = postings[start:stop]
            if 8 * len(rows) > len(plist):
                acc[plist] = data[start:stop]
                scores += c * acc[rows].astype(data.dtype)  # the product in float32, as below
                acc[plist] = 0.0
                continue
            j = np.minimum(np.searchsorted(plist, rows), len(plist) - 1)
            hit = np.flatnonzero(plist[j] == rows)
            scores[hit] += c * data[start + j[hit]]
        return scores


def _kth_largest(values: np.ndarray, k: int, floor: float) -> float:
    """The k-th largest of ``values`` if it exceeds ``floor``, else ``floor``."""
    above = values[values > floor]
    if len(above) < k:
        return floor
    return float(-np.partition(-above, k - 1)[k - 1])


def top_indices(scores: np.ndarray, rows: np.ndarray, n: int | None) -> np.ndarray:
    """Positions of the ``n`` best entries by score (descending), ties by row (ascending)."""
    idx = np.arange(len(rows))
    if n is not None and len(rows) > n:
        kth = scores[np.argpartition(-scores, n - 1)[n - 1]]
        idx = idx[scores >= kth]  # keep every tie at the boundary
    order = np.lexsort((rows[idx], -scores[idx]))
    return idx[order[:n]]
