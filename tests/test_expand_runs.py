"""RM3 on the BM25 run of hybrid only (``SearchOptions.expand_runs``, issue 13): the
TF-IDF run ranks the original query, explained with the weights each run ranked."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from click.testing import CliRunner

from citesearch.cli import cli
from citesearch.indexer.manifest import TunedSettings, read_manifest, save_tuned
from citesearch.search.expansion import RM3
from citesearch.search.options import OptionError, SearchOptions
from citesearch.search.searcher import Index

QUERY = "iceland volcanoes eruption"
BM25_ONLY = SearchOptions(method="hybrid", expand=RM3(3, 10, 0.5), expand_runs="bm25", explain=True)


@pytest.mark.parametrize("probabilistic", ["dfr", "bm25"])
def test_the_tfidf_run_ranks_the_original_query(built_index, probabilistic):
    """expand_runs="bm25" expands hybrid's probabilistic run: In_expC2 (the default) or BM25."""
    only = BM25_ONLY.with_(hybrid_with=probabilistic)
    with Index.open(built_index) as index:
        found = index.search(QUERY, k=10, options=only)
        alone = {r.passage.id: r.score for r in index.search(QUERY, k=100, method="tfidf").results}
        expanded = {
            r.passage.id: r.score
            for r in index.search(QUERY, k=100, options=only.with_(method=probabilistic, explain=False)).results
        }
        assert found.results
        for r in found.results:
            bm25, tfidf = r.explanation.parts
            assert (bm25.method, tfidf.method) == (probabilistic, "tfidf")
            if tfidf.rank is not None:
                assert tfidf.score == pytest.approx(alone[r.passage.id], abs=1e-5)
            if bm25.rank is not None:
                assert bm25.score == pytest.approx(expanded[r.passage.id], abs=1e-5)
            # Each part's terms sum to its score: TF-IDF's are the original query's only.
            for part in (bm25, tfidf):
                assert sum(t.score for t in part.terms) == pytest.approx(part.score, abs=1e-5)
            assert {t.term for t in tfidf.terms} < {t.term for t in bm25.terms}
        # With every run expanded, the TF-IDF part has the expansion terms too.
        every = index.search(QUERY, k=3, options=only.with_(expand_runs="all")).results
        assert {t.term for t in every[0].explanation.parts[1].terms} == {
            t.term for t in every[0].explanation.parts[0].terms
        }


def test_tfidf_alone_with_bm25_only_feedback_is_unexpanded(built_index):
    with Index.open(built_index) as index:
        plain = index.rank(QUERY, method="tfidf")
        ranked = index.rank(QUERY, BM25_ONLY.with_(method="tfidf"))
        assert ranked.top()[0].tolist() == plain.top()[0].tolist()
        assert ranked.top()[1].tolist() == plain.top()[1].tolist()


def test_options_round_trip_validate_and_describe():
    assert SearchOptions.from_dict(json.loads(json.dumps(BM25_ONLY.to_dict()))) == BM25_ONLY
    assert SearchOptions.from_dict({}).expand_runs is None
    with pytest.raises(OptionError, match="expand_runs"):
        SearchOptions(expand_runs="tfidf")
    described = replace(BM25_ONLY, fusion="rrf", rrf_k=60)
    assert "RM3 3 docs, 10 terms, weight 0.5 (BM25 run only)" in described.describe()
    assert "BM25 run only" not in described.with_(expand_runs="all").describe()


def test_resolved_from_the_index_and_its_tuned_settings(built_index):
    manifest = read_manifest(built_index)
    assert SearchOptions().resolve(manifest).expand_runs == "all"
    tuned = SearchOptions(expand=RM3(3, 10, 0.5), expand_runs="bm25").resolve(manifest).tuned(metric="nDCG@10")
    assert TunedSettings.from_dict(json.loads(json.dumps(tuned.to_dict()))) == tuned
    old = tuned.to_dict()
    del old["expand_runs"]  # saved before the option existed
    assert TunedSettings.from_dict(old).expand_runs == "all"
    save_tuned(built_index, tuned)
    with Index.open(built_index) as index:
        assert index.options().expand_runs == "bm25"
        assert index.options(expand_runs="all").expand_runs == "all"


def test_cli_expand_runs(built_index):
    def run(*args):
        result = CliRunner().invoke(
            cli, ["search", QUERY, "--index", str(built_index), "--format", "json", *args], catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        return json.loads(result.output)["results"]

    bm25_only = run("--expand", "rm3", "--expand-runs", "bm25", "--explain")
    for r in bm25_only:
        for part in r["explain"]["parts"]:
            assert sum(t["score"] for t in part["terms"]) == pytest.approx(part["score"], abs=1e-5)
    assert run("--expand", "rm3", "--expand-runs", "all") == run("--expand", "rm3")
    bad = CliRunner().invoke(cli, ["search", QUERY, "--index", str(built_index), "--expand-runs", "tfidf"])
    assert bad.exit_code == 2
    help_text = CliRunner().invoke(cli, ["batch", "--help"]).output
    assert "--expand-runs" in help_text
