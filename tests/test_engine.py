"""Corpus loading, passages, the on-disk index and searching, through the library."""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter

import numpy as np
import pytest
from conftest import SHARED, as_format, data_dir, needs_shared
from hypothesis import given, settings
from hypothesis import strategies as st

from citesearch.corpus import Document, LoadReport, discover, load_documents, read_documents, split_passages
from citesearch.corpus.formats import read_html, read_markdown, read_rst
from citesearch.errors import CorpusError, IndexNotFound, IndexVersionError, NoInputError, QuerySyntaxError
from citesearch.indexer import builder
from citesearch.indexer.analysis import AnalyzerConfig, Tokenizer
from citesearch.indexer.builder import IndexSettings, build_index
from citesearch.indexer.manifest import FORMAT_VERSION
from citesearch.search.citations import number_sources
from citesearch.search.fusion import linear, rrf
from citesearch.search.query import parse_query
from citesearch.search.searcher import Index
from citesearch.search.snippets import make_snippet

# -- formats -------------------------------------------------------------------


def test_html_drops_scripts_styles_and_navigation_and_keeps_paragraphs():
    title, text = read_html(
        "<html><head><title>T &amp; U</title><style>p{}</style></head><body><nav>Home | About</nav>"
        "<div role='navigation'>Menu</div><h1>Head</h1><p>First para.</p>"
        "<script>var x=1;</script><p>Second</p></body></html>"
    )
    assert title == "T & U"
    assert text == "Head\n\nFirst para.\n\nSecond"


def test_html_title_falls_back_to_first_h1():
    assert read_html("<body><h1>Main  title</h1><p>x</p></body>")[0] == "Main title"


@pytest.mark.parametrize(
    "text,title",
    [
        ("# Hello\n\nbody", "Hello"),
        ("intro\n\n## Sub heading ##\n", "Sub heading"),
        ("Setext\n======\n\nx", "Setext"),
        ("no heading\nat all", "no heading"),
    ],
)
def test_markdown_titles(text, title):
    assert read_markdown(text) == (title, text)


def test_rst_title_with_overline():
    assert read_rst("=====\nTitle\n=====\n\nBody")[0] == "Title"


# -- loading and bad input -------------------------------------------------------------


def test_directory_walk_ids_formats_and_gzip(tiny_corpus):
    docs = {d.id: d for d in load_documents([tiny_corpus])}
    assert set(docs) == {"alpha.txt", "notes/beta.md", "gamma.html", "d1", "d2"}
    assert docs["alpha.txt"].title == "Volcanoes of Iceland"
    assert docs["notes/beta.md"].title == "Glaciers and climate"
    assert docs["gamma.html"].title == "Geysers" and "tracking" not in docs["gamma.html"].text
    assert docs["d1"].text.startswith("Plate tectonics\n\n") and docs["d1"].metadata == {"year": 1965}
    assert docs["d1"].path.endswith("collection.jsonl.gz")


def test_include_exclude_hidden_and_outside_links(tiny_corpus, tmp_path):
    (tiny_corpus / ".hidden.txt").write_text("secret")
    (tiny_corpus / ".git").mkdir()
    (tiny_corpus / ".git" / "x.md").write_text("# x")
    outside = tmp_path / "outside.txt"
    outside.write_text("outside text")
    (tiny_corpus / "link.txt").symlink_to(outside)
    report = LoadReport()
    ids = [f.doc_id for f in discover([tiny_corpus], report=report)]
    assert ".hidden.txt" not in ids and ".git/x.md" not in ids and "link.txt" not in ids
    assert any("link.txt" in p for p in report.outside_links)
    assert [f.doc_id for f in discover([tiny_corpus], include=["*.md"])] == ["notes/beta.md"]
    assert "notes/beta.md" not in [f.doc_id for f in discover([tiny_corpus], exclude=["notes/*"])]


def test_bad_inputs_are_reported_and_the_rest_is_read(tmp_path):
    (tmp_path / "bin.txt").write_bytes(b"\x00\x01\x02 binary")
    (tmp_path / "empty.md").write_text("")
    (tmp_path / "latin1.txt").write_bytes("caf\xe9 au lait\n\nmore".encode("latin-1"))
    (tmp_path / "c.jsonl").write_text(
        '{"_id": "a", "text": "alpha"}\n{broken\n{"_id": "b", "text": "beta"}\n{"text": "no id"}\n'
    )
    (tmp_path / "bad.md.gz").write_bytes(b"not gzip at all")
    report = LoadReport()
    docs = {d.id: d for d in load_documents([tmp_path], report=report)}
    assert set(docs) == {"latin1.txt", "a", "b"}
    assert "caf\ufffd au lait" in docs["latin1.txt"].text
    assert report.binary == [f"{tmp_path.as_posix()}/bin.txt"]
    assert report.empty == [f"{tmp_path.as_posix()}/empty.md"]
    assert list(report.invalid_utf8.values()) == [1]
    joined = "\n".join(report.errors)
    assert "c.jsonl:2: malformed JSON" in joined and "c.jsonl:4:" in joined and "bad.md.gz: cannot read" in joined
    assert len(report.warnings()) == 3


def test_strict_raises_with_file_and_line(tmp_path):
    (tmp_path / "c.jsonl").write_text('{"_id": "a", "text": "alpha"}\nnot json\n')
    with pytest.raises(CorpusError) as err:
        list(load_documents([tmp_path], report=LoadReport(strict=True)))
    assert err.value.line == 2 and err.value.path.endswith("c.jsonl")


def test_nothing_readable_raises(tmp_path):
    (tmp_path / "bin.txt").write_bytes(b"\x00\x00")
    with pytest.raises(NoInputError):
        list(load_documents([tmp_path]))


def test_documents_of_only_stop_words_are_refused_and_the_previous_index_kept(built_index, tmp_path):
    (tmp_path / "a.txt").write_text("The and of a, I.")
    before = (built_index / "manifest.json").read_text()
    with pytest.raises(NoInputError, match="no words to index"):
        build_index(load_documents([tmp_path / "a.txt"]), built_index)
    assert (built_index / "manifest.json").read_text() == before


def test_duplicate_ids_are_skipped(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"_id": "x", "text": "one"}\n{"_id": "x", "text": "two"}\n')
    report = LoadReport()
    assert [d.text for d in load_documents([tmp_path], report=report)] == ["one"]
    assert report.duplicates == ["x (" + (tmp_path / "a.jsonl").as_posix() + ")"]


def _store(index, table):
    db = sqlite3.connect(data_dir(index) / "store.sqlite")
    try:
        return db.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
    finally:
        db.close()


@pytest.mark.parametrize("workers", [1, 2])
def test_jsonl_parsed_by_the_workers_builds_what_documents_build(tmp_path, monkeypatch, workers):
    """``build_index(read_documents(...))`` parses JSONL lines in its workers; the index,
    and the report, are those of building from the documents read beforehand."""
    monkeypatch.setattr(builder, "CHUNK", 7)  # batches end mid-file, mid-duplicates
    lines = [json.dumps({"_id": f"r{i}", "title": "T" if i % 3 else "", "text": f"alpha{i % 5} beta text {i}",
                         "metadata": {"n": i} if i % 4 == 0 else "not a dict"}) for i in range(40)]
    lines[5] = "{broken"
    lines[9] = '{"_id": "r1", "text": "alpha1 beta"}'  # a duplicate id, in another batch; its words are known
    lines[12] = ""
    lines[20] = '{"text": "no id"}'
    raw = "\n".join(lines).encode() + b'\n{"_id": "bad", "text": "caf\xe9 alpha2"}\n'
    (tmp_path / "c.jsonl").write_bytes(raw)
    (tmp_path / "notes.md").write_text("# Notes\n\nalpha3 and beta in a markdown file.")
    reports = {}
    for name in ("documents", "workers"):
        report = reports[name] = LoadReport()
        docs = read_documents(discover([tmp_path], report=report), report)
        build_index(list(docs) if name == "documents" else docs, tmp_path / name, workers=workers)
    assert reports["workers"] == reports["documents"]
    assert reports["workers"].documents == 38 and len(reports["workers"].errors) == 2
    assert reports["workers"].duplicates == ["r1 (" + (tmp_path / "c.jsonl").as_posix() + ")"]
    for path in data_dir(tmp_path / "documents").glob("*.npy"):
        assert np.array_equal(np.load(path), np.load(data_dir(tmp_path / "workers") / path.name)), path.name
    for table in ("sources", "terms", "forms"):  # (the passages' offsets are arrays)
        assert _store(tmp_path / "workers", table) == _store(tmp_path / "documents", table), table


def test_a_duplicate_parsed_by_a_worker_leaves_nothing_searchable(tmp_path, monkeypatch):
    monkeypatch.setattr(builder, "CHUNK", 2)
    rows = [
        {"_id": "a", "text": "common one"},
        {"_id": "b", "text": "common two"},
        {"_id": "a", "text": "zebra only here"},
    ]
    (tmp_path / "c.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = LoadReport()
    summary = build_index(load_documents([tmp_path], report=report), tmp_path / "index", workers=2)
    assert (summary.sources, summary.passages) == (2, 2) and len(report.duplicates) == 1
    with Index.open(tmp_path / "index") as index:
        assert sorted(r.source.id for r in index.search("common", k=5).results) == ["a", "b"]
        assert index.reader.term_ids(["zebra", "common"]) == {"common": 0}  # the duplicate's words are left out
        for method in ("bm25", "tfidf", "hybrid"):
            assert (
                index.search("zebra common", k=5, method=method).results
                == index.search("common", k=5, method=method).results
            )


def test_strict_stops_a_build_at_a_line_a_worker_parsed_and_keeps_the_index(built_index, tmp_path):
    (tmp_path / "c.jsonl").write_text('{"_id": "a", "text": "alpha"}\nnot json\n')
    before = (built_index / "manifest.json").read_text()
    with pytest.raises(CorpusError) as err:
        build_index(load_documents([tmp_path], report=LoadReport(strict=True)), built_index, workers=2)
    assert err.value.line == 2 and err.value.path.endswith("c.jsonl")
    assert (built_index / "manifest.json").read_text() == before


def test_nothing_readable_in_a_build_raises_the_readers_error(tmp_path):
    (tmp_path / "c.jsonl").write_text("{broken\n")
    with pytest.raises(NoInputError, match="no readable documents.*malformed JSON"):
        build_index(load_documents([tmp_path]), tmp_path / "index", workers=2)


def test_a_stemmer_that_fails_to_load_fails_the_build_once(tmp_path, monkeypatch, capsys):
    """The stemmer loads before anything is read; its error comes out of build_index,
    once, and the target is left alone."""
    from citesearch.indexer import analysis

    def broken(name):
        raise RuntimeError("no stemmer here")

    monkeypatch.setattr(analysis, "make_stemmer", broken)
    (tmp_path / "c.jsonl").write_text('{"_id": "a", "text": "some words"}\n')
    with pytest.raises(RuntimeError, match="no stemmer here"):
        build_index(load_documents([tmp_path]), tmp_path / "index", workers=2)
    assert "Traceback" not in capsys.readouterr().err
    assert not (tmp_path / "index").exists()


def test_the_stop_word_list_is_scikit_learns():
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    from citesearch.indexer.stopwords import ENGLISH

    assert ENGLISH == ENGLISH_STOP_WORDS


# -- passages -------------------------------------------------------------------------


def check_offsets(doc: Document, words: int, overlap: int = 0) -> None:
    passages = split_passages(doc, words, overlap)
    assert [p.ordinal for p in passages] == list(range(len(passages)))
    for p in passages:
        piece = doc.text[p.start : p.end]
        assert piece and piece == piece.strip()
        assert p.id == f"{doc.id}#{p.ordinal}"
    if overlap == 0 and passages:
        # Without overlap, the passages cover every word once, in order.
        assert [w for p in passages for w in doc.text[p.start : p.end].split()] == doc.text.split()
        assert all(a.end <= b.start for a, b in zip(passages, passages[1:]))


_words = st.lists(
    st.sampled_from(["alpha", "beta.", "Dr.", "e.g.", "gamma!", "Ωmega", "x?", "\n\n", "  ", "end."]), max_size=400
)


@settings(max_examples=150, deadline=None)
@given(_words, st.sampled_from([5, 20, 200]), st.sampled_from([0, 1, 2]))
def test_passage_offsets_property(words, size, overlap):
    check_offsets(Document("d", "d", "", " ".join(words)), size, overlap)


@needs_shared
def test_passage_offsets_on_the_real_corpora():
    paths = sorted((SHARED / "corpus" / "immunotherapy").iterdir())
    for doc in load_documents(paths):
        for size in (50, 200):
            check_offsets(doc, size)
            check_offsets(doc, size, overlap=1)
    for name in ("cisi", "cacm"):
        for doc in load_documents([SHARED / "collections" / name / "corpus.jsonl"]):
            check_offsets(doc, 40)


def test_short_document_is_one_passage_and_long_ones_are_balanced():
    short = Document("s", "s", "", "One sentence. Another one.")
    assert [(p.start, p.end) for p in split_passages(short, 200)] == [(0, len(short.text))]
    long_text = " ".join(f"Sentence number {i} is here." for i in range(100))  # 500 words
    sizes = [len(long_text[p.start : p.end].split()) for p in split_passages(Document("l", "l", "", long_text), 120)]
    assert len(sizes) == 4 and max(sizes) - min(sizes) <= 10


def test_abbreviations_do_not_end_sentences():
    text = "Dr. Smith met e.g. Prof. Jones. " * 40
    passages = split_passages(Document("a", "a", "", text), 30)
    assert all(not text[p.start : p.end].startswith(("Smith", "Jones")) for p in passages)


# -- analysis ---------------------------------------------------------------------------

WORDS = st.sampled_from(["cold", "brew", "Brewing", "café", "CAFE", "brew_2", "x", "ßtraße", "42", "brews"])


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(WORDS, max_size=30),
    seps=st.lists(st.sampled_from([" ", "-", ".", "\n", "_", "", "é"]), min_size=30, max_size=30),
    wanted=st.sets(st.sampled_from(["cold", "brew", "brewing", "cafe", "brew_2", "brews", "42", "straße"])),
)
def test_finder_equals_filtering_every_token(words, seps, wanted):
    """The one-regex finder used for highlighting finds exactly the tokens whose form is
    wanted, as tokenizing everything and filtering does (ASCII or not)."""
    tokenizer = Tokenizer(AnalyzerConfig())
    text = "".join(w + s for w, s in zip(words, seps))
    expected = [(s, e, f) for s, e, f in tokenizer.spans(text) if f in wanted]
    assert tokenizer.finder(wanted)(text) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=80))
def test_ascii_fast_path_equals_the_token_pattern(text):
    tokenizer = Tokenizer(AnalyzerConfig())
    assert tokenizer.forms(text) == re.findall(AnalyzerConfig().token_pattern, text.lower())


# -- the index on disk --------------------------------------------------------------------


def test_manifest_and_files(built_index):
    m = json.loads((built_index / "manifest.json").read_text())
    assert m["format"] == "citesearch-index" and m["format_version"] == FORMAT_VERSION
    assert m["counts"]["sources"] == 5 and m["counts"]["passages"] >= 5
    assert "the" in m["analyzer"]["stopword_list"]
    for name in m["files"]:
        path = data_dir(built_index) / name
        assert path.is_file()
        if name.endswith(".npy"):
            np.load(path, allow_pickle=False)  # never a pickle
            assert b"pickle" not in path.read_bytes()[:128]


def test_failed_build_keeps_the_previous_index(built_index, tiny_corpus):
    def files():
        return {p.relative_to(built_index): p.read_bytes() for p in built_index.rglob("*") if p.is_file()}

    before = files()

    def documents():
        yield from load_documents([tiny_corpus])
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        build_index(documents(), built_index, workers=1)
    assert files() == before  # no generation left behind either
    assert not [p for p in built_index.parent.iterdir() if ".building-" in p.name]


def test_refuses_to_replace_a_directory_that_is_not_an_index(tiny_corpus):
    from citesearch.errors import CitesearchError

    with pytest.raises(CitesearchError, match="refusing"):
        build_index(load_documents([tiny_corpus]), tiny_corpus)


def test_unknown_format_version_and_missing_index(built_index, tmp_path):
    m = json.loads((built_index / "manifest.json").read_text())
    m["format_version"] = 99
    (built_index / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(IndexVersionError, match="99"):
        Index.open(built_index)
    with pytest.raises(IndexNotFound):
        Index.open(tmp_path / "nowhere")


def test_a_one_line_documents_title_is_stored_once_and_read_back(tmp_path):
    import sqlite3

    lines = [
        {"_id": "a", "title": "", "text": "Magma chambers feed the volcano"},  # title: the whole text
        {"_id": "b", "title": "", "text": "Glacier retreat\nmeasured over decades"},  # title: the first line
        {"_id": "c", "title": "Ice cores", "text": "Layers of glacier ice"},
    ]
    (tmp_path / "c.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    build_index(load_documents([tmp_path / "c.jsonl"]), tmp_path / "idx", workers=1)
    with sqlite3.connect(data_dir(tmp_path / "idx") / "store.sqlite") as db:
        stored = dict(db.execute("SELECT id, title FROM sources"))
    assert stored == {"a": None, "b": "Glacier retreat", "c": "Ice cores"}
    with Index.open(tmp_path / "idx") as index:
        titles = {r.source.id: r.source.title for r in index.search("magma glacier").results}
        assert titles == {"a": "Magma chambers feed the volcano", "b": "Glacier retreat", "c": "Ice cores"}
        assert [r.source.id for r in index.search("volcano title:magma").results] == ["a"]


def test_an_index_of_the_previous_format_version_is_read(built_index):
    as_format(built_index, 2)  # every title stored; the same reading works
    with Index.open(built_index) as index:
        assert index.search("iceland title:volcanoes").results


def test_passages_read_from_a_format_5_store_are_those_of_format_6(tiny_corpus, tmp_path):
    for name in ("v5", "v6"):
        build_index(load_documents([tiny_corpus]), tmp_path / name, IndexSettings(passage_words=8))
    as_format(tmp_path / "v5", 5)
    seen = []
    for name in ("v5", "v6"):
        with Index.open(tmp_path / name) as index:
            reader = index.reader
            assert (reader.manifest.format_version, "passage_start" in reader.arrays) == (int(name[1]), name == "v6")
            rows = list(range(reader.n_passages))
            sources = index.sources()
            assert sum(s.passages for s in sources) == len(rows) and max(s.passages for s in sources) > 1
            seen.append((
                index.search("iceland volcanoes", k=5).to_dict(),
                reader.passage_ids(rows), reader.passage_texts(rows), reader.passage_arrays(),
                sources, [index.lookup(s.id) for s in sources], index.lookup(reader.passage_ids([3])[3]),
            ))
    v5, v6 = seen
    assert v5[:3] == v6[:3] and v5[4:] == v6[4:]
    assert all(np.array_equal(x, y) for x, y in zip(v5[3], v6[3]))


def test_verify_detects_a_changed_file(built_index):
    from citesearch.indexer.storage import IndexReader

    assert IndexReader(built_index).verify() == []
    with open(data_dir(built_index) / "passage_length.npy", "r+b") as f:
        f.seek(-1, 2)
        f.write(b"\x7f")
    assert IndexReader(built_index).verify() == ["passage_length.npy"]


def test_parallel_and_serial_builds_are_identical(tiny_corpus, tmp_path):
    docs = [Document(f"d{i}", "p", "", f"word{i % 7} common text number {i}. " * (1 + i % 5)) for i in range(5000)]
    build_index(docs, tmp_path / "one", workers=1)
    build_index(docs, tmp_path / "two", workers=2)
    names = ("postings_indptr", "postings_passages", "bm25_weights", "tfidf_weights", "dfr_weights", "passage_length")
    for name in names:
        one, two = data_dir(tmp_path / "one"), data_dir(tmp_path / "two")
        assert np.array_equal(np.load(one / f"{name}.npy"), np.load(two / f"{name}.npy"))


# -- searching ---------------------------------------------------------------------------


@pytest.fixture
def index(built_index):
    with Index.open(built_index) as idx:
        yield idx


def test_json_schema_and_offsets(index, tiny_corpus):
    found = index.search("iceland volcanoes", k=5).to_dict()
    assert set(found) == {"query", "method", "results", "sources"}
    texts = {d.id: d.text for d in load_documents([tiny_corpus])}
    for r in found["results"]:
        assert set(r) == {"rank", "score", "citation", "passage", "source", "snippet"}
        assert set(r["passage"]) == {"id", "doc_id", "ordinal", "start", "end", "text"}
        assert set(r["source"]) == {"id", "path", "title"}
        assert texts[r["passage"]["doc_id"]][r["passage"]["start"] : r["passage"]["end"]] == r["passage"]["text"]
    for s in found["sources"]:
        assert set(s) == {"citation", "id", "path", "title", "hits"}
    assert [s["citation"] for s in found["sources"]] == list(range(1, len(found["sources"]) + 1))
    assert sum(s["hits"] for s in found["sources"]) == len(found["results"])


@pytest.mark.parametrize("method", ["bm25", "tfidf", "hybrid"])
def test_methods_find_the_obvious_document(index, method):
    assert index.search("geysir geyser boils", method=method).results[0].source.id == "gamma.html"


def test_query_syntax(index):
    assert {r.source.id for r in index.search("iceland source:*.md").results} == {"notes/beta.md"}
    assert "gamma.html" not in {r.source.id for r in index.search("iceland -geyser").results}
    assert {r.source.id for r in index.search('"air traffic"').results} == {"alpha.txt"}
    assert index.search('"traffic air"').results == []
    assert {r.source.id for r in index.search("iceland title:glaciers").results} == {"notes/beta.md"}
    assert index.search("zebra").results == []


def test_unseen_inflection_matches_through_the_query_stemmer(index):
    # The corpus has "erupt", "erupts" and "eruption" but never "erupting".
    assert index.search("erupting").results


@pytest.mark.parametrize("query", ["the of and", "", "source:*.md"])
def test_queries_without_terms_raise(index, query):
    with pytest.raises(QuerySyntaxError):
        index.search(query)


def test_per_source_cap_and_explain(index):
    found = index.search("iceland", k=10, per_source=1)
    assert len({r.source.id for r in found.results}) == len(found.results)
    r = index.search("iceland glacier", k=1, method="bm25", explain=True).results[0]
    assert sum(c.score for c in r.explanation.parts[0].terms) == pytest.approx(r.score, abs=1e-5)


def test_rank_documents_scores_a_source_by_its_best_passage(index):
    ranked = index.rank_documents("iceland", k=10)
    assert len({d for d, _ in ranked}) == len(ranked)
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)


def test_parse_query_parts():
    q = parse_query('tumor "immune checkpoint" -mouse -"side effect" source:*.md title:review foo:bar "open')
    assert q.terms == ("tumor", "foo:bar")
    assert q.phrases == ("immune checkpoint", "open")
    assert q.excluded == ("mouse", "side effect")
    assert (q.sources, q.titles) == (("*.md",), ("review",))


def test_fusion_formulas():
    # Scores of candidate rows 1, 2, 3 under two methods (row 2 unscored by the second).
    rows = np.array([1, 2, 3])
    a = np.array([3.0, 2.0, 1.0])
    b = np.array([0.1, 0.0, 0.9])
    fused = rrf([a, b], rows)
    assert fused[0] == pytest.approx(1 / (60 + 1) + 1 / (60 + 2))
    assert fused[1] == pytest.approx(1 / (60 + 2))
    assert fused[2] == pytest.approx(1 / (60 + 3) + 1 / (60 + 1))
    assert rrf([a, b], rows, depth=1)[2] == pytest.approx(1 / (60 + 1))  # cut at depth 1
    lin = linear([a, b], rows, weight=0.5)
    assert lin[2] == pytest.approx(0.5 * 1 / 3 + 0.5 * 0.9 / 0.9)


def test_citations_in_first_appearance_order():
    from citesearch.search.results import SourceRef

    a, b = SourceRef("a", "a", "A"), SourceRef("b", "b", "B")
    numbers, cited = number_sources([b, b, a, b])
    assert numbers == [1, 1, 2, 1] and [(c.citation, c.source.id, c.hits) for c in cited] == [(1, "b", 3), (2, "a", 1)]


def test_snippet_highlights_point_at_matches():
    text = "x " * 300 + "the tuberculosis case " + "y " * 300
    start = text.index("tuberculosis")
    snippet, spans = make_snippet(text, [(start, start + 12, 0)], size=100)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert [snippet[s:e] for s, e in spans] == ["tuberculosis"]


@given(st.lists(st.integers(0, 5), max_size=40))
def test_place_in_source_counts_earlier_entries_of_the_same_source(sources):
    from citesearch.search.ranking import _place_in_source

    seen: Counter[int] = Counter()
    expected = []
    for s in sources:
        expected.append(seen[s])
        seen[s] += 1
    assert _place_in_source(np.array(sources, dtype=np.int32)).tolist() == expected
