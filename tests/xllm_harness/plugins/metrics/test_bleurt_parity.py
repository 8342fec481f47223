"""Our BLEURT equals bleurt-pytorch 0.0.1: token ids exactly, segment scores within 1e-5 (fp32).

The reference numbers were computed by bleurt-pytorch itself, on checkpoints it built, in the parity
environment (scripts/parity/bleurt_fixtures.py; versions in tests/fixtures/bleurt/expected.json).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from xllm_harness.metrics import get_metrics

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "bleurt"
CHECKPOINTS = ("sp", "wordpiece")
TOLERANCE = 1e-5
"""Per-segment agreement required in fp32 (scores are O(1); kernels differ only in summation order)."""


@pytest.fixture(scope="module")
def cases() -> list[list[str]]:
    return json.loads((FIXTURES / "cases.json").read_text(encoding="utf-8"))["pairs"]


@pytest.fixture(scope="module")
def expected() -> dict:
    return json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))


def test_fixture_covers_what_parity_must_cover(cases, expected):
    """>= 200 real segments, empty and whitespace-only texts, non-Latin scripts, pairs cut at 512 tokens."""
    texts = {t for pair in cases for t in pair}
    assert len(cases) >= 200
    assert "" in texts and " " in texts and "▁" in texts and "foo [SEP] bar" in texts
    for script in ("\u0600", "\u0900", "\u4e00", "\u0370"):  # Arabic, Devanagari, CJK, Greek blocks
        block = range(ord(script), ord(script) + 0x100 if script != "\u4e00" else 0x9FFF)
        assert any(ord(ch) in block for t in texts for ch in t)
    assert expected["versions"]["bleurt-pytorch"] == "0.0.1"
    for name in CHECKPOINTS:
        lengths = [len(ids) for ids in expected["checkpoints"][name]["input_ids"]]
        assert max(lengths) == expected["max_length"] == 512
        assert sum(n == 512 for n in lengths) >= 5  # several pairs were truncated
        # a model whose scores barely move would make the 1e-5 check below meaningless
        assert statistics.stdev(expected["checkpoints"][name]["scores"]) > 0.1


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_token_ids_equal_bleurt_pytorch(name, cases, expected):
    from xllm_harness.plugins.metrics.bleurt.checkpoint import locate
    from xllm_harness.plugins.metrics.bleurt.tokenize import pair_encoder

    reference = expected["checkpoints"][name]
    encoder = pair_encoder(locate(str(FIXTURES / name)))
    ours = encoder.encode_pairs([p[0] for p in cases], [p[1] for p in cases], 512)
    for i, (ids, types) in enumerate(ours):
        assert (ids, types) == (reference["input_ids"][i], reference["token_type_ids"][i]), cases[i]


@pytest.mark.parametrize("name", CHECKPOINTS)
@pytest.mark.parametrize("budget", [(16384, 128), (2048, 8)])
def test_scores_equal_bleurt_pytorch(name, budget, cases, expected):
    """Through the metric, with other batches than the reference's (scores must not depend on them)."""
    max_tokens, batch_size = budget
    metric = get_metrics()["bleurt"](
        model=str(FIXTURES / name), device="cpu", max_tokens=max_tokens, batch_size=batch_size
    )
    result = metric.corpus_score([p[1] for p in cases], [[p[0]] for p in cases])
    reference = expected["checkpoints"][name]["scores"]
    worst = max(range(len(cases)), key=lambda i: abs(result.extra["segments"][i] - reference[i]))
    assert result.extra["segments"][worst] == pytest.approx(reference[worst], abs=TOLERANCE), cases[worst]
    assert result.score == pytest.approx(100 * statistics.fmean(reference), abs=100 * TOLERANCE)
    assert "impl:xllm-bleurt-" in result.signature and "bleurt-pytorch" not in result.signature


def test_live_against_bleurt_pytorch(tmp_path, metric_corpus):
    """Where bleurt-pytorch imports (the old stack), our writer's checkpoints score the same in both."""
    bleurt_pytorch = pytest.importorskip("bleurt_pytorch")
    import torch

    from xllm_harness.testing.tiny_metric_models import build_tiny_bleurt

    pairs = [(r, c) for r, c in zip(metric_corpus[:40], metric_corpus[5:45], strict=True)] + [
        ("", "x"),
        ("a", ""),
    ]
    for kind, extra in (("sentencepiece", {"embedding_size": 16}), ("wordpiece", {})):
        folder = build_tiny_bleurt(tmp_path / kind, metric_corpus, tokenizer=kind, **extra)
        net = bleurt_pytorch.BleurtForSequenceClassification.from_pretrained(str(folder)).eval()
        tok = bleurt_pytorch.BleurtTokenizer.from_pretrained(str(folder))
        with torch.inference_mode():
            inputs = tok(
                [p[0] for p in pairs],
                [p[1] for p in pairs],
                padding="longest",
                truncation=True,
                max_length=512,
                return_tensors="pt",
            )
            theirs = net(**inputs).logits.view(-1).tolist()
        ours = get_metrics()["bleurt"](model=str(folder), device="cpu").corpus_score(
            [p[1] for p in pairs], [[p[0]] for p in pairs]
        )
        assert ours.extra["segments"] == pytest.approx(theirs, abs=TOLERANCE)
