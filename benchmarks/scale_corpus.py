"""Build a scale corpus: real Linux kernel documentation paragraphs, topped up to N
passages with synthetic ones drawn from their word distribution, plus keyword queries.

Usage: python benchmarks/scale_corpus.py OUT_DIR [--passages N] [--queries 1000]
       [--doc-root /usr/share/doc/linux-doc-6.1/Documentation]

Needs Debian's linux-doc-6.1 (`apt-get install linux-doc-6.1`). Writes OUT_DIR/corpus.jsonl
(BEIR: {"_id", "title", "text"}) and OUT_DIR/queries.jsonl ({"_id", "text"}): each query is
2–6 distinct content words of a random real paragraph. Deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np

DOC_ROOT = "/usr/share/doc/linux-doc-6.1/Documentation"
QUERY_STOP = set(
    "the a an of to and in is for be that this on it as with are or by can if not from at which will "
    "should has have used use".split()
)


def real_paragraphs(root: Path, max_words: int = 200) -> list[str]:
    out = []
    for path in sorted(root.rglob("*.rst.gz")):
        text = gzip.open(path, "rt", errors="replace").read()
        for para in re.split(r"\n\s*\n", text):
            words = para.split()
            if len(words) >= 8:
                out.append(" ".join(words[:max_words]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--passages", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--doc-root", type=Path, default=Path(DOC_ROOT))
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    if not args.doc_root.is_dir():
        raise SystemExit(f"{args.doc_root} not found: apt-get install linux-doc-6.1")
    args.out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(args.seed)
    real = real_paragraphs(args.doc_root)
    counts = Counter(w for p in real for w in p.split())
    vocab = np.array(list(counts))
    freq = np.array(list(counts.values()), dtype=np.float64)
    freq /= freq.sum()
    lengths = np.array([len(p.split()) for p in real])
    with open(args.out / "corpus.jsonl", "w") as f:
        for i, p in enumerate(real[: args.passages]):
            f.write(json.dumps({"_id": f"r{i}", "title": "", "text": p}) + "\n")
        remaining = max(0, args.passages - len(real))
        for start in range(0, remaining, 10_000):
            m = min(10_000, remaining - start)
            lens = rng.choice(lengths, size=m)
            words = vocab[rng.choice(len(vocab), size=int(lens.sum()), p=freq)]
            pos = 0
            for j in range(m):
                text = " ".join(words[pos : pos + lens[j]])
                f.write(json.dumps({"_id": f"s{start + j}", "title": "", "text": text}) + "\n")
                pos += lens[j]
    with open(args.out / "queries.jsonl", "w") as f:
        made = 0
        while made < args.queries:
            p = real[int(rng.integers(len(real)))]
            cands = sorted({w.lower() for w in re.findall(r"[A-Za-z][A-Za-z_]{2,}", p)} - QUERY_STOP)
            if len(cands) < 2:
                continue
            picked = rng.choice(cands, size=min(len(cands), int(rng.integers(2, 7))), replace=False)
            f.write(json.dumps({"_id": str(made), "text": " ".join(picked)}) + "\n")
            made += 1
    print(
        f"{min(len(real), args.passages)} real + {max(0, args.passages - len(real))} synthetic passages, "
        f"{args.queries} queries → {args.out}"
    )


if __name__ == "__main__":
    main()
