"""Bad input, command by command: every ``xllm`` subcommand meets the classes of bad input that apply to
it (missing file, wrong format, missing field, value out of range, unknown name, missing model file)
and ends with exit code 2 and one message line naming the file, field or option and what to do, with
no traceback and no partial output left behind. Under ``lm_eval``, our message is the last line.

Each case runs the real command line in a subprocess, as a user types it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SAMPLE_LINE = {"doc_id": 0, "doc": {"source": "a", "target": "b"}, "filtered_resps": ["b"], "target": "b"}


def xllm(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "xllm_harness.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def assert_user_error(done: subprocess.CompletedProcess, command: str, *named: str) -> None:
    """Exit 2, no traceback, and the last line is our one-line message naming everything in ``named``."""
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"xllm {command}: error: "), done.stderr[-2000:]
    for name in named:
        assert name in last, (name, last)


def write_samples(folder: Path, task: str, lines: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"samples_{task}_2026-01-01T00-00-00.000000.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def env(subprocess_env, tmp_path) -> dict[str, str]:
    return {**subprocess_env, "XLLM_CACHE_DIR": str(tmp_path / "cache"), "OPENAI_API_KEY": "sk-test-unused"}


# --- xllm eval -----------------------------------------------------------------------------------


def test_eval_model_path_typo_gets_did_you_mean(tmp_path, env):
    (tmp_path / "demo_out" / "tiny-coit").mkdir(parents=True)
    args = ["eval", "--model_args", "pretrained=./demo_out/tiny-coitt", "--tasks", "xquad_xllm_ar"]
    done = xllm(args, tmp_path, env)
    assert_user_error(done, "eval", "pretrained=./demo_out/tiny-coitt", "did you mean './demo_out/tiny-coit'")


@pytest.mark.parametrize(
    ("tasks", "named"),
    [
        (
            "flores_xllm_en-ar,flores_xllm_en-x",
            ("flores_xllm_en-ar", "(the task itself)", "'flores_xllm_en-x'"),
        ),
        ("flores_xllm_en-x,flores_xllm", ("flores_xllm_en-ar", "'flores_xllm_en-x'", "'flores_xllm'")),
        (
            "flores_xllm_en-*",
            ("flores_xllm_en-ar", "'flores_xllm_en-x'"),
        ),  # a glob matching a group and its tasks
    ],
)
def test_eval_a_task_asked_for_twice_is_named_before_the_model(tmp_path, env, tiny_model, tasks, named):
    """lm-eval would load the model, build every task, then stop with "Duplicate task"."""
    done = xllm(["eval", "--model_args", f"pretrained={tiny_model}", "--tasks", tasks], tmp_path, env)
    assert_user_error(done, "eval", "--tasks:", *named)


def test_eval_tasks_without_overlap_pass_the_check(tmp_path, env):
    # disjoint groups and tasks get as far as the model check
    done = xllm(
        ["eval", "--model_args", "pretrained=/no/model", "--tasks", "flores_xllm_en-x,flores_xllm_ar-en"],
        tmp_path,
        env,
    )
    assert_user_error(done, "eval", "pretrained=/no/model")


def test_eval_unknown_task_gets_did_you_mean(tmp_path, env):
    done = xllm(["eval", "--model_args", "pretrained=/no/model", "--tasks", "xquad_xllm_arr"], tmp_path, env)
    assert_user_error(done, "eval", "xquad_xllm_arr", "did you mean 'xquad_xllm_ar'")


def test_eval_model_that_does_not_exist_is_named_and_nothing_is_written(tmp_path, env):
    out = tmp_path / "out"
    args = ["eval", "--model_args", "pretrained=/no/such/model", "--tasks", "xquad_xllm_ar", "-o", str(out)]
    done = xllm(args, tmp_path, env)
    assert_user_error(done, "eval", "/no/such/model", "no such folder")
    assert not out.exists()


def test_eval_model_folder_without_config(tmp_path, env):
    (tmp_path / "empty-model").mkdir()
    args = ["eval", "--model_args", "pretrained=empty-model", "--tasks", "xquad_xllm_ar"]
    assert_user_error(xllm(args, tmp_path, env), "eval", "empty-model", "config.json")


@pytest.mark.slow
def test_qa_data_without_answers_names_file_question_and_field(tmp_path, env, samples_dir, tiny_model):
    data = tmp_path / "data" / "xquad"
    data.mkdir(parents=True)
    squad = json.loads((samples_dir / "xquad" / "xquad.ar.json").read_text(encoding="utf-8"))
    qa = squad["data"][0]["paragraphs"][0]["qas"][0]
    del qa["answers"]
    (data / "xquad.ar.json").write_text(json.dumps(squad, ensure_ascii=False), encoding="utf-8")
    env = {**env, "XLLM_DATA_DIR": str(tmp_path / "data")}
    model_args = f"pretrained={tiny_model},dtype=float32"
    out = tmp_path / "out"
    args = ["eval", "--model_args", model_args, "--device", "cpu", "--tasks", "xquad_xllm_ar", "--limit", "2"]
    done = xllm([*args, "-o", str(out)], tmp_path, env)
    assert_user_error(done, "eval", "xquad.ar.json", qa["id"], "answers")
    assert not out.exists()
    # the bare lm_eval route prints lm-eval's own traceback, then our message as the last line
    lm_eval = Path(sys.executable).with_name("lm_eval")
    done = subprocess.run(
        [str(lm_eval), "--model", "hf", "--model_args", model_args, "--device", "cpu", "--tasks", "xquad_xllm_ar",
         "--limit", "2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert "xquad.ar.json" in last and qa["id"] in last and "answers" in last, done.stderr[-2000:]


# --- xllm data -----------------------------------------------------------------------------------


def test_data_fetch_unknown_source(tmp_path, env):
    assert_user_error(
        xllm(["data", "fetch", "xqaud"], tmp_path, env), "data", "xqaud", "did you mean 'xquad'"
    )


# --- xllm score ----------------------------------------------------------------------------------


def test_score_missing_folder(tmp_path, env):
    assert_user_error(xllm(["score", "no-such-run"], tmp_path, env), "score", "no-such-run")


def test_score_folder_without_samples(tmp_path, env):
    (tmp_path / "run").mkdir()
    assert_user_error(xllm(["score", "run"], tmp_path, env), "score", "run", "--log_samples")


def test_score_samples_file_that_is_not_json_lines(tmp_path, env):
    path = write_samples(tmp_path / "run", "flores_xllm_en-zh", ["{not json"])
    assert_user_error(xllm(["score", "run"], tmp_path, env), "score", path.name, ":1")


def test_score_samples_line_without_its_fields(tmp_path, env):
    path = write_samples(tmp_path / "run", "flores_xllm_en-zh", [json.dumps({"doc_id": 0})])
    assert_user_error(xllm(["score", "run"], tmp_path, env), "score", path.name, "doc")


def test_score_unknown_metric(tmp_path, env):
    write_samples(tmp_path / "run", "flores_xllm_en-zh", [json.dumps(SAMPLE_LINE)])
    done = xllm(["score", "run", "--metrics", "chrff"], tmp_path, env)
    assert_user_error(done, "score", "chrff", "did you mean 'chrf'")
    assert not list((tmp_path / "run").glob("xllm_scores_*"))


def test_score_missing_metric_model_when_nothing_else_was_asked(tmp_path, env):
    write_samples(tmp_path / "run", "flores_xllm_en-zh", [json.dumps(SAMPLE_LINE)])
    done = xllm(["score", "run", "--metrics", "comet", "--comet-model", "no-comet"], tmp_path, env)
    assert_user_error(done, "score", "no-comet")
    assert not list((tmp_path / "run").glob("xllm_scores_*"))


# --- xllm judge ----------------------------------------------------------------------------------


def test_judge_qa_missing_folder(tmp_path, env):
    args = ["judge", "qa", "no-such-run", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"]
    assert_user_error(xllm(args, tmp_path, env), "judge", "no-such-run")


def test_judge_pairwise_folder_without_samples(tmp_path, env):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    args = [
        "judge",
        "pairwise",
        "--a",
        "a",
        "--b",
        "b",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--model",
        "m",
    ]
    assert_user_error(xllm(args, tmp_path, env), "judge", "--log_samples")


def test_judge_unknown_backend(tmp_path, env):
    write_samples(tmp_path / "run", "xquad_xllm_ar", [json.dumps(SAMPLE_LINE)])
    args = ["judge", "qa", "run", "--judge", "opneai", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"]
    assert_user_error(xllm(args, tmp_path, env), "judge", "opneai")


# --- xllm train and data build -------------------------------------------------------------------


def test_train_missing_model(tmp_path, env, samples_dir):
    env = {**env, "XLLM_DATA_DIR": str(samples_dir)}
    args = ["train", "--model", "runs/x/nothing", "--output-dir", "out", "--data", "alpaca_en[:4]"]
    assert_user_error(xllm(args, tmp_path, env), "train", "runs/x/nothing", "no such folder")
    assert not (tmp_path / "out").exists()


def test_data_build_unknown_source_name(tmp_path, env, samples_dir):
    env = {**env, "XLLM_DATA_DIR": str(samples_dir)}
    done = xllm(["data", "build", "alpaca_enn", "-o", "built.jsonl"], tmp_path, env)
    assert_user_error(done, "data", "alpaca_enn", "did you mean")
    assert not (tmp_path / "built.jsonl").exists()


def test_train_allocation_file_of_the_wrong_shape(tmp_path, env, tiny_model, samples_dir):
    env = {**env, "XLLM_DATA_DIR": str(samples_dir)}
    (tmp_path / "allocation.json").write_text(json.dumps([1, 2, 3]), encoding="utf-8")
    args = ["train", "--model", str(tiny_model), "--output-dir", "out", "--allocation", "allocation.json"]
    assert_user_error(xllm(args, tmp_path, env), "train", "allocation.json")
    assert not (tmp_path / "out").exists()


# --- xllm analyze --------------------------------------------------------------------------------


def test_analyze_unknown_analyzer(tmp_path, env):
    done = xllm(["analyze", "scaling_laws"], tmp_path, env)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "scaling_law" in done.stderr.strip().splitlines()[-1]


def test_scaling_law_missing_points_file(tmp_path, env):
    args = ["analyze", "scaling_law", "--points", "points.csv", "--gamma", "0.5", "-o", "out"]
    assert_user_error(xllm(args, tmp_path, env), "analyze", "points.csv")
    assert not (tmp_path / "out").exists()


def test_scaling_law_points_missing_a_field(tmp_path, env):
    (tmp_path / "points.csv").write_text("language,data_size\nar,1000\nar,2000\nar,4000\n", encoding="utf-8")
    args = ["analyze", "scaling_law", "--points", "points.csv", "--gamma", "0.5", "-o", "out"]
    assert_user_error(xllm(args, tmp_path, env), "analyze", "points.csv", "score")
    assert not (tmp_path / "out").exists()


def test_scaling_law_score_out_of_range(tmp_path, env):
    rows = "language,data_size,score\nar,1000,170\nar,2000,173\nar,4000,176\n"
    (tmp_path / "points.csv").write_text(rows, encoding="utf-8")
    args = ["analyze", "scaling_law", "--points", "points.csv", "--gamma", "0.5", "-o", "out"]
    assert_user_error(xllm(args, tmp_path, env), "analyze", "points.csv", "row 2", "[0, 100]")
    assert not (tmp_path / "out").exists()


def test_allocator_laws_file_of_the_wrong_format(tmp_path, env):
    (tmp_path / "laws.json").write_text("alpha=1, beta=-0.5", encoding="utf-8")
    args = ["analyze", "allocator", "--laws", "laws.json", "--budget", "1000", "-o", "out"]
    assert_user_error(xllm(args, tmp_path, env), "analyze", "laws.json")
    assert not (tmp_path / "out").exists()


def test_similarity_unknown_language(tmp_path, env, tiny_model):
    args = ["analyze", "similarity", "--model", str(tiny_model), "--languages", "ar,xx", "-o", "out"]
    assert_user_error(xllm(args, tmp_path, env), "analyze", "xx")
    assert not (tmp_path / "out").exists()


# --- xllm leaderboard and compare ----------------------------------------------------------------


def test_leaderboard_missing_folder(tmp_path, env):
    assert_user_error(
        xllm(["leaderboard", "no-such-run", "-o", "board"], tmp_path, env), "leaderboard", "no-such-run"
    )
    assert not (tmp_path / "board").exists()


def test_leaderboard_strict_names_the_malformed_file(tmp_path, env):
    run = tmp_path / "run"
    run.mkdir()
    (run / "results_2026-01-01T00-00-00.000000.json").write_text("{broken", encoding="utf-8")
    done = xllm(["leaderboard", "run", "--strict", "-o", "board"], tmp_path, env)
    assert_user_error(done, "leaderboard", "results_2026-01-01T00-00-00.000000.json")
    assert not (tmp_path / "board").exists()


def test_compare_without_common_tasks(tmp_path, env):
    write_samples(tmp_path / "a", "flores_xllm_en-zh", [json.dumps(SAMPLE_LINE)])
    write_samples(tmp_path / "b", "flores_xllm_en-ar", [json.dumps(SAMPLE_LINE)])
    assert_user_error(xllm(["compare", "a", "b"], tmp_path, env), "compare", "a", "b")
    assert not list((tmp_path / "a").glob("compare_*"))


def test_compare_unknown_metric(tmp_path, env):
    for side in ("a", "b"):
        write_samples(tmp_path / side, "flores_xllm_en-zh", [json.dumps(SAMPLE_LINE)])
    done = xllm(["compare", "a", "b", "--metrics", "sbleu"], tmp_path, env)
    assert_user_error(done, "compare", "sbleu", "did you mean 'spbleu'")


@pytest.mark.parametrize(
    "option, value",
    [("--max-cost", "nan"), ("--limit", "0"), ("--max-retries", "-1"), ("--batch-poll-interval", "0")],
)
def test_judge_numeric_option_out_of_range(tmp_path, env, option, value):
    write_samples(tmp_path / "run", "xquad_xllm_ar", [json.dumps(SAMPLE_LINE)])
    args = ["judge", "qa", "run", "--base-url", "http://127.0.0.1:9/v1", option, value]
    assert_user_error(xllm(args, tmp_path, {**env, "OPENAI_API_KEY": "sk-x"}), "judge", option)
