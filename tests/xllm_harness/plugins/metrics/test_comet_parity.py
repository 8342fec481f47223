"""Our COMET against unbabel-comet 2.2.7: its own tiny checkpoints and float32 scores, committed as
fixtures by ``scripts/parity/comet_fixtures.py`` (see ``tests/fixtures/comet/README.md``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "comet"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
SEGMENTS = [
    json.loads(line) for line in (FIXTURES / "segments.jsonl").read_text(encoding="utf-8").splitlines()
]
TOL = 1e-5
"""Per-segment tolerance on the 0-1 score scale (the issue's parity bar; fp32 on both sides)."""


def _scorer(name: str):
    from xllm_harness.plugins.metrics.comet import load_model

    return load_model(str(FIXTURES / name), device="cpu", precision="fp32")


def _samples(with_ref: bool) -> list[dict[str, str]]:
    return SEGMENTS if with_ref else [{"src": s["src"], "mt": s["mt"]} for s in SEGMENTS]


def _assert_same(ours: dict, theirs: dict) -> None:
    assert len(ours["scores"]) == len(theirs["scores"]) == len(SEGMENTS)
    diffs = [abs(a - b) for a, b in zip(ours["scores"], theirs["scores"], strict=True)]
    worst = max(range(len(diffs)), key=diffs.__getitem__)
    assert diffs[worst] <= TOL, f"segment {worst}: ours {ours['scores'][worst]} vs {theirs['scores'][worst]}"
    assert max(theirs["scores"]) - min(theirs["scores"]) > 100 * TOL  # scores differ: the check can fail
    if "error_spans" in theirs:
        assert sum(map(len, theirs["error_spans"])) > 0  # the fixture really has spans
        for i, (a, b) in enumerate(zip(ours["error_spans"], theirs["error_spans"], strict=True)):
            assert [(s["start"], s["end"], s["severity"], s["text"]) for s in a] == [
                (s["start"], s["end"], s["severity"], s["text"]) for s in b
            ], f"segment {i}"
            assert [s["confidence"] for s in a] == pytest.approx([s["confidence"] for s in b], abs=TOL)
    if "mqm_scores" in theirs:
        assert ours["mqm_scores"] == pytest.approx(theirs["mqm_scores"], abs=1e-6)


def test_fixture_covers_the_hard_inputs():
    """At least 200 real segments, with empty, over-long (truncated) and non-Latin ones."""
    scorer = _scorer("regression-xlmr")
    assert EXPECTED["segments"] == len(SEGMENTS) >= 200
    assert any(s["mt"] == "" for s in SEGMENTS) and any(s["ref"] == "" for s in SEGMENTS)
    lengths = [len(ids) for ids in scorer.tokenizer([s["src"] for s in SEGMENTS])["input_ids"]]
    assert max(lengths) > scorer.max_positions  # truncated to max_positions - 2 tokens
    scripts = {
        "arabic": "\u0600-\u06ff",
        "devanagari": "\u0900-\u097f",
        "han": "\u4e00-\u9fff",
        "greek": "\u0370-\u03ff",
    }
    import re

    for name, block in scripts.items():
        assert any(re.search(f"[{block}]", s["ref"]) for s in SEGMENTS), name
    assert EXPECTED["versions"]["unbabel-comet"] == "2.2.7"


@pytest.mark.parametrize("name", sorted(EXPECTED["models"]))
def test_scores_equal_unbabel_comet(name):
    from xllm_harness.plugins.metrics.comet.predict import predict

    scorer = _scorer(name)
    expected = EXPECTED["models"][name]
    assert scorer.net.kind == expected["class_identifier"]
    # a small token budget: many batches of mixed lengths, so batching cannot hide in the comparison
    _assert_same(predict(scorer, _samples(True), max_tokens=2048, progress=False), expected["with_ref"])
    if "without_ref" in expected:
        assert scorer.reference_free
        _assert_same(
            predict(scorer, _samples(False), max_tokens=4096, progress=False), expected["without_ref"]
        )


def test_live_against_unbabel_comet():
    """Where unbabel-comet is importable (the parity environment), compare with it directly."""
    comet = pytest.importorskip("comet")
    import os

    from xllm_harness.plugins.metrics.comet.predict import predict

    for name in EXPECTED["models"]:
        before = os.getcwd()
        os.chdir(FIXTURES / name)  # unbabel-comet finds `pretrained_model` from the working directory
        try:
            model = comet.load_from_checkpoint("checkpoints/model.ckpt", local_files_only=True)
            theirs = model.predict(SEGMENTS[:40], batch_size=8, gpus=0, progress_bar=False)
        finally:
            os.chdir(before)
        ours = predict(_scorer(name), SEGMENTS[:40], progress=False)
        assert ours["scores"] == pytest.approx(list(theirs.scores), abs=TOL)
