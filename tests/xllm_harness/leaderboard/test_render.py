"""Leaderboard rendering: Markdown, CSV with intervals, HTML charts (shared labelled axes, legends, stacked
MI-Eval bars, interval whiskers), the overview heatmaps, one style per system, no empty charts, paths
relative to the leaderboard folder, figure files, and the page's DOM in headless Chromium (the
interactive checks are in test_leaderboard_browser.py)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from xllm_harness.leaderboard.board import (
    add_intervals,
    build_tables,
    collect,
    compare_to_baseline,
    pairwise_table,
)
from xllm_harness.leaderboard.render import (
    PALETTE,
    figures,
    relative_paths,
    system_styles,
    to_csv,
    to_html,
    to_markdown,
)
from xllm_harness.metrics import get_metric

STAMP = "2026-01-01T00-00-00.000001"


def write_run(
    folder: Path, pretrained: str, outputs: dict[str, list[str]], extra: dict | None = None
) -> None:
    """lm-eval's layout for QA tasks: samples files and a results file whose numbers they give."""
    folder.mkdir(parents=True, exist_ok=True)
    results = {}
    for task, outs in outputs.items():
        lang = task.rsplit("_", 1)[1]
        docs = [
            {"context": "c", "question": "q", "answers": [f"gold{i}"], "lang": lang} for i in range(len(outs))
        ]
        lines = [
            {"doc_id": i, "doc": d, "filtered_resps": [o]}
            for i, (d, o) in enumerate(zip(docs, outs, strict=True))
        ]
        (folder / f"samples_{task}_{STAMP}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
        refs = [d["answers"] for d in docs]
        results[task] = {
            f"{m},none": get_metric(m)().corpus_score(outs, refs, lang=lang).score for m in ("match", "f1")
        }
    for task, values in (extra or {}).items():
        results.setdefault(task, {}).update({f"{k},none": v for k, v in values.items()})
    config = {"model": "hf", "model_args": f"pretrained={pretrained}"}
    (folder / f"results_{STAMP}.json").write_text(json.dumps({"results": results, "config": config}))


def answers(n: int, every: int) -> list[str]:
    return [f"gold{i}" if i % every == 0 else "other" for i in range(n)]


@pytest.fixture
def board(tmp_path):
    tasks = ("xquad_xllm_ar", "xquad_xllm_zh", "mlqa_xllm_ar")
    flores = {"flores_xllm_en-zh": {"chrf": 40.0}, "flores_xllm_zh-en": {"chrf": 50.0}}
    write_run(tmp_path / "runs" / "base", "/abs/models/base", {t: answers(40, 4) for t in tasks}, flores)
    write_run(tmp_path / "runs" / "tuned", "/abs/models/tuned", {t: answers(40, 2) for t in tasks[:2]})
    (tmp_path / "runs" / f"judge_pairwise_{STAMP}.json").write_text(
        json.dumps(
            {
                "models": {"a": "/abs/models/tuned", "b": "/abs/models/base"},
                "results": {"ar": {"win": 6, "tie": 2, "loss": 2}, "all": {"win": 6, "tie": 2, "loss": 2}},
            }
        )
    )
    details = [
        {"lang": "ar", "outcome": k} for k, n in (("win", 6), ("tie", 2), ("loss", 2)) for _ in range(n)
    ]
    (tmp_path / "runs" / f"judge_pairwise_{STAMP}.details.jsonl").write_text(
        "".join(json.dumps(d) + "\n" for d in details)
    )
    found = collect([tmp_path / "runs"])
    add_intervals(found.scores)
    tables = build_tables(found.scores)
    compare_to_baseline(tables, "base")
    tables.append(pairwise_table(found.pairwise))
    return tables


class Svg(HTMLParser):
    """The charts of a page: per chart its attributes, axis labels, legend entries, bars and whiskers."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[dict] = []
        self._text: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self.charts.append(
                {**a, "axis": [], "legend": [], "bars": [], "intervals": [], "categories": [], "cells": [],
                 "values": []}
            )  # fmt: skip
        elif self.charts and tag == "rect" and a.get("class") == "hm-cell":
            self.charts[-1]["cells"].append(a)
        elif self.charts and tag == "rect" and "bar" in (a.get("class") or "").split():
            self.charts[-1]["bars"].append(a)
        elif self.charts and tag == "line" and a.get("class") == "interval":
            self.charts[-1]["intervals"].append(a)
        elif self.charts and tag == "text":
            self._text = {
                "axis-label": "axis",
                "legend-entry": "legend",
                "category": "categories",
                "hm-value": "values",
                "hm-interval": "values",
            }.get(a.get("class"))

    def handle_data(self, data):
        if self._text:
            self.charts[-1][self._text].append(data)
            self._text = None

    def handle_endtag(self, tag):
        self._text = None


def charts(page: str, kind: str = "chart") -> list[dict]:
    """The page's SVGs of one class: ``chart`` (bars) or ``heatmap``."""
    parser = Svg()
    parser.feed(page)
    return [c for c in parser.charts if c.get("class") == kind]


def test_charts_share_one_labelled_axis_per_metric(board):
    page = to_html(board)
    drawn = charts(page)
    by_metric: dict[str, list[dict]] = {}
    for chart in drawn:
        by_metric.setdefault(chart["data-metric"], []).append(chart)
    match = by_metric["match"]
    assert len(match) == 2  # XQuAD and MLQA
    (limits,) = {(c["data-ymin"], c["data-ymax"]) for c in match}  # shared limits
    assert limits[0] == "0.0"
    assert all(c["axis"] == ["match (x-LLM)"] for c in match)
    highest = max(float(b["data-value"]) for c in match for b in c["bars"])
    assert 0.7 < highest <= float(limits[1]) < highest + 0.2  # nice ticks, not a per-chart maximum
    xquad = match[0]
    assert xquad["legend"][:2] == ["base", "tuned"] and "x-LLaMA-7B (reported, Table 6)" in xquad["legend"]
    assert xquad["categories"][:2] == ["ar", "zh"] and "avg" in xquad["categories"]
    measured = [
        b for b in xquad["bars"] if b["data-model"] in ("base", "tuned") and b["data-column"] != "avg"
    ]
    assert len(xquad["intervals"]) == len(measured) == 4  # a whisker on every measured bar with an interval
    chrf = by_metric["chrf"][0]
    assert [c for c in chrf["categories"] if "avg" in c] == ["en-x avg", "x-en avg"]  # averaged apart
    for chart in drawn:
        assert "/abs/" not in json.dumps(chart)  # no absolute paths in the pictures


def test_mi_eval_as_stacked_win_tie_loss_bars(board):
    (chart,) = [c for c in charts(to_html(board)) if c["data-metric"] == "win_tie_loss"]
    assert chart["legend"] == ["win", "tie", "loss"] and chart["axis"] == ["share of items (%) — A against B"]
    ar = [b for b in chart["bars"] if b["data-column"].startswith("ar ")]
    assert [b["data-column"] for b in ar] == ["ar win", "ar tie", "ar loss"]
    assert [float(b["data-value"]) for b in ar] == [0.6, 0.2, 0.2]
    assert float(ar[1]["x"]) == pytest.approx(float(ar[0]["x"]) + float(ar[0]["width"]), abs=0.1)  # stacked
    assert len(chart["intervals"]) == 2  # the win share's interval, for ar and all
    lo, hi = (float(chart["intervals"][0][k]) for k in ("data-low", "data-high"))
    assert lo < 0.6 < hi


def test_markdown_and_csv(board):
    markdown = to_markdown(board)
    assert "### XQuAD: match (x-LLM)" in markdown
    assert "| tuned | 0.500 ▲ | 0.500 ▲ | 0.500 |" in markdown  # 20/40 against base's 10/40
    assert "significantly higher/lower than base" in markdown
    assert "| tuned vs base | 0.600 | 0.200 | 0.200 | 0.600 | 0.200 | 0.200 | 0.600 |" in markdown
    rows = list(csv.DictReader(io.StringIO(to_csv(board))))
    cell = next(r for r in rows if r["table"] == "XQuAD: F1" and r["model"] == "base" and r["column"] == "ar")
    assert float(cell["ci_low"]) < float(cell["value"]) < float(cell["ci_high"])
    tuned = next(
        r
        for r in rows
        if r["table"] == "XQuAD: match (x-LLM)" and r["model"] == "tuned" and r["column"] == "ar"
    )
    assert tuned["vs_baseline"] == "higher" and float(tuned["p_holm"]) < 0.05


class _Cells(HTMLParser):
    """Table cells (with data-value and intervals) from the rendered DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict[str, str]] = []
        self._table = ""
        self._model: str | None = None
        self._in_first_td = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            self._table = a.get("data-table", "")
        if tag == "tr":
            self._model = None
        if tag == "td":
            if self._model is None:
                self._in_first_td = True
            elif "data-column" in a:
                self.cells.append({"table": self._table, "model": self._model, **a})

    def handle_data(self, data):
        if self._in_first_td:
            self._model = data
            self._in_first_td = False


def chromium() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        pytest.skip("headless Chromium not installed (Debian package `chromium`; .ci/run installs it)")
    return binary


CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def test_html_renders_in_headless_chromium_and_matches_csv(board, tmp_path):
    binary = chromium()
    page = tmp_path / "leaderboard.html"
    page.write_text(to_html(board), encoding="utf-8")
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [binary, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    parsed = _Cells()
    parsed.feed(dom.stdout)
    rows = list(csv.DictReader(io.StringIO(to_csv(board))))
    assert len(parsed.cells) == len(rows)
    for cell, row in zip(parsed.cells, rows, strict=True):
        assert (cell["table"], cell["model"], cell["data-column"]) == (
            row["table"],
            row["model"],
            row["column"],
        )
        assert cell.get("data-value", "") == row["value"]  # exact values, not just the rounded display
        assert cell.get("data-ci-low", "") == row["ci_low"] and cell.get("data-ci-high", "") == row["ci_high"]
    drawn = [kind for kind, _, _ in figures(board)]
    assert len(charts(dom.stdout)) == drawn.count("chart") + drawn.count("pairwise")  # Chromium keeps them
    assert len(charts(dom.stdout, "heatmap")) == drawn.count("heatmap") == 3  # XQuAD, MLQA, FLORES
    shot = tmp_path / "shot.png"
    subprocess.run(
        [binary, *flags, f"--screenshot={shot}", "--window-size=1200,2000", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 10_000


def test_overview_heatmaps_put_the_papers_rows_beside_the_measured_ones(board):
    (xquad, _mlqa, flores) = charts(to_html(board), "heatmap")
    assert (xquad["data-family"], xquad["data-metric"]) == ("xquad_xllm", "match")
    assert flores["data-metric"] == "chrf"  # FLORES' first metric with a measured number
    ar = [c for c in xquad["cells"] if c["data-column"] == "ar"]
    assert len(ar) == 2 + 4  # base, tuned, and the paper's four systems (Table 6)
    low, high = float(xquad["data-vmin"]), float(xquad["data-vmax"])
    assert low == 0.0 and all(low <= float(c["data-value"]) <= high for c in ar)
    base, tuned = (next(c for c in ar if c["data-value"] == v) for v in ("0.25", "0.5"))
    assert base["fill"] != tuned["fill"]  # coloured by value
    assert "0.250" in xquad["values"] and any(v.startswith("[") for v in xquad["values"])  # value, interval
    assert "missing" not in xquad["values"]


def test_one_style_per_system_the_same_in_every_chart(board):
    styles = system_styles(board)
    assert len(set(styles.values())) == len(styles)  # every system told apart
    assert {s.colour for s in styles.values()} <= set(PALETTE)
    assert all(s.pattern in ("hatch", "crosshatch") for label, s in styles.items() if "reported" in label)
    fills: dict[str, set[str]] = {}
    page = to_html(board)
    for chart in charts(page):
        legend_fill = {b["data-model"]: b["fill"] for b in chart["bars"]}
        for model, fill in legend_fill.items():
            colour = fill if fill.startswith("#") else styles[model].colour
            fills.setdefault(model, set()).add(colour)
    assert fills["base"] == {styles["base"].colour} and fills["tuned"] == {styles["tuned"].colour}


def test_a_metric_with_nothing_to_show_gets_a_line_not_an_empty_chart(tmp_path):
    zero = {"xquad_xllm_ar": ["other"] * 10, "xquad_xllm_zh": ["other"] * 10}
    write_run(tmp_path / "runs" / "zero", "/abs/models/zero", zero)
    tables = build_tables(collect([tmp_path / "runs"]).scores, include_reported=False)
    page = to_html(tables)
    assert not charts(page)  # every match and F1 is 0
    assert page.count("No chart: every value is 0") == 2
    assert "- no chart: every value is 0" in to_markdown(tables)


def test_paths_are_relative_to_the_leaderboard_folder(tmp_path):
    board = tmp_path / "runs" / "board"
    note = f"missing for base ar: no samples file {tmp_path}/runs/base/samples_x.jsonl."
    assert relative_paths(note, board) == "missing for base ar: no samples file ../base/samples_x.jsonl."
    home = Path.home()
    far = f"needs {home}/.sacrebleu/models/spm.model (absent)"
    if len(Path(os.path.relpath(home, board)).parts) > 3:
        assert relative_paths(far, board) == "needs ~/.sacrebleu/models/spm.model (absent)"
    assert relative_paths(note, None) == note


def test_every_figure_is_written_as_svg_and_png(board, tmp_path):
    from xllm_harness.leaderboard.figures import write_figures

    written = write_figures(board, tmp_path / "figures")
    names = [name for _, name, _ in figures(board)]
    assert sorted(p.name for p in written) == sorted(f"{n}.{ext}" for n in names for ext in ("svg", "png"))
    for path in written:
        head = path.read_bytes()[:200]
        assert head.startswith(b"\x89PNG") if path.suffix == ".png" else b"<svg" in head
        assert path.stat().st_size > 2_000
