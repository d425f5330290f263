"""The command line, end to end, with click's CliRunner (and one real subprocess)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, SHARED, needs_shared

from citesearch.cli import cli


def run(*args, env=None, ok=True):
    result = CliRunner().invoke(cli, [str(a) for a in args], env=env, catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return result


@pytest.fixture
def index_dir(tiny_corpus, tmp_path):
    out = tmp_path / "idx"
    result = run("index", tiny_corpus, "--index", out)
    assert "Indexed 5 documents" in result.stderr
    return out


@pytest.mark.parametrize("command", ["index", "search", "info", "batch", "evaluate"])
def test_every_command_has_help_with_an_example(command):
    assert "Example:" in run(command, "-h").stdout


def test_version():
    assert run("--version").stdout.startswith("citesearch, version ")


def test_search_text_output(index_dir):
    out = run("search", "iceland volcanoes", "--index", index_dir).stdout
    assert out.startswith("  1. [1] ")
    assert "\nSources\n[1] " in out and "(1 result)" in out
    assert "\x1b[" not in out  # not a terminal: no colour


def test_search_color_and_no_color(index_dir):
    assert "\x1b[1m" in run("search", "iceland", "--index", index_dir, "--color").stdout
    assert "\x1b[" not in run("search", "iceland", "--index", index_dir, env={"NO_COLOR": "1"}).stdout


def test_search_formats(index_dir):
    found = json.loads(run("search", "iceland", "--index", index_dir, "--format", "json").stdout)
    assert set(found) == {"query", "method", "results", "sources"} and found["method"] == "hybrid"
    lines = run("search", "iceland", "--index", index_dir, "--format", "jsonl").stdout.splitlines()
    assert len(lines) == len(found["results"]) and json.loads(lines[0])["rank"] == 1
    md = run("search", "iceland", "--index", index_dir, "--format", "markdown").stdout
    assert "[1]" in md and "**Sources**" in md and "**Iceland**" in md


def test_search_options(index_dir):
    out = run("search", "iceland glacier", "--index", index_dir, "--method", "bm25", "--explain", "-k", "1").stdout
    assert "idf" in out and "tf part" in out
    found = json.loads(run("search", "iceland", "--index", index_dir, "--per-source", "1", "--format", "json").stdout)
    assert len({r["source"]["id"] for r in found["results"]}) == len(found["results"])


def test_index_from_environment(index_dir):
    assert "[1]" in run("search", "iceland", env={"CITESEARCH_INDEX": str(index_dir)}).stdout
    assert "Contents   5 sources" in run("info", env={"CITESEARCH_INDEX": str(index_dir)}).stdout


@pytest.mark.parametrize(
    "args,message",
    [
        (["search", "iceland", "--index", "/nonexistent/idx"], "no citesearch index"),
        (["search", "the of", "--index", "{idx}"], "only stop words"),
        (["search", "", "--index", "{idx}"], "no search terms"),
        (["index", "/nonexistent/docs", "--index", "{tmp}/new"], "no such file"),
    ],
)
def test_errors_are_one_line_without_traceback(index_dir, tmp_path, args, message):
    args = [a.format(idx=index_dir, tmp=tmp_path) for a in args]
    result = run(*args, ok=False)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("Error: ") and message in lines[-1]


def test_unknown_index_version(index_dir):
    m = json.loads((index_dir / "manifest.json").read_text())
    m["format_version"] = 7
    (index_dir / "manifest.json").write_text(json.dumps(m))
    result = run("search", "iceland", "--index", index_dir, ok=False)
    assert result.exit_code == 1 and "format version 7" in result.stderr


def test_bad_inputs_at_index_time(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "good.txt").write_text("Good title\n\nAurora borealis over Tromsø.")
    (docs / "bin.txt").write_bytes(b"\x00\x01binary")
    (docs / "empty.md").write_text("")
    (docs / "bad.txt").write_bytes(b"caf\xe9 crema\n")
    (docs / "c.jsonl").write_text('{"_id": "a", "text": "midnight sun"}\n{oops\n')
    result = run("index", docs, "--index", tmp_path / "idx", ok=False)
    assert result.exit_code == 1
    assert "c.jsonl:2: malformed JSON" in result.stderr
    assert "binary file" in result.stderr and "empty file" in result.stderr and "invalid UTF-8" in result.stderr
    assert "Indexed 3 documents" in result.stderr
    for query in ("aurora", "midnight", "crema"):
        assert "[1]" in run("search", query, "--index", tmp_path / "idx").stdout


def test_strict_keeps_the_previous_index(index_dir, tmp_path):
    before = (index_dir / "manifest.json").read_text()
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "c.jsonl").write_text('{"_id": "a", "text": "x"}\nnot json\n')
    result = run("index", bad, "--index", index_dir, "--strict", ok=False)
    assert result.exit_code == 1 and "c.jsonl:2" in result.stderr
    assert (index_dir / "manifest.json").read_text() == before
    assert "[1]" in run("search", "iceland", "--index", index_dir).stdout


def test_refuses_to_overwrite_a_directory_of_documents(tiny_corpus):
    result = run("index", tiny_corpus, "--index", tiny_corpus, ok=False)
    assert result.exit_code == 1 and "refusing" in result.stderr


def test_batch_formats_and_levels(index_dir, tmp_path):
    (tmp_path / "q.txt").write_text("iceland volcanoes\ngeyser\n\nplates\n")
    run("batch", tmp_path / "q.txt", "--index", index_dir, "-o", tmp_path / "run.trec")
    lines = [line.split() for line in (tmp_path / "run.trec").read_text().splitlines()]
    assert {row[0] for row in lines} == {"1", "2", "3"}
    assert all(len(row) == 6 and row[1] == "Q0" and row[5] == "citesearch-hybrid" for row in lines)
    assert [int(r[3]) for r in lines if r[0] == "1"] == list(range(1, 1 + sum(r[0] == "1" for r in lines)))
    out = run(
        "batch", tmp_path / "q.txt", "--index", index_dir, "-o", "-", "--format", "tsv", "--level", "passage"
    ).stdout
    assert all("#" in line.split("\t")[1] for line in out.splitlines())
    out = run("batch", tmp_path / "q.txt", "--index", index_dir, "-o", "-", "--format", "jsonl").stdout
    assert [json.loads(line)["id"] for line in out.splitlines()] == ["1", "2", "3"]


def test_batch_reports_malformed_lines_and_runs_the_rest(index_dir, tmp_path):
    (tmp_path / "q.tsv").write_text("a\ticeland\nno tab here\nb\tgeyser\n")
    result = run("batch", tmp_path / "q.tsv", "--index", index_dir, "-o", tmp_path / "run", ok=False)
    assert result.exit_code == 1 and "q.tsv:2:" in result.stderr
    assert {line.split()[0] for line in (tmp_path / "run").read_text().splitlines()} == {"a", "b"}


def test_evaluate_runs_and_compares(index_dir, tmp_path):
    (tmp_path / "q.tsv").write_text("1\ticeland volcanoes\n2\tgeyser water\n")
    (tmp_path / "qrels").write_text("1 0 alpha.txt 2\n1 0 notes/beta.md 1\n2 0 gamma.html 1\n3 0 d1 1\n")
    for method in ("bm25", "tfidf"):
        run("batch", tmp_path / "q.tsv", "--index", index_dir, "-o", tmp_path / f"{method}.trec", "--method", method)
    out = run("evaluate", tmp_path / "bm25.trec", "--qrels", tmp_path / "qrels").stdout
    assert "citesearch-bm25" in out and "nDCG@10" in out and "1 judged queries not in the run" in out
    data = json.loads(run("evaluate", tmp_path / "bm25.trec", "--qrels", tmp_path / "qrels", "--format", "json").stdout)
    assert set(data["runs"]["citesearch-bm25"]) == {"metrics", "per_query"}
    assert set(data["runs"]["citesearch-bm25"]["per_query"]) == {"1", "2"}
    complete = json.loads(
        run("evaluate", tmp_path / "bm25.trec", "--qrels", tmp_path / "qrels", "--format", "json", "-c").stdout
    )
    assert set(complete["runs"]["citesearch-bm25"]["per_query"]) == {"1", "2", "3"}
    csv_out = run("evaluate", tmp_path / "bm25.trec", "--qrels", tmp_path / "qrels", "--format", "csv").stdout
    assert csv_out.splitlines()[0] == "run,query,nDCG@10,AP,R@100,P@10,RR"
    both = run("evaluate", tmp_path / "bm25.trec", tmp_path / "tfidf.trec", "--qrels", tmp_path / "qrels").stdout
    assert "W/L/T" in both and "Holm" in both
    bad = run("evaluate", tmp_path / "bm25.trec", "--qrels", tmp_path / "qrels", "--metrics", "nDCG@10,Foo", ok=False)
    assert bad.exit_code == 1 and "unknown measure 'Foo'" in bad.stderr


@needs_shared
def test_evaluate_from_the_index_in_one_command(tmp_path):
    d = SHARED / "collections" / "cisi"
    run("index", d / "corpus.jsonl", "--index", tmp_path / "idx")
    data = json.loads(
        run(
            "evaluate",
            "--index",
            tmp_path / "idx",
            "--queries",
            d / "queries.jsonl",
            "--qrels",
            d / "qrels" / "test.tsv",
            "--format",
            "json",
        ).stdout
    )
    metrics = data["runs"]["citesearch-hybrid"]["metrics"]
    # The quality floor: at least the best anchor (scikit-learn TF-IDF) on cisi.
    assert metrics["nDCG@10"] >= 0.4038 and metrics["R@100"] >= 0.4529


@needs_shared
def test_immunotherapy_answer_engine_passage_comes_first(tmp_path):
    corpus = SHARED / "corpus" / "immunotherapy"
    run("index", corpus, "--index", tmp_path / "idx")
    found = json.loads(
        run("search", "tuberculosis after pembrolizumab", "--index", tmp_path / "idx", "--format", "json").stdout
    )
    top = found["results"][0]
    assert top["source"]["id"] == "can-immunotherapy-eventually-cure-all-major-types-of-cancer.txt"
    assert "tuberculosis" in top["passage"]["text"] and "pembrolizumab" in top["passage"]["text"]
    for r in found["results"]:
        text = (corpus / r["source"]["id"]).read_text(encoding="utf-8")
        assert text[r["passage"]["start"] : r["passage"]["end"]] == r["passage"]["text"]


def test_search_process_imports_neither_nltk_nor_sklearn_nor_numba(index_dir):
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "citesearch", "search", "iceland", "--index", str(index_dir)],
        capture_output=True, text=True, check=True,
    )
    imported = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if "|" in line}
    assert "citesearch" in imported
    assert not imported & {"nltk", "sklearn", "numba"}
    assert "[1]" in proc.stdout


@pytest.mark.skipif(not (EXAMPLES / "coffee").is_dir(), reason="no bundled example corpus")
def test_bundled_examples_answer_their_queries(tmp_path):
    result = run("index", EXAMPLES / "coffee", "--index", tmp_path / "idx")
    assert "Warning" not in result.stderr
    for query in (EXAMPLES / "queries.txt").read_text().splitlines():
        if query.strip():
            assert "[1]" in run("search", query, "--index", tmp_path / "idx").stdout, query
