"""The ``citesearch`` command line, through click's CliRunner (and a few real subprocesses).

One corpus and index are built per module (``cli_index``); tests that need a corpus of
their own build it in ``tmp_path``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import ROOT, fails, invoke, long_text, ok, write_tiny_corpus

from citesearch.cli import cli

ANSI = re.compile(r"\x1b\[[0-9;]*m")
SUMMARY = re.compile(r"Indexed ([\d,]+) documents into ([\d,]+) passages, ([\d,]+) terms")
RESULT_KEYS = {"rank", "score", "citation", "passage", "source", "snippet"}
PASSAGE_KEYS = {"id", "doc_id", "ordinal", "start", "end", "text"}
SOURCE_KEYS = {"id", "path", "title"}
CITED_KEYS = {"citation", "id", "path", "title", "hits"}


def assert_one_error_line(result) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines[0]
    assert result.stdout == ""
    return lines[0]


def search_json(index: Path, query: str, *extra) -> dict:
    """The JSON a search prints; it exits 0 when something matched, 1 when nothing did."""
    result = invoke("search", query, "--index", index, "--format", "json", *extra)
    found = json.loads(result.stdout)
    assert result.exit_code == (0 if found["results"] else 1), result.output
    return found


@pytest.fixture(scope="module")
def cli_index(tmp_path_factory):
    """(corpus dir, index dir, index command result) for the tiny corpus plus a long document."""
    base = tmp_path_factory.mktemp("cli")
    corpus = write_tiny_corpus(base / "corpus")
    (corpus / "long.txt").write_text(long_text(), encoding="utf-8")
    index = base / "index"
    result = ok("index", corpus, "--index", index)
    return corpus, index, result


@pytest.fixture(scope="module")
def idx(cli_index) -> Path:
    return cli_index[1]


# -- help and version --------------------------------------------------------------------


@pytest.mark.parametrize("command", [None, "index", "search", "info", "batch", "evaluate"])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_has_an_example_section(command, flag):
    args = [flag] if command is None else [command, flag]
    out = ok(*args).stdout
    assert out.startswith("Usage: citesearch")
    assert re.search(r"^\s*Example:\s*$", out, re.M), out
    # The example lines really use the command.
    example = out.split("Example:", 1)[1]
    assert "citesearch " + (command or "") in example


def test_version():
    out = ok("--version").stdout
    from citesearch import __version__

    assert out.strip() == f"citesearch, version {__version__}"


def test_python_dash_m_version():
    proc = subprocess.run(
        [sys.executable, "-m", "citesearch", "--version"], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(r"citesearch, version \S+\n", proc.stdout)


# -- index and info ----------------------------------------------------------------------


def test_index_summary_on_stderr(cli_index):
    _, index, result = cli_index
    m = SUMMARY.search(result.stderr)
    assert m, result.stderr
    assert int(m.group(1)) == 6  # 3 files + 2 JSONL records + long.txt
    assert int(m.group(2).replace(",", "")) > 6  # long.txt has several passages
    assert int(m.group(3).replace(",", "")) > 0
    assert str(index) in result.stderr
    assert not SUMMARY.search(result.stdout)  # progress and summary never on stdout
    assert (index / "manifest.json").is_file()


def test_info_shows_the_counts(cli_index):
    _, index, result = cli_index
    docs, passages, terms = (int(g.replace(",", "")) for g in SUMMARY.search(result.stderr).groups())
    out = ok("info", "--index", index).stdout
    m = re.search(r"Contents\s+([\d,]+) sources, ([\d,]+) passages, ([\d,]+) terms", out)
    assert m, out
    assert tuple(int(g.replace(",", "")) for g in m.groups()) == (docs, passages, terms)
    assert "default method hybrid" in out
    manifest = json.loads(ok("info", "--index", index, "--json").stdout)
    assert manifest["counts"]["sources"] == docs and manifest["counts"]["passages"] == passages


def test_info_verify(idx):
    result = ok("info", "--index", idx, "--verify")
    assert "all files match" in result.stderr


def test_index_method_is_saved_as_the_default(tmp_path, tiny_corpus):
    out = tmp_path / "bm25-index"
    ok("index", tiny_corpus, "--index", out, "--method", "bm25")
    assert search_json(out, "iceland")["method"] == "bm25"
    assert search_json(out, "iceland", "--method", "tfidf")["method"] == "tfidf"


# -- search: text ------------------------------------------------------------------------


def test_search_text_output(cli_index):
    corpus, index, _ = cli_index
    found = search_json(index, "iceland")
    out = ok("search", "iceland", "--index", index).stdout
    body, sources = out.split("\nSources\n")
    # One block per result: "  n. [c] title  score s", then "path · passage o", then the snippet.
    heads = re.findall(r"^\s*(\d+)\. \[(\d+)\] (.+?)  score ([\d.]+)$", body, re.M)
    assert [(int(r), int(c)) for r, c, _, _ in heads] == [(r["rank"], r["citation"]) for r in found["results"]]
    assert [t for _, _, t, _ in heads] == [r["source"]["title"] for r in found["results"]]
    for r in found["results"]:
        assert f"{r['source']['path']} · passage {r['passage']['ordinal']}" in body
        first_words = " ".join(r["snippet"].replace("…", " ").split()[:3])
        assert first_words in " ".join(body.split())
    assert str(corpus / "alpha.txt") in body
    # Sources: numbered 1..n in order, each with its hit count.
    lines = sources.strip().splitlines()
    assert len(lines) == len(found["sources"])
    for n, (line, cited) in enumerate(zip(lines, found["sources"]), 1):
        hits = cited["hits"]
        assert line == f"[{n}] {cited['title']} — {cited['path']} ({hits} result{'' if hits == 1 else 's'})"


def test_citations_are_numbered_in_first_appearance_order_with_hit_counts(idx):
    found = search_json(idx, "iceland")
    results = found["results"]
    assert [r["rank"] for r in results] == list(range(1, len(results) + 1))
    numbers: dict[str, int] = {}
    for r in results:
        numbers.setdefault(r["source"]["id"], len(numbers) + 1)
        assert r["citation"] == numbers[r["source"]["id"]]
    assert len(numbers) >= 3 and len(numbers) < len(results)  # a source is cited more than once
    assert [(s["citation"], s["id"]) for s in found["sources"]] == [(n, sid) for sid, n in numbers.items()]
    for s in found["sources"]:
        assert s["hits"] == sum(r["source"]["id"] == s["id"] for r in results)
    assert any(s["hits"] > 1 for s in found["sources"])


def test_scores_are_non_increasing(idx):
    for method in ("bm25", "tfidf", "hybrid"):
        scores = [r["score"] for r in search_json(idx, "iceland volcanoes", "--method", method)["results"]]
        assert scores and scores == sorted(scores, reverse=True)


def test_top_k_limits_results(idx):
    assert len(search_json(idx, "iceland", "-k", "2")["results"]) == 2
    assert len(search_json(idx, "iceland", "--top", "3")["results"]) == 3


# -- search: formats ---------------------------------------------------------------------


def test_json_schema(idx):
    found = search_json(idx, "iceland")
    assert set(found) == {"query", "method", "results", "sources"}
    assert found["query"] == "iceland" and found["method"] == "hybrid"
    assert found["results"]
    for r in found["results"]:
        assert set(r) == RESULT_KEYS
        assert set(r["passage"]) == PASSAGE_KEYS
        assert set(r["source"]) == SOURCE_KEYS
        p = r["passage"]
        assert p["id"] == f"{p['doc_id']}#{p['ordinal']}"
        assert p["doc_id"] == r["source"]["id"]
        assert 0 <= p["start"] < p["end"]
        assert isinstance(r["score"], float) and isinstance(r["citation"], int)
    for s in found["sources"]:
        assert set(s) == CITED_KEYS


def test_json_passage_text_is_the_source_slice(cli_index):
    corpus, index, _ = cli_index
    for r in search_json(index, "iceland")["results"]:
        path = Path(r["source"]["path"])
        if path.suffix in {".txt", ".md"}:
            text = path.read_text(encoding="utf-8")
            assert text[r["passage"]["start"] : r["passage"]["end"]] == r["passage"]["text"]


def test_jsonl_one_object_per_line(idx):
    found = search_json(idx, "iceland")
    out = ok("search", "iceland", "--index", idx, "--format", "jsonl").stdout
    lines = out.splitlines()
    assert out.endswith("\n") and len(lines) == len(found["results"])
    records = [json.loads(line) for line in lines]
    assert all(set(r) == RESULT_KEYS for r in records)
    assert records == found["results"]


def test_markdown_has_citation_markers_and_sources(idx):
    found = search_json(idx, "iceland")
    md = ok("search", "iceland", "--index", idx, "--format", "markdown").stdout
    assert "\x1b[" not in md
    items = re.findall(r"^(\d+)\. .* \[(\d+)\]$", md, re.M)
    assert [(int(a), int(b)) for a, b in items] == [(r["rank"], r["citation"]) for r in found["results"]]
    assert "**Sources**" in md
    tail = md.split("**Sources**", 1)[1]
    listed = re.findall(r"^\[(\d+)\] (.+?) — `(.+?)` \((\d+) results?\)", tail, re.M)
    assert [(int(n), path, int(h)) for n, _, path, h in listed] == [
        (s["citation"], s["path"], s["hits"]) for s in found["sources"]
    ]
    assert "**Iceland**" in md  # matches are bold


def test_no_results_in_every_format_exit_1_as_grep_does(idx):
    q = "iceland source:*.pdf"

    def nothing(*args):
        result = invoke("search", q, "--index", idx, *args)
        assert result.exit_code == 1 and "Error" not in result.output
        return result.stdout

    assert nothing().startswith("No results")
    assert json.loads(nothing("--format", "json"))["results"] == []
    assert nothing("--format", "jsonl") == ""
    assert "No results" in nothing("--format", "markdown")


# -- search: colour ----------------------------------------------------------------------


def test_no_ansi_when_not_a_terminal(idx):
    out = ok("search", "iceland", "--index", idx).stdout
    assert "\x1b[" not in out
    assert "\x1b[" not in ok("search", "iceland", "--index", idx, env={"NO_COLOR": "1"}).stdout
    assert "\x1b[" not in ok("search", "iceland", "--index", idx, "--no-color").stdout


def test_color_flag_bolds(idx):
    out = ok("search", "iceland", "--index", idx, "--color").stdout
    assert "\x1b[1m" in out
    assert "\x1b[1mIceland\x1b[0m" in out  # the matched word itself
    # Without the escapes it is the plain output.
    assert ANSI.sub("", out).split() == ok("search", "iceland", "--index", idx).stdout.split()


def _run_on_pty(args, env) -> str:
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "citesearch", *args], stdout=slave, stderr=subprocess.PIPE, env=env, cwd=ROOT
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    proc.wait(timeout=60)
    assert proc.returncode == 0, proc.stderr.read()
    return b"".join(chunks).decode("utf-8")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_color_on_a_terminal_unless_no_color(idx):
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"} | {"COLUMNS": "100"}
    assert "\x1b[1m" in _run_on_pty(["search", "iceland", "--index", str(idx)], env)
    assert "\x1b[" not in _run_on_pty(["search", "iceland", "--index", str(idx)], env | {"NO_COLOR": "1"})


# -- search: options ---------------------------------------------------------------------


def test_per_source(idx):
    plain = search_json(idx, "iceland")["results"]
    capped = search_json(idx, "iceland", "--per-source", "1")["results"]
    ids = [r["source"]["id"] for r in capped]
    assert len(ids) == len(set(ids)) == len({r["source"]["id"] for r in plain})
    assert len(capped) < len(plain)
    # The first passage of each source is kept: the best one.
    best = {}
    for r in plain:
        best.setdefault(r["source"]["id"], r["passage"]["id"])
    assert {r["source"]["id"]: r["passage"]["id"] for r in capped} == best
    assert all(s["hits"] == 1 for s in search_json(idx, "iceland", "--per-source", "1")["sources"])


def test_per_source_two(idx):
    capped = search_json(idx, "iceland", "--per-source", "2", "-k", "10")["results"]
    counts: dict[str, int] = {}
    for r in capped:
        counts[r["source"]["id"]] = counts.get(r["source"]["id"], 0) + 1
    assert max(counts.values()) == 2


def explained(idx, query, *args):
    return search_json(idx, query, "--explain", *args)["results"]


@pytest.mark.parametrize("method", ["bm25", "tfidf"])
def test_explain_sums_each_methods_terms_to_its_score(idx, method):
    results = explained(idx, "iceland volcanoes eruption", "--method", method)
    assert results
    for r in results:
        e = r["explain"]
        assert e["method"] == method and e["fusion"] is None
        (part,) = e["parts"]
        assert part["method"] == method
        assert {t["term"] for t in part["terms"]} >= {"iceland"}
        for t in part["terms"]:
            assert (t["tf"] == 0) == (t["score"] == 0)
            if method == "bm25":
                assert t["score"] == pytest.approx(t["query_weight"] * t["idf"] * t["tf_part"])
            else:
                assert t["score"] == pytest.approx(t["query_weight"] * t["tf_part"])
        assert sum(t["score"] for t in part["terms"]) == pytest.approx(r["score"], abs=1e-5)


def test_explain_hybrid_shows_both_methods_and_the_fusion(idx):
    results = explained(idx, "iceland volcanoes eruption")
    for r in results:
        e = r["explain"]
        assert e["method"] == "hybrid" and e["fusion"] == "rrf"
        assert [p["method"] for p in e["parts"]] == ["dfr", "tfidf"]  # In_expC2 and TF-IDF (issue 13)
        ranks = [p["rank"] for p in e["parts"] if p["rank"] is not None]
        assert sum(1 / (60 + rank) for rank in ranks) == pytest.approx(r["score"], abs=1e-6)
        assert f"{r['score']:.6f}" in e["fused"]
    # Each method's part is that method's own score of the passage.
    alone = {
        m: {
            x["passage"]["id"]: x["score"]
            for x in search_json(idx, "iceland volcanoes eruption", "--method", m)["results"]
        }
        for m in ("dfr", "tfidf")
    }
    for r in results:
        for p in r["explain"]["parts"]:
            if r["passage"]["id"] in alone[p["method"]]:
                assert p["score"] == pytest.approx(alone[p["method"]][r["passage"]["id"]], abs=1e-5)
    linear = explained(idx, "iceland volcanoes eruption", "--fusion", "linear")
    assert all(r["explain"]["fusion"] == "linear" for r in linear)


def test_explain_counts_repeated_query_terms(idx):
    (r,) = explained(idx, "iceland iceland volcanoes", "--method", "bm25", "-k", "1")
    weights = {t["term"]: t["query_weight"] for t in r["explain"]["parts"][0]["terms"]}
    assert weights["iceland"] == 2 and weights["volcano"] == 1


@pytest.mark.parametrize("fmt", ["text", "markdown", "jsonl"])
def test_explain_in_every_format(idx, fmt):
    out = ok("search", "iceland volcanoes", "--index", idx, "--explain", "--format", fmt).stdout
    plain = ok("search", "iceland volcanoes", "--index", idx, "--format", fmt).stdout
    if fmt == "jsonl":
        assert all("explain" in json.loads(line) for line in out.splitlines())
        assert not any("explain" in json.loads(line) for line in plain.splitlines())
    else:
        for needed in ("dfr ", "In_expC2 c=4", "tfidf ", "rrf: 1/(60+", "term factor ", "idf ", "passage weight"):
            assert needed in out and needed not in plain


@pytest.mark.parametrize("method", ["bm25", "tfidf", "dfr", "hybrid"])
def test_method(idx, method):
    found = search_json(idx, "iceland volcanoes", "--method", method)
    assert found["method"] == method
    assert found["results"] and found["results"][0]["source"]["id"] == "alpha.txt"


def test_methods_score_differently(idx):
    scores = {
        m: [r["score"] for r in search_json(idx, "iceland volcanoes", "--method", m)["results"]]
        for m in ("bm25", "tfidf", "dfr", "hybrid")
    }
    assert scores["bm25"] != scores["tfidf"] != scores["hybrid"] != scores["dfr"] != scores["bm25"]
    assert all(0 < s <= 1 for s in scores["tfidf"])  # cosine similarity


def test_bm25_parameters_change_scores(idx):
    a = search_json(idx, "iceland", "--method", "bm25")["results"]
    b = search_json(idx, "iceland", "--method", "bm25", "--k1", "2.0", "--b", "0.9")["results"]
    assert [r["score"] for r in a] != [r["score"] for r in b]


# -- search: query syntax ----------------------------------------------------------------


def test_phrase(idx):
    found = search_json(idx, '"mid-atlantic ridge"')["results"]
    assert [r["source"]["id"] for r in found] == ["alpha.txt"]
    assert search_json(idx, '"ridge mid-atlantic"')["results"] == []  # order matters
    assert search_json(idx, "ridge mid-atlantic")["results"]


def test_exclusion(idx):
    with_glaciers = {r["source"]["id"] for r in search_json(idx, "iceland")["results"]}
    assert "notes/beta.md" in with_glaciers
    found = search_json(idx, "iceland -glaciers")["results"]
    assert found
    assert "notes/beta.md" not in {r["source"]["id"] for r in found}
    assert all("glacier" not in r["passage"]["text"].lower() for r in found)


def test_source_filter(idx):
    found = search_json(idx, "iceland source:*.html")["results"]
    assert found and {r["source"]["id"] for r in found} == {"gamma.html"}
    found = search_json(idx, "iceland source:notes/*")["results"]
    assert found and {r["source"]["id"] for r in found} == {"notes/beta.md"}


def test_title_filter(idx):
    found = search_json(idx, "iceland title:volcanoes")["results"]
    assert found and {r["source"]["title"] for r in found} == {"Volcanoes of Iceland"}


def test_index_from_environment_variable(idx, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no ./.citesearch here
    monkeypatch.setenv("CITESEARCH_INDEX", str(idx))
    found = json.loads(ok("search", "iceland", "--format", "json").stdout)
    assert found["results"]
    assert str(idx) in ok("info").stdout
    # --index wins over the variable.
    monkeypatch.setenv("CITESEARCH_INDEX", str(tmp_path / "nowhere"))
    assert json.loads(ok("search", "iceland", "--index", idx, "--format", "json").stdout)["results"]
    # Without either, ./.citesearch is used, and here there is none.
    monkeypatch.delenv("CITESEARCH_INDEX")
    assert ".citesearch" in assert_one_error_line(fails("search", "iceland"))


# -- search: errors ----------------------------------------------------------------------


def test_missing_index_dir(tmp_path):
    line = assert_one_error_line(fails("search", "iceland", "--index", tmp_path / "missing"))
    assert "missing" in line
    assert "missing" in assert_one_error_line(fails("info", "--index", tmp_path / "missing"))


def test_unknown_format_version(idx, tmp_path):
    import shutil

    copy = tmp_path / "future"
    shutil.copytree(idx, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["format_version"] = 999
    (copy / "manifest.json").write_text(json.dumps(manifest))
    assert "999" in assert_one_error_line(fails("search", "iceland", "--index", copy))
    assert "999" in assert_one_error_line(fails("info", "--index", copy))


@pytest.mark.parametrize("query", ["the", "the of and", ""])
def test_queries_without_terms(idx, query):
    line = assert_one_error_line(fails("search", query, "--index", idx))
    assert ("stop words" in line) if query else ("no search terms" in line)


def test_filter_only_query(idx):
    assert_one_error_line(fails("search", "source:*.md", "--index", idx))


def test_unknown_method_is_a_usage_error(idx):
    result = fails("search", "iceland", "--index", idx, "--method", "magic", code=2)
    assert "magic" in result.stderr


# -- index: bad inputs -------------------------------------------------------------------


def write_bad_corpus(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "good.txt").write_text("Good text\n\nIceland volcanoes erupt.\n", encoding="utf-8")
    (root / "bin.txt").write_bytes(b"binaryword\x00\x01\x02 more binaryword")
    (root / "empty.txt").write_bytes(b"")
    (root / "latin.txt").write_bytes(b"Caf\xe9 menu\n\nespresso latte cappuccino\n")
    (root / "c.jsonl").write_text(
        '{"_id": "j1", "title": "Plates", "text": "plates tectonics"}\n'
        "{broken\n"
        '{"_id": "j3", "title": "Waves", "text": "ocean tsunami"}\n',
        encoding="utf-8",
    )
    return root


@pytest.fixture(scope="module")
def bad_index(tmp_path_factory):
    base = tmp_path_factory.mktemp("bad")
    corpus = write_bad_corpus(base / "corpus")
    out = base / "index"
    result = invoke("index", corpus, "--index", out)
    return corpus, out, result


def test_bad_inputs_exit_1_without_traceback(bad_index):
    _, out, result = bad_index
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert (out / "manifest.json").is_file()  # the index is still written


def test_binary_file_warned_and_skipped(bad_index):
    _, out, result = bad_index
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert any("bin.txt" in w and "binary" in w for w in warnings), result.stderr
    result = invoke("search", "binaryword", "--index", out)
    assert result.exit_code == 1 and "No results" in result.stdout


def test_empty_file_warned(bad_index):
    _, _, result = bad_index
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert any("empty.txt" in w and "empty" in w for w in warnings), result.stderr


def test_invalid_utf8_warned_and_indexed(bad_index):
    _, out, result = bad_index
    warnings = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
    assert any("latin.txt" in w and "UTF-8" in w for w in warnings), result.stderr
    found = search_json(out, "espresso")["results"]
    assert [r["source"]["id"] for r in found] == ["latin.txt"]
    assert "\ufffd" in found[0]["passage"]["text"]  # the bad byte is replaced


def test_malformed_jsonl_line_named_with_file_and_line(bad_index):
    _, out, result = bad_index
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    assert "c.jsonl" in errors[0]
    assert re.search(r"c\.jsonl(:| line )2\b", errors[0]), errors[0]


def test_other_documents_still_indexed(bad_index):
    _, out, result = bad_index
    m = SUMMARY.search(result.stderr)
    assert m and int(m.group(1)) == 4  # good, latin, j1, j3
    assert [r["source"]["id"] for r in search_json(out, "tsunami")["results"]] == ["j3"]
    assert [r["source"]["id"] for r in search_json(out, "tectonics")["results"]] == ["j1"]
    assert [r["source"]["id"] for r in search_json(out, "volcanoes")["results"]] == ["good.txt"]


def _run_cli_subprocess(args, timeout=20):
    """Run ``python -m citesearch`` in its own process group; a hang is a failure, not a stall."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "citesearch", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"citesearch {' '.join(map(str, args))} did not finish in {timeout} s (hung); stderr:\n{err}")
    return proc.returncode, out, err


def test_strict_keeps_the_previous_index(tmp_path, tiny_corpus):
    out = tmp_path / "index"
    ok("index", tiny_corpus, "--index", out)
    before = (out / "manifest.json").read_bytes()
    bad = write_bad_corpus(tmp_path / "bad")
    code, stdout, stderr = _run_cli_subprocess(["index", bad, "--index", out, "--strict"])
    assert code == 1, stderr
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "c.jsonl" in errors[0]
    assert (out / "manifest.json").read_bytes() == before
    assert [r["source"]["id"] for r in search_json(out, "volcanoes")["results"]][:1] == ["alpha.txt"]
    assert search_json(out, "tsunami")["results"][0]["source"]["id"] == "d2"
    ok("info", "--index", out, "--verify")


def test_strict_with_a_missing_path_keeps_the_previous_index(tmp_path, tiny_corpus):
    out = tmp_path / "index"
    ok("index", tiny_corpus, "--index", out)
    before = (out / "manifest.json").read_bytes()
    result = fails("index", tiny_corpus, tmp_path / "nope.txt", "--index", out, "--strict")
    assert "nope.txt" in assert_one_error_line(result)
    assert (out / "manifest.json").read_bytes() == before


def test_index_a_path_that_does_not_exist(tmp_path):
    out = tmp_path / "index"
    result = fails("index", tmp_path / "nope", "--index", out)
    assert "nope" in assert_one_error_line(result)
    assert not (out / "manifest.json").exists()


def test_missing_path_among_good_ones(tmp_path, tiny_corpus):
    out = tmp_path / "index"
    result = fails("index", tiny_corpus, tmp_path / "nope", "--index", out)
    assert any(line.startswith("Error:") and "nope" in line for line in result.stderr.splitlines())
    assert search_json(out, "iceland")["results"]  # the rest is indexed


def test_refuses_to_overwrite_a_non_index_directory(tmp_path, tiny_corpus):
    target = tmp_path / "precious"
    target.mkdir()
    (target / "thesis.tex").write_text("do not delete")
    line = assert_one_error_line(fails("index", tiny_corpus, "--index", target))
    assert "precious" in line
    assert sorted(p.name for p in target.iterdir()) == ["thesis.tex"]
    assert (target / "thesis.tex").read_text() == "do not delete"


def test_reindexing_replaces_an_existing_index(tmp_path, tiny_corpus):
    out = tmp_path / "index"
    ok("index", tiny_corpus / "alpha.txt", "--index", out)
    assert search_json(out, "glaciers")["results"] == []
    ok("index", tiny_corpus, "--index", out)
    assert search_json(out, "glaciers")["results"]


# -- batch -------------------------------------------------------------------------------


def parse_trec(text: str) -> dict[str, list[tuple[str, int, float, str]]]:
    run: dict[str, list[tuple[str, int, float, str]]] = {}
    for line in text.splitlines():
        cols = line.split()
        assert len(cols) == 6, line
        qid, q0, doc, rank, score, tag = cols
        assert q0 == "Q0"
        run.setdefault(qid, []).append((doc, int(rank), float(score), tag))
    for rows in run.values():
        assert [r[1] for r in rows] == list(range(1, len(rows) + 1))
        assert [r[2] for r in rows] == sorted((r[2] for r in rows), reverse=True)
    return run


@pytest.mark.parametrize(
    "name, content, qids",
    [
        ("q.txt", "iceland volcanoes\ntsunami earthquakes\n\nglaciers climate\n", ["1", "2", "3"]),
        ("q.tsv", "a\ticeland volcanoes\nb\ttsunami earthquakes\n", ["a", "b"]),
        ("q.jsonl", '{"_id": "x1", "text": "iceland volcanoes"}\n{"_id": "x2", "text": "plates"}\n', ["x1", "x2"]),
    ],
)
def test_batch_writes_a_trec_run(idx, tmp_path, name, content, qids):
    queries = tmp_path / name
    queries.write_text(content, encoding="utf-8")
    out = tmp_path / "run.trec"
    result = ok("batch", queries, "--index", idx, "-o", out)
    assert result.stdout == ""
    run = parse_trec(out.read_text())
    assert list(run) == qids
    assert run[qids[0]][0][0] == "alpha.txt"
    assert all(tag == "citesearch-hybrid" for rows in run.values() for *_, tag in rows)
    for rows in run.values():
        docs = [d for d, *_ in rows]
        assert len(docs) == len(set(docs))  # document level: each document once


def test_batch_to_stdout_and_options(idx, tmp_path):
    queries = tmp_path / "q.tsv"
    queries.write_text("a\ticeland\nb\ttsunami\n")
    out = ok("batch", queries, "--index", idx, "-o", "-", "-k", "2", "--run-name", "mine", "--method", "bm25").stdout
    run = parse_trec(out)
    assert len(run["a"]) == 2 and len(run["b"]) == 1
    assert {tag for rows in run.values() for *_, tag in rows} == {"mine"}
    to_file = tmp_path / "run.trec"
    ok("batch", queries, "--index", idx, "-o", to_file, "-k", "2", "--run-name", "mine", "--method", "bm25")
    assert to_file.read_text() == out


def test_batch_tsv_format(idx, tmp_path):
    queries = tmp_path / "q.tsv"
    queries.write_text("a\ticeland\nb\ttsunami\n")
    out = ok("batch", queries, "--index", idx, "-o", "-", "--format", "tsv").stdout
    rows = [line.split("\t") for line in out.splitlines()]
    assert rows and all(len(r) == 4 for r in rows)
    assert {r[0] for r in rows} == {"a", "b"}
    for qid in ("a", "b"):
        assert [int(r[2]) for r in rows if r[0] == qid] == list(range(1, sum(r[0] == qid for r in rows) + 1))


def test_batch_jsonl_format(idx, tmp_path):
    queries = tmp_path / "q.tsv"
    queries.write_text("a\ticeland\nb\ttsunami\n")
    out = ok("batch", queries, "--index", idx, "-o", "-", "--format", "jsonl").stdout
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in records] == ["a", "b"]
    assert [r["query"] for r in records] == ["iceland", "tsunami"]
    for r in records:
        assert {"results", "sources"} <= set(r)
        assert all(set(x) == RESULT_KEYS for x in r["results"])
        assert len(r["results"]) <= 10


def test_batch_passage_level(idx, tmp_path):
    queries = tmp_path / "q.txt"
    queries.write_text("iceland\n")
    run = parse_trec(ok("batch", queries, "--index", idx, "-o", "-", "--level", "passage").stdout)
    ids = [d for d, *_ in run["1"]]
    assert ids and all("#" in d for d in ids)
    assert any(d.startswith("long.txt#") for d in ids)
    assert len([d for d in ids if d.startswith("long.txt#")]) > 1
    found = search_json(idx, "iceland", "-k", "100")
    assert set(ids) == {r["passage"]["id"] for r in found["results"]}


def test_batch_malformed_query_line(idx, tmp_path):
    queries = tmp_path / "q.jsonl"
    queries.write_text('{"_id": "a", "text": "iceland"}\n{not json\n{"_id": "b", "text": "tsunami"}\n')
    out = tmp_path / "run.trec"
    result = invoke("batch", queries, "--index", idx, "-o", out)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and re.search(r"q\.jsonl(:| line )2\b", errors[0]), result.stderr
    assert list(parse_trec(out.read_text())) == ["a", "b"]


def test_batch_malformed_tsv_line(idx, tmp_path):
    queries = tmp_path / "q.tsv"
    queries.write_text("a\ticeland\njust words without a tab\nb\ttsunami\n")
    result = invoke("batch", queries, "--index", idx, "-o", "-")
    assert result.exit_code == 1
    assert re.search(r"q\.tsv(:| line )2\b", result.stderr)
    assert list(parse_trec(result.stdout)) == ["a", "b"]


def test_batch_missing_index(tmp_path):
    queries = tmp_path / "q.txt"
    queries.write_text("iceland\n")
    assert_one_error_line(fails("batch", queries, "--index", tmp_path / "none", "-o", tmp_path / "run.trec"))
    assert not (tmp_path / "run.trec").exists()


def test_batch_workers_give_the_same_run(idx, tmp_path):
    queries = tmp_path / "q.txt"
    words = ["iceland", "volcanoes", "glaciers", "tsunami", "plates", "geysers", "fishing", "sheep", "winter", "city"]
    queries.write_text("\n".join(f"{a} {b}" for a in words[:5] for b in words[5:]) + "\n")  # 25 queries: 2 chunks
    one = ok("batch", queries, "--index", idx, "-o", "-", "--workers", "1").stdout
    two = ok("batch", queries, "--index", idx, "-o", "-", "--workers", "2").stdout
    assert one == two
    assert list(parse_trec(one)) == [str(i) for i in range(1, 26)]


@pytest.fixture
def spaced_ids(tmp_path):
    """An index whose document ids hold a space, and a TSV query file for it."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "my notes.txt").write_text("Iceland volcanoes erupt often.\n")
    (corpus / "other.txt").write_text("Glaciers melt in summer.\n")
    out = tmp_path / "index"
    ok("index", corpus, "--index", out)
    queries = tmp_path / "q.tsv"
    queries.write_text("q1\ticeland\n")
    return out, queries


def test_batch_run_with_spaces_in_document_ids(spaced_ids):
    """A file name with a space must not break the six TREC columns."""
    out, queries = spaced_ids
    run = ok("batch", queries, "--index", out, "-o", "-").stdout
    for line in run.splitlines():
        assert len(line.split()) == 6, line


def test_evaluate_queries_with_spaces_in_document_ids(spaced_ids, tmp_path):
    """evaluate --index --queries must not crash when a document id holds a space."""
    out, queries = spaced_ids
    qrels = tmp_path / "qrels.txt"
    qrels.write_text("q1 0 other.txt 1\n")
    result = CliRunner().invoke(
        cli, ["evaluate", "--index", str(out), "--queries", str(queries), "--qrels", str(qrels)]
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output


# -- evaluate ----------------------------------------------------------------------------

RUN_A = """\
q1 Q0 alpha.txt 1 3.0 runA
q1 Q0 notes/beta.md 2 2.0 runA
q1 Q0 gamma.html 3 1.0 runA
q2 Q0 d1 1 2.0 runA
q2 Q0 d2 2 1.0 runA
"""
RUN_B = """\
q1 Q0 gamma.html 1 3.0 runB
q1 Q0 alpha.txt 2 2.0 runB
q2 Q0 d2 1 2.0 runB
"""
QRELS = """\
q1 0 alpha.txt 1
q1 0 gamma.html 1
q1 0 notes/beta.md 0
q2 0 d2 1
"""
# runA: q1 AP = (1/1 + 2/3) / 2 = 0.8333, RR 1; q2 AP = 1/2, RR 1/2.
# runB: q1 AP = 1, RR 1; q2 AP = 1, RR 1.


@pytest.fixture
def eval_files(tmp_path):
    a, b, q = tmp_path / "a.trec", tmp_path / "b.trec", tmp_path / "qrels.txt"
    a.write_text(RUN_A)
    b.write_text(RUN_B)
    q.write_text(QRELS)
    return a, b, q


def test_evaluate_text_table(eval_files):
    a, _, q = eval_files
    out = ok("evaluate", a, "--qrels", q, "--metrics", "AP,RR,P@2").stdout
    header, row = out.strip().splitlines()[:2]
    assert header.split() == ["run", "AP", "RR", "P@2", "queries"]
    assert row.split() == ["runA", "0.6667", "0.7500", "0.5000", "2"]


def test_evaluate_default_metrics(eval_files):
    a, _, q = eval_files
    out = ok("evaluate", a, "--qrels", q).stdout
    assert "nDCG@10" in out.splitlines()[0] and "AP" in out.splitlines()[0]
    assert out.splitlines()[1].split()[0] == "runA"


def test_evaluate_json(eval_files):
    a, _, q = eval_files
    data = json.loads(ok("evaluate", a, "--qrels", q, "--metrics", "AP,RR", "--format", "json").stdout)
    assert set(data) == {"runs"}
    assert set(data["runs"]) == {"runA"}
    run = data["runs"]["runA"]
    assert set(run) == {"metrics", "per_query"}
    assert run["metrics"]["AP"] == pytest.approx((5 / 6 + 1 / 2) / 2)
    assert run["metrics"]["RR"] == pytest.approx(0.75)
    assert set(run["per_query"]) == {"q1", "q2"}
    assert run["per_query"]["q1"]["AP"] == pytest.approx(5 / 6)
    assert run["per_query"]["q2"]["RR"] == pytest.approx(0.5)


def test_evaluate_csv(eval_files):
    a, _, q = eval_files
    out = ok("evaluate", a, "--qrels", q, "--metrics", "AP,RR", "--format", "csv").stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["run", "query", "AP", "RR"]
    assert rows[1][:2] == ["runA", "all"] and float(rows[1][2]) == pytest.approx(0.6667, abs=1e-4)
    out = ok("evaluate", a, "--qrels", q, "--metrics", "AP", "--format", "csv", "--per-query").stdout
    per_query = list(csv.reader(io.StringIO(out)))
    assert {tuple(r[:2]) for r in per_query[1:]} >= {("runA", "q1"), ("runA", "q2"), ("runA", "all")}


def test_evaluate_two_runs_compares(eval_files):
    a, b, q = eval_files
    out = ok("evaluate", a, b, "--qrels", q, "--metrics", "AP,RR").stdout
    assert "W/L/T" in out
    table, comparison = out.split("W/L/T", 1)
    assert re.search(r"^runB\s+1\.0000\s+1\.0000\s+2$", table, re.M)
    ap = re.search(r"^runB\s+AP\s+([+-][\d.]+).*\s(\d+)/(\d+)/(\d+)$", comparison, re.M)
    assert ap, comparison
    assert float(ap.group(1)) == pytest.approx(1 - (5 / 6 + 1 / 2) / 2, abs=1e-4)
    assert ap.groups()[1:] == ("2", "0", "0")  # B wins on both queries
    rr = re.search(r"^runB\s+RR\s+\S+.*\s(\d+/\d+/\d+)$", comparison, re.M)
    assert rr and rr.group(1) == "1/0/1"


def test_evaluate_same_tag_twice(eval_files):
    a, _, q = eval_files
    data = json.loads(ok("evaluate", a, a, "--qrels", q, "--metrics", "AP", "--format", "json").stdout)
    assert len(data["runs"]) == 2


def test_evaluate_unknown_metric(eval_files):
    a, _, q = eval_files
    line = assert_one_error_line(fails("evaluate", a, "--qrels", q, "--metrics", "bogus"))
    assert "bogus" in line


def test_evaluate_missing_files(eval_files, tmp_path):
    a, _, q = eval_files
    assert "nope.trec" in assert_one_error_line(fails("evaluate", tmp_path / "nope.trec", "--qrels", q))
    assert "nope.txt" in assert_one_error_line(fails("evaluate", a, "--qrels", tmp_path / "nope.txt"))


def test_evaluate_needs_runs_or_queries(eval_files):
    _, _, q = eval_files
    result = fails("evaluate", "--qrels", q, code=2)
    assert "--queries" in result.stderr


def test_evaluate_end_to_end_from_queries(idx, tmp_path):
    queries = tmp_path / "queries.jsonl"
    queries.write_text('{"_id": "q1", "text": "iceland volcanoes"}\n{"_id": "q2", "text": "tsunami earthquakes"}\n')
    qrels = tmp_path / "qrels.tsv"
    qrels.write_text("query-id\tcorpus-id\tscore\nq1\talpha.txt\t1\nq2\td2\t1\n")
    out = ok("evaluate", "--index", idx, "--queries", queries, "--qrels", qrels, "--metrics", "RR,AP").stdout
    header, row = out.strip().splitlines()[:2]
    assert header.split() == ["run", "RR", "AP", "queries"]
    assert row.split()[0] == "citesearch-hybrid" and row.split()[-1] == "2"
    # The same as writing the run with batch and evaluating it.
    run = tmp_path / "run.trec"
    ok("batch", queries, "--index", idx, "-o", run)
    assert ok("evaluate", run, "--qrels", qrels, "--metrics", "RR,AP").stdout == out
    assert row.split()[1] == "1.0000"  # alpha.txt and d2 come first
