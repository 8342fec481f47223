"""Paired significance tests and bootstrap intervals over per-segment metric statistics.

Every function takes the ``(N, K)`` statistics of :meth:`xllm_harness.metrics.Metric.statistics`
and recomputes scores with the metric's own vectorised :meth:`~xllm_harness.metrics.Metric.score_from_statistics`,
so observed scores (and their difference) are exactly the metric's corpus scores.

Resampling is vectorised: the ``(B, N)`` index matrix of ``B`` resamples is turned into a matrix of
counts (how often each segment is drawn) and the resampled column sums are one matrix product,
``counts @ stats``. Indices come from ``numpy.random.default_rng(seed).choice(N, size=(B, N))``, the
draw sacrebleu's ``--paired-bs`` makes, so with the same seed both resample the same segments.

Clusters. Items that share a paragraph (XQuAD's 1190 questions sit in 240 paragraphs, MLQA's share
contexts) are correlated, so resampling items one by one understates the uncertainty. Given
``clusters`` (one cluster id per segment, :mod:`xllm_harness.analysis.clusters`), the bootstrap resamples
whole clusters: the ``(B, G)`` counts of ``default_rng(seed).choice(G, (B, G))`` multiply the
``(G, K)`` per-cluster sums of the statistics. The design effect (:func:`design_effect`) is the
ratio of the clustered to the item-level variance of the score (linearised: the metric is a ratio
of column sums), the factor by which clustering shrinks the effective number of items.

Intervals of one score (:func:`score_interval`): a proportion (a mean of 0/1 items, or a metric
declaring ``proportion = True`` whose score is ``sum(col 0) / sum(col 1)``, e.g. ``off_target``)
gets a Wilson score interval over ``n / max(design effect, 1)`` effective items, which keeps its level at 0
and 1 (``0/50`` gives ``[0, 0.071]``, not the percentile bootstrap's empty ``[0, 0]``); where the
design effect is undefined (every item equal) the effective size is the number of clusters. Other
scores get the percentile (cluster) bootstrap. Items that all share one paragraph cannot be
resampled by paragraph: they are treated as independent.

Tests (:func:`paired_comparison` picks one from the metric and the data; the name is in ``test``):

- ``paired bootstrap``: corpus metrics (``statistic == "corpus"``: spBLEU, chrF++, ``off_target``),
  recomputed from summed sufficient statistics with the same resamples for both systems. The p-value
  is sacrebleu's: with ``d = |b - a|`` and resampled ``d*_i = |b*_i - a*_i|``,
  ``p = (#{d*_i - mean(d*) >= d} + 1) / (B + 1)``. sacrebleu counts ``>``, which gives two identical
  systems ``p = 1/(B + 1)``; counting ``>=`` gives them ``p = 1`` and changes nothing else (a tie
  of ``d*_i - mean(d*)`` with ``d`` otherwise has probability zero).
- ``paired bootstrap + paired t-test``: continuous segment scores (COMET, BLEURT, F1), as
  ``comet-compare``: ``p`` from the paired bootstrap above, ``p_ttest`` from ``scipy.stats.ttest_rel``.
- ``exact McNemar``: metrics declaring ``binary = True`` (``match``, ``exact_match``, judge verdicts)
  whose items are all 0/1: two-sided exact binomial test on the discordant items; the interval is
  the paired bootstrap's. F1 and other continuous scores are never labelled McNemar, even when every
  item happens to be 0 or 1.
- ``paired cluster bootstrap``: any metric when ``clusters`` are given (QA): the sacrebleu p-value
  over resamples of whole clusters; McNemar and the t-test assume independent items, so neither is run.

Power (:func:`detectable_difference`): every comparison reports the smallest true difference the
test would detect with 80 % power at the two-sided level ``alpha``, ``(z(1 - alpha/2) + z(0.8)) · se``
with ``se`` the standard deviation of the resampled differences (clusters included), and
:func:`items_needed` scales it to the items a planned comparison needs (``se`` shrinks as ``1/√n``).

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
PAIRED_CLUSTER_BOOTSTRAP = "paired cluster bootstrap"
POWER = 0.8
"""The power at which :func:`detectable_difference` reports the minimum detectable difference."""


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
    clusters: int | None = None
    """Number of clusters resampled (``None``: items resampled one by one)."""
    design_effect: float | None = None
    """Clustered / item-level variance of ``delta`` (``None`` without clusters or when undefined)."""
    mde: float | None = None
    """Minimum difference detectable at 80 % power (:data:`POWER`) at the two-sided level ``alpha``."""
    alpha: float = 0.05
    """The two-sided level ``mde`` is computed at."""


@dataclass(frozen=True)
class Interval:
    """An interval of one score, how it was computed, and the design effect behind it."""

    low: float
    high: float
    method: str
    level: float
    design_effect: float | None = None
    clusters: int | None = None

    @property
    def bounds(self) -> tuple[float, float]:
        return (self.low, self.high)


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
    _check_resamples(n_resamples)
    rng = np.random.default_rng(seed)
    rows = max(2, (CHUNK_ENTRIES // n) & ~1)
    done = 0
    while done < n_resamples:
        take = min(rows, n_resamples - done)
        idx = rng.choice(n, size=(take, n), replace=True)
        flat = (idx + (np.arange(take) * n)[:, None]).ravel()
        yield np.bincount(flat, minlength=take * n).reshape(take, n).astype(np.float64)
        done += take


@functools.lru_cache(maxsize=4)
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


def _cluster_index(clusters: Sequence[object] | np.ndarray, n: int, what: str) -> tuple[np.ndarray, int]:
    """``clusters`` (one id per segment) as consecutive codes ``0..G-1`` and ``G``."""
    ids = np.asarray(clusters)
    if ids.shape != (n,):
        raise InputError(f"{what}: {ids.size} cluster ids for {n} segments; give one per segment")
    _, codes = np.unique(ids, return_inverse=True)
    return codes.reshape(-1), int(codes.max()) + 1


def cluster_sums(stats: np.ndarray, codes: np.ndarray, n_clusters: int) -> np.ndarray:
    """``(G, K)`` column sums of the statistics per cluster."""
    out = np.zeros((n_clusters, stats.shape[1]))
    np.add.at(out, codes, stats)
    return out


def resampled_cluster_scores(
    metric: Metric,
    stats: Sequence[np.ndarray],
    codes: np.ndarray,
    n_clusters: int,
    n_resamples: int,
    seed: int | None,
) -> list[np.ndarray]:
    """:func:`resampled_scores` resampling whole clusters (the same cluster draws for every matrix)."""
    sums = [cluster_sums(matrix, codes, n_clusters) for matrix in stats]
    sizes = np.bincount(codes, minlength=n_clusters).astype(np.float64)
    parts: list[list[np.ndarray]] = [[] for _ in stats]
    for counts in _counts(n_clusters, n_resamples, seed):
        n = counts @ sizes
        for part, matrix in zip(parts, sums, strict=True):
            part.append(np.asarray(metric.score_from_statistics(counts @ matrix, n), dtype=np.float64))
    return [np.concatenate(part) for part in parts]


def _ratio_parts(metric: Metric, stats: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(y, x)`` per segment with score ``sum(y) / sum(x)``, for mean and proportion metrics."""
    if metric.statistic == "mean" and stats.shape[1] == 1:
        return stats[:, 0], np.ones(stats.shape[0])
    if getattr(metric, "proportion", False) and stats.shape[1] >= 2:
        return stats[:, 0], stats[:, 1]
    return None


def design_effect(y: np.ndarray, x: np.ndarray, clusters: Sequence[object] | np.ndarray) -> float | None:
    """Clustered / item-level variance of the ratio ``sum(y) / sum(x)`` (linearised), or ``None``
    when the item-level variance is zero (every item equal) or there is a single cluster."""
    y, x = np.asarray(y, dtype=np.float64), np.asarray(x, dtype=np.float64)
    codes, g = _cluster_index(clusters, y.size, "design effect")
    n = y.size
    if g < 2 or n < 2 or x.sum() == 0:
        return None
    residual = y - (y.sum() / x.sum()) * x
    item = n / (n - 1) * float(residual @ residual)
    if item <= 1e-12 * max(1.0, float(np.abs(y).max()) ** 2):
        return None
    per_cluster = np.bincount(codes, weights=residual, minlength=g)
    return g / (g - 1) * float(per_cluster @ per_cluster) / item


def wilson_interval(successes: float, trials: float, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a proportion (``trials`` may be an effective, non-integer size)."""
    from scipy.stats import norm

    _check_level(level)
    if trials <= 0:
        return (float("nan"), float("nan"))
    z = float(norm.ppf((1 + level) / 2))
    p = min(max(successes / trials, 0.0), 1.0)
    centre = (p + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z / (1 + z * z / trials) * np.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    return (float(max(0.0, centre - half)), float(min(1.0, centre + half)))


def _proportion(metric: Metric, stats: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """``(y, x)`` when the score is a proportion of 0/1 items (see the module docstring)."""
    parts = _ratio_parts(metric, stats)
    if parts is None:
        return None
    if metric.statistic == "mean" and not np.isin(parts[0], (0.0, 1.0)).all():
        return None
    return parts


def score_interval(
    metric: Metric,
    stats: np.ndarray,
    clusters: Sequence[object] | np.ndarray | None = None,
    n_resamples: int = 1000,
    level: float = 0.95,
    seed: int | None = 12345,
) -> Interval:
    """The interval of the metric's corpus score: Wilson for proportions, else the percentile
    (cluster) bootstrap; with ``clusters``, the design effect beside it (module docstring)."""
    stats = _as_stats(stats, metric.name)
    _check_level(level)
    _check_resamples(n_resamples)
    codes, g = (None, None) if clusters is None else _cluster_index(clusters, stats.shape[0], metric.name)
    if g is not None and g < 2:  # one paragraph cannot be resampled: the items are all there is
        codes, g = None, None
    parts = _ratio_parts(metric, stats)
    deff = None if parts is None or codes is None else design_effect(*parts, codes)
    proportion = _proportion(metric, stats)
    if proportion is not None:
        y, x = proportion
        measured = float(x.sum())
        if measured == 0:
            return Interval(float("nan"), float("nan"), "Wilson", level, deff, g)
        trials = measured
        if codes is not None:  # never more effective items than items (a design effect < 1 is noise)
            trials = measured / max(deff, 1.0) if deff is not None else min(measured, float(g))
        lo, hi = wilson_interval(float(y.sum()) * trials / measured, trials, level)
        method = "Wilson" if codes is None else "Wilson, effective size n / design effect"
        return Interval(lo, hi, method, level, deff, g)
    if codes is None:
        (scores,) = resampled_scores(metric, [stats], n_resamples, seed)
        return Interval(*_interval(scores, level), "percentile bootstrap", level)
    (scores,) = resampled_cluster_scores(metric, [stats], codes, g, n_resamples, seed)
    return Interval(*_interval(scores, level), "percentile cluster bootstrap", level, deff, g)


def observed_score(metric: Metric, stats: np.ndarray) -> float:
    """The metric's corpus score from the summed statistics."""
    stats = _as_stats(stats, metric.name)
    return float(np.asarray(metric.score_from_statistics(stats.sum(axis=0)[None, :], stats.shape[0]))[0])


def _check_resamples(n_resamples: int) -> None:
    if n_resamples < 1:
        raise InputError(f"n_resamples must be at least 1, got {n_resamples}")


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise InputError(f"confidence level must be between 0 and 1, got {level}")


def _interval(values: np.ndarray, level: float) -> tuple[float, float]:
    _check_level(level)
    finite = values[np.isfinite(values)]
    if not finite.size:
        return (float("nan"), float("nan"))
    lo, hi = np.quantile(finite, [(1 - level) / 2, (1 + level) / 2])
    return (float(lo), float(hi))


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


def detectable_difference(se: float, alpha: float = 0.05, power: float = POWER) -> float:
    """The smallest true difference a two-sided level-``alpha`` test detects with ``power``, given the
    standard error ``se`` of the observed difference (normal approximation)."""
    from scipy.stats import norm

    if not 0 < alpha < 1 or not 0 < power < 1:
        raise InputError(f"alpha and power must lie in (0, 1), got {alpha} and {power}")
    return float((norm.ppf(1 - alpha / 2) + norm.ppf(power)) * se)


def items_needed(mde: float, n: int, difference: float) -> int:
    """Items (same design, same clustering) at which ``difference`` becomes the detectable one, from
    a run of ``n`` items whose minimum detectable difference is ``mde`` (``se ∝ 1/√n``)."""
    if not difference > 0:
        raise InputError(f"the planned difference must be positive, got {difference}")
    if not np.isfinite(mde):
        raise InputError("no minimum detectable difference for this comparison (no spread in the resamples)")
    return max(2, int(np.ceil(n * (mde / difference) ** 2)))


def paired_comparison(
    metric: Metric,
    stats_a: np.ndarray,
    stats_b: np.ndarray,
    n_resamples: int = 1000,
    seed: int | None = 12345,
    level: float = 0.95,
    clusters: Sequence[object] | np.ndarray | None = None,
    alpha: float = 0.05,
) -> Comparison:
    """Paired test of B against A on the same segments (row ``i`` of both is segment ``i``); with
    ``clusters`` (one id per segment) a paired cluster bootstrap (module docstring)."""
    stats_a = _as_stats(stats_a, f"{metric.name} (system A)")
    stats_b = _as_stats(stats_b, f"{metric.name} (system B)")
    if stats_a.shape != stats_b.shape:
        raise InputError(
            f"{metric.name}: paired statistics differ in shape, A {stats_a.shape} and B {stats_b.shape}; "
            "both systems must be scored on the same segments"
        )
    n = stats_a.shape[0]
    a, b = observed_score(metric, stats_a), observed_score(metric, stats_b)
    codes, g = (None, None) if clusters is None else _cluster_index(clusters, n, metric.name)
    if g is not None and g < 2:  # one paragraph cannot be resampled: the items are all there is
        codes, g = None, None
    if codes is None:
        scores_a, scores_b = resampled_scores(metric, [stats_a, stats_b], n_resamples, seed)
        deff = None
    else:
        scores_a, scores_b = resampled_cluster_scores(metric, [stats_a, stats_b], codes, g, n_resamples, seed)
        parts_a, parts_b = _ratio_parts(metric, stats_a), _ratio_parts(metric, stats_b)
        deff = None
        if parts_a is not None and parts_b is not None and np.array_equal(parts_a[1], parts_b[1]):
            deff = design_effect(parts_b[0] - parts_a[0], parts_a[1], codes)
    deltas = scores_b - scores_a
    ci = _interval(deltas, level)
    p_boot = bootstrap_p(b - a, deltas)
    finite = deltas[np.isfinite(deltas)]
    spread = float(finite.std(ddof=1)) if finite.size > 1 else 0.0
    mde = (
        detectable_difference(spread, alpha) if spread > 0 else float("nan")
    )  # no spread: no power to speak of
    common = {
        "a": a, "b": b, "delta": b - a, "ci": ci, "n": n, "n_resamples": n_resamples,
        "clusters": g, "design_effect": deff, "mde": mde, "alpha": alpha,
    }  # fmt: skip
    if codes is not None:
        return Comparison(test=PAIRED_CLUSTER_BOOTSTRAP, p=p_boot, **common)
    if metric.statistic == "corpus" or stats_a.shape[1] != 1:
        return Comparison(test=PAIRED_BOOTSTRAP, p=p_boot, **common)
    col_a, col_b = stats_a[:, 0], stats_b[:, 0]
    if getattr(metric, "binary", False) and _is_binary(col_a, col_b):
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
