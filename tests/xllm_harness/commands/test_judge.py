"""``xllm judge qa|pairwise`` as subprocesses against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
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
        # at most the missing calls: a reply the victim received and stored raw before the kill is read
        # back, not bought again; so nothing is paid twice beyond the 2 calls in flight at the kill
        assert server.requests - before <= total - cached
        assert server.requests <= total + 2
        assert len(JudgeCache(cache)) == total
        usage = result_file(proc)["usage"]
        assert usage["cache_hits"] >= cached and usage["cache_hits"] + usage["requests"] >= total


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
    from xllm_harness.leaderboard.board import collect

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


BATCH = ("--batch", "--batch-poll-interval", "0.05")


@pytest.mark.slow
def test_batch_killed_while_polling_resumes_without_submitting_again(tmp_path, samples_dir, subprocess_env):
    qa_samples(tmp_path / "run", samples_dir, n=10)
    cache = tmp_path / "c.sqlite"
    with JudgeServer(API_KEY, batch_turnaround=4.0) as server:
        sync_cmd = judge_cmd(
            "qa", server, tmp_path / "s.sqlite", str(tmp_path / "run"), "-o", str(tmp_path / "sync")
        )
        sync = run(sync_cmd, subprocess_env, tmp_path)
        cmd = judge_cmd("qa", server, cache, str(tmp_path / "run"), *BATCH)
        victim = subprocess.Popen(
            cmd, env={**subprocess_env, "OPENAI_API_KEY": API_KEY}, cwd=tmp_path,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while server.batch_polls < 2 and time.monotonic() < deadline:  # submitted, and polling
            time.sleep(0.05)
        os.kill(victim.pid, signal.SIGKILL)
        victim.communicate(timeout=60)
        assert server.batch_submissions == 1 and not list((tmp_path / "run").glob("judge_qa_*.json"))
        proc = run(cmd, subprocess_env, tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert server.batch_submissions == 1  # resumed polling the recorded batch
        before = server.http_requests
        again = run(cmd, subprocess_env, tmp_path)
        assert again.returncode == 0 and server.http_requests == before  # finished: zero requests
    assert result_file(proc)["results"] == result_file(sync)["results"]
    usage = result_file(proc)["usage"]
    assert usage["batch_requests"] == 2 * 9 and usage["batches_submitted"] == 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("judge qa: judged 18, gated 2 (empty answer") and "requests 18" in last


@pytest.mark.slow
def test_batch_key_in_no_upload_cache_output_or_error(tmp_path, samples_dir, subprocess_env):
    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=6)
    cache_dir = tmp_path / "cache"
    with JudgeServer(
        API_KEY, batch_turnaround=0.2, batch_fault=lambda c, n: "error" if n == 1 and c < "4" else None
    ) as server:
        ok = run(
            judge_cmd("qa", server, cache_dir / "c.sqlite", str(tmp_path / "run"), *BATCH),
            subprocess_env,
            tmp_path,
        )
        bad_cmd = judge_cmd("qa", server, cache_dir / "bad.sqlite", str(tmp_path / "run"), *BATCH, "--debug")
        bad = run(bad_cmd, subprocess_env, tmp_path, key=WRONG_KEY)
        uploads = b"".join(server.files.values()).decode()
    assert ok.returncode == 0, ok.stderr
    assert bad.returncode == 1 and "refused the credentials (HTTP 401)" in bad.stderr
    assert '"custom_id"' in uploads and server.batch_submissions >= 1
    files = written_text([tmp_path / "run", cache_dir])
    for secret in (API_KEY, WRONG_KEY, API_KEY[8:], WRONG_KEY[8:]):
        for text in (uploads, files, ok.stdout, ok.stderr, bad.stdout, bad.stderr):
            assert secret not in text


@pytest.mark.slow
def test_export_then_import_a_local_batch_run(tmp_path, samples_dir, subprocess_env):
    from xllm_harness.testing.judge_server import completion

    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=8)
    requests = tmp_path / "requests.jsonl"
    offline = {k: v for k, v in subprocess_env.items() if k != "OPENAI_API_KEY"}
    base = ["--base-url", "http://127.0.0.1:9/v1", "--cache", str(tmp_path / "c.sqlite"), "--no-progress"]
    cmd = [
        sys.executable,
        "-m",
        "xllm_harness.cli",
        "judge",
        "qa",
        str(tmp_path / "run"),
        "--model",
        "m",
        *base,
    ]
    exported = subprocess.run(
        [*cmd, "--export-batch", str(requests)], env=offline, capture_output=True, text=True
    )
    assert exported.returncode == 0, exported.stderr  # no key needed: nothing is sent
    lines = [json.loads(x) for x in requests.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 7 and {x["url"] for x in lines} == {"/v1/chat/completions"}
    # what a local runner (vLLM run_batch) writes: one output line per input line, same custom_id
    outputs = tmp_path / "results.jsonl"
    with open(outputs, "w", encoding="utf-8") as fh:
        for i, line in enumerate(lines):
            body = completion(line["body"], line["custom_id"])
            row = {"id": f"vllm-{i}", "custom_id": line["custom_id"], "error": None,
                   "response": {"status_code": 200, "request_id": f"r{i}", "body": body}}  # fmt: skip
            fh.write(json.dumps(row) + "\n")
        fh.write('{"id": "x", "custom_id": "not-ours", "response": {"status_code": 200, "body": {}}}\n')
    imported = subprocess.run(
        [*cmd, "--import-batch", str(outputs)], env=offline, capture_output=True, text=True
    )
    assert imported.returncode == 0, imported.stderr
    out = result_file(imported)
    assert out["import"] == {
        "file": str(outputs), "lines": 8, "used": 7, "duplicate": 0, "foreign": 1, "malformed": 0, "undecodable": 0,
    }  # fmt: skip
    with JudgeServer(API_KEY) as server:
        sync = run(
            judge_cmd("qa", server, tmp_path / "s.sqlite", str(tmp_path / "run")), subprocess_env, tmp_path
        )
    assert out["results"] == result_file(sync)["results"]
    assert out["usage"]["batch_requests"] == 7 and out["model_identity"] == {
        "model": "hf", "model_args": "pretrained=model-x,dtype=float32",
    }  # fmt: skip


@pytest.mark.slow
def test_dead_endpoint_fails_fast_with_the_cause_and_the_rerun_continues(
    tmp_path, samples_dir, subprocess_env
):
    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=12)
    cache = tmp_path / "c.sqlite"
    with JudgeServer(API_KEY) as server:  # judge a few items first: they stay cached
        first = run(
            judge_cmd("qa", server, cache, str(tmp_path / "run"), "--limit", "4"), subprocess_env, tmp_path
        )
        assert first.returncode == 0, first.stderr
    cmd = [
        sys.executable, "-m", "xllm_harness.cli", "judge", "qa", str(tmp_path / "run"), "--model", "judge-model",
        "--base-url", server.base_url, "--cache", str(cache), "--no-progress", "--concurrency", "1",
        "--backoff-base", "0.01", "--max-connection-failures", "3",
    ]  # fmt: skip
    start = time.monotonic()
    dead = run(cmd, subprocess_env, tmp_path)  # the server is gone: connection refused
    assert time.monotonic() - start < 60
    assert dead.returncode == 2
    last = dead.stderr.strip().splitlines()[-1]
    assert last.startswith(f"xllm judge: error: cannot connect to {server.base_url}: connection refused")
    assert "Traceback" not in dead.stderr
    port = int(server.base_url.rsplit(":", 1)[1].split("/")[0])
    with JudgeServer(API_KEY, port=port) as server2:  # back on the same host:port (part of the cache key)
        again = run(cmd, subprocess_env, tmp_path)
    assert again.returncode == 0, again.stderr
    usage = result_file(again)["usage"]
    assert usage["cache_hits"] == 4 and usage["requests"] == server2.requests == 11 - 4


@pytest.mark.slow
def test_every_item_gated_says_so(tmp_path, samples_dir, subprocess_env):
    english = "the sky looks blue because sunlight scatters"
    mi_eval_pair(tmp_path / "a", tmp_path / "b", samples_dir, {"zh": [(english, english)] * 3})
    with JudgeServer(API_KEY) as server:
        proc = run(
            judge_cmd("pairwise", server, tmp_path / "c.sqlite", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b")),
            subprocess_env, tmp_path,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr and server.requests == 0
    assert "every item (3) was decided by the language gate, none by the judge" in proc.stderr
    assert "(A off-language 0, B 0, both 3)" in proc.stderr
    assert (
        proc.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "judge pairwise: judged 0, gated 3 (language gate: A off 0, B off 0, both off 3), unparseable 0, failed 0"
        )
    )
    out = result_file(proc)
    assert out["systems"]["a"] == {"model": "hf", "model_args": "pretrained=system-a,dtype=float32"}
    assert out["models"] == {"a": "system-a", "b": "system-b"}


# --- money, time and keys: adversarial servers, kills, concurrent runs ------------------------------


def popen(cmd: list[str], env: dict, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        cmd, env={**env, "OPENAI_API_KEY": API_KEY}, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def wait_for(condition, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the server never saw what the test waits for"
        time.sleep(0.02)


@pytest.mark.slow
def test_two_processes_on_one_cache_pay_each_request_once(tmp_path, samples_dir, subprocess_env):
    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=10)
    go = threading.Event()
    hold_first = lambda n: go.wait(120) if n == 1 else None  # noqa: E731  (the first run stays busy)
    with JudgeServer(API_KEY, on_request=hold_first, batch_turnaround=600) as server:
        cmd = judge_cmd("qa", server, tmp_path / "c.sqlite", str(tmp_path / "run"), "--concurrency", "2")
        first = popen(cmd, subprocess_env, tmp_path)
        wait_for(lambda: server.requests >= 1)  # the first run holds the cache and is sending
        second = popen(cmd, subprocess_env, tmp_path)
        assert "waiting for it to finish" in second.stderr.readline()
        go.set()
        outs = [first.communicate(timeout=120), second.communicate(timeout=120)]
        assert (first.returncode, second.returncode) == (0, 0), outs
        assert server.requests == len(server.seen) == 9  # 10 items, one empty answer: each paid once
        assert result_file_of(outs[1][0])["usage"]["cache_hits"] == 9
        # the same with --batch: the second run waits, then finds the first one's batch
        cmd = judge_cmd("qa", server, tmp_path / "b.sqlite", str(tmp_path / "run"), *BATCH)
        first = popen(cmd, subprocess_env, tmp_path)
        wait_for(lambda: server.batch_submissions == 1)
        second = popen(cmd, subprocess_env, tmp_path)
        assert "waiting for it to finish" in second.stderr.readline()
        server.batch_turnaround = 0.05
        outs = [first.communicate(timeout=120), second.communicate(timeout=120)]
        assert (first.returncode, second.returncode) == (0, 0), outs
        assert server.batch_submissions == 1


def result_file_of(stdout: str) -> dict:
    return json.loads(Path(stdout.strip().splitlines()[-1]).read_text(encoding="utf-8"))


@pytest.mark.slow
def test_kill_during_create_batch_resumes_that_batch(tmp_path, samples_dir, subprocess_env):
    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=8)
    with JudgeServer(API_KEY, batch_turnaround=0.3, create_delay=30.0) as server:
        cmd = judge_cmd("qa", server, tmp_path / "c.sqlite", str(tmp_path / "run"), *BATCH)
        victim = popen(cmd, subprocess_env, tmp_path)
        wait_for(lambda: server.batch_submissions == 1)  # made on the server, its reply not sent yet
        os.kill(victim.pid, signal.SIGKILL)
        victim.communicate(timeout=60)
        server.create_delay = 0.0
        proc = run(cmd, subprocess_env, tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert server.batch_submissions == 1  # found by its token in the batch list, not created again
        assert "of an interrupted run: resuming it" in proc.stderr
        assert result_file(proc)["counts"]["judged"] == 7


@pytest.mark.slow
def test_unusable_usage_is_kept_as_unknown_cost_never_a_crash(tmp_path, samples_dir, subprocess_env):
    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=8)
    spoilt = ("usage_string", "usage_text", "usage_huge", "usage_over")
    order: list[str] = []

    def script(key: str, attempt: int) -> str | None:
        if key not in order:
            order.append(key)
        index = order.index(key)
        return spoilt[index] if index < len(spoilt) else None

    prices = ("--price-input", "1", "--price-output", "1")
    with JudgeServer(API_KEY, script=script) as server:
        cmd = judge_cmd("qa", server, tmp_path / "c.sqlite", str(tmp_path / "run"), *prices)
        proc = run(cmd, subprocess_env, tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert server.requests == 7  # each paid once: nothing re-asked because of its usage
        again = run(cmd, subprocess_env, tmp_path)
        assert again.returncode == 0 and server.requests == 7  # all kept in the cache
    usage = result_file(proc)["usage"]
    assert usage["unknown_usage"] == 4 and usage["requests"] == 7
    bodies = [server.bodies[key] for key in order[4:]]
    ok_tokens = sum(
        math.ceil(len("".join(m["content"] for m in b["messages"]).encode()) / 4) for b in bodies
    )  # the server's own count for the three good replies' prompts
    assert usage["prompt_tokens"] == ok_tokens
    assert "4 repl(ies) of unknown cost" in proc.stderr.strip().splitlines()[-1]
    assert "usage.completion_tokens 4000000 > max_tokens 128" in proc.stderr


@pytest.mark.slow
def test_batch_with_bad_usage_or_lost_output_ends_and_is_not_stuck(tmp_path, samples_dir, subprocess_env):
    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=6)
    with JudgeServer(API_KEY, batch_turnaround=0.2, batch_fault=lambda c, n: "usage_string") as server:
        proc = run(judge_cmd("qa", server, tmp_path / "c.sqlite", str(tmp_path / "run"), *BATCH),
                   subprocess_env, tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert result_file(proc)["usage"]["unknown_usage"] == 5
    with JudgeServer(API_KEY, batch_turnaround=0.2, files_404=True) as server:
        cmd = judge_cmd("qa", server, tmp_path / "d.sqlite", str(tmp_path / "run"), *BATCH)
        lost = run(cmd, subprocess_env, tmp_path)
        assert lost.returncode == 1 and "Traceback" not in lost.stderr
        details = Path(lost.stdout.split()[-1]).with_suffix(".details.jsonl").read_text(encoding="utf-8")
        assert details.count("its output file could not be fetched") == 5
        assert result_file(lost)["counts"]["failed"] == 5
        server.files_404 = False
        again = run(cmd, subprocess_env, tmp_path)  # the batch was closed: the rerun submits anew
        assert again.returncode == 0, again.stderr
        assert server.batch_submissions == 2


@pytest.mark.slow
def test_a_trickling_reply_meets_the_total_deadline(tmp_path, samples_dir, subprocess_env):
    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=3)
    trickle = lambda key, attempt: "trickle"  # noqa: E731
    with JudgeServer(API_KEY, script=trickle, trickle_interval=0.3) as server:
        cmd = judge_cmd("qa", server, tmp_path / "c.sqlite", str(tmp_path / "run"),
                        "--timeout", "1.5", "--max-retries", "0")  # fmt: skip
        start = time.monotonic()
        proc = run(cmd, subprocess_env, tmp_path)
        took = time.monotonic() - start
    assert proc.returncode == 1, proc.stderr
    assert took < 20  # each reply would take about 70 s to trickle in
    assert "no complete reply within 1.5 s (--timeout)" in Path(proc.stdout.split()[-1]).with_suffix(
        ".details.jsonl"
    ).read_text(encoding="utf-8")


@pytest.mark.slow
def test_polling_ends_at_an_unknown_status_and_at_the_deadline(tmp_path, samples_dir, subprocess_env):
    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=4)
    with JudgeServer(API_KEY, batch_turnaround=0.2, batch_outcome=lambda n: "paused") as server:
        cmd = judge_cmd("qa", server, tmp_path / "c.sqlite", str(tmp_path / "run"), *BATCH)
        odd = run(cmd, subprocess_env, tmp_path)
        assert odd.returncode == 1 and "status 'paused', which this client does not know" in odd.stderr
        assert result_file(odd)["counts"]["skipped"] == {"pending": 4}  # items 0-3, none empty
        again = run(cmd, subprocess_env, tmp_path)
        assert again.returncode == 1 and server.batch_submissions == 1  # kept, polled again
    with JudgeServer(API_KEY, batch_turnaround=600) as server:
        cmd = judge_cmd("qa", server, tmp_path / "d.sqlite", str(tmp_path / "run"), *BATCH,
                        "--batch-deadline", "1")  # fmt: skip
        start = time.monotonic()
        late = run(cmd, subprocess_env, tmp_path)
        assert late.returncode == 1 and time.monotonic() - start < 30
        assert "--batch-deadline 1 s" in late.stderr
        server.batch_turnaround = 0.05
        done = run(cmd, subprocess_env, tmp_path)
        assert done.returncode == 0, done.stderr
        assert server.batch_submissions == 1


@pytest.mark.slow
def test_ctrl_c_stops_spending_and_writes_partial_results(tmp_path, samples_dir, subprocess_env):
    qa_samples(tmp_path / "run", samples_dir, n=20)  # 38 calls of 1 s each, 2 at a time
    with JudgeServer(API_KEY, latency=1.0) as server:
        cmd = judge_cmd("qa", server, tmp_path / "c.sqlite", str(tmp_path / "run"), "--concurrency", "2")
        proc = popen(cmd, subprocess_env, tmp_path)
        wait_for(lambda: server.requests >= 3)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert time.monotonic() - sent < 10
        time.sleep(1.2)  # calls in flight at the interrupt have ended on the server
        paid = server.requests
    assert proc.returncode == 130, err
    assert paid <= 6  # answered before the interrupt, plus at most the two in flight
    partial = json.loads(Path(out.split()[-1]).read_text(encoding="utf-8"))
    assert partial["complete"] is False and partial["counts"]["skipped"]["interrupted"] >= 30
    assert "skipped" in err.strip().splitlines()[-1] and "interrupted" in err


@pytest.mark.slow
def test_an_echoed_key_is_never_stored(tmp_path, samples_dir, subprocess_env):
    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=4)
    echo = lambda key, attempt: "echo_auth"  # noqa: E731
    with JudgeServer(API_KEY, script=echo, batch_turnaround=0.1) as server:
        proc = run(judge_cmd("qa", server, tmp_path / "c" / "c.sqlite", str(tmp_path / "run")),
                   subprocess_env, tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert any(API_KEY in header for header in server.headers_seen)  # the server did send it back
    files = written_text([tmp_path / "run", tmp_path / "c"])
    assert "request header Authorization: Bearer" in files  # the scan sees the echoed replies
    for secret in (API_KEY, API_KEY[8:]):
        assert secret not in files and secret not in proc.stdout + proc.stderr


@pytest.mark.slow
def test_spend_cap_waits_for_calls_in_flight_and_skips_apart_from_failures(
    tmp_path, samples_dir, subprocess_env
):
    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=12)
    prices = ("--price-input", "100", "--price-output", "100")
    with JudgeServer(API_KEY, latency=0.05) as server:
        capped = run(
            judge_cmd("qa", server, tmp_path / "c.sqlite", str(tmp_path / "run"), *prices, "--max-cost", "0.35"),
            subprocess_env, tmp_path,
        )  # fmt: skip
    assert capped.returncode == 1, capped.stderr
    out = result_file(capped)
    usage, counts = out["usage"], out["counts"]
    # a worst case is about 0.16 USD here and a real call about 0.05: reserving eight at a time, the
    # run would stop after the two that fit at first; waiting for them, it goes on while a worst case fits
    assert 3 <= usage["requests"] < 11 and usage["cost_usd"] <= 0.35
    assert counts["failed"] == 0 and counts["skipped"]["budget"] == 11 - usage["requests"]
    spent = f"spent {usage['cost_usd']:.6f} USD"
    assert spent in capped.stderr and f"cost {usage['cost_usd']:.6f} USD" in capped.stderr


def test_numeric_options_are_range_checked(tmp_path, capsys, monkeypatch):
    from xllm_harness.cli import main

    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    base = [
        "judge",
        "qa",
        str(tmp_path),
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--cache",
        str(tmp_path / "c"),
    ]
    bad = [
        ("--max-cost", "nan"), ("--max-cost", "-1"), ("--price-input", "-2"), ("--price-output", "inf"),
        ("--timeout", "0"), ("--timeout", "nan"), ("--temperature", "-0.5"), ("--temperature", "3"),
        ("--limit", "0"), ("--limit", "-1"), ("--max-retries", "-1"), ("--batch-poll-interval", "0"),
        ("--batch-poll-interval", "-1"), ("--batch-deadline", "0"), ("--concurrency", "0"), ("--k", "0"),
        ("--max-tokens", "0"), ("--parse-retries", "-1"), ("--backoff-base", "-1"),
        ("--batch-discount", "0"), ("--batch-max-requests", "0"), ("--max-connection-failures", "0"),
    ]  # fmt: skip
    for option, value in bad:
        assert (
            main(
                [*base, option, value, "--price-input", "1", "--price-output", "1"]
                if option not in ("--price-input", "--price-output")
                else [*base, option, value]
            )
            == 2
        )
        err = capsys.readouterr().err.strip()
        assert err.startswith(f"xllm judge: error: {option} ") and "must be" in err, (option, err)
        assert "\n" not in err and "Traceback" not in err


def test_help_shows_an_example_and_the_defaults():
    from xllm_harness.cli import build_parser

    for job in ("qa", "pairwise"):
        parser = build_parser()
        with pytest.raises(SystemExit):
            parser.parse_args(["judge", job, "--help"])
    text = subprocess.run(
        [sys.executable, "-m", "xllm_harness.cli", "judge", "qa", "--help"], capture_output=True, text=True
    ).stdout
    assert "examples:" in text and "xllm judge qa results/ --batch" in text
    assert "(default: 60.0)" in text and "(default: 8)" in text and "(default: 5.0)" in text


@pytest.mark.slow
def test_ctrl_c_while_a_batch_runs_keeps_it_for_the_rerun(tmp_path, samples_dir, subprocess_env):
    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=4)
    with JudgeServer(API_KEY, batch_turnaround=600) as server:
        cmd = judge_cmd("qa", server, tmp_path / "c.sqlite", str(tmp_path / "run"), *BATCH)
        proc = popen(cmd, subprocess_env, tmp_path)
        wait_for(lambda: server.batch_polls >= 2)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert json.loads(Path(out.split()[-1]).read_text(encoding="utf-8"))["counts"]["skipped"] == {
            "interrupted": 4
        }
        server.batch_turnaround = 0.05
        again = run(cmd, subprocess_env, tmp_path)
        assert again.returncode == 0, again.stderr
        assert server.batch_submissions == 1 and result_file(again)["counts"]["judged"] == 4


@pytest.mark.slow
def test_a_folder_of_two_runs_is_judged_one_run_at_a_time(tmp_path, samples_dir, subprocess_env):
    """lm-eval writes every run of a model into one folder: the judge refuses to mix them, names them,
    and judges the run ``--run`` picks (its answers, its results file's model, its timestamp)."""
    from xllm_harness.testing.judge_data import STAMP

    folder = tmp_path / "run"
    (truth,) = qa_samples(folder, samples_dir, langs=("en",), n=6).values()
    later = "2026-12-31T23-59-59.000000"
    task = "xquad_xllm_en"
    lines = (folder / f"samples_{task}_{STAMP}.jsonl").read_text(encoding="utf-8").splitlines()
    wrong = []
    for text in lines:
        record = json.loads(text)
        record["resps"], record["filtered_resps"] = [["purple elephant 12345"]], ["purple elephant 12345"]
        wrong.append(json.dumps(record))
    (folder / f"samples_{task}_{later}.jsonl").write_text("\n".join(wrong) + "\n", encoding="utf-8")
    results = json.loads((folder / f"results_{STAMP}.json").read_text(encoding="utf-8"))
    results["config"]["model_args"] = "pretrained=model-x,dtype=bfloat16"
    (folder / f"results_{later}.json").write_text(json.dumps(results), encoding="utf-8")
    with JudgeServer(API_KEY) as server:
        both = run(judge_cmd("qa", server, tmp_path / "c.sqlite", str(folder)), subprocess_env, tmp_path)
        assert both.returncode == 2 and server.requests == 0
        assert STAMP in both.stderr and later in both.stderr and "--run" in both.stderr
        assert "Traceback" not in both.stderr
        for stamp, accuracy in ((STAMP, sum(truth) / len(truth)), (later, 0.0)):
            proc = run(
                judge_cmd("qa", server, tmp_path / "c.sqlite", str(folder), "--run", stamp),
                subprocess_env,
                tmp_path,
            )
            assert proc.returncode == 0, proc.stderr
            out = result_file(proc)
            assert out["run"] == stamp
            assert out["results"][task]["judge_accuracy"] == pytest.approx(accuracy, abs=1e-12)
        assert out["model_identity"]["model_args"] == "pretrained=model-x,dtype=bfloat16"
