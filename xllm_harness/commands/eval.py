"""``xllm eval``: lm-eval's own ``run`` command, with our task index.

The parser and the run function are lm-eval's (``lm_eval run``), so every option works as documented
there (``--use_cache``, ``--cache_requests``, ``--config``, ``--wandb_args``, ``--predict_only``, ...)
and new ones arrive with lm-eval; the output layout and the printed table are lm-eval's too. What
``xllm eval`` adds: only our task folders are indexed (``--include_defaults`` adds lm-eval's ~13k
built-ins), task names and model folders are checked before anything heavy starts (one line and
exit 2 when wrong), ``--output_path`` is checked writable before the model loads, a run whose
results or samples lm-eval could not save (it only logs a warning) exits 2 naming the path, and
library noise is quiet unless ``-v INFO``.
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import io
import logging
import sys

from xllm_harness.errors import InputError, unknown_name

OUR_OPTIONS = ("include_defaults", "debug")
HF_MODEL_TYPES = {"hf", "hf-auto", "huggingface", "hf-multimodal", "vllm", "vllm-vlm", "sglang"}
DESCRIPTION = """\
Evaluate a model on xllm tasks with lm-eval. This is lm-eval's own `run` command (every option of
`lm_eval run` works the same) over an index of the xllm task folders only, which skips indexing
lm-eval's ~13k built-in tasks. Results (and samples with --log_samples) are written in lm-eval's
layout, which `xllm score`, `xllm judge` and `xllm leaderboard` read.

Long evaluations: pass --use_cache FILE. Every finished generation is stored in that SQLite cache,
so a run that is killed and started again with the same command only generates what is missing."""
EPILOG = """\
examples:
  xllm eval --model hf --model_args pretrained=MODEL,dtype=bfloat16 --tasks xquad_xllm,flores_xllm \\
      --batch_size auto --output_path results/ --log_samples --use_cache cache/model
  XLLM_DATA_DIR=$(xllm data path --samples) xllm eval --model_args pretrained=demo_out/tiny-coit \\
      --device cpu --tasks xquad_xllm_ar --limit 5"""


class _RenamedSubparsers:
    """Hands lm-eval's ``Run`` our subparsers, so its ``run`` parser becomes ``xllm eval``."""

    def __init__(self, sub) -> None:
        self.sub = sub
        self.parser: argparse.ArgumentParser | None = None

    def add_parser(self, name: str, **kwargs) -> argparse.ArgumentParser:
        self.parser = self.sub.add_parser(
            "eval",
            help="evaluate a model on xllm tasks (lm-eval's run command, our tasks only)",
            description=DESCRIPTION,
            epilog=EPILOG,
        )
        return self.parser


def register(sub) -> None:
    from xllm_harness.bridge.internals import run_command

    renamed = _RenamedSubparsers(sub)
    run_command().create(renamed)
    p = renamed.parser
    ours = p.add_argument_group("xllm")
    ours.add_argument(
        "--include_defaults", action="store_true", help="also index lm-eval's built-in tasks (about 4 s more)"
    )
    ours.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    p.set_defaults(func=run)


def lm_eval_namespace(args: argparse.Namespace) -> argparse.Namespace:
    """The arguments lm-eval's run command knows (without ours)."""
    return argparse.Namespace(**{k: v for k, v in vars(args).items() if k not in OUR_OPTIONS})


def validated_config(args: argparse.Namespace):
    """lm-eval's own reading of the options (YAML ``--config`` merged), as an ``EvaluatorConfig``.

    lm-eval rejects bad options with ValueError/TypeError/FileNotFoundError from this pure validation
    step; they become one-line errors here. lm-eval reads the options again when it runs: its messages
    are kept for that time.
    """
    from xllm_harness.bridge.internals import evaluator_config

    lm_logger = logging.getLogger("lm_eval")
    level = lm_logger.level
    lm_logger.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            return evaluator_config(lm_eval_namespace(args))
    except (ValueError, TypeError, FileNotFoundError) as err:
        raise InputError(f"{err}") from None
    finally:
        lm_logger.setLevel(level)


def check_tasks(cfg, include_defaults: bool) -> None:
    """Every task name (or glob, as lm-eval matches them) resolves in our index; an unknown one gets a
    "did you mean"; a task asked for twice (by itself and inside a group, or in two groups) is named,
    where lm-eval would stop with "Duplicate task" after building every task."""
    from xllm_harness.bridge.task_index import task_manager

    if not cfg.tasks:
        raise InputError("--tasks: name at least one task or group (`xllm tasks` lists them)")
    names = cfg.tasks.split(",") if isinstance(cfg.tasks, str) else cfg.tasks
    tm = task_manager(include_defaults=include_defaults, include_path=cfg.include_path)
    known = tm.all_tasks  # tasks, groups and tags (lm-eval's match_tasks keeps unknown names on 0.5)
    for name in names:
        pattern = name.split("@", 1)[0] if isinstance(name, str) else name  # 0.5's task@format
        if isinstance(name, str) and not name.endswith(".yaml") and not fnmatch.filter(known, pattern):
            hint = "`xllm tasks` lists them" + (
                "" if include_defaults else "; --include_defaults adds lm-eval's"
            )
            raise unknown_name("task", name, [*tm.all_groups, *tm.all_subtasks], hint)
    check_overlap([n for n in names if isinstance(n, str) and not n.endswith(".yaml")], tm)


def check_overlap(names: list[str], tm) -> None:
    """One line naming the first task that two of the requested names (globs expanded) both contain."""
    index = getattr(tm, "task_index", None)
    if not isinstance(index, dict):  # an lm-eval without the index: its own check runs later
        return
    seen: dict[str, str] = {}
    for pattern in names:
        for name in fnmatch.filter(tm.all_tasks, pattern.split("@", 1)[0]):
            for leaf in sorted(_leaf_tasks(name, index)):
                if seen.get(leaf, name) != name:
                    raise InputError(
                        f"--tasks: {leaf} is in both {_as_item(seen[leaf], leaf)} and {_as_item(name, leaf)}; "
                        "lm-eval runs a task once, so drop one of them"
                    )
                seen[leaf] = name


def _as_item(name: str, leaf: str) -> str:
    return f"{name!r} (the task itself)" if name == leaf else f"{name!r}"


def _leaf_tasks(name: str, index: dict, depth: int = 0) -> set[str]:
    """The task names that a task, group or tag of lm-eval's index stands for."""
    entry = index.get(name)
    kind = getattr(getattr(entry, "kind", None), "name", "")
    if entry is None or depth > 20:
        return {name}
    if kind == "TAG":
        return set().union(*(_leaf_tasks(t, index, depth + 1) for t in entry.tags)) if entry.tags else set()
    if kind != "GROUP":
        return {name}
    leaves: set[str] = set()
    for item in (entry.cfg or {}).get("task", []):
        if isinstance(item, str):
            leaves |= _leaf_tasks(item, index, depth + 1)
        elif isinstance(item, dict) and isinstance(item.get("task"), str):
            leaves.add(item["task"])
    return leaves


def check_model(cfg) -> None:
    """A local model that cannot load is one line now, not a traceback after the tasks are built."""
    from xllm_harness.models.hf import check_pretrained

    pretrained = (cfg.model_args or {}).get("pretrained")
    if cfg.model in HF_MODEL_TYPES and isinstance(pretrained, str):
        check_pretrained(pretrained, "--model_args pretrained", revision=cfg.model_args.get("revision"))


def check_output(cfg) -> None:
    """``--output_path`` can be written, before the model loads (lm-eval would only warn at the end)."""
    from xllm_harness.bridge.saved_outputs import output_folder
    from xllm_harness.results.files import check_writable

    if cfg.output_path:
        check_writable(output_folder(cfg.output_path), "--output_path", create=False)


def reproduce_generation(args: argparse.Namespace, cfg) -> None:
    """``--metadata '{"reproduce": "x-llm"}'`` also generates as x-LLM did, without stop strings (EOS or
    512 new tokens): lm-eval takes generation settings only from ``--gen_kwargs``, so ``until=None`` is
    added there unless the user set ``until`` themselves. (Under bare ``lm_eval``, pass it by hand.)"""
    metadata = cfg.metadata if isinstance(cfg.metadata, dict) else {}
    if metadata.get("reproduce") == "x-llm" and "until" not in (args.gen_kwargs or {}):
        args.gen_kwargs = {**(args.gen_kwargs or {}), "until": None}


def run(args: argparse.Namespace) -> int:
    from xllm_harness.bridge.internals import run_command
    from xllm_harness.bridge.quiet import quiet_output
    from xllm_harness.bridge.saved_outputs import NotSavedError, check_saved, saved_files
    from xllm_harness.bridge.task_index import our_task_index

    cfg = validated_config(args)
    check_tasks(cfg, args.include_defaults)
    check_output(cfg)
    check_model(cfg)
    reproduce_generation(args, cfg)
    verbose = args.verbosity is not None
    before = saved_files(cfg.output_path) if cfg.output_path else set()
    with our_task_index(args.include_defaults), quiet_output(verbose=verbose, log_level=args.verbosity):
        run_command()._execute(lm_eval_namespace(args))
    if cfg.output_path:
        try:
            check_saved(cfg.output_path, bool(cfg.log_samples), before)
        except NotSavedError:
            drop_closing_note()
            raise
    return 0


def drop_closing_note() -> None:
    """No end-of-run note about missing metrics when nothing was saved: it would name a folder to
    rescore that holds no samples of this run (our tasks register it; loaded only if they ran)."""
    task_metrics = sys.modules.get("xllm_harness.tasks.task_metrics")
    if task_metrics is not None:
        task_metrics.REPORT.missing.clear()
