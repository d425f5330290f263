"""How long ``citesearch cite`` takes on a 2,000-word text against a large index (issue 15:
at most 2 s against a million passages).

The text is Markdown made from the scale corpus's real passages (its first lines): a
heading, then paragraphs and a list of their sentences, a third of them with a number
changed or a word swapped, so that supported and unsupported claims both occur. Timed:

- the command, end to end, as a user runs it (a new process: start-up, opening the
  index, splitting, retrieval, support, output), ``--runs`` times, median and worst;
- ``Index.cite`` in one process (index open), the same text, after one warm-up call.

Usage:
    python benchmarks/cite_speed.py /tmp/scale1m/corpus.jsonl /tmp/scale1m/idx
    python benchmarks/cite_speed.py CORPUS.jsonl INDEX --words 2000 --runs 5
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from citesearch.search.claims import split_claims
from citesearch.search.searcher import Index


def make_text(corpus: Path, words: int, seed: int) -> str:
    rng = random.Random(seed)
    sentences = []
    with corpus.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh):
            if i >= 20000:
                break
            text = json.loads(line)["text"]
            for s in split_claims(text):
                body = " ".join(text[s.start : s.end].split())
                if 8 <= len(body.split()) <= 40 and body[-1] == "." and "|" not in body and "=" not in body:
                    sentences.append(body)
    rng.shuffle(sentences)
    out, count, para = ["# Notes from the kernel documentation", ""], 0, []
    for s in sentences:
        if rng.random() < 1 / 3:
            ws = s.split()
            j = rng.randrange(len(ws))
            ws[j] = str(rng.randrange(10, 999)) if rng.random() < 0.5 else "frobnication"
            s = " ".join(ws)
        para.append(s)
        count += len(s.split())
        if len(para) == 4:
            out += ([f"- {p}" for p in para] if rng.random() < 0.25 else [" ".join(para)]) + [""]
            para = []
        if count >= words:
            break
    if para:
        out += [" ".join(para), ""]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("index", type=Path)
    ap.add_argument("--words", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--seed", type=int, default=15)
    args = ap.parse_args()
    text = make_text(args.corpus, args.words, args.seed)
    with tempfile.NamedTemporaryFile("w", suffix=".md", delete=False, encoding="utf-8") as fh:
        fh.write(text)
        path = fh.name
    n_words = len(text.split())
    with Index.open(args.index) as index:
        passages = index.reader.n_passages
        found = index.cite(text)  # warm-up: pages of the index mapped in
        started = time.perf_counter()
        found = index.cite(text)
        in_process = time.perf_counter() - started
    bad = len(found.unsupported)
    print(f"text: {n_words} words, {len(found.claims)} claims ({bad} unsupported); index: {passages:,} passages")
    print(f"Index.cite, index open: {in_process:.2f} s")
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "citesearch", "cite", path, "--index", str(args.index), "--format", "json"],
            capture_output=True,
        )
        times.append(time.perf_counter() - started)
        if done.returncode not in (0, 1):
            sys.exit(f"cite failed: {done.stderr.decode()}")
    print(f"citesearch cite (new process, end to end), {args.runs} runs: median {statistics.median(times):.2f} s, "
          f"worst {max(times):.2f} s")
    Path(path).unlink()


if __name__ == "__main__":
    main()
