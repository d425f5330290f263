"""End to end on real text: the shared immunotherapy corpus, and the project's examples."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES, ROOT, SHARED, needs_shared

from citesearch.cli import cli

CORPUS = SHARED / "corpus" / "immunotherapy"
ANSWER_PAGE = "can-immunotherapy-eventually-cure-all-major-types-of-cancer.txt"
QUERY = "tuberculosis after pembrolizumab"


def invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False, prog_name="citesearch")
    assert "Traceback" not in result.output
    return result


def search_json(index: Path, query: str, *extra) -> dict:
    result = invoke("search", query, "--index", index, "--format", "json", *extra)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def immuno_index(tmp_path_factory) -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus/immunotherapy is not beside the project")
    out = tmp_path_factory.mktemp("immuno") / "index"
    result = invoke("index", CORPUS, "--index", out)
    assert result.exit_code == 0, result.output
    m = re.search(r"Indexed (\d+) documents into ([\d,]+) passages", result.stderr)
    assert m and int(m.group(1)) == len(list(CORPUS.glob("*.txt")))
    assert "Error:" not in result.stderr and "Warning:" not in result.stderr
    return out


@needs_shared
def test_tuberculosis_query_finds_the_answer_engine_page(immuno_index):
    found = search_json(immuno_index, QUERY)
    assert found["results"]
    top = found["results"][0]
    assert Path(top["source"]["path"]).name == ANSWER_PAGE
    assert top["source"]["id"] == ANSWER_PAGE
    assert "tuberculosis" in top["passage"]["text"].lower()
    assert top["citation"] == 1 and found["sources"][0]["id"] == ANSWER_PAGE


@needs_shared
def test_tuberculosis_query_in_text_output(immuno_index):
    out = invoke("search", QUERY, "--index", immuno_index, "-k", "3").stdout
    first_block = out.split("\n\n", 1)[0]
    assert first_block.lstrip().startswith("1. [1] ")
    assert ANSWER_PAGE in first_block and "tuberculosis" in first_block.lower()
    assert ANSWER_PAGE in out.split("\nSources\n", 1)[1].splitlines()[0]


@needs_shared
@pytest.mark.parametrize("query", [QUERY, "immunotherapy cancer", "checkpoint inhibitors side effects"])
@pytest.mark.parametrize("method", ["bm25", "tfidf", "hybrid"])
def test_passage_text_is_the_file_slice(immuno_index, query, method):
    found = search_json(immuno_index, query, "-k", "40", "--method", method)
    assert found["results"]
    texts: dict[str, str] = {}
    for r in found["results"]:
        path = Path(r["source"]["path"])
        assert path.parent.resolve() == CORPUS.resolve()
        text = texts.setdefault(r["source"]["id"], path.read_text(encoding="utf-8"))
        p = r["passage"]
        assert 0 <= p["start"] < p["end"] <= len(text)
        assert text[p["start"] : p["end"]] == p["text"], (p["id"], p["start"], p["end"])


@needs_shared
@pytest.mark.parametrize("query", [QUERY, "immunotherapy cancer", "T cells tumor"])
def test_citations_are_first_appearance_order(immuno_index, query):
    found = search_json(immuno_index, query, "-k", "20")
    numbers: dict[str, int] = {}
    for r in found["results"]:
        numbers.setdefault(r["source"]["id"], len(numbers) + 1)
        assert r["citation"] == numbers[r["source"]["id"]]
    assert sorted(numbers.values()) == list(range(1, len(numbers) + 1))
    assert [s["citation"] for s in found["sources"]] == list(range(1, len(numbers) + 1))
    assert [s["id"] for s in found["sources"]] == list(numbers)
    assert sum(s["hits"] for s in found["sources"]) == len(found["results"])


@needs_shared
def test_search_does_not_import_nltk_or_sklearn(immuno_index):
    proc = subprocess.run(
        [
            sys.executable, "-X", "importtime", "-m", "citesearch", "search", QUERY,
            "--index", str(immuno_index), "--format", "json",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout)["results"]
    imported = [line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")]
    assert "citesearch.search.searcher" in imported  # the importtime listing is there
    top_level = {name.split(".")[0] for name in imported}
    assert not top_level & {"nltk", "sklearn", "numba"}


def test_examples_index_and_answer_their_queries(tmp_path):
    corpus = EXAMPLES / "coffee"
    if not corpus.is_dir():
        pytest.skip("examples/coffee is not in the project")
    out = tmp_path / "index"
    result = invoke("index", corpus, "--index", out)
    assert result.exit_code == 0, result.output
    assert "Error:" not in result.stderr and "Warning:" not in result.stderr
    queries_file = EXAMPLES / "queries.txt"
    if not queries_file.is_file():
        pytest.skip("examples/queries.txt is not in the project")
    queries = [line.strip() for line in queries_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert queries
    for query in queries:
        found = search_json(out, query)
        assert found["results"], f"no results for example query {query!r}"
