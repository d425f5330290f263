"""Command-line paths no other test runs, each run as a real ``python -m citesearch``
process (no CliRunner: what a user sees, tracebacks included):

* ``batch --aggregate sum`` and ``mean``: a document's score is the sum (mean) of its
  passages' scores, checked against the same command's passage-level output;
* ``index --stemmer porter`` and ``--stemmer none``: what matches what, and the stored
  surface form → term table against NLTK's PorterStemmer;
* damaged indexes (missing, truncated, empty or garbage files, a garbage manifest, an
  unknown format version): ``search`` and ``info`` must print one ``Error:`` line and exit
  non-zero, never a traceback.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import data_dir, write_tiny_corpus

from citesearch.corpus import load_documents
from citesearch.indexer.builder import IndexSettings, build_index

ENV = {**os.environ, "NO_COLOR": "1"}


def _run(args, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "citesearch", *map(str, args)],
        check=False, capture_output=True, text=True, cwd=cwd, env=ENV, timeout=120,
    )


def _run_all(commands: dict, cwd: Path) -> dict:
    """Run several commands at once (each process spends most of its time importing)."""
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 1)) as pool:
        futures = {key: pool.submit(_run, args, cwd) for key, args in commands.items()}
        return {key: f.result() for key, f in futures.items()}


def _ok(result: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


def test_the_module_runs_as_a_program():
    assert (Path(__file__).resolve().parent.parent / "citesearch" / "__main__.py").is_file()


# -- batch --aggregate sum / mean ----------------------------------------------------------

WORDS = (
    "lava ash basalt crater magma plume vent caldera tephra pumice obsidian fissure geyser fumarole "
    "glacier moraine fjord iceberg crevasse firn serac cirque tarn esker drumlin"
).split()
QUERIES = {"q1": "lava ash", "q2": "glacier crevasse fjord", "q3": "magma vent geyser lava", "q4": "tarn"}


def _write_multi_passage_corpus(root: Path) -> Path:
    """Documents of several paragraphs of about a dozen words: with ``--passage-words 10``
    most become several passages, some one."""
    rng = random.Random(11)
    root.mkdir()
    for i in range(14):
        paragraphs = []
        for _ in range(rng.randint(1, 5)):
            words = rng.choices(WORDS[:14] if i % 2 else WORDS[10:], k=rng.randint(9, 14))
            paragraphs.append(" ".join(words).capitalize() + ".")
        (root / f"doc{i:02d}.txt").write_text(f"Document {i}\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return root


def _tsv_run(stdout: str) -> dict[str, list[tuple[str, float]]]:
    """qid → [(id, score)] in file order, from ``--format tsv`` (qid, id, rank, score)."""
    run: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for line in stdout.splitlines():
        qid, doc, rank, score = line.split("\t")
        assert int(rank) == len(run[qid]) + 1
        run[qid].append((doc, float(score)))
    return dict(run)


@pytest.fixture(scope="module")
def aggregate_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("aggregate")
    corpus = _write_multi_passage_corpus(base / "docs")
    index = base / "index"
    build_index(load_documents([corpus]), index, IndexSettings(passage_words=10), workers=1)
    queries = base / "queries.tsv"
    queries.write_text("".join(f"{q}\t{text}\n" for q, text in QUERIES.items()), encoding="utf-8")
    common = ["batch", queries, "--index", index, "-o", "-", "--format", "tsv", "-k", 10_000, "--workers", 1]
    commands = {}
    for method in ("bm25", "tfidf", "hybrid"):
        commands[method, "passage"] = [*common, "--method", method, "--level", "passage"]
        for aggregate in ("sum", "mean"):
            commands[method, aggregate] = [*common, "--method", method, "--level", "document", "--aggregate", aggregate]
    commands["bm25", "max"] = [*common, "--method", "bm25", "--level", "document", "--aggregate", "max"]
    results = _run_all(commands, base)
    return {key: _tsv_run(_ok(r).stdout) for key, r in results.items()}


def _by_document(passages: list[tuple[str, float]]) -> dict[str, list[float]]:
    scores: dict[str, list[float]] = defaultdict(list)
    for passage_id, score in passages:
        doc, ordinal = passage_id.rsplit("#", 1)
        assert ordinal.isdigit()
        scores[doc].append(score)
    return scores


def test_documents_have_several_passages(aggregate_runs):
    for method in ("bm25", "tfidf", "hybrid"):
        per_doc = [len(v) for run in aggregate_runs[method, "passage"].values() for v in _by_document(run).values()]
        assert max(per_doc) >= 3 and 1 in per_doc, method
        assert set(aggregate_runs[method, "passage"]) == set(QUERIES)


@pytest.mark.parametrize("method", ["bm25", "tfidf", "hybrid"])
@pytest.mark.parametrize("aggregate", ["sum", "mean"])
def test_document_score_aggregates_its_passage_scores(aggregate_runs, method, aggregate):
    """Every document with a matching passage is ranked, scored by the sum (mean) of its
    passages' scores in the passage-level run of the same query, best first."""
    combine = {"sum": sum, "mean": lambda v: sum(v) / len(v)}[aggregate]
    passages, documents = aggregate_runs[method, "passage"], aggregate_runs[method, aggregate]
    assert set(documents) == set(passages)
    for qid, ranked in documents.items():
        expected = {doc: combine(v) for doc, v in _by_document(passages[qid]).items()}
        got = dict(ranked)
        assert len(got) == len(ranked)  # each document once
        assert set(got) == set(expected), qid
        for doc, score in got.items():
            # Both sides are written with 9 significant digits.
            assert score == pytest.approx(expected[doc], rel=1e-8, abs=1e-12), (qid, doc)
        scores = [s for _, s in ranked]
        assert scores == sorted(scores, reverse=True)


def test_sum_mean_and_max_rank_differently(aggregate_runs):
    """The three aggregates are not the same number under other names: a document of
    several matching passages scores sum > max >= mean, one of a single passage the same."""
    several = single = 0
    for qid, ranked in aggregate_runs["bm25", "max"].items():
        best = dict(ranked)
        total, mean = dict(aggregate_runs["bm25", "sum"][qid]), dict(aggregate_runs["bm25", "mean"][qid])
        counts = {doc: len(v) for doc, v in _by_document(aggregate_runs["bm25", "passage"][qid]).items()}
        assert set(best) == set(total) == set(mean)
        for doc, m in best.items():
            if counts[doc] > 1:
                assert total[doc] > m >= mean[doc] - 1e-9
                several += 1
            else:
                assert total[doc] == pytest.approx(m, rel=1e-8) and mean[doc] == pytest.approx(m, rel=1e-8)
                single += 1
    assert several and single


# -- index --stemmer porter / none ---------------------------------------------------------

STEM_DOCS = {
    "plural.txt": "Volcanoes erupt generously under the glaciers",
    "singular.txt": "A volcano stands near the glacier fairly quietly",
    "other.txt": "Running water carves sensational canyons",
}
STEM_QUERIES = ("volcanoes", "volcano", "glaciers", "erupted", "generous")


@pytest.fixture(scope="module")
def stemmed(tmp_path_factory):
    base = tmp_path_factory.mktemp("stemmers")
    docs = base / "docs"
    docs.mkdir()
    for name, text in STEM_DOCS.items():
        (docs / name).write_text(text + "\n", encoding="utf-8")
    built = _run_all({s: ["index", docs, "--index", base / s, "--stemmer", s] for s in ("porter", "none")}, base)
    for r in built.values():
        _ok(r)
    queries = base / "queries.tsv"
    queries.write_text("".join(f"{q}\t{q}\n" for q in STEM_QUERIES), encoding="utf-8")
    runs = {
        s: ["batch", queries, "--index", base / s, "-o", "-", "--format", "jsonl", "--level", "passage",
            "--method", "bm25", "-k", 10, "--workers", 1]
        for s in ("porter", "none")
    }
    runs.update({(s, "info"): ["info", "--index", base / s] for s in ("porter", "none")})
    for s in ("porter", "none"):
        runs[s, "search"] = ["search", "volcanoes", "--index", base / s, "--format", "json"]
    results = {key: _ok(r) for key, r in _run_all(runs, base).items()}
    for s in ("porter", "none"):
        for line in results.pop(s).stdout.splitlines():
            record = json.loads(line)
            results[s, record["id"]] = {Path(r["source"]["id"]).name for r in record["results"]}
    return base, results


def _found(stemmed, stemmer: str, query: str) -> set[str]:
    return stemmed[1][stemmer, query]


def test_without_a_stemmer_only_the_same_form_matches(stemmed):
    assert _found(stemmed, "none", "volcanoes") == {"plural.txt"}
    assert _found(stemmed, "none", "volcano") == {"singular.txt"}
    assert _found(stemmed, "none", "glaciers") == {"plural.txt"}
    assert _found(stemmed, "none", "erupted") == set()  # the corpus has "erupt" only
    assert _found(stemmed, "none", "generous") == set()


def test_search_agrees(stemmed):
    for stemmer in ("porter", "none"):
        found = json.loads(stemmed[1][stemmer, "search"].stdout)["results"]
        assert {Path(r["source"]["id"]).name for r in found} == _found(stemmed, stemmer, "volcanoes")


def test_porter_matches_inflected_forms(stemmed):
    assert _found(stemmed, "porter", "volcanoes") == {"plural.txt", "singular.txt"}
    assert _found(stemmed, "porter", "volcano") == {"plural.txt", "singular.txt"}
    assert _found(stemmed, "porter", "glaciers") == {"plural.txt", "singular.txt"}
    # An unseen form, stemmed at query time (PyStemmer's Porter): erupted → erupt.
    assert _found(stemmed, "porter", "erupted") == {"plural.txt"}
    # Porter, not Snowball: "generously" is "gener" to Porter, "generous" to Snowball,
    # and "generous" is "gener" to Porter.
    assert _found(stemmed, "porter", "generous") == {"plural.txt"}


def _forms(index: Path) -> dict[str, str | None]:
    """Surface form → term string (None for a stop word) as the index stores them."""
    with sqlite3.connect(f"file:{data_dir(index) / 'store.sqlite'}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT f.form, t.term FROM forms f LEFT JOIN terms t ON t.id = f.term").fetchall()
    return dict(rows)


def test_stored_forms_are_nltk_porter_stems(stemmed):
    from nltk.stem.porter import PorterStemmer
    from nltk.stem.snowball import SnowballStemmer

    base, _ = stemmed
    porter, snowball = PorterStemmer(), SnowballStemmer("english")
    forms = _forms(base / "porter")
    words = {w.lower() for text in STEM_DOCS.values() for w in text.split() if len(w) > 1}
    assert set(forms) == words
    content = {f: t for f, t in forms.items() if t is not None}
    assert {"the", "under"} <= set(forms) and {"the", "under"}.isdisjoint(content)  # stop words: no term
    assert len(content) >= 12
    for form, term in content.items():
        assert term == porter.stem(form), form
    # The two stemmers disagree on some of these forms, so this is Porter's table, not Snowball's.
    assert any(porter.stem(f) != snowball.stem(f) for f in content)


def test_stored_forms_without_a_stemmer_are_the_forms(stemmed):
    base, results = stemmed
    content = {f: t for f, t in _forms(base / "none").items() if t is not None}
    assert content and all(term == form for form, term in content.items())
    assert "stemmer none" in results["none", "info"].stdout
    assert "stemmer porter" in results["porter", "info"].stdout


# -- damaged indexes -----------------------------------------------------------------------


def _truncate(path: Path, size: int) -> None:
    with open(path, "r+b") as f:
        f.truncate(size)


def _shorten(path: Path, n: int) -> None:
    _truncate(path, path.stat().st_size - n)


def _garbage(path: Path, size: int | None = None) -> None:
    n = path.stat().st_size if size is None else size
    path.write_bytes(random.Random(path.name).randbytes(n))


def _halve(path: Path) -> None:
    _truncate(path, path.stat().st_size // 2)


def _set_version(path: Path) -> None:
    manifest = json.loads(path.read_text())
    manifest["format_version"] = 999
    path.write_text(json.dumps(manifest))


DAMAGE = {
    "missing-npy": lambda d: (data_dir(d) / "bm25_weights.npy").unlink(),
    "npy-cut-in-its-header": lambda d: _truncate(data_dir(d) / "postings_tf.npy", 60),
    "npy-cut-in-its-data": lambda d: _shorten(data_dir(d) / "postings_passages.npy", 9),
    "empty-npy": lambda d: _truncate(data_dir(d) / "passage_length.npy", 0),
    "garbage-npy": lambda d: _garbage(data_dir(d) / "tfidf_weights.npy"),
    "missing-store": lambda d: (data_dir(d) / "store.sqlite").unlink(),
    "store-cut-in-half": lambda d: _halve(data_dir(d) / "store.sqlite"),
    "store-cut-to-one-page": lambda d: _truncate(data_dir(d) / "store.sqlite", 4096),
    "empty-store": lambda d: _truncate(data_dir(d) / "store.sqlite", 0),
    "garbage-store": lambda d: _garbage(data_dir(d) / "store.sqlite"),
    "garbage-manifest": lambda d: _garbage(d / "manifest.json", 300),
    "manifest-cut-in-half": lambda d: _truncate(d / "manifest.json", (d / "manifest.json").stat().st_size // 2),
    "manifest-not-an-object": lambda d: (d / "manifest.json").write_text("[1, 2, 3]\n"),
    "unknown-format-version": lambda d: _set_version(d / "manifest.json"),
}


@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    """(command, damage) → the finished process, for every damage applied to a fresh copy
    of a good index."""
    base = tmp_path_factory.mktemp("damaged")
    corpus = write_tiny_corpus(base / "corpus")
    good = base / "good"
    build_index(load_documents([corpus]), good, workers=1)
    commands = {
        ("search", None): ["search", "iceland volcanoes", "--index", good],
        ("info", None): ["info", "--index", good],
    }
    for name, damage in DAMAGE.items():
        copy = base / name
        shutil.copytree(good, copy)
        damage(copy)
        commands["search", name] = ["search", "iceland volcanoes", "--index", copy]
        commands["info", name] = ["info", "--index", copy]
    return _run_all(commands, base)


@pytest.mark.parametrize("command", ["search", "info"])
def test_the_undamaged_index_works(damaged, command):
    result = _ok(damaged[command, None])
    assert result.stdout.strip()


@pytest.mark.parametrize("damage", list(DAMAGE))
@pytest.mark.parametrize("command", ["search", "info"])
def test_a_damaged_index_is_one_error_line(damaged, command, damage):
    result = damaged[command, damage]
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert result.stdout == ""
    assert damage in lines[0]  # the index (each damaged copy is a folder named after its damage)
    if damage == "unknown-format-version":
        assert "999" in lines[0]
