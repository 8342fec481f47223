"""A task family's metric list is defined once (``TaskFamily.metrics`` plus the metrics that join it,
``taskgen.family_metrics``): the tasks' ``metric_list`` and aggregations are generated from it, so a
throw-away plugin metric that names the FLORES family is computed by a real lm-eval run and shows in
``xllm score``, ``xllm compare`` and the leaderboard's FLORES tables, with no change to the core."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from xllm_harness.testing.plugins import write_plugin

TASK = "flores_xllm_en-zh"
PLUGIN = '''
from xllm_harness.hookspecs import hookimpl
from xllm_harness.metrics import Metric, Signature


class LengthRatio(Metric):
    """Characters of the translation per character of the reference."""

    name = "length_ratio"
    title = "length ratio"
    families = ("flores_xllm",)

    def segment_statistics(self, hypotheses, references, sources, lang):
        return [len(h) / max(1, len(r[0])) for h, r in zip(hypotheses, references)]

    def signature(self):
        return Signature.of("length_ratio", ("version", 1))


@hookimpl
def xllm_metrics():
    return [LengthRatio]
'''


def expected_ratio(samples: list[dict]) -> float:
    """The plugin's number, from the saved outputs (the translation as scored: stripped)."""
    ratios = [len(s["filtered_resps"][0].strip()) / len(s["doc"]["target"]) for s in samples]
    return sum(ratios) / len(ratios)


def xllm(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-m", "xllm_harness.cli", *args], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return done


@pytest.mark.slow
def test_a_plugin_metric_joins_flores_by_naming_the_family(
    tmp_path, samples_dir, tiny_model, sacrebleu_home, subprocess_env
):
    site = write_plugin(
        tmp_path / "site", "xllm-length-ratio", "length_ratio", "xllm_test_length_ratio", PLUGIN
    )
    env = {
        **subprocess_env,
        "PYTHONPATH": str(site),
        "XLLM_DATA_DIR": str(samples_dir),
        "SACREBLEU": str(sacrebleu_home),
        "XLLM_CACHE_DIR": str(tmp_path / "cache"),
    }
    out = tmp_path / "out"
    xllm(
        [
            *("eval", "--model_args", f"pretrained={tiny_model},dtype=float32", "--device", "cpu"),
            *("--tasks", TASK, "--limit", "3", "--gen_kwargs", "max_gen_toks=12"),
            *("--output_path", str(out), "--log_samples"),
        ],
        tmp_path,
        env,
    )
    (model_dir,) = {p.parent for p in out.rglob("results_*.json")}
    samples = [json.loads(line) for line in next(model_dir.glob(f"samples_{TASK}_*.jsonl")).open()]
    want = expected_ratio(samples)

    # the task route: lm-eval computed it inside the run (generated metric_list and aggregation)
    results = json.loads(next(model_dir.glob("results_*.json")).read_text())["results"][TASK]
    assert results["length_ratio,none"] == pytest.approx(want, rel=1e-12)
    assert results["length_ratio_signature,none"] == "length_ratio|version:1"
    assert "chrf,none" in results  # the family's own metrics still run

    # xllm score: a default metric of the family's tasks
    xllm(["score", str(out)], tmp_path, env)
    scores = json.loads(next(model_dir.glob("xllm_scores_*.json")).read_text())
    assert scores["results"][TASK]["length_ratio"] == pytest.approx(want, rel=1e-12)

    # xllm compare: compared by default, like chrF++
    other = tmp_path / "other" / model_dir.name
    shutil.copytree(model_dir, other, ignore=shutil.ignore_patterns("xllm_scores_*"))
    xllm(["compare", str(model_dir), str(other)], tmp_path, env)
    report = json.loads(next(model_dir.glob("compare_*.json")).read_text())
    rows = {(r["task"], r["metric"]): r for r in report["comparisons"]}
    assert rows[(TASK, "length_ratio")]["a"] == pytest.approx(want, rel=1e-12)
    assert (TASK, "chrf") in rows

    # the leaderboard: a FLORES table titled by the metric itself
    board = tmp_path / "board"
    xllm(["leaderboard", str(out), "-o", str(board), "--no-reported"], tmp_path, env)
    markdown = (board / "leaderboard.md").read_text()
    assert "### FLORES-101: length ratio" in markdown
    assert "### FLORES-101: chrF++" in markdown


def test_mi_eval_metric_list_is_generated_with_nonempty(samples_dir, monkeypatch):
    """MI-Eval's generated metric_list: the task's ``nonempty`` value, then the family's ``off_target``."""
    from lm_eval import simple_evaluate
    from lm_eval.api.model import LM

    from xllm_harness.bridge.task_index import task_manager

    class Scripted(LM):
        """An empty answer to the first instruction, Arabic to the others."""

        def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
            return ["" if r.doc["id"] == first else "مرحبا بكم في هذا الاختبار الطويل" for r in requests]

        def loglikelihood(self, requests, disable_tqdm: bool = False):
            raise NotImplementedError

        def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
            raise NotImplementedError

    monkeypatch.setenv("XLLM_DATA_DIR", str(samples_dir))
    tm = task_manager()
    first = tm.load(["mi_eval_xllm_ar"])["tasks"]
    first = next(iter(first.values())).eval_docs[0]["id"]
    out = simple_evaluate(
        model=Scripted(), tasks=["mi_eval_xllm_ar"], limit=3, task_manager=tm, bootstrap_iters=0
    )
    results = out["results"]["mi_eval_xllm_ar"]
    assert results["nonempty,none"] == pytest.approx(2 / 3, abs=1e-12)
    assert results["off_target,none"] == pytest.approx(0.0, abs=1e-12)  # both answers are Arabic
    assert results["off_target_signature,none"].startswith("off_target|lid:lid.176.ftz@")
