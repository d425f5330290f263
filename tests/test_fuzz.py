"""Fuzzing every parser a user feeds (issue 14): query syntax, query files (text, TSV,
JSONL, TREC topics SGML and XML), qrels, run files, JSONL collections and the HTML,
Markdown, reST and text readers.

Whatever the input, each either returns or raises citesearch's own error
(:class:`CitesearchError`, which the command line shows as one line): never anything
else, which would be a traceback. Inputs are built from each format's own pieces
(tags, separators, JSON tokens) mixed with arbitrary text and bytes, so that they reach
deep into the parsers. Example counts are kept small (the suite stays fast); the
``FUZZ_EXAMPLES`` environment variable multiplies them for a longer hunt.
"""

from __future__ import annotations

import gzip
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citesearch.errors import CitesearchError

SCALE = float(os.environ.get("FUZZ_EXAMPLES", "1"))


def fuzz(n: int):
    return settings(
        max_examples=max(1, int(n * SCALE)),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


def _mixed(pieces: list[str], alphabet: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[str]:
    """Text made of a format's pieces and arbitrary characters, in any order."""
    free = st.text(alphabet=alphabet, max_size=8) if alphabet is not None else st.text(max_size=8)
    return st.lists(st.one_of(st.sampled_from(pieces), free), max_size=40).map("".join)


def _as_bytes(text: st.SearchStrategy[str]) -> st.SearchStrategy[bytes]:
    """UTF-8 of the text, sometimes with a BOM, raw bytes spliced in, or gzipped."""
    raw = st.binary(max_size=16)
    return st.tuples(text, raw, st.integers(0, 4)).map(_spoil)


def _spoil(args: tuple[str, bytes, int]) -> bytes:
    text, raw, how = args
    data = text.encode("utf-8", "surrogatepass")
    if how == 1:
        data = b"\xef\xbb\xbf" + data
    elif how == 2:
        middle = len(data) // 2
        data = data[:middle] + raw + data[middle:]
    elif how == 3:
        data = gzip.compress(data)
    elif how == 4:
        data = gzip.compress(data)[: max(1, len(raw))]  # a broken gzip stream
    return data


def _file(data: bytes, name: str) -> Path:
    d = Path(tempfile.mkdtemp(prefix="fuzz-"))
    path = d / name
    path.write_bytes(data)
    return path


def _remove(path: Path) -> None:
    for p in path.parent.iterdir():
        p.unlink()
    path.parent.rmdir()


# -- query syntax ------------------------------------------------------------------------------

QUERY_PIECES = ['"', "-", "*", ":", "source:", "title:", "field:", " ", "-\"", "a*", "*.md", "\t", "\n", "é"]


@fuzz(300)
@given(_mixed(QUERY_PIECES))
def test_query_syntax_parses_or_says_why(text):
    from citesearch.search.query import parse_query

    try:
        q = parse_query(text)
    except CitesearchError:
        return
    assert all(isinstance(t, str) and t for t in q.terms + q.phrases + q.excluded + q.prefixes)


@pytest.fixture(scope="module")
def fuzz_index(tmp_path_factory):
    from citesearch.corpus import load_documents
    from citesearch.indexer.builder import build_index

    from .conftest import write_tiny_corpus

    root = tmp_path_factory.mktemp("fuzz")
    out = root / "index"
    build_index(load_documents([write_tiny_corpus(root / "corpus")]), out)
    from citesearch.search.searcher import Index

    with Index.open(out) as index:
        yield index


@fuzz(60)
@given(_mixed([*QUERY_PIECES, "iceland", "volcano", "glacier", "gey", "ice*", "source:*.md", "title:geysers"]))
def test_a_search_with_any_query_answers_or_says_why(fuzz_index, text):
    from citesearch.search.options import SearchOptions

    for method in ("bm25", "hybrid"):
        try:
            fuzz_index.search(text, k=3, options=SearchOptions(method=method))
        except CitesearchError:
            pass


# -- query files -------------------------------------------------------------------------------

QUERY_FILE_PIECES = [
    "\n", "\t", "\r\n", "1", "q1", "qid\tquery\n", "id", "query",
    '{"_id": ', '"q1"', "1", "null", '"', ', "text": ', '"volcano"', "}", "[", "]", "{", "NaN", '""', "1e999",
    "<top>", "</top>", "<num>", " Number: ", "<title>", "</title>", "<desc>", " Description:", "<narr>",
    "<topics>", "</topics>", '<topic number="1">', "<topic number='", "<topic>", "</topic>", "<topic/>",
    "<query>", "</query>", "<question>", "</question>", "<narrative>", "</narrative>", "<subtopic>",
    "<![CDATA[", "]]>", "&amp;", "&#x41;", "&bogus;", "<",
]


@fuzz(150)
@given(
    _as_bytes(_mixed(QUERY_FILE_PIECES)),
    st.sampled_from(["q.txt", "q.tsv", "q.jsonl", "q.trec", "q.xml", "q.topics", "queries", "q.tsv.gz"]),
    st.sampled_from([None, "text", "tsv", "jsonl", "trec"]),
    st.sampled_from(["title", "desc", "narr", "all"]),
    st.booleans(),
)
def test_query_files_read_or_say_why(data, name, fmt, field, strict):
    from citesearch.search.queryfiles import read_queries

    path = _file(data, name)
    try:
        qf = read_queries(path, fmt, field, strict)
    except CitesearchError:
        return
    finally:
        _remove(path)
    assert qf.queries
    for qid, query in qf.queries:
        # Each query can be a line of a run file that evaluate reads back.
        assert qid.strip() and query.strip(), (qid, query)


# -- qrels and runs ----------------------------------------------------------------------------

QRELS_PIECES = [
    "\n", " ", "\t", "1", "0", "q1", "d1", "2.0", "-1", "inf", "nan", "1e3", "2.5", "x",
    "query-id\tcorpus-id\tscore\n", "1 0 d1 1\n", "q\td\t1\n", "\r\n", "\ufeff",
]
RUN_PIECES = ["\n", " ", "Q0", "1", "q1", "d1", "%20", "%", "3.5", "nan", "inf", "-inf", "1e400", "tag", "\ufeff",
              "1 Q0 d1 1 2.5 run\n"]


@fuzz(150)
@given(_as_bytes(_mixed(QRELS_PIECES)), st.sampled_from(["qrels.txt", "qrels.tsv", "qrels.txt.gz"]))
def test_qrels_read_or_say_why(data, name):
    from citesearch.evaluation import read_qrels

    path = _file(data, name)
    try:
        qrels = read_qrels(path)
    except CitesearchError:
        return
    finally:
        _remove(path)
    assert qrels and all(isinstance(g, int) for judged in qrels.values() for g in judged.values())


@fuzz(150)
@given(_as_bytes(_mixed(RUN_PIECES)), st.sampled_from(["run.trec", "run.trec.gz"]))
def test_runs_read_or_say_why_and_evaluate(data, name):
    from citesearch.evaluation import evaluate, parse_measure, read_run

    path = _file(data, name)
    try:
        run, tag = read_run(path)
    except CitesearchError:
        return
    finally:
        _remove(path)
    assert tag and all(s == s for scores in run.values() for s in scores.values())  # no NaN
    qrels = {q: {d: 1 for d in list(docs)[:1]} for q, docs in run.items()}
    evaluate(run, qrels, [parse_measure(m) for m in ("nDCG@10", "AP", "RR", "Bpref")])


# -- JSONL collections -------------------------------------------------------------------------

JSONL_PIECES = [
    "\n", "{", "}", "[", "]", ",", ":", '"_id"', '"title"', '"text"', '"metadata"', '"a"', '""', '" "', "1",
    "-0", "1.5", "1e999", "NaN", "Infinity", "null", "true", '"\\ud800"', '"\\udc00x"', '"\\u0000"', "\x00",
    '{"_id": "d", "text": "volcano words"}\n', '{"_id": ', ', "text": ', "\u2028", "\ufeff",
]


@fuzz(150)
@given(_as_bytes(_mixed(JSONL_PIECES)), st.sampled_from(["c.jsonl", "c.jsonl.gz"]))
def test_jsonl_collections_read_or_say_why(data, name):
    from citesearch.corpus import LoadReport, load_documents
    from citesearch.indexer.storage import source_row

    path = _file(data, name)
    report = LoadReport()
    try:
        docs = list(load_documents([path], report=report))
    except CitesearchError:
        return
    finally:
        _remove(path)
    for doc in docs:
        assert doc.id.strip() and doc.text.strip()
        for value in source_row(doc.id, doc.path, doc.title, doc.text, doc.metadata):
            if value is not None:
                value.encode("utf-8")  # the store can hold it


# -- document readers --------------------------------------------------------------------------

HTML_PIECES = [
    "<html>", "<head>", "<title>", "</title>", "<body>", "<div>", "</div>", "<p>", "</p>", "<h1>", "</h1>",
    "<nav>", "</nav>", '<div role="navigation">', "<script>", "</script>", "<style>", "</style>", "<br/>",
    "<!--", "-->", "<![CDATA[", "]]>", "<![if !IE]>", "<![endif]>", "<![", "<!DOCTYPE html>", "<!x", "<?php ?>",
    "</", "<", ">", "&amp;", "&#", "&#x1F600;", "&#99999999;", "&nbsp;", "<a href='", '"', "=", "<ruby>", "<rt>",
    "<svg><title>", "<template>", "<table><tr><td>", "\x00", "\r", "\n",
]
MARKUP_PIECES = [
    "---\n", "title: ", "'", '"', "|", ">", "#", "# ", "## ", "\n", "===", "---", "***", "~~~", "```", "`", "``",
    "*", "**", "_", "__", "~~", "[", "](", ")", "![", "<b>", "</b>", "<http://x>", "\\", ":role:`", "`_", "<t>`",
    ":", "...", "\r\n", "\u2028", "\x0c", "\t",
]


@fuzz(200)
@given(_mixed(HTML_PIECES))
def test_html_reads_or_says_why(text):
    from citesearch.corpus.formats import read_html

    try:
        title, body = read_html(text, "page.html")
    except CitesearchError:
        return
    assert isinstance(title, str) and isinstance(body, str)


@fuzz(200)
@given(_mixed(MARKUP_PIECES), st.sampled_from(["read_text", "read_markdown", "read_rst"]))
def test_text_markdown_and_rst_read(text, reader):
    from citesearch.corpus import formats

    title, body = getattr(formats, reader)(text, "a-page-name.md")
    assert isinstance(title, str) and len(body) == len(text)  # offsets point into the file


@fuzz(100)
@given(
    _as_bytes(st.one_of(_mixed(HTML_PIECES), _mixed(MARKUP_PIECES))),
    st.sampled_from(["p.html", "p.htm", "p.md", "p.rst", "p.txt", "p.md.gz", "p.html.gz", "p"]),
)
def test_any_document_file_reads_or_is_reported(data, name):
    """Bytes of any kind under any supported name: documents, or the report says why."""
    from citesearch.corpus import InputFile, LoadReport, read_file

    path = _file(data, name)
    report = LoadReport()
    try:
        docs = list(read_file(InputFile(path, name, name), report))
    finally:
        _remove(path)
    assert len(docs) <= 1
    assert not (docs and report.errors)
