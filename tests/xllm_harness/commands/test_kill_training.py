"""``xllm data build`` and ``xllm train`` killed (SIGKILL) at random moments, then rerun.

What is proven: after every kill the output is absent or whole (data build: byte-identical to an
uninterrupted run; train: the log parses line by line, every checkpoint folder is complete), and the
rerun ends with the uninterrupted result: data build byte-identical; train the same steps, each
logged once, with losses equal to the uninterrupted run's within rel 1e-5 (float32 on CPU: resuming
restores model, optimizer, scheduler and RNG exactly, so only summation order could differ), the
final model in place and nothing half-written left. The kill moments are drawn with a fixed seed,
uniformly over the part of an uninterrupted run where files are written.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

KILLS = 4


def xllm_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "xllm_harness.cli", *args]


def run_timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return time.perf_counter() - started


def kill_after(cmd: list[str], cwd: Path, env: dict[str, str], seconds: float) -> bool:
    """Start ``cmd``, SIGKILL it after ``seconds``; whether it was still running (really killed)."""
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=seconds)
        return False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        return True


def leftovers(folder: Path) -> list[str]:
    """Temporaries of our writers anywhere under ``folder``."""
    return sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.name.endswith((".tmp", ".old")) or ".tmp" in p.parent.name
    )


@pytest.fixture
def env(subprocess_env, samples_dir) -> dict[str, str]:
    return {**subprocess_env, "XLLM_DATA_DIR": str(samples_dir)}


def test_data_build_killed_at_random_moments_never_leaves_a_short_file(tmp_path, env):
    records = [
        {
            "instruction": f"Write sentence number {i} about topic {i % 97}.",
            "input": "",
            "output": "x " * (1 + i % 50),
        }
        for i in range(120_000)
    ]
    alpaca = tmp_path / "alpaca.jsonl"
    alpaca.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    spec = f"alpaca_en={alpaca}+translation_en-ar"
    reference = tmp_path / "reference.jsonl"
    took = run_timed(xllm_cmd("data", "build", spec, "-o", str(reference), "--seed", "5"), tmp_path, env)
    want = reference.read_bytes()
    assert want.count(b"\n") == 120_000 + 300  # the bundled en-ar sample: 300 lines

    out = tmp_path / "out" / "coit.jsonl"
    cmd = xllm_cmd("data", "build", spec, "-o", str(out), "--seed", "5")
    rng = random.Random(20261207)
    for _ in range(KILLS):
        killed = kill_after(cmd, tmp_path, env, rng.uniform(0.5 * took, 1.05 * took))
        if out.exists():
            assert out.read_bytes() == want, "a kill left a file that differs from the whole output"
        assert [p.name for p in out.parent.iterdir() if not p.name.startswith(".")] in ([], [out.name])
        if not killed:
            out.unlink()  # it finished: start the next try from nothing again
    run_timed(cmd, tmp_path, env)
    assert out.read_bytes() == want
    assert leftovers(out.parent) == [], "the rerun removes what a killed build left"


SPEC = "alpaca_en[:40]+translation_en-ar[:40]"
TRAIN = ["--data", SPEC, "--lr", "1e-3", "--epochs", "2", "--save-every", "3", "--keep-checkpoints", "2",
         "--effective-batch", "8", "--micro-batch", "2", "--max-length", "128", "--warmup-ratio", "0",
         "--no-progress"]  # fmt: skip


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    """A tiny Llama whose tokenizer also learned the Alpaca template (short prompts)."""
    from xllm_harness.data.samples import tokenizer_corpus
    from xllm_harness.models.tiny_llama import build_tiny_llama
    from xllm_harness.text.prompts import PROMPT_NO_INPUT, PROMPT_WITH_INPUT

    texts = tokenizer_corpus() + [PROMPT_WITH_INPUT, PROMPT_NO_INPUT] * 200
    return build_tiny_llama(tmp_path_factory.mktemp("kill") / "base", texts, vocab_size=2048)


def log_of(out: Path) -> list[dict]:
    """Every line of the log parses (a cut line would not)."""
    return [json.loads(line) for line in (out / "train_log.jsonl").read_text(encoding="utf-8").splitlines()]


def test_train_killed_at_random_moments_resumes_to_the_uninterrupted_result(tmp_path, env, model_dir):
    reference = tmp_path / "reference"
    took = run_timed(
        xllm_cmd("train", "--model", str(model_dir), "-o", str(reference), *TRAIN), tmp_path, env
    )
    want = {r["step"]: r["loss"] for r in log_of(reference) if "loss" in r}
    total = max(want)
    assert total >= 12 and sorted(want) == list(range(1, total + 1))

    out = tmp_path / "killed"
    cmd = xllm_cmd("train", "--model", str(model_dir), "-o", str(out), *TRAIN)
    rng = random.Random(7)
    kills = 0
    for _ in range(KILLS):
        kills += kill_after(cmd, tmp_path, env, rng.uniform(0.3 * took, 1.0 * took))
        if (out / "train_log.jsonl").exists():
            steps = [r["step"] for r in log_of(out) if "loss" in r]
            assert len(steps) == len(set(steps)), "a step logged twice"
        for ckpt in (out / "checkpoints").glob("step-*"):
            if not ckpt.name.endswith(".tmp"):
                assert (ckpt / "trainer_state.json").is_file() and (ckpt / "scheduler.pt").is_file()
    assert kills >= 1, "no kill landed while the run was going"

    run_timed(cmd, tmp_path, env)
    records = log_of(out)
    got = [(r["step"], r["loss"]) for r in records if "loss" in r]
    assert [step for step, _ in got] == list(range(1, total + 1)), "each step exactly once, in order"
    for step, loss in got:
        assert loss == pytest.approx(want[step], rel=1e-5, abs=1e-6), step
    assert records[-1]["event"] == "done"
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        assert (out / name).is_file(), name
    assert leftovers(out) == []
    assert len(list((out / "checkpoints").glob("step-*"))) <= 2  # --keep-checkpoints

    # a finished run rerun says so and trains nothing
    again = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr[-3000:]
    assert "already holds the finished run" in again.stderr
    assert log_of(out) == records
