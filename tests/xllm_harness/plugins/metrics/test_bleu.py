"""spBLEU and chrF++ sufficient statistics: summed and rescored, they give sacrebleu's corpus score."""

from __future__ import annotations

import numpy as np
import pytest
from sacrebleu.metrics import BLEU, CHRF

from xllm_harness.metrics import get_metric
from xllm_harness.tasks.flores_docs import read_lines


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


SPM_CHOICES = [("spbleu", "flores101", 1), ("spbleu200", "flores200", 4000), ("spbleu1k", "spBLEU-1K", 9000)]
"""(metric, sacrebleu tokenizer, vocabulary of the test model placed where sacrebleu looks for it)."""


@pytest.fixture
def three_spm_models(tmp_path, monkeypatch, metric_corpus):
    """A ``$SACREBLEU`` whose ``models/`` holds a different test SentencePiece model for each tokenizer."""
    from sacrebleu.tokenizers import tokenizer_spm

    from xllm_harness.models.metric_models import spm_model_path
    from xllm_harness.testing.tiny_metric_models import build_test_spm

    monkeypatch.setenv("SACREBLEU", str(tmp_path))
    monkeypatch.setattr(tokenizer_spm, "SACREBLEU_DIR", str(tmp_path))
    for _, tokenize, vocab in SPM_CHOICES:
        build_test_spm(spm_model_path(tokenize), metric_corpus, vocab_size=vocab)
    return tmp_path


def test_each_spm_tokenizer_reads_its_own_model_and_is_named(three_spm_models, samples_dir):
    """spbleu / spbleu200 / spbleu1k (and spbleu with tokenize=...) give sacrebleu's own score with that
    tokenizer, read the file sacrebleu reads for it, and name it in the signature."""
    hyp, refs = _system(samples_dir, "hin")
    hyp, refs = hyp[:150], refs[:150]
    scores = {}
    for name, tokenize, _ in SPM_CHOICES:
        sb = BLEU(tokenize=tokenize, effective_order=True)
        expected = sb.corpus_score(hyp, [[r[0] for r in refs]]).score
        for metric in (get_metric(name)(), get_metric("spbleu")(tokenize=tokenize)):
            result = metric.corpus_score(hyp, refs)
            assert result.score == pytest.approx(expected, abs=1e-9)
            assert f"tok:{sb.tokenizer.signature()}" in result.signature
            assert result.signature == str(sb.get_signature())
        scores[tokenize] = expected
    assert len({round(s, 6) for s in scores.values()}) == 3  # three models, three tokenizations
    assert get_metric("spbleu")().tokenize == "flores101"  # the default is the paper's


def test_unknown_spm_tokenizer_names_the_supported_ones():
    from xllm_harness.errors import InputError

    with pytest.raises(
        InputError, match=r"unknown tokenize='flores300'; supported: .*13a.*flores200.*spBLEU-1K"
    ):
        get_metric("spbleu")(tokenize="flores300")


@pytest.mark.parametrize(
    ("name", "tokenize", "file"),
    [
        ("spbleu200", "flores200", "flores200sacrebleuspm"),
        ("spbleu1k", "spBLEU-1K", "spbleu-1k_tokenizer_spm.model"),
    ],
)
def test_missing_spm_model_offline_names_path_and_url(name, tokenize, file, tmp_path, monkeypatch):
    from sacrebleu.tokenizers import tokenizer_spm

    from xllm_harness.models.metric_models import MissingMetricModelError

    monkeypatch.setattr(tokenizer_spm, "SACREBLEU_DIR", str(tmp_path))
    with pytest.raises(MissingMetricModelError) as err:
        get_metric(name)().corpus_score(["a b"], [["a b"]])
    message = str(err.value)
    assert str(tmp_path / "models" / file) in message
    assert tokenizer_spm.SPM_MODELS[tokenize]["url"] in message and "docs/offline-models.md" in message
