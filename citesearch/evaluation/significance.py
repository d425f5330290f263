"""Paired significance tests over per-query scores, and Holm's correction."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

RANDOMIZATION_TRIALS = 10_000


def paired_t_test(a: Sequence[float], b: Sequence[float]) -> float:
    """Two-sided p-value of Student's paired t-test (as ``scipy.stats.ttest_rel``)."""
    from scipy import stats

    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    n = len(d)
    if n < 2:
        return 1.0
    sd = d.std(ddof=1)
    if sd == 0:
        return 1.0 if d.mean() == 0 else 0.0
    t = d.mean() / (sd / math.sqrt(n))
    return float(2 * stats.t.sf(abs(t), n - 1))


def randomization_test(
    a: Sequence[float], b: Sequence[float], trials: int = RANDOMIZATION_TRIALS, seed: int = 0
) -> float:
    """Two-sided p-value of the paired randomization (permutation) test on the mean
    difference: each query's pair of scores is swapped at random (Smucker, Allan &
    Carterette, CIKM 2007). Deterministic for a given ``seed``."""
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    if len(d) == 0:
        return 1.0
    observed = abs(d.mean())
    rng = np.random.default_rng(seed)
    signs = rng.choice(np.array([-1.0, 1.0]), size=(trials, len(d)))
    means = np.abs((signs * d).mean(axis=1))
    # Count the observed assignment itself, so p is never 0 (Phipson & Smyth, 2010).
    return float((1 + np.sum(means >= observed - 1e-12)) / (trials + 1))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values (Holm, Scand. J. Statist. 1979), in input order."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted
