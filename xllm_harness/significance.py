"""Paired significance tests and bootstrap intervals over per-segment metric statistics.

Every function takes the ``(N, K)`` statistics of :meth:`xllm_harness.metrics.Metric.statistics`
and recomputes scores with the metric's own vectorised :meth:`~xllm_harness.metrics.Metric.score_from_statistics`,
so observed scores (and their difference) are exactly the metric's corpus scores.

Resampling is vectorised: the ``(B, N)`` index matrix of ``B`` resamples is turned into a matrix of
counts (how often each segment is drawn) and the resampled column sums are one matrix product,
``counts @ stats``. Indices come from ``numpy.random.default_rng(seed).choice(N, size=(B, N))``, the
draw sacrebleu's ``--paired-bs`` makes, so with the same seed both resample the same segments.

Tests (:func:`paired_comparison` picks one from the metric and the data; the name is in ``test``):

- ``paired bootstrap``: corpus metrics (``statistic == "corpus"``: spBLEU, chrF++, ``off_target``),
  recomputed from summed sufficient statistics with the same resamples for both systems. The p-value
  is sacrebleu's: with ``d = |b - a|`` and resampled ``d*_i = |b*_i - a*_i|``,
  ``p = (#{d*_i - mean(d*) >= d} + 1) / (B + 1)``. sacrebleu counts ``>``, which gives two identical
  systems ``p = 1/(B + 1)``; counting ``>=`` gives them ``p = 1`` and changes nothing else (a tie
  of ``d*_i - mean(d*)`` with ``d`` otherwise has probability zero).
- ``paired bootstrap + paired t-test``: continuous segment scores (COMET, BLEURT, F1), as
  ``comet-compare``: ``p`` from the paired bootstrap above, ``p_ttest`` from ``scipy.stats.ttest_rel``.
- ``exact McNemar``: per-item 0/1 scores (``match``, ``exact_match``, judge verdicts): two-sided exact
  binomial test on the discordant items; the interval is the paired bootstrap's.

The difference is always ``delta = b - a``: B against A, A being the baseline (sacrebleu's first system).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from xllm_harness.errors import InputError
from xllm_harness.metrics import Metric

CHUNK_ENTRIES = 1 << 22
"""Resample indices drawn per chunk (rows × N): bounds memory for large test sets."""

PAIRED_BOOTSTRAP = "paired bootstrap"
PAIRED_BOOTSTRAP_T = "paired bootstrap + paired t-test"
MCNEMAR = "exact McNemar"


@dataclass(frozen=True)
class Comparison:
    """The outcome of one paired test of system B against system A."""

    test: str
    """Which test gave ``p``: ``paired bootstrap``, ``paired bootstrap + paired t-test`` or ``exact McNemar``."""
    a: float
    """A's score (the metric's corpus score)."""
    b: float
    """B's score."""
    delta: float
    """``b - a``."""
    ci: tuple[float, float]
    """Percentile interval of ``delta`` over the paired bootstrap resamples."""
    p: float
    """Two-sided p-value of the named test."""
    n: int
    """Number of paired segments."""
    n_resamples: int
    p_ttest: float | None = None
    """Paired t-test p-value (continuous segment scores only)."""


def _as_stats(stats: np.ndarray, what: str) -> np.ndarray:
    array = np.asarray(stats, dtype=np.float64)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2 or array.shape[0] == 0:
        raise InputError(f"{what}: statistics must be a non-empty (N, K) array, got shape {array.shape}")
    return array


def resample_counts(n: int, n_resamples: int, seed: int | None) -> Iterator[np.ndarray]:
    """Chunks of the ``(B, n)`` count matrix: row ``i`` says how often each segment is in resample ``i``.

    The chunks concatenate to the counts of ``default_rng(seed).choice(n, size=(n_resamples, n))``
    (chunks hold an even number of draws, so numpy's buffered 32-bit draws stay in step).
    """
    if n_resamples < 1:
        raise InputError(f"n_resamples must be at least 1, got {n_resamples}")
    rng = np.random.default_rng(seed)
    rows = max(2, (CHUNK_ENTRIES // n) & ~1)
    done = 0
    while done < n_resamples:
        take = min(rows, n_resamples - done)
        idx = rng.choice(n, size=(take, n), replace=True)
        flat = (idx + (np.arange(take) * n)[:, None]).ravel()
        yield np.bincount(flat, minlength=take * n).reshape(take, n).astype(np.float64)
        done += take


@functools.lru_cache(maxsize=1)
def _counts(n: int, n_resamples: int, seed: int | None) -> tuple[np.ndarray, ...]:
    """:func:`resample_counts`, kept for the next call (a run compares many metrics on one test set)."""
    chunks = tuple(resample_counts(n, n_resamples, seed))
    for chunk in chunks:
        chunk.flags.writeable = False
    return chunks


def resampled_scores(
    metric: Metric, stats: Sequence[np.ndarray], n_resamples: int, seed: int | None
) -> list[np.ndarray]:
    """For each statistics matrix (same ``N``), the ``(B,)`` scores over the same resamples."""
    n = stats[0].shape[0]
    parts: list[list[np.ndarray]] = [[] for _ in stats]
    for counts in _counts(n, n_resamples, seed):
        for part, matrix in zip(parts, stats, strict=True):
            part.append(np.asarray(metric.score_from_statistics(counts @ matrix, n), dtype=np.float64))
    return [np.concatenate(part) for part in parts]


def observed_score(metric: Metric, stats: np.ndarray) -> float:
    """The metric's corpus score from the summed statistics."""
    stats = _as_stats(stats, metric.name)
    return float(np.asarray(metric.score_from_statistics(stats.sum(axis=0)[None, :], stats.shape[0]))[0])


def _interval(values: np.ndarray, level: float) -> tuple[float, float]:
    if not 0 < level < 1:
        raise InputError(f"confidence level must be between 0 and 1, got {level}")
    finite = values[np.isfinite(values)]
    if not finite.size:
        return (float("nan"), float("nan"))
    lo, hi = np.quantile(finite, [(1 - level) / 2, (1 + level) / 2])
    return (float(lo), float(hi))


def bootstrap_interval(
    metric: Metric, stats: np.ndarray, n_resamples: int = 1000, level: float = 0.95, seed: int | None = 12345
) -> tuple[float, float]:
    """Percentile bootstrap interval (over segments) of the metric's corpus score."""
    stats = _as_stats(stats, metric.name)
    (scores,) = resampled_scores(metric, [stats], n_resamples, seed)
    return _interval(scores, level)


def bootstrap_p(delta: float, deltas: np.ndarray) -> float:
    """sacrebleu's paired-bootstrap p-value (``>=`` instead of ``>``; see the module docstring)."""
    spread = np.abs(deltas[np.isfinite(deltas)])
    if not spread.size:
        return float("nan")
    count = int(np.sum(spread - spread.mean() >= abs(delta)))
    return (count + 1) / (spread.size + 1)


def mcnemar_p(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided exact McNemar p-value of paired 0/1 outcomes."""
    from scipy.stats import binom

    only_a = int(np.sum((a == 1) & (b == 0)))
    only_b = int(np.sum((a == 0) & (b == 1)))
    discordant = only_a + only_b
    if discordant == 0:
        return 1.0
    return float(min(1.0, 2 * binom.cdf(min(only_a, only_b), discordant, 0.5)))


def ttest_p(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sided paired t-test p-value (1 when the segment scores are identical)."""
    from scipy.stats import ttest_rel

    if np.array_equal(a, b):
        return 1.0
    return float(ttest_rel(b, a).pvalue)


def _is_binary(*columns: np.ndarray) -> bool:
    return all(np.isin(column, (0.0, 1.0)).all() for column in columns)


def paired_comparison(
    metric: Metric,
    stats_a: np.ndarray,
    stats_b: np.ndarray,
    n_resamples: int = 1000,
    seed: int | None = 12345,
    level: float = 0.95,
) -> Comparison:
    """Paired test of B against A on the same segments (row ``i`` of both is segment ``i``)."""
    stats_a = _as_stats(stats_a, f"{metric.name} (system A)")
    stats_b = _as_stats(stats_b, f"{metric.name} (system B)")
    if stats_a.shape != stats_b.shape:
        raise InputError(
            f"{metric.name}: paired statistics differ in shape, A {stats_a.shape} and B {stats_b.shape}; "
            "both systems must be scored on the same segments"
        )
    n = stats_a.shape[0]
    a, b = observed_score(metric, stats_a), observed_score(metric, stats_b)
    scores_a, scores_b = resampled_scores(metric, [stats_a, stats_b], n_resamples, seed)
    deltas = scores_b - scores_a
    ci = _interval(deltas, level)
    p_boot = bootstrap_p(b - a, deltas)
    common = {"a": a, "b": b, "delta": b - a, "ci": ci, "n": n, "n_resamples": n_resamples}
    if metric.statistic == "corpus" or stats_a.shape[1] != 1:
        return Comparison(test=PAIRED_BOOTSTRAP, p=p_boot, **common)
    col_a, col_b = stats_a[:, 0], stats_b[:, 0]
    if _is_binary(col_a, col_b):
        return Comparison(test=MCNEMAR, p=mcnemar_p(col_a, col_b), **common)
    return Comparison(test=PAIRED_BOOTSTRAP_T, p=p_boot, p_ttest=ttest_p(col_a, col_b), **common)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm–Bonferroni step-down adjusted p-values (same order as given; monotone; capped at 1)."""
    p = np.asarray(pvalues, dtype=np.float64)
    if p.ndim != 1:
        raise InputError("holm: give a flat list of p-values")
    if np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise InputError("holm: every p-value must be a number between 0 and 1")
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted.tolist()
