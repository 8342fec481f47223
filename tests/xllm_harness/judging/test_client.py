"""The judge client and jobs in-process against a real HTTP server on 127.0.0.1 with injected faults."""

from __future__ import annotations

import json
import threading
import time

import pytest

from xllm_harness.judging.backend import BudgetExceeded, ChatRequest
from xllm_harness.judging.cache import CachedReply, JudgeCache
from xllm_harness.judging.client import JudgeClient, JudgeSettings
from xllm_harness.judging.pairwise import judge_pairwise
from xllm_harness.judging.prompts import qa_messages
from xllm_harness.judging.qa import judge_qa
from xllm_harness.plugins.judges.openai_compat import OpenAICompatJudge
from xllm_harness.testing.judge_data import API_KEY, WORDS, mi_eval_pair, qa_samples
from xllm_harness.testing.judge_server import FAULTS, REPLY_FAULTS, JudgeServer


def make_client(server: JudgeServer, cache_path, timeout: float = 5.0, **settings) -> JudgeClient:
    judge = OpenAICompatJudge("judge-model", base_url=server.base_url, api_key=API_KEY, timeout=timeout)
    options = {"progress": False, "backoff_base": 0.01, "concurrency": 4, **settings}
    return JudgeClient(judge, JudgeSettings(**options), JudgeCache(cache_path))


def two_faults(key: str, attempt: int) -> str | None:
    """Every request fails first with one of the five faults; every other one fails twice."""
    h = int(key, 16)
    if attempt == 0:
        return FAULTS[h % len(FAULTS)]
    if attempt == 1 and h % 2:
        return FAULTS[(h + 1) % len(FAULTS)]
    return None


def test_every_verdict_right_despite_faults(tmp_path, samples_dir):
    expected = qa_samples(tmp_path / "run", samples_dir)
    with JudgeServer(API_KEY, script=two_faults, timeout_sleep=1.0) as server:
        client = make_client(server, tmp_path / "cache.sqlite", timeout=0.5)
        results, details = judge_qa(tmp_path / "run", client)
    assert set(server.faults) == set(FAULTS)  # every kind of fault was injected
    assert client.usage.failures == 0
    assert client.usage.retries == sum(server.faults.values())
    for task, truth in expected.items():
        verdicts = [d["verdict"] == "YES" for d in details if d["task"] == task]
        assert verdicts == truth
        assert results[task]["judge_accuracy"] == pytest.approx(sum(truth) / len(truth))
        assert results[task]["n"] == len(truth) and results[task]["empty_answers"] == 1
    # exact_match marks the gold answer only, and every gold answer occurs in its context: full agreement
    assert all(r["agreement_exact_match"] == 1.0 for r in results.values())


def test_retry_after_is_honoured(tmp_path):
    script = lambda key, attempt: "429" if attempt == 0 else None  # noqa: E731
    with JudgeServer(API_KEY, script=script, retry_after="1") as server:
        client = make_client(server, tmp_path / "cache.sqlite", backoff_base=0.001)
        request = ChatRequest(qa_messages("Context: sky is blue", "blue"))
        start = time.monotonic()
        reply = client.run([request])[request]
        elapsed = time.monotonic() - start
    assert reply.text == "YES"
    assert elapsed >= 1.0
    assert server.requests == 2


def test_failures_not_cached_and_rerun_makes_only_missing_calls(tmp_path, samples_dir):
    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=12)
    doomed = {"key": None, "fail": True}

    def script(key: str, attempt: int) -> str | None:
        doomed["key"] = doomed["key"] or key  # the first request body always fails (while "fail")
        return "500" if doomed["fail"] and key == doomed["key"] else None

    with JudgeServer(API_KEY, script=script) as server:
        client = make_client(server, tmp_path / "cache.sqlite", max_retries=2, concurrency=1)
        results, details = judge_qa(tmp_path / "run", client)
        assert results["xquad_xllm_en"]["failed"] == 1
        assert any("gave up after 3 tries" in d.get("error", "") for d in details)
        assert len(client.cache) == 11 - 1  # 12 items, one empty answer, one failure: not cached
        first = server.requests
        doomed["fail"] = False
        client2 = make_client(server, tmp_path / "cache.sqlite")
        results2, _ = judge_qa(tmp_path / "run", client2)
        assert server.requests - first == 1  # exactly the missing call
        assert results2["xquad_xllm_en"]["failed"] == 0
        client3 = make_client(server, tmp_path / "cache.sqlite")
        judge_qa(tmp_path / "run", client3)
        assert server.requests - first == 1  # finished: zero requests
        assert client3.usage.cache_hits == 11 and client3.usage.requests == 0


def test_spend_cap_stops_before_exceeding(tmp_path, samples_dir):
    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=20)
    with JudgeServer(API_KEY) as server:
        client = make_client(
            server,
            tmp_path / "cache.sqlite",
            concurrency=1,
            price_input=1000.0,
            price_output=1000.0,
            max_cost=3.0,
        )
        _results, details = judge_qa(tmp_path / "run", client)
    usage = client.usage
    assert isinstance(client.stopped, BudgetExceeded)
    assert 0 < usage.requests == server.ok < 19
    assert usage.cost_usd <= 3.0
    assert usage.cost_usd == pytest.approx((usage.prompt_tokens + usage.completion_tokens) * 1000.0 / 1e6)
    assert usage.skipped_budget == 19 - usage.requests
    # it did not stop early: the request it refused could have crossed the cap
    unsent = [d for d in details if "error" in d]
    assert unsent and all("max-cost" in d["error"] for d in unsent)


def test_cache_key_covers_answer_fields_not_the_key(tmp_path):
    with JudgeServer(API_KEY) as server:
        base = make_client(server, tmp_path / "c.sqlite")
        request = ChatRequest(qa_messages("ctx", "ans"))
        keys = {base.key(request)}
        keys.add(base.key(request.retry()))
        keys.add(base.key(ChatRequest(request.messages, sample=1)))
        for change in ({"temperature": 1.0}, {"max_tokens": 7}):
            keys.add(make_client(server, tmp_path / "c.sqlite", **change).key(request))
        other_model = OpenAICompatJudge("other-model", base_url=server.base_url, api_key=API_KEY)
        keys.add(JudgeClient(other_model, JudgeSettings(progress=False)).key(request))
        other_host = OpenAICompatJudge("judge-model", base_url="http://127.0.0.2:9/v1", api_key=API_KEY)
        keys.add(JudgeClient(other_host, JudgeSettings(progress=False)).key(request))
        assert len(keys) == 7
        other_key = OpenAICompatJudge(
            "judge-model", base_url=server.base_url, api_key="sk-test-another-key-123456"
        )
        assert JudgeClient(other_key, JudgeSettings(progress=False)).key(request) == base.key(request)
        assert API_KEY not in str(base.request_fields(request))


def test_cache_is_safe_under_concurrent_writers(tmp_path):
    cache = JudgeCache(tmp_path / "c.sqlite")
    errors = []

    def writer(worker: int) -> None:
        try:
            other = JudgeCache(tmp_path / "c.sqlite")  # separate connections, like separate processes
            for i in range(50):
                other.put(f"k{i}", {"i": i}, CachedReply(f"reply {i}", i, 1))
        except Exception as err:  # pragma: no cover - reported below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(cache) == 50 and cache.get("k7") == CachedReply("reply 7", 7, 1)


def test_pairwise_outcomes_gate_and_position_bias(tmp_path, samples_dir):
    english = " ".join(WORDS["en"][:6])
    plan = {
        "en": [
            (3, 8),
            (8, 3),
            (5, 5),
            (4, "UNPARSEABLE_ONCE the sky looks blue"),
            (2, "UNPARSEABLE_ALWAYS the sky"),
        ],
        "zh": [(6, 2), (english, 4), (3, english), (english, english)],
    }
    mi_eval_pair(tmp_path / "a", tmp_path / "b", samples_dir, plan)
    with JudgeServer(API_KEY) as server:
        client = make_client(server, tmp_path / "c1.sqlite")
        results, _details = judge_pairwise(tmp_path / "a", tmp_path / "b", client)
        en, zh = results["en"], results["zh"]
        assert (en["win"], en["tie"], en["loss"], en["unparseable"]) == (1, 1, 2, 1)
        assert (
            en["reasked_after_unparseable"] == 2 + 2 * 2
        )  # ONCE: one re-ask per order; ALWAYS: two per order
        assert (zh["win"], zh["tie"], zh["loss"], zh["gated"]) == (2, 1, 1, 3)
        assert zh["a_in_language"] == 0.5 and zh["b_in_language"] == 0.5
        assert en["position_bias_rate"] == 0.0 and en["both_orders"] == 4
        assert results["all"]["items"] == 9
        # the gate made no calls: 5 en + 1 zh items judged in two orders (the (5, 5) item's answers are
        # identical, so both orders are one request), plus the 6 re-asks
        assert server.requests == 2 * 6 - 1 + 6
        assert 1 < server.max_in_flight <= 4  # bounded concurrency (no faults, so no abandoned requests)
    # a judge that favours Assistant 1 by 3 points flips the verdict when scores are close
    with JudgeServer(API_KEY, bias=3) as server:
        client = make_client(server, tmp_path / "c2.sqlite")
        results, _details = judge_pairwise(tmp_path / "a", tmp_path / "b", client)
    flips = 0
    for sa, sb in ((3, 8), (8, 3), (5, 5), (4, 5), (6, 2)):
        ab = (min(10, sa + 3) > sb) - (min(10, sa + 3) < sb)
        ba = (sa > min(10, sb + 3)) - (sa < min(10, sb + 3))
        flips += ab != ba
    assert results["all"]["position_flips"] == flips > 0
    assert results["all"]["position_bias_rate"] == pytest.approx(flips / 5)


def test_k_samples_majority_and_unparseable_qa(tmp_path, samples_dir):
    expected = qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=6)
    path = next((tmp_path / "run").glob("samples_xquad_xllm_en_*.jsonl"))
    lines = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    lines[1]["filtered_resps"] = ["UNPARSEABLE_ALWAYS"]  # the judge never gives a verdict for this one
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    with JudgeServer(API_KEY) as server:
        client = make_client(server, tmp_path / "cache.sqlite", k=3)
        results, details = judge_qa(tmp_path / "run", client, parse_retries=1)
    row = results["xquad_xllm_en"]
    assert row["unparseable"] == 1 and row["n"] == 5 and row["reasked_after_unparseable"] == 3
    truth = [t for i, t in enumerate(expected["xquad_xllm_en"]) if i != 1]
    assert row["judge_accuracy"] == pytest.approx(sum(truth) / 5)
    # 4 answered items x 3 samples (distinct seeds, so distinct requests) + 1 unparseable x 3 x (1 + 1 re-ask)
    assert server.requests == 4 * 3 + 3 * 2
    assert next(d for d in details if d["doc_id"] == 1)["note"].startswith("unparseable")


def test_replies_with_bad_usage_slow_bodies_or_echoed_keys(tmp_path, samples_dir):
    """Each reply fault once per request: a trickled body is given up at the total deadline and
    asked again; a bad usage is kept as unknown cost; an echoed key never reaches the cache."""
    expected = qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=14)

    def script(key: str, attempt: int) -> str | None:
        return REPLY_FAULTS[int(key, 16) % len(REPLY_FAULTS)] if attempt == 0 else None

    with JudgeServer(API_KEY, script=script, trickle_interval=0.2) as server:
        client = make_client(
            server, tmp_path / "cache.sqlite", timeout=1.0, price_input=1.0, price_output=1.0
        )
        start = time.monotonic()
        _results, details = judge_qa(tmp_path / "run", client)
        took = time.monotonic() - start
    assert set(server.faults) == set(REPLY_FAULTS)
    assert took < 30  # a trickled reply would take minutes
    usage = client.usage
    bad_usage = sum(n for fault, n in server.faults.items() if fault.startswith("usage_"))
    assert usage.unknown_usage == bad_usage and usage.faults == {"timeout": server.faults["trickle"]}
    assert [d["verdict"] == "YES" for d in details] == expected["xquad_xllm_en"]
    stored = "".join(
        row[0] for row in JudgeCache(tmp_path / "cache.sqlite")._conn().execute("SELECT text FROM replies")
    )
    assert "Authorization: Bearer ***" in stored and API_KEY[8:] not in stored


def test_a_reply_kept_but_never_parsed_is_read_by_the_rerun(tmp_path):
    request = ChatRequest(qa_messages("Context: the sky is blue", "blue"))
    with JudgeServer(API_KEY) as server:
        first = make_client(server, tmp_path / "first.sqlite")
        first.run([request])
        assert server.requests == 1
        kept = JudgeCache(tmp_path / "first.sqlite").get_raw(first.key(request))
        assert json.loads(kept)["choices"][0]["message"]["content"] == "YES"  # the body as it came
        # what a run killed between receiving and parsing leaves: the body, no reply row
        killed = make_client(server, tmp_path / "killed.sqlite")
        killed.cache.put_raw(killed.key(request), kept)
        replies = killed.run([request])
        assert server.requests == 1 and replies[request].text == "YES"  # read, not bought again
        assert killed.cache.get(killed.key(request)) is not None and killed.usage.cache_hits == 1
