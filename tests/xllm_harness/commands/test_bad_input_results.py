"""Bad input to the readers of ``xllm_harness/results/``, by class, through the real command line.

lm-eval results and samples files (types and shapes of every field read, non-UTF-8 bytes, duplicate
documents, a samples file cut short against its run's ``n-samples``, several runs in one folder),
``xllm_scores`` files, judge results and details (NaN, out-of-range and mistyped values), and output
locations that cannot be written. ``xllm score`` and ``xllm compare`` end with exit 2 and one line
naming the file, the line or field (no traceback, nothing written); ``xllm leaderboard`` skips a bad
file with a warning naming it (``--strict``: exit 2).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.xllm_harness.commands.test_bad_input import assert_user_error, xllm

STAMP = "2026-01-01T00-00-00.000000"
LATER = "2026-01-02T00-00-00.000000"
TASK = "flores_xllm_en-zh"
SOURCES = ["the cat sat on the mat", "a dog runs", "rain falls today", "we eat rice", "birds sing"]
TARGETS = ["猫坐在垫子上", "一只狗在跑", "今天下雨", "我们吃米饭", "鸟儿在唱歌"]


@pytest.fixture
def env(subprocess_env, tmp_path) -> dict[str, str]:
    return {**subprocess_env, "XLLM_CACHE_DIR": str(tmp_path / "cache"), "OPENAI_API_KEY": "sk-test-unused"}


def line(i: int, output: str | None = None, **change) -> dict:
    record = {
        "doc_id": i,
        "doc": {"source": SOURCES[i], "target": TARGETS[i], "src_lang": "en", "tgt_lang": "zh"},
        "target": TARGETS[i],
        "resps": [[output or TARGETS[i]]],
        "filtered_resps": [output or TARGETS[i]],
        "filter": "none",
    }
    record.update(change)
    return record


def write_run(
    folder: Path,
    lines: list,
    stamp: str = STAMP,
    n: int | None = None,
    model_args: str = "pretrained=/m/tiny",
    task: str = TASK,
) -> Path:
    """One lm-eval run: ``results_<stamp>.json`` (recording ``n`` documents) and its samples file."""
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n" for r in lines)
    (folder / f"samples_{task}_{stamp}.jsonl").write_text(text, encoding="utf-8")
    results = {
        "results": {task: {"alias": task}},
        "config": {"model": "hf", "model_args": model_args},
        "n-samples": {task: {"original": 1012, "effective": len(lines) if n is None else n}},
    }
    (folder / f"results_{stamp}.json").write_text(json.dumps(results), encoding="utf-8")
    return folder


def outputs(folder: Path, kind: str) -> list[Path]:
    return sorted(folder.rglob(f"{kind}_*.json"))


# --- samples and results files: xllm score and xllm compare refuse them, naming file, line, field ---------

SAMPLES_CASES = {
    "non-UTF-8 byte": (
        lambda: [line(0), '{"doc_id": 1, "doc": "\udcff"}'],
        f"samples_{TASK}_{STAMP}.jsonl:2",
    ),
    "record not an object": (lambda: [line(0), "[1, 2]"], ":2: a JSON list"),
    "doc_id a string": (lambda: [line(0), line(1, doc_id="1")], "'doc_id' is '1'"),
    "doc_id a boolean": (lambda: [line(0), line(1, doc_id=True)], "'doc_id' is True"),
    "doc not an object": (lambda: [line(0), line(1, doc="text")], "'doc' is a str"),
    "filter not a name": (lambda: [line(0), line(1, filter=3)], "'filter' is 3"),
    "filtered_resps absent": (
        lambda: [line(0), {k: v for k, v in line(1).items() if k != "filtered_resps"}],
        "no 'filtered_resps'",
    ),
    "doc_id twice": (lambda: [line(0), line(1), line(1)], "doc_id 1 twice (first on line 2)"),
}


def _raw(folder: Path, lines: list) -> None:
    """Write ``lines`` as they are; a line holding a lone surrogate is written with a raw 0xff byte."""
    write_run(folder, [line(0)])
    path = folder / f"samples_{TASK}_{STAMP}.jsonl"
    data = b"".join(
        (r.encode("utf-8", "surrogateescape") if isinstance(r, str) else json.dumps(r).encode()) + b"\n"
        for r in lines
    )
    path.write_bytes(data)
    results = json.loads((folder / f"results_{STAMP}.json").read_text())
    results["n-samples"][TASK]["effective"] = len({r["doc_id"] for r in lines if isinstance(r, dict)})
    (folder / f"results_{STAMP}.json").write_text(json.dumps(results))


@pytest.mark.parametrize("case", list(SAMPLES_CASES))
def test_score_refuses_a_wrong_samples_file_naming_it(tmp_path, env, case):
    make, named = SAMPLES_CASES[case]
    _raw(tmp_path / "m", make())
    done = xllm(["score", str(tmp_path / "m"), "--metrics", "chrf"], tmp_path, env)
    assert_user_error(done, "score", f"samples_{TASK}_{STAMP}.jsonl", named)
    assert outputs(tmp_path, "xllm_scores") == []  # nothing written


@pytest.mark.parametrize("case", ["doc_id twice", "doc_id a string", "non-UTF-8 byte"])
def test_compare_refuses_a_wrong_samples_file_naming_it(tmp_path, env, case):
    make, named = SAMPLES_CASES[case]
    write_run(tmp_path / "a", [line(i) for i in range(3)])
    _raw(tmp_path / "b", make())
    done = xllm(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--resamples", "50"], tmp_path, env)
    assert_user_error(done, "compare", str(tmp_path / "b"), named)
    assert outputs(tmp_path, "compare") == []


RESULTS_CASES = {
    "config a list": (lambda r: r.update(config=[1]), "field config is a list"),
    "model_args a number": (lambda r: r["config"].update(model_args=3), "field config.model_args is 3"),
    "n-samples a number": (lambda r: r["n-samples"].update({TASK: 5}), f"field n-samples.{TASK} is 5"),
    "effective not a count": (
        lambda r: r["n-samples"][TASK].update(effective="3"),
        f"field n-samples.{TASK}.effective is '3'",
    ),
    "effective above original": (
        lambda r: r["n-samples"][TASK].update(effective=2000),
        "effective 2000 > original 1012",
    ),
    "results entry not an object": (
        lambda r: r["results"].update({TASK: 0.5}),
        f"field results.{TASK} is a float",
    ),
}


@pytest.mark.parametrize("case", list(RESULTS_CASES))
def test_score_refuses_a_wrong_results_file_naming_the_field(tmp_path, env, case):
    change, named = RESULTS_CASES[case]
    write_run(tmp_path / "m", [line(i) for i in range(3)])
    path = tmp_path / "m" / f"results_{STAMP}.json"
    results = json.loads(path.read_text())
    change(results)
    path.write_text(json.dumps(results))
    done = xllm(["score", str(tmp_path / "m"), "--metrics", "chrf"], tmp_path, env)
    assert_user_error(done, "score", f"results_{STAMP}.json", named)
    assert outputs(tmp_path, "xllm_scores") == []


def test_a_results_file_that_is_not_utf8_is_named_with_its_line(tmp_path, env):
    write_run(tmp_path / "m", [line(i) for i in range(3)])
    path = tmp_path / "m" / f"results_{STAMP}.json"
    path.write_bytes(path.read_bytes().replace(b'"alias"', b'"al\xe9as"'))
    done = xllm(["score", str(tmp_path / "m"), "--metrics", "chrf"], tmp_path, env)
    assert_user_error(done, "score", f"results_{STAMP}.json:1", "not UTF-8", "0xe9")


# --- a samples file cut short: incomplete, its numbers missing with that reason -------------------------


def test_score_records_a_samples_file_cut_short_as_missing_with_the_reason(tmp_path, env):
    folder = write_run(tmp_path / "m", [line(i) for i in range(3)], n=5)  # 3 of 5 lines: killed while writing
    write_run(folder, [line(i) for i in range(4)], task="flores_xllm_zh-en")
    (folder / f"samples_flores_xllm_zh-en_{STAMP}.jsonl").write_text(
        "".join(
            json.dumps({**line(i), "doc": {"source": TARGETS[i], "target": SOURCES[i], "src_lang": "zh",
                                           "tgt_lang": "en"}, "filtered_resps": [SOURCES[i]]}) + "\n"
            for i in range(4)
        ),
        encoding="utf-8",
    )  # fmt: skip
    results = json.loads((folder / f"results_{STAMP}.json").read_text())
    results["results"][TASK] = {"alias": TASK}
    results["n-samples"][TASK] = {"original": 1012, "effective": 5}
    (folder / f"results_{STAMP}.json").write_text(json.dumps(results))
    done = xllm(["score", str(folder), "--metrics", "chrf"], tmp_path, env)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr  # the asked metric is missing
    assert f"samples_{TASK}_{STAMP}.jsonl: incomplete: 3 documents" in done.stderr
    (scores,) = outputs(tmp_path, "xllm_scores")
    payload = json.loads(scores.read_text())
    assert TASK not in payload["results"] and "incomplete" in payload["errors"][TASK]["chrf"]
    assert payload["results"]["flores_xllm_zh-en"]["chrf"] == pytest.approx(100.0, abs=1e-9)
    board = xllm(["leaderboard", str(folder), "--no-intervals", "--no-reported"], tmp_path, env)
    assert board.returncode == 0, board.stderr
    assert "n-samples 5" in board.stdout  # the cell is missing, with the reason under the table


def test_compare_refuses_a_samples_file_cut_short(tmp_path, env):
    write_run(tmp_path / "a", [line(i) for i in range(5)])
    write_run(tmp_path / "b", [line(i) for i in range(3)], n=5)
    done = xllm(["compare", str(tmp_path / "a"), str(tmp_path / "b")], tmp_path, env)
    assert_user_error(
        done, "compare", f"{tmp_path / 'b'}/samples_{TASK}_{STAMP}.jsonl", "incomplete", "n-samples 5"
    )


# --- several runs in one folder ----------------------------------------------------------------------


def test_compare_refuses_a_folder_of_several_runs_unless_told_which(tmp_path, env):
    write_run(tmp_path / "a", [line(i) for i in range(5)], STAMP, model_args="pretrained=/m/a,dtype=float32")
    write_run(
        tmp_path / "a", [line(i, "x") for i in range(5)], LATER, model_args="pretrained=/m/a,dtype=float16"
    )
    write_run(tmp_path / "b", [line(i) for i in range(5)])
    args = ["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--resamples", "50", "--metrics", "chrf"]
    done = xllm(args, tmp_path, env)
    assert_user_error(done, "compare", str(tmp_path / "a"), "2 runs", STAMP, LATER, "--run-a")
    assert outputs(tmp_path, "compare") == []
    unknown = xllm([*args, "--run-a", "2026-05-05T00-00-00.000000"], tmp_path, env)
    assert_user_error(unknown, "compare", "--run-a 2026-05-05T00-00-00.000000", STAMP, LATER)
    chosen = xllm([*args, "--run-a", STAMP], tmp_path, env)
    assert chosen.returncode == 0, chosen.stderr
    (report,) = outputs(tmp_path, "compare")
    payload = json.loads(report.read_text())
    assert payload["runs"]["a"]["timestamp"] == STAMP
    (row,) = payload["comparisons"]
    assert row["a"] == pytest.approx(row["b"], abs=1e-9)  # the run of identical outputs, not the other one
    by_file = xllm([*args[:1], str(tmp_path / "a" / f"results_{LATER}.json"), *args[2:]], tmp_path, env)
    assert by_file.returncode == 0, by_file.stderr


# --- xllm_scores and judge files: the leaderboard skips them with a warning naming file and field -------

SCORES_CASES = {
    "score a string": ({"results": {TASK: {"chrf": "55.0"}}}, f"field results.{TASK}.chrf is '55.0'"),
    "statistics of other documents": (
        {
            "results": {TASK: {"chrf": 50.0}},
            "doc_ids": {TASK: [0, 1, 2]},
            "statistics": {TASK: {"chrf": [[1.0, 2.0], [3.0, 1.0]]}},
        },
        "one row per document (3)",
    ),
    "doc_ids twice": (
        {"results": {TASK: {"chrf": 1.0}}, "doc_ids": {TASK: [0, 0]}},
        "names a document twice",
    ),
    "num_samples negative": ({"results": {TASK: {"chrf": 1.0}}, "num_samples": {TASK: -1}}, "num_samples"),
    "signature a number": (
        {"results": {TASK: {"chrf": 1.0}}, "signatures": {TASK: {"chrf": 3}}},
        f"field signatures.{TASK}.chrf is 3",
    ),
}


@pytest.mark.parametrize("case", list(SCORES_CASES))
def test_leaderboard_skips_a_wrong_scores_file_with_a_warning_naming_it(tmp_path, env, case):
    payload, named = SCORES_CASES[case]
    folder = tmp_path / "m"
    folder.mkdir()
    bad = folder / f"xllm_scores_{LATER}.json"
    bad.write_text(json.dumps({"model_name": "/m/tiny", **payload}))
    good = tmp_path / "g"
    write_run(good, [line(i) for i in range(3)])
    results = json.loads((good / f"results_{STAMP}.json").read_text())
    results["results"][TASK]["chrf,none"] = 61.0
    (good / f"results_{STAMP}.json").write_text(json.dumps(results))
    done = xllm(["leaderboard", str(tmp_path), "--no-intervals", "--no-reported"], tmp_path, env)
    assert done.returncode == 0, done.stderr
    warning = next(w for w in done.stderr.splitlines() if str(bad) in w)
    assert "skipped" in warning and named in warning, warning
    assert "61.0" in done.stdout  # the other files still make the board
    strict = xllm(["leaderboard", str(tmp_path), "--no-intervals", "--strict"], tmp_path, env)
    assert_user_error(strict, "leaderboard", str(bad), named)


def test_a_non_finite_score_is_a_missing_cell_with_its_reason_and_the_file_still_counts(tmp_path, env):
    """An older ``xllm score`` wrote NaN: that number is missing with its reason (never shown as a
    number); the file's other numbers are shown."""
    folder = tmp_path / "m"
    folder.mkdir()
    bad = folder / f"xllm_scores_{LATER}.json"
    results = {TASK: {"chrf": float("nan"), "spbleu": 12.5}}
    bad.write_text(json.dumps({"model_name": "/m/tiny", "results": results}))
    done = xllm(["leaderboard", str(tmp_path), "--no-intervals", "--no-reported"], tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert "12.5" in done.stdout
    assert "chrf is nan, not a finite number" in done.stdout + done.stderr
    assert not any(str(bad) in w and "skipped" in w for w in done.stderr.splitlines())


JUDGE_CASES = {
    "accuracy above 1": ({"judge_accuracy": 1.5}, None, "judge_accuracy is 1.5"),
    "accuracy a string": ({"judge_accuracy": "0.5"}, None, "judge_accuracy is '0.5'"),
    "detail doc_id a string": (
        {"judge_accuracy": 0.5},
        [{"task": "xquad_xllm_ar", "doc_id": "7", "verdict": "YES"}],
        ".details.jsonl:1: field doc_id is '7'",
    ),
    "detail verdict unknown": (
        {"judge_accuracy": 0.5},
        [{"task": "xquad_xllm_ar", "doc_id": 7, "verdict": "MAYBE"}],
        ".details.jsonl:1: field verdict is 'MAYBE'",
    ),
    "detail twice": (
        {"judge_accuracy": 0.5},
        [{"task": "xquad_xllm_ar", "doc_id": 7, "verdict": "YES"}] * 2,
        ".details.jsonl:2: task xquad_xllm_ar doc_id 7 twice",
    ),
}


@pytest.mark.parametrize("case", list(JUDGE_CASES))
def test_leaderboard_skips_a_wrong_judge_file_with_a_warning_naming_it(tmp_path, env, case):
    row, details, named = JUDGE_CASES[case]
    folder = tmp_path / "m"
    folder.mkdir()
    judge = folder / f"judge_qa_{LATER}.json"
    judge.write_text(json.dumps({"model_name": "/m/tiny", "results": {"xquad_xllm_ar": row}}))
    if details is not None:
        judge.with_suffix(".details.jsonl").write_text("".join(json.dumps(d) + "\n" for d in details))
    done = xllm(["leaderboard", str(tmp_path), "--no-intervals", "--no-reported"], tmp_path, env)
    warning = next((w for w in done.stderr.splitlines() if str(judge) in w), "")
    assert "skipped" in warning and named in warning, done.stderr


def test_leaderboard_skips_a_scores_file_that_is_not_utf8(tmp_path, env):
    folder = tmp_path / "m"
    folder.mkdir()
    bad = folder / f"xllm_scores_{LATER}.json"
    bad.write_bytes(b'{"model_name": "/m/t",\n "results": {"x\xff": {}}}')
    done = xllm(["leaderboard", str(tmp_path), "--no-intervals", "--strict"], tmp_path, env)
    assert_user_error(done, "leaderboard", f"{bad}:2", "not UTF-8")


# --- output locations that cannot be written: named before any work ---------------------------------------


def test_leaderboard_output_under_a_file_is_named_before_any_work(tmp_path, env):
    write_run(tmp_path / "m", [line(i) for i in range(3)])
    (tmp_path / "taken").write_text("a file")
    done = xllm(["leaderboard", str(tmp_path / "m"), "-o", str(tmp_path / "taken" / "board")], tmp_path, env)
    assert_user_error(done, "leaderboard", str(tmp_path / "taken"), "cannot be written")
    assert "intervals" not in done.stderr  # no bootstrap before the check


def test_judge_output_under_a_file_is_named_before_any_judge_call(tmp_path, env):
    folder = tmp_path / "m"
    folder.mkdir()
    doc = {"context": "c", "question": "q", "answers": ["a"], "lang": "ar"}
    (folder / f"samples_xquad_xllm_ar_{STAMP}.jsonl").write_text(
        json.dumps({"doc_id": 0, "doc": doc, "filtered_resps": ["a"], "target": "a"}) + "\n"
    )
    (tmp_path / "taken").write_text("a file")
    args = [
        "judge",
        "qa",
        str(folder),
        "-o",
        str(tmp_path / "taken" / "out"),
        "--base-url",
        "http://127.0.0.1:9",
    ]
    done = xllm(args, tmp_path, env)
    assert_user_error(done, "judge", str(tmp_path / "taken" / "out"), "cannot be written")
    assert not list(tmp_path.rglob("judge_qa_*"))
