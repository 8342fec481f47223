"""``xllm compare`` end to end: outputs of a real ``xllm eval --log_samples`` run of a tiny model."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

RUN = [sys.executable, "-m", "xllm_harness.cli"]
TASKS = "flores_xllm_en-zh,flores_xllm_zh-en"


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory, tiny_model, samples_dir, sacrebleu_home) -> tuple[Path, dict[str, str]]:
    """One real run: ``xllm eval`` on two FLORES directions (8 documents each) with --log_samples."""
    import os

    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "HF_DATASETS_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "PYTHONPATH": "",
        "XLLM_DATA_DIR": str(samples_dir),
        "SACREBLEU": str(sacrebleu_home),
    }
    out = tmp_path_factory.mktemp("eval") / "out"
    subprocess.run(
        [
            *(*RUN, "eval", "--model_args", f"pretrained={tiny_model},dtype=float32", "--device", "cpu"),
            *("--tasks", TASKS, "--limit", "8", "--gen_kwargs", "max_gen_toks=10"),
            *("--output_path", str(out), "--log_samples"),
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out, env


def xllm_compare(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*RUN, "compare", *map(str, args)], env=env, capture_output=True, text=True)


def test_compare_two_runs(tmp_path, evaluated):
    out, env = evaluated
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(out, a)
    shutil.copytree(out, b)
    (model_b,) = {p.parent for p in b.rglob("samples_*.jsonl")}
    for path in model_b.glob("samples_flores_xllm_en-zh_*.jsonl"):  # B: the references themselves
        lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        for line in lines:
            line["filtered_resps"] = [line["doc"]["target"]]
        path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")

    done = xllm_compare(env, a, b, "--resamples", "200", "--alpha", "0.1")
    assert done.returncode == 0, done.stderr
    (written,) = a.rglob("compare_*.json")
    assert written.parent == next(a.rglob("samples_*.jsonl")).parent  # beside A's samples
    assert f"wrote {written}" in done.stdout
    report = json.loads(written.read_text(encoding="utf-8"))
    assert report["a"] == str(a.resolve()) and report["b"] == str(b.resolve()) and report["alpha"] == 0.1
    rows = {(c["task"], c["metric"]): c for c in report["comparisons"]}
    assert {(t, m) for t in TASKS.split(",") for m in ("spbleu", "chrf")} <= set(rows)
    for entry in report["skipped"]:  # a default metric that cannot be computed is named, with its reason
        assert entry["reason"] and f"{entry['task']} {entry['metric']}: not compared" in done.stdout
    for row in (rows[k] for k in rows if k[1] in ("spbleu", "chrf")):
        assert {"test", "a", "b", "delta", "ci", "p", "p_holm", "significant", "n"} <= set(row)
        assert row["test"] == "paired bootstrap" and row["n"] == 8 and len(row["ci"]) == 2
        assert row["delta"] == row["b"] - row["a"] and row["p_holm"] >= row["p"]
    for metric in ("spbleu", "chrf"):
        same = rows[("flores_xllm_zh-en", metric)]  # identical outputs: never significant
        assert (same["delta"], same["p"], same["significant"]) == (0.0, 1.0, False)
        assert rows[("flores_xllm_en-zh", metric)]["b"] == pytest.approx(100.0)
    header = done.stdout.splitlines()[0].split()
    assert header[:4] == ["task", "metric", "test", "A"]


def test_bad_input_is_one_line_and_exit_2(tmp_path, evaluated):
    out, env = evaluated
    for args, message in (
        ((out, tmp_path / "missing"), "not a folder"),
        ((out, out, "--metrics", "spbleuu"), "did you mean 'spbleu'"),
        ((out, out, "--tasks", "xquad_xllm_ar"), "matches no task present in both"),
        ((out, out, "--resamples", "0"), "--resamples must be at least 1"),
        ((out, out, "--alpha", "5"), "--alpha must be between 0 and 1"),
    ):
        done = xllm_compare(env, *args)
        assert done.returncode == 2, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("xllm compare: error: ") and message in lines[0], lines
    assert not list(out.rglob("compare_*.json"))
