"""Plugins cannot replace each other silently, and a broken hook is isolated and reported.

Each case installs throw-away plugin distributions (``xllm_harness.testing.plugins``) and runs the
real ``xllm`` command line in a subprocess, as a user with that package installed would.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from xllm_harness.testing.plugins import write_plugin

SAMPLE = {
    "doc_id": 0,
    "doc": {"source": "a cat", "target": "一只猫", "src_lang": "en", "tgt_lang": "zh"},
    "filtered_resps": ["一只猫"],
    "target": "一只猫",
}

EVIL_CHRF = """
from xllm_harness.hookspecs import hookimpl
from xllm_harness.metrics import Metric

class FakeChrf(Metric):
    name = "chrf"
    def segment_statistics(self, hyps, refs):
        raise AssertionError("never scored: it would print 99.0")
    def signature(self):
        return "fake"

@hookimpl
def xllm_metrics():
    return [FakeChrf]
"""

EVIL_JUDGE = """
import os
from pathlib import Path
from xllm_harness.hookspecs import hookimpl
from xllm_harness.judging.backend import Judge

class Grabber(Judge):
    name = "openai"
    def __init__(self, *args, api_key=None, **kwargs):
        Path(os.environ["GRABBED"]).write_text(str(api_key))
        super().__init__(*args, api_key=api_key, **kwargs)

@hookimpl
def xllm_judges():
    return [Grabber]
"""

BROKEN_HOOKS = """
from xllm_harness.hookspecs import hookimpl

@hookimpl
def xllm_metrics():
    raise RuntimeError("metrics hook broken on purpose")

@hookimpl
def xllm_languages():
    return "sw"

@hookimpl
def xllm_data_sources():
    return [42]
"""


def xllm(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "xllm_harness.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def env(subprocess_env, tmp_path) -> dict[str, str]:
    return {**subprocess_env, "XLLM_CACHE_DIR": str(tmp_path / "cache")}


def with_plugin(env: dict[str, str], tmp_path: Path, dist: str, entry: str, module: str, source: str):
    root = write_plugin(tmp_path / "site", dist, entry, module, source)
    return {**env, "PYTHONPATH": str(root)}


def samples(folder: Path) -> Path:
    folder.mkdir(parents=True)
    path = folder / "samples_flores_xllm_en-zh_2026-01-01T00-00-00.000000.jsonl"
    path.write_text(json.dumps(SAMPLE, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def assert_conflict(done: subprocess.CompletedProcess, command: str, *named: str) -> None:
    output = done.stdout + done.stderr
    assert done.returncode == 2, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"xllm {command}: error: "), last
    for name in named:
        assert name in last, (name, last)


def test_a_third_party_chrf_does_not_replace_the_builtin(tmp_path, env):
    samples(tmp_path / "run")
    env = with_plugin(env, tmp_path, "xllm-evil-chrf", "evil_chrf", "xllm_test_evil_chrf", EVIL_CHRF)
    done = xllm(["score", "run", "--metrics", "chrf"], tmp_path, env)
    assert_conflict(
        done,
        "score",
        "metric 'chrf' is defined twice",
        "plugin 'evil_chrf' (xllm-evil-chrf)",
        "plugin 'translation_metrics' (xllm-harness)",
    )
    assert not list((tmp_path / "run").glob("xllm_scores_*"))


def test_a_judge_named_openai_never_receives_the_api_key(tmp_path, env):
    grabbed = tmp_path / "grabbed.txt"
    env = with_plugin(env, tmp_path, "xllm-grabber", "grabber", "xllm_test_grabber", EVIL_JUDGE)
    env.update(OPENAI_API_KEY="sk-secret-of-the-user", GRABBED=str(grabbed))
    samples(tmp_path / "run")
    args = ["judge", "qa", "run", "--base-url", "http://127.0.0.1:9/v1", "--model", "m"]
    done = xllm(args, tmp_path, env)
    assert_conflict(
        done,
        "judge",
        "judge 'openai' is defined twice",
        "plugin 'grabber'",
        "plugin 'openai_judge' (xllm-harness)",
    )
    assert not grabbed.exists()
    assert "sk-secret-of-the-user" not in done.stdout + done.stderr


def test_a_broken_hook_is_left_out_and_said_by_the_command_that_needs_it(tmp_path, env):
    samples(tmp_path / "run")
    env = with_plugin(
        env, tmp_path, "xllm-broken-hooks", "broken_hooks", "xllm_test_broken_hooks", BROKEN_HOOKS
    )
    done = xllm(["score", "run", "--metrics", "chrf"], tmp_path, env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert (
        "warning: plugin 'broken_hooks' (xllm-broken-hooks): xllm_metrics raised RuntimeError: "
        "metrics hook broken on purpose" in done.stderr
    )
    (scores,) = (tmp_path / "run").glob("xllm_scores_*.json")  # the built-in chrF++ still scores
    assert "chrf" in scores.read_text(encoding="utf-8")

    done = xllm(["data", "list"], tmp_path, env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "xquad" in done.stdout
    assert (
        "plugin 'broken_hooks' (xllm-broken-hooks): xllm_data_sources returned 42, not a DataSource"
        in done.stderr
    )

    done = xllm(["tasks"], tmp_path, env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "xquad_xllm_ar" in done.stdout
    assert (
        "plugin 'broken_hooks' (xllm-broken-hooks): xllm_languages returned 'sw', not a list" in done.stderr
    )


def test_the_same_contribution_twice_is_no_conflict(tmp_path, env):
    """A plugin that re-exports a built-in class replaces nothing: no error."""
    source = "from xllm_harness.hookspecs import hookimpl\nfrom xllm_harness.plugins.metrics.bleu import ChrFPlusPlus\n"
    source += "@hookimpl\ndef xllm_metrics():\n    return [ChrFPlusPlus]\n"
    samples(tmp_path / "run")
    env = with_plugin(env, tmp_path, "xllm-reexport", "reexport", "xllm_test_reexport", source)
    done = xllm(["score", "run", "--metrics", "chrf"], tmp_path, env)
    assert done.returncode == 0, done.stderr[-3000:]


def task_plugin(tmp_path: Path, env: dict[str, str], dist: str, entry: str, task: str) -> dict[str, str]:
    """A plugin whose task folder defines ``task`` (a copy of nothing: one YAML)."""
    folder = tmp_path / f"{entry}_tasks"
    folder.mkdir()
    (folder / f"{task}.yaml").write_text(
        f"task: {task}\ndataset_path: json\noutput_type: generate_until\n"
        "doc_to_text: !function utils.doc_to_text\ndoc_to_target: x\n",
        encoding="utf-8",
    )
    source = "from pathlib import Path\nfrom xllm_harness.hookspecs import hookimpl\n"
    source += f"@hookimpl\ndef xllm_task_dirs():\n    return [Path({str(folder)!r})]\n"
    root = write_plugin(tmp_path / "site", dist, entry, f"xllm_test_{entry}", source)
    return {**env, "PYTHONPATH": str(root)}


def test_a_task_defined_by_two_plugins_is_an_error(tmp_path, env):
    task_plugin(tmp_path, env, "xllm-one", "one", "shared_task")
    env = task_plugin(tmp_path, env, "xllm-two", "two", "shared_task")
    done = xllm(["tasks"], tmp_path, env)
    assert_conflict(
        done, "tasks", "task 'shared_task' is defined twice", "plugin 'one' (xllm-one)", "plugin 'two'"
    )


def test_a_plugin_task_cannot_replace_a_builtin_task(tmp_path, env):
    env = task_plugin(tmp_path, env, "xllm-shadow", "shadow", "xquad_xllm_ar")
    done = xllm(["tasks"], tmp_path, env)
    assert_conflict(
        done, "tasks", "task 'xquad_xllm_ar' is defined twice", "plugin 'builtin_tasks'", "plugin 'shadow'"
    )


def test_a_plugin_that_fails_to_import_is_said_by_every_command(tmp_path, env):
    env = with_plugin(
        env, tmp_path, "xllm-broken", "broken", "xllm_test_broken", "raise ImportError('gone')\n"
    )
    done = xllm(["data", "list"], tmp_path, env)
    assert done.returncode == 0 and "xquad" in done.stdout, done.stderr[-3000:]
    assert "warning: plugin 'broken' (xllm-broken) failed to load (ImportError: gone)" in done.stderr
    done = xllm(["data", "list"], tmp_path, {**env, "XLLM_DISABLE_PLUGINS": "broken"})
    assert done.returncode == 0 and "warning" not in done.stderr, done.stderr[-3000:]
