"""The plugin registry: built-ins through entry points, third-party languages, broken plugins."""

from __future__ import annotations

import subprocess
import sys

import pytest

from xllm_harness.languages import Language, get_languages
from xllm_harness.registry import collect, get_registry
from xllm_harness.testing.plugins import write_plugin

PAPER_CODES = {"ar", "el", "en", "hi", "tr", "vi", "zh"}

SWAHILI = """
from xllm_harness.hookspecs import hookimpl
from xllm_harness.languages import Language

@hookimpl
def xllm_languages():
    return [Language(code="sw", name="Swahili", qa_instruction="Jibu maswali kulingana na aya ifuatayo",
                     qa_template="Aya: {context}\\nSwali: {question}\\nJibu: ", xquad="/nonexistent/xquad.sw.json")]
"""
BROKEN = "raise ImportError('this plugin is broken on purpose')\n"


def test_builtins_are_entry_point_plugins():
    registry = get_registry()
    names = {p.name: p for p in registry.plugins}
    for builtin in ("paper_languages", "builtin_tasks", "builtin_data", "qa_metrics"):
        assert names[builtin].distribution == "xllm-harness"
        assert names[builtin].error is None
    assert set(get_languages()) >= PAPER_CODES
    assert {m.name for m in collect("xllm_metrics")} >= {"match", "exact_match", "f1"}


def test_third_party_language_gets_the_task_families(install_plugin):
    install_plugin("xllm-swahili", "swahili", "xllm_test_swahili", SWAHILI)
    assert get_languages()["sw"].name == "Swahili"
    from xllm_harness.bridge.task_index import task_include_paths

    generated = task_include_paths()[-1]
    assert (generated / "xquad_xllm_sw.yaml").exists()
    assert not (generated / "mlqa_xllm_sw.yaml").exists()  # no MLQA location declared
    # the generated folder replaces the committed one it extends: every task comes from one folder only
    assert (generated / "xquad_xllm_ar.yaml").exists()
    from xllm_harness.bridge.task_index import task_manager, tasks_dir

    merged = tasks_dir()  # the single folder for `lm_eval --include_path`
    assert len(list(merged.rglob("xquad_xllm_sw.yaml"))) == 1
    assert len(list(merged.rglob("xquad_xllm_ar.yaml"))) == 1
    assert "xquad_xllm_sw" in task_manager().all_subtasks  # the `xllm eval` route


def test_broken_plugin_is_reported_and_builtins_survive(install_plugin):
    install_plugin("xllm-broken", "broken", "xllm_test_broken", BROKEN)
    registry = get_registry()
    broken = next(p for p in registry.plugins if p.name == "broken")
    assert "broken on purpose" in (broken.error or "")
    assert "Traceback" in (broken.traceback or "") and "broken on purpose" in broken.traceback
    assert broken.distribution == "xllm-broken"
    assert set(get_languages()) >= PAPER_CODES


def test_xllm_plugins_cli_lists_sources_and_errors(tmp_path, subprocess_env):
    root = write_plugin(tmp_path / "site", "xllm-broken", "broken", "xllm_test_broken", BROKEN)
    write_plugin(root, "xllm-swahili", "swahili", "xllm_test_swahili", SWAHILI)
    subprocess_env["PYTHONPATH"] = str(root)
    out = subprocess.run(
        [sys.executable, "-m", "xllm_harness.cli", "plugins"],
        cwd=tmp_path,
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1, out.stderr  # non-zero because one plugin failed
    assert "broken  (xllm-broken: xllm_test_broken)  [error]" in out.stdout
    assert "ImportError: this plugin is broken on purpose" in out.stdout
    assert "swahili  (xllm-swahili: xllm_test_swahili)  [ok]" in out.stdout
    assert "languages: sw" in out.stdout
    assert "languages: ar, el, en, hi, tr, vi, zh" in out.stdout


def test_duplicate_language_code_is_an_error(install_plugin):
    install_plugin("xllm-dup", "dup", "xllm_test_dup", SWAHILI.replace('code="sw"', 'code="ar"'))
    with pytest.raises(ValueError, match="'ar' is defined twice"):
        get_languages()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"code": "Sw"}, "lowercase"),
        ({"code": "sw", "qa_template": "no placeholders"}, "must contain"),
        ({"code": "sw", "xquad": "xquad/x.json"}, "needs qa_instruction"),
    ],
)
def test_language_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Language(name="X", **kwargs)
