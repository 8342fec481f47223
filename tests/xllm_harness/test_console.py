"""Quiet output: progress redraws become lines, lm-eval's noise is filtered, details come back on demand."""

from __future__ import annotations

import fcntl
import io
import logging
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

from xllm_harness.bridge.quiet import quiet_output, table_without_signatures
from xllm_harness.console import ProgressLines


def test_redraws_become_one_line_per_step():
    sink = io.StringIO()
    lines = ProgressLines(sink, interval_s=3600)
    for text in (
        "\r  0%| 0/3",
        "\r 33%| 1/3",
        "\r",
        "100%| 3/3",
        "\n",
        "plain line\n",
        "\r 50%| 1/2\r100%| 2/2\n",
    ):
        lines.write(text)
    assert sink.getvalue() == "100%| 3/3\nplain line\n100%| 2/2\n"


def test_long_steps_still_show_progress():
    sink = io.StringIO()
    lines = ProgressLines(sink, interval_s=0.0)
    lines.write("\r 10%| 1/10")
    lines.write("\r 20%| 2/10")
    assert sink.getvalue().splitlines() == [" 10%| 1/10"]
    assert "\r" not in sink.getvalue()


def test_signature_rows_leave_the_table_not_the_results():
    seen = {}

    def make_table(result_dict, column="results", sort_results=False):
        seen.update(result_dict[column]["t"])
        return "table"

    results = {"results": {"t": {"chrf,none": 1.0, "chrf_signature,none": "nrefs:1|case:mixed"}}}
    with quiet_output():
        table_without_signatures(make_table)(results)
    assert seen == {"chrf,none": 1.0}
    assert "chrf_signature,none" in results["results"]["t"]  # the caller's dict is untouched
    seen.clear()
    with quiet_output(verbose=True):
        table_without_signatures(make_table)(results)
    assert "chrf_signature,none" in seen


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_custom_kwargs_hint_is_dropped_unless_verbose():
    task_logger = logging.getLogger("lm_eval.api.task")
    seen = _Records()
    task_logger.addHandler(seen)
    hint = "xquad_xllm_ar: Custom kwargs can be passed to `--metadata` in console (as json string)"
    try:
        with quiet_output():
            task_logger.warning(hint)
            task_logger.warning("a real warning")
        with quiet_output(verbose=True):
            task_logger.warning(hint)
    finally:
        task_logger.removeHandler(seen)
    assert seen.messages == ["a real warning", hint]


def on_terminal(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run ``cmd`` with standard error on a pseudo-terminal; its exit code and what the terminal showed."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))  # 100 columns
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=follower, cwd=cwd, env=env)
    os.close(follower)
    shown = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(leader)
    return proc.wait(timeout=120), shown.decode("utf-8", "replace")


BAR_SCRIPT = """
import time
from xllm_harness.console import progress_bar
for _ in progress_bar(range(4), desc="stage one", unit="batch"):
    time.sleep(0.15)
bar = progress_bar(desc="stage two", total=3, unit="call", leave=False)
for _ in range(3):
    time.sleep(0.15)
    bar.update(1)
bar.close()
for _ in progress_bar(range(3), desc="hidden stage", enabled=False):
    pass
"""


def test_progress_bar_redraws_on_a_terminal_and_is_one_line_per_stage_in_a_log(tmp_path, subprocess_env):
    cmd = [sys.executable, "-c", BAR_SCRIPT]
    code, shown = on_terminal(cmd, subprocess_env, tmp_path)
    assert code == 0, shown
    # a bar redrawn in place, with the rate and the time left ([elapsed<left, rate])
    assert shown.count("\r") >= 4, shown
    assert re.search(r"stage one: +\d+%.*\d/4 \[\d\d:\d\d<\d\d:\d\d, +[\d.]+batch/s\]", shown), shown
    assert "stage two" in shown and "hidden stage" not in shown
    logged = subprocess.run(
        cmd, env=subprocess_env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert logged.returncode == 0, logged.stderr
    assert "\r" not in logged.stderr
    lines = logged.stderr.splitlines()
    assert [line.split(":")[0] for line in lines] == ["stage one", "stage two"], lines
    assert "4/4" in lines[0] and "batch/s]" in lines[0] and "3/3" in lines[1]


def test_xllm_data_build_shows_its_bar_on_a_terminal_only(tmp_path, subprocess_env, samples_dir):
    env = {**subprocess_env, "XLLM_DATA_DIR": str(samples_dir)}
    cmd = [
        sys.executable,
        "-m",
        "xllm_harness.cli",
        "data",
        "build",
        "alpaca_en[:8]+alpaca_zh[:4]",
        "-o",
        "x.jsonl",
    ]
    code, shown = on_terminal(cmd, env, tmp_path)
    assert code == 0, shown
    assert "\r" in shown and re.search(r"reading data: +100%.*2/2 \[.*source/s\]", shown), shown
    logged = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert logged.returncode == 0 and "\r" not in logged.stderr
    assert [line for line in logged.stderr.splitlines() if "reading data" in line] == [
        next(line for line in logged.stderr.splitlines() if line.startswith("reading data: 100%"))
    ]
