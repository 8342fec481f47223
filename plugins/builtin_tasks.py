"""The built-in task folders and the task families that derive per-language tasks from them."""

from pathlib import Path

from xllm_harness.hookspecs import hookimpl
from xllm_harness.languages import Language
from xllm_harness.mi_eval import mi_eval_tasks
from xllm_harness.taskgen import TaskFamily
from xllm_harness.tasks import TASKS_DIR
from xllm_harness.translation import flores_tasks


def _qa_tasks(benchmark: str):
    def tasks(lang: Language):
        if not getattr(lang, benchmark):
            return []
        return [
            (f"{benchmark}_xllm_{lang.code}", {"dataset_kwargs": {"benchmark": benchmark, "lang": lang.code}})
        ]

    return tasks


QA_METRICS = ("match", "exact_match", "f1", "judge_accuracy", "off_target")
FLORES_METRICS = ("spbleu", "chrf", "comet", "bleurt", "off_target")


def _qa_averages(columns: list[str]) -> dict[str, list[str]]:
    """The paper's QA averages leave English out."""
    return {"avg": [c for c in columns if c != "en"]}


def _flores_averages(columns: list[str]) -> dict[str, list[str]]:
    """en→x and x→en are averaged apart (the paper reports them apart)."""
    return {
        "en-x avg": [c for c in columns if c.startswith("en-")],
        "x-en avg": [c for c in columns if c.endswith("-en")],
    }


FAMILIES = [
    TaskFamily("xquad_xllm", TASKS_DIR / "xquad_xllm", _qa_tasks("xquad"), "XQuAD", QA_METRICS, _qa_averages),
    TaskFamily("mlqa_xllm", TASKS_DIR / "mlqa_xllm", _qa_tasks("mlqa"), "MLQA", QA_METRICS, _qa_averages),
    TaskFamily(
        "flores_xllm", TASKS_DIR / "flores_xllm", flores_tasks, "FLORES-101", FLORES_METRICS, _flores_averages
    ),
    TaskFamily("mi_eval_xllm", TASKS_DIR / "mi_eval_xllm", mi_eval_tasks, "MI-Eval", ("off_target",)),
]


@hookimpl
def xllm_task_dirs() -> list[Path]:
    return [TASKS_DIR]


@hookimpl
def xllm_task_families() -> list[TaskFamily]:
    return FAMILIES
