"""Console output of our own long work: :func:`progress_bar` is the one progress bar (COMET/BLEURT
batches, judge calls, training steps, tokenizing, ``xllm data build``'s sources, the leaderboard's
bootstrap): on a terminal a tqdm bar with its rate and time left; in a log, through
:class:`ProgressLines`, one line per stage (its final state, plus one line a minute for long stages).
lm-eval's own noise is quieted in :mod:`xllm_harness.bridge.quiet`.
"""

from __future__ import annotations

import io
import re
import sys
import time
from collections.abc import Iterable
from typing import Any, TextIO

PROGRESS_LINE_INTERVAL_S = 60.0


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
