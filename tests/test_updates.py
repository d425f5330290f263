"""Updating an index in place (``citesearch index`` on an existing index, ``remove``):
after any sequence of updates, every ranking equals a fresh build's of the same documents."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from conftest import data_dir, fails, ok
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from citesearch.corpus import load_documents
from citesearch.indexer.bm25 import BM25Params
from citesearch.indexer.builder import build_index
from citesearch.indexer.updating import remove_documents, update_index
from citesearch.search.expansion import RM3
from citesearch.search.options import SearchOptions
from citesearch.search.searcher import Index

WORDS = [f"w{i}" for i in range(40)] + ["volcano", "lava", "glacier", "ice", "fjord", "geyser", "ash", "basalt"]
QUERIES = [
    "volcano lava", "glacier ice fjord", "w1 w2 w3", "geyser", "ash basalt w5",
    '"volcano lava"', "w7 -w8", "volcano source:*.txt", "w2 title:title",  # a phrase, an exclusion, filters
]


def _text(rng: np.random.Generator, n: int) -> str:
    # Zipf-like: a few words common, most rare, so that scores rarely tie.
    p = 1 / np.arange(1, len(WORDS) + 1)
    words = rng.choice(WORDS, size=n, p=p / p.sum())
    return " ".join(words) + "."


def _docs(tmp_path: Path, **texts: str) -> Path:
    """A folder ``docs`` with a text file per keyword: ``one="..."`` is ``one.txt``."""
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, text in texts.items():
        (docs / f"{name}.txt").write_text(text)
    return docs


class Corpus:
    """A folder of text files and one JSONL collection, changed step by step."""

    def __init__(self, root: Path, seed: int):
        self.root = root
        self.rng = np.random.default_rng(seed)
        self.records: dict[str, str] = {}
        root.mkdir()
        self.counter = 0

    def _new_id(self) -> str:
        self.counter += 1
        return f"n{self.counter}"

    def write_jsonl(self) -> None:
        path = self.root / "c.jsonl"
        if self.records:
            lines = [json.dumps({"_id": i, "title": f"Title {i}", "text": t}) for i, t in self.records.items()]
            path.write_text("\n".join(lines) + "\n")
        elif path.exists():
            path.unlink()

    def apply(self, op: str) -> None:
        files = sorted(self.root.glob("*.txt"))
        if op == "add-file":
            (self.root / f"{self._new_id()}.txt").write_text(_text(self.rng, int(self.rng.integers(5, 60))))
        elif op == "change-file" and files:
            files[int(self.rng.integers(len(files)))].write_text(_text(self.rng, int(self.rng.integers(5, 60))))
        elif op == "delete-file" and files:
            files[int(self.rng.integers(len(files)))].unlink()
        elif op == "add-record":
            self.records[self._new_id()] = _text(self.rng, int(self.rng.integers(5, 400)))  # long: several passages
            self.write_jsonl()
        elif op == "change-record" and self.records:
            key = list(self.records)[int(self.rng.integers(len(self.records)))]
            self.records[key] = _text(self.rng, int(self.rng.integers(5, 60)))
            self.write_jsonl()
        elif op == "drop-record" and self.records:
            del self.records[list(self.records)[int(self.rng.integers(len(self.records)))]]
            self.write_jsonl()

    def has_documents(self) -> bool:
        return bool(self.records) or any(self.root.glob("*.txt"))


def _ranked(index: Index, query: str, options: SearchOptions) -> list[tuple[str, float]]:
    results = index.search(query, k=1000, options=options).results
    return [(r.passage.id, r.score) for r in results]


def _assert_same_rankings(updated: Path, fresh: Path, exact_ties: bool) -> None:
    with Index.open(updated) as a, Index.open(fresh) as b:
        assert a.reader.manifest.counts == b.reader.manifest.counts
        assert a.reader.manifest.avg_passage_length == pytest.approx(b.reader.manifest.avg_passage_length, rel=1e-12)
        methods = [SearchOptions(method="bm25"), SearchOptions(method="tfidf"), SearchOptions(method="dfr")]
        # BM25 at other parameters than the index's, weighed at query time (idf included).
        methods.append(SearchOptions(method="bm25", bm25=BM25Params("okapi", 1.5, 0.75)))
        if exact_ties:  # the fusion and the feedback read ranks, which ties order by passage row
            methods += [SearchOptions(method="hybrid"), SearchOptions(method="bm25", expand=RM3(3, 5, 0.6))]
        for options in methods:
            for query in QUERIES:
                x, y = _ranked(a, query, options), _ranked(b, query, options)
                assert len(x) == len(y), (query, options)
                # The same passages with the same scores, ties aside (ordered by id here).
                x.sort(key=lambda p: (-round(p[1], 5), p[0]))
                y.sort(key=lambda p: (-round(p[1], 5), p[0]))
                assert [p for p, _ in x] == [p for p, _ in y], (query, options)
                np.testing.assert_allclose([s for _, s in x], [s for _, s in y], rtol=1e-6)


def _no_ties(index_dir: Path) -> bool:
    with Index.open(index_dir) as index:
        for query in QUERIES:
            for method in ("bm25", "tfidf", "dfr"):
                scores = [r.score for r in index.search(query, k=1000, method=method).results]
                if len(set(np.round(scores, 9))) != len(scores):
                    return False
    return True


OPS = st.sampled_from(["add-file", "change-file", "delete-file", "add-record", "change-record", "drop-record"])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(seed=st.integers(0, 2**16), steps=st.lists(st.lists(OPS, min_size=1, max_size=4), min_size=1, max_size=4))
def test_any_sequence_of_updates_ranks_as_a_fresh_build(tmp_path_factory, seed, steps):
    base = tmp_path_factory.mktemp("updates")
    corpus = Corpus(base / "docs", seed)
    for op in ("add-file", "add-file", "add-record", "add-record"):
        corpus.apply(op)
    index = base / "index"
    build_index(load_documents([corpus.root]), index, workers=1)
    for i, step in enumerate(steps):
        for op in step:
            corpus.apply(op)
        assume(corpus.has_documents())
        update_index(index, [corpus.root], workers=1)
        fresh = base / f"fresh{i}"
        build_index(load_documents([corpus.root]), fresh, workers=1)
        _assert_same_rankings(index, fresh, exact_ties=_no_ties(fresh))


def test_an_update_reads_only_what_changed_and_says_what_it_did(tmp_path):
    corpus = Corpus(tmp_path / "docs", 1)
    for op in ["add-file"] * 3 + ["add-record"] * 5:
        corpus.apply(op)
    index = tmp_path / "index"
    ok("index", corpus.root, "--index", index)
    before = (index / "manifest.json").read_text()
    result = ok("index", corpus.root, "--index", index)
    assert "Nothing changed (8 documents)" in result.stderr
    assert (index / "manifest.json").read_text() == before  # nothing written
    os.utime(corpus.root / "n1.txt")  # touched, same content
    assert "Nothing changed" in ok("index", corpus.root, "--index", index).stderr
    corpus.apply("change-record")
    corpus.apply("add-file")
    (corpus.root / "n2.txt").unlink()
    result = ok("index", corpus.root, "--index", index)
    assert "Added 1, updated 1, removed 1 document (6 unchanged)" in result.stderr, result.stderr


def test_documents_from_other_paths_stay(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "one.txt").write_text("Volcanoes erupt lava.")
    (b / "two.txt").write_text("Glaciers carve fjords.")
    index = tmp_path / "index"
    ok("index", a, "--index", index)
    ok("index", b / "two.txt", "--index", index)
    ids = {r["id"] for r in json.loads(ok("sources", "--index", index, "--format", "json").stdout)}
    assert ids == {"one.txt", "two.txt"}
    (b / "two.txt").unlink()
    ok("index", a, "--index", index)  # b is not under the paths given: its document stays
    assert len(json.loads(ok("sources", "--index", index, "--format", "json").stdout)) == 2
    ok("index", b, "--index", index)  # now it is, and its file is gone
    ids = {r["id"] for r in json.loads(ok("sources", "--index", index, "--format", "json").stdout)}
    assert ids == {"one.txt"}


def test_rebuild_starts_from_empty_and_changed_settings_need_it(tmp_path):
    a = tmp_path / "a"
    a.mkdir()
    (a / "one.txt").write_text("Volcanoes erupt lava.")
    (tmp_path / "two.txt").write_text("Glaciers carve fjords.")
    index = tmp_path / "index"
    ok("index", a, "--index", index)
    ok("index", tmp_path / "two.txt", "--index", index)
    result = fails("index", a, "--index", index, "--passage-words", 50)
    assert "--passage-words" in result.stderr and "--rebuild" in result.stderr
    ok("index", a, "--index", index, "--passage-words", 50, "--rebuild")
    ids = {r["id"] for r in json.loads(ok("sources", "--index", index, "--format", "json").stdout)}
    assert ids == {"one.txt"}
    # The same settings, given again, are no change.
    ok("index", a, "--index", index, "--passage-words", 50)


def test_remove_by_id_path_and_folder(tmp_path):
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "one.txt").write_text("Volcanoes erupt lava.")
    (docs / "sub" / "two.txt").write_text("Glaciers carve fjords.")
    (docs / "sub" / "three.txt").write_text("Geysers spout water.")
    (docs / "c.jsonl").write_text('{"_id": "d1", "text": "Basalt is volcanic rock."}\n{"_id": "d2", "text": "Ash."}\n')
    index = tmp_path / "index"
    ok("index", docs, "--index", index)
    assert "Removed 1 document" in ok("remove", "d1", "--index", index).stderr
    assert "Removed 2 documents" in ok("remove", docs / "sub", "--index", index).stderr
    result = fails("remove", "nothing-like-this", "one.txt", "--index", index)
    assert "nothing-like-this" in result.stderr and "Removed 1 document" in result.stderr
    ids = [r["id"] for r in json.loads(ok("sources", "--index", index, "--format", "json").stdout)]
    assert ids == ["d2"]
    assert ok("info", "--index", index, "--verify").stdout
    # Removing the last document is refused: the index stays as it was.
    result = fails("remove", "d2", "--index", index)
    assert "no passages" in result.stderr
    assert [r["id"] for r in json.loads(ok("sources", "--index", index, "--format", "json").stdout)] == ["d2"]


def test_a_term_gone_from_every_passage_is_gone_from_the_vocabulary(tmp_path):
    docs = _docs(tmp_path, one="Volcanoes erupt lava.", two="Glaciers carve fjords.")
    index = tmp_path / "index"
    build_index(load_documents([docs]), index, workers=1)
    remove_documents(index, ["two.txt"])
    with sqlite3.connect(data_dir(index) / "store.sqlite") as db:
        assert not db.execute("SELECT * FROM terms WHERE term LIKE 'glacier%'").fetchall()
        assert not db.execute("SELECT * FROM forms WHERE form = 'glaciers'").fetchall()
    with Index.open(index) as idx:
        found = idx.search("glaciers lava")
        assert found.unmatched == ("glaciers",)
        assert [r.source.id for r in found.results] == ["one.txt"]
    # And it comes back, under a new id, when a document brings it back.
    (docs / "three.txt").write_text("Glaciers again.")
    update_index(index, [docs], workers=1)
    with Index.open(index) as idx:
        assert [r.source.id for r in idx.search("glaciers").results] == ["three.txt"]


def test_an_open_index_answers_from_its_snapshot_during_and_after_an_update(tmp_path):
    docs = _docs(tmp_path, one="Volcanoes erupt lava.")
    index = tmp_path / "index"
    build_index(load_documents([docs]), index, workers=1)
    with Index.open(index) as before:
        (docs / "two.txt").write_text("Lava fields cool into basalt.")
        update_index(index, [docs], workers=1)
        assert [r.source.id for r in before.search("lava").results] == ["one.txt"]
        with Index.open(index) as after:
            assert sorted(r.source.id for r in after.search("lava").results) == ["one.txt", "two.txt"]
    assert sorted(p.name for p in index.iterdir()) == ["g000002", "lock", "manifest.json"]


def test_verify_names_an_edited_manifest_a_file_dropped_from_its_list_and_a_changed_file(tmp_path):
    docs = _docs(tmp_path, one="Volcanoes erupt lava.")
    index = tmp_path / "index"
    ok("index", docs, "--index", index)
    assert "all files match" in ok("info", "--index", index, "--verify").stderr
    manifest = index / "manifest.json"
    original = manifest.read_text()
    data = json.loads(original)
    data["bm25"]["k1"] = 2.0  # an edited setting: still a valid manifest
    manifest.write_text(json.dumps(data))
    assert "manifest.json" in fails("info", "--index", index, "--verify").stderr
    data = json.loads(original)
    del data["files"]["bm25_weights.npy"]
    data["checksum"] = ""  # and with a checksum that does not hide it either
    manifest.write_text(json.dumps(data))
    result = fails("info", "--index", index, "--verify")
    assert "bm25_weights.npy" in result.stderr and "manifest.json" in result.stderr
    manifest.write_text(original)
    with open(data_dir(index) / "tfidf_weights.npy", "r+b") as f:
        f.seek(-4, os.SEEK_END)
        f.write(b"\x00\x00\x80\x7f")
    assert "tfidf_weights.npy" in fails("info", "--index", index, "--verify").stderr


def test_an_index_is_made_with_the_umask_like_any_file(tmp_path):
    docs = _docs(tmp_path, one="Volcanoes erupt lava.")
    script = (
        "import os, sys\nos.umask(0o022)\nfrom citesearch.cli import cli\n"
        "cli(['index', sys.argv[1], '--index', sys.argv[2]])\n"
    )
    import subprocess
    import sys

    subprocess.run([sys.executable, "-c", script, str(docs), str(tmp_path / "index")], check=True, capture_output=True)
    index = tmp_path / "index"
    assert oct(index.stat().st_mode & 0o777) == oct(0o755)
    assert oct(data_dir(index).stat().st_mode & 0o777) == oct(0o755)
    for f in [index / "manifest.json", *data_dir(index).iterdir()]:
        assert oct(f.stat().st_mode & 0o777) == oct(0o644), f.name


def test_postings_overwritten_with_rows_the_store_lacks_are_one_error_line(tmp_path):
    docs = _docs(tmp_path, one="Volcanoes erupt lava.", two="Lava flows cool into basalt.")
    index = tmp_path / "index"
    ok("index", docs, "--index", index)
    path = data_dir(index) / "postings_passages.npy"
    n = len(np.load(path))
    with open(path, "r+b") as f:  # the same size: only the content is wrong
        f.seek(-4 * n, os.SEEK_END)
        f.write(np.full(n, 10**8, dtype=np.int32).tobytes())
    result = fails("search", "lava", "--index", index, "--method", "bm25")
    assert "damaged" in result.stderr and "Traceback" not in result.stderr
    assert "postings_passages.npy" in fails("info", "--index", index, "--verify").stderr
