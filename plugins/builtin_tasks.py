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


FAMILIES = [
    TaskFamily("xquad_xllm", TASKS_DIR / "xquad_xllm", _qa_tasks("xquad")),
    TaskFamily("mlqa_xllm", TASKS_DIR / "mlqa_xllm", _qa_tasks("mlqa")),
    TaskFamily("flores_xllm", TASKS_DIR / "flores_xllm", flores_tasks),
    TaskFamily("mi_eval_xllm", TASKS_DIR / "mi_eval_xllm", mi_eval_tasks),
]


@hookimpl
def xllm_task_dirs() -> list[Path]:
    return [TASKS_DIR]


@hookimpl
def xllm_task_families() -> list[TaskFamily]:
    return FAMILIES
