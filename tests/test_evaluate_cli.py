"""``citesearch evaluate`` end to end: runs that miss the judgments, trec_eval's measure
names, comparisons in JSON and CSV, --plot, run names and query order, -o."""

from __future__ import annotations

import csv
import io
import json
import re
import sys

import pytest
from click.testing import CliRunner
from scipy import stats

from citesearch.cli import cli
from citesearch.evaluation import holm, randomization_test
from citesearch.evaluation.report import COMPARISON_FIELDS

# q1: a is relevant (and c); q2: d; q10: e. Three runs over the same queries.
QRELS = """\
q1 0 a 1
q1 0 b 0
q1 0 c 1
q2 0 d 1
q10 0 e 2
q10 0 f 0
"""
RUN_BASE = """\
q1 Q0 b 1 3.0 citesearch-hybrid
q1 Q0 a 2 2.0 citesearch-hybrid
q1 Q0 c 3 1.0 citesearch-hybrid
q2 Q0 x 1 2.0 citesearch-hybrid
q2 Q0 d 2 1.0 citesearch-hybrid
q10 Q0 f 1 2.0 citesearch-hybrid
q10 Q0 e 2 1.0 citesearch-hybrid
"""
RUN_BETTER = """\
q1 Q0 a 1 3.0 citesearch-hybrid
q1 Q0 c 2 2.0 citesearch-hybrid
q1 Q0 b 3 1.0 citesearch-hybrid
q2 Q0 d 1 2.0 citesearch-hybrid
q2 Q0 x 2 1.0 citesearch-hybrid
q10 Q0 f 1 2.0 citesearch-hybrid
q10 Q0 e 2 1.0 citesearch-hybrid
"""
RUN_OTHER = """\
q1 Q0 a 1 3.0 bm25
q2 Q0 d 1 2.0 bm25
q10 Q0 e 1 2.0 bm25
"""


@pytest.fixture
def files(tmp_path):
    paths = {}
    texts = {"qrels.txt": QRELS, "base.trec": RUN_BASE, "better.trec": RUN_BETTER, "bm25.trec": RUN_OTHER}
    for name, text in texts.items():
        paths[name] = tmp_path / name
        paths[name].write_text(text)
    return paths


def ok(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False, prog_name="citesearch")
    assert result.exit_code == 0, result.output
    return result


def error_line(*args, code=1) -> str:
    """The one line of a clean failure (no traceback, nothing on stdout)."""
    result = CliRunner().invoke(cli, [str(a) for a in args], prog_name="citesearch")
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.stdout == ""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in lines[0]
    return lines[0]


# -- 1. runs that share no query, or only some, with the judgments -----------------------


def test_no_shared_query_is_an_error(files, tmp_path):
    numbered = tmp_path / "numbered.trec"
    numbered.write_text("1 Q0 a 1 3.0 t\n2 Q0 d 1 2.0 t\n")
    for extra in ([], ["-c"], ["--format", "json"]):
        line = error_line("evaluate", numbered, "--qrels", files["qrels.txt"], *extra)
        assert line.startswith("Error: ") and "share no query" in line
        assert str(numbered) in line and str(files["qrels.txt"]) in line


def test_no_shared_query_in_one_of_several_runs_is_an_error(files, tmp_path):
    numbered = tmp_path / "numbered.trec"
    numbered.write_text("1 Q0 a 1 3.0 t\n")
    line = error_line("evaluate", files["base.trec"], numbered, "--qrels", files["qrels.txt"])
    assert str(numbered) in line and "share no query" in line


def test_empty_run_file_is_an_error(files, tmp_path):
    empty = tmp_path / "empty.trec"
    empty.write_text("")
    line = error_line("evaluate", empty, "--qrels", files["qrels.txt"])
    assert f"{empty}: no results to score against {files['qrels.txt']}" in line


def test_partial_overlap_warns_on_stderr(files, tmp_path):
    partial = tmp_path / "partial.trec"
    partial.write_text("q1 Q0 a 1 3.0 t\nq99 Q0 a 1 3.0 t\nq98 Q0 a 1 1.0 t\n")
    result = ok("evaluate", partial, "--qrels", files["qrels.txt"], "--metrics", "P@1")
    assert f"Warning: {partial}: 2 of 3 judged queries have no results in the run (skipped; -c scores them as 0); " \
           "2 run queries have no judgments (skipped)" in result.stderr.splitlines()
    assert re.search(r"^t\s+1\.0000\s+1$", result.stdout, re.MULTILINE)  # q1 only
    result = ok("evaluate", partial, "--qrels", files["qrels.txt"], "--metrics", "P@1", "-c")
    assert "(scored as 0, -c)" in result.stderr
    assert re.search(r"^t\s+0\.3333\s+3$", result.stdout, re.MULTILINE)


def test_full_overlap_warns_nothing(files):
    assert "Warning" not in ok("evaluate", files["base.trec"], "--qrels", files["qrels.txt"]).stderr


# -- 2. trec_eval's measure names --------------------------------------------------------

TREC_NAMES = "P_10,ndcg_cut_10,map,recip_rank,recall_100,bpref,ndcg,Rprec,success_10,map_cut_10"
SAME_NAMES = "P@10,nDCG@10,AP,RR,R@100,Bpref,nDCG,Rprec,Success@10,AP@10"


def test_trec_eval_names_are_accepted_and_echoed(files):
    args = ("evaluate", files["base.trec"], "--qrels", files["qrels.txt"], "--format", "json", "--per-query")
    trec = json.loads(ok(*args, "--metrics", TREC_NAMES).stdout)["runs"]["citesearch-hybrid"]
    ours = json.loads(ok(*args, "--metrics", SAME_NAMES).stdout)["runs"]["citesearch-hybrid"]
    assert list(trec["metrics"]) == TREC_NAMES.split(",")  # the names as given, in order
    assert list(ours["metrics"]) == SAME_NAMES.split(",")
    assert list(trec["metrics"].values()) == list(ours["metrics"].values())
    for qid in ours["per_query"]:
        assert list(trec["per_query"][qid].values()) == list(ours["per_query"][qid].values())
    assert trec["metrics"]["recip_rank"] == pytest.approx((1 / 2 + 1 / 2 + 1 / 2) / 3)


def test_trec_eval_names_equal_pytrec_eval_through_the_cli(files):
    pytrec_eval = pytest.importorskip("pytrec_eval")
    from citesearch.evaluation import read_qrels, read_run

    run, _ = read_run(files["base.trec"])
    measures = {re.sub(r"_(\d+)$", r".\1", n) for n in TREC_NAMES.split(",")}  # trec_eval -m spells P_10 P.10
    theirs = pytrec_eval.RelevanceEvaluator(read_qrels(files["qrels.txt"]), measures).evaluate(run)
    out = json.loads(ok("evaluate", files["base.trec"], "--qrels", files["qrels.txt"], "--metrics", TREC_NAMES,
                        "--format", "json").stdout)["runs"]["citesearch-hybrid"]
    for name in TREC_NAMES.split(","):
        assert out["metrics"][name] == pytest.approx(sum(v[name] for v in theirs.values()) / len(theirs), abs=1e-9)


def test_text_and_csv_headers_echo_the_names_given(files):
    text = ok("evaluate", files["base.trec"], "--qrels", files["qrels.txt"], "--metrics", "P_10,map,nDCG@10").stdout
    assert text.splitlines()[0].split() == ["run", "P_10", "map", "nDCG@10", "queries"]
    rows = list(csv.reader(io.StringIO(
        ok("evaluate", files["base.trec"], "--qrels", files["qrels.txt"], "--metrics", "ndcg_cut_10,recip_rank",
           "--format", "csv").stdout)))
    assert rows[0] == ["run", "query", "ndcg_cut_10", "recip_rank"]


def test_a_measure_named_twice_is_shown_once(files):
    out = json.loads(ok("evaluate", files["base.trec"], "--qrels", files["qrels.txt"], "--metrics", "map,AP,P_10,P@10",
                        "--format", "json").stdout)
    assert list(out["runs"]["citesearch-hybrid"]["metrics"]) == ["map", "P_10"]


def test_unknown_measure_is_one_line_listing_the_accepted_names(files):
    line = error_line("evaluate", files["base.trec"], "--qrels", files["qrels.txt"], "--metrics", "nDCG@10,P_ten")
    assert "'P_ten'" in line
    for name in ["nDCG[@k]", "Judged@k", "Rprec", "ndcg_cut_k", "P_k", "recip_rank", "map_cut_k", "success_k"]:
        assert name in line


# -- 3. comparisons in JSON and CSV ------------------------------------------------------


def test_json_comparisons(files):
    out = json.loads(ok("evaluate", files["base.trec"], files["better.trec"], files["bm25.trec"], "--qrels",
                        files["qrels.txt"], "--metrics", "map,P_1", "--format", "json").stdout)
    assert list(out["runs"]) == ["base.trec", "better.trec", "bm25"]
    comparisons = out["comparisons"]
    assert [(c["run"], c["metric"]) for c in comparisons] == [
        ("better.trec", "map"), ("bm25", "map"), ("better.trec", "P_1"), ("bm25", "P_1")]
    for c in comparisons:
        assert tuple(c) == COMPARISON_FIELDS
        assert set(c) == {"baseline", "run", "metric", "delta", "t_test_p", "randomization_p", "holm_p", "wins",
                          "losses", "ties"}
        assert c["baseline"] == "base.trec"
        base, run = (out["runs"][n]["per_query"] for n in ("base.trec", c["run"]))
        qids = sorted(base)
        a, b = [run[q][c["metric"]] for q in qids], [base[q][c["metric"]] for q in qids]
        assert c["delta"] == pytest.approx(out["runs"][c["run"]]["metrics"][c["metric"]]
                                           - out["runs"]["base.trec"]["metrics"][c["metric"]])
        assert c["randomization_p"] == randomization_test(a, b)
        if len({x - y for x, y in zip(a, b)}) > 1:
            assert c["t_test_p"] == pytest.approx(stats.ttest_rel(a, b).pvalue)
        pairs = list(zip(a, b))
        assert (c["wins"], c["losses"], c["ties"]) == (
            sum(x > y for x, y in pairs), sum(x < y for x, y in pairs), sum(x == y for x, y in pairs))
    # holm_p: the randomization test's p, Holm-corrected across the runs compared on one measure
    for metric in ("map", "P_1"):
        same = [c for c in comparisons if c["metric"] == metric]
        assert [c["holm_p"] for c in same] == pytest.approx(holm([c["randomization_p"] for c in same]))
    better_map = comparisons[0]
    # better: q1 AP 1 vs (1/2 + 2/3)/2, q2 1 vs 1/2, q10 equal
    assert better_map["delta"] == pytest.approx(((1 - 7 / 12) + (1 - 1 / 2)) / 3)
    assert (better_map["wins"], better_map["losses"], better_map["ties"]) == (2, 0, 1)


def test_json_of_one_run_has_no_comparisons(files):
    out = json.loads(ok("evaluate", files["base.trec"], "--qrels", files["qrels.txt"], "--format", "json").stdout)
    assert set(out) == {"runs"}


def test_text_comparison_shows_the_same_numbers(files):
    args = ("evaluate", files["base.trec"], files["better.trec"], "--qrels", files["qrels.txt"], "--metrics", "map")
    text = ok(*args).stdout
    c = json.loads(ok(*args, "--format", "json").stdout)["comparisons"][0]
    pattern = r"^better\.trec\s+map\s+([+-][\d.]+)\s+[\d.]+\**\s+([\d.]+)\**\s+(\d+)/(\d+)/(\d+)$"
    row = re.search(pattern, text, re.MULTILINE)
    assert row, text
    assert float(row.group(1)) == pytest.approx(c["delta"], abs=1e-4)
    assert float(row.group(2)) == pytest.approx(c["holm_p"], abs=1e-4)
    assert tuple(map(int, row.groups()[2:])) == (c["wins"], c["losses"], c["ties"])


def test_csv_comparison_block(files):
    args = ("evaluate", files["base.trec"], files["better.trec"], files["bm25.trec"], "--qrels", files["qrels.txt"],
            "--metrics", "map,P_1")
    rows = list(csv.reader(io.StringIO(ok(*args, "--format", "csv", "--per-query").stdout)))
    blank = rows.index([])
    scores, comparisons = rows[:blank], rows[blank + 1:]
    assert scores[0] == ["run", "query", "map", "P_1"]
    assert all(len(r) == 4 for r in scores)
    assert comparisons[0] == list(COMPARISON_FIELDS)
    expected = json.loads(ok(*args, "--format", "json").stdout)["comparisons"]
    assert len(comparisons) == 1 + len(expected)
    for row, c in zip(comparisons[1:], expected):
        got = dict(zip(COMPARISON_FIELDS, row))
        assert [got["baseline"], got["run"], got["metric"]] == [c["baseline"], c["run"], c["metric"]]
        for key in ("delta", "t_test_p", "randomization_p", "holm_p"):
            assert float(got[key]) == pytest.approx(c[key], abs=1e-4, rel=1e-3), key
        assert [int(got[k]) for k in ("wins", "losses", "ties")] == [c["wins"], c["losses"], c["ties"]]


def test_csv_of_one_run_has_one_block(files):
    out = ok("evaluate", files["base.trec"], "--qrels", files["qrels.txt"], "--format", "csv").stdout
    assert [] not in list(csv.reader(io.StringIO(out)))


# -- 4. --plot ---------------------------------------------------------------------------


def test_plot_without_matplotlib_fails_first_with_the_install_hint(files, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib raises ImportError
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    png = tmp_path / "deltas.png"
    args = ("evaluate", files["base.trec"], files["better.trec"])
    line = error_line(*args, "--qrels", files["qrels.txt"], "--plot", png)
    assert "matplotlib" in line and "pip install matplotlib" in line and "pip install '.[plot]'" in line
    assert not png.exists()
    # before anything else: the qrels are not read, the queries are not run
    line = error_line("evaluate", files["base.trec"], files["better.trec"], "--qrels", tmp_path / "missing.txt",
                      "--plot", png)
    assert "matplotlib" in line
    queries = tmp_path / "q.tsv"
    queries.write_text("q1\ticeland\n")
    line = error_line("evaluate", files["base.trec"], "--queries", queries, "--index", tmp_path / "no-index",
                      "--qrels", files["qrels.txt"], "--plot", png)
    assert "matplotlib" in line


def test_plot_writes_a_png(files, tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "deltas.png"
    result = ok("evaluate", files["base.trec"], files["better.trec"], files["bm25.trec"], "--qrels", files["qrels.txt"],
                "--metrics", "ndcg_cut_10", "--plot", png)
    assert png.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert f"Wrote {png}" in result.stderr
    assert "ndcg_cut_10" in result.stdout


# -- 5. run names and query order --------------------------------------------------------


def test_runs_with_the_same_tag_are_named_by_file(files):
    out = ok("evaluate", files["base.trec"], files["better.trec"], files["bm25.trec"], "--qrels", files["qrels.txt"],
             "--metrics", "map").stdout
    table = out.split("\n\n")[0].splitlines()
    assert [line.split()[0] for line in table[1:]] == ["base.trec", "better.trec", "bm25"]
    assert "citesearch-hybrid" not in out


def test_runs_with_distinct_tags_keep_them(files):
    out = json.loads(ok("evaluate", files["bm25.trec"], files["base.trec"], "--qrels", files["qrels.txt"],
                        "--format", "json").stdout)
    assert list(out["runs"]) == ["bm25", "citesearch-hybrid"]


def test_per_query_output_is_in_natural_order(files):
    args = ("evaluate", files["base.trec"], "--qrels", files["qrels.txt"], "--metrics", "map", "--per-query")
    text = ok(*args).stdout
    assert [line.split()[0] for line in text.splitlines()[1:4]] == ["q1", "q2", "q10"]
    rows = list(csv.reader(io.StringIO(ok(*args, "--format", "csv").stdout)))
    assert [r[1] for r in rows[1:]] == ["q1", "q2", "q10", "all"]
    out = json.loads(ok(*args, "--format", "json").stdout)
    assert list(out["runs"]["citesearch-hybrid"]["per_query"]) == ["q1", "q2", "q10"]


def test_numeric_query_ids_in_natural_order(tmp_path):
    (tmp_path / "qrels").write_text("".join(f"{q} 0 a 1\n" for q in ["10", "2", "1", "100"]))
    (tmp_path / "run").write_text("".join(f"{q} Q0 a 1 1.0 t\n" for q in ["100", "10", "2", "1"]))
    out = json.loads(ok("evaluate", tmp_path / "run", "--qrels", tmp_path / "qrels", "--format", "json").stdout)
    assert list(out["runs"]["t"]["per_query"]) == ["1", "2", "10", "100"]


# -- 6. evaluate --queries -o keeps the run ----------------------------------------------


def test_queries_output_keeps_the_run(built_index, tmp_path):
    queries = tmp_path / "queries.tsv"
    queries.write_text("q1\ticeland volcanoes\nq2\ttsunami earthquakes\n")
    qrels = tmp_path / "qrels.txt"
    qrels.write_text("q1 0 alpha.txt 1\nq2 0 d2 1\n")
    saved = tmp_path / "runs" / "hybrid.trec"
    result = ok("evaluate", "--index", built_index, "--queries", queries, "--qrels", qrels, "--metrics", "RR,map",
                "-o", saved, "--workers", "1")
    assert f"Wrote {saved}" in result.stderr
    batch = tmp_path / "batch.trec"
    ok("batch", queries, "--index", built_index, "-o", batch, "--workers", "1")
    assert saved.read_text() == batch.read_text() != ""
    assert sorted(p.name for p in saved.parent.iterdir()) == ["hybrid.trec"]  # no temporary file left
    assert ok("evaluate", saved, "--qrels", qrels, "--metrics", "RR,map").stdout == result.stdout


def test_generated_run_with_a_colliding_tag_is_named_by_its_output(built_index, tmp_path, files):
    queries = tmp_path / "queries.tsv"
    queries.write_text("q1\ticeland\n")
    saved = tmp_path / "fresh.trec"
    out = json.loads(ok("evaluate", files["base.trec"], "--index", built_index, "--queries", queries, "--qrels",
                        files["qrels.txt"], "-o", saved, "--workers", "1", "--format", "json").stdout)
    assert list(out["runs"]) == ["base.trec", "fresh.trec"]


def test_output_needs_queries(files, tmp_path):
    result = CliRunner().invoke(cli, ["evaluate", str(files["base.trec"]), "--qrels", str(files["qrels.txt"]), "-o",
                                      str(tmp_path / "x.trec")])
    assert result.exit_code == 2 and result.stdout == ""
    assert "Error: -o/--output saves the run that --queries makes" in result.stderr
    assert not (tmp_path / "x.trec").exists()
