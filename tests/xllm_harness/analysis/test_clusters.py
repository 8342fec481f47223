"""Paragraph clusters: intervals and paired tests that resample XQuAD's paragraphs, the design effect,
Wilson intervals at 0 and 1, the minimum detectable difference, and truthful test names."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from xllm_harness.analysis import significance as sig
from xllm_harness.analysis.clusters import sample_clusters
from xllm_harness.analysis.compare import compare
from xllm_harness.metrics import get_metric
from xllm_harness.testing.qa_runs import write_qa_run, xquad_docs

Z = norm.ppf(0.975)


def independent_width(p: float, n: int) -> float:
    """Width of the normal-approximation 95 % interval of a mean of ``n`` independent items."""
    return 2 * Z * math.sqrt(p * (1 - p) / n)


def xquad_like(paragraphs: int = 240, questions: int = 1190) -> np.ndarray:
    """Cluster ids with XQuAD's shape: ``questions`` items in ``paragraphs`` paragraphs of 4-5."""
    sizes = np.full(paragraphs, questions // paragraphs)
    sizes[: questions - sizes.sum()] += 1
    return np.repeat(np.arange(paragraphs), sizes)


def test_right_on_half_the_paragraphs_is_as_uncertain_as_240_items():
    clusters = xquad_like()
    right = (clusters % 2 == 0).astype(float)[:, None]  # every question of every other paragraph
    p = right.mean()
    match = get_metric("match")()
    clustered = sig.score_interval(match, right, clusters)
    items = sig.score_interval(match, right)
    # 240 independent items give a width of 0.126, 1190 give 0.057: the clustered one must be the former
    assert clustered.high - clustered.low == pytest.approx(independent_width(p, 240), rel=0.1)
    assert items.high - items.low == pytest.approx(independent_width(p, 1190), rel=0.1)
    assert clustered.clusters == 240 and clustered.design_effect == pytest.approx(1190 / 240, rel=0.05)
    # a continuous score (F1 1.0 / 0.5 by paragraph) takes the cluster bootstrap, with the same shrinkage
    f1 = get_metric("f1")()
    half = np.where(clusters % 2 == 0, 1.0, 0.5)[:, None]
    boot = sig.score_interval(f1, half, clusters, n_resamples=2000)
    assert boot.method == "percentile cluster bootstrap"
    assert boot.high - boot.low == pytest.approx(2 * Z * 0.25 / math.sqrt(240), rel=0.15)


def test_independent_items_have_design_effect_one():
    rng = np.random.default_rng(0)
    clusters = xquad_like()
    y = rng.integers(0, 2, size=clusters.size).astype(float)
    assert sig.design_effect(y, np.ones_like(y), clusters) == pytest.approx(1.0, abs=0.25)
    assert sig.design_effect(np.ones(10), np.ones(10), np.arange(10) // 2) is None  # no spread at all


@pytest.mark.parametrize("n", [20, 50, 1190])
def test_proportions_at_0_and_1_get_an_interval_of_nonzero_width(n):
    match = get_metric("match")()
    # Wilson at p = 0 reaches z²/(n + z²); at p = 1 it starts at n/(n + z²)
    none = sig.score_interval(match, np.zeros((n, 1)))
    every = sig.score_interval(match, np.ones((n, 1)))
    assert none.bounds == pytest.approx((0.0, Z**2 / (n + Z**2)), abs=1e-12)
    assert every.bounds == pytest.approx((n / (n + Z**2), 1.0), abs=1e-12)
    off = get_metric("off_target")()  # every measurable output off-target: sum(off) / sum(measurable) = 1
    stats = np.column_stack([np.ones(n), np.ones(n)])
    assert sig.score_interval(off, stats).bounds == pytest.approx((n / (n + Z**2), 1.0), abs=1e-12)
    # with clusters and no spread, the effective size is the number of paragraphs (conservative)
    clusters = np.arange(n) // 5
    clustered = sig.score_interval(match, np.zeros((n, 1)), clusters)
    groups = len(set(clusters))
    assert clustered.high == pytest.approx(Z**2 / (groups + Z**2), abs=1e-12)


def test_f1_on_items_that_happen_to_be_0_or_1_is_not_labelled_mcnemar():
    f1, match = get_metric("f1")(), get_metric("match")()
    a = np.array([1.0, 0.0] * 20)[:, None]
    b = np.array([1.0, 1.0] * 20)[:, None]
    assert sig.paired_comparison(f1, a, b).test == sig.PAIRED_BOOTSTRAP_T
    assert sig.paired_comparison(match, a, b).test == sig.MCNEMAR
    clustered = sig.paired_comparison(f1, a, b, clusters=np.arange(40) // 4)
    assert clustered.test == sig.PAIRED_CLUSTER_BOOTSTRAP and clustered.p_ttest is None


def test_minimum_detectable_difference_has_80_percent_power():
    """Simulate paired 0/1 systems whose true difference is the reported MDE: ~80 % are detected."""
    rng = np.random.default_rng(1)
    n, base = 400, 0.5
    match = get_metric("match")()
    first = sig.paired_comparison(
        match, rng.random((n, 1)) < base, rng.random((n, 1)) < base, n_resamples=500, alpha=0.05
    )
    mde = first.mde
    assert 0.05 < mde < 0.15  # (1.96 + 0.84) * sqrt(2 * 0.25 / 400) = 0.099 for independent systems
    detected = 0
    runs = 150
    for _ in range(runs):
        a = (rng.random((n, 1)) < base).astype(float)
        b = (rng.random((n, 1)) < base + mde).astype(float)
        detected += sig.paired_comparison(match, a, b, n_resamples=300, seed=None).p < 0.05
    assert 0.68 <= detected / runs <= 0.92  # 80 % within the simulation's binomial noise
    assert sig.items_needed(mde, n, mde / 2) == pytest.approx(4 * n, rel=0.01)


def test_compare_resamples_real_xquad_paragraphs(tmp_path, shared_data):
    """The issue's case on the real files: B right on every question of half the paragraphs of
    XQuAD en (1190 questions, 240 paragraphs), A wrong everywhere."""
    docs = xquad_docs(shared_data, "en")
    paragraphs = {context: i for i, context in enumerate(dict.fromkeys(d["context"] for d in docs))}
    assert (len(docs), len(paragraphs)) == (1190, 240)
    write_qa_run(tmp_path / "a" / "m", shared_data, ["en"], lambda lang, i, doc: False, model="a")
    write_qa_run(
        tmp_path / "b" / "m",
        shared_data,
        ["en"],
        lambda lang, i, doc: paragraphs[doc["context"]] % 2 == 0,
        model="b",
    )
    rows = {r.metric: r for r in compare(tmp_path / "a", tmp_path / "b")}
    match = rows["match"].comparison
    p = match.b
    assert match.test == sig.PAIRED_CLUSTER_BOOTSTRAP and match.clusters == 240
    assert match.ci[1] - match.ci[0] == pytest.approx(independent_width(p, 240), rel=0.15)
    flat = {r.metric: r for r in compare(tmp_path / "a", tmp_path / "b", clusters=False)}["match"].comparison
    assert flat.ci[1] - flat.ci[0] == pytest.approx(independent_width(p, 1190), rel=0.15)
    # answers fully correlated within a paragraph: the design effect is the size-weighted mean paragraph size
    sizes = np.bincount([paragraphs[d["context"]] for d in docs])
    assert match.design_effect == pytest.approx((sizes**2).sum() / sizes.sum(), rel=0.05)
    assert match.mde > flat.mde * 2


def test_sample_clusters_follow_the_documents_context(tmp_path, samples_dir):
    folder = write_qa_run(tmp_path / "m", samples_dir, ["en"], lambda lang, i, doc: True)
    path = next(folder.glob("samples_xquad_xllm_en_*.jsonl"))
    docs = xquad_docs(samples_dir, "en")
    ids = list(range(len(docs)))[::-1]
    clusters = sample_clusters(path, ids)
    contexts = [docs[i]["context"] for i in ids]
    for i in range(len(ids)):
        for j in range(len(ids)):
            assert (clusters[i] == clusters[j]) == (contexts[i] == contexts[j])
    assert sample_clusters(path, [len(docs) + 5]) is None
