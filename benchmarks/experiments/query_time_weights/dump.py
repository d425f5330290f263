"""Dump what query_time_weights.c reads: an index's arrays as raw files and the hybrid
passes of a default search over a query file (terms and both runs' coefficients).

    python dump.py INDEX QUERIES.jsonl OUT_DIR
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

import citesearch
from citesearch.errors import CitesearchError
from citesearch.search import scoring


def main() -> None:
    index_dir, queries, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
    out.mkdir(parents=True, exist_ok=True)
    index = citesearch.Index.open(index_dir)
    passes = []
    tops = scoring.Scorer.tops

    def recording(self, runs, k):
        passes.append([self.coefficients(kind, counts) for kind, counts in runs.items()])
        return tops(self, runs, k)

    scoring.Scorer.tops = recording
    for line in open(queries):
        try:
            index.search(json.loads(line)["text"], k=10)
        except CitesearchError:
            pass
    with open(out / "queries.bin", "wb") as f:
        for dfr, tfidf in passes:
            terms = list(dfr)
            np.array([len(terms)], dtype=np.int64).tofile(f)
            np.array(terms, dtype=np.int64).tofile(f)
            np.array([float(np.float32(dfr[t])) for t in terms]).tofile(f)
            np.array([float(np.float32(tfidf[t])) for t in terms]).tofile(f)
    reader = index.reader
    for name in ("postings_indptr", "postings_passages", "postings_tf", "dfr_weights", "tfidf_weights",
                 "passage_length", "tfidf_idf"):
        np.ascontiguousarray(reader[name]).tofile(out / f"{name}.raw")
    lengths = np.asarray(reader["passage_length"])[np.asarray(reader.postings)]
    np.minimum(lengths, 255).astype(np.uint8).tofile(out / "postings_dl.raw")  # (0.006% above 255 at 1M)
    print(f"{len(passes)} passes, {reader.n_passages} passages -> {out}")


if __name__ == "__main__":
    main()
