"""The three routes into lm-eval: bare ``lm_eval --tasks``, ``--include_path "$(xllm tasks-dir)"``, ``xllm eval``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from xllm_harness.testing.data_layouts import lay_out_qa_data

METRICS = {"match,none", "exact_match,none", "f1,none"}


def results_json(out_dir: Path) -> dict:
    files = sorted(out_dir.rglob("results_*.json"))
    assert files, f"no results_*.json under {out_dir}"
    return json.loads(files[-1].read_text(encoding="utf-8"))


def lm_eval(args: list[str], cwd: Path, env: dict, timeout: int = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "lm_eval", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def model_args(model: Path) -> list[str]:
    return ["--model", "hf", "--model_args", f"pretrained={model},dtype=float32", "--device", "cpu"]


def test_hook_costs_nothing_until_lm_eval_is_imported(tmp_path, subprocess_env):
    code = "import sys; print(sorted(m for m in ('_xllm_harness_lm_eval_hook', 'xllm_harness', 'lm_eval') if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=subprocess_env, capture_output=True, text=True
    )
    assert out.stdout.strip() == "['_xllm_harness_lm_eval_hook']", out.stderr


@pytest.mark.slow
def test_bare_lm_eval_runs_our_tasks_on_real_xquad(tiny_model, shared_data, tmp_path, subprocess_env):
    subprocess_env["XLLM_DATA_DIR"] = str(lay_out_qa_data(shared_data, tmp_path / "data"))
    out = lm_eval(
        [
            *model_args(tiny_model),
            "--tasks",
            "xquad_xllm_ar,mlqa_xllm_zh",
            "--limit",
            "5",
            "--gen_kwargs",
            "max_gen_toks=24",
            "--output_path",
            str(tmp_path / "out"),
        ],
        tmp_path,
        subprocess_env,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    results = results_json(tmp_path / "out")["results"]
    for task in ("xquad_xllm_ar", "mlqa_xllm_zh"):
        assert set(results[task]) >= METRICS, results[task]
        assert all(0.0 <= results[task][m] <= 1.0 for m in METRICS)
    assert results_json(tmp_path / "out")["n-samples"]["xquad_xllm_ar"]["effective"] == 5


@pytest.mark.slow
def test_include_path_route_and_the_off_switch(tiny_model, samples_dir, tmp_path, subprocess_env):
    subprocess_env["XLLM_DATA_DIR"] = str(samples_dir)
    subprocess_env["XLLM_HARNESS_LM_EVAL_HOOK"] = "0"
    args = [
        *model_args(tiny_model),
        "--tasks",
        "xquad_xllm_el,flores_xllm_en-el",
        "--limit",
        "2",
        "--gen_kwargs",
        "max_gen_toks=8",
    ]
    off = lm_eval(args, tmp_path, subprocess_env)
    assert off.returncode != 0  # hook switched off: lm-eval does not know our tasks
    assert "xquad_xllm_el" in off.stderr + off.stdout
    tasks_dir = subprocess.run(
        [sys.executable, "-m", "xllm_harness.cli", "tasks-dir"],
        cwd=tmp_path,
        env=subprocess_env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert (Path(tasks_dir) / "xquad_xllm" / "xquad_xllm_el.yaml").exists()
    on = lm_eval(
        [*args, "--include_path", tasks_dir, "--output_path", str(tmp_path / "out")], tmp_path, subprocess_env
    )
    assert on.returncode == 0, on.stderr[-3000:]
    saved = results_json(tmp_path / "out")["results"]
    assert set(saved["xquad_xllm_el"]) >= METRICS
    # the signatures are in the saved results, not rows of the printed table (as on the other routes)
    assert saved["flores_xllm_en-el"]["chrf_signature,none"].startswith("nrefs:1")
    assert "chrf" in on.stdout and "_signature" not in on.stdout


@pytest.mark.slow
def test_xllm_eval_in_process_writes_lm_eval_layout(tiny_model, samples_dir, tmp_path, monkeypatch, capsys):
    from xllm_harness.cli import main

    monkeypatch.setenv("XLLM_DATA_DIR", str(samples_dir))
    code = main(
        [
            "eval",
            "--model_args",
            f"pretrained={tiny_model},dtype=float32",
            "--device",
            "cpu",
            "--tasks",
            "xquad_xllm_vi",
            "--limit",
            "3",
            "--gen_kwargs",
            "max_gen_toks=8",
            "--output_path",
            str(tmp_path / "out"),
            "--log_samples",
        ]
    )
    assert code == 0
    assert "xquad_xllm_vi" in capsys.readouterr().out
    results = results_json(tmp_path / "out")
    assert set(results["results"]["xquad_xllm_vi"]) >= METRICS
    samples = sorted((tmp_path / "out").rglob("samples_xquad_xllm_vi_*.jsonl"))
    lines = samples[0].read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert json.loads(lines[0])["doc"]["lang"] == "vi"


def test_xllm_eval_rejects_unknown_tasks(capsys):
    from xllm_harness.cli import main

    assert main(["eval", "--model_args", "pretrained=x", "--tasks", "xquad_xllm_xx"]) == 2
    assert "unknown task 'xquad_xllm_xx'" in capsys.readouterr().err


def test_our_aggregations_have_no_bootstrapped_stderr():
    """lm-eval 0.5 bootstraps the stderr of every aggregation but ``mean`` (100k resamples, in a process
    pool); ours (corpus scores, signature strings) report N/A on every version, lm-eval's own still
    get theirs."""
    import lm_eval.api.metrics as metrics

    from xllm_harness.tasks import flores_utils, qa_utils

    for aggregation in (flores_utils.agg_spbleu, flores_utils.agg_chrf_signature, qa_utils.agg_f1_signature):
        assert metrics.stderr_for_metric(aggregation, bootstrap_iters=1000) is None
    assert metrics.stderr_for_metric(metrics.median, bootstrap_iters=1000) is not None
    assert metrics.stderr_for_metric(metrics.mean, bootstrap_iters=1000) is not None
