"""The built-in task folders and the task families that derive per-language tasks from them.

Per language: ``xquad_xllm_<code>`` / ``mlqa_xllm_<code>`` (a ``Language.xquad`` / ``.mlqa`` data
location), ``flores_xllm_en-<code>`` and ``flores_xllm_<code>-en`` (``.flores``, every language but
English), ``mi_eval_xllm_<code>`` (``.mi_eval``). The families' groups join ``xllm``.
"""

from importlib.resources import files
from pathlib import Path
from typing import Any

from xllm_harness.hookspecs import hookimpl
from xllm_harness.languages import Language
from xllm_harness.taskgen import TaskFamily, generated_roots
from xllm_harness.text.prompts import PIVOT

TASKS_DIR = Path(str(files("xllm_harness").joinpath("tasks")))
"""The package's task folders (``xllm_harness/tasks/``), found as package data: no task code is imported."""

Tasks = list[tuple[str, dict[str, Any]]]


def _qa_tasks(benchmark: str):
    def tasks(lang: Language) -> Tasks:
        if not getattr(lang, benchmark):
            return []
        return [
            (f"{benchmark}_xllm_{lang.code}", {"dataset_kwargs": {"benchmark": benchmark, "lang": lang.code}})
        ]

    return tasks


def _flores_tasks(lang: Language) -> Tasks:
    """The two directions (en→X, X→en) of a language with a ``flores`` location."""
    if not lang.flores or lang.code == PIVOT:
        return []
    return [
        (f"flores_xllm_{src}-{tgt}", {"dataset_kwargs": {"src": src, "tgt": tgt}})
        for src, tgt in ((PIVOT, lang.code), (lang.code, PIVOT))
    ]


def _mi_eval_tasks(lang: Language) -> Tasks:
    if not lang.mi_eval:
        return []
    return [(f"mi_eval_xllm_{lang.code}", {"dataset_kwargs": {"lang": lang.code}})]


JUDGE_ACCURACY = "judge_accuracy"
QA_METRICS = ("match", "exact_match", "f1", JUDGE_ACCURACY, "off_target")
"""The XQuAD/MLQA metrics, defined here only (the tasks' ``metric_list`` and aggregations are generated
from it), with the QA judge's accuracy (Table 2) among them as a leaderboard column."""
QA_GROUP_METRICS = tuple(m for m in QA_METRICS if m != JUDGE_ACCURACY)
FLORES_METRICS = ("spbleu", "chrf", "comet", "bleurt", "off_target")
"""The FLORES metrics, defined here only: the tasks' ``metric_list`` and aggregations are generated from
it (``TaskFamily.aggregations``), lm-eval computes those that load no model by default, ``xllm score``
all of them; a plugin metric joins with ``Metric.families``."""
MI_EVAL_METRICS = ("off_target",)
"""MI-Eval's lm-eval metric worth a table (the pairwise judge's win/tie/loss has its own table)."""


def _qa_averages(columns: list[str]) -> dict[str, list[str]]:
    """The paper's QA averages leave English out."""
    return {"avg": [c for c in columns if c != PIVOT]}


def _flores_directions(columns: list[str]) -> dict[str, list[str]]:
    return {
        "en-x": [c for c in columns if c.startswith(f"{PIVOT}-")],
        "x-en": [c for c in columns if c.endswith(f"-{PIVOT}")],
    }


def _flores_averages(columns: list[str]) -> dict[str, list[str]]:
    """en→x and x→en are averaged apart (the paper reports them apart)."""
    return {f"{k} avg": v for k, v in _flores_directions(columns).items()}


def _qa_family(benchmark: str, title: str) -> TaskFamily:
    """XQuAD and MLQA: one QA family each, the same metrics, averages and group."""
    return TaskFamily(
        f"{benchmark}_xllm",
        TASKS_DIR / f"{benchmark}_xllm",
        _qa_tasks(benchmark),
        title=title,
        metrics=QA_METRICS,
        averages=_qa_averages,
        group_metrics=QA_GROUP_METRICS,
        parent="xllm",
        not_metrics=(JUDGE_ACCURACY,),
        aggregations="xllm_harness.tasks.qa_utils",
    )


FAMILIES = [
    _qa_family("xquad", "XQuAD"),
    _qa_family("mlqa", "MLQA"),
    TaskFamily(
        "flores_xllm",
        TASKS_DIR / "flores_xllm",
        _flores_tasks,
        title="FLORES-101",
        metrics=FLORES_METRICS,
        averages=_flores_averages,
        subgroups=_flores_directions,
        group_metrics=FLORES_METRICS,
        parent="xllm",
        aggregations="xllm_harness.tasks.flores_utils",
    ),
    TaskFamily(
        "mi_eval_xllm",
        TASKS_DIR / "mi_eval_xllm",
        _mi_eval_tasks,
        title="MI-Eval",
        metrics=MI_EVAL_METRICS,
        group_metrics=("nonempty", *MI_EVAL_METRICS),
        parent="xllm",
        task_values=("nonempty",),
        aggregations="xllm_harness.tasks.mi_eval_utils",
    ),
]


@hookimpl
def xllm_task_dirs() -> list[Path]:
    """The built-in task folder, unless plugin languages extend its families: then the generated
    folder (``taskgen.generated_task_dir``) holds all of its tasks and groups instead."""
    return [] if TASKS_DIR in generated_roots() else [TASKS_DIR]


@hookimpl
def xllm_task_families() -> list[TaskFamily]:
    return FAMILIES
