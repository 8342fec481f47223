"""The trainer end to end on a tiny Llama (CPU): it learns, shards over 2 processes, resumes after
SIGKILL step for step, and its output folder runs through ``lm_eval --model hf``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SPEC = "alpaca_en[:40]+translation_en-ar[:40]"
COMMON = ["--effective-batch", "8", "--micro-batch", "2", "--max-length", "128", "--warmup-ratio", "0"]


def log_records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]


def step_losses(out: Path) -> dict[int, float]:
    """Loss per step; each step is logged once (a resumed run drops the lines of the steps it redoes)."""
    steps = [(r["step"], r["loss"]) for r in log_records(out) if "step" in r and "loss" in r]
    assert len({step for step, _ in steps}) == len(steps), "a step logged twice"
    return dict(steps)


def setup_record(out: Path) -> dict:
    return [r for r in log_records(out) if r.get("event") == "setup"][-1]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A tiny Llama whose tokenizer also learned the Alpaca template (short prompts)."""
    from xllm_harness.data.samples import tokenizer_corpus
    from xllm_harness.models.tiny_llama import build_tiny_llama
    from xllm_harness.text.prompts import PROMPT_NO_INPUT, PROMPT_WITH_INPUT

    texts = tokenizer_corpus() + [PROMPT_WITH_INPUT, PROMPT_NO_INPUT] * 200
    return build_tiny_llama(tmp_path_factory.mktemp("train") / "base", texts, vocab_size=2048)


@pytest.fixture
def samples_env(subprocess_env, samples_dir, monkeypatch) -> dict[str, str]:
    monkeypatch.setenv("XLLM_DATA_DIR", str(samples_dir))
    return {**subprocess_env, "XLLM_DATA_DIR": str(samples_dir)}


def cli_train(model: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "xllm_harness.cli",
        "train",
        "--model",
        str(model),
        "-o",
        str(out),
        "--no-progress",
        *extra,
    ]


def run_in_process(model: Path, out: Path, *extra: str) -> None:
    from xllm_harness.cli import main

    assert main(cli_train(model, out, *extra)[3:]) == 0


@pytest.fixture(scope="module")
def trained(tmp_path_factory, model_dir, samples_dir) -> Path:
    """A CoIT run on the bundled samples (Alpaca en + en→ar translation), 3 epochs."""
    out = tmp_path_factory.mktemp("coit") / "model"
    old = os.environ.get("XLLM_DATA_DIR")
    os.environ["XLLM_DATA_DIR"] = str(samples_dir)
    try:
        run_in_process(
            model_dir, out, "--data", SPEC, "--lr", "1e-2", "--epochs", "4", "--save-every", "0", *COMMON
        )
    finally:
        if old is None:
            os.environ.pop("XLLM_DATA_DIR")
        else:
            os.environ["XLLM_DATA_DIR"] = old
    return out


def assert_learns(out: Path) -> None:
    losses = list(step_losses(out).values())
    assert len(losses) >= 20
    first, last = sum(losses[:3]) / 3, sum(losses[-5:]) / 5
    assert last < 0.8 * first, f"loss did not fall enough: {first:.3f} -> {last:.3f}"


def test_tiny_llama_learns_on_bundled_coit_set(trained):
    assert_learns(trained)
    setup = setup_record(trained)
    assert setup["world_size"] == 1 and setup["wrapper"] == "none"
    assert setup["accumulation"] == 4  # 8 = 1 process × micro-batch 2 × 4
    record = log_records(trained)[2]
    assert {"step", "loss", "lr", "grad_norm", "tokens"} <= set(record)
    assert (trained / "model.safetensors").is_file() and (trained / "tokenizer.json").is_file()


@pytest.mark.shared_data
def test_tiny_llama_learns_on_full_shared_data(shared_data, model_dir, tmp_path):
    alpaca = shared_data / "alpaca" / "alpaca_data.json"
    par = shared_data / "parallel" / "en-ar.tico19-test"  # beyond the 300 lines the samples hold
    spec = f"alpaca_en[1000:1048]={alpaca}+translation_en-ar[1000:1048]={par}.eng,{par}.ara"
    out = tmp_path / "model"
    run_in_process(
        model_dir, out, "--data", spec, "--lr", "1e-2", "--epochs", "4", "--save-every", "0", *COMMON
    )
    assert_learns(out)


def test_screen_shows_sources_dropped_truncated_and_malformed(model_dir, samples_env, tmp_path):
    """Nothing silent: before training starts, ``xllm train`` prints examples per source, those cut
    or dropped for length, and every malformed record skipped (file and line)."""
    records = [
        {"instruction": f"Name a colour, number {i}.", "input": "", "output": "Blue."} for i in range(10)
    ]
    records.insert(3, {"instruction": "Say hi.", "input": "", "output": ""})  # malformed: empty output
    records.insert(7, {"instruction": "Say hi."})  # malformed: no output
    records.append(
        {"instruction": "Repeat this. " * 200, "input": "", "output": "No."}
    )  # prompt > max length
    records.append({"instruction": "Count.", "input": "", "output": "one two three " * 200})  # cut
    alpaca = tmp_path / "alpaca.jsonl"
    alpaca.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    spec = f"alpaca_en={alpaca}+translation_en-ar[:6]"
    out = tmp_path / "run"
    args = ["--data", spec, "--max-length", "256", "--effective-batch", "4", "--micro-batch", "2",
            "--max-steps", "1", "--save-every", "0"]  # fmt: skip
    proc = subprocess.run(
        cli_train(model_dir, out, *args), cwd=tmp_path, env=samples_env, capture_output=True, text=True,
        timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-4000:]
    screen = proc.stderr
    rows = {line.split()[0]: line.split()[1:] for line in screen.splitlines() if line.split()}
    assert rows["source"] == ["examples", "truncated", "dropped"]
    assert rows["alpaca_en"] == ["12", "1", "1"]  # 10 short + the long prompt + the long output
    assert rows["translation_en-ar"][0] == "6" and rows["translation_en-ar"][2] == "0"
    assert rows["total"][0] == "18" and rows["total"][2] == "1"
    assert "cut at --max-length 256" in screen
    assert "2 malformed record(s) skipped, the first 2:" in screen
    assert f"{alpaca}:4: field(s) output missing" in screen and f"{alpaca}:8: field(s) output" in screen
    # printed before training: the data summary precedes the setup line
    assert screen.index("2 malformed record(s)") < screen.index("world size 1")
    setup = setup_record(out)
    assert setup["sources"] == {"alpaca_en": 12, "translation_en-ar": 6}
    assert (setup["dropped_too_long"], setup["malformed_skipped"], setup["examples"]) == (1, 2, 17)


def test_two_cpu_processes_shard_with_fsdp2_and_match_one_process(model_dir, samples_env, tmp_path):
    args = ["--data", SPEC, "--lr", "1e-3", "--epochs", "1", "--max-steps", "6", "--save-every", "0", *COMMON]
    single, double = tmp_path / "one", tmp_path / "two"
    run_in_process(model_dir, single, *args)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    cmd += ["-m", "xllm_harness.cli", *cli_train(model_dir, double, *args)[3:]]
    proc = subprocess.run(cmd, cwd=tmp_path, env=samples_env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    setup = setup_record(double)
    assert setup["world_size"] == 2
    assert setup["wrapper"] == "FSDP2"
    assert setup["wrapped_modules"] == 3  # 2 decoder layers + the root
    assert setup["mesh_size"] == 2 and setup["placements"] == ["(Shard(dim=0),)"]
    assert setup["dtensor_parameters"] > 0
    assert abs(setup["local_parameters"] / setup["parameters"] - 0.5) < 0.01
    assert setup["accumulation"] == 2  # 8 = 2 processes × micro-batch 2 × 2
    one, two = step_losses(single), step_losses(double)
    assert sorted(one) == sorted(two) == list(range(1, 7))
    for step in one:
        assert two[step] == pytest.approx(one[step], rel=1e-4), step
    assert one[6] != pytest.approx(one[1], rel=1e-3)  # the steps really changed the model


def test_sigkill_then_resume_matches_uninterrupted_run(model_dir, samples_env, tmp_path):
    args = ["--data", SPEC, "--lr", "1e-3", "--epochs", "2", "--save-every", "3", *COMMON]
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    run_in_process(model_dir, reference, *args)
    total = setup_record(reference)["total_steps"]
    assert total >= 12
    proc = subprocess.Popen(
        cli_train(model_dir, killed, *args), cwd=tmp_path, env=samples_env, stderr=subprocess.PIPE
    )
    ckpt = killed / "checkpoints" / "step-00000003"
    deadline = time.time() + 300
    while not ckpt.is_dir() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    assert ckpt.is_dir() and not (killed / "model.safetensors").exists(), (
        "the run was not killed mid-training"
    )
    done_before = max(step_losses(killed))
    assert done_before < total

    resumed = subprocess.run(
        cli_train(model_dir, killed, *args),
        cwd=tmp_path,
        env=samples_env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert resumed.returncode == 0, resumed.stderr[-4000:]
    setup = setup_record(killed)
    assert setup["start_step"] >= 3 and setup["start_step"] % 3 == 0 and setup["start_step"] <= done_before
    assert setup["resumed_from"].endswith(f"step-{setup['start_step']:08d}")
    want, got = step_losses(reference), step_losses(killed)
    assert sorted(got) == sorted(want) == list(range(1, total + 1))
    for step in want:
        assert got[step] == pytest.approx(want[step], rel=1e-5, abs=1e-6), step


def test_resume_refuses_a_changed_run(model_dir, samples_env, tmp_path):
    args = ["--data", SPEC, "--epochs", "1", "--max-steps", "2", "--save-every", "1", *COMMON]
    out = tmp_path / "run"
    run_in_process(model_dir, out, *args)
    # the final step is not checkpointed (the final model is saved instead); step 1 is
    assert (out / "checkpoints" / "step-00000001").is_dir()
    from xllm_harness.cli import main

    changed = [*args, "--lr", "5e-4"]
    assert main(cli_train(model_dir, out, *changed)[3:]) == 2


def test_trained_model_runs_through_lm_eval(trained, samples_env, tmp_path):
    cmd = [
        sys.executable,
        "-m",
        "lm_eval",
        "--model",
        "hf",
        "--model_args",
        f"pretrained={trained},dtype=float32",
    ]
    cmd += [
        "--tasks",
        "xquad_xllm_ar",
        "--limit",
        "3",
        "--device",
        "cpu",
        "--output_path",
        str(tmp_path / "res"),
    ]
    cmd += ["--gen_kwargs", "max_gen_toks=16"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=samples_env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    results = [json.loads(p.read_text()) for p in (tmp_path / "res").rglob("results_*.json")]
    assert results and "xquad_xllm_ar" in results[0]["results"]
    metrics = results[0]["results"]["xquad_xllm_ar"]
    assert any(key.startswith("match") for key in metrics)
