"""Quiet, log-friendly console output for runs that go through lm-eval.

By default the noise that libraries print on every run is dropped: lm-eval's per-task hint
``Custom kwargs can be passed to --metadata``, git's ``fatal: not a git repository`` when lm-eval
looks up a commit hash outside a checkout, the ``pkg_resources is deprecated`` warning (torchmetrics),
and metric signatures as rows of the printed results table (they stay in the results JSON). When
standard error is not a terminal, progress bars become one line per step
(:class:`xllm_harness.console.ProgressLines`). Details come back with ``-v`` (``xllm eval -v INFO``)
or, under a bare ``lm_eval``, with ``LMEVAL_LOG_LEVEL=DEBUG``.

:func:`install_lm_eval_quieting` is applied by the lm-eval hook too, so a bare ``lm_eval`` run gets
the same treatment as far as it reaches.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from typing import Any

from xllm_harness.bridge import internals as lm_eval_internals
from xllm_harness.console import ProgressLines

SIGNATURE_SUFFIX = "_signature"

_details = {"verbose": False}


def details_wanted() -> bool:
    """True when the user asked for details (``-v``, or lm-eval's own log level at DEBUG)."""
    return _details["verbose"] or logging.getLogger("lm_eval").getEffectiveLevel() <= logging.DEBUG


class _DropNoise(logging.Filter):
    """Drops records whose message contains one of ``fragments`` unless details are wanted."""

    def __init__(self, fragments: tuple[str, ...]) -> None:
        super().__init__()
        self.fragments = fragments

    def filter(self, record: logging.LogRecord) -> bool:
        if details_wanted():
            return True
        message = record.getMessage()
        return not any(fragment in message for fragment in self.fragments)


def quiet_git_commit_hash() -> str | None:
    """lm-eval's commit-hash lookup without git's ``fatal: not a git repository`` on standard error."""
    try:
        found = subprocess.run(["git", "describe", "--always"], capture_output=True, text=True, check=False)
    except FileNotFoundError:  # git not installed
        found = None
    if found is not None and found.returncode == 0:
        return found.stdout.strip()
    return lm_eval_internals.commit_from_path(os.getcwd())


def table_without_signatures(make_table):
    """Wrap lm-eval's ``make_table`` so ``*_signature`` rows are left out unless details are wanted."""
    if getattr(make_table, "_xllm_wrapped", False):
        return make_table

    def wrapped(result_dict: dict[str, Any], column: str = "results", sort_results: bool = False) -> str:
        if not details_wanted() and column in result_dict:
            result_dict = {**result_dict, column: _drop_signatures(result_dict[column])}
        return make_table(result_dict, column, sort_results)

    wrapped._xllm_wrapped = True  # type: ignore[attr-defined]
    return wrapped


def _drop_signatures(rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        task: {
            key: value for key, value in metrics.items() if not key.split(",")[0].endswith(SIGNATURE_SUFFIX)
        }
        for task, metrics in rows.items()
    }


def _signatures_out_of_the_printed_table(tracker: Any, results: Any) -> None:
    """After lm-eval saved a run's results (signatures included), leave the signature rows out of the
    table its command line prints next. For ``lm_eval --include_path`` with the import hook off, where
    our code loads after lm-eval bound its ``make_table``: the saved file keeps every signature."""
    if details_wanted() or not isinstance(results, dict):
        return
    for column in ("results", "groups"):
        if isinstance(results.get(column), dict):
            results[column] = _drop_signatures(results[column])


def install_lm_eval_quieting() -> None:
    """Filters and wrappers on lm-eval's noisy spots (idempotent; needs only lm_eval.utils imported).

    Installed by the import hook when lm-eval starts and by our task code when lm-eval loads it, so every
    route into lm-eval gets it."""
    for name, fragments in lm_eval_internals.NOISY_MESSAGES.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropNoise) for f in logger.filters):
            logger.addFilter(_DropNoise(fragments))
    lm_eval_internals.wrap_make_table(table_without_signatures)
    lm_eval_internals.replace_commit_hash_lookup(quiet_git_commit_hash)
    lm_eval_internals.after_results_saved(_signatures_out_of_the_printed_table)


@contextlib.contextmanager
def quiet_output(verbose: bool = False, log_level: str | None = None) -> Iterator[None]:
    """Quiet lm-eval and friends for the duration of one command; restores everything after.

    ``log_level`` sets lm-eval's logger (default WARNING); ``verbose`` brings the dropped details back.
    """
    lm_logger = logging.getLogger("lm_eval")
    saved = (_details["verbose"], lm_logger.level, sys.stderr)
    _details["verbose"] = verbose
    import lm_eval.evaluator  # noqa: F401  (its commit-hash lookup is replaced below)

    lm_eval_internals.setup_logging(log_level.upper() if log_level else logging.WARNING)

    with warnings.catch_warnings():
        install_lm_eval_quieting()
        if not sys.stderr.isatty():
            sys.stderr = ProgressLines(sys.stderr)  # type: ignore[assignment]
        try:
            yield
        finally:
            if isinstance(sys.stderr, ProgressLines):
                sys.stderr.flush()
            _details["verbose"], level, sys.stderr = saved
            lm_logger.setLevel(level)
