"""Snippet speed: ``make_snippet`` and the tokenizer's ``finder`` on the passages a search shows.

Each scale query is searched once (BM25, top 10) to collect what ``Index.search`` hands
the highlighter: each shown passage's text, its matches and the query terms' idf. Then
``make_snippet`` and ``Tokenizer.finder``'s find are timed on every one of them: each
call ``--rounds`` times, its fastest kept (the machine is shared), and the p50, p99 and
mean over the calls printed in µs.

With ``--compare REV`` the ``snippets.py`` and ``analysis.py`` of git revision REV are
loaded into temporary modules and timed the same way, interleaved with the working
tree's, and the snippets of the two compared (the count that differ is printed).

Usage:
    python benchmarks/snippet_speed.py INDEX QUERIES.jsonl [--compare REV] [-n 1000] [--rounds 6]
e.g. python benchmarks/snippet_speed.py /tmp/scale1m/idx /tmp/scale1m/queries.jsonl --compare HEAD
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import numpy as np

from citesearch import Index
from citesearch.errors import CitesearchError
from citesearch.search import searcher, snippets
from citesearch.search.query import plain_query

REPO = Path(__file__).resolve().parent.parent


def collect(index: Index, queries: list[str]) -> tuple[list[tuple], list[tuple]]:
    """(text, matches, weights) of each snippet the searches make, and (forms, text) of
    each finder call."""
    calls: list[tuple] = []
    finds: list[tuple] = []
    tokenizer = index.analyzer.tokenizer
    finder = tokenizer.finder

    def recording_finder(forms):
        forms = tuple(forms)
        find = finder(forms)

        def recording_find(text: str):
            finds.append((forms, text))
            return find(text)

        return recording_find

    def recording_snippet(text, matches, weights=None, size=snippets.SNIPPET_CHARS):
        calls.append((text, list(matches), weights))
        return snippets.make_snippet(text, matches, weights, size)

    tokenizer.finder = recording_finder
    saved, searcher.make_snippet = searcher.make_snippet, recording_snippet
    try:
        for q in queries:
            try:
                index.search(plain_query(q), k=10, method="bm25")
            except CitesearchError:
                pass  # a query of stop words only
    finally:
        searcher.make_snippet = saved
        del tokenizer.finder
    return calls, finds


def load_revision(rev: str, path: str, name: str) -> ModuleType:
    """The module at ``path`` as of git revision ``rev``, imported under ``name``."""
    source = subprocess.run(
        ["git", "show", f"{rev}:{path}"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="snippet_speed_"))
    file = folder / f"{name}.py"
    file.write_text(source)
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def time_calls(fns: dict[str, object], calls: list[tuple], rounds: int) -> dict[str, np.ndarray]:
    """µs of each call under each function (the fastest of ``rounds``), the functions
    interleaved call by call so that load on the machine hits them alike, and which goes
    first alternating by round (the first to see a text pays for bringing it to cache)."""
    best = {name: np.full(len(calls), np.inf) for name in fns}
    clock = time.perf_counter_ns
    order = list(fns.items())
    for _ in range(rounds):
        for i, args in enumerate(calls):
            for name, fn in order:
                started = clock()
                fn(*args)
                took = clock() - started
                if took < best[name][i]:
                    best[name][i] = took
        order.reverse()
    return {name: t / 1000 for name, t in best.items()}


def report(what: str, times: dict[str, np.ndarray]) -> None:
    for name, t in times.items():
        p50, p99 = np.percentile(t, [50, 99])
        print(f"{what:<12} {name:<10} p50 {p50:7.1f} µs  p99 {p99:7.1f} µs  mean {t.mean():7.1f} µs  ({len(t)} calls)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("index", type=Path)
    ap.add_argument("queries", type=Path)
    ap.add_argument("--compare", metavar="REV", help="also time snippets.py and analysis.py as of git revision REV")
    ap.add_argument("-n", type=int, default=1000, help="queries (default 1000)")
    ap.add_argument("--rounds", type=int, default=6, help="timings of each call; the fastest is kept")
    args = ap.parse_args()
    queries = [json.loads(line)["text"] for line in args.queries.read_text().splitlines()][: args.n]
    index = Index.open(args.index, compiled=True)
    calls, finds = collect(index, queries)
    lengths = np.array([len(text) for text, _, _ in calls])
    print(
        f"{len(calls)} snippets of {len(queries)} queries; passage length p50 {np.median(lengths):.0f} "
        f"p99 {np.percentile(lengths, 99):.0f} max {lengths.max()} characters"
    )

    snippet_fns = {"current": snippets.make_snippet}
    tokenizer = index.analyzer.tokenizer
    tokenizers = {"current": tokenizer}
    if args.compare:
        old_snippets = load_revision(args.compare, "citesearch/search/snippets.py", "_snippets_at_rev")
        old_analysis = load_revision(args.compare, "citesearch/indexer/analysis.py", "_analysis_at_rev")
        old_tokenizer = old_analysis.Tokenizer(old_analysis.AnalyzerConfig(**tokenizer.config.to_dict()))
        snippet_fns = {args.compare: old_snippets.make_snippet, **snippet_fns}
        tokenizers = {args.compare: old_tokenizer, **tokenizers}
        differ = [i for i, c in enumerate(calls) if old_snippets.make_snippet(*c) != snippets.make_snippet(*c)]
        print(f"snippets that differ from {args.compare}'s: {len(differ)} of {len(calls)}")
        for i in differ[:3]:
            print("  text:", repr(calls[i][0][:200]))
            print("  then:", old_snippets.make_snippet(*calls[i]))
            print("  now: ", snippets.make_snippet(*calls[i]))
        found_differ = sum(old_tokenizer.finder(f)(t) != tokenizer.finder(f)(t) for f, t in finds)
        print(f"finder results that differ from {args.compare}'s: {found_differ} of {len(finds)}")
    report("make_snippet", time_calls(snippet_fns, calls, args.rounds))
    # A finder is made once per query and its find used on each of the query's passages:
    # the finds are timed (one per passage), not the making of the finders.
    finders = {name: {} for name in tokenizers}
    for forms, _ in finds:
        for name, tok in tokenizers.items():
            if forms not in finders[name]:
                finders[name][forms] = tok.finder(forms)
    find_fns = {name: lambda forms, text, f=finders[name]: f[forms](text) for name in tokenizers}
    report("find", time_calls(find_fns, finds, args.rounds))


if __name__ == "__main__":
    main()
