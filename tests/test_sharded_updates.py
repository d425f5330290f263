"""Updating a sharded index in place (issue 17, point 3): ``citesearch index`` on an existing
sharded index, and ``remove``. New and changed documents go to the last shard, every shard is
weighed again with the collection's new statistics, and every ranking equals (a) a single
index updated the same way, ties and all, and (b) a fresh build of the same documents."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, fails, ok
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from test_updates import QUERIES, Corpus, _assert_same_rankings, _no_ties

from citesearch.corpus import LoadReport, discover, read_documents
from citesearch.errors import NoInputError
from citesearch.indexer.builder import build_index
from citesearch.indexer.manifest import read_manifest
from citesearch.indexer.sharding import build_sharded, remove_from_sharded, update_sharded
from citesearch.indexer.storage import IndexReader
from citesearch.indexer.updating import remove_documents, update_index
from citesearch.search.searcher import Index

METHODS = ("bm25", "tfidf", "hybrid")


def _single(root: Path, target: Path) -> None:
    build_index(read_documents(discover([root]), LoadReport()), target, workers=1)


def _assert_same_as_single(sharded: Path, single: Path) -> None:
    """The same rankings, rows (so ties) included, and the same results, filters included."""
    with Index.open(single) as a, Index.open(sharded) as b:
        assert b.manifest.counts == a.manifest.counts
        assert b.manifest.avg_passage_length == a.manifest.avg_passage_length
        for query in QUERIES:
            for method in METHODS:
                x = a.rank(query, method=method, depth=500).top(500)
                y = b.rank(query, method=method, depth=500).top(500)
                assert x[0].tolist() == y[0].tolist(), (query, method)
                np.testing.assert_allclose(y[1], x[1], rtol=1e-6)
                assert a.search(query, k=30, method=method).to_dict() == b.search(query, k=30, method=method).to_dict()
        assert [s.id for s in a.sources()] == [s.id for s in b.sources()]
        assert b.reader.verify() == []


OPS = st.sampled_from(
    ["add-file", "change-file", "delete-file", "add-record", "change-record", "drop-record", "remove-id", "remove-path"]
)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**16), steps=st.lists(st.lists(OPS, min_size=1, max_size=4), min_size=1, max_size=3))
def test_any_sequence_of_updates_to_a_sharded_index_ranks_as_one_index(tmp_path_factory, seed, steps):
    base = tmp_path_factory.mktemp("sharded-updates")
    corpus = Corpus(base / "docs", seed)
    for op in ["add-file"] * 3 + ["add-record"] * 6:
        corpus.apply(op)
    single, sharded = base / "single", base / "sharded"
    _single(corpus.root, single)
    try:
        build_sharded(discover([corpus.root]), sharded, 3)
    except NoInputError:  # a shard's part of the input held only stop words
        build_sharded(discover([corpus.root]), sharded, 2)
    rng = random.Random(seed)
    for i, step in enumerate(steps):
        removals = []
        for op in step:
            if op == "remove-id" and corpus.records:  # from the index, and from the collection
                doc_id = rng.choice(sorted(corpus.records))
                del corpus.records[doc_id]
                corpus.write_jsonl()
                removals.append(doc_id)
            elif op == "remove-path" and list(corpus.root.glob("*.txt")):
                path = rng.choice(sorted(corpus.root.glob("*.txt")))
                removals.append(str(path))
                path.unlink()
            elif not op.startswith("remove"):
                corpus.apply(op)
        assume(corpus.has_documents())
        if removals:
            a, b = remove_documents(single, removals), remove_from_sharded(sharded, removals)
            assert (a.removed, a.unchanged, a.missing) == (b.removed, b.unchanged, b.missing)
        a, b = update_index(single, [corpus.root], workers=1), update_sharded(sharded, [corpus.root], workers=1)
        assert (a.added, a.updated, a.removed, a.unchanged, a.written) == (
            b.added, b.updated, b.removed, b.unchanged, b.written)
        _assert_same_as_single(sharded, single)
        fresh = base / f"fresh{i}"
        _single(corpus.root, fresh)
        _assert_same_rankings(sharded, fresh, exact_ties=_no_ties(fresh))


def _three_files(root: Path) -> Path:
    root.mkdir()
    for name, words in (("a", "volcano lava ash"), ("b", "glacier ice fjord"), ("c", "geyser basalt lava")):
        records = [{"_id": f"{name}{i}", "text": f"{words} {name} record {i} " + "w " * (i % 5)} for i in range(20)]
        (root / f"{name}.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return root


def test_new_documents_go_to_the_last_shard_and_unchanged_arrays_are_linked(tmp_path):
    docs = _three_files(tmp_path / "docs")
    index = tmp_path / "index"
    ok("index", docs, "--index", index, "--shards", "3")
    first = read_manifest(index)
    passages = [s["passages"] for s in json.loads((index / first.data / "shards.json").read_text())["shards"]]
    before = {
        p.relative_to(index / first.data).parts[0]: os.stat(p).st_ino
        for p in (index / first.data).glob("shard-*/g*/postings_passages.npy")
    }
    (docs / "d.txt").write_text("A new document about lava fields.")
    result = ok("index", docs, "--index", index)
    assert "Added 1, updated 0, removed 0 documents (60 unchanged)" in result.stderr
    after = read_manifest(index)
    assert after.data != first.data and after.shards == 3 and after.counts.sources == 61
    shards = json.loads((index / after.data / "shards.json").read_text())["shards"]
    assert [s["passages"] for s in shards] == [*passages[:2], passages[2] + 1]
    inodes = {
        p.relative_to(index / after.data).parts[0]: os.stat(p).st_ino
        for p in (index / after.data).glob("shard-*/g*/postings_passages.npy")
    }
    assert inodes["shard-000"] == before["shard-000"] and inodes["shard-001"] == before["shard-001"]
    assert inodes["shard-002"] != before["shard-002"]
    assert sorted(p.name for p in index.iterdir()) == sorted([after.data, "lock", "manifest.json"])
    with Index.open(index) as idx:
        assert idx.search("lava fields", k=1).results[0].source.id == "d.txt"
    assert "Nothing changed (61 documents)" in ok("index", docs, "--index", index).stderr


def test_remove_by_id_and_path_and_a_shard_emptied(tmp_path):
    docs = _three_files(tmp_path / "docs")
    index, single = tmp_path / "index", tmp_path / "single"
    ok("index", docs, "--index", index, "--shards", "3")
    ok("index", docs, "--index", single)
    for args in (["a3", "b7"], [docs / "c.jsonl"], ["nothing-like-this", "a1"], "the middle shard"):
        if args == "the middle shard":
            with IndexReader(index / read_manifest(index).data / "shard-001") as middle:
                args = [s.id for s in middle.sources()]
        a = (ok if "nothing-like-this" not in args else fails)("remove", *args, "--index", single)
        b = (ok if "nothing-like-this" not in args else fails)("remove", *args, "--index", index)
        assert a.stderr.split(" in ")[0] == b.stderr.split(" in ")[0]
        _assert_same_as_single(index, single)
        if "nothing-like-this" in args:
            assert "no document or file 'nothing-like-this'" in b.stderr
    # Shards that lost all their documents (the last, most of c.jsonl; the middle) are gone.
    m = read_manifest(index)
    assert m.shards < 3 and m.counts.sources == read_manifest(single).counts.sources
    assert f"Shards     {m.shards}: shard-000 " in ok("info", "--index", index, "--verify").stdout
    # c.jsonl comes back: its documents go to the last shard, after the others, as in one index.
    ok("index", docs, "--index", index)
    ok("index", docs, "--index", single)
    _assert_same_as_single(index, single)
    # Removing everything is refused, and the index stays.
    sources = read_manifest(index).counts.sources
    assert "no passages" in fails("remove", docs, "--index", index).stderr
    assert read_manifest(index).counts.sources == sources


def test_info_verify_names_a_damaged_shard_file(tmp_path):
    docs = _three_files(tmp_path / "docs")
    index = tmp_path / "index"
    ok("index", docs, "--index", index, "--shards", "3")
    (docs / "d.txt").write_text("A new document about lava fields.")
    ok("index", docs, "--index", index)  # an updated index is verified like a built one
    assert "all files match" in ok("info", "--index", index, "--verify").stderr
    data = index / read_manifest(index).data
    (weights,) = data.glob("shard-001/g*/tfidf_weights.npy")
    original = weights.read_bytes()
    with open(weights, "r+b") as f:  # same size, other values
        f.seek(-4, os.SEEK_END)
        f.write(b"\x00\x00\x80\x7f")
    result = fails("info", "--index", index, "--verify")
    assert "shard-001/tfidf_weights.npy" in result.stderr and "shard-000" not in result.stderr
    weights.write_bytes(original[:-100])  # cut short: the shard cannot be opened, and is named
    assert "shard-001" in fails("info", "--index", index, "--verify").stderr
    weights.write_bytes(original)
    assert "all files match" in ok("info", "--index", index, "--verify").stderr
    shards_file = data / "shards.json"
    shards_file.write_text(shards_file.read_text().replace('"passages": 20', '"passages": 21', 1))
    assert "shards.json" in fails("info", "--index", index, "--verify").stderr


# -- kill -9 during a sharded update ------------------------------------------------------------


def _cli(*args) -> list[str]:
    return [sys.executable, "-m", "citesearch", *map(str, args)]


def _run(*args) -> subprocess.CompletedProcess:
    return subprocess.run(_cli(*args), capture_output=True, text=True, cwd=ROOT, timeout=300)


def _corpus(root: Path, version: int) -> Path:
    """3,000 documents in 3 files; ``version`` changes a tenth of one file and a text file."""
    root.mkdir(exist_ok=True)
    words = [f"w{i}" for i in range(1500)] + ["volcano", "lava", "glacier"]
    for part in range(3):
        rng = random.Random(part)
        lines = [
            json.dumps({"_id": f"{part}-{i}", "text": " ".join(rng.choices(words, k=100))
                        + (f" lava v{version}" if part == version % 3 and i % 10 == 0 else "")})
            for i in range(1000)
        ]
        (root / f"part{part}.jsonl").write_text("\n".join(lines) + "\n")
    (root / "lava.txt").write_text(f"Lava flows, version {version}. The volcano erupted.")
    return root


@pytest.mark.skipif(sys.platform != "linux", reason="process groups")
def test_kill_9_during_a_sharded_update_leaves_the_old_index_or_the_new(tmp_path):
    corpus = _corpus(tmp_path / "docs", 0)
    index = tmp_path / "index"
    assert _run("index", corpus, "--index", index, "--shards", "3").returncode == 0
    started = time.perf_counter()
    assert _run("index", _corpus(corpus, 1), "--index", index).returncode == 0
    took = time.perf_counter() - started
    rng = random.Random(3)
    for attempt in range(6):
        before = read_manifest(index).data
        search = _run("search", "volcano lava", "--index", index, "--format", "json", "-k", "20").stdout
        args = ["index", _corpus(corpus, attempt + 2), "--index", index] if attempt % 3 else \
            ["remove", "lava.txt", "--index", index]  # its file is read again by the next update
        proc = subprocess.Popen(_cli(*args), cwd=ROOT, start_new_session=True,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, took))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        verify = _run("info", "--index", index, "--verify")
        assert verify.returncode == 0 and "all files match" in verify.stderr, verify.stderr
        after = _run("search", "volcano lava", "--index", index, "--format", "json", "-k", "20")
        assert after.returncode == 0 and json.loads(after.stdout)["results"]
        if read_manifest(index).data == before:  # the old index, as it was
            assert after.stdout == search
    # The next writer cleans up what the killed ones left, and the result is one index's.
    assert _run("index", _corpus(corpus, 99), "--index", index).returncode == 0
    m = read_manifest(index)
    assert sorted(p.name for p in index.iterdir()) == sorted([m.data, "lock", "manifest.json"])
    single = tmp_path / "single"
    assert _run("index", corpus, "--index", single).returncode == 0
    _assert_same_rankings(index, single, exact_ties=False)
