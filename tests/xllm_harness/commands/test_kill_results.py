"""Kill tests: ``xllm score`` and ``xllm leaderboard`` killed (SIGKILL) at random moments leave no partial
file, and a rerun gives what an uninterrupted run gives.

Each command runs as a real subprocess; the kill moments are drawn (seeded) over the time an
uninterrupted run takes, so they fall during start-up, reading, scoring and writing alike.
"""

from __future__ import annotations

import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.xllm_harness.commands.test_bad_input_results import TARGETS, line, write_run
from xllm_harness.results.scores import read_scores

STAMP = "2026-01-01T00-00-00.000000"
TASKS = ("en-zh", "en-ar", "en-hi", "en-vi", "en-tr", "en-el")
KILLS = 4


@pytest.fixture
def env(subprocess_env, tmp_path) -> dict[str, str]:
    return {**subprocess_env, "XLLM_CACHE_DIR": str(tmp_path / "cache")}


def model_folder(folder: Path, n: int = 300) -> Path:
    """One run of six translation tasks, ``n`` documents each (outputs: shuffled references)."""
    rng = random.Random(7)
    for pair in TASKS:
        tgt = pair.split("-")[1]
        lines = []
        for i in range(n):
            record = line(i % 5, TARGETS[rng.randrange(5)] + TARGETS[i % 5][: i % 4])
            record["doc_id"] = i
            record["doc"] = {**record["doc"], "tgt_lang": tgt}
            lines.append(record)
        write_run(folder, lines, STAMP, task=f"flores_xllm_{pair}")
    results = {
        "results": {f"flores_xllm_{p}": {"alias": p} for p in TASKS},
        "config": {"model": "hf", "model_args": "pretrained=/m/tiny"},
        "n-samples": {f"flores_xllm_{p}": {"original": 1012, "effective": n} for p in TASKS},
    }
    (folder / f"results_{STAMP}.json").write_text(json.dumps(results))
    return folder


def command(args: list[str]) -> list[str]:
    return [sys.executable, "-m", "xllm_harness.cli", *args]


def run(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.monotonic()
    done = subprocess.run(command(args), cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return time.monotonic() - start


def kill_after(args: list[str], cwd: Path, env: dict[str, str], delay: float) -> None:
    process = subprocess.Popen(
        command(args), cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()


SCORED = ("results", "signatures", "num_samples", "doc_ids", "samples_files", "statistics")


def scored(path: Path) -> dict:
    data = read_scores(path)  # a whole, well-formed file (else this raises)
    return {key: data.get(key) for key in SCORED}


def assert_same(got: dict, want: dict) -> None:
    for key in SCORED:
        assert json.dumps(got[key], sort_keys=True) == json.dumps(want[key], sort_keys=True), key


def test_score_killed_at_random_moments_then_rerun_equals_an_uninterrupted_run(tmp_path, env):
    reference = model_folder(tmp_path / "reference")
    took = run(["score", str(reference), "--metrics", "chrf"], tmp_path, env)
    (ref_file,) = reference.glob("xllm_scores_*.json")
    want = scored(ref_file)
    folder = model_folder(tmp_path / "killed")
    rng = random.Random(20261207)
    for _ in range(KILLS):
        kill_after(["score", str(folder), "--metrics", "chrf"], tmp_path, env, rng.uniform(0.2, took))
        for path in folder.glob("xllm_scores_*.json"):  # every file left is whole: read_scores checks it
            partial = scored(path)
            for task, metrics in partial["results"].items():  # and its numbers are the finished ones
                assert metrics == {m: v for m, v in want["results"][task].items() if m in metrics}
    before = set(folder.glob("xllm_scores_*.json"))
    run(["score", str(folder), "--metrics", "chrf"], tmp_path, env)
    (rerun,) = set(folder.glob("xllm_scores_*.json")) - before
    got = scored(rerun)
    got["samples_files"] = {t: Path(p).name for t, p in got["samples_files"].items()}
    want["samples_files"] = {t: Path(p).name for t, p in want["samples_files"].items()}
    assert_same(got, want)


def outputs(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_leaderboard_killed_at_random_moments_then_rerun_equals_an_uninterrupted_run(tmp_path, env):
    runs = model_folder(tmp_path / "runs" / "m", n=200)
    run(["score", str(runs), "--metrics", "chrf"], tmp_path, env)
    board = tmp_path / "board"
    args = ["leaderboard", str(tmp_path / "runs"), "--no-reported", "-o", str(board)]
    took = run(args, tmp_path, env)
    want = outputs(board)
    assert {"leaderboard.md", "leaderboard.csv", "leaderboard.html"} <= set(want)
    shutil.rmtree(board)
    rng = random.Random(20261208)
    for _ in range(KILLS):
        kill_after(args, tmp_path, env, rng.uniform(0.2, took))
        if board.is_dir():  # every file there is whole: the uninterrupted run's bytes
            for name, data in outputs(board).items():
                if not Path(name).name.startswith("."):  # a temporary file of the killed write
                    assert data == want[name], name
    run(args, tmp_path, env)
    got = {name: data for name, data in outputs(board).items() if not Path(name).name.startswith(".")}
    assert got == want
