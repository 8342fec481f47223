"""``xllm tasks`` (list our tasks) and ``xllm tasks-dir`` (one folder for ``lm_eval --include_path``)."""

from __future__ import annotations

import argparse


def register(sub) -> None:
    p = sub.add_parser("tasks", help="list the tasks and groups every plugin makes visible to lm-eval")
    p.set_defaults(func=run_list)
    d = sub.add_parser("tasks-dir", help="print one folder with every task, for lm_eval --include_path")
    d.set_defaults(func=run_dir)


def run_list(args: argparse.Namespace) -> int:
    from xllm_harness.lm_eval_bridge import task_manager

    tm = task_manager()
    for name in tm.all_groups:
        print(f"group  {name}")
    for name in tm.all_subtasks:
        print(f"task   {name}")
    return 0


def run_dir(args: argparse.Namespace) -> int:
    from xllm_harness.lm_eval_bridge import tasks_dir

    print(tasks_dir())
    return 0
