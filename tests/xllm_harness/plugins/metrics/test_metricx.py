"""MetricX-24 (``metricx``, ``metricx_qe``): equal to Google's own prediction code, and bad input.

The expected scores in tests/fixtures/metricx/ are the output of Google's ``metricx24.predict``
(github.com/google-research/metricx, transformers 4.30.2, batch size 1) on two tiny random
``MT5ForRegression`` checkpoints, made by scripts/parity/metricx_fixtures.py; here our code on
transformers 5 scores the same 220 FLORES segments in padded, length-bucketed batches.
"""

from __future__ import annotations

import json
import lzma
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from xllm_harness.errors import InputError
from xllm_harness.metrics import NotComputable, get_metric

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "metricx"
TOKENIZER = FIXTURES / "tokenizer"
EXPECTED = json.loads((FIXTURES / "expected.json").read_text(encoding="utf-8"))
ROWS = [json.loads(line) for line in (FIXTURES / "inputs.jsonl").read_text(encoding="utf-8").splitlines()]
CHECKPOINTS = sorted(EXPECTED["scores"])
TOLERANCE = 1e-5
"""Scores are 0-25; at batch size 1 the float32 arithmetic is Google's (measured: max 4e-6)."""
BATCHED_TOLERANCE = 5e-4
"""Padded batches change float32 summation order; the fixtures' sharpened attention amplifies it
(measured: max 1.2e-4)."""


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    """The committed checkpoints unpacked (``model.safetensors.xz`` → ``model.safetensors``)."""
    root = tmp_path_factory.mktemp("metricx")
    out = {}
    for name in CHECKPOINTS:
        folder = root / name
        folder.mkdir()
        shutil.copy(FIXTURES / name / "config.json", folder / "config.json")
        (folder / "model.safetensors").write_bytes(
            lzma.decompress((FIXTURES / name / "model.safetensors.xz").read_bytes())
        )
        out[name] = folder
    return out


def _metric(name: str, folder: Path, **options):
    return get_metric(name)(
        model=str(folder), tokenizer=str(TOKENIZER), device="cpu", progress=False, **options
    )


def _columns():
    return (
        [r["hypothesis"] for r in ROWS],
        [[r["reference"]] for r in ROWS],
        [r["source"] for r in ROWS],
    )


def test_fixture_covers_what_matters():
    """At least 200 real segments; non-Latin scripts; empty fields; inputs past the 1536-token limit;
    and Google's scores both clipped (0, 25) and inside the range, so the comparison can fail."""
    assert len(ROWS) >= 200
    text = " ".join(r["hypothesis"] + r["source"] for r in ROWS)
    for first, last in [
        ("\u0600", "\u06ff"),
        ("\u0370", "\u03ff"),
        ("\u0900", "\u097f"),
        ("\u4e00", "\u9fff"),
    ]:
        assert any(first <= ch <= last for ch in text)
    assert any(r["hypothesis"] == "" for r in ROWS) and any(r["source"] == "" for r in ROWS)
    limit = EXPECTED["max_input_length"] - 1  # EOS dropped after truncation
    for mode in ("metricx", "metricx_qe"):
        assert EXPECTED["input_lengths"][mode].count(limit) >= 3
    for name in CHECKPOINTS:
        scores = np.array(EXPECTED["scores"][name]["metricx"] + EXPECTED["scores"][name]["metricx_qe"])
        assert (scores == 0).any() and (scores == 25).any()
        assert ((scores > 0) & (scores < 25)).sum() > 300


@pytest.mark.parametrize("mode", ["metricx", "metricx_qe"])
def test_token_ids_equal_googles(mode):
    """Our inputs (transformers 5 tokenizer, reference pipeline) are the token ids Google's code fed its
    model: every length, and every id of the edge cases (empty, whitespace-only, truncated, tab...)."""
    from transformers import AutoTokenizer

    from xllm_harness.plugins.metrics.metricx.inputs import input_text, match_reference_tokenizer, token_ids

    tokenizer = AutoTokenizer.from_pretrained(str(TOKENIZER))
    match_reference_tokenizer(tokenizer)
    qe = mode == "metricx_qe"
    texts = [input_text(r["source"], r["hypothesis"], None if qe else r["reference"]) for r in ROWS]
    ours = token_ids(tokenizer, texts, EXPECTED["max_input_length"])
    assert [len(x) for x in ours] == EXPECTED["input_lengths"][mode]
    for index, ids in EXPECTED["edge_input_ids"][mode].items():
        assert ours[int(index)] == ids, ROWS[int(index)]["case"]


@pytest.mark.parametrize("mode", ["metricx", "metricx_qe"])
@pytest.mark.parametrize("name", CHECKPOINTS)
def test_scores_equal_googles_prediction_code(name, mode, checkpoints):
    """Batch size 1, as Google's code runs: every segment within 1e-5."""
    metric = _metric(mode, checkpoints[name], batch_size=1)
    hypotheses, references, sources = _columns()
    result, stats = metric.score_with_statistics(hypotheses, references, sources)
    expected = np.array(EXPECTED["scores"][name][mode])
    np.testing.assert_allclose(stats[:, 0], expected, rtol=0, atol=TOLERANCE)
    assert result.score == pytest.approx(expected.mean(), abs=TOLERANCE)
    assert f"mode:{'qe' if mode == 'metricx_qe' else 'ref'}" in result.signature
    assert "lower-is-better" in result.signature and result.extra["higher_is_better"] is False


@pytest.mark.parametrize("name", CHECKPOINTS)
def test_length_bucketed_batches_stay_close(name, checkpoints):
    """Padded batches of 8: float32 sums in another order move a score by at most BATCHED_TOLERANCE;
    the corpus mean stays within 1e-5."""
    metric = _metric("metricx", checkpoints[name], batch_size=8)
    hypotheses, references, sources = _columns()
    result, stats = metric.score_with_statistics(hypotheses, references, sources)
    expected = np.array(EXPECTED["scores"][name]["metricx"])
    np.testing.assert_allclose(stats[:, 0], expected, rtol=0, atol=BATCHED_TOLERANCE)
    assert result.score == pytest.approx(expected.mean(), abs=TOLERANCE)


def test_qe_ignores_references_and_reference_mode_uses_them(checkpoints):
    folder = checkpoints[CHECKPOINTS[0]]
    hypotheses, references, sources = _columns()
    hypotheses, references, sources = hypotheses[:20], references[:20], sources[:20]
    other = [[r[0] + " extra"] for r in references]
    qe = _metric("metricx_qe", folder)
    assert (
        qe.statistics(hypotheses, references, sources).tolist()
        == qe.statistics(hypotheses, other, sources).tolist()
    )
    ref = _metric("metricx", folder)
    assert (
        ref.statistics(hypotheses, references, sources).tolist()
        != ref.statistics(hypotheses, other, sources).tolist()
    )


def test_bf16_runs_near_fp32(checkpoints):
    """bf16 (the memory option) keeps 8 bits of mantissa: on this 0-25 scale within 1 of fp32."""
    from xllm_harness.plugins.metrics.metricx import model as backend

    folder = checkpoints[CHECKPOINTS[0]]
    hypotheses, references, sources = _columns()
    fp32 = _metric("metricx", folder, dtype="fp32").statistics(hypotheses[:40], references[:40], sources[:40])
    bf16 = _metric("metricx", folder, dtype="bf16").statistics(hypotheses[:40], references[:40], sources[:40])
    loaded = [m for key, m in backend._MODELS.items() if key[2] == "bf16"]
    assert loaded and loaded[0].dtype.is_floating_point and str(loaded[0].dtype) == "torch.bfloat16"
    np.testing.assert_allclose(bf16, fp32, rtol=0, atol=1.0)
    assert not np.array_equal(bf16, fp32)


def test_plugin_import_does_not_import_torch():
    code = (
        "import sys; from xllm_harness.metrics import get_metrics; m = get_metrics(); "
        "assert 'metricx' in m and 'metricx_qe' in m; m['metricx']().signature(); "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_direction_is_visible():
    assert get_metric("metricx").higher_is_better is False
    assert get_metric("metricx_qe").higher_is_better is False
    assert get_metric("chrf").higher_is_better is True


def test_missing_sources_are_not_computable(checkpoints):
    folder = checkpoints[CHECKPOINTS[0]]
    with pytest.raises(NotComputable, match="metricx_qe is a quality-estimation metric"):
        _metric("metricx_qe", folder).corpus_score(["a"], [["a"]])
    with pytest.raises(NotComputable, match="pass empty strings"):
        _metric("metricx", folder).corpus_score(["a"], [["a"]])


def test_qe_on_a_task_without_sources_names_the_task(tmp_path, checkpoints):
    """``xllm score --metrics metricx_qe`` on a QA task: one line naming the metric and the task."""
    from xllm_harness.testing.lm_eval_files import write_samples

    folder = tmp_path / "out" / "model"
    docs = [{"context": "c", "question": "q", "answers": ["a"]}] * 3
    write_samples(folder, "xquad_xllm_en", docs, ["a", "b", "a"])
    env_model = str(checkpoints[CHECKPOINTS[0]])
    run = subprocess.run(
        [sys.executable, "-m", "xllm_harness.cli", "score", str(tmp_path / "out"), "--metrics", "metricx_qe"],
        capture_output=True,
        text=True,
        env={**os.environ, "XLLM_METRICX_MODEL": env_model},
    )
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert "xquad_xllm_en" in run.stderr and "metricx_qe" in run.stderr and "no source segments" in run.stderr


def test_unknown_model_class_and_tokenizer_name_the_supported_ones(tmp_path, checkpoints, metric_corpus):
    from xllm_harness.testing.tiny_metric_models import build_xlmr_tokenizer

    other = tmp_path / "other"
    other.mkdir()
    (other / "config.json").write_text(
        json.dumps({"model_type": "xlm-roberta", "architectures": ["XLMRobertaModel"]})
    )
    with pytest.raises(
        InputError, match=r"architectures \['XLMRobertaModel'\]; supported: .*MT5ForRegression"
    ):
        get_metric("metricx")(model=str(other), tokenizer=str(TOKENIZER)).check_available()
    with pytest.raises(InputError, match=r"MetricX-23.*supported: sizes large, xl, xxl"):
        get_metric("metricx")(model="google/metricx-23-xl-v2p0").check_available()
    build_xlmr_tokenizer(metric_corpus).save_pretrained(tmp_path / "xlmr")
    metric = _metric("metricx", checkpoints[CHECKPOINTS[0]])
    metric.tokenizer = str(tmp_path / "xlmr")
    with pytest.raises(InputError, match=r"loads as XLMRobertaTokenizer.*; supported: T5Tokenizer"):
        metric.corpus_score(["a"], [["a"]], ["a"])


def test_size_aliases_and_default_tokenizers():
    metric = get_metric("metricx")(model="xxl")
    assert metric.model == "google/metricx-24-hybrid-xxl-v2p6"
    assert "tokenizer:google/mt5-xxl" in metric.signature()
    assert (
        "tokenizer:google/mt5-xl|"
        in get_metric("metricx_qe")(model="google/metricx-24-hybrid-xl-v2p6-bfloat16").signature()
    )
    assert get_metric("metricx")().model == "google/metricx-24-hybrid-large-v2p6"
