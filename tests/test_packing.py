"""Stored texts packed with a trained zstd dictionary, and each source path stored once
(format 5: citesearch.indexer.packing, the store's ``paths`` and ``dictionaries``)."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest
from conftest import as_format, data_dir, fails, ok

from citesearch.indexer import packing
from citesearch.indexer.packing import Packer, Unpacker
from citesearch.indexer.updating import remove_documents, update_index
from citesearch.search.searcher import Index

WORDS = "lava basalt glacier fjord geyser ash magma crater caldera tephra pumice obsidian".split()


def _records(n: int, seed: int, prefix: str = "d") -> list[dict]:
    rng = random.Random(seed)
    return [
        {"_id": f"{prefix}{i}", "text": " ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60))) + "."}
        for i in range(n)
    ]


def _jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _store(index: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{data_dir(index) / 'store.sqlite'}?mode=ro", uri=True)


@pytest.fixture
def small_sample(monkeypatch):
    """A dictionary trained after 64 KiB of texts, so that a test collection trains one."""
    monkeypatch.setattr(packing, "SAMPLE_BYTES", 64 * 1024)
    monkeypatch.setattr(packing, "DICTIONARY_BYTES", 4096)


def test_a_packer_round_trips_texts_and_keeps_those_that_would_not_shrink(small_sample):
    texts = [r["text"] for r in _records(3000, 1)] + ["ok", "", "ünïcödé — " * 40]
    rows = [(i, t) for i, t in enumerate(texts)]
    packer = Packer(None)

    def pairs(ready_and_packed):  # (row, value as the store reads it back: bytes or str)
        ready, values = ready_and_packed
        return [(r[0], v if isinstance(v, str) else bytes(v)) for r, v in zip(ready, values)]

    packed = pairs(packer.add(rows[:10], 1))
    assert packed == []  # held back until the dictionary is trained
    packed += pairs(packer.add(rows[10:], 1)) + pairs(packer.flush(1))
    assert [r[0] for r in packed] == list(range(len(texts)))
    assert packer.trained and packer.dictionary
    assert isinstance(packed[0][1], bytes) and sum(map(len, (r[1] for r in packed[:3000]))) < sum(
        len(t.encode()) for t in texts[:3000]
    ) / 2
    assert packed[-3][1] == "ok" and packed[-2][1] == ""  # would not shrink: stored as text
    unpack = Unpacker(packer.dictionary)
    assert [unpack(r, v) for r, v in packed] == texts


def test_an_index_packs_its_texts_and_lists_each_path_once(tmp_path, small_sample):
    records = _records(3000, 2)
    jsonl = _jsonl(tmp_path / "c.jsonl", records)
    (tmp_path / "note.txt").write_text("Basalt is a volcanic rock.\n\nIt is dark.")
    ok("index", jsonl, tmp_path / "note.txt", "--index", tmp_path / "idx")
    with _store(tmp_path / "idx") as db:
        assert db.execute("SELECT count(*) FROM paths").fetchone()[0] == 2
        kinds = dict(db.execute("SELECT typeof(text), count(*) FROM sources GROUP BY 1"))
        assert kinds["blob"] > 2900
        assert db.execute("SELECT count(*) FROM dictionaries").fetchone()[0] == 1
    with Index.open(tmp_path / "idx") as idx:
        assert idx.reader.source_text(idx.reader.source_by_id("d7").row)[0] == records[7]["text"]
        by_id = {r["_id"]: r["text"] for r in records}
        hits = idx.search("obsidian pumice", k=5).results
        assert hits and all(h.passage.text in by_id[h.source.id] for h in hits)
        shown = idx.search("basalt volcanic rock", k=1).results[0]
        assert shown.source.path.endswith("note.txt") and "volcanic" in shown.passage.text


def test_updates_keep_the_dictionary_and_forget_paths_no_source_has(tmp_path, small_sample):
    one = _jsonl(tmp_path / "one.jsonl", _records(3000, 3, "a"))
    two = _jsonl(tmp_path / "two.jsonl", _records(50, 4, "b"))
    ok("index", one, two, "--index", tmp_path / "idx")
    with _store(tmp_path / "idx") as db:
        dictionary = db.execute("SELECT data FROM dictionaries").fetchone()[0]
    _jsonl(two, _records(60, 5, "b"))
    update_index(tmp_path / "idx", [one, two])
    remove_documents(tmp_path / "idx", [str(one)])
    with _store(tmp_path / "idx") as db:
        assert db.execute("SELECT data FROM dictionaries").fetchone()[0] == dictionary
        assert [p for (p,) in db.execute("SELECT path FROM paths")] == [str(two)]
    with Index.open(tmp_path / "idx") as idx:
        assert idx.reader.source_text(idx.reader.source_by_id("b59").row)[0] == _records(60, 5, "b")[59]["text"]


def test_a_small_first_build_has_no_dictionary_and_a_large_update_trains_one(tmp_path, small_sample):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Rhyolite rises. " * 50)
    ok("index", docs, "--index", tmp_path / "idx")
    with _store(tmp_path / "idx") as db:
        assert db.execute("SELECT count(*) FROM dictionaries").fetchone()[0] == 0
        assert db.execute("SELECT typeof(text) FROM sources").fetchone()[0] == "blob"  # zstd without one
    records = _records(3000, 6)
    _jsonl(docs / "c.jsonl", records)
    update_index(tmp_path / "idx", [docs])
    with _store(tmp_path / "idx") as db:
        assert db.execute("SELECT count(*) FROM dictionaries").fetchone()[0] == 1
    with Index.open(tmp_path / "idx") as idx:
        assert idx.reader.source_text(idx.reader.source_by_id("d2999").row)[0] == records[2999]["text"]
        assert idx.search("rhyolite", k=1).results[0].passage.text.startswith("Rhyolite rises.")


def test_an_index_of_format_4_is_read_but_not_changed(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Lava flows downhill.")
    ok("index", docs, "--index", tmp_path / "idx")
    as_format(tmp_path / "idx", 4)
    assert "Lava" in ok("search", "lava", "--index", tmp_path / "idx").output
    (docs / "b.txt").write_text("Ash falls.")
    result = fails("index", docs, "--index", tmp_path / "idx")
    assert "format 4" in result.output and "--rebuild" in result.output
    assert "Lava" in ok("search", "lava", "--index", tmp_path / "idx").output


def test_frequencies_take_one_byte_unless_a_passage_repeats_a_word_more_than_255_times(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Lava flows. " * 10)
    ok("index", docs, "--index", tmp_path / "small")
    with Index.open(tmp_path / "small") as idx:
        assert idx.reader["postings_tf"].dtype == "uint8"
        assert idx.reader["postings_tf"].max() >= 10  # (a one-line text is its title too, counted twice)
    (docs / "b.txt").write_text("basalt " * 300)
    ok("index", docs, "--index", tmp_path / "large", "--passage-words", "1000")
    with Index.open(tmp_path / "large") as idx:
        assert idx.reader["postings_tf"].dtype == "uint16"
        assert idx.reader["postings_tf"].max() == 600  # 300 in the text and 300 in its title
        assert idx.search("basalt", k=1).results[0].source.id.endswith("b.txt")


def test_title_filters_find_one_line_documents_through_the_postings(tmp_path):
    """A one-line document's title is its whole (packed) text: ``title:`` finds it by its
    passages' terms, and still checks the word as the text analyzes it."""
    long_line = " ".join(["magma"] * 400) + " basalt"  # one line, two passages: basalt in the second only
    records = [
        {"_id": "lava", "text": "Lava flows downhill"},
        {"_id": "lavatory", "text": "Lavatory flows downhill"},  # "lava" inside a word: not a title match
        {"_id": "long", "text": long_line},
        {"_id": "declared", "title": "Lava fields", "text": "Black rock flows.\n\nMore rock."},
    ]
    ok("index", _jsonl(tmp_path / "c.jsonl", records), "--index", tmp_path / "idx")
    with Index.open(tmp_path / "idx") as idx:
        found = {r.source.id for r in idx.search("flows title:lava", k=10).results}
        assert found == {"lava", "declared"}
        assert {r.source.id for r in idx.search("magma title:basalt", k=10).results} == {"long"}
        assert idx.search("magma title:obsidian", k=10).results == []
