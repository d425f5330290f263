"""Evaluation measures: hand-computed values, parsing, trec_eval's order, evaluate(), and
parity with trec_eval (pytrec_eval through ir_measures) on generated and real runs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from conftest import SHARED, needs_shared
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from citesearch.errors import CitesearchError
from citesearch.evaluation import (
    DEFAULT_MEASURES,
    MEASURES,
    Measure,
    check_coverage,
    evaluate,
    natural_key,
    parse_measure,
    read_run,
    run_names,
    trec_order,
)
from citesearch.evaluation.measures import NEEDS_CUTOFF, NO_CUTOFF, TREC_EVAL_NAMES

# One query: five retrieved documents, d1 > d2 > ... > d5; d6 is relevant but not retrieved.
RANKING = ["d1", "d2", "d3", "d4", "d5"]
QRELS = {"d1": 1, "d2": 0, "d3": 2, "d4": 0, "d6": 1}  # relevant (rel >= 1): d1, d3, d6 → R = 3; N = 2


def m(text: str, ranking=RANKING, qrels=QRELS, level: int = 1) -> float:
    return parse_measure(text)(ranking, qrels, level)


# -- each measure by hand --------------------------------------------------------------


@pytest.mark.parametrize(
    "name,expected",
    [
        ("AP", (1 / 1 + 2 / 3) / 3),
        ("AP@2", (1 / 1) / 3),
        ("P@1", 1 / 1),
        ("P@3", 2 / 3),
        ("P@10", 2 / 10),  # trec_eval divides by the cutoff, not by the number retrieved
        ("R@2", 1 / 3),
        ("R@100", 2 / 3),
        ("R", 2 / 3),
        ("RR", 1 / 1),
        ("Success@1", 1.0),
        ("nDCG@1", (1 / math.log2(2)) / (2 / math.log2(2))),
        ("nDCG@5", (1 / math.log2(2) + 2 / math.log2(4)) / (2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4))),
        ("nDCG@10", (1 / math.log2(2) + 2 / math.log2(4)) / (2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4))),
        ("nDCG", (1 / math.log2(2) + 2 / math.log2(4)) / (2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4))),
        # d1: no judged non-relevant above → 1; d3: d2 above → 1 - 1/min(R=3, N=2); d6 not retrieved.
        ("Bpref", (1 + (1 - 1 / min(3, 2))) / 3),
        ("Judged@2", 2 / 2),
        ("Judged@5", 4 / 5),  # d5 has no judgment
        ("Judged@10", 4 / 5),  # over min(k, retrieved)
        ("Rprec", 2 / 3),  # R = 3: d1, d3 in the top 3
    ],
)
def test_measure_by_hand(name, expected):
    assert m(name) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(
    "name,expected",
    [
        ("RR", 1 / 3),  # first relevant (d3) at rank 3
        ("RR@2", 0.0),
        ("Success@2", 0.0),
        ("Success@3", 1.0),
        ("P@2", 0 / 2),
        ("AP", (1 / 3 + 2 / 5) / 3),  # ranking d2 d4 d3 d5 d1
        # d3 has two judged non-relevant above (capped at min(R, N) = 2) → 0; d1 likewise → 0.
        ("Bpref", (0 + 0) / 3),
        ("nDCG@3", (2 / math.log2(4)) / (2 / math.log2(2) + 1 / math.log2(3) + 1 / math.log2(4))),
    ],
)
def test_measure_by_hand_with_relevant_documents_lower(name, expected):
    ranking = ["d2", "d4", "d3", "d5", "d1"]
    assert m(name, ranking) == pytest.approx(expected, abs=1e-12)


def test_bpref_counts_only_judged_nonrelevant_documents_above():
    # R = 2 (a, c), N = 3 (x, y, z). Unjudged u does not count.
    qrels = {"a": 1, "c": 1, "x": 0, "y": 0, "z": 0}
    ranking = ["u", "x", "a", "u2", "y", "c"]
    expected = ((1 - 1 / min(2, 3)) + (1 - min(2, 2) / min(2, 3))) / 2
    assert m("Bpref", ranking, qrels) == pytest.approx(expected)


@pytest.mark.parametrize(
    "name,expected",
    [
        ("AP", (1 / 3) / 1),  # only d3 (rel 2) is relevant at level 2
        ("P@3", 1 / 3),
        ("RR", 1 / 3),
        ("R@100", 1 / 1),
        ("Success@2", 0.0),
        # R = 1 (d3), N = 4 (d1, d2, d4, d6 are below level 2): d1 and d2 above d3 → 1 - min(2, 1)/min(1, 4) = 0
        ("Bpref", 0.0),
    ],
)
def test_relevance_level(name, expected):
    assert m(name, level=2) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("name", ["AP", "P@5", "R@10", "RR", "Success@5", "nDCG@10", "Bpref", "Judged@10"])
def test_empty_ranking_scores_zero(name):
    assert m(name, ranking=[]) == 0.0


@pytest.mark.parametrize("name", ["AP", "R@10", "RR", "Success@5", "nDCG@10", "Bpref"])
def test_no_relevant_documents_scores_zero(name):
    assert m(name, qrels={"d1": 0, "d2": 0}) == 0.0


def test_ndcg_uses_graded_gains():
    # Swapping a rel-3 and a rel-1 document changes nDCG but not AP.
    qrels = {"a": 3, "b": 1}
    good, bad = ["a", "b"], ["b", "a"]
    idcg = 3 / math.log2(2) + 1 / math.log2(3)
    assert m("nDCG@10", good, qrels) == pytest.approx(1.0)
    assert m("nDCG@10", bad, qrels) == pytest.approx((1 / math.log2(2) + 3 / math.log2(3)) / idcg)
    assert m("AP", good, qrels) == m("AP", bad, qrels) == pytest.approx(1.0)


# -- parse_measure -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("nDCG@10", Measure("nDCG", 10)),
        ("ndcg@5", Measure("nDCG", 5)),
        ("nDCG", Measure("nDCG", None)),
        ("AP", Measure("AP", None)),
        ("map", Measure("AP", None)),
        ("MAP", Measure("AP", None)),
        ("P@10", Measure("P", 10)),
        ("p@3", Measure("P", 3)),
        ("R@100", Measure("R", 100)),
        ("R", Measure("R", None)),
        ("RR", Measure("RR", None)),
        ("MRR", Measure("RR", None)),
        ("RR@10", Measure("RR", 10)),
        ("Success@5", Measure("Success", 5)),
        ("bpref", Measure("Bpref", None)),
        ("Judged@10", Measure("Judged", 10)),
        ("  AP  ", Measure("AP", None)),
    ],
)
def test_parse_measure_names_and_aliases(text, expected):
    assert parse_measure(text) == expected


@pytest.mark.parametrize("name", ["nDCG@10", "AP", "P@10", "R@100", "RR", "RR@10", "Success@5", "Bpref", "Judged@10"])
def test_measure_str_round_trips(name):
    assert str(parse_measure(name)) == name
    assert parse_measure(str(parse_measure(name))) == parse_measure(name)


@pytest.mark.parametrize("text", ["P", "Success", "Judged", "p"])
def test_parse_measure_needs_cutoff(text):
    with pytest.raises(CitesearchError, match="needs a cutoff"):
        parse_measure(text)


@pytest.mark.parametrize(
    "text",
    ["foo", "nDCG@x", "P@", "ERR@10", "P_x", "", "nDCG@10@5", "@10", "P@_10", "ndcg_cut@10", "map_5", "recip_rank_10",
     "Rprec@5", "Rprec_5", "nDCG_10", "ndcg_rel", "P__10"],
)
def test_parse_measure_unknown(text):
    with pytest.raises(CitesearchError, match="unknown measure"):
        parse_measure(text)


@pytest.mark.parametrize(
    "text,expected",
    [
        ("P_10", Measure("P", 10)),
        ("P.5", Measure("P", 5)),  # as trec_eval -m spells a parameter
        ("ndcg_cut_10", Measure("nDCG", 10)),
        ("ndcg_cut.10", Measure("nDCG", 10)),
        ("ndcg", Measure("nDCG", None)),
        ("map", Measure("AP", None)),
        ("map_cut_10", Measure("AP", 10)),
        ("recip_rank", Measure("RR", None)),
        ("recall_100", Measure("R", 100)),
        ("bpref", Measure("Bpref", None)),
        ("Rprec", Measure("Rprec", None)),
        ("rprec", Measure("Rprec", None)),
        ("success_10", Measure("Success", 10)),
        (" success_1 ", Measure("Success", 1)),
    ],
)
def test_parse_measure_trec_eval_names(text, expected):
    assert parse_measure(text) == expected


@pytest.mark.parametrize("text,suggestion", [("map_5", "map_cut_5"), ("ndcg_10", "ndcg_cut_10")])
def test_parse_measure_suggests_the_cut_measure(text, suggestion):
    with pytest.raises(CitesearchError, match=f"did you mean {suggestion}"):
        parse_measure(text)


@pytest.mark.parametrize("text", ["ndcg_cut", "map_cut", "recall"])
def test_parse_measure_trec_eval_name_needs_cutoff(text):
    with pytest.raises(CitesearchError, match=rf"{text} needs a cutoff, e.g. {text}_10"):
        parse_measure(text)


def test_unknown_measure_message_lists_every_registered_name():
    with pytest.raises(CitesearchError) as info:
        parse_measure("bogus")
    message = str(info.value)
    assert "\n" not in message and "'bogus'" in message
    for name in MEASURES:
        shown = name if name in NO_CUTOFF else f"{name}@k" if name in NEEDS_CUTOFF else f"{name}[@k]"
        assert shown in message, name
    for name, (_, cutoff) in TREC_EVAL_NAMES.items():
        assert (f"{name}_k" if cutoff else name) in message, name
        # and every name listed parses
        assert parse_measure(f"{name}_10" if cutoff else name).name in MEASURES


def test_rprec_takes_no_cutoff_and_level_counts():
    with pytest.raises(CitesearchError, match="takes no cutoff"):
        parse_measure("Rprec@10")
    assert m("Rprec", level=2) == 0.0  # R = 1 (d3), and d1 is first
    assert m("Rprec", ["d3", "d1"], level=2) == 1.0
    assert m("Rprec", qrels={"d1": 0}) == 0.0


def test_parse_measure_zero_cutoff():
    with pytest.raises(CitesearchError, match="at least 1"):
        parse_measure("P@0")


def test_default_measures_parse_and_are_registered():
    for name in DEFAULT_MEASURES:
        assert parse_measure(name).name in MEASURES


# -- trec_order --------------------------------------------------------------------------


def test_trec_order_score_descending_ties_by_doc_id_descending():
    scores = {"a": 1.0, "b": 2.0, "c": 2.0, "d": 0.5, "e": 2.0}
    assert trec_order(scores) == ["e", "c", "b", "a", "d"]


def test_trec_order_compares_ids_as_strings():
    # strcmp order: "d9" > "d10" > "d1"
    assert trec_order({"d1": 1.0, "d10": 1.0, "d9": 1.0, "d2": 3.0}) == ["d2", "d9", "d10", "d1"]


def test_trec_order_negative_scores():
    assert trec_order({"x": -1.0, "y": -0.5, "z": 0.0}) == ["z", "y", "x"]


# -- evaluate() --------------------------------------------------------------------------


def test_evaluate_skips_unjudged_and_missing_queries():
    run = {"q1": {"d1": 3.0, "d2": 2.0}, "q2": {"x": 1.0}}
    qrels = {"q1": {"d1": 1, "d3": 1}, "q3": {"y": 1}}
    e = evaluate(run, qrels, [parse_measure("AP"), parse_measure("P@2")])
    assert list(e.per_query) == ["q1"]
    assert e.unjudged == ["q2"]
    assert e.missing == ["q3"]
    assert e.per_query["q1"] == pytest.approx({"AP": (1 / 1) / 2, "P@2": 1 / 2})
    assert e.metrics == pytest.approx({"AP": 0.5, "P@2": 0.5})


def test_evaluate_complete_counts_missing_queries_as_zero():
    run = {"q1": {"d1": 3.0, "d2": 2.0}, "q2": {"x": 1.0}}
    qrels = {"q1": {"d1": 1, "d3": 1}, "q3": {"y": 1}}
    e = evaluate(run, qrels, [parse_measure("AP"), parse_measure("RR")], complete=True)
    assert set(e.per_query) == {"q1", "q3"}
    assert e.per_query["q3"] == {"AP": 0.0, "RR": 0.0}
    assert e.metrics == pytest.approx({"AP": (0.5 + 0.0) / 2, "RR": (1.0 + 0.0) / 2})
    assert e.missing == ["q3"] and e.unjudged == ["q2"]


def test_evaluate_orders_by_score_not_by_insertion():
    run = {"q": {"n1": 1.0, "n2": 2.0, "r": 3.0}}  # inserted worst-first
    e = evaluate(run, {"q": {"r": 1, "n1": 0, "n2": 0}}, [parse_measure("RR")])
    assert e.per_query["q"]["RR"] == 1.0


def test_evaluate_breaks_ties_by_doc_id_descending():
    # Both tied at 1.0: trec_eval ranks "b" first, so a relevant "a" is at rank 2.
    e = evaluate({"q": {"a": 1.0, "b": 1.0}}, {"q": {"a": 1}}, [parse_measure("RR"), parse_measure("P@1")])
    assert e.per_query["q"] == {"RR": 1 / 2, "P@1": 0.0}


def test_evaluate_relevance_level():
    run = {"q": {"a": 3.0, "b": 2.0, "c": 1.0}}
    qrels = {"q": {"a": 1, "b": 2, "c": 2}}
    ap = [parse_measure("AP")]
    assert evaluate(run, qrels, ap).metrics["AP"] == pytest.approx(1.0)
    assert evaluate(run, qrels, ap, level=2).metrics["AP"] == pytest.approx((1 / 2 + 2 / 3) / 2)
    assert evaluate(run, qrels, ap, level=3).metrics["AP"] == 0.0


def test_evaluate_nothing_judged():
    e = evaluate({"q": {"a": 1.0}}, {"other": {"a": 1}}, [parse_measure("AP")])
    assert e.per_query == {} and e.metrics == {"AP": 0.0}
    assert e.unjudged == ["q"] and e.missing == ["other"]


def test_evaluate_empty_ranking_counts_as_retrieving_nothing():
    """A query present in a run dict with an empty ranking retrieved nothing: pytrec_eval,
    given the same dict, scores it 0 rather than skipping it, and so do we. (A run file
    cannot express this; there such a query is simply absent, see --complete.)"""
    run = {"q1": {"a": 1.0}, "q2": {}}
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}}
    e = evaluate(run, qrels, [parse_measure("AP")])
    assert e.per_query == {"q1": {"AP": 1.0}, "q2": {"AP": 0.0}}
    assert e.metrics["AP"] == 0.5
    pytrec_eval = pytest.importorskip("pytrec_eval")
    assert pytrec_eval.RelevanceEvaluator(qrels, {"map"}).evaluate(run)["q2"]["map"] == 0.0


def test_evaluate_orders_queries_naturally():
    run = {q: {"a": 1.0} for q in ["q10", "q2", "q1", "10", "2"]}
    qrels = {q: {"a": 1} for q in ["q10", "q2", "q1", "10", "2", "q3"]}
    e = evaluate(run, qrels, [parse_measure("RR")], complete=True)
    assert list(e.per_query) == ["2", "10", "q1", "q2", "q3", "q10"]


@pytest.mark.parametrize(
    "ids,expected",
    [
        (["q10", "q2", "q1"], ["q1", "q2", "q10"]),
        (["10", "2", "1", "100"], ["1", "2", "10", "100"]),
        (["a10b2", "a10b10", "a2b10", "a"], ["a", "a2b10", "a10b2", "a10b10"]),
        (["q01", "q1", "q001"], ["q001", "q01", "q1"]),  # equal numbers: by the text itself
        (["b", "A", "a1", "1a"], ["1a", "A", "a1", "b"]),
    ],
)
def test_natural_key(ids, expected):
    assert sorted(ids, key=natural_key) == expected


def test_relabel_renames_measures_everywhere():
    e = evaluate({"q": {"a": 1.0}}, {"q": {"a": 1}}, [parse_measure("P_1"), parse_measure("map")])
    r = e.relabel({"P@1": "P_1", "AP": "map"})
    assert r.metrics == {"P_1": 1.0, "map": 1.0} and r.per_query == {"q": {"P_1": 1.0, "map": 1.0}}
    assert e.metrics == {"P@1": 1.0, "AP": 1.0}  # the original is unchanged


# -- check_coverage ----------------------------------------------------------------------

QRELS_3 = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 1}}


def test_check_coverage_no_shared_query_is_an_error_naming_both_files():
    run = {"1": {"a": 1.0}, "2": {"b": 1.0}, "10": {"x": 1.0}, "3": {"y": 1.0}}
    with pytest.raises(CitesearchError) as info:
        check_coverage(run, QRELS_3, "runs/bm25.trec", "qrels.txt")
    message = str(info.value)
    assert "\n" not in message
    assert "runs/bm25.trec" in message and "qrels.txt" in message and "share no query" in message
    assert "1, 2, 3, ..." in message and "q1, q2, q3)" in message  # a few ids of each, to see why
    with pytest.raises(CitesearchError, match="share no query"):
        check_coverage(run, QRELS_3, "r", "q", complete=True)  # -c would score 0: still an error


def test_check_coverage_empty_run_is_an_error():
    with pytest.raises(CitesearchError, match=r"^empty\.trec: no results to score against qrels\.txt$"):
        check_coverage({}, QRELS_3, "empty.trec", "qrels.txt")


def test_check_coverage_partial_overlap_warns_with_counts():
    run = {"q1": {"a": 1.0}, "x": {"a": 1.0}, "y": {"a": 1.0}, "z": {"a": 1.0}}
    warning = check_coverage(run, QRELS_3, "run.trec", "qrels.txt")
    assert warning == (
        "run.trec: 2 of 3 judged queries have no results in the run (skipped; -c scores them as 0); "
        "3 run queries have no judgments (skipped)"
    )
    warning = check_coverage({"q1": {}, "q2": {}, "x": {}}, QRELS_3, "run.trec", "qrels.txt", complete=True)
    assert warning == (
        "run.trec: 1 of 3 judged queries has no results in the run (scored as 0, -c); "
        "1 run query has no judgments (skipped)"
    )
    assert check_coverage({"q1": {}, "q2": {}, "q3": {}}, QRELS_3, "run.trec", "qrels.txt") is None


# -- run_names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "runs,expected",
    [
        ([("bm25", "a.trec"), ("tfidf", "b.trec")], ["bm25", "tfidf"]),
        # colliding tags: named by file, the others keep their tags
        ([("citesearch-hybrid", "runs/x.trec"), ("citesearch-hybrid", "y.trec"), ("bm25", "z.trec")],
         ["x.trec", "y.trec", "bm25"]),
        # file names collide too: by the path as given
        ([("t", "a/run.trec"), ("t", "b/run.trec")], ["a/run.trec", "b/run.trec"]),
        # one file twice: numbered
        ([("t", "run.trec"), ("t", "run.trec")], ["run.trec", "run.trec-2"]),
        # a run's new name may not take another run's tag
        ([("t", "bm25"), ("t", "other"), ("bm25", "z.trec")], ["bm25", "other", "z.trec"]),
    ],
)
def test_run_names(runs, expected):
    names = run_names(runs)
    assert names == expected
    assert len(set(names)) == len(names)


# -- parity with trec_eval (pytrec_eval through ir_measures) -----------------------------

ir_measures = pytest.importorskip("ir_measures")

TREC_EVAL_MEASURES = ["nDCG@10", "nDCG@5", "AP", "AP@5", "P@10", "P@3", "R@100", "RR", "Success@5", "Bpref", "Rprec"]
OWN_PROVIDER_MEASURES = ["RR@10", "Judged@10"]  # ir_measures orders ties by doc id ascending
ALL_NAMES = TREC_EVAL_MEASURES + OWN_PROVIDER_MEASURES
OURS = [parse_measure(n) for n in ALL_NAMES]
THEIRS = [ir_measures.parse_measure(n) for n in ALL_NAMES]

DOCS = ["d0", "d1", "d2", "d9", "d10", "d11", "D3", "a", "b", "zz", "x-1", "x_2"]
QIDS = ["1", "2", "10", "q"]


@st.composite
def cases(draw):
    tied = draw(st.booleans())
    scores = st.integers(0, 3) if tied else st.integers(-10_000, 10_000)
    qrels: dict[str, dict[str, int]] = {}
    lines: list[tuple[str, str, float]] = []
    for qid in QIDS:
        if draw(st.integers(0, 4)) > 0:  # most queries are judged; some only in the run
            qrels[qid] = draw(st.dictionaries(st.sampled_from(DOCS), st.integers(0, 3), min_size=1, max_size=10))
        if draw(st.integers(0, 4)) > 0:  # some only in the qrels; empty rankings are omitted
            rows = draw(st.lists(st.tuples(st.sampled_from(DOCS), scores), max_size=14))
            lines += [(qid, doc, s / 8) for doc, s in rows]
    if not qrels:
        qrels["1"] = {"d1": 1}
    return qrels, lines


def _write_run(path: Path, lines: list[tuple[str, str, float]]) -> dict[str, dict[str, float]]:
    """Write the lines as a run file (duplicates included); return the first-score-wins run."""
    expected: dict[str, dict[str, float]] = {}
    with open(path, "w") as f:
        for rank, (qid, doc, score) in enumerate(lines, 1):
            f.write(f"{qid} Q0 {doc} {rank} {score!r} tag\n")
            expected.setdefault(qid, {}).setdefault(doc, score)
    return expected


def _has_ties(ranking: dict[str, float]) -> bool:
    return len(set(ranking.values())) < len(ranking)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=cases())
def test_parity_with_trec_eval(case, tmp_path):
    qrels, lines = case
    path = tmp_path / "run.trec"
    expected_run = _write_run(path, lines)
    run, tag = read_run(path)
    assert run == expected_run  # duplicates: the first score is kept
    if expected_run:
        assert tag == "tag"

    ours = evaluate(run, qrels, OURS)
    ours_complete = evaluate(run, qrels, OURS, complete=True)
    theirs: dict[str, dict[str, float]] = {}
    if run:
        for metric in ir_measures.iter_calc(THEIRS, qrels, run):
            theirs.setdefault(metric.query_id, {})[str(metric.measure)] = metric.value

    evaluated = sorted(set(run) & set(qrels))
    assert sorted(ours.per_query) == evaluated
    assert ours.unjudged == sorted(set(run) - set(qrels))
    assert ours.missing == sorted(set(qrels) - set(run))

    for qid in evaluated:
        names = ALL_NAMES if not _has_ties(run[qid]) else TREC_EVAL_MEASURES
        for name in names:
            assert ours.per_query[qid][name] == pytest.approx(theirs[qid][name], abs=1e-4), (
                qid, name, run[qid], qrels[qid]
            )

    # Averages: trec_eval's default is the mean over evaluated queries; ir_measures fills in
    # judged queries missing from the run with 0, as trec_eval -c (complete=True) does.
    untied = not any(_has_ties(r) for r in run.values())
    for name in ALL_NAMES if untied else TREC_EVAL_MEASURES:
        if evaluated:
            mean = sum(theirs[q][name] for q in evaluated) / len(evaluated)
            assert ours.metrics[name] == pytest.approx(mean, abs=1e-4), name
        if run:
            for qid in qrels:
                assert ours_complete.per_query[qid][name] == pytest.approx(theirs[qid][name], abs=1e-4)
            all_q = sum(theirs[q][name] for q in qrels) / len(qrels)
            assert ours_complete.metrics[name] == pytest.approx(all_q, abs=1e-4), name


pytrec_eval = pytest.importorskip("pytrec_eval")
# trec_eval's -m names, and the names it reports them by (which parse_measure accepts).
TREC_EVAL_M = ["map", "map_cut.5", "ndcg", "ndcg_cut.10", "P.10", "P.3", "recall.100", "recip_rank", "bpref", "Rprec",
               "success.5"]
TREC_EVAL_KEYS = ["map", "map_cut_5", "ndcg", "ndcg_cut_10", "P_10", "P_3", "recall_100", "recip_rank", "bpref",
                  "Rprec", "success_5"]


@settings(max_examples=100, deadline=None)
@given(case=cases())
def test_trec_eval_names_equal_trec_eval(case):
    """Each measure named as trec_eval names it equals trec_eval's value of that name,
    ties included (pytrec_eval is trec_eval's code)."""
    qrels, lines = case
    run: dict[str, dict[str, float]] = {}
    for qid, doc, score in lines:
        run.setdefault(qid, {}).setdefault(doc, score)
    theirs = pytrec_eval.RelevanceEvaluator(qrels, set(TREC_EVAL_M)).evaluate(run) if run else {}
    ours = evaluate(run, qrels, [parse_measure(n) for n in TREC_EVAL_KEYS]).relabel(
        {str(parse_measure(n)): n for n in TREC_EVAL_KEYS}
    )
    assert set(ours.per_query) == set(theirs)
    for qid, values in theirs.items():
        for name in TREC_EVAL_KEYS:
            assert ours.per_query[qid][name] == pytest.approx(values[name], abs=1e-4), (qid, name, run[qid], qrels[qid])


def test_parity_aggregate_with_calc_aggregate_on_a_fixed_case():
    """A hand-written case with ties, graded judgments and a judged query missing from the run."""
    qrels = {"1": {"a": 3, "b": 0, "c": 1, "d": 2}, "2": {"x": 1, "y": 0}, "3": {"z": 1}}
    run = {"1": {"a": 1.0, "b": 2.0, "c": 2.0, "e": 0.5}, "2": {"y": 3.0, "x": 3.0, "w": 1.0}, "9": {"a": 1.0}}
    names = TREC_EVAL_MEASURES
    ours = evaluate(run, qrels, [parse_measure(n) for n in names], complete=True).metrics
    theirs = ir_measures.calc_aggregate([ir_measures.parse_measure(n) for n in names], qrels, run)
    for name in names:
        assert ours[name] == pytest.approx(theirs[ir_measures.parse_measure(name)], abs=1e-4), name


# -- parity on a real collection ---------------------------------------------------------


@pytest.fixture(scope="module")
def cacm_run(tmp_path_factory):
    if not SHARED.is_dir():
        pytest.skip("../shared is not beside the project")
    from citesearch.corpus import load_documents
    from citesearch.evaluation import read_qrels
    from citesearch.indexer.builder import build_index
    from citesearch.search.batch import BatchOptions, run_queries, write_atomically

    d = SHARED / "collections" / "cacm"
    tmp = tmp_path_factory.mktemp("cacm")
    build_index(load_documents([d / "corpus.jsonl"]), tmp / "index", workers=1)
    qrels = read_qrels(d / "qrels.txt")
    lines = (d / "queries.jsonl").read_text().splitlines()
    queries = [(q["_id"], q["text"]) for q in map(json.loads, lines) if q["_id"] in qrels]
    results = list(run_queries(tmp / "index", queries, BatchOptions(), workers=1))
    assert [e for _, e in results if e] == []
    run_path = tmp / "run.trec"
    write_atomically(run_path, (lines for lines, _ in results))
    return d, run_path, qrels, len(queries)


@needs_shared
def test_shared_collection_default_measures_equal_trec_eval(cacm_run):
    d, run_path, qrels, n_queries = cacm_run
    run, _ = read_run(run_path)
    assert n_queries == len(qrels) and len(run) >= n_queries - 2
    ours = evaluate(run, qrels, [parse_measure(n) for n in DEFAULT_MEASURES])
    assert ours.unjudged == []
    theirs = ir_measures.calc_aggregate(
        [ir_measures.parse_measure(n) for n in DEFAULT_MEASURES],
        list(ir_measures.read_trec_qrels(str(d / "qrels.txt"))),
        list(ir_measures.read_trec_run(str(run_path))),
    )
    # ir_measures counts judged queries the run lacks as 0 (trec_eval -c).
    ours_c = evaluate(run, qrels, [parse_measure(n) for n in DEFAULT_MEASURES], complete=True)
    for name in DEFAULT_MEASURES:
        assert ours_c.metrics[name] == pytest.approx(theirs[ir_measures.parse_measure(name)], abs=1e-4), name
        if not ours.missing:
            assert ours.metrics[name] == pytest.approx(theirs[ir_measures.parse_measure(name)], abs=1e-4), name
    assert 0.2 < ours.metrics["nDCG@10"] <= 1.0


@needs_shared
def test_shared_collection_per_query_equal_trec_eval(cacm_run):
    _, run_path, qrels, _ = cacm_run
    run, _ = read_run(run_path)
    names = ["nDCG@10", "AP", "R@100", "P@10", "RR", "Bpref"]
    ours = evaluate(run, qrels, [parse_measure(n) for n in names])
    checked = 0
    for metric in ir_measures.iter_calc([ir_measures.parse_measure(n) for n in names], qrels, run):
        if metric.query_id in ours.per_query:
            assert ours.per_query[metric.query_id][str(metric.measure)] == pytest.approx(metric.value, abs=1e-4)
            checked += 1
    assert checked == len(ours.per_query) * len(names) > 100
