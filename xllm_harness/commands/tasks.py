"""``xllm tasks`` (list our tasks) and ``xllm tasks-dir`` (one folder for ``lm_eval --include_path``)."""

from __future__ import annotations

import argparse

TASKS_DESCRIPTION = """\
List the lm-eval tasks and groups that the registered plugins make visible (the built-in XQuAD,
MLQA, FLORES-101 and MI-Eval tasks, and those for every plugin language or task family)."""
TASKS_EPILOG = """\
example:
  xllm tasks | grep flores_xllm_en-"""
DIR_DESCRIPTION = """\
Print ONE folder holding every registered task folder (merged when plugins add their own), for
lm-eval's --include_path, which takes a single folder."""
DIR_EPILOG = """\
example:
  lm_eval --include_path "$(xllm tasks-dir)" --model hf --model_args pretrained=MODEL --tasks xquad_xllm_ar"""


def register(sub) -> None:
    p = sub.add_parser(
        "tasks",
        help="list the tasks and groups every plugin makes visible to lm-eval",
        description=TASKS_DESCRIPTION,
        epilog=TASKS_EPILOG,
    )
    p.set_defaults(func=run_list)
    d = sub.add_parser(
        "tasks-dir",
        help="print one folder with every task, for lm_eval --include_path",
        description=DIR_DESCRIPTION,
        epilog=DIR_EPILOG,
    )
    d.set_defaults(func=run_dir)


def run_list(args: argparse.Namespace) -> int:
    from xllm_harness.bridge.task_index import task_manager

    tm = task_manager()
    for name in tm.all_groups:
        print(f"group  {name}")
    for name in tm.all_subtasks:
        print(f"task   {name}")
    return 0


def run_dir(args: argparse.Namespace) -> int:
    from xllm_harness.bridge.task_index import tasks_dir

    print(tasks_dir())
    return 0
