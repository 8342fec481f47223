"""``benchmarks/gpu_suite.py``: its size arithmetic, and its reduced CPU mode end to end (the same code
paths the GPU run takes: workers, ``xllm train`` against transformers' ``Trainer``, the JSON)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

LLAMA_2_7B = dict(hidden_size=4096, num_attention_heads=32, num_key_value_heads=32, intermediate_size=11008,
                  vocab_size=32000)  # fmt: skip


@pytest.fixture(scope="module")
def suite(repo_root):
    spec = importlib.util.spec_from_file_location("gpu_suite", repo_root / "benchmarks" / "gpu_suite.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name)


def test_matmul_parameters_of_llama_2_7b(suite):
    # Llama-2-7B: 6,738,415,616 parameters; less the input embedding (32000 × 4096) and the 65 norms
    expected = 6_738_415_616 - 32000 * 4096 - 65 * 4096
    assert suite.matmul_parameters(LLAMA_2_7B, 32) == expected


@pytest.mark.parametrize("gib", [80, 140])
def test_layers_fill_about_half_the_memory(suite, gib):
    total = gib * 2**30
    layers = suite.layers_for_half_memory(LLAMA_2_7B, total, tokens_per_micro_batch=4 * 512)

    def state(n: int) -> int:  # fp32 weights, gradients and two AdamW moments: 16 bytes a parameter
        return 16 * (suite.matmul_parameters(LLAMA_2_7B, n) + 32000 * 4096)

    assert 0.4 * total < state(layers) < 0.5 * total  # activations and logits take some of the half


def test_bf16_peaks_by_device_name(suite):
    assert suite.bf16_peak("NVIDIA H200") == 989.0
    assert suite.bf16_peak("NVIDIA H100 80GB HBM3") == 989.0
    assert suite.bf16_peak("NVIDIA H100 PCIe") == 756.0
    assert suite.bf16_peak("NVIDIA A100-SXM4-80GB") == 312.0
    assert suite.bf16_peak("Tesla T4") is None


def test_without_a_gpu_it_asks_for_reduced(repo_root, subprocess_env):
    proc = subprocess.run([sys.executable, str(repo_root / "benchmarks" / "gpu_suite.py")], env=subprocess_env,
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    if proc.returncode == 0:
        pytest.skip("a GPU is present")
    assert proc.returncode == 2 and "--reduced" in proc.stderr.strip().splitlines()[-1]


@pytest.mark.slow
def test_reduced_trainer_part_end_to_end(repo_root, subprocess_env, tmp_path):
    out = tmp_path / "cpu.json"
    cmd = [sys.executable, str(repo_root / "benchmarks" / "gpu_suite.py"), "--reduced", "--parts", "trainer",
           "--out", str(out)]  # fmt: skip
    proc = subprocess.run(cmd, env=subprocess_env, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert "ratio tokens_per_s:" in proc.stdout
    part = json.loads(out.read_text())["parts"]["trainer"]
    ours, base = part["ours"], part["baseline"]
    assert ours["steps"] == base["steps"] == 4  # 6 steps, 2 untimed
    assert ours["tokens"] > 0 and base["tokens"] > 0
    assert ours["waste"] < base["waste"]  # packing against pad-to-longest
    assert part["ratios"]["tokens_per_s"] == pytest.approx(ours["tokens_per_s"] / base["tokens_per_s"])
    assert ours["mfu"] is None and "mfu" not in part["ratios"]  # no GPU: no peak, so no MFU (not a guess)
