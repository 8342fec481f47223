"""Paired tests, bootstrap intervals and Holm: hand-worked values, loop-based references, and agreement
with sacrebleu's own paired bootstrap (the Python API behind ``--paired-bs``) on real FLORES lines."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np
import pytest
from sacrebleu.metrics import BLEU, CHRF

from xllm_harness.analysis import significance as sig
from xllm_harness.errors import InputError
from xllm_harness.metrics import Metric, get_metric
from xllm_harness.tasks.flores_docs import read_lines

SAME_SCORE = 1e-9
"""Two computations of one corpus score (from summed statistics, or from the texts) may add in another
order: they agree to 1e-9 points on the 0-100 scale, far inside the 0.01 that result tables show."""


@pytest.fixture
def sacrebleu_seed(monkeypatch):
    """sacrebleu's resampling seed (its default), the one our bootstrap shares."""
    monkeypatch.setenv("SACREBLEU_SEED", "12345")


class TokenRecall(Metric):
    """A tiny ``mean`` metric: share of reference tokens found in the hypothesis, per segment."""

    name = "token_recall"

    def segment_statistics(self, hypotheses, references, sources, lang):
        return [
            len(set(h.split()) & set(r[0].split())) / len(r[0].split())
            for h, r in zip(hypotheses, references, strict=True)
        ]

    def signature(self) -> str:
        return "token_recall"


class Exact(Metric):
    """A tiny 0/1 ``mean`` metric."""

    name = "exact"
    binary = True

    def segment_statistics(self, hypotheses, references, sources, lang):
        return [float(h == r[0]) for h, r in zip(hypotheses, references, strict=True)]

    def signature(self) -> str:
        return "exact"


class TokenDice(Metric):
    """A tiny ``corpus`` metric: 2 × matched tokens / (hypothesis + reference tokens), from summed statistics."""

    name = "token_dice"
    statistic = "corpus"

    def segment_statistics(self, hypotheses, references, sources, lang):
        rows = []
        for hyp, refs in zip(hypotheses, references, strict=True):
            matched = sum((Counter(hyp.split()) & Counter(refs[0].split())).values())
            rows.append([matched, len(hyp.split()), len(refs[0].split())])
        return rows

    def score_from_statistics(self, totals, n):
        totals = np.asarray(totals, dtype=np.float64)
        return 200 * totals[..., 0] / (totals[..., 1] + totals[..., 2])

    def signature(self) -> str:
        return "token_dice"


def drop_every(lines: list[str], k: int, parity: int | None = None) -> list[str]:
    """Drop every ``k``-th word (of every line, or only of lines whose index has ``parity``)."""
    out = []
    for i, line in enumerate(lines):
        if parity is None or i % 2 == parity:
            line = " ".join(w for j, w in enumerate(line.split()) if (j + 1) % k)
        out.append(line)
    return out


@pytest.fixture(scope="module")
def english(samples_dir) -> list[str]:
    return read_lines(samples_dir / "flores101" / "devtest" / "eng.devtest")


def test_resample_counts_are_sacrebleus_draws_in_any_chunking(monkeypatch):
    for n, b in ((7, 1), (7, 5), (50, 1000), (1012, 33)):
        expected = np.stack(
            [np.bincount(row, minlength=n) for row in np.random.default_rng(3).choice(n, size=(b, n))]
        )
        for chunk in (1, 100, 1 << 22):
            monkeypatch.setattr(sig, "CHUNK_ENTRIES", chunk)
            got = np.concatenate(list(sig.resample_counts(n, b, 3)))
            assert got.shape == (b, n) and (got == expected).all(), (n, b, chunk)


def test_vectorised_scores_equal_a_loop_over_resamples(english):
    metric = TokenDice()
    hyps = drop_every(english, 3)
    stats = metric.statistics(hyps, [[r] for r in english])
    (vectorised,) = sig.resampled_scores(metric, [stats], 200, 7)
    idx = np.random.default_rng(7).choice(len(hyps), size=(200, len(hyps)))
    loop = [metric.corpus_score([hyps[i] for i in row], [[english[i]] for i in row]).score for row in idx]
    np.testing.assert_allclose(vectorised, loop, rtol=1e-12)


def test_observed_scores_and_delta_are_the_metrics_corpus_scores(english):
    refs = [[r] for r in english]
    hyps_a, hyps_b = drop_every(english, 3), drop_every(english, 5)
    for metric in (TokenDice(), TokenRecall()):
        result = sig.paired_comparison(
            metric, metric.statistics(hyps_a, refs), metric.statistics(hyps_b, refs)
        )
        a, b = metric.corpus_score(hyps_a, refs).score, metric.corpus_score(hyps_b, refs).score
        assert (result.a, result.b, result.delta) == pytest.approx((a, b, b - a), rel=0, abs=SAME_SCORE)
        assert result.ci[0] <= result.delta <= result.ci[1]
        assert result.n == len(english) and result.n_resamples == 1000


def test_tests_are_chosen_per_metric_and_identical_systems_are_never_significant(english):
    refs = [[r] for r in english]
    hyps = drop_every(english, 3)
    for metric, test in (
        (TokenDice(), sig.PAIRED_BOOTSTRAP),
        (TokenRecall(), sig.PAIRED_BOOTSTRAP_T),
        (Exact(), sig.MCNEMAR),
    ):
        stats = metric.statistics(hyps, refs)
        same = sig.paired_comparison(metric, stats, stats.copy())
        assert same.test == test
        assert same.p == 1.0 and same.delta == 0.0 and same.ci == (0.0, 0.0)
        assert (same.p_ttest == 1.0) if test == sig.PAIRED_BOOTSTRAP_T else same.p_ttest is None
        better = sig.paired_comparison(metric, stats, metric.statistics(english, refs))
        assert better.test == test and better.delta > 0 and better.ci[0] > 0 and better.p < 0.01


def test_mcnemar_hand_worked():
    # 1 item only A gets right, 9 only B, 5 both, 5 neither: p = 2 * (C(10,0) + C(10,1)) / 2**10
    a = np.array([1] + [0] * 9 + [1] * 5 + [0] * 5, dtype=float)
    b = np.array([0] + [1] * 9 + [1] * 5 + [0] * 5, dtype=float)
    assert sig.mcnemar_p(a, b) == pytest.approx(2 * 11 / 1024, abs=1e-15)
    assert sig.mcnemar_p(b, a) == sig.mcnemar_p(a, b)
    assert sig.mcnemar_p(np.ones(4), np.ones(4)) == 1.0
    result = sig.paired_comparison(Exact(), a, b)
    assert (
        result.test == sig.MCNEMAR and result.p == sig.mcnemar_p(a, b) and result.delta == pytest.approx(0.4)
    )


def test_paired_t_test_hand_worked():
    a = np.array([0.1, 0.2, 0.3, 0.4])
    b = a + np.array([0.1, 0.3, 0.2, 0.2])  # differences: mean 0.2, sd sqrt(0.02/3), t = 0.2 / (sd / 2)
    t = 0.2 / (math.sqrt(0.02 / 3) / 2)
    from scipy.stats import t as student

    assert sig.ttest_p(a, b) == pytest.approx(2 * student.sf(t, 3), rel=1e-9)
    result = sig.paired_comparison(TokenRecall(), a, b)
    assert result.test == sig.PAIRED_BOOTSTRAP_T and result.p_ttest == pytest.approx(
        2 * student.sf(t, 3), rel=1e-9
    )


def test_holm_hand_worked():
    # sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 = 0.04 -> raised to 0.06 (monotone)
    assert sig.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert sig.holm([0.5, 0.6, 0.01]) == pytest.approx([1.0, 1.0, 0.03])  # capped at 1
    assert sig.holm([0.2]) == [0.2] and sig.holm([]) == []
    with pytest.raises(InputError):
        sig.holm([0.1, float("nan")])


def test_percentile_bootstrap_interval(english):
    metric = TokenDice()
    refs = [[r] for r in english]
    stats = metric.statistics(drop_every(english, 3), refs)
    score = metric.corpus_score(drop_every(english, 3), refs).score
    lo, hi = sig.score_interval(metric, stats).bounds
    wide = sig.score_interval(metric, stats, level=0.99).bounds
    assert lo < score < hi and wide[0] <= lo and hi <= wide[1]
    assert sig.score_interval(metric, stats).bounds == (lo, hi)  # seeded
    assert sig.score_interval(metric, metric.statistics(english, refs)).bounds == (100.0, 100.0)


def test_bad_input():
    metric = TokenRecall()
    with pytest.raises(InputError, match="same segments"):
        sig.paired_comparison(metric, np.zeros(3), np.zeros(4))
    with pytest.raises(InputError, match="non-empty"):
        sig.score_interval(metric, np.zeros((0, 1)))
    with pytest.raises(InputError, match="n_resamples"):
        sig.score_interval(metric, np.zeros(3), n_resamples=0)
    with pytest.raises(InputError, match="level"):
        sig.score_interval(metric, np.zeros(3), level=95)


# --- agreement with sacrebleu's paired bootstrap -------------------------------------------------


def sacrebleu_paired_bs(ref: list[str], a: list[str], b: list[str], metric) -> list:
    """sacrebleu's own paired bootstrap (its Python API, which ``sacrebleu --paired-bs`` calls; the CLI
    itself cannot write its JSON under numpy 2), A the baseline: its results for A and B."""
    from sacrebleu.significance import PairedTest

    _, scores = PairedTest([("a", a), ("b", b)], {"m": metric}, [ref], test_type="bs", n_samples=1000)()
    (rows,) = (v for k, v in scores.items() if k != "System")
    return rows


def assert_agrees(metric: Metric, ref: list[str], hyps_a: list[str], hyps_b: list[str], rows: list) -> None:
    refs = [[r] for r in ref]
    ours = sig.paired_comparison(metric, metric.statistics(hyps_a, refs), metric.statistics(hyps_b, refs))
    base, system = rows
    assert (ours.a, ours.b) == pytest.approx((base.score, system.score), rel=0, abs=SAME_SCORE)
    assert ours.delta == pytest.approx(system.score - base.score, rel=0, abs=SAME_SCORE)
    p = system.p_value
    monte_carlo = 3 * math.sqrt(p * (1 - p) / 1000) + 2 / 1001
    assert abs(ours.p - p) <= monte_carlo, (ours.p, p)


def close_systems(lines: list[str]) -> tuple[list[str], list[str]]:
    """Two systems a little apart: each drops every 6th word, on the even or on the odd lines."""
    return drop_every(lines, 6, parity=0), drop_every(lines, 6, parity=1)


@pytest.mark.parametrize("pair", ["close", "far"])
def test_chrf_agrees_with_sacrebleu_paired_bs(english, pair, sacrebleu_seed):
    a, b = close_systems(english) if pair == "close" else (drop_every(english, 3), english)
    rows = sacrebleu_paired_bs(english, a, b, CHRF(word_order=2))
    assert_agrees(get_metric("chrf")(), english, a, b, rows)


def test_chrf_and_spbleu_agree_with_sacrebleu_on_full_devtest(
    shared_data, use_sacrebleu_home, sacrebleu_seed
):
    for lang in ("eng", "zho_simpl", "hin"):
        ref = read_lines(shared_data / "flores101" / "devtest" / f"{lang}.devtest")
        a, b = close_systems(ref) if lang != "zho_simpl" else ([r[: len(r) * 9 // 10] for r in ref], ref)
        for theirs, metric in (
            (CHRF(word_order=2), get_metric("chrf")()),
            (BLEU(tokenize="flores101"), get_metric("spbleu")()),
        ):
            assert_agrees(metric, ref, a, b, sacrebleu_paired_bs(ref, a, b, theirs))
