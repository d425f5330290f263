"""The index-time title weight (``IndexSettings.title_weight``, ``citesearch index
--title-weight``): a document's title terms count w times, added to its first passage's
tokens; the stored text, passage offsets and snippets do not change."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import data_dir

from citesearch.cli import cli
from citesearch.corpus import load_documents
from citesearch.corpus.passages import DEFAULT_TITLE_WEIGHT
from citesearch.indexer import builder
from citesearch.indexer.builder import IndexSettings, build_index
from citesearch.indexer.manifest import read_manifest
from citesearch.search.searcher import Index

LONG = " ".join(f"Sentence {i} tells of a fox and other animals." for i in range(12))


def _corpus(root: Path) -> Path:
    root.mkdir()
    records = [
        {"_id": "long", "title": "Foxes and the quick fox", "text": LONG},  # several passages
        {"_id": "short", "title": "Brown dogs", "text": "A dog sleeps in the sun."},
        {"_id": "bare", "title": "Only a title line", "text": ""},  # its title is its whole text
        {"_id": "stops", "title": "The and of", "text": "Stop words alone make this title."},
        {"_id": "untitled", "text": "Beavers build dams.\nBeavers live in rivers."},  # shown title: its first line
    ]
    (root / "c.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n")
    (root / "guide.md").write_text("# Otter guide\n\nOtters swim. " + LONG)
    return root


def _arrays(index: Path) -> dict[str, np.ndarray]:
    names = ("postings_indptr", "postings_passages", "postings_tf", "passage_length", "passage_source",
             "passage_ordinal", "passage_start", "passage_end")
    return {name: np.load(data_dir(index) / f"{name}.npy") for name in names}


def _rows(index: Path, sql: str) -> list[tuple]:
    db = sqlite3.connect(data_dir(index) / "store.sqlite")
    try:
        return db.execute(sql).fetchall()
    finally:
        db.close()


def _tf(arrays: dict[str, np.ndarray], term: int, passage: int) -> int:
    a, b = arrays["postings_indptr"][term : term + 2]
    hits = np.flatnonzero(arrays["postings_passages"][a:b] == passage)
    return int(arrays["postings_tf"][a:b][hits[0]]) if len(hits) else 0


def _build(corpus: Path, out: Path, weight: int, workers: int = 1, **kw) -> Path:
    settings = IndexSettings(passage_words=20, title_weight=weight, **kw)
    build_index(load_documents([corpus]), out, settings, workers=workers)
    return out


def _same(a: Path, b: Path) -> None:
    names = sorted(p.name for p in data_dir(a).glob("*.npy"))
    assert names == sorted(p.name for p in data_dir(b).glob("*.npy"))
    for name in names:
        assert (data_dir(a) / name).read_bytes() == (data_dir(b) / name).read_bytes(), name
    for table in ("sources", "terms", "forms"):  # (the passages' offsets are arrays)
        sql = f"SELECT * FROM {table} ORDER BY 1"
        assert _rows(a, sql) == _rows(b, sql), table


def test_the_default_weight_is_defined_once_and_1_is_written_as_before(tmp_path):
    corpus = _corpus(tmp_path / "corpus")
    build_index(load_documents([corpus]), tmp_path / "default", IndexSettings(passage_words=20), workers=1)
    _same(tmp_path / "default", _build(corpus, tmp_path / "wd", DEFAULT_TITLE_WEIGHT))
    assert read_manifest(tmp_path / "default").title_weight == DEFAULT_TITLE_WEIGHT > 1
    _build(corpus, tmp_path / "w1", 1)
    manifest = json.loads((tmp_path / "w1" / "manifest.json").read_text())
    assert "title_weight" not in manifest["passages"] and read_manifest(tmp_path / "w1").title_weight == 1


@pytest.mark.parametrize("weight", [2, 3])
def test_the_title_terms_count_weight_times_in_the_first_passage_only(tmp_path, weight):
    corpus = _corpus(tmp_path / "corpus")
    one, more = _build(corpus, tmp_path / "w1", 1), _build(corpus, tmp_path / f"w{weight}", weight)
    # The text, the passages' offsets and the vocabulary are the same.
    for table in ("sources", "terms", "forms"):  # (the passages' offsets are arrays)
        sql = f"SELECT * FROM {table} ORDER BY 1"
        assert _rows(one, sql) == _rows(more, sql), table
    a, b = _arrays(one), _arrays(more)
    for name in ("passage_source", "passage_ordinal", "passage_start", "passage_end"):
        assert (a[name] == b[name]).all(), name
    index = Index.open(one)
    firsts = {int(a["passage_source"][p]): int(p) for p in np.flatnonzero(a["passage_ordinal"] == 0)}
    grown = np.zeros(len(a["passage_length"]), dtype=np.int64)
    for row, doc_id, title in _rows(one, "SELECT row, id, title FROM sources"):
        declared = title is not None and doc_id != "untitled"  # NULL: title == text
        title_terms = Counter(index.analyze(title)[0]) if declared else Counter()
        first = firsts[row]
        grown[first] = (weight - 1) * sum(title_terms.values())
        for term, count in title_terms.items():
            assert _tf(b, term, first) == _tf(a, term, first) + (weight - 1) * count, (doc_id, term)
    assert (b["passage_length"] - a["passage_length"] == grown).all()  # other passages unchanged
    # Some did grow: "long" (foxes, quick, fox: 3 tokens) and the Markdown file's title;
    # "bare" (title is its text), "stops" (only stop words) and "untitled" (no title of its
    # own: the first line it is shown with is not weighted) did not.
    by_id = {Path(doc_id).stem: firsts[row] for row, doc_id in _rows(one, "SELECT row, id FROM sources")}
    assert grown[by_id["long"]] == 3 * (weight - 1) and grown[by_id["guide"]] == 2 * (weight - 1)
    assert grown[by_id["bare"]] == 0 and grown[by_id["stops"]] == 0 and grown[by_id["untitled"]] == 0
    assert dict(_rows(one, "SELECT id, title FROM sources"))["untitled"] == "Beavers build dams."
    assert len(firsts) < len(a["passage_length"])  # a document with several passages
    manifest = read_manifest(more)
    assert manifest.title_weight == weight
    assert manifest.avg_passage_length == pytest.approx(b["passage_length"].mean())
    assert manifest.avg_passage_length > read_manifest(one).avg_passage_length
    # Unchanged tf where the title is not, so the BM25 weights differ only in the grown passages' lengths.
    changed = np.unique(b["postings_passages"][(b["postings_tf"] != a["postings_tf"])])
    assert set(changed.tolist()) <= set(np.flatnonzero(grown).tolist())


def test_workers_and_the_compiled_numbering_build_the_same_weighted_index(tmp_path, monkeypatch):
    monkeypatch.setattr(builder, "CHUNK", 2)
    corpus = _corpus(tmp_path / "corpus")
    _same(_build(corpus, tmp_path / "one", 2), _build(corpus, tmp_path / "two", 2, workers=2))
    pytest.importorskip("numba")
    monkeypatch.setattr(builder, "COMPILED_FROM", 0)
    _same(tmp_path / "one", _build(corpus, tmp_path / "compiled", 2, workers=2))


def test_a_weight_below_1_is_refused(tmp_path):
    with pytest.raises(ValueError, match="title_weight"):
        _build(_corpus(tmp_path / "corpus"), tmp_path / "w0", 0)


def test_the_command_line_records_the_weight_and_info_shows_it(tmp_path):
    corpus = _corpus(tmp_path / "corpus")
    runner = CliRunner()

    def run(*args):
        result = runner.invoke(cli, [str(a) for a in args], catch_exceptions=False, prog_name="citesearch")
        assert result.exit_code == 0, result.output
        return result.output

    run("index", corpus, "--index", tmp_path / "w2")
    run("index", corpus, "--index", tmp_path / "w1", "--title-weight", 1)
    assert json.loads((tmp_path / "w2" / "manifest.json").read_text())["passages"]["title_weight"] == 2
    assert "title terms counted 2×" in run("info", "--index", tmp_path / "w2")
    assert "title terms counted 1×" in run("info", "--index", tmp_path / "w1")
    assert "--title-weight" in run("index", "--help")
    result = runner.invoke(cli, ["index", str(corpus), "--index", str(tmp_path / "w11"), "--title-weight", "11"])
    assert result.exit_code == 2
