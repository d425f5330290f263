"""``citesearch tune`` and its library (``citesearch.evaluation.tuning``): the staged
search, the cross-validation arithmetic, saving settings in the index, and the options
that travel with them (RRF k, linear weight, unset vs. saved).

The collection is synthetic, made so that one setting is clearly better: each query is
one rare word; two short documents hold it once and three long ones hold it a few times
among a hundred or so other words. TF-IDF's cosine puts the short ones first; BM25 with
the default b = 0.4 does not, and neither does their fusion. The short ones are the
relevant ones for two queries in three, the long ones for the third, so that per-query
scores differ and which queries a fold holds out matters.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from citesearch.cli import cli
from citesearch.evaluation import tuning
from citesearch.evaluation.tuning import STAGES, folds_of, mean
from citesearch.indexer.bm25 import BM25Params
from citesearch.indexer.manifest import read_manifest
from citesearch.search.expansion import RM3
from citesearch.search.options import UNSET, OptionError, SearchOptions
from citesearch.search.searcher import Index

N_QUERIES = 24
FILLER = [f"f{i:03d}q" for i in range(400)]
KEYS = ("metric", "folds", "default", "best", "cross_validated", "saved")


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """(index folder, queries file, qrels file) of the synthetic collection."""
    from citesearch.corpus import load_documents
    from citesearch.indexer.builder import build_index

    rng = random.Random(3)
    tmp = tmp_path_factory.mktemp("tune")
    docs, qrels, queries = [], [], []
    for q in range(N_QUERIES):
        word = f"t{q:03d}k"
        queries.append({"_id": f"q{q + 1}", "text": word})
        short_relevant = q % 3 != 2  # else the long ones are: TF-IDF's order is wrong for a third
        for r in range(2):
            text = f"{word} {' '.join(rng.sample(FILLER, rng.randint(1, 4)))}"
            docs.append({"_id": f"short{q}-{r}", "title": "", "text": text})
            qrels.append(f"q{q + 1} 0 short{q}-{r} {int(short_relevant)}")
        for n in range(3):
            words = rng.choices(FILLER, k=rng.randint(60, 180)) + [word] * rng.randint(3, 10)
            rng.shuffle(words)
            docs.append({"_id": f"long{q}-{n}", "title": "", "text": " ".join(words)})
            qrels.append(f"q{q + 1} 0 long{q}-{n} {int(not short_relevant)}")
    with open(tmp / "corpus.jsonl", "w") as f:
        f.writelines(json.dumps(d) + "\n" for d in docs)
    with open(tmp / "queries.jsonl", "w") as f:
        f.writelines(json.dumps(q) + "\n" for q in queries)
        f.write(json.dumps({"_id": "unjudged", "text": FILLER[0]}) + "\n")  # no judgments: left out
    (tmp / "qrels.txt").write_text("\n".join(qrels) + "\n")
    build_index(load_documents([tmp / "corpus.jsonl"]), tmp / "index", workers=1)
    return tmp / "index", tmp / "queries.jsonl", tmp / "qrels.txt"


@pytest.fixture(scope="module")
def result(collection):
    index, queries, qrels = collection
    return tuning.tune(index, queries, qrels, metric="nDCG@10", folds=4, seed=0, workers=1)


def run(*args, input=None):
    return CliRunner().invoke(cli, [str(a) for a in args], input=input, prog_name="citesearch")


def ok(*args, input=None):
    r = run(*args, input=input)
    assert r.exit_code == 0, (args, r.output, r.exception)
    return r


def copy_index(collection, tmp_path):
    import shutil

    shutil.copytree(collection[0], tmp_path / "index")
    return tmp_path / "index"


# -- the search and the cross-validation ------------------------------------------------------


def test_one_setting_is_clearly_better(result):
    assert result.queries == tuple(f"q{i}" for i in range(1, N_QUERIES + 1))  # judged only, natural order
    assert result.default.method == "hybrid"
    assert result.best.method == "tfidf"
    tfidf = result.default.with_(method="tfidf")
    assert result.score(tfidf) > result.default_score + 0.1
    assert result.best_score >= result.score(tfidf)
    assert all(f.settings.method == "tfidf" for f in result.folds)


def test_folds_partition_the_queries(result):
    held = [q for f in result.folds for q in f.queries]
    assert sorted(held) == sorted(result.queries) and len(held) == len(set(held))
    sizes = [len(f.queries) for f in result.folds]
    assert len(sizes) == 4 and max(sizes) - min(sizes) <= 1
    for k, n in ((2, 5), (3, 10), (5, 12), (7, 7)):
        qids = [f"q{i}" for i in range(n)]
        parts = folds_of(qids, k, seed=9)
        assert len(parts) == k and sorted(q for p in parts for q in p) == sorted(qids)
        assert max(map(len, parts)) - min(map(len, parts)) <= 1


def test_in_sample_best_beats_every_candidate(result):
    assert result.best in result.searched and result.default in result.searched
    assert len(result.searched) > 20
    for settings in result.searched:
        assert result.best_score >= result.score(settings)
    assert result.best_score == max(result.score(s) for s in result.searched)


def test_cross_validated_score_by_hand(result):
    position = {q: i for i, q in enumerate(result.queries)}
    by_hand = []
    for fold in result.folds:
        held = [position[q] for q in fold.queries]
        rest = [i for i in range(len(result.queries)) if i not in held]
        values = result.scores[fold.settings]
        assert fold.score == sum(values[held].tolist()) / len(held)
        assert fold.train_score == sum(values[rest].tolist()) / len(rest)
        by_hand.append(fold.score)
    assert result.cv_score == sum(by_hand) / len(by_hand)
    assert result.to_dict()["cross_validated"]["per_fold"][0]["score"] == by_hand[0]


def test_each_fold_chooses_on_its_training_queries_only(result):
    """Replaying the staged search from the cached scores on each fold's training queries
    alone gives the fold's choice: the held-out queries had no say in it."""
    position = {q: i for i, q in enumerate(result.queries)}
    for fold in result.folds:
        rows = np.array([i for q, i in position.items() if q not in fold.queries])
        current = result.default
        for _, candidates_of in STAGES:
            candidates = list(dict.fromkeys([current, *candidates_of(current)]))
            means = [mean(result.scores[c][rows]) for c in candidates]
            current = candidates[means.index(max(means))]
        assert current == fold.settings


def test_the_method_stage_offers_both_hybrids_and_the_bm25_stage_only_what_bm25_ranks(result):
    searched = set(result.searched)
    assert result.default.hybrid_with == "dfr"
    assert result.default.with_(method="hybrid", hybrid_with="bm25") in searched
    assert result.default.with_(method="dfr") in searched
    # Hybrid of In_expC2 and TF-IDF without feedback: BM25's parameters would change nothing.
    assert tuning._bm25(result.default) == []
    assert len(tuning._bm25(result.default.with_(hybrid_with="bm25"))) == 50


def test_an_index_without_in_expc2_weights_is_tuned_without_errors(collection, tmp_path):
    """It is not offered the dfr method (which it cannot rank: one error per query before)."""
    from citesearch.corpus import load_documents
    from citesearch.indexer.builder import IndexSettings, build_index

    index, queries, qrels = collection
    corpus = index.parent / "corpus.jsonl"
    build_index(load_documents([corpus]), tmp_path / "no-dfr", IndexSettings(dfr=None), workers=1)
    plain = tuning.tune(tmp_path / "no-dfr", queries, qrels, folds=2, workers=1)
    assert plain.errors == []
    assert all(s.method != "dfr" and s.hybrid_with != "dfr" for s in plain.searched)
    assert plain.default.hybrid_with == "bm25"


def test_held_out_judgments_cannot_change_a_folds_choice(collection, result, tmp_path):
    """Judgments of a fold's held-out queries changed to favour BM25 (their long documents
    relevant, not the short ones): the folds are the same (they depend on the query ids and
    the seed), and so is the fold's choice; only its held-out score moves."""
    index, queries, qrels = collection
    held = set(result.folds[0].queries)
    lines = []
    for line in qrels.read_text().splitlines():
        qid, it, doc, rel = line.split()
        lines.append(f"{qid} {it} {doc} {int(doc.startswith('long')) if qid in held else rel}")
    (tmp_path / "flipped.txt").write_text("\n".join(lines) + "\n")
    flipped = tuning.tune(index, queries, tmp_path / "flipped.txt", folds=4, seed=0, workers=1)
    assert [f.queries for f in flipped.folds] == [f.queries for f in result.folds]
    assert flipped.folds[0].settings == result.folds[0].settings
    assert flipped.folds[0].train_score == result.folds[0].train_score
    assert flipped.folds[0].score != result.folds[0].score
    assert flipped.best_score != result.best_score


def test_staged_search_chooses_on_its_own_queries():
    """The search with made-up configurations and scores: query 4 alone makes "a" the
    best over all four queries; the search that holds it out must not see that."""
    table = {
        "start": [0.4, 0.4, 0.4, 0.4],
        "a": [0.6, 0.6, 0.6, 1.0],  # all 0.7; without query 4, 0.6
        "b": [0.7, 0.7, 0.7, 0.0],  # all 0.525; without query 4, 0.7
        "a2": [0.6, 0.6, 0.6, 0.9],  # a little worse than a everywhere it is compared
        "b2": [0.7, 0.7, 0.8, 0.0],  # better than b without query 4
    }
    scores: dict[str, np.ndarray] = {}
    runs = []

    def run(stage, configurations):
        runs.append((stage, configurations))
        for c in configurations:
            scores[c] = np.array(table[c])

    stages = [("first", lambda c: ["a", "b"]), ("second", lambda c: [c + "2"] if len(c) == 1 else [])]
    selections = [np.arange(4), np.array([0, 1, 2]), np.array([0, 1, 3]), np.array([2, 3])]
    chosen, searched = tuning.staged_search("start", stages, selections, scores, run)
    assert chosen == ["a", "b2", "a", "a"]
    assert searched == ["start", "a", "b", "a2"]  # the first search's candidates
    assert runs == [("first", ["start", "a", "b"]), ("second", ["a2", "b2"])]  # each configuration once
    ties = {"start": np.array([0.5, 0.5]), "a": np.array([0.5, 0.5])}
    assert tuning.staged_search("start", [("s", lambda c: ["a"])], [np.arange(2)], ties, lambda *_: None)[0] == [
        "start"
    ]  # a tie keeps the current settings


def test_every_configuration_is_run_once_over_all_queries(result):
    for values in result.scores.values():
        assert values.shape == (len(result.queries),)
        assert ((values >= 0) & (values <= 1)).all()
    assert set(result.searched) <= set(result.scores)


def test_deterministic_for_a_seed(collection, result):
    index, queries, qrels = collection
    again = tuning.tune(index, queries, qrels, metric="nDCG@10", folds=4, seed=0, workers=2)
    assert again.to_dict() == result.to_dict()
    other = tuning.tune(index, queries, qrels, metric="nDCG@10", folds=4, seed=1, workers=1)
    assert [f.queries for f in other.folds] != [f.queries for f in result.folds]
    assert other.best == result.best and other.default_score == result.default_score


def test_the_default_score_is_what_evaluate_reports(collection, result):
    index, queries, qrels = collection
    out = ok("evaluate", "--index", index, "--queries", queries, "--qrels", qrels, "--metrics", "nDCG@10",
             "--format", "json").stdout
    (evaluated,) = json.loads(out)["runs"].values()
    assert evaluated["metrics"]["nDCG@10"] == result.default_score


def test_api_takes_pairs_and_a_qrels_mapping(collection, result):
    from citesearch.evaluation import read_qrels
    from citesearch.search.queryfiles import read_queries

    index, queries, qrels = collection
    pairs = read_queries(queries).queries
    again = tuning.tune(index, pairs, read_qrels(qrels), folds=4, workers=1)
    assert again.to_dict() == result.to_dict()


# -- the command ------------------------------------------------------------------------------


def test_json_keys_exactly(collection):
    index, queries, qrels = collection
    r = ok("tune", "--index", index, "--queries", queries, "--qrels", qrels, "--folds", "3", "--format", "json")
    data = json.loads(r.stdout)
    assert tuple(data) == KEYS
    assert data["metric"] == "nDCG@10" and data["folds"] == 3 and data["saved"] is False
    fields = set(SearchOptions.__dataclass_fields__)
    for key in ("default", "best"):
        assert set(data[key]) == {"settings", "score"}
        assert set(data[key]["settings"]) == fields
        assert SearchOptions.from_dict(data[key]["settings"]).to_dict() == data[key]["settings"]
    assert set(data["cross_validated"]) == {"score", "per_fold"}
    per_fold = data["cross_validated"]["per_fold"]
    assert len(per_fold) == 3
    assert data["cross_validated"]["score"] == pytest.approx(sum(f["score"] for f in per_fold) / 3, abs=1e-15)
    assert data["best"]["settings"]["method"] == "tfidf" and data["default"]["settings"]["method"] == "hybrid"
    assert data["best"]["score"] >= data["default"]["score"]


def test_text_report(collection):
    index, queries, qrels = collection
    out = ok("tune", "--index", index, "--queries", queries, "--qrels", qrels, "--folds", "3").stdout
    for needed in ("index's own settings", "best, in sample", "cross-validated", "flatters", "tfidf"):
        assert needed in out


def test_save_then_search_info_reset(collection, tmp_path):
    index = copy_index(collection, tmp_path)
    _, queries, qrels = collection
    before = ok("search", "--index", index, "t001k", "--format", "json")
    assert json.loads(before.stdout)["method"] == "hybrid"

    r = ok("tune", "--index", index, "--queries", queries, "--qrels", qrels, "--folds", "3", "--save",
           "--format", "json")
    data = json.loads(r.stdout)
    assert data["saved"] is True
    assert "Saved" in r.stderr
    assert not [p for p in os.listdir(index) if p.startswith(".")]  # no temporary file left behind
    tuned = read_manifest(index).tuned
    assert tuned is not None and tuned.method == "tfidf" and tuned.metric == "nDCG@10" and tuned.folds == 3
    assert tuned.score == data["cross_validated"]["score"]
    assert SearchOptions.from_tuned(tuned).to_dict() | {"per_source": None, "explain": False} == data["best"][
        "settings"
    ]

    found = json.loads(ok("search", "--index", index, "t001k", "--format", "json").stdout)
    assert found["method"] == "tfidf"
    assert sorted(r["source"]["id"] for r in found["results"][:2]) == ["short1-0", "short1-1"]
    explicit = json.loads(ok("search", "--index", index, "t001k", "--format", "json", "--method", "bm25").stdout)
    assert explicit["method"] == "bm25"  # an explicit option wins

    out = ok("evaluate", "--index", index, "--queries", queries, "--qrels", qrels, "--metrics", "nDCG@10",
             "--format", "json").stdout
    assert json.loads(out)["runs"].keys() == {"citesearch-tfidf"}  # evaluate --index uses them too
    assert json.loads(out)["runs"]["citesearch-tfidf"]["metrics"]["nDCG@10"] == data["best"]["score"]
    run_file = tmp_path / "run.trec"
    ok("batch", queries, "--index", index, "-o", run_file)
    assert run_file.read_text().split("\n", 1)[0].endswith("citesearch-tfidf")

    info = ok("info", "--index", index, "--verify")
    assert "Tuned      tfidf" in info.stdout and "cross-validated" in info.stdout
    assert "Checksums  all files match" in info.stderr
    manifest = json.loads(ok("info", "--index", index, "--json").stdout)
    assert manifest["search"]["tuned"]["method"] == "tfidf"

    r = ok("tune", "--index", index, "--reset")
    assert "Removed" in r.stderr
    assert read_manifest(index).tuned is None
    assert json.loads(ok("search", "--index", index, "t001k", "--format", "json").stdout)["method"] == "hybrid"
    info = ok("info", "--index", index, "--verify")
    assert "Tuned" not in info.stdout and "all files match" in info.stderr
    assert "no saved search settings" in ok("tune", "--index", index, "--reset").stderr


def test_search_expand_overrides_saved_feedback(collection, result, tmp_path):
    from citesearch.indexer.manifest import save_tuned

    index = copy_index(collection, tmp_path)

    def scores(*args):
        found = json.loads(ok("search", "--index", index, "t001k", "--format", "json", *args).stdout)
        return [(r["passage"]["id"], r["score"]) for r in found["results"]]

    plain = scores()
    save_tuned(index, result.default.with_(expand=RM3(5, 10, 0.5)).tuned(metric="nDCG@10"))
    tuned = scores()
    assert tuned != plain  # searches use the saved feedback
    assert scores("--expand", "none") == plain
    assert scores("--expand", "rm3") == tuned  # the saved parameters


def test_batch_expand_uses_the_saved_feedback_unless_told_otherwise(collection, result, tmp_path):
    from citesearch.indexer.manifest import save_tuned

    index = copy_index(collection, tmp_path)
    save_tuned(index, result.default.with_(expand=RM3(5, 10, 0.5)).tuned(metric="nDCG@10"))

    def run(*args):
        out = ok("batch", "-", "--index", index, "-o", "-", "--level", "passage", "-k", "5", *args, input="t001k\n")
        return [line.split()[2:5] for line in out.stdout.splitlines()]

    def search(*args):
        found = json.loads(ok("search", "--index", index, "t001k", "--format", "json", "-k", "5", *args).stdout)
        return [[r["passage"]["id"], str(i), f"{r['score']:.6f}"] for i, r in enumerate(found["results"], 1)]

    def rounded(rows):
        return [[doc, rank, f"{float(score):.6f}"] for doc, rank, score in rows]

    assert rounded(run("--expand", "rm3")) == search("--expand", "rm3") == search()  # the saved RM3(5, 10, 0.5)
    # --fb-docs reaches the ranking (BM25's scores show it; the fused ranks of this small
    # collection's top 5 happen not to move with In_expC2 and TF-IDF)
    bm25 = ("--method", "bm25", "--expand", "rm3")
    assert rounded(run(*bm25, "--fb-docs", "2")) != rounded(run(*bm25))


def test_a_saved_index_still_tunes_from_its_own_settings(collection, result, tmp_path):
    index = copy_index(collection, tmp_path)
    _, queries, qrels = collection
    tuning.save(index, result)
    again = tuning.tune(index, queries, qrels, folds=4, workers=1)
    assert again.default == result.default and again.to_dict()["best"] == result.to_dict()["best"]
    r = ok("tune", "--index", index, "--queries", queries, "--qrels", qrels, "--folds", "2")
    assert "earlier tune" in r.stderr


@pytest.mark.parametrize(
    "args, message",
    [
        (["--metric", "nDCG@ten"], "unknown measure 'nDCG@ten'"),
        (["--metric", "bogus"], "unknown measure 'bogus'"),
        (["--folds", str(N_QUERIES + 1)], f"{N_QUERIES + 1} folds need at least {N_QUERIES + 1} judged queries"),
    ],
)
def test_bad_input_is_one_line(collection, args, message):
    index, queries, qrels = collection
    r = run("tune", "--index", index, "--queries", queries, "--qrels", qrels, *args)
    assert r.exit_code == 1
    assert r.stdout == ""
    assert r.stderr.count("\n") == 1 and r.stderr.startswith("Error: ") and message in r.stderr


def test_no_judged_query_and_missing_index_are_one_line(collection, tmp_path):
    index, queries, _ = collection
    (tmp_path / "other.txt").write_text("nope 0 short1-0 1\n")
    r = run("tune", "--index", index, "--queries", queries, "--qrels", tmp_path / "other.txt")
    assert r.exit_code == 1 and r.stderr.count("\n") == 1 and "has judgments" in r.stderr
    r = run("tune", "--index", tmp_path / "none", "--queries", queries, "--qrels", tmp_path / "other.txt")
    assert r.exit_code == 1 and r.stderr.count("\n") == 1 and "no citesearch index" in r.stderr


def test_usage_errors(collection):
    index, queries, qrels = collection
    assert run("tune", "--index", index, "--queries", queries).exit_code == 2
    assert run("tune", "--index", index, "--reset", "--save").exit_code == 2
    assert run("tune", "--index", index, "--queries", queries, "--qrels", qrels, "--folds", "1").exit_code == 2


def test_help_names_the_grid():
    out = ok("tune", "--help").stdout
    flat = " ".join(out.split())
    assert "The search is staged, not the full product" in flat and "honest estimate" in flat
    for k1 in tuning.K1S:
        assert f"{k1:g}" in out
    for value in (*tuning.BS, *tuning.RRF_KS):
        assert f" {value:g}" in out
    for stage, _ in STAGES:
        assert stage.lower() in out.lower()


# -- the options tuning sets ------------------------------------------------------------------


def test_options_round_trip_and_refuse_nonsense():
    opts = SearchOptions(method="bm25", fusion="linear", bm25=BM25Params("lucene", 0.9, 0.6), expand=RM3(5, 10, 0.5),
                         aggregate="mean", rrf_k=20, linear_weight=0.3, per_source=2)
    assert SearchOptions.from_dict(json.loads(json.dumps(opts.to_dict()))) == opts
    assert SearchOptions.from_dict({}) == SearchOptions()
    assert "expand" not in SearchOptions().to_dict()  # unset
    assert SearchOptions.from_dict({"expand": None}).expand is None  # explicitly none
    for bad in ({"methd": "bm25"}, {"bm25": {"variant": "nope", "k1": 1, "b": 0.5}}, {"rrf_k": -1},
                {"linear_weight": 2}, {"expand": {"fb_docs": 0, "fb_terms": 1, "weight": 0.5}}, []):
        with pytest.raises(OptionError):
            SearchOptions.from_dict(bad)  # type: ignore[arg-type]


def test_resolve_takes_unset_fields_from_saved_settings(collection, result):
    from dataclasses import replace

    manifest = read_manifest(collection[0])
    plain = SearchOptions().resolve(manifest)
    assert plain == result.default and plain.expand is None and plain.rrf_k == 60 and plain.fusion == "rrf"
    saved = SearchOptions(method="bm25", bm25=BM25Params("lucene", 0.9, 0.6), expand=RM3(5, 10, 0.5),
                          aggregate="mean", fusion="linear", rrf_k=10, linear_weight=0.3).resolve(manifest)
    tuned = replace(manifest, tuned=saved.tuned(metric="AP"))
    assert SearchOptions().resolve(tuned) == saved
    assert SearchOptions().resolve(tuned).resolve(tuned) == saved  # resolving twice changes nothing
    mixed = SearchOptions(method="tfidf", expand=None, aggregate="max").resolve(tuned)
    assert (mixed.method, mixed.expand, mixed.aggregate) == ("tfidf", None, "max")  # explicit ones win
    assert mixed.bm25 == saved.bm25 and mixed.linear_weight == 0.3
    assert SearchOptions(expand=UNSET).resolve(tuned).expand == RM3(5, 10, 0.5)


def test_tuned_settings_survive_the_manifest_round_trip(collection, result, tmp_path):
    index = copy_index(collection, tmp_path)
    tuning.save(index, result)
    tuned = read_manifest(index).tuned
    assert SearchOptions.from_tuned(tuned) == result.best.with_(per_source=None, explain=False)
    assert tuned.queries == N_QUERIES and tuned.folds == 4 and tuned.created
    assert tuning.reset(index) is True and tuning.reset(index) is False


def test_fusion_parameters_change_hybrid_and_stay_exact(collection):
    """RRF's k reaches both the pruned hybrid path and the unpruned one (a filter turns
    pruning off) and they agree; the linear weight moves linear fusion."""
    with Index.open(collection[0]) as index:
        for text in ("t001k f001q f002q", "t003k t004k", "f010q f011q f012q"):
            for k in (1, 10, 60):
                pruned = index.rank(text, method="hybrid", rrf_k=k)
                full = index.rank(f"source:* {text}", method="hybrid", rrf_k=k)
                for a, b in zip(pruned.top(), full.top()):
                    assert a.tolist() == b.tolist()
            _, scores = index.rank(text, method="hybrid", rrf_k=1).top(1)
            assert 2 / 61 < scores[0] <= 1 / (1 + 1) * 2  # k=1, not 60
            a = index.rank(text, method="hybrid", fusion="linear", linear_weight=0.0)
            b = index.rank(text, method="hybrid", fusion="linear", linear_weight=1.0)
            tfidf = index.rank(text, method="tfidf")
            assert a.top(5)[0].tolist() == tfidf.top(5)[0].tolist()  # weight 0: TF-IDF's order
            assert a.top()[1].tolist() != b.top()[1].tolist()
        explained = index.search("t001k", method="hybrid", rrf_k=7, explain=True)
        assert "k=7" in explained.results[0].explanation.fused


def test_malformed_query_lines_are_reported_and_fail_the_run(collection, tmp_path):
    index, queries, qrels = collection
    good = [json.loads(line) for line in Path(queries).read_text().splitlines()]
    tsv = tmp_path / "queries.tsv"
    tsv.write_text("".join(f"{q['_id']}\t{q['text']}\n" for q in good) + "no tab on this line\n")
    r = run("tune", "--index", index, "--queries", tsv, "--qrels", qrels, "--folds", "2", "--format", "json")
    assert r.exit_code == 1
    assert f"{tsv}:{len(good) + 1}: expected 'id<TAB>query'" in r.stderr
    assert json.loads(r.stdout)["folds"] == 2  # the rest was tuned on
    strict = run("tune", "--index", index, "--queries", tsv, "--qrels", qrels, "--folds", "2", "--strict")
    assert strict.exit_code == 1 and strict.stdout == ""
