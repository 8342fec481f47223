"""Quiet, log-friendly console output for runs that go through lm-eval.

By default the noise that libraries print on every run is dropped: lm-eval's per-task hint
``Custom kwargs can be passed to --metadata``, git's ``fatal: not a git repository`` when lm-eval
looks up a commit hash outside a checkout, the ``pkg_resources is deprecated`` warning (torchmetrics),
and metric signatures as rows of the printed results table (they stay in the results JSON). When
standard error is not a terminal, each progress bar becomes one line per step (its final state, plus
one line a minute for long steps) instead of carriage-return redraws. Details come back with ``-v``
(``xllm eval -v INFO``) or, under a bare ``lm_eval``, with ``LMEVAL_LOG_LEVEL=DEBUG``.

:func:`install_lm_eval_quieting` is applied by the lm-eval hook too, so a bare ``lm_eval`` run gets
the same treatment as far as it reaches.

:func:`progress_bar` is the one progress bar of our own long work (COMET/BLEURT batches, judge calls,
training steps, tokenizing, ``xllm data build``'s sources, the leaderboard's bootstrap): on a terminal a
tqdm bar with its rate and time left; in a log, through :class:`ProgressLines`, one line per stage.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import subprocess
import sys
import time
import warnings
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from xllm_harness.bridge import internals as lm_eval_internals

SIGNATURE_SUFFIX = "_signature"
PROGRESS_LINE_INTERVAL_S = 60.0

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


def install_lm_eval_quieting() -> None:
    """Filters and wrappers on lm-eval's noisy spots (idempotent; needs only lm_eval.utils imported)."""
    for name, fragments in lm_eval_internals.NOISY_MESSAGES.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, _DropNoise) for f in logger.filters):
            logger.addFilter(_DropNoise(fragments))
    lm_eval_internals.wrap_make_table(table_without_signatures)
    lm_eval_internals.replace_commit_hash_lookup(quiet_git_commit_hash)


class ProgressLines(io.TextIOBase):
    """A text stream that turns carriage-return redraws into whole lines.

    Text between two ``\\r`` is a redraw of the same line: only the last one before a newline is
    written, plus one every :data:`PROGRESS_LINE_INTERVAL_S` seconds so long steps still show progress.
    """

    def __init__(self, stream: TextIO, interval_s: float = PROGRESS_LINE_INTERVAL_S) -> None:
        super().__init__()
        self.stream = stream
        self.interval_s = interval_s
        self._line = ""
        self._redraw = False
        self._last_emit = time.monotonic()

    def write(self, text: str) -> int:
        for token in re.split(r"(\r\n|\r|\n)", text):
            if token in ("\n", "\r\n"):
                self._emit()
                self._line, self._redraw = "", False
            elif token == "\r":
                self._redraw = True
                if self._line and time.monotonic() - self._last_emit >= self.interval_s:
                    self._emit()
            elif token:
                self._line = token if self._redraw else self._line + token
                self._redraw = False
        return len(text)

    def _emit(self) -> None:
        self.stream.write(self._line.rstrip() + "\n")
        self._last_emit = time.monotonic()

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return False

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self.stream, "encoding", "utf-8")


def progress_bar(
    iterable: Iterable[Any] | None = None,
    *,
    desc: str,
    total: int | None = None,
    unit: str = "it",
    enabled: bool = True,
    initial: int = 0,
    leave: bool = True,
):
    """A tqdm bar on standard error: redrawn in place with rate and time left when standard error is a
    terminal; otherwise its final state is one line when the stage ends (``desc: 100%|...| 12/12
    [00:03<00:00, 3.51batch/s]``), plus one a minute for long stages. ``enabled=False`` (``--no-progress``,
    a rank other than 0) shows nothing. Use it as tqdm: iterate it, or ``update()`` and ``close()``."""
    from tqdm.auto import tqdm

    stream = sys.stderr
    tty = stream.isatty()
    file = stream if tty or not enabled or isinstance(stream, ProgressLines) else ProgressLines(stream)
    return tqdm(
        iterable,
        desc=desc,
        total=total,
        unit=unit,
        initial=initial,
        file=file,
        disable=not enabled,
        leave=leave or not tty,  # off a terminal the final state is the stage's line
        dynamic_ncols=tty,
        ascii=None if tty else True,
    )


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
