"""Features that landed with the one-options-record search: natural (unquoted) queries,
grep-like exit status, did-you-mean notes, prefix queries, ``sources`` and ``show``,
``-V``, the batch run tag, ``IndexClosed``, ``SearchOptions`` and ``--explain`` with
query-time BM25 parameters.

Expected values are computed apart from the command under test where possible: from
another command's JSON, from the corpus texts, or by formula.
"""

from __future__ import annotations

import fnmatch
import gzip
import json
import math
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, fails, invoke, long_text, ok, write_tiny_corpus

from citesearch.cli import cli


def search_json(index: Path, *words) -> dict:
    """The JSON ``search`` prints for ``words`` (each one argument); exit 0 iff results.
    The options go after the words, or before them when the words hold a ``--``."""
    options = ["--index", index, "--format", "json"]
    args = [*options, *words] if "--" in words else [*words, *options]
    result = invoke("search", *args)
    assert "Traceback" not in result.output
    found = json.loads(result.stdout)
    assert result.exit_code == (0 if found["results"] else 1), result.output
    return found


def hits(found: dict) -> list[tuple[str, float]]:
    """(passage id, score) of each result, in rank order."""
    return [(r["passage"]["id"], r["score"]) for r in found["results"]]


LAVA = "Lava flows from the volcano cooled into basalt. Sheep graze nearby on the slopes."


def write_corpus(root: Path) -> Path:
    """The tiny corpus, a long text file and a second JSONL collection with a long record:
    sources of one passage and of many, files and collection members."""
    write_tiny_corpus(root)
    (root / "long.txt").write_text(long_text(), encoding="utf-8")
    with gzip.open(root / "more.jsonl.gz", "wt", encoding="utf-8") as f:
        f.write(json.dumps({"_id": "m1", "title": "Long record", "text": " ".join([LAVA] * 12)}) + "\n")
    return root


@pytest.fixture(scope="module")
def corpus_index(tmp_path_factory):
    """(corpus dir, index dir) with the default method (hybrid), passages of ~30 words."""
    base = tmp_path_factory.mktemp("features")
    corpus = write_corpus(base / "corpus")
    index = base / "index"
    ok("index", corpus, "--index", index, "--passage-words", 30)
    return corpus, index


@pytest.fixture(scope="module")
def idx(corpus_index) -> Path:
    return corpus_index[1]


@pytest.fixture(scope="module")
def bm25_idx(corpus_index, tmp_path_factory) -> Path:
    """The same corpus indexed with ``--method bm25`` saved as the default."""
    index = tmp_path_factory.mktemp("bm25") / "index"
    ok("index", corpus_index[0], "--index", index, "--passage-words", 30, "--method", "bm25")
    return index


@pytest.fixture(scope="module")
def passages(idx) -> dict[str, str]:
    """Every passage id → its text, as ``sources`` and ``show`` list them."""
    out = {}
    for source in json.loads(ok("sources", "--index", idx, "--format", "json").stdout):
        for p in json.loads(ok("show", source["id"], "--index", idx, "--format", "json").stdout)["passages"]:
            out[p["id"]] = p["text"]
    return out


def containing(passages: dict[str, str], pattern: str) -> set[str]:
    return {pid for pid, text in passages.items() if re.search(pattern, text, re.IGNORECASE)}


# -- 1. natural queries ------------------------------------------------------------------------


def test_unquoted_words_search_as_one_quoted_query(idx):
    quoted = search_json(idx, "iceland volcanoes")
    assert quoted["results"]
    assert search_json(idx, "iceland", "volcanoes") == quoted


@pytest.mark.parametrize("words", [("-volcanoes", "iceland"), ("-volcanoes iceland",), ("--", "-volcanoes", "iceland")])
def test_a_leading_dash_word_is_an_exclusion(idx, passages, words):
    expected = search_json(idx, "iceland -volcanoes")
    found = search_json(idx, *words)
    assert hits(found) == hits(expected) and found["sources"] == expected["sources"]
    ids = {pid for pid, _ in hits(found)}
    assert ids, "some passage has iceland and no volcano"
    assert not ids & containing(passages, r"\bvolcano"), "excluded word in a result"
    # Something was left out: the same query without the exclusion finds more.
    assert {pid for pid, _ in hits(search_json(idx, "iceland", "-k", 100))} > ids


def test_options_anywhere_among_the_words(idx):
    full = search_json(idx, "iceland volcanoes")
    assert len(full["results"]) > 1
    result = ok("search", "iceland", "-k", "1", "volcanoes", "--format", "json", "--index", idx)
    found = json.loads(result.stdout)
    assert found["query"] == "iceland volcanoes"
    assert hits(found) == hits(full)[:1]


@pytest.mark.parametrize("top", [["-k", "2"], ["-k2"], ["--top=2"], ["--top", "2"]])
def test_top_option_forms(idx, top):
    full = hits(search_json(idx, "iceland"))
    assert len(full) > 2
    found = json.loads(ok("search", "iceland", *top, "--format=json", f"--index={idx}").stdout)
    assert hits(found) == full[:2]


def test_top_short_option_with_equals(idx):
    full = hits(search_json(idx, "iceland"))
    found = json.loads(ok("search", "iceland", "-k=2", "--format", "json", "--index", idx).stdout)
    assert hits(found) == full[:2]


def test_double_dash_makes_the_rest_query_words(idx):
    """After ``--``, ``-k 1`` is an excluded word and a digit, not an option."""
    result = ok("search", "--index", idx, "--format", "json", "--", "iceland", "-k", "1")
    found = json.loads(result.stdout)
    assert found["query"] == "iceland -k 1"
    assert len(found["results"]) == len(search_json(idx, "iceland")["results"]) > 1


def test_double_dash_then_h_is_a_word_not_help(idx):
    result = ok("search", "iceland", "--index", idx, "--", "-h")
    assert not result.stdout.startswith("Usage:")
    assert "1. [1]" in result.stdout


@pytest.mark.parametrize("args", [["-h"], ["--help"], ["iceland", "-h"], ["-volcanoes", "iceland", "--help"]])
def test_help_still_shows_help(args, tmp_path):
    # No index needed: help comes before any work.
    result = ok("search", *args, "--index", tmp_path / "none")
    assert result.stdout.startswith("Usage: citesearch search")
    assert "word*" in result.stdout and "-word" in result.stdout


def test_excluded_word_starting_with_k(idx):
    expected = search_json(idx, "iceland -kilauea")
    assert expected["results"]
    result = invoke("search", "-kilauea", "iceland", "--index", idx, "--format", "json")
    assert result.exit_code == 0, result.output
    assert hits(json.loads(result.stdout)) == hits(expected)


@pytest.mark.parametrize("option", ["--format", "-k", "--index"])
def test_option_without_value_at_the_end(idx, option):
    result = invoke("search", "iceland", *(["--index", idx] if option != "--index" else []), option)
    assert result.exit_code == 2, result.output
    assert "'--'" not in result.output and " -- " not in result.output
    assert "requires an argument" in result.output


def test_natural_query_in_a_real_process(idx):
    expected = search_json(idx, "iceland -volcanoes")
    command = [sys.executable, "-m", "citesearch", "search", "-volcanoes", "iceland", "--index", str(idx)]
    proc = subprocess.run(
        [*command, "--format", "json"], check=False, capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert hits(found) == hits(expected) and found["query"] == "-volcanoes iceland"


# -- 2. exit status ----------------------------------------------------------------------------


def test_no_results_exit_1_with_results_exit_0(idx):
    result = fails("search", "qwxyzzy", "--index", idx)
    assert result.stdout.startswith("No results")
    result = fails("search", "iceland", "-iceland", "--index", idx)  # every match excluded
    assert result.stdout.startswith("No results")
    result = ok("search", "iceland", "--index", idx)
    assert "No results" not in result.stdout and "1. [1]" in result.stdout


@pytest.mark.parametrize("fmt, empty", [("json", None), ("jsonl", ""), ("markdown", "No results")])
def test_no_results_exit_1_in_other_formats(idx, fmt, empty):
    result = fails("search", "qwxyzzy", "--index", idx, "--format", fmt)
    if fmt == "json":
        assert json.loads(result.stdout)["results"] == []
    elif empty:
        assert empty in result.stdout
    else:
        assert result.stdout == ""


# -- 3. did you mean ---------------------------------------------------------------------------


@pytest.mark.parametrize("typo", ["icelnd", "iecland", "icelandd", "Icelnd"])
def test_did_you_mean_on_stderr(idx, typo):
    result = fails("search", typo, "--index", idx)
    word = typo.lower()
    assert result.stderr.strip() == f"Note: {word!r} matches nothing in the index; did you mean 'iceland'?"
    assert "Note" not in result.stdout


def test_did_you_mean_beside_a_word_that_matches(idx):
    result = ok("search", "icelnd", "volcanoes", "--index", idx, "--format", "json")
    assert "did you mean 'iceland'?" in result.stderr
    assert json.loads(result.stdout)["results"] == search_json(idx, "volcanoes")["results"]


def test_far_word_gets_the_note_without_a_suggestion(idx):
    result = fails("search", "qwxyzzy", "--index", idx)
    assert result.stderr.strip() == "Note: 'qwxyzzy' matches nothing in the index"


def test_unmatched_and_suggestions_in_the_api(idx):
    from citesearch import Index

    with Index.open(idx) as index:
        found = index.search("icelnd volcanoes qwxyzzy")
        assert found.unmatched == ("icelnd", "qwxyzzy")
        assert found.suggestions == {"icelnd": "iceland"}
        assert found.results
        # The suggestion is a word that matches.
        again = index.search(found.suggestions["icelnd"])
        assert again.results and again.unmatched == () and again.suggestions == {}
        clean = index.search("iceland")
        assert clean.unmatched == () and clean.suggestions == {}


# -- 4. prefix queries -------------------------------------------------------------------------


def test_prefix_matches_every_passage_with_such_a_word(idx, passages):
    found = search_json(idx, "volcan*", "-k", 100)
    expected = containing(passages, r"\bvolcan")
    assert expected and {pid for pid, _ in hits(found)} == expected
    assert "Note" not in invoke("search", "volcan*", "--index", idx).stderr


def test_prefix_that_matches_nothing(idx):
    result = fails("search", "zzz*", "--index", idx)
    assert result.stderr.strip() == "Note: 'zzz*' matches nothing in the index"
    assert result.stdout.startswith("No results")


def test_prefix_mixed_with_words(idx, passages):
    both = search_json(idx, "volcan* glaciers", "-k", 100)
    expected = containing(passages, r"\bvolcan") | containing(passages, r"\bglacier")
    assert {pid for pid, _ in hits(both)} == expected
    # With an exclusion: the prefix's passages without a glacier.
    found = search_json(idx, "volcan* -glaciers", "-k", 100)
    expected = containing(passages, r"\bvolcan") - containing(passages, r"\bglacier")
    assert expected and {pid for pid, _ in hits(found)} == expected
    # Passages with both kinds of word rank first.
    with_both = containing(passages, r"\bvolcan") & containing(passages, r"\bglacier")
    assert with_both and {pid for pid, _ in hits(both)[: len(with_both)]} == with_both


def test_prefix_terms_are_highlighted(idx):
    from citesearch import Index

    with Index.open(idx) as index:
        found = index.search("volcan* glaciers", k=100)
    assert found.results
    for r in found.results:
        expected = [m.span() for m in re.finditer(r"\b(?:volcan\w*|glaciers?)\b", r.snippet, re.IGNORECASE)]
        assert expected, r.snippet
        assert list(r.highlights) == expected


def test_prefix_highlight_in_color(idx):
    out = ok("search", "volcan*", "--index", idx, "--color").stdout
    assert "\x1b[1mVolcanoes\x1b[0m" in out and "\x1b[1mvolcanoes\x1b[0m" in out


# -- 5. sources and show -----------------------------------------------------------------------


def test_sources_formats_agree(idx, corpus_index):
    records = json.loads(ok("sources", "--index", idx, "--format", "json").stdout)
    ids = [r["id"] for r in records]
    assert set(ids) == {"alpha.txt", "notes/beta.md", "gamma.html", "long.txt", "d1", "d2", "m1"}
    tsv = ok("sources", "--index", idx, "--format", "tsv").stdout.splitlines()
    assert tsv[0] == "id\tpath\ttitle\tpassages"
    rows = [line.split("\t") for line in tsv[1:]]
    assert [[r["id"], r["path"], r["title"], str(r["passages"])] for r in records] == rows
    text = ok("sources", "--index", idx)
    assert text.stderr.strip() == f"{len(records)} sources"
    for r in records:
        n = r["passages"]
        assert f"{n} passage{'s' if n != 1 else ''}" in text.stdout
        assert r["title"] in text.stdout


def test_sources_names_collection_members_by_their_id(idx):
    records = {r["id"]: r for r in json.loads(ok("sources", "--index", idx, "--format", "json").stdout)}
    assert records["d1"]["path"].endswith("collection.jsonl.gz") and records["d1"]["title"] == "Plate tectonics"
    assert records["m1"]["path"].endswith("more.jsonl.gz")
    text = ok("sources", "--index", idx).stdout
    assert f"{records['d1']['path']} · d1" in text and f"{records['m1']['path']} · m1" in text


@pytest.mark.parametrize("pattern", ["*.md", "notes/*", "d?", "*.jsonl.gz", "*.txt", "long*"])
def test_sources_glob_filter(idx, pattern):
    everything = json.loads(ok("sources", "--index", idx, "--format", "json").stdout)
    expected = [
        r for r in everything
        if fnmatch.fnmatchcase(r["path"], pattern)
        or fnmatch.fnmatchcase(r["path"], "*/" + pattern)
        or fnmatch.fnmatchcase(r["id"], pattern)
    ]
    assert expected
    assert json.loads(ok("sources", pattern, "--index", idx, "--format", "json").stdout) == expected


def test_sources_filter_matching_nothing(idx):
    result = fails("sources", "*.pdf", "--index", idx)
    assert result.stdout == "" and result.stderr.strip() == "0 sources"


def test_passage_counts_equal_what_show_lists(idx):
    from citesearch import Index

    records = json.loads(ok("sources", "--index", idx, "--format", "json").stdout)
    assert max(r["passages"] for r in records) > 1
    with Index.open(idx) as index:
        for r in records:
            shown = json.loads(ok("show", r["id"], "--index", idx, "--format", "json").stdout)
            assert {k: shown[k] for k in ("id", "path", "title")} == {k: r[k] for k in ("id", "path", "title")}
            assert len(shown["passages"]) == r["passages"]
            assert [p["ordinal"] for p in shown["passages"]] == list(range(r["passages"]))
            assert [p["id"] for p in shown["passages"]] == [f"{r['id']}#{i}" for i in range(r["passages"])]
            source = index.reader.source_by_id(r["id"])
            text, _ = index.reader.source_text(source.row)
            for p in shown["passages"]:
                assert p["text"] == text[p["start"] : p["end"]]
            # Together, the passages cover the source (up to white space).
            assert shown["passages"][0]["start"] <= len(text) - len(text.lstrip())
            assert shown["passages"][-1]["end"] >= len(text.rstrip())


def test_show_a_file_source(idx, corpus_index):
    corpus = corpus_index[0]
    shown = json.loads(ok("show", "long.txt", "--index", idx, "--format", "json").stdout)
    file_text = (corpus / "long.txt").read_text(encoding="utf-8")
    assert shown["title"] == "Living in Iceland" and len(shown["passages"]) > 1
    for p in shown["passages"]:
        assert p["text"] == file_text[p["start"] : p["end"]]
    text = ok("show", "long.txt", "--index", idx).stdout
    assert text.splitlines()[0] == "Living in Iceland"
    for p in shown["passages"]:
        assert f"[long.txt#{p['ordinal']}] characters {p['start']}–{p['end']}" in text


def test_show_a_jsonl_document_by_its_id(idx):
    from citesearch import Index

    shown = json.loads(ok("show", "d1", "--index", idx, "--format", "json").stdout)
    assert shown["id"] == "d1" and shown["title"] == "Plate tectonics"
    assert [p["id"] for p in shown["passages"]] == ["d1#0"]
    with Index.open(idx) as index:
        text, metadata = index.reader.source_text(index.reader.source_by_id("d1").row)
    assert metadata == {"year": 1965}
    p = shown["passages"][0]
    assert p["text"] == text[p["start"] : p["end"]]
    assert "The crust is broken into moving plates." in p["text"]
    out = ok("show", "d1", "--index", idx).stdout
    assert "[d1#0] characters" in out and "Ridges form where plates pull apart." in out


@pytest.mark.parametrize("source_id", ["long.txt", "m1"])
def test_show_a_passage_by_its_id(idx, source_id):
    whole = json.loads(ok("show", source_id, "--index", idx, "--format", "json").stdout)
    assert len(whole["passages"]) > 2
    for want in (whole["passages"][1], whole["passages"][-1]):
        one = json.loads(ok("show", want["id"], "--index", idx, "--format", "json").stdout)
        assert one["id"] == source_id
        assert one["passages"] == [want]


def test_show_a_search_result_by_its_passage_id(idx):
    found = search_json(idx, "reykjavik")
    first = found["results"][0]["passage"]
    one = json.loads(ok("show", first["id"], "--index", idx, "--format", "json").stdout)
    p = one["passages"][0]
    assert (p["start"], p["end"], p["text"]) == (first["start"], first["end"], first["text"])


@pytest.mark.parametrize("item", ["nope", "long.txt#999", "d1#x", "#0", "alpha"])
def test_show_unknown_id(idx, item):
    result = fails("show", item, "--index", idx)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and repr(item) in lines[0]
    assert result.stdout == ""


# -- 6. version and top-level help -------------------------------------------------------------


@pytest.mark.parametrize("flag", ["-V", "--version"])
def test_version_flags(flag):
    from importlib.metadata import version

    assert ok(flag).stdout == f"citesearch, version {version('citesearch')}\n"


COMMANDS = ("index", "remove", "search", "batch", "evaluate", "tune", "cite", "info", "sources", "show")


@pytest.mark.parametrize("width", [None, 60, 100])
def test_top_level_help_lists_every_command_uncut(width):
    extra = {} if width is None else {"terminal_width": width}
    out = ok("--help", **extra).stdout
    commands = out.split("Commands:", 1)[1]
    listed = {line.split()[0] for line in commands.splitlines() if line.startswith("  ") and line[2] != " "}
    assert listed == set(COMMANDS) == set(cli.commands)
    assert not [line for line in commands.splitlines() if line.rstrip().endswith(("...", "…"))]
    flat = " ".join(commands.split())
    for name in COMMANDS:
        short = " ".join(cli.commands[name].short_help.split())
        assert short in flat, (name, short)


# -- 7. batch run tag --------------------------------------------------------------------------


def parse_trec(text: str) -> dict[str, list[tuple[str, float, str]]]:
    run: dict[str, list[tuple[str, float, str]]] = {}
    for line in text.splitlines():
        qid, q0, doc, rank, score, tag = line.split()
        assert q0 == "Q0"
        rows = run.setdefault(qid, [])
        assert int(rank) == len(rows) + 1
        rows.append((doc, float(score), tag))
    return run


QUERIES = {"1": "iceland volcanoes", "2": "sheep graze", "3": "glaciers climate"}


def document_scores(index: Path, query: str, method: str) -> dict[str, float]:
    """Each source's best passage score, from ``search --format json``."""
    found = search_json(index, query, "--method", method, "-k", 1000)
    best: dict[str, float] = {}
    for r in found["results"]:
        doc = r["source"]["id"]
        best[doc] = max(best.get(doc, 0.0), r["score"])
    return best


@pytest.mark.parametrize("method", [None, "bm25", "tfidf", "hybrid"])
def test_batch_run_tag_and_scores_follow_the_method(bm25_idx, tmp_path, method):
    queries = tmp_path / "q.tsv"
    queries.write_text("".join(f"{q}\t{t}\n" for q, t in QUERIES.items()), encoding="utf-8")
    extra = [] if method is None else ["--method", method]
    run = parse_trec(ok("batch", queries, "--index", bm25_idx, "-o", "-", *extra).stdout)
    used = method or "bm25"  # the index's saved default
    assert list(run) == list(QUERIES)
    assert {tag for rows in run.values() for *_, tag in rows} == {f"citesearch-{used}"}
    for qid, text in QUERIES.items():
        expected = document_scores(bm25_idx, text, used)
        got = {doc: score for doc, score, _ in run[qid]}
        assert set(got) == set(expected)
        for doc, score in expected.items():
            assert got[doc] == pytest.approx(score, abs=2e-6), (qid, doc)


def test_batch_run_tag_with_rm3_and_run_name(bm25_idx, tmp_path):
    queries = tmp_path / "q.txt"
    queries.write_text("iceland volcanoes\n", encoding="utf-8")
    run = parse_trec(ok("batch", queries, "--index", bm25_idx, "-o", "-", "--expand", "rm3").stdout)
    assert {tag for *_, tag in run["1"]} == {"citesearch-bm25-rm3"}
    run = parse_trec(ok("batch", queries, "--index", bm25_idx, "-o", "-", "--run-name", "mine").stdout)
    assert {tag for *_, tag in run["1"]} == {"mine"}


def test_batch_tag_written_to_a_file(bm25_idx, tmp_path):
    queries = tmp_path / "q.txt"
    queries.write_text("iceland volcanoes\nsheep\n", encoding="utf-8")
    out = tmp_path / "run.trec"
    ok("batch", queries, "--index", bm25_idx, "-o", out, "--workers", 2)
    run = parse_trec(out.read_text(encoding="utf-8"))
    assert set(run) == {"1", "2"}
    assert {tag for rows in run.values() for *_, tag in rows} == {"citesearch-bm25"}


# -- 8. a closed index -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "use",
    [
        lambda index: index.search("iceland"),
        lambda index: index.rank_documents("iceland"),
        lambda index: index.sources(),
        lambda index: index.lookup("alpha.txt"),
    ],
    ids=["search", "rank_documents", "sources", "lookup"],
)
def test_closed_index_raises_index_closed(built_index, use):
    from citesearch import CitesearchError, Index
    from citesearch.errors import IndexClosed

    index = Index.open(built_index)
    assert use(index)  # works while open
    index.close()
    with pytest.raises(IndexClosed) as info:
        use(index)
    assert isinstance(info.value, CitesearchError)
    assert not isinstance(info.value, sqlite3.Error)
    assert str(built_index) in str(info.value)
    index.close()  # closing twice is harmless


def test_index_closed_after_with_block(built_index):
    from citesearch import Index
    from citesearch.errors import IndexClosed

    with Index.open(built_index) as index:
        assert index.search("iceland").results
    with pytest.raises(IndexClosed):
        index.search("iceland")


# -- 9. SearchOptions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, allowed",
    [("method", ("bm25", "tfidf", "hybrid")), ("fusion", ("rrf", "linear")), ("aggregate", ("max", "sum", "mean"))],
)
def test_unknown_option_values(field, allowed):
    from citesearch import CitesearchError
    from citesearch.indexer.manifest import METHODS
    from citesearch.search.fusion import FUSERS
    from citesearch.search.options import AGGREGATES, OptionError, SearchOptions

    registry = {"method": METHODS, "fusion": tuple(FUSERS), "aggregate": AGGREGATES}[field]
    assert set(allowed) <= set(registry)
    with pytest.raises(OptionError) as info:
        SearchOptions(**{field: "bogus"})
    assert isinstance(info.value, CitesearchError) and isinstance(info.value, ValueError)
    message = str(info.value)
    assert field in message and "'bogus'" in message
    for value in registry:
        assert value in message
    SearchOptions(**{field: registry[0]})  # a known value is accepted


def test_per_source_must_be_positive():
    from citesearch.search.options import OptionError, SearchOptions

    with pytest.raises(OptionError):
        SearchOptions(per_source=0)


def test_unknown_setting_through_index_search(built_index):
    from citesearch import Index
    from citesearch.search.options import OptionError

    with Index.open(built_index) as index, pytest.raises(OptionError, match="hybrid"):
        index.search("iceland", method="BM25")


@pytest.mark.parametrize(
    "settings",
    [{"method": "bm25"}, {"method": "tfidf"}, {"method": "hybrid", "fusion": "linear"}, {"per_source": 1}],
)
def test_keyword_settings_equal_an_options_record(built_index, settings):
    from citesearch import Index
    from citesearch.search.options import SearchOptions

    with Index.open(built_index) as index:
        by_keyword = index.search("iceland volcanoes", **settings)
        by_record = index.search("iceland volcanoes", options=SearchOptions(**settings))
        assert by_keyword.results
        assert by_keyword == by_record
        assert by_keyword.method == settings.get("method", index.manifest.method)
        if "method" in settings and settings["method"] != "hybrid":
            # The method really changes the scores: compare with another one.
            other = "tfidf" if settings["method"] == "bm25" else "bm25"
            assert [r.score for r in index.search("iceland volcanoes", method=other).results] != [
                r.score for r in by_keyword.results
            ]


def test_keyword_settings_override_the_record(built_index):
    from citesearch import Index
    from citesearch.search.options import SearchOptions

    with Index.open(built_index) as index:
        mixed = index.search("iceland volcanoes", options=SearchOptions(method="tfidf"), method="bm25")
        assert mixed == index.search("iceland volcanoes", method="bm25")
        assert mixed.method == "bm25"


# -- 10. explain with query-time BM25 parameters -----------------------------------------------


def test_explain_with_lucene_and_k1(idx, passages):
    from citesearch import Index

    result = ok(
        "search", "iceland volcanoes", "--index", idx, "--format", "json", "--method", "bm25",
        "--explain", "--variant", "lucene", "--k1", "1.5", "-k", 100,
    )
    found = json.loads(result.stdout)
    assert found["results"]
    info = json.loads(ok("info", "--index", idx, "--json").stdout)
    b, title_weight = info["bm25"]["b"], info["passages"]["title_weight"]
    n = sum(r["passages"] for r in json.loads(ok("sources", "--index", idx, "--format", "json").stdout))
    words = {"iceland": r"\biceland\b", "volcano": r"\bvolcano(?:es)?\b"}
    df = {term: len(containing(passages, pattern)) for term, pattern in words.items()}
    with Index.open(idx) as index:
        avgdl = float(index.reader["passage_length"].mean())
    assert len(passages) == n and all(df.values())
    for r in found["results"]:
        part = r["explain"]["parts"][0]
        assert part["method"] == "bm25"
        assert part["formula"].startswith(f"lucene k1=1.5 b={b}")
        assert {t["term"] for t in part["terms"]} == set(words)
        total = 0.0
        for t in part["terms"]:
            tf = len(re.findall(words[t["term"]], r["passage"]["text"], re.IGNORECASE))
            if r["passage"]["ordinal"] == 0:  # a document's first passage holds its title's copies
                tf += (title_weight - 1) * len(re.findall(words[t["term"]], r["source"]["title"], re.IGNORECASE))
            idf = math.log(1 + (n - df[t["term"]] + 0.5) / (df[t["term"]] + 0.5))
            tf_part = tf / (tf + 1.5 * (1 - b + b * t["length"] / avgdl)) if tf else 0.0
            assert t["tf"] == tf
            assert t["idf"] == pytest.approx(idf, rel=1e-9)
            assert t["tf_part"] == pytest.approx(tf_part, rel=1e-9)
            assert t["score"] == pytest.approx(idf * tf_part, rel=1e-9)
            total += idf * tf_part
        assert r["score"] == pytest.approx(total, abs=1e-6)
        assert part["score"] == pytest.approx(total, rel=1e-9)
    # Without --explain, the same parameters rank and score the same.
    plain = search_json(idx, "iceland volcanoes", "--method", "bm25", "--variant", "lucene", "--k1", "1.5", "-k", 100)
    assert hits(plain) == hits(found)
    # And they are not the index's: okapi scores differently.
    assert hits(search_json(idx, "iceland volcanoes", "--method", "bm25", "-k", 100)) != hits(found)


def test_explain_text_names_the_parameters(idx):
    args = ("search", "iceland", "--index", idx, "--explain")
    out = ok(*args, "--hybrid-with", "bm25", "--variant", "lucene", "--k1", "1.5").stdout
    line = r"^\s+bm25 [\d.]+, rank \d+  \(lucene k1=1\.5 b=[\d.]+, average passage length [\d.]+\)$"
    assert re.search(line, out, re.MULTILINE), out
    out = ok(*args).stdout  # the default hybrid: In_expC2 and TF-IDF
    line = r"^\s+dfr [\d.]+, rank \d+  \(In_expC2 c=4: .*tfn = tf·ln\(1 \+ c·[\d.]+/length\)\)$"
    assert re.search(line, out, re.MULTILINE), out


def test_a_mistyped_long_option_is_an_error_not_a_query_word(idx):
    result = invoke("search", "iceland", "--fromat", "json", "--index", idx)
    assert result.exit_code == 2
    assert "No such option '--fromat'. Did you mean '--format'?" in result.output


def test_a_one_letter_prefix_is_refused_clearly(idx):
    result = fails("search", "i*", "--index", idx)
    assert "i*: a prefix needs at least 2 letters" in result.output


def test_show_takes_a_path_as_sources_prints_it(idx):
    listed = json.loads(ok("sources", "--index", idx, "--format", "json").stdout)
    single = next(s for s in listed if s["path"].endswith("alpha.txt"))
    by_path = json.loads(ok("show", single["path"], "--index", idx, "--format", "json").stdout)
    assert by_path["id"] == single["id"]
    collection = next(s["path"] for s in listed if s["id"] == "d1")
    result = fails("show", collection, "--index", idx)
    assert "is a collection of" in result.output and "show one by its id" in result.output


def test_a_narrow_terminal_still_wraps(idx):
    result = invoke("search", "iceland", "--index", idx, env={"COLUMNS": "5"})
    assert result.exit_code == 0 and "Traceback" not in result.output


def test_batch_run_files_get_the_usual_permissions(idx, tmp_path):
    import stat

    queries = tmp_path / "q.txt"
    queries.write_text("iceland\n")
    ok("batch", queries, "--index", idx, "-o", tmp_path / "run.trec")
    mode = stat.S_IMODE((tmp_path / "run.trec").stat().st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask
