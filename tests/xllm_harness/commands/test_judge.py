"""``xllm judge qa|pairwise`` as subprocesses against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from xllm_harness.judging.cache import JudgeCache
from xllm_harness.testing.judge_data import API_KEY, WRONG_KEY, mi_eval_pair, qa_samples, written_text
from xllm_harness.testing.judge_server import JudgeServer


def judge_cmd(job: str, server: JudgeServer, cache: Path, *args: str) -> list[str]:
    return [
        sys.executable, "-m", "xllm_harness.cli", "judge", job, *args,
        "--base-url", server.base_url, "--model", "judge-model", "--cache", str(cache),
        "--backoff-base", "0.01", "--no-progress",
    ]  # fmt: skip


def run(cmd: list[str], env: dict, cwd: Path, key: str = API_KEY) -> subprocess.CompletedProcess:
    env = {**env, "OPENAI_API_KEY": key}
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=300)


def result_file(proc: subprocess.CompletedProcess) -> dict:
    path = Path(proc.stdout.strip().splitlines()[-1])
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_qa_results_format_and_rerun_makes_zero_requests(tmp_path, samples_dir, subprocess_env):
    expected = qa_samples(tmp_path / "run", samples_dir, n=12)
    with JudgeServer(API_KEY) as server:
        proc = run(
            judge_cmd("qa", server, tmp_path / "c.sqlite", str(tmp_path / "run")), subprocess_env, tmp_path
        )
        assert proc.returncode == 0, proc.stderr
        first = server.requests
        assert first == 2 * 11  # 12 items per task, one empty answer judged NO without a call
        out = result_file(proc)
        assert out["judge"] == {"backend": "openai", "model": "judge-model", "base_url": server.base_url[7:]}
        for task, truth in expected.items():
            row = out["results"][task]
            assert row["judge_accuracy"] == pytest.approx(sum(truth) / len(truth))
            assert row["n"] == 12 and row["unparseable"] == 0
            assert row["agreement_exact_match"] == 1.0 and row["agreement_match"] == 1.0
        assert out["usage"]["requests"] == first and out["complete"] is True
        assert out["model_name"] == "model-x"
        again = run(judge_cmd("qa", server, tmp_path / "c.sqlite", str(tmp_path / "run"), "--limit", "12"),
                    subprocess_env, tmp_path)  # fmt: skip
        assert again.returncode == 0, again.stderr
        assert server.requests == first  # a finished run rerun makes zero requests
        assert result_file(again)["usage"]["cache_hits"] == first
        assert len(list((tmp_path / "run").glob("judge_qa_*.json"))) == 2
        assert len(list((tmp_path / "run").glob("judge_qa_*.details.jsonl"))) == 2


@pytest.mark.slow
def test_killed_run_resumes_with_exactly_the_missing_calls(tmp_path, samples_dir, subprocess_env):
    qa_samples(tmp_path / "run", samples_dir, n=20)
    total = 2 * 19
    victim: dict[str, subprocess.Popen] = {}

    def kill_at(n: int) -> None:
        if n == 15 and "proc" in victim:
            os.kill(victim["proc"].pid, signal.SIGKILL)

    cache = tmp_path / "c.sqlite"
    with JudgeServer(API_KEY, latency=0.05, on_request=kill_at) as server:
        cmd = judge_cmd("qa", server, cache, str(tmp_path / "run"), "--concurrency", "2")
        victim["proc"] = subprocess.Popen(
            cmd, env={**subprocess_env, "OPENAI_API_KEY": API_KEY}, cwd=tmp_path,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        victim["proc"].communicate(timeout=300)
        assert victim["proc"].returncode == -signal.SIGKILL
        cached = len(JudgeCache(cache))
        assert 0 < cached < total
        assert not list((tmp_path / "run").glob("judge_qa_*.json"))  # killed before writing results
        victim.clear()
        before = server.requests
        proc = run(judge_cmd("qa", server, cache, str(tmp_path / "run")), subprocess_env, tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert server.requests - before == total - cached  # exactly the missing calls
        assert len(JudgeCache(cache)) == total
        usage = result_file(proc)["usage"]
        assert usage["cache_hits"] == cached and usage["requests"] == total - cached


@pytest.mark.slow
def test_api_key_never_written_or_printed(tmp_path, samples_dir, subprocess_env):
    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=8)
    mi_eval_pair(tmp_path / "a", tmp_path / "b", samples_dir, {"en": [(3, 6), (6, 3)]})
    cache_dir = tmp_path / "cache"
    flaky = lambda key, attempt: "500" if attempt == 0 else None  # noqa: E731  (errors are logged too)
    with JudgeServer(API_KEY, script=flaky) as server:
        ok_qa = run(
            judge_cmd("qa", server, cache_dir / "c.sqlite", str(tmp_path / "run")), subprocess_env, tmp_path
        )
        ok_pw = run(
            judge_cmd("pairwise", server, cache_dir / "c.sqlite", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b")),
            subprocess_env, tmp_path,
        )  # fmt: skip
        # a wrong key: the server answers 401 and echoes the key in full in its error body
        bad_cmd = judge_cmd("qa", server, cache_dir / "bad.sqlite", str(tmp_path / "run"))
        bad = run(bad_cmd, subprocess_env, tmp_path, key=WRONG_KEY)
        traced = run([*bad_cmd, "--debug"], subprocess_env, tmp_path, key=WRONG_KEY)  # with a traceback
    assert ok_qa.returncode == 0 and ok_pw.returncode == 0, ok_qa.stderr + ok_pw.stderr
    assert bad.returncode == 2 and traced.returncode == 1
    assert "refused the credentials (HTTP 401)" in bad.stderr and "Traceback" in traced.stderr
    files = written_text([tmp_path / "run", tmp_path / "a", cache_dir])
    assert "judge_qa_" in ok_qa.stdout and "Score of the Assistant" in files  # the scan sees real content
    for proc in (ok_qa, ok_pw, bad, traced):
        for secret in (API_KEY, WRONG_KEY, API_KEY[8:], WRONG_KEY[8:]):
            assert secret not in proc.stdout and secret not in proc.stderr
    for secret in (API_KEY, WRONG_KEY, API_KEY[8:], WRONG_KEY[8:]):
        assert secret not in files


@pytest.mark.slow
def test_pairwise_results_and_spend_cap(tmp_path, samples_dir, subprocess_env):
    plan = {"en": [(3, 8), (8, 3), (5, 5), (7, 2)], "el": [(4, 2), ("the sky is blue today", 3)]}
    mi_eval_pair(tmp_path / "a", tmp_path / "b", samples_dir, plan)
    with JudgeServer(API_KEY) as server:
        args = ["--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "--output", str(tmp_path / "out")]
        capped = run(
            judge_cmd("pairwise", server, tmp_path / "c.sqlite", *args, "--concurrency", "1",
                      "--price-input", "1000", "--price-output", "1000", "--max-cost", "2.5"),
            subprocess_env, tmp_path,
        )  # fmt: skip
        assert capped.returncode == 1, capped.stderr
        assert "stopped before exceeding --max-cost 2.5" in capped.stderr
        partial = result_file(capped)
        assert partial["complete"] is False and partial["usage"]["cost_usd"] <= 2.5
        assert 0 < server.requests < 9
        proc = run(judge_cmd("pairwise", server, tmp_path / "c.sqlite", *args), subprocess_env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = result_file(proc)
    assert out["usage"]["cache_hits"] == partial["usage"]["requests"]
    assert out["a"]["model"] == "system-a" and out["b"]["model"] == "system-b"
    assert out["direction"].startswith("win/tie/loss of a against b")
    en, el = out["results"]["en"], out["results"]["el"]
    assert (en["win"], en["tie"], en["loss"]) == (2, 1, 1)
    assert (el["win"], el["tie"], el["loss"], el["gated"]) == (1, 0, 1, 1)
    assert el["a_in_language"] == 0.5 and el["b_in_language"] == 1.0
    assert en["position_bias_rate"] == 0.0
    assert out["results"]["all"]["n"] == 6
    # the leaderboard reads this file
    from xllm_harness.leaderboard import collect

    comparisons = collect([tmp_path / "out"]).pairwise
    (latest,) = [c for c in comparisons if c.source.endswith(Path(proc.stdout.split()[-1]).name)]
    assert (latest.model_a, latest.model_b) == ("system-a", "system-b")
    assert latest.per_language["en"] == {"win": 2.0, "tie": 1.0, "loss": 1.0}


def test_clear_errors(tmp_path, samples_dir, subprocess_env):
    env = {k: v for k, v in subprocess_env.items() if k != "OPENAI_API_KEY"}
    cmd = [sys.executable, "-m", "xllm_harness.cli", "judge", "qa", str(tmp_path / "nowhere")]
    proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "OPENAI_API_KEY is not set" in proc.stderr
    proc = run([*cmd, "--base-url", "http://127.0.0.1:9/v1"], subprocess_env, tmp_path)
    assert proc.returncode == 2 and "nowhere: not a folder" in proc.stderr
    proc = run(
        [*cmd[:-1], str(samples_dir), "--max-cost", "1", "--model", "my-model"], subprocess_env, tmp_path
    )
    assert proc.returncode == 2 and "--max-cost needs prices" in proc.stderr
