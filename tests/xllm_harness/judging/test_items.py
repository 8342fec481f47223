"""Which items are judged: lm-eval's filter, A/B alignment, x-LLM's tally, batch-line rules."""

from __future__ import annotations

import json

import pytest

from xllm_harness.errors import InputError
from xllm_harness.judging.backend import ChatReply
from xllm_harness.judging.cache import JudgeCache
from xllm_harness.judging.client import JudgeClient, JudgeSettings
from xllm_harness.judging.pairwise import load_pairs
from xllm_harness.judging.prompts import QA_PARSERS
from xllm_harness.judging.qa import judge_qa, load_qa_items
from xllm_harness.judging.transports import ImportTransport
from xllm_harness.plugins.judges.openai_compat import OpenAICompatJudge
from xllm_harness.testing.judge_data import API_KEY, mi_eval_pair, qa_samples
from xllm_harness.testing.judge_server import JudgeServer


def client_for(server: JudgeServer, cache, transport=None) -> JudgeClient:
    judge = OpenAICompatJudge("judge-model", base_url=server.base_url, api_key=API_KEY, timeout=10.0)
    settings = JudgeSettings(progress=False, backoff_base=0.01, batch_poll_interval=0.02, batch_poll_max=0.05)
    return JudgeClient(judge, settings, JudgeCache(cache), transport)


def two_filters(folder, samples_dir) -> dict[str, list[bool]]:
    """xquad samples with lines for two filters: ``strict`` answers right where ``loose`` is wrong
    (and the other way round); returns the right verdicts per filter."""
    qa_samples(folder, samples_dir, langs=("en",), n=8)
    (path,) = folder.glob("samples_*.jsonl")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    truth: dict[str, list[bool]] = {"strict": [], "loose": []}
    lines = []
    for row in rows:
        right, wrong = row["doc"]["answers"][0], "purple elephant 12345"
        for name, answer in (("loose", right if row["doc_id"] % 2 else wrong), ("strict", wrong if row["doc_id"] % 2 else right)):  # fmt: skip
            lines.append({**row, "filter": name, "filtered_resps": [answer], "resps": [[answer]]})
            truth[name].append(answer == right)
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return truth


def test_qa_judges_the_filter_xllm_score_reads(tmp_path, samples_dir):
    truth = two_filters(tmp_path / "run", samples_dir)
    with JudgeServer(API_KEY) as server:
        first, _ = judge_qa(tmp_path / "run", client_for(server, tmp_path / "c.sqlite"))
        strict, _ = judge_qa(
            tmp_path / "run", client_for(server, tmp_path / "c.sqlite"), filter_name="strict"
        )
    # no "none" filter: xllm score takes the first one in the file, "loose"
    assert first["xquad_xllm_en"]["judge_accuracy"] == pytest.approx(sum(truth["loose"]) / 8, abs=1e-9)
    assert strict["xquad_xllm_en"]["judge_accuracy"] == pytest.approx(sum(truth["strict"]) / 8, abs=1e-9)
    assert first["xquad_xllm_en"]["n"] == 8
    with pytest.raises(InputError, match="no samples for filter 'other'"):
        load_qa_items(tmp_path / "run", filter_name="other")


def test_pairwise_refuses_a_and_b_on_different_documents(tmp_path, samples_dir):
    mi_eval_pair(tmp_path / "a", tmp_path / "b", samples_dir, {"en": [(3, 4), (4, 3), (5, 5)]})
    (path_a,) = (tmp_path / "a").glob("samples_*.jsonl")
    lines = path_a.read_text(encoding="utf-8").splitlines()
    path_a.write_text("\n".join(lines[:2]) + "\n", encoding="utf-8")  # A has one document fewer
    with pytest.raises(InputError, match="doc_id 2 missing"):
        load_pairs(tmp_path / "a", tmp_path / "b")
    path_a.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (path_b,) = (tmp_path / "b").glob("samples_*.jsonl")
    rows_b = [json.loads(x) for x in path_b.read_text(encoding="utf-8").splitlines()]
    path_b.write_text("".join(json.dumps(r) + "\n" for r in reversed(rows_b)), encoding="utf-8")
    pairs = load_pairs(tmp_path / "a", tmp_path / "b")  # aligned by doc_id, not by line
    assert [(p.doc_id, len(p.answer_a.split()), len(p.answer_b.split())) for p in pairs] == [
        (0, 3, 4), (1, 4, 3), (2, 5, 5),
    ]  # fmt: skip


def test_xllm_tally_counts_no_error_and_judges_empty_answers(tmp_path, samples_dir):
    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=12)  # item 5 empty; 0, 3, 6, 9 wrong
    (path,) = (tmp_path / "run").glob("samples_*.jsonl")
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        if row["doc_id"] in (1, 2):  # right answers whose judge reply has neither YES nor NO
            row["filtered_resps"] = [row["filtered_resps"][0] + " UNPARSEABLE_ALWAYS"]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with JudgeServer(API_KEY) as server:
        ours, _ = judge_qa(tmp_path / "run", client_for(server, tmp_path / "c.sqlite"))
        before = server.requests
        xllm, details = judge_qa(
            tmp_path / "run", client_for(server, tmp_path / "c.sqlite"), parse=QA_PARSERS["x-llm"], xllm_tally=True
        )  # fmt: skip
        asked = server.requests - before
    # ours: 11 items with an answer, 2 unparseable (not scored); YES = 1..11 without 0,3,6,9 and 1,2 and 5
    ours_row = ours["xquad_xllm_en"]
    assert (ours_row["n"], ours_row["unparseable"]) == (10, 2)
    assert ours_row["judge_accuracy"] == pytest.approx(5 / 10, abs=1e-9)  # 4,7,8,10,11 YES
    # x-LLM: 12 replies (the empty answer is sent too) + the empty answer's own NO line = 13 lines;
    # the two unparseable replies are NO(Error) lines; YES lines: 4,7,8,10,11
    row = xllm["xquad_xllm_en"]
    assert asked == 1  # only the empty answer was new: the other replies came from the cache
    assert row["n"] == 13 and row["judge_accuracy"] == pytest.approx(5 / 13, abs=1e-9)
    assert [d["xllm_lines"] for d in details if d["doc_id"] in (1, 5)] == [["NO(Error)"], ["NO", "NO"]]


def test_batch_and_import_resolve_duplicate_and_foreign_lines_alike(tmp_path, samples_dir):
    from xllm_harness.judging.batch_api import BatchTransport

    qa_samples(tmp_path / "run", samples_dir, langs=("en",), n=6)
    fault = lambda custom_id, n: "duplicate" if custom_id < "8" else "foreign"  # noqa: E731
    with JudgeServer(API_KEY, batch_turnaround=0.1, batch_fault=fault) as server:
        batched = client_for(server, tmp_path / "b.sqlite", BatchTransport())
        results, _details = judge_qa(tmp_path / "run", batched)
        reference, _ref_details = judge_qa(tmp_path / "run", client_for(server, tmp_path / "s.sqlite"))
        (batch,) = server.batches.values()
        output = server.files[batch.output_file_id]
    (tmp_path / "out.jsonl").write_bytes(output)
    imported = client_for(server, tmp_path / "i.sqlite", ImportTransport(tmp_path / "out.jsonl"))
    import_results, _ = judge_qa(tmp_path / "run", imported)
    assert results == reference == import_results  # the first line of a custom_id wins, both ways
    counts = batched.transport.line_counts
    duplicates = sum(1 for line in batch.lines if line["custom_id"] < "8")
    assert counts.duplicate == duplicates and counts.foreign == 5 - duplicates and counts.used == 5
    assert imported.transport.line_counts().to_dict() == counts.to_dict()


def test_chat_reply_usage_check():
    from xllm_harness.judging.backend import ChatRequest, completion_reply

    request = ChatRequest((("user", "x" * 40),))
    body = {"choices": [{"message": {"content": "YES"}}]}
    assert completion_reply({**body, "usage": {"prompt_tokens": 12, "completion_tokens": 1}}, request, 8) == ChatReply(
        "YES", 12, 1
    )  # fmt: skip
    for usage, why in (
        ("lots", "not an object"), ({"prompt_tokens": "9", "completion_tokens": 1}, "not a number"),
        ({"prompt_tokens": float("inf"), "completion_tokens": 1}, "whole number"),
        ({"prompt_tokens": -1, "completion_tokens": 1}, "whole number"),
        ({"prompt_tokens": 2.5, "completion_tokens": 1}, "whole number"),
        ({"prompt_tokens": 10, "completion_tokens": 9}, "> max_tokens 8"),
        ({"prompt_tokens": 57, "completion_tokens": 1}, "> 56, the most this prompt can be"),
        (None, "no usage"),
    ):  # fmt: skip
        reply = completion_reply({**body, "usage": usage}, request, 8)
        assert reply.prompt_tokens is None and why in reply.usage_problem, (usage, reply)
