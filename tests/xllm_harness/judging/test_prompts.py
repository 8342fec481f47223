"""The paper's judge prompts, reply parsing, the language gate and the MI-Eval loader and tasks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from xllm_harness.judging.prompts import (
    QA_PARSERS,
    pairwise_messages,
    parse_scores,
    parse_yes_no,
    qa_messages,
)


def test_qa_prompt_is_the_papers():
    ((role, text),) = qa_messages("Context: c\nQuestion: q\nAnswer: ", " Paris ")
    assert role == "user"
    for sentence in (
        "You will be given a context followed by question. You will then be given one potential answer to the question.",
        "Correctness (YES or NO): Is the answer correct?",
        "The answer should be in the same language as the context.",
    ):
        assert sentence in text
    assert text.endswith(
        "Context: Context: c\nQuestion: q\nAnswer: \nAnswer: Paris\n\nEvaluation Form (YES or NO):\n"
    )


def test_pairwise_prompt_is_the_papers():
    (sys_role, system), (user_role, user) = pairwise_messages("Q?", "first", "second")
    assert (sys_role, user_role) == ("system", "user") and "checking the quality of the answer" in system
    assert user.startswith("[Question]\nQ?\n\n[The Start of Assistant 1's Answer]\nfirst\n")
    assert "[The Start of Assistant 2's Answer]\nsecond\n" in user
    assert "rate the helpfulness, relevance, accuracy, level of details of their responses." in user
    assert user.rstrip().endswith("Score of the Assistant 2: <Score>")


@pytest.mark.parametrize(
    ("reply", "default", "xllm"),
    [
        ("YES", True, True),
        ("NO", False, False),
        ("(YES)", True, True),
        ("Yes.", True, None),  # x-LLM's parser is case-sensitive
        ("The answer contains no errors. YES", True, True),  # verdict at the end
        ("There is NO doubt the answer is right. YES", True, False),  # x-LLM reads the first NO
        ("YES. The answer is not wrong; no issues at all.", True, True),  # verdict at the start
        ("No. The answer says yes, but the context disagrees.", False, None),
        ("**Yes** it is.", True, None),
        ("No, wrong.", False, None),
        ("Evaluation Form (YES or NO): NO", False, True),  # x-LLM reads the echoed (YES or NO)
        ("Evaluation Form (YES or NO): no.", False, True),
        ("Correctness: yes - it matches the context, although it is not complete.", True, None),
        ("The answer is wrong.\n\nNO", False, False),
        ("Both YES and NO could apply here.", None, True),  # both words: unclear, asked again
        ("the answer could be yes or no", None, None),
        ("No errors were found, so the answer is correct.", None, None),  # an explanation, not a verdict
        ("The answer is not correct.", None, None),  # none
        ("NOTHING", None, False),
        ("I cannot tell", None, None),
        ("", None, None),
    ],
)
def test_qa_verdict_parsers(reply, default, xllm):
    assert parse_yes_no(reply) is default
    assert QA_PARSERS["x-llm"](reply) is xllm
    assert QA_PARSERS["default"] is parse_yes_no


@pytest.mark.parametrize(
    ("reply", "scores"),
    [
        ("Evaluation evidence: ok\nScore of the Assistant 1: 7\nScore of the Assistant 2: 8.5", (7.0, 8.5)),
        ("blah\nScore of Assistant 1: **9/10**\nScore of Assistant 2: 3/10\n", (9.0, 3.0)),
        ("evidence\nAssistant 1: 6\nAssistant 2: 4", (6.0, 4.0)),  # x-LLM's last-two-lines rule
        ("Score of the Assistant 1: 11\nScore of the Assistant 2: 3", None),  # out of range
        ("Score of the Assistant 1: 7", None),
        ("I like both.", None),
    ],
)
def test_parse_scores(reply, scores):
    assert parse_scores(reply) == scores


def test_language_gate_offline(subprocess_env, tmp_path):
    code = (
        "from xllm_harness.judging.langgate import detect\n"
        "print(detect('Bầu trời có màu xanh vì ánh sáng bị tán xạ'), detect('天空看起来是蓝色的因为阳光散射'), repr(detect('')))"
    )
    env = {**subprocess_env, "HF_HUB_OFFLINE": "1", "no_proxy": "", "HTTPS_PROXY": "http://127.0.0.1:9"}
    proc = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["vi", "zh", "''"]


def test_mi_eval_loader(tmp_path):
    from xllm_harness.tasks.mi_eval_docs import read_mi_eval

    path = tmp_path / "xx.jsonl"
    path.write_text(
        json.dumps({"instruction": "Say hi", "input": ""})
        + "\n\n"
        + json.dumps({"instruction": "Sum", "input": "1 2"})
        + "\n"
    )
    docs = read_mi_eval(path, "en")
    assert [d["instruction"] for d in docs] == ["Say hi", "Sum"]
    assert docs[0]["prompt"].endswith("### Instruction:\nSay hi\n\n### Response:")
    assert "### Input:\n1 2\n\n### Response:" in docs[1]["prompt"]
    path.write_text(json.dumps({"input": "x"}) + "\n")
    with pytest.raises(ValueError, match=r"xx.jsonl:1: field 'instruction'"):
        read_mi_eval(path, "en")


def test_mi_eval_tasks_registered_for_every_language_with_data():
    from xllm_harness.bridge.task_index import task_manager
    from xllm_harness.languages import get_languages

    tm = task_manager()
    langs = [code for code, lang in get_languages().items() if lang.mi_eval]
    assert {"ar", "el", "en", "hi", "tr", "vi", "zh"} <= set(langs)
    for code in langs:
        assert f"mi_eval_xllm_{code}" in tm.all_tasks
    assert "mi_eval_xllm" in tm.all_tasks


@pytest.mark.slow
def test_mi_eval_through_lm_eval_then_pairwise(tmp_path, tiny_model, samples_dir, subprocess_env):
    """Real generations from lm-eval (tiny model) feed the pairwise judge end to end."""
    from xllm_harness.testing.judge_data import API_KEY
    from xllm_harness.testing.judge_server import JudgeServer

    env = {**subprocess_env, "XLLM_DATA_DIR": str(samples_dir), "OPENAI_API_KEY": API_KEY}
    out = tmp_path / "run"
    cmd = [
        sys.executable, "-m", "xllm_harness.cli", "eval", "--model", "hf",
        "--model_args", f"pretrained={tiny_model},dtype=float32", "--device", "cpu",
        "--tasks", "mi_eval_xllm_en,mi_eval_xllm_zh", "--limit", "3", "--gen_kwargs", "max_gen_toks=16",
        "--log_samples", "--output_path", str(out),
    ]  # fmt: skip
    proc = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    lines = [
        json.loads(x)
        for f in out.rglob("samples_mi_eval_xllm_zh_*.jsonl")
        for x in f.read_text().splitlines()
    ]
    assert len(lines) == 3 and lines[0]["doc"]["instruction"].startswith("请给出")
    with JudgeServer(API_KEY) as server:
        cmd = [
            sys.executable, "-m", "xllm_harness.cli", "judge", "pairwise", "--a", str(out), "--b", str(out),
            "--base-url", server.base_url, "--model", "judge-model", "--cache", str(tmp_path / "c.sqlite"),
        ]  # fmt: skip
        judged = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert judged.returncode == 0, judged.stderr
    result = json.loads(Path(judged.stdout.strip().splitlines()[-1]).read_text(encoding="utf-8"))
    for lang in ("en", "zh"):
        row = result["results"][lang]
        # a system against itself: identical answers tie, whether judged or gated
        assert (row["items"], row["tie"], row["win"], row["loss"]) == (3, 3, 0, 0)
        assert row["a_in_language"] == row["b_in_language"]
