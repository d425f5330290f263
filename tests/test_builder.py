"""The build's steps and plumbing (citesearch.indexer.builder): its workers' state, NLTK's
import, and duplicate ids."""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import data_dir
from hypothesis import given, settings
from hypothesis import strategies as st

from citesearch import nltk_parts
from citesearch.corpus import LoadReport, load_documents
from citesearch.corpus.loading import FirstIdWins, JsonlLines
from citesearch.indexer import builder
from citesearch.indexer.analysis import AnalyzerConfig
from citesearch.indexer.builder import IndexSettings, build_index


def _rows(index: Path, table: str) -> list[tuple]:
    db = sqlite3.connect(data_dir(index) / "store.sqlite")
    try:
        return db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
    finally:
        db.close()


def _assert_same_index(a: Path, b: Path) -> None:
    names = sorted(p.name for p in data_dir(a).glob("*.npy"))
    assert names and names == sorted(p.name for p in data_dir(b).glob("*.npy"))
    for name in names:
        assert (data_dir(a) / name).read_bytes() == (data_dir(b) / name).read_bytes(), name
    for table in ("sources", "terms", "forms"):  # (the passages' offsets are arrays)
        assert _rows(a, table) == _rows(b, table), table


def _corpus(root: Path) -> Path:
    """JSONL documents in several batches (of 3), one of them a duplicate with words of its
    own, and a Markdown file; all short: no sentence splitting."""
    lines = [
        json.dumps({"_id": f"d{i}", "title": "T" if i % 2 else "", "text": f"alpha{i % 4} beta words {i}"})
        for i in range(10)
    ]
    lines[7] = json.dumps({"_id": "d2", "text": "zebra quagga okapi"})  # a duplicate, in another batch
    root.mkdir()
    (root / "c.jsonl").write_text("\n".join(lines) + "\n")
    (root / "notes.md").write_text("# Notes\n\nalpha1 and beta in a markdown file.")
    return root


def test_the_workers_state_comes_from_picklable_settings_so_spawned_workers_build_the_same_index(tmp_path, monkeypatch):
    """Nothing a worker needs comes through fork: spawned workers (a fresh interpreter
    each, where nothing of this process was set) build the index forked ones build."""
    monkeypatch.setattr(builder, "CHUNK", 3)
    corpus = _corpus(tmp_path / "corpus")
    settings = IndexSettings(analyzer=AnalyzerConfig(stemmer="porter"), passage_words=20)
    reports = {}
    for method in ("fork", "spawn"):
        monkeypatch.setattr(builder, "START_METHOD", method)
        reports[method] = LoadReport()
        build_index(load_documents([corpus], report=reports[method]), tmp_path / method, settings, workers=2)
    assert reports["spawn"] == reports["fork"] and len(reports["fork"].duplicates) == 1
    _assert_same_index(tmp_path / "fork", tmp_path / "spawn")


def test_a_workers_analysis_is_made_from_its_settings_alone(tmp_path):
    settings = builder._AnalysisSettings(AnalyzerConfig(), words=20, overlap=0, compiled=False, title_weight=2)
    assert pickle.loads(pickle.dumps(settings)) == settings
    path = _corpus(tmp_path / "corpus") / "c.jsonl"
    lines = JsonlLines(load_documents([path]).files[0], [1, 2], path.read_bytes().splitlines()[:2])
    analyzed = builder._Analysis(pickle.loads(pickle.dumps(settings))).analyze(lines)
    assert [row[0] for row in analyzed.sources] == ["d0", "d1"] and analyzed.report == LoadReport()
    assert analyzed.passage_counts.tolist() == [1, 1]
    assert analyzed.new_forms == ["alpha0", "beta", "words", "alpha1"]  # one-character tokens left out
    assert analyzed.tokens.tolist() == [0, 1, 2, 3, 1, 2] and analyzed.lengths.tolist() == [3, 3]


def test_nltk_is_imported_once_before_the_workers_start(tmp_path, monkeypatch):
    """The stemmer (this process) and the sentence splitter (the workers) come with one
    load of NLTK's parts, made before the workers are forked: no worker loads them again,
    and nobody runs NLTK's whole ``__init__``."""
    monkeypatch.setattr(builder, "CHUNK", 2)
    analyze = builder._Analysis.analyze

    def noting_nltk(self, batch, *titles):
        loaded = nltk_parts.modules.cache_info().currsize == 1 and "nltk" not in sys.modules
        (tmp_path / f"worker-{os.getpid()}").write_text(str(loaded))
        return analyze(self, batch, *titles)

    monkeypatch.setattr(builder._Analysis, "analyze", noting_nltk)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(6):
        (corpus / f"{i}.txt").write_text(f"Sentence {i} is here. " * 200)  # long: split into sentences
    build_index(load_documents([corpus]), tmp_path / "index", workers=2)
    noted = {p.name: p.read_text() for p in tmp_path.glob("worker-*")}
    assert len(noted) == 2 and set(noted.values()) == {"True"}


def test_no_term_has_df_0_when_a_duplicate_had_words_of_its_own(tmp_path, monkeypatch):
    monkeypatch.setattr(builder, "CHUNK", 3)
    corpus = _corpus(tmp_path / "corpus")
    build_index(load_documents([corpus]), tmp_path / "index", workers=2)
    terms = _rows(tmp_path / "index", "terms")
    assert [t for _, t, _ in terms if t in ("zebra", "quagga", "okapi")] == []
    assert all(df > 0 for _, _, df in terms)
    assert [i for i, _, _ in terms] == list(range(len(terms)))
    indptr = np.load(data_dir(tmp_path / "index") / "postings_indptr.npy")
    assert np.diff(indptr).tolist() == [df for _, _, df in terms]
    used = {term for _, term in _rows(tmp_path / "index", "forms")}
    assert used <= {-1, *range(len(terms))}


def test_first_id_wins_and_each_later_one_is_a_warning():
    report = LoadReport()
    ids = FirstIdWins(report)
    admitted = [ids.admit(i, f"file{n}") for n, i in enumerate(["a", "b", "a", "c", "b", "a"])]
    assert admitted == [True, True, False, True, False, False]
    assert report.documents == 3
    assert report.duplicates == ["a (file2)", "b (file4)", "a (file5)"]
    assert report.warnings() == ["skipped 3 document(s) whose id was already taken: a (file2), b (file4), a (file5)"]


@pytest.mark.parametrize("workers", [1, 2])
def test_documents_given_as_a_plain_iterable_are_indexed_as_they_come(tmp_path, workers):
    docs = list(load_documents([_corpus(tmp_path / "corpus")]))
    summary = build_index(iter(docs), tmp_path / "index", workers=workers)
    assert (summary.sources, summary.passages) == (len(docs), len(docs))
    assert [row[1] for row in _rows(tmp_path / "index", "sources")] == [d.id for d in docs]


def test_a_repeated_id_in_a_plain_iterable_is_a_clear_error_and_leaves_no_index(tmp_path):
    from citesearch.corpus import Document
    from citesearch.errors import CitesearchError
    from citesearch.indexer.builder import build_index

    docs = [Document("a", "a.txt", "First", "First text about lava."), Document("a", "b.txt", "Second", "Other text.")]
    with pytest.raises(CitesearchError, match="b.txt: document id 'a' was already taken"):
        build_index(docs, tmp_path / "index", workers=1)
    assert not (tmp_path / "index").exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no temporary folder left behind


def test_nltks_parts_loaded_light_stem_and_split_as_nltk_does():
    """The stand-in packages load the very classes: a fresh process that imports NLTK the
    ordinary way stems and splits the same, and ``import nltk`` afterwards is the real one."""
    import subprocess

    script = (
        "import json, sys\n"
        "from citesearch import nltk_parts\n"
        "words = ['running', 'generously', 'caresses', 'ponies', 'relational', 'hopefully', 'Knightly']\n"
        "text = 'Dr. Smith arrived at 5 p.m. on Jan. 3. He left. U.S. policy changed!'\n"
        "p = nltk_parts.punkt().PunktSentenceTokenizer()\n"
        "light = [nltk_parts.snowball().SnowballStemmer('english').stem(w) for w in words], "
        "[nltk_parts.porter().PorterStemmer().stem(w) for w in words], list(p.span_tokenize(text))\n"
        "assert 'nltk' not in sys.modules\n"
        "import nltk\n"
        "assert hasattr(nltk, 'word_tokenize')\n"
        "from nltk.stem.snowball import SnowballStemmer\n"
        "from nltk.stem.porter import PorterStemmer\n"
        "from nltk.tokenize.punkt import PunktSentenceTokenizer\n"
        "full = [SnowballStemmer('english').stem(w) for w in words], [PorterStemmer().stem(w) for w in words], "
        "list(PunktSentenceTokenizer().span_tokenize(text))\n"
        "print(json.dumps([light, full]))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    light, full = json.loads(out)
    assert light == full and light[0][0] == "run"


needs_counting = pytest.mark.skipif(builder._counting is None, reason="the compiled counting is not built")


def _count_with_scipy(tokens, lengths, n_terms, monkeypatch):
    with monkeypatch.context() as m:
        m.setattr(builder, "_counting", None)
        return builder._count_postings(tokens, lengths, n_terms)


@needs_counting
@settings(max_examples=200, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 12), max_size=30),
    n_terms=st.integers(1, 15),
    data=st.data(),
)
def test_the_compiled_counting_makes_scipys_matrix(lengths, n_terms, data):
    """The same postings, frequencies and pointers as scipy's COO → CSR conversion, for
    any tokens (terms repeated within a passage, empty passages, unused terms)."""
    tokens = data.draw(st.lists(st.integers(0, n_terms - 1), min_size=sum(lengths), max_size=sum(lengths)))
    cuts = sorted(data.draw(st.lists(st.integers(0, len(tokens)), max_size=4)))  # batches, cut anywhere
    parts = np.split(np.array(tokens, dtype=np.int32), cuts)
    lengths = np.array(lengths, dtype=np.int32)
    got = builder._count_postings(parts, lengths, n_terms)
    with pytest.MonkeyPatch.context() as m:
        want = _count_with_scipy([np.concatenate(parts)], lengths, n_terms, m)
    assert got.indptr.dtype == np.int64 and got.passages.dtype == np.int32
    for a, b in zip(got, want):
        assert np.array_equal(a, b)


@needs_counting
def test_the_compiled_counting_keeps_frequencies_above_255(monkeypatch):
    tokens = [np.array([1] * 300 + [0, 1], dtype=np.int32)]
    got = builder._count_postings(tokens, np.array([300, 2], dtype=np.int32), 2)
    assert got.tf.tolist() == [1, 300, 1] and got.passages.tolist() == [1, 0, 1] and got.indptr.tolist() == [0, 1, 3]
    assert np.array_equal(got.tf, _count_with_scipy(tokens, np.array([300, 2], dtype=np.int32), 2, monkeypatch).tf)


@needs_counting
@pytest.mark.parametrize(
    "tokens,lengths",
    [([0, 5], [2]), ([0, -1], [2]), ([0, 1], [1]), ([0, 1], [3]), ([0, 1], [3, -1])],
    ids=["id", "negative", "short", "long", "negative-length"],
)
def test_the_compiled_counting_refuses_what_is_not_a_build_s_tokens(tokens, lengths):
    with pytest.raises(ValueError):
        builder._count_postings([np.array(tokens, dtype=np.int32)], np.array(lengths, dtype=np.int32), 2)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 12), min_size=1, max_size=30),  # postings a term
    st.integers(1, 40),  # passages
    st.sampled_from([np.uint8, np.uint16, np.int32]),
    st.integers(0, 2**31 - 1),
)
def test_the_compiled_weighing_gives_numpys_bits(df, n_passages, tf_type, seed):
    """BM25 (Okapi) and In_expC2 weights from the compiled weighing, bit for bit those
    numpy makes (bm25.weights, dfr.weights), for any frequencies and lengths."""
    weighing = pytest.importorskip("citesearch.indexer._weighing")
    from citesearch.indexer import bm25, dfr
    from citesearch.indexer.bm25 import BM25Params
    from citesearch.indexer.dfr import DFRParams

    rng = np.random.default_rng(seed)
    indptr = np.concatenate([[0], np.cumsum(np.minimum(df, n_passages))]).astype(np.int64)
    passages = np.concatenate([np.sort(rng.choice(n_passages, d, replace=False)) for d in np.diff(indptr)])
    passages = passages.astype(np.int32)
    tf = rng.integers(1, 300 if tf_type != np.uint8 else 256, len(passages)).astype(tf_type)
    lengths = rng.integers(1, 500, n_passages).astype(np.float64)
    terms = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    params = BM25Params("okapi", float(rng.uniform(0.2, 2.0)), float(rng.uniform(0, 1)))
    parts = bm25.length_parts(params, lengths / lengths.mean())
    idf = rng.uniform(0.01, 12, len(indptr) - 1)
    expected = np.empty(len(tf), dtype=np.float32)
    expected[:] = bm25.weights(params, tf, parts[passages], idf[terms])
    got = np.empty(len(tf), dtype=np.float32)
    weighing.okapi(indptr, passages, tf, parts, idf, params.k1 + 1, got)
    assert got.tobytes() == expected.tobytes()
    norms = dfr.length_norms(DFRParams("in_expc2", float(rng.uniform(0.5, 8))), lengths / lengths.mean())
    factor = rng.uniform(0.01, 30, len(indptr) - 1)
    expected[:] = dfr.weights(tf, norms[passages], factor[terms])
    weighing.in_expc2(indptr, passages, tf, norms, factor, got)
    assert got.tobytes() == expected.tobytes()


def test_the_compiled_weighing_refuses_arrays_that_do_not_agree():
    weighing = pytest.importorskip("citesearch.indexer._weighing")
    indptr, passages = np.array([0, 2], dtype=np.int64), np.array([0, 1], dtype=np.int32)
    tf, per_passage, per_term = np.ones(2, dtype=np.uint8), np.ones(2), np.ones(1)
    out = np.empty(2, dtype=np.float32)
    weighing.in_expc2(indptr, passages, tf, per_passage, per_term, out)
    for bad in (
        (indptr, np.array([0, 2], dtype=np.int32), tf, per_passage, per_term, out),  # a passage past the lengths
        (np.array([0, 3], dtype=np.int64), passages, tf, per_passage, per_term, out),  # indptr past the postings
        (indptr, passages, tf, per_passage, per_term, np.empty(1, dtype=np.float32)),  # no room for the weights
        (indptr, passages, np.ones(2, dtype=np.int64), per_passage, per_term, out),  # tf of 8 bytes
        (indptr, passages, tf, per_passage, np.ones(0), out),  # no value for the term
    ):
        with pytest.raises(ValueError):
            weighing.in_expc2(*bad)
        with pytest.raises(ValueError):
            weighing.okapi(*bad[:5], 1.9, bad[5])


def test_the_compiled_weighing_refuses_arrays_of_other_types():
    weighing = pytest.importorskip("citesearch.indexer._weighing")
    out = np.empty(2, dtype=np.float32)
    with pytest.raises(ValueError):  # indptr of int32, as scipy makes it
        weighing.in_expc2(np.array([0, 2], dtype=np.int32), np.array([0, 1], dtype=np.int32), np.ones(2, np.uint8),
                          np.ones(2), np.ones(1), out)
    with pytest.raises(ValueError):  # a tf part for only some of a byte's values
        weighing.tfidf(np.array([0, 2], dtype=np.int64), np.array([0, 1], dtype=np.int32), np.ones(2, np.uint8),
                       np.ones(16), np.ones(1), np.zeros(2), out)
