"""Our COMET's loading (bad checkpoints, missing encoders), its reference-free path and lazy import."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from xllm_harness.errors import InputError
from xllm_harness.metrics import get_metrics
from xllm_harness.models.metric_models import MissingMetricModelError

FIXTURES = Path(__file__).resolve().parents[3] / "fixtures" / "comet"


def _copy(tiny_comet: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(tiny_comet, tmp_path / "copy"))


def _score(model: Path):
    return get_metrics()["comet"](model=str(model), device="cpu").corpus_score(["a"], [["b"]], sources=["c"])


def _edit_hparams(folder: Path, **changes) -> None:
    hparams = yaml.safe_load((folder / "hparams.yaml").read_text())
    (folder / "hparams.yaml").write_text(yaml.safe_dump({**hparams, **changes}))


def test_unsupported_class_is_refused_with_the_supported_list(tiny_comet, tmp_path):
    model = _copy(tiny_comet, tmp_path)
    _edit_hparams(model, class_identifier="ranking_metric")
    with pytest.raises(InputError) as err:
        _score(model)
    message = str(err.value)
    assert str(model / "hparams.yaml") in message and "'ranking_metric' is not supported" in message
    assert "regression_metric, referenceless_regression_metric, unified_metric, xcomet_metric" in message


def test_unsupported_encoder_is_refused(tiny_comet, tmp_path):
    import torch

    model = _copy(tiny_comet, tmp_path)
    ckpt = torch.load(model / "checkpoints" / "model.ckpt", weights_only=True)
    ckpt["hyper_parameters"]["encoder_model"] = "RemBERT"
    torch.save(ckpt, model / "checkpoints" / "model.ckpt")
    with pytest.raises(
        InputError, match=r"encoder_model 'RemBERT' is not supported; supported: XLM-RoBERTa, "
    ):
        _score(model)


def test_mismatching_weights_name_the_first_mismatching_key(tiny_comet, tmp_path):
    import torch

    model = _copy(tiny_comet, tmp_path)
    path = model / "checkpoints" / "model.ckpt"
    ckpt = torch.load(path, weights_only=True)
    state = ckpt["state_dict"]
    state["estimator.ff.0.weight"] = state["estimator.ff.0.weight"][:, :-1]  # not 6 x hidden inputs
    torch.save(ckpt, path)
    with pytest.raises(InputError, match=r"'estimator.ff.0.weight' has shape \(32, 191\).*needs \(32, 192\)"):
        _score(model)
    del state["estimator.ff.0.weight"]
    torch.save(ckpt, path)
    with pytest.raises(
        InputError, match=r"weight 'estimator.ff.0.weight' of the declared architecture is missing"
    ):
        _score(model)
    state["estimator.ff.0.weight"] = torch.zeros(32, 192)
    state["hidden2tag.weight"] = torch.zeros(3, 32)  # a word-level head on a regression model
    torch.save(ckpt, path)
    with pytest.raises(InputError, match=r"'hidden2tag.weight' does not belong to the declared architecture"):
        _score(model)


def test_not_a_checkpoint_names_the_file(tiny_comet, tmp_path):
    model = _copy(tiny_comet, tmp_path)
    (model / "checkpoints" / "model.ckpt").write_bytes(b"not a checkpoint at all")
    with pytest.raises(InputError, match=rf"{model / 'checkpoints' / 'model.ckpt'}: not a"):
        _score(model)
    (model / "hparams.yaml").write_text("pool: avg\n")
    with pytest.raises(InputError, match=r"hparams.yaml: no `class_identifier`"):
        _score(model)


def test_missing_encoder_offline_names_the_hub_id(tiny_comet, tmp_path):
    model = _copy(tiny_comet, tmp_path)
    _edit_hparams(model, pretrained_model="xlm-roberta-large")
    import torch

    ckpt = torch.load(model / "checkpoints" / "model.ckpt", weights_only=True)
    ckpt["hyper_parameters"]["pretrained_model"] = "xlm-roberta-large"
    torch.save(ckpt, model / "checkpoints" / "model.ckpt")
    with pytest.raises(MissingMetricModelError) as err:  # offline (autouse fixture)
        _score(model)
    assert "huggingface-cli download xlm-roberta-large" in str(err.value)
    assert "pretrained_model" in str(err.value)


def test_xcomet_scores_without_references_and_keeps_error_spans():
    """A reference-free model scores with empty references through the QE path (what unbabel-comet
    gives for samples without ``ref``), and its error spans travel in ``extra``."""
    import json

    expected = json.loads((FIXTURES / "expected.json").read_text())["models"]["xcomet-xlmrxl"]
    segments = [json.loads(line) for line in (FIXTURES / "segments.jsonl").read_text().splitlines()][:30]
    keep = [i for i, s in enumerate(segments) if s["src"].strip() == s["src"] and s["mt"].strip() == s["mt"]]
    metric = get_metrics()["comet"](model=str(FIXTURES / "xcomet-xlmrxl"), device="cpu", precision="fp32")
    result = metric.corpus_score(
        [segments[i]["mt"] for i in keep], [[""] for _ in keep], sources=[segments[i]["src"] for i in keep]
    )
    qe = expected["without_ref"]
    assert result.extra["segments"] == pytest.approx([qe["scores"][i] for i in keep], abs=1e-5)
    assert [len(s) for s in result.extra["error_spans"]] == [len(qe["error_spans"][i]) for i in keep]
    assert result.extra["mqm_scores"] == pytest.approx([qe["mqm_scores"][i] for i in keep], abs=1e-6)
    with pytest.raises(InputError, match="some segments have references and some do not"):
        metric.corpus_score(["a", "b"], [["x"], [""]], sources=["c", "d"])


def test_importing_the_plugin_imports_no_torch():
    code = "import sys, xllm_harness.plugins.metrics.comet; assert 'torch' not in sys.modules, 'torch'"
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.slow
def test_torchrun_data_parallel_gathers_in_input_order(tmp_path, subprocess_env):
    """Two processes (gloo on the CPU) each score part of the batches; rank 0 writes every score in
    input order, equal to one process's; no rank exits early (the command returns 0 for both)."""
    import json

    segments = [json.loads(line) for line in (FIXTURES / "segments.jsonl").read_text().splitlines()][:40]
    files = {}
    for key, flag in (("src", "-s"), ("mt", "-t"), ("ref", "-r")):
        files[flag] = tmp_path / f"{key}.txt"
        files[flag].write_text("".join(s[key].replace("\n", " ") + "\n" for s in segments), encoding="utf-8")
    args = [arg for flag, path in files.items() for arg in (flag, str(path))]
    model = ["--model", str(FIXTURES / "regression-xlmr"), "--max-tokens", "600"]
    torchrun = str(Path(sys.executable).with_name("torchrun"))
    subprocess_env["OMP_NUM_THREADS"] = "1"
    module = "xllm_harness.plugins.metrics.comet"
    subprocess.run(
        [torchrun, "--nproc_per_node", "2", "-m", module, *args, *model, "--out", str(tmp_path / "two.json")],
        check=True,
        env=subprocess_env,
        capture_output=True,
    )
    subprocess.run(
        [sys.executable, "-m", module, *args, *model, "--out", str(tmp_path / "one.json")],
        check=True,
        env=subprocess_env,
        capture_output=True,
    )
    two = json.loads((tmp_path / "two.json").read_text())["scores"]
    one = json.loads((tmp_path / "one.json").read_text())["scores"]
    assert len(two) == len(one) == 40
    assert two == pytest.approx(one, abs=1e-6)
    assert len(set(round(s, 5) for s in one)) > 10  # distinct scores: a reordering would show


def test_metric_in_a_multi_process_run_scores_alone(tiny_comet, monkeypatch):
    """Inside e.g. an accelerate-launched lm-eval run (WORLD_SIZE=2) only one rank scores: the metric
    must not join a data-parallel group (that would fail or wait for the other rank)."""
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    assert isinstance(_score(tiny_comet).score, float)
