"""Sharded indexes (issue 17): every ranking equals the single index's, built locally or on a
real Dask cluster (a ``distributed.LocalCluster`` of worker processes), and batch, evaluate
and tune on the cluster give what they give locally."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED, fails, needs_shared, ok

from citesearch.cluster import LocalRunner
from citesearch.corpus import LoadReport, discover, read_documents
from citesearch.indexer.builder import build_index
from citesearch.indexer.sharding import Part, ShardReader, build_sharded, plan
from citesearch.search.options import SearchOptions
from citesearch.search.searcher import Index
from citesearch.search.sharded import ShardedIndex

pytestmark = needs_shared
COLLECTIONS = SHARED / "collections"


def _collection(name: str) -> tuple[Path, list[dict]]:
    folder = COLLECTIONS / name
    return folder / "corpus.jsonl", [json.loads(line) for line in (folder / "queries.jsonl").open()]


@pytest.fixture(scope="module")
def pair(tmp_path_factory, request):
    """(single index, 3-shard index) of a shared collection, and its queries."""
    name = request.param
    corpus, queries = _collection(name)
    root = tmp_path_factory.mktemp(f"shards-{name}")
    build_index(read_documents(discover([corpus]), LoadReport()), root / "single")
    build_sharded(discover([corpus]), root / "sharded", 3, run=LocalRunner(2))
    with Index.open(root / "single") as single, Index.open(root / "sharded") as sharded:
        yield single, sharded, queries, root


def _same_ranking(a, b) -> None:
    rows_a, scores_a = a
    rows_b, scores_b = b
    assert rows_a.tolist() == rows_b.tolist()
    np.testing.assert_allclose(scores_b, scores_a, rtol=1e-6, atol=0)


SETTINGS = [
    {"method": "bm25"},
    {"method": "tfidf"},
    {"method": "dfr"},
    {"method": "hybrid"},
    {"method": "hybrid", "hybrid_with": "bm25"},
    {"method": "hybrid", "fusion": "linear"},
    {"method": "bm25", "expand": "rm3"},
    {"method": "hybrid", "expand": "rm3"},
    {"method": "bm25", "bm25": "other"},  # not the index's parameters: weighed at query time, global idf
]


def _options(settings: dict) -> SearchOptions:
    from citesearch.indexer.bm25 import BM25Params
    from citesearch.search.expansion import RM3

    s = dict(settings)
    if s.get("expand") == "rm3":
        s["expand"] = RM3()
    if s.get("bm25") == "other":
        s["bm25"] = BM25Params("lucene", 1.5, 0.75)
    return SearchOptions(**s)


@pytest.mark.parametrize("pair", ["adi", "cisi"], indirect=True)
@pytest.mark.parametrize("settings", SETTINGS, ids=lambda s: "-".join(map(str, s.values())))
def test_passage_rankings_equal_the_single_index(pair, settings):
    single, sharded, queries, _ = pair
    opts = _options(settings)
    for q in queries:
        expected = single.rank(q["text"], opts, depth=100).top(100)
        _same_ranking(expected, sharded.rank(q["text"], opts, depth=100).top(100))


@pytest.mark.parametrize("pair", ["cisi"], indirect=True)
@pytest.mark.parametrize("aggregate", ["max", "sum", "mean"])
def test_document_rankings_equal_the_single_index(pair, aggregate):
    single, sharded, queries, _ = pair
    for q in queries:
        a = single.rank_documents(q["text"], 100, aggregate=aggregate)
        b = sharded.rank_documents(q["text"], 100, aggregate=aggregate)
        assert [d for d, _ in a] == [d for d, _ in b]
        np.testing.assert_allclose([s for _, s in b], [s for _, s in a], rtol=1e-6)


@pytest.mark.parametrize("pair", ["cisi"], indirect=True)
@pytest.mark.parametrize(
    "query",
    [
        '"information retrieval" systems',
        "library catalog -computer",
        "indexing source:*.jsonl",
        "title:retrieval evaluation",
        "automat* indexing",
        "library -catalog* use",
    ],
)
@pytest.mark.parametrize("method", ["bm25", "hybrid"])
def test_filters_phrases_prefixes_and_results_equal_the_single_index(pair, query, method):
    """The search results, citations and Sources lists included, are the same."""
    single, sharded, _, _ = pair
    for per_source in (None, 1):
        a = single.search(query, k=15, method=method, per_source=per_source).to_dict()
        b = sharded.search(query, k=15, method=method, per_source=per_source).to_dict()
        assert a == b


@pytest.mark.parametrize("pair", ["adi"], indirect=True)
def test_explanations_and_records_equal_the_single_index(pair):
    single, sharded, queries, _ = pair
    for method in ("bm25", "hybrid"):
        a = single.search(queries[0]["text"], k=5, method=method, explain=True).to_dict()
        b = sharded.search(queries[0]["text"], k=5, method=method, explain=True).to_dict()
        assert a == b
    assert [s.id for s in single.sources()] == [s.id for s in sharded.sources()]
    some = single.sources()[40]
    found_a, found_b = single.lookup(some.id), sharded.lookup(some.id)
    assert [p.text for p in found_a[1]] == [p.text for p in found_b[1]]
    assert sharded.reader.verify() == []


@pytest.mark.parametrize("pair", ["cisi"], indirect=True)
def test_citing_a_text_equals_the_single_index(pair):
    """Claims from documents in each shard, and one no document supports: the claims,
    their support, citations and sources, and the check of a text's own citations."""
    single, sharded, _, _ = pair
    sources = single.sources()
    picked = [sources[i] for i in (3, len(sources) // 2, len(sources) - 4)]
    claims = []
    for source in picked:
        first = single.lookup(source.id)[1][0].text
        claims.append(first.split(". ")[0].rstrip(".") + ".")
    made_up = "Volcanic eruptions in Iceland are predicted by counting library books."
    text = " ".join(claims) + " " + made_up
    a, b = single.cite(text).to_dict(), sharded.cite(text).to_dict()
    assert a == b and len(a["claims"]) >= 4
    assert {c["status"] for c in a["claims"]} == {"supported", "unsupported"}
    listed = "\n".join(f"{i}. {s.id}" for i, s in enumerate(picked, 1))
    cited = f"{claims[0][:-1]} [1]. {claims[1][:-1]} [3]. {made_up[:-1]} [2].\n\n## Sources\n\n{listed}\n"
    a, b = single.check_citations(cited).to_dict(), sharded.check_citations(cited).to_dict()
    assert a == b


@pytest.mark.parametrize("pair", ["cisi"], indirect=True)
def test_the_shards_hold_the_single_indexs_weights(pair):
    """Two-phase build: each shard's weights are the single index's for its passages, to the bit."""
    single, sharded, _, _ = pair
    assert isinstance(sharded, ShardedIndex) and sharded.n_shards == 3
    assert sharded.manifest.counts == single.manifest.counts
    assert sharded.manifest.avg_passage_length == single.manifest.avg_passage_length
    names = single.reader.term_strings(list(range(single.manifest.counts.terms)))
    ids = sharded.analyzer.reader.terms_by_string(list(names.values()))
    for shard in sharded.shards.shards:
        r = shard.reader
        for term, name in list(names.items())[::7]:
            g = ids[name]
            mine = slice(int(r.indptr[g]), int(r.indptr[g + 1]))
            theirs = slice(int(single.reader.indptr[term]), int(single.reader.indptr[term + 1]))
            rows = single.reader.postings[theirs]
            inside = (rows >= shard.first_row) & (rows < shard.first_row + shard.n)
            assert (r.postings[mine] + shard.first_row).tolist() == rows[inside].tolist()
            for kind in ("bm25_weights", "tfidf_weights", "dfr_weights"):
                assert r[kind][mine].tolist() == single.reader[kind][theirs][inside].tolist()


def test_a_jsonl_file_is_cut_at_line_starts(tmp_path):
    lines = [json.dumps({"_id": f"d{i}", "text": f"document number {i} " + "word " * (i % 7)}) for i in range(50)]
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("\n\n".join(lines) + "\n")
    files = discover([corpus])
    for n in (1, 2, 3, 7):
        parts = plan(files, n)
        read = []
        for shard in parts:
            reader = ShardReader(shard, LoadReport())
            read += [d.id for d in reader]
        assert read == [f"d{i}" for i in range(50)], n
    # line numbers of a later part are the file's
    report = LoadReport()
    corpus.write_text("\n".join(lines[:3]) + "\n{broken\n" + "\n".join(lines[3:]) + "\n")
    size = corpus.stat().st_size
    docs = list(ShardReader([Part(files[0], len(lines[0]) + 5, size)], report))  # from inside line 2
    assert [d.id for d in docs][:2] == ["d2", "d3"] and len(docs) == 48  # line 2 is the part before's
    assert len(report.errors) == 1 and ":4:" in report.errors[0]


def test_small_input_and_bad_counts_fail_clearly(tmp_path):
    (tmp_path / "a.txt").write_text("alpha beta gamma")
    fails("index", tmp_path / "a.txt", "--index", tmp_path / "idx", "--shards", "2")
    assert not (tmp_path / "idx").exists()
    fails("index", tmp_path / "a.txt", "--index", tmp_path / "idx", "--shards", "0", code=2)
    fails("index", tmp_path / "a.txt", "--index", tmp_path / "idx", "--scheduler", "tcp://127.0.0.1:9", code=2)


@needs_shared
def test_cli_search_on_a_sharded_index_and_single_index_commands(tmp_path):
    corpus, _ = _collection("adi")
    ok("index", corpus, "--index", tmp_path / "one")
    ok("index", corpus, "--index", tmp_path / "three", "--shards", "3")
    for args in (["retrieval of documents"], ["computer", "-k", "3", "--format", "json"]):
        a = ok("search", "--index", tmp_path / "one", *args).output
        b = ok("search", "--index", tmp_path / "three", *args).output
        assert a == b
    ok("sources", "--index", tmp_path / "three")
    # indexing the same input again updates the sharded index in place (nothing changed);
    # a shard count change needs --rebuild
    assert "Nothing changed" in ok("index", corpus, "--index", tmp_path / "three").stderr
    assert "Shards     3" in ok("info", "--index", tmp_path / "three", "--verify").stdout
    fails("index", corpus, "--index", tmp_path / "one", "--shards", "2")
    ok("index", corpus, "--index", tmp_path / "one", "--shards", "2", "--rebuild")
    assert Index.open(tmp_path / "one").n_shards == 2


def test_the_single_index_query_path_does_not_import_dask(built_index):
    code = (
        "import sys\n"
        "from citesearch.cli import main\n"
        f"sys.argv = ['citesearch', 'search', '--index', {str(built_index)!r}, 'iceland']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


# -- on a real cluster --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip(
        "distributed", reason="Dask's distributed is not installed (pip install 'citesearch[distributed]')"
    )
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, silence_logs=40
    ) as local:
        yield local.scheduler_address


@pytest.fixture(scope="module")
def on_cluster(cluster, tmp_path_factory):
    """adi indexed once, single, and in 3 shards built on the cluster."""
    corpus, _ = _collection("adi")
    root = tmp_path_factory.mktemp("cluster")
    ok("index", corpus, "--index", root / "single")
    ok("index", corpus, "--index", root / "sharded", "--shards", "3", "--scheduler", cluster)
    return root


def test_cluster_build_equals_the_local_one(on_cluster, tmp_path):
    corpus, queries = _collection("adi")
    build_sharded(discover([corpus]), tmp_path / "local", 3)
    with Index.open(on_cluster / "sharded") as a, Index.open(tmp_path / "local") as b, \
            Index.open(on_cluster / "single") as single:
        for q in queries:
            for method in ("bm25", "tfidf", "hybrid"):
                top = single.rank(q["text"], method=method, depth=50).top(50)
                _same_ranking(top, a.rank(q["text"], method=method, depth=50).top(50))
                _same_ranking(top, b.rank(q["text"], method=method, depth=50).top(50))


@pytest.mark.parametrize("extra", [[], ["--level", "passage", "--method", "bm25"], ["--format", "jsonl"]])
def test_batch_on_the_cluster_equals_a_local_run(cluster, on_cluster, tmp_path, extra):
    _, _ = _collection("adi")
    queries = COLLECTIONS / "adi" / "queries.jsonl"
    ok("batch", queries, "--index", on_cluster / "single", "-o", tmp_path / "local.run", *extra)
    ok("batch", queries, "--index", on_cluster / "sharded", "-o", tmp_path / "sharded.run", *extra)
    ok("batch", queries, "--index", on_cluster / "sharded", "-o", tmp_path / "cluster.run", "--scheduler", cluster,
       *extra)
    ok("batch", queries, "--index", on_cluster / "single", "-o", tmp_path / "cluster1.run", "--scheduler", cluster,
       *extra)
    local = (tmp_path / "local.run").read_text()
    assert local
    for name in ("sharded.run", "cluster.run", "cluster1.run"):
        assert (tmp_path / name).read_text() == local, name


def test_evaluate_and_tune_on_the_cluster_equal_a_local_run(cluster, on_cluster):
    folder = COLLECTIONS / "adi"
    args = ["--queries", folder / "queries.jsonl", "--qrels", folder / "qrels.txt"]
    local = ok("evaluate", "--index", on_cluster / "single", *args).stdout
    assert ok("evaluate", "--index", on_cluster / "sharded", *args, "--scheduler", cluster).stdout == local
    tune = ["tune", *args, "--folds", "2", "--format", "json"]
    a = json.loads(ok(*tune, "--index", on_cluster / "single").stdout)
    b = json.loads(ok(*tune, "--index", on_cluster / "sharded", "--scheduler", cluster).stdout)
    for result in (a, b):
        result.pop("seconds", None)
    assert a == b


def test_an_unreachable_scheduler_is_one_clear_error(on_cluster, tmp_path, monkeypatch):
    pytest.importorskip("distributed", reason="Dask's distributed is not installed")
    import citesearch.cluster

    monkeypatch.setattr(citesearch.cluster, "CONNECT_TIMEOUT", 1)
    queries = COLLECTIONS / "adi" / "queries.jsonl"
    result = fails("batch", queries, "--index", on_cluster / "sharded", "-o", tmp_path / "x.run",
                   "--scheduler", "tcp://127.0.0.1:9")
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in result.output
    assert not (tmp_path / "x.run").exists()


def test_the_first_document_with_an_id_wins_across_shards(tmp_path):
    docs = [{"_id": f"d{i}", "text": f"text of document {i} about topic {i % 5} and more words"} for i in range(40)]
    docs[30] = {"_id": "d3", "text": "a later duplicate with unique words zebra"}
    corpus = tmp_path / "c.jsonl"
    corpus.write_text("\n".join(json.dumps(d) for d in docs) + "\n")
    build_index(read_documents(discover([corpus]), LoadReport()), tmp_path / "one")
    report = LoadReport()
    build_sharded(discover([corpus]), tmp_path / "four", 4, report=report)
    assert report.duplicates == ["d3 (" + str(corpus) + ")"] or len(report.duplicates) == 1
    with Index.open(tmp_path / "one") as a, Index.open(tmp_path / "four") as b:
        assert a.manifest.counts == b.manifest.counts
        for q in ("topic document", "zebra", "words 7"):
            for method in ("bm25", "tfidf", "hybrid"):
                _same_ranking(a.rank(q, method=method, depth=50).top(50), b.rank(q, method=method, depth=50).top(50))
