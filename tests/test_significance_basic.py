"""Paired tests against scipy, Holm's correction by hand, and run-file round trips."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from citesearch.errors import CorpusError
from citesearch.evaluation import holm, paired_t_test, randomization_test, read_qrels, read_run, trec_lines
from citesearch.evaluation.trec import encode_id


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_paired_t_test_equals_scipy(seed):
    rng = np.random.default_rng(seed)
    a = rng.random(40)
    b = a + rng.normal(0.02, 0.1, 40)
    assert paired_t_test(a, b) == pytest.approx(stats.ttest_rel(a, b).pvalue, rel=1e-9)


def test_degenerate_t_tests():
    assert paired_t_test([0.5, 0.5], [0.5, 0.5]) == 1.0
    assert paired_t_test([0.5], [0.1]) == 1.0


def test_randomization_test_matches_exact_enumeration():
    rng = np.random.default_rng(3)
    a, b = rng.random(10), rng.random(10)
    d = a - b
    observed = abs(d.mean())
    flips = [abs((np.array(s) * d).mean()) >= observed - 1e-12 for s in itertools.product([-1, 1], repeat=10)]
    exact = sum(flips) / len(flips)
    assert randomization_test(a, b, trials=20000) == pytest.approx(exact, abs=0.02)
    assert randomization_test(a, b) == randomization_test(a, b)  # deterministic


def test_randomization_test_detects_a_consistent_difference():
    a = np.linspace(0.3, 0.6, 30)
    assert randomization_test(a + 0.05, a) < 0.01


def test_holm_by_hand():
    # Sorted p: 0.01 (x3 = 0.03), 0.02 (x2 = 0.04), 0.04 (x1 = 0.04, kept monotone).
    assert holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])


def test_run_file_round_trip_and_ids_with_spaces(tmp_path):
    path = tmp_path / "run.trec"
    path.write_text(trec_lines("q 1", [("my notes.txt", 2.5), ("b%c", 1.0)], "tag"))
    assert path.read_text().splitlines()[0] == "q%201 Q0 my%20notes.txt 1 2.5 tag"
    run, tag = read_run(path)
    assert run == {"q 1": {"my notes.txt": 2.5, "b%c": 1.0}} and tag == "tag"


def test_every_white_space_character_is_encoded():
    """encode_id's quick check (a regular expression's \\s) agrees with str.isspace."""
    for code in range(0x110000):
        c = chr(code)
        if c.isspace() or c == "%":
            assert encode_id(f"a{c}b") != f"a{c}b", hex(code)
        else:
            assert encode_id(f"a{c}b") == f"a{c}b", hex(code)


def test_read_run_keeps_the_first_duplicate_and_names_bad_lines(tmp_path):
    path = tmp_path / "run"
    path.write_text("1 Q0 d1 1 3.0 t\n1 Q0 d1 2 1.0 t\n")
    assert read_run(path)[0] == {"1": {"d1": 3.0}}
    path.write_text("1 Q0 d1 1 3.0 t\n1 Q0 d2 2 high t\n")
    with pytest.raises(CorpusError, match="run:2"):
        read_run(path)


def test_qrels_formats(tmp_path):
    trec = tmp_path / "qrels.txt"
    trec.write_text("1 0 d1 2\n1 0 d2 0\n2 0 d3 1\n")
    beir = tmp_path / "test.tsv"
    beir.write_text("query-id\tcorpus-id\tscore\n1\td1\t2\n1\td2\t0\n2\td3\t1\n")
    assert read_qrels(trec) == read_qrels(beir) == {"1": {"d1": 2, "d2": 0}, "2": {"d3": 1}}
    bad = tmp_path / "bad.txt"
    bad.write_text("1 0 d1 2\n1 0 d2\n")
    with pytest.raises(CorpusError, match="bad.txt:2"):
        read_qrels(bad)
