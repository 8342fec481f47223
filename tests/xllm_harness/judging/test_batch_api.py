"""``--batch`` in-process against the Batch API of a real HTTP server on 127.0.0.1 (files, batches)."""

from __future__ import annotations

import json

import pytest

from xllm_harness.judging.backend import BudgetExceeded
from xllm_harness.judging.batch_api import BatchTransport
from xllm_harness.judging.batch_files import parse_result_lines, select_lines, split_lines
from xllm_harness.judging.cache import JudgeCache
from xllm_harness.judging.client import JudgeClient, JudgeSettings
from xllm_harness.judging.qa import judge_qa
from xllm_harness.plugins.judges.openai_compat import OpenAICompatJudge
from xllm_harness.testing.judge_data import API_KEY, qa_samples
from xllm_harness.testing.judge_server import JudgeServer


def client_for(server: JudgeServer, cache, batch: bool = True, **settings) -> JudgeClient:
    judge = OpenAICompatJudge("judge-model", base_url=server.base_url, api_key=API_KEY, timeout=5.0)
    options = {"progress": False, "backoff_base": 0.01, "batch_poll_interval": 0.02, "batch_poll_max": 0.05}
    transport = BatchTransport() if batch else None
    return JudgeClient(judge, JudgeSettings(**{**options, **settings}), JudgeCache(cache), transport)


def verdicts(details: list[dict]) -> dict[tuple[str, int], str | None]:
    return {(d["task"], d["doc_id"]): d.get("verdict") for d in details}


def test_batch_verdicts_equal_the_synchronous_ones_at_half_the_cost(tmp_path, samples_dir):
    expected = qa_samples(tmp_path / "run", samples_dir, n=12)
    prices = {"price_input": 1.0, "price_output": 2.0}
    with JudgeServer(API_KEY, batch_turnaround=0.2) as server:
        sync = client_for(server, tmp_path / "sync.sqlite", batch=False, **prices)
        sync_results, sync_details = judge_qa(tmp_path / "run", sync)
        chat_calls = server.requests
        batched = client_for(server, tmp_path / "batch.sqlite", **prices)
        results, details = judge_qa(tmp_path / "run", batched)
        assert server.requests == chat_calls  # not one synchronous call
        assert server.batch_submissions == 1
        again = client_for(server, tmp_path / "batch.sqlite")
        before = server.http_requests
        judge_qa(tmp_path / "run", again)
        assert server.http_requests == before  # a finished rerun makes zero requests
    assert verdicts(details) == verdicts(sync_details)
    assert results == sync_results
    assert [results[t]["judge_accuracy"] for t in expected] == [sum(v) / len(v) for v in expected.values()]
    usage = batched.usage
    assert usage.requests == usage.batch_requests == 22 and usage.batches_submitted == 1
    assert usage.prompt_tokens == sync.usage.prompt_tokens
    assert usage.cost_usd == pytest.approx(sync.usage.cost_usd * 0.5)


def test_failed_and_spoiled_lines_are_resubmitted(tmp_path, samples_dir):
    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=16)
    kinds = ("error", "malformed", "missing", "nocontent")
    spoiled: dict[str, str] = {}

    def fault(custom_id: str, number: int) -> str | None:
        if number == 1 and len(spoiled) < len(kinds) and custom_id not in spoiled:
            spoiled[custom_id] = kinds[len(spoiled)]
        return spoiled.get(custom_id) if number == 1 else None

    with JudgeServer(API_KEY, batch_turnaround=0.1, batch_fault=fault) as server:
        client = client_for(server, tmp_path / "c.sqlite")
        results, _ = judge_qa(tmp_path / "run", client)
        reference, _ = judge_qa(tmp_path / "run", client_for(server, tmp_path / "s.sqlite", batch=False))
    assert sorted(spoiled.values()) == sorted(kinds)
    assert server.batch_submissions == 2  # the four spoiled lines went into a second batch
    second = server.batches[max(server.batches)]
    assert sorted(line["custom_id"] for line in second.lines) == sorted(spoiled)
    assert results == reference and results["xquad_xllm_en"]["failed"] == 0
    assert client.usage.retries == 4 and client.transport.line_counts.malformed == 1


@pytest.mark.parametrize("outcome", ["expired", "cancelled"])
def test_expired_or_cancelled_batch_keeps_what_completed(tmp_path, samples_dir, outcome):
    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=13)  # 12 requests (one empty answer)
    plan = {1: outcome}
    with JudgeServer(
        API_KEY, batch_turnaround=0.1, batch_outcome=lambda n: plan.get(n, "completed")
    ) as server:
        client = client_for(server, tmp_path / "c.sqlite")
        results, details = judge_qa(tmp_path / "run", client)
        row = results["xquad_xllm_en"]
        assert row["failed"] == 6 and row["n"] == 13 - 6  # half ran; the empty answer needs no call
        assert len(client.cache) == 6 and server.batch_submissions == 1
        errors = [d["error"] for d in details if "error" in d]
        assert len(errors) == 6
        assert all(
            f"{outcome} before this request ran" in e and "rerun to submit it again" in e for e in errors
        )
        rerun = client_for(server, tmp_path / "c.sqlite")
        results, _ = judge_qa(tmp_path / "run", rerun)
    assert server.batch_submissions == 2 and len(server.batches[max(server.batches)].lines) == 6
    assert results["xquad_xllm_en"]["failed"] == 0 and rerun.usage.cache_hits == 6


def test_failed_batch_fails_its_items_with_the_reason(tmp_path, samples_dir):
    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=4)
    with JudgeServer(API_KEY, batch_turnaround=0.1, batch_outcome=lambda n: "failed") as server:
        client = client_for(server, tmp_path / "c.sqlite")
        results, details = judge_qa(tmp_path / "run", client)
    assert results["xquad_xllm_en"]["failed"] == 4 and server.batch_submissions == 1
    assert all(
        "failed: invalid_request: scripted validation failure" in d["error"] for d in details if "error" in d
    )


def test_spend_cap_is_checked_against_the_worst_case_before_submitting(tmp_path, samples_dir):
    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=11)  # 10 requests
    prices = {"price_input": 1000.0, "price_output": 1000.0}
    with JudgeServer(API_KEY, batch_turnaround=0.1) as server:
        probe = client_for(server, tmp_path / "probe.sqlite", **prices)
        from xllm_harness.judging.qa import load_qa_items

        # the worst case of one request at the batch discount; the cap admits exactly four
        items = load_qa_items(tmp_path / "run")["xquad_xllm_en"]
        from xllm_harness.judging.backend import ChatRequest
        from xllm_harness.judging.prompts import qa_messages

        worst = [
            probe.ledger.worst_case(ChatRequest(qa_messages(i.context, i.answer)), batched=True)
            for i in items
            if i.answer.strip()
        ]
        cap = sum(worst[:4]) + worst[4] / 2
        client = client_for(server, tmp_path / "c.sqlite", max_cost=cap, **prices)
        results, _ = judge_qa(tmp_path / "run", client)
        assert isinstance(client.stopped, BudgetExceeded)
        assert server.batch_submissions == 1 and len(next(iter(server.batches.values())).lines) == 4
        assert client.usage.cost_usd <= cap and client.usage.skipped_budget == 6
        nothing = client_for(server, tmp_path / "d.sqlite", max_cost=worst[0] / 2, **prices)
        judge_qa(tmp_path / "run", nothing)
        assert server.batch_submissions == 1  # not even one request fits: nothing submitted
    assert results["xquad_xllm_en"]["failed"] == 0  # not sent: counted apart from failures
    assert results["xquad_xllm_en"]["skipped_by_reason"] == {"budget": 6}


def test_large_jobs_are_split_under_the_file_limits(tmp_path, samples_dir):
    qa_samples(tmp_path / "run", samples_dir, langs=("en", "zh"), n=12)  # 22 requests
    with JudgeServer(API_KEY, batch_turnaround=0.1) as server:
        judge_qa(tmp_path / "run", client_for(server, tmp_path / "a.sqlite", batch_max_requests=5))
        assert server.batch_submissions == 5
        inputs = [server.files[b.input_file_id] for b in server.batches.values()]
        assert [len(f.splitlines()) for f in inputs] == [5, 5, 5, 5, 2]
        limit = max(len(f) for f in inputs) // 2
        judge_qa(tmp_path / "run", client_for(server, tmp_path / "b.sqlite", batch_max_bytes=limit))
        later = [server.files[b.input_file_id] for b in list(server.batches.values())[5:]]
    assert all(len(f) <= limit for f in later) and sum(len(f.splitlines()) for f in later) == 22
    for text in later:
        for line in text.decode().splitlines():
            row = json.loads(line)
            assert (
                row["method"] == "POST"
                and row["url"] == "/v1/chat/completions"
                and len(row["custom_id"]) == 64
            )


def test_split_lines_and_result_lines():
    lines = [(str(i), b"x" * 10) for i in range(7)]
    assert [len(c) for c in split_lines(lines, max_requests=3, max_bytes=100)] == [3, 3, 1]
    assert [len(c) for c in split_lines(lines, max_requests=100, max_bytes=25)] == [2, 2, 2, 1]
    with pytest.raises(ValueError, match="--batch-max-bytes"):
        split_lines(lines, max_bytes=5)
    data = (
        b'{"custom_id": "a", "response": {"status_code": 200, "body": {"choices": []}}, "error": null}\n'
        b'{"custom_id": "b", "response": {"status_code": 400, "body": {"error": {"message": "bad"}}}}\n'
        b'{"custom_id": "c", "response": null, "error": {"code": "batch_expired", "message": "late"}}\n'
        b"not json\n{}\n"
        b'{"custom_id": "a", "response": {"status_code": 500, "body": {}}}\n'  # a duplicate of a
        b'{"custom_id": "zz", "response": {"status_code": 200, "body": {}}}\n'  # no request of ours
        b'{"custom_id": "\xff\xfe", "response": null}\n'  # not UTF-8
    )
    parsed, counts = parse_result_lines(data)
    assert (counts.lines, counts.malformed, counts.undecodable) == (8, 2, 1)
    assert [(r.custom_id, r.error) for r in parsed] == [
        ("a", None),
        ("b", "HTTP 400: bad"),
        ("c", "batch_expired: late"),
        ("a", "HTTP 500"),
        ("zz", None),
    ]
    chosen = select_lines(parsed, {"a", "b", "c"}, counts)
    assert chosen["a"].error is None  # the first line of a custom_id wins
    assert (counts.used, counts.duplicate, counts.foreign) == (3, 1, 1)
