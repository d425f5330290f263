"""Tables of evaluation results: one run, or several compared with significance tests.

With two or more runs, each run after the first is compared with the first (the
baseline) on each measure: the difference of the means, two-sided p-values of the paired
t-test and of the paired randomization test (uncorrected), the randomization test's p
corrected with Holm's method across the compared runs (one family per measure), and the
queries the run wins, loses and ties. Text shows both tests' Holm-corrected p; JSON and
CSV give ``holm_p``, the randomization test's (it assumes nothing about the distribution
of the differences; Smucker, Allan & Carterette, CIKM 2007).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from ..errors import CitesearchError
from .evaluate import Evaluation, natural_key
from .significance import holm, paired_t_test, randomization_test


@dataclass(frozen=True)
class Comparison:
    """One run against the baseline (the first run) on one measure."""

    baseline: str
    run: str
    measure: str
    delta: float
    t_p: float
    randomization_p: float
    t_p_holm: float
    randomization_p_holm: float
    wins: int
    losses: int
    ties: int


def compare(evaluations: dict[str, Evaluation], measures: list[str]) -> list[Comparison]:
    """Each run after the first against the first, on the queries both evaluated; Holm's
    correction is applied per measure across the compared runs."""
    names = list(evaluations)
    base = evaluations[names[0]]
    out: list[Comparison] = []
    for measure in measures:
        rows = []
        for name in names[1:]:
            other = evaluations[name]
            qids = sorted(set(base.per_query) & set(other.per_query))
            a = [other.per_query[q][measure] for q in qids]
            b = [base.per_query[q][measure] for q in qids]
            diffs = [x - y for x, y in zip(a, b)]
            delta = other.metrics[measure] - base.metrics[measure]
            rows.append(
                (name, delta, paired_t_test(a, b), randomization_test(a, b),
                 sum(d > 1e-12 for d in diffs), sum(d < -1e-12 for d in diffs), sum(abs(d) <= 1e-12 for d in diffs))
            )
        t_holm = holm([r[2] for r in rows])
        r_holm = holm([r[3] for r in rows])
        for (name, delta, tp, rp, wins, losses, ties), th, rh in zip(rows, t_holm, r_holm):
            out.append(Comparison(names[0], name, measure, delta, tp, rp, th, rh, wins, losses, ties))
    return out


COMPARISON_FIELDS = (
    "baseline", "run", "metric", "delta", "t_test_p", "randomization_p", "holm_p", "wins", "losses", "ties"
)
"""The keys of a comparison in JSON, and the columns of CSV's comparison block."""


def _comparison_row(c: Comparison) -> tuple:
    """A comparison's values in ``COMPARISON_FIELDS`` order; holm_p is the randomization test's."""
    return (c.baseline, c.run, c.measure, c.delta, c.t_p, c.randomization_p, c.randomization_p_holm,
            c.wins, c.losses, c.ties)


def _by_query(e: Evaluation) -> list[tuple[str, dict[str, float]]]:
    return sorted(e.per_query.items(), key=lambda item: natural_key(item[0]))


def to_json(evaluations: dict[str, Evaluation], measures: list[str] | None = None) -> str:
    """``{"runs": {name: {"metrics": {...}, "per_query": {qid: {...}}}}}``, query ids in
    natural order; with two or more runs also ``"comparisons": [{...}]``, one per compared
    run and measure, with the keys of ``COMPARISON_FIELDS``."""
    runs = {name: {"metrics": e.metrics, "per_query": dict(_by_query(e))} for name, e in evaluations.items()}
    out: dict[str, object] = {"runs": runs}
    if len(evaluations) > 1:
        if measures is None:
            measures = list(next(iter(evaluations.values())).metrics)
        out["comparisons"] = [dict(zip(COMPARISON_FIELDS, _comparison_row(c))) for c in compare(evaluations, measures)]
    return json.dumps(out, indent=2) + "\n"


def to_csv(evaluations: dict[str, Evaluation], measures: list[str], per_query: bool) -> str:
    """A block of scores (``run,query,<measures>``; query ``all`` for the means), and with
    two or more runs, after one empty line, a block of comparisons with its own header
    (``COMPARISON_FIELDS``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", "query", *measures])
    for name, e in evaluations.items():
        if per_query:
            for qid, vals in _by_query(e):
                w.writerow([name, qid, *(f"{vals[m]:.4f}" for m in measures)])
        w.writerow([name, "all", *(f"{e.metrics[m]:.4f}" for m in measures)])
    if len(evaluations) > 1:
        w.writerow([])
        w.writerow(COMPARISON_FIELDS)
        for c in compare(evaluations, measures):
            base, run, measure, delta, *ps, wins, losses, ties = _comparison_row(c)
            w.writerow([base, run, measure, f"{delta:.4f}", *(f"{p:.4g}" for p in ps), wins, losses, ties])
    return buf.getvalue()


def _stars(p: float) -> str:
    return "**" if p < 0.01 else "*" if p < 0.05 else ""


def to_text(evaluations: dict[str, Evaluation], measures: list[str], per_query: bool) -> str:
    names = list(evaluations)
    width = max(12, *(len(n) for n in names))
    col = max(9, *(len(m) + 2 for m in measures))
    lines = []
    if per_query:
        for name, e in evaluations.items():
            lines.append(f"{'query':<{width}}" + "".join(f"{m:>{col}}" for m in measures) + f"   ({name})")
            for qid, vals in _by_query(e):
                lines.append(f"{qid:<{width}}" + "".join(f"{vals[m]:>{col}.4f}" for m in measures))
            lines.append("")
    lines.append(f"{'run':<{width}}" + "".join(f"{m:>{col}}" for m in measures) + f"{'queries':>{col}}")
    for name, e in evaluations.items():
        lines.append(
            f"{name:<{width}}" + "".join(f"{e.metrics[m]:>{col}.4f}" for m in measures) + f"{len(e.per_query):>{col}}"
        )
    if len(names) > 1:
        lines.append("")
        lines.append(f"Against {names[0]}: delta, two-sided p-values (paired t-test, paired randomization test,")
        lines.append("Holm-corrected across runs), and per-query wins/losses/ties. * p < 0.05, ** p < 0.01 (Holm).")
        mw = max(10, *(len(m) + 1 for m in measures))
        lines.append(f"{'run':<{width}} {'measure':<{mw}}{'delta':>9}{'t p':>9}{'rand p':>9}{'W/L/T':>12}")
        for c in compare(evaluations, measures):
            lines.append(
                f"{c.run:<{width}} {c.measure:<{mw}}{c.delta:>+9.4f}{c.t_p_holm:>8.4f}{_stars(c.t_p_holm):<2}"
                f"{c.randomization_p_holm:>7.4f}{_stars(c.randomization_p_holm):<2}{f'{c.wins}/{c.losses}/{c.ties}':>10}"
            )
    notes = []
    for name, e in evaluations.items():
        if e.unjudged:
            notes.append(f"{name}: {len(e.unjudged)} queries without judgments skipped")
        if e.missing:
            notes.append(f"{name}: {len(e.missing)} judged queries not in the run")
    return "\n".join(lines) + "\n" + "".join(f"Note: {n}\n" for n in notes)


PLOT_HINT = "pip install matplotlib (from a source checkout: pip install '.[plot]')"


def pyplot():
    """matplotlib's pyplot, drawing to files; a CitesearchError saying how to install it
    when it cannot be imported (check before any work, so that --plot fails fast)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        from ..errors import CitesearchError

        raise CitesearchError("--plot needs matplotlib, which is not installed", hint=PLOT_HINT) from None
    return plt


def plot(evaluations: dict[str, Evaluation], measure: str, path: str) -> None:
    """Per-query differences against the first run, sorted, one panel per run."""
    plt = pyplot()
    names = list(evaluations)
    base = evaluations[names[0]]
    fig, axes = plt.subplots(len(names) - 1, 1, figsize=(8, 2.5 * (len(names) - 1)), squeeze=False)
    for ax, name in zip(axes[:, 0], names[1:]):
        other = evaluations[name]
        qids = sorted(set(base.per_query) & set(other.per_query))
        diffs = sorted(other.per_query[q][measure] - base.per_query[q][measure] for q in qids)
        ax.bar(range(len(diffs)), diffs, color=["tab:green" if d > 0 else "tab:red" for d in diffs])
        ax.axhline(0, color="black", linewidth=0.5)
        ax.set_ylabel(f"Δ {measure}")
        ax.set_title(f"{name} − {names[0]}")
        ax.set_xticks([])
    fig.tight_layout()
    try:
        fig.savefig(path, dpi=120)
    except OSError as exc:
        raise CitesearchError(f"{path}: cannot write: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)
