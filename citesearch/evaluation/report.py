"""Tables of evaluation results: one run, or several compared with significance tests."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from .evaluate import Evaluation
from .significance import holm, paired_t_test, randomization_test


@dataclass(frozen=True)
class Comparison:
    """One run against the baseline (the first run) on one measure."""

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
        for (name, delta, tp, rp, w, l, t), th, rh in zip(rows, t_holm, r_holm):
            out.append(Comparison(name, measure, delta, tp, rp, th, rh, w, l, t))
    return out


def to_json(evaluations: dict[str, Evaluation]) -> str:
    """``{"runs": {name: {"metrics": {...}, "per_query": {qid: {...}}}}}``."""
    runs = {name: {"metrics": e.metrics, "per_query": e.per_query} for name, e in evaluations.items()}
    return json.dumps({"runs": runs}, indent=2) + "\n"


def to_csv(evaluations: dict[str, Evaluation], measures: list[str], per_query: bool) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["run", "query", *measures])
    for name, e in evaluations.items():
        if per_query:
            for qid, vals in e.per_query.items():
                w.writerow([name, qid, *(f"{vals[m]:.4f}" for m in measures)])
        w.writerow([name, "all", *(f"{e.metrics[m]:.4f}" for m in measures)])
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
            for qid, vals in e.per_query.items():
                lines.append(f"{qid:<{width}}" + "".join(f"{vals[m]:>{col}.4f}" for m in measures))
            lines.append("")
    lines.append(f"{'run':<{width}}" + "".join(f"{m:>{col}}" for m in measures) + f"{'queries':>{col}}")
    for name, e in evaluations.items():
        lines.append(f"{name:<{width}}" + "".join(f"{e.metrics[m]:>{col}.4f}" for m in measures) + f"{len(e.per_query):>{col}}")
    if len(names) > 1:
        lines.append("")
        lines.append(f"Against {names[0]}: delta, two-sided p-values (paired t-test, paired randomization test,")
        lines.append("Holm-corrected across runs), and per-query wins/losses/ties. * p < 0.05, ** p < 0.01 (Holm).")
        lines.append(f"{'run':<{width}} {'measure':<10}{'delta':>9}{'t p':>9}{'rand p':>9}{'W/L/T':>12}")
        for c in compare(evaluations, measures):
            lines.append(
                f"{c.run:<{width}} {c.measure:<10}{c.delta:>+9.4f}{c.t_p_holm:>8.4f}{_stars(c.t_p_holm):<2}"
                f"{c.randomization_p_holm:>7.4f}{_stars(c.randomization_p_holm):<2}{f'{c.wins}/{c.losses}/{c.ties}':>10}"
            )
    notes = []
    for name, e in evaluations.items():
        if e.unjudged:
            notes.append(f"{name}: {len(e.unjudged)} queries without judgments skipped")
        if e.missing:
            notes.append(f"{name}: {len(e.missing)} judged queries not in the run")
    return "\n".join(lines) + "\n" + "".join(f"Note: {n}\n" for n in notes)


def plot(evaluations: dict[str, Evaluation], measure: str, path: str) -> None:
    """Per-query differences against the first run, sorted, one panel per run."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        from ..errors import CitesearchError

        raise CitesearchError("--plot needs matplotlib", hint="pip install 'citesearch[plot]'") from None
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
    fig.savefig(path, dpi=120)
