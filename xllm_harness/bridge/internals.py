"""Every lm-eval internal xllm-harness reaches, in one place (tested on lm-eval 0.4.13 and 0.5.0.dev1).

lm-eval's public API (``lm_eval.tasks.TaskManager``, ``simple_evaluate``) is used directly elsewhere.
What it does not offer is here: its ``run`` command class (``xllm eval`` is that command), its reading
of the CLI options, the console helpers the quieting wraps, the logger names of its noisy messages,
and one behaviour of 0.5 that our tasks must opt out of (bootstrapping the standard error of every
aggregation). The import hook (``_xllm_harness_lm_eval_hook``) names the module it waits for
(``lm_eval.tasks.manager``, the same in both versions) itself: it must not import this package at
interpreter start-up.
"""

from __future__ import annotations

import argparse
import functools
import importlib.metadata
import sys
from collections.abc import Callable
from typing import Any

NOISY_MESSAGES: dict[str, tuple[str, ...]] = {
    # logger name (0.4.13, then 0.5) -> fragments of the messages it prints on every run
    "lm_eval.api.task": ("Custom kwargs can be passed to `--metadata`",),
    "lm_eval.api.task._task": ("Custom kwargs can be passed to `--metadata`",),
    # 0.5, once per metric that process_results computes (all of ours): that is how our tasks work
    "lm_eval.api.metrics.utils": ("Using a placeholder that expects values from 'process_results'",),
}
"""Messages lm-eval logs on every run of our tasks, dropped unless details are wanted (console.py)."""

NO_STDERR = "_xllm_no_stderr"
"""Attribute marking an aggregation whose standard error lm-eval must not bootstrap (:func:`no_stderr`)."""


def lm_eval_version() -> str:
    """The installed lm-eval version."""
    return importlib.metadata.version("lm-eval")


def run_command() -> Any:
    """lm-eval's ``run`` subcommand class (``Run.create(subparsers)`` builds its parser,
    ``Run._execute(namespace)`` runs it)."""
    from lm_eval._cli.run import Run

    return Run


def evaluator_config(namespace: argparse.Namespace) -> Any:
    """lm-eval's reading of ``run`` options (YAML ``--config`` merged): an ``EvaluatorConfig``.

    Raises lm-eval's own ValueError/TypeError/FileNotFoundError on bad options."""
    from lm_eval.config.evaluate_config import EvaluatorConfig

    return EvaluatorConfig.from_cli(namespace)


def commit_from_path(path: str) -> str | None:
    """lm-eval's reading of a checkout's commit hash from its ``.git`` folder."""
    from lm_eval.loggers.utils import get_commit_from_path

    return get_commit_from_path(path)


def replace_commit_hash_lookup(lookup: Callable[[], str | None]) -> None:
    """Make lm-eval record the commit hash with ``lookup`` (the evaluator imported it by name)."""
    import sys

    import lm_eval.loggers.utils  # noqa: F401  (patched below)

    for module_name in ("lm_eval.evaluator", "lm_eval.loggers.utils"):
        module = sys.modules.get(module_name)
        if module is not None and hasattr(module, "get_git_commit_hash"):
            module.get_git_commit_hash = lookup


def wrap_make_table(wrapper: Callable[[Callable], Callable]) -> None:
    """Replace ``lm_eval.utils.make_table`` (which ``run`` imports when it prints) by ``wrapper(it)``."""
    import lm_eval.utils

    lm_eval.utils.make_table = wrapper(lm_eval.utils.make_table)


_SAVED_OUTPUT: list[str] = []
_AFTER_SAVE: list[Callable[[Any, Any], None]] = []


def after_results_saved(callback: Callable[[Any, Any], None]) -> None:
    """Call ``callback(tracker, results)`` each time lm-eval's ``EvaluationTracker`` has saved a run's
    aggregated results (its command line prints the table after that). Idempotent; a no-op unless the
    tracker is already imported (lm-eval's command line imports it before loading tasks)."""
    module = sys.modules.get("lm_eval.loggers.evaluation_tracker")
    tracker = getattr(module, "EvaluationTracker", None)
    if tracker is None:
        return
    if callback not in _AFTER_SAVE:
        _AFTER_SAVE.append(callback)
    if getattr(tracker.save_results_aggregated, "_xllm_after_save", False):
        return
    original = tracker.save_results_aggregated

    @functools.wraps(original)
    def save_results_aggregated(self, *args: Any, **kwargs: Any) -> Any:
        out = original(self, *args, **kwargs)
        results = kwargs.get("results", args[0] if args else None)
        for hook in list(_AFTER_SAVE):
            hook(self, results)
        return out

    save_results_aggregated._xllm_after_save = True  # type: ignore[attr-defined]
    tracker.save_results_aggregated = save_results_aggregated


def _remember(tracker: Any, results: Any) -> None:
    if getattr(tracker, "output_path", None):
        _SAVED_OUTPUT.append(str(tracker.output_path))


def remember_output_path() -> None:
    """Record the ``--output_path`` lm-eval saves this run's results under (its ``EvaluationTracker``),
    for end-of-run messages (:func:`saved_output_path`), instead of parsing the command line."""
    after_results_saved(_remember)


def saved_output_path() -> str | None:
    """The ``--output_path`` lm-eval saved results under in this process (:func:`remember_output_path`)."""
    return _SAVED_OUTPUT[-1] if _SAVED_OUTPUT else None


def setup_logging(level: str | int) -> None:
    """lm-eval's logging set-up at ``level`` (its ``LMEVAL_LOG_LEVEL`` still wins)."""
    from lm_eval.utils import setup_logging as lm_eval_setup_logging

    lm_eval_setup_logging(level)


def process_results_metric(name: str) -> str | Callable[..., Any]:
    """The YAML ``metric:`` value of a sample metric that the task's ``process_results`` computes.

    0.4.13 keys its results by that value, so it must be the name. 0.5 looks a name up in its metric
    registry first and refuses one registered for another output type (its ``f1`` is for
    multiple-choice tasks): there it is a function with that ``__name__``, which 0.5 takes as is.
    """
    from packaging.version import Version

    if Version(lm_eval_version()) < Version("0.5.0.dev0"):
        return name

    def metric(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError(f"{name} is computed by the task's process_results")

    metric.__name__ = name
    return metric


def no_stderr(aggregation: Callable) -> Callable:
    """Mark an aggregation as one whose standard error lm-eval must not bootstrap: a corpus score
    (100k resamples of a whole-corpus metric) or a signature string. lm-eval 0.4.13 bootstraps only
    its own list of aggregations and reports ``N/A`` for others; 0.5 bootstraps every aggregation but
    ``mean`` (in a process pool, so it also needs a picklable function). The
    marked ones get ``N/A`` on both: marking one installs :func:`honour_no_stderr`, so it holds on
    every route into lm-eval, the import hook switched off included."""
    setattr(aggregation, NO_STDERR, True)
    honour_no_stderr()
    return aggregation


def honour_no_stderr() -> None:
    """Make lm-eval honour :func:`no_stderr` (idempotent; 0.4.13 already gives such aggregations none)."""
    import lm_eval.api.metrics as metrics

    original = metrics.stderr_for_metric
    if getattr(original, NO_STDERR, False):
        return

    @functools.wraps(original)
    def stderr_for_metric(metric: Callable, bootstrap_iters: int):
        if getattr(metric, NO_STDERR, False):
            return None
        return original(metric, bootstrap_iters)

    setattr(stderr_for_metric, NO_STDERR, True)
    metrics.stderr_for_metric = stderr_for_metric
