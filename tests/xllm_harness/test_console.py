"""Quiet output: progress redraws become lines, lm-eval's noise is filtered, details come back on demand."""

from __future__ import annotations

import io
import logging

from xllm_harness.console import ProgressLines, quiet_output, table_without_signatures


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
