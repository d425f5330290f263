"""Evaluating rankings against relevance judgments, with trec_eval's numbers."""

from .evaluate import Evaluation, check_coverage, evaluate, natural_key, trec_order
from .measures import DEFAULT_MEASURES, MEASURES, Measure, parse_measure
from .significance import holm, paired_t_test, randomization_test
from .trec import Qrels, Run, decode_id, encode_id, parse_run, read_qrels, read_run, run_names, trec_lines

__all__ = [
    "DEFAULT_MEASURES",
    "MEASURES",
    "Evaluation",
    "Measure",
    "Qrels",
    "Run",
    "check_coverage",
    "decode_id",
    "encode_id",
    "evaluate",
    "holm",
    "natural_key",
    "paired_t_test",
    "parse_measure",
    "parse_run",
    "randomization_test",
    "read_qrels",
    "read_run",
    "run_names",
    "trec_lines",
    "trec_order",
]
