"""``xllm eval`` is lm-eval's ``run`` command over our task index: its options, kill-and-resume with
``--use_cache`` on both routes, one-line errors for bad models and task names, quiet output."""

from __future__ import annotations

import argparse
import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xllm_harness.bridge.internals import run_command
from xllm_harness.cli import build_parser, main

LIMIT = 12
CACHED = re.compile(r"Cached requests: (\d+), Requests remaining: (\d+)")


def run_parser() -> argparse.ArgumentParser:
    """The parser of ``lm_eval run``, as lm-eval's own CLI builds it (its internals: this test's oracle)."""
    from lm_eval._cli.harness import HarnessCLI

    return HarnessCLI()._subparsers.choices["run"]


def eval_parser() -> argparse.ArgumentParser:
    (commands,) = (a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices["eval"]


def test_every_lm_eval_run_option_is_an_xllm_eval_option():
    theirs = {s for a in run_parser()._actions for s in a.option_strings}
    ours = {s for a in eval_parser()._actions for s in a.option_strings}
    assert theirs <= ours, sorted(theirs - ours)
    for option in ("--use_cache", "--cache_requests", "--wandb_args", "--hf_hub_log_args", "--config"):
        assert option in ours
    assert {"--include_defaults", "--debug"} <= ours


def record_and_save(seen: dict):
    """Stands in for lm-eval's run: records the namespace it gets and writes what lm-eval writes for
    one task with samples (a results file, a samples file), which ``xllm eval`` checks afterwards."""

    def execute(args) -> None:
        seen.update(vars(args))
        folder = Path(args.output_path) / "model"
        folder.mkdir(parents=True, exist_ok=True)
        date = "2026-01-01T00-00-00.000000"
        counts = {"n-samples": {"xquad_xllm_ar": {"original": 0, "effective": 0}}}
        (folder / f"results_{date}.json").write_text(json.dumps(counts), encoding="utf-8")
        (folder / f"samples_xquad_xllm_ar_{date}.jsonl").write_text("", encoding="utf-8")

    return staticmethod(execute)


def test_lm_eval_options_reach_lm_eval(tmp_path, monkeypatch):
    """The namespace handed to lm-eval's run is lm-eval's own reading of the options."""
    seen = {}
    monkeypatch.setattr(run_command(), "_execute", record_and_save(seen))
    config = tmp_path / "run.yaml"
    config.write_text("num_fewshot: 0\n", encoding="utf-8")
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}", encoding="utf-8")
    argv = [
        "eval", "--model_args", f"pretrained={model}", "--tasks", "xquad_xllm_ar", "--config", str(config),
        "--use_cache", str(tmp_path / "cache"), "--cache_requests", "--system_instruction", "Be brief.",
        "--predict_only", "--output_path", str(tmp_path / "out"), "--wandb_args", "project=p",
        "--hf_hub_log_args", "hub_results_org=o",
    ]  # fmt: skip
    assert main(argv) == 0
    assert seen["use_cache"] == str(tmp_path / "cache")
    assert seen["cache_requests"] == {
        "cache_requests": True,
        "rewrite_requests_cache": False,
        "delete_requests_cache": False,
    }
    assert seen["system_instruction"] == "Be brief."
    assert seen["predict_only"] is True
    assert seen["wandb_args"] == {"project": "p"}
    assert seen["hf_hub_log_args"] == {"hub_results_org": "o"}
    assert "include_defaults" not in seen and "debug" not in seen


def test_reproduce_x_llm_turns_the_stop_strings_off(tmp_path, monkeypatch):
    seen = {}
    monkeypatch.setattr(run_command(), "_execute", staticmethod(lambda args: seen.update(vars(args))))
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}", encoding="utf-8")
    base = ["eval", "--model_args", f"pretrained={model}", "--tasks", "xquad_xllm_ar"]
    assert main([*base, "--metadata", '{"reproduce": "x-llm"}', "--gen_kwargs", "temperature=0"]) == 0
    assert seen["gen_kwargs"] == {"temperature": 0, "until": None}
    assert main([*base, "--metadata", '{"reproduce": "x-llm"}', "--gen_kwargs", "until=['END']"]) == 0
    assert seen["gen_kwargs"] == {"until": ["END"]}  # the user's own until wins
    assert main(base) == 0
    assert not seen["gen_kwargs"]


@pytest.mark.parametrize(
    ("model_arg", "message"),
    [
        ("/nonexistent/model-dir", "pretrained=/nonexistent/model-dir: no such folder"),
        ("{empty}", "has no config.json"),
        ("someorg/not-cached-model", "not in the Hugging Face cache"),
    ],
)
def test_a_model_that_cannot_load_is_one_line(tmp_path, capsys, model_arg, message):
    (tmp_path / "empty").mkdir()
    pretrained = model_arg.format(empty=tmp_path / "empty")
    code = main(["eval", "--model_args", f"pretrained={pretrained}", "--tasks", "xquad_xllm_ar"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("xllm eval: error: ") and message in err, err


def test_unknown_task_gets_did_you_mean(tmp_path, capsys):
    assert main(["eval", "--model_args", "pretrained=x", "--tasks", "xquad_xllm_ar,xquad_xlm_vi"]) == 2
    err = capsys.readouterr().err
    assert "unknown task 'xquad_xlm_vi' (did you mean 'xquad_xllm_vi'" in err
    assert err.count("\n") == 1


def test_lm_eval_option_errors_are_one_line(capsys):
    assert main(["eval", "--model_args", "pretrained=x", "--tasks", "xquad_xllm_ar", "--log_samples"]) == 2
    err = capsys.readouterr().err
    assert err == "xllm eval: error: Specify --output_path if providing --log_samples or --predict_only\n"


def test_no_tasks_is_one_line(capsys):
    assert main(["eval", "--model_args", "pretrained=x"]) == 2
    assert "--tasks: name at least one task" in capsys.readouterr().err


def test_help_describes_use_cache_and_ends_with_an_example():
    text = eval_parser().format_help()
    assert "--use_cache" in text and "killed" in text
    assert text.rstrip().splitlines()[-1].strip().startswith("--device cpu --tasks xquad_xllm_ar")


def cache_rows(db: Path) -> int:
    if not db.is_file():
        return 0
    with sqlite3.connect(db) as conn:
        try:
            return conn.execute("SELECT COUNT(*) FROM unnamed").fetchone()[0]
        except sqlite3.OperationalError:  # table not created yet
            return 0


ROUTES = {
    "xllm eval": [sys.executable, "-m", "xllm_harness.cli", "eval", "-v", "INFO"],
    "lm_eval": [sys.executable, "-m", "lm_eval", "run"],
}


@pytest.mark.slow
@pytest.mark.parametrize("route", list(ROUTES))
def test_killed_run_resumes_from_the_cache(route, tiny_model, samples_dir, tmp_path, subprocess_env):
    """SIGKILL halfway, rerun: lm-eval hands the model only the requests that were not finished."""
    subprocess_env["XLLM_DATA_DIR"] = str(samples_dir)
    cache = tmp_path / "cache" / "tiny"
    db = Path(f"{cache}_rank0.db")
    command = [
        *ROUTES[route], "--model", "hf", "--model_args", f"pretrained={tiny_model},dtype=float32",
        "--device", "cpu", "--tasks", "xquad_xllm_ar", "--limit", str(LIMIT), "--batch_size", "1",
        "--gen_kwargs", "max_gen_toks=48", "--use_cache", str(cache), "--output_path", str(tmp_path / "out"),
    ]  # fmt: skip
    first = subprocess.Popen(
        command, cwd=tmp_path, env=subprocess_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 300
    while cache_rows(db) < 3 and first.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    assert first.wait() == -signal.SIGKILL, "the first run finished before it could be killed"
    done = cache_rows(db)
    assert 3 <= done < LIMIT
    assert not list((tmp_path / "out").rglob("results_*.json"))

    second = subprocess.run(command, cwd=tmp_path, env=subprocess_env, capture_output=True, text=True)
    assert second.returncode == 0, second.stderr[-3000:]
    found = CACHED.findall(second.stdout + second.stderr)
    assert found == [(str(done), str(LIMIT - done))], (second.stderr[-3000:], done)
    assert cache_rows(db) == LIMIT  # the model generated exactly the missing ones
    results = json.loads(next((tmp_path / "out").rglob("results_*.json")).read_text(encoding="utf-8"))
    assert results["n-samples"]["xquad_xllm_ar"]["effective"] == LIMIT


NOISE = ("Custom kwargs can be passed", "fatal: not a git repository", "pkg_resources is deprecated")


@pytest.mark.slow
@pytest.mark.parametrize("route", list(ROUTES))
def test_a_real_run_is_quiet(route, tiny_model, samples_dir, tmp_path, subprocess_env):
    """Outside a git checkout, output not a terminal: no library noise, no signature rows, and for
    `xllm eval` no carriage returns; the signatures stay in the results file."""
    subprocess_env["XLLM_DATA_DIR"] = str(samples_dir)
    command = [
        *[part for part in ROUTES[route] if part not in ("-v", "INFO")], "--model", "hf",
        "--model_args", f"pretrained={tiny_model},dtype=float32", "--device", "cpu",
        "--tasks", "xquad_xllm_ar,flores_xllm_en-ar", "--limit", "2", "--gen_kwargs", "max_gen_toks=4",
        "--metadata", '{"metrics": "chrf"}', "--output_path", str(tmp_path / "out"),
    ]  # fmt: skip
    out = subprocess.run(command, cwd=tmp_path, env=subprocess_env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    screen = out.stdout + out.stderr
    assert not [noise for noise in NOISE if noise in screen], screen
    assert "|flores_xllm_en-ar" in out.stdout and "chrf" in out.stdout
    assert "_signature" not in out.stdout
    results = json.loads(next((tmp_path / "out").rglob("results_*.json")).read_text(encoding="utf-8"))
    assert results["results"]["flores_xllm_en-ar"]["chrf_signature,none"].startswith("nrefs:1")
    if route == "xllm eval":
        assert "\r" not in screen
        assert "Running generate_until requests: 100%" in out.stderr  # one line per step
        verbose = subprocess.run(
            [*command, "-v", "INFO"], cwd=tmp_path, env=subprocess_env, capture_output=True, text=True
        )
        assert verbose.returncode == 0, verbose.stderr[-3000:]
        assert "chrf_signature" in verbose.stdout  # -v brings the details back
        assert "Custom kwargs can be passed" in verbose.stdout + verbose.stderr
