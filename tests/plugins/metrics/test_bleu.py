"""spBLEU and chrF++ sufficient statistics: summed and rescored, they give sacrebleu's corpus score."""

from __future__ import annotations

import numpy as np
import pytest
from sacrebleu.metrics import BLEU, CHRF

from xllm_harness.metrics import get_metric
from xllm_harness.translation import read_lines


def _system(root, lang: str) -> tuple[list[str], list[list[str]]]:
    """References and a varied system: swapped lines, truncated lines, one empty line."""
    ref = read_lines(root / "flores101" / "devtest" / f"{lang}.devtest")
    hyp = [
        ref[(i + 7) % len(ref)] if i % 3 == 0 else " ".join(ref[i].split()[: 1 + i % 9])
        for i in range(len(ref))
    ]
    hyp[5] = ""
    return hyp, [[r] for r in ref]


def _sacrebleu(name: str, effective_order: bool = True):
    return (
        BLEU(tokenize="flores101", effective_order=effective_order)
        if name == "spbleu"
        else CHRF(word_order=2)
    )


@pytest.mark.parametrize("name", ["spbleu", "chrf"])
@pytest.mark.parametrize("lang", ["ara", "zho_simpl", "hin"])
def test_statistics_reproduce_sacrebleu(name, lang, samples_dir, use_sacrebleu_home):
    """Corpus score, every resampled corpus and every single segment: sacrebleu's number to 1e-9
    (on the real FLORES-101 devtest lines bundled as samples)."""
    hyp, refs = _system(samples_dir, lang)
    metric = get_metric(name)()
    stats = metric.statistics(hyp, refs)
    assert stats.shape == (len(hyp), 10 if name == "spbleu" else 24)
    corpus = metric.corpus_score(hyp, refs).score
    sb = _sacrebleu(name)
    assert corpus == pytest.approx(sb.corpus_score(hyp, [[r[0] for r in refs]]).score, abs=1e-9)
    assert float(metric.score_from_statistics(stats.sum(axis=0), len(hyp))) == pytest.approx(corpus, abs=1e-9)
    rng = np.random.default_rng(7)
    draws = rng.integers(0, len(hyp), size=(60, len(hyp)))
    draws[:20] = rng.integers(0, 4, size=(20, len(hyp)))  # tiny vocabularies: zero matches, short orders
    totals = stats[draws].sum(axis=1)
    vectorised = metric.score_from_statistics(totals, len(hyp))
    assert vectorised.shape == (60,)
    expected = [sb._compute_score_from_stats(list(row)).score for row in totals]
    np.testing.assert_allclose(vectorised, expected, rtol=0, atol=1e-9)
    per_segment = metric.score_from_statistics(stats, 1)
    expected_segments = [sb._compute_score_from_stats(list(row)).score for row in stats]
    np.testing.assert_allclose(per_segment, expected_segments, rtol=0, atol=1e-9)
    assert len(set(np.round(expected_segments, 6))) > 5  # the segments really differ
    assert 0.0 in expected_segments  # the empty hypothesis


def test_bleu_without_effective_order_and_short_segments(use_sacrebleu_home):
    """Without effective order a corpus with no 4-grams scores 0, as sacrebleu says."""
    hyp = ["a b", "c", "a b c"]
    refs = [["a b"], ["c d"], ["a b c"]]
    for effective in (True, False):
        metric = get_metric("spbleu")(effective_order=effective)
        stats = metric.statistics(hyp, refs)
        sb = _sacrebleu("spbleu", effective)
        rows = np.vstack([stats.sum(axis=0), stats])
        expected = [sb._compute_score_from_stats(list(r)).score for r in rows]
        np.testing.assert_allclose(metric.score_from_statistics(rows, 3), expected, rtol=0, atol=1e-9)
        assert metric.corpus_score(hyp, refs).score == pytest.approx(expected[0], abs=1e-9)
    assert expected[1] == 0.0  # "a b" has no 3-grams: BLEU without effective order is 0


def test_multiple_and_variable_references(use_sacrebleu_home):
    hyp = ["the cat sat on the mat", "a dog barked loudly"]
    refs = [["the cat sat on a mat", "a cat was on the mat"], ["the dog barked"]]
    streams = [[refs[0][0], refs[1][0]], [refs[0][1], None]]
    for name in ("spbleu", "chrf"):
        metric = get_metric(name)()
        stats = metric.statistics(hyp, refs)
        expected = _sacrebleu(name).corpus_score(hyp, streams).score
        assert metric.corpus_score(hyp, refs).score == pytest.approx(expected, abs=1e-9)
        assert float(metric.score_from_statistics(stats.sum(axis=0), 2)) == pytest.approx(expected, abs=1e-9)
