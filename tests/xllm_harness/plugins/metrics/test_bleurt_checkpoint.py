"""BLEURT checkpoints that are not what they claim, batching by tokens, data parallelism, import cost."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xllm_harness.metrics import get_metrics
from xllm_harness.models.metric_models import MissingMetricModelError

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "bleurt"


def _copy(tmp_path: Path, name: str = "sp") -> Path:
    return Path(shutil.copytree(FIXTURES / name, tmp_path / name))


def _score(folder: Path) -> float:
    return get_metrics()["bleurt"](model=str(folder), device="cpu").corpus_score(["a b"], [["a c"]]).score


def test_not_a_bleurt_config_names_file_and_expectation(tmp_path):
    folder = _copy(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "model_type": "bert"}))
    with pytest.raises(MissingMetricModelError) as err:
        _score(folder)
    assert str(folder / "config.json") in str(err.value)
    assert "model_type is 'bert', expected 'bleurt'" in str(err.value)


def test_missing_weights_named(tmp_path):
    folder = _copy(tmp_path)
    (folder / "pytorch_model.bin").unlink()
    with pytest.raises(
        MissingMetricModelError, match=r"no weights: expected model\.safetensors or pytorch_model\.bin"
    ):
        _score(folder)


def test_weights_not_matching_config_name_first_mismatching_key(tmp_path):
    folder = _copy(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "intermediate_size": 48}))
    with pytest.raises(MissingMetricModelError) as err:
        _score(folder)
    assert "'bleurt.encoder.layer.0.intermediate.dense.weight' has shape [64, 32]" in str(err.value)
    assert "[48, 32]" in str(err.value) and str(folder / "pytorch_model.bin") in str(err.value)
    (folder / "config.json").write_text(json.dumps({**config, "embedding_size": None}))  # no projection
    with pytest.raises(
        MissingMetricModelError, match=r"'bleurt\.embeddings\.word_embeddings\.weight' has shape"
    ):
        _score(folder)
    (folder / "config.json").write_text(json.dumps({**config, "num_hidden_layers": 3}))
    with pytest.raises(
        MissingMetricModelError,
        match=r"'bleurt\.encoder\.layer\.2\.attention\.self\.query\.weight' is missing",
    ):
        _score(folder)
    (folder / "config.json").write_text(json.dumps({**config, "num_hidden_layers": 1}))
    with pytest.raises(MissingMetricModelError, match=r"unexpected weight 'bleurt\.encoder\.layer\.1\."):
        _score(folder)


def test_missing_tokenizer_names_hub_id(tmp_path):
    folder = _copy(tmp_path)
    (folder / "spm.model").unlink()
    with pytest.raises(MissingMetricModelError) as err:
        _score(folder)
    assert "no tokenizer (tokenizer.json, vocab.txt, spm.model)" in str(err.value)
    assert "huggingface-cli download lucadiliello/BLEURT-20 " in str(err.value)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "_name_or_path": "lucadiliello/BLEURT-20-D3"}))
    with pytest.raises(MissingMetricModelError, match="hub id 'lucadiliello/BLEURT-20-D3'"):
        _score(folder)


def test_spm_without_bleurt_specials_refused(tmp_path, metric_corpus):
    from xllm_harness.testing.tiny_metric_models import build_test_spm

    folder = _copy(tmp_path)
    build_test_spm(folder / "spm.model", metric_corpus)  # a plain SentencePiece model: no [CLS] piece
    with pytest.raises(
        MissingMetricModelError, match=r"special token '\[CLS\]' \(cls_token\) is not a piece"
    ):
        _score(folder)


def test_hub_id_offline_names_download():
    with pytest.raises(MissingMetricModelError) as err:
        _score("lucadiliello/BLEURT-20-D6")
    assert "huggingface-cli download lucadiliello/BLEURT-20-D6" in str(err.value)
    assert "offline" in str(err.value)


def test_cli_exit_2_on_a_folder_that_is_not_bleurt(tmp_path, capsys):
    """``xllm score --bleurt-model <not a checkpoint>``: a message naming the file, exit 2, no traceback."""
    from xllm_harness.cli import main

    run = tmp_path / "out" / "m"
    run.mkdir(parents=True)
    doc = {"source": "It rained.", "target": "下雨了。", "src_lang": "en", "tgt_lang": "zh"}
    sample = {"doc_id": 0, "doc": doc, "filtered_resps": ["在下雨。"]}
    (run / "samples_flores_xllm_en-zh_2026-01-01T00-00-00.000001.jsonl").write_text(json.dumps(sample) + "\n")
    folder = _copy(tmp_path)
    (folder / "config.json").write_text(json.dumps({"model_type": "xlm-roberta"}))
    code = main(["score", str(tmp_path / "out"), "--metrics", "bleurt", "--bleurt-model", str(folder)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"{folder / 'config.json'}: model_type is 'xlm-roberta', expected 'bleurt'" in err
    assert "Traceback" not in err


@pytest.mark.slow
def test_data_parallel_equals_one_process_in_input_order(tmp_path):
    cases = json.loads((FIXTURES / "cases.json").read_text(encoding="utf-8"))["pairs"][:60]
    hyps, refs = [c[1] for c in cases], [[c[0]] for c in cases]
    one = get_metrics()["bleurt"](model=str(FIXTURES / "wordpiece"), device="cpu").corpus_score(hyps, refs)
    two = get_metrics()["bleurt"](model=str(FIXTURES / "wordpiece"), device="cpu,cpu").corpus_score(
        hyps, refs
    )
    assert two.extra["segments"] == pytest.approx(one.extra["segments"], abs=1e-6)
    assert len(set(round(s, 4) for s in one.extra["segments"])) > 10


def test_importing_the_plugin_does_not_import_torch():
    code = "import sys, xllm_harness.plugins.metrics.bleurt; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_tiny_writer_builds_a_bleurt20_shaped_checkpoint(tmp_path, metric_corpus):
    """Our writer (no bleurt-pytorch): SentencePiece with BLEURT-20's specials, projected embeddings."""
    from xllm_harness.plugins.metrics.bleurt.checkpoint import locate
    from xllm_harness.testing.tiny_metric_models import build_tiny_bleurt

    folder = build_tiny_bleurt(tmp_path / "b20", metric_corpus, tokenizer="sentencepiece", embedding_size=8)
    checkpoint = locate(str(folder))
    assert checkpoint.tokenizer.name == "spm.model" and checkpoint.config["embedding_size"] == 8
    hyps = metric_corpus[:12]
    result = get_metrics()["bleurt"](model=str(folder), device="cpu").corpus_score(
        hyps, [[h] for h in hyps[::-1]]
    )
    assert len(set(round(s, 3) for s in result.extra["segments"])) > 6  # scores move with the input
