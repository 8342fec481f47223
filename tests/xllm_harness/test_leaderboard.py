"""``xllm leaderboard``: collection, averages, reported rows, and the HTML page in headless Chromium."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from xllm_harness.cli import main
from xllm_harness.leaderboard import build_tables, collect


def write_results(
    folder: Path, model: str, results: dict[str, dict[str, float]], stamp: str, mtime: float
) -> Path:
    """A results file in lm-eval's layout (what `lm_eval --output_path` writes)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"results_{stamp}.json"
    payload = {
        "results": {
            task: {
                "alias": task,
                **{f"{k},none": v for k, v in m.items()},
                **{f"{k}_stderr,none": 0.01 for k in m},
            }
            for task, m in results.items()
        },
        "config": {"model": "hf", "model_args": {"pretrained": f"/models/{model}", "dtype": "float32"}},
        "model_name": f"/models/{model}",
    }
    path.write_text(json.dumps(payload))
    os.utime(path, (mtime, mtime))
    return path


@pytest.fixture
def runs(tmp_path) -> Path:
    root = tmp_path / "runs"
    base = root / "base" / "__models__base"
    write_results(
        base,
        "base",
        {
            "xquad_xllm_ar": {"match": 0.2, "exact_match": 0.1, "f1": 0.3},
            "xquad_xllm_en": {"match": 0.9, "exact_match": 0.8, "f1": 0.85},
            "xquad_xllm_zh": {"match": 0.4, "exact_match": 0.2, "f1": 0.5},
        },
        "2026-01-01T00-00-00",
        1000,
    )
    # an older run of the same model and task must lose against the newer one
    write_results(
        base,
        "base",
        {"xquad_xllm_ar": {"match": 0.05, "exact_match": 0.0, "f1": 0.0}},
        "2025-01-01T00-00-00",
        10,
    )
    tuned = root / "tuned" / "__models__tuned"
    write_results(
        tuned,
        "tuned",
        {
            "xquad_xllm_ar": {"match": 0.5, "exact_match": 0.3, "f1": 0.6},
            "flores_xllm_en-ar": {"spbleu": 12.5, "chrf": 30.0},
            "flores_xllm_ar-en": {"spbleu": 20.5, "chrf": 40.0},
        },
        "2026-01-02T00-00-00",
        2000,
    )
    (tuned / "xllm_scores_2026-01-03T00-00-00.json").write_text(
        json.dumps(
            {
                "model_name": "/models/tuned",
                "results": {"flores_xllm_en-ar": {"comet": 0.71}, "flores_xllm_ar-en": {"comet": 0.79}},
            }
        )
    )
    (tuned / "judge_qa_2026-01-03T00-00-00.json").write_text(
        json.dumps(
            {"model_name": "/models/tuned", "results": {"xquad_xllm_ar": {"judge_accuracy": 0.75, "n": 100}}}
        )
    )
    return root


def table(tables, title):
    return next(t for t in tables if t.title == title)


def test_tables_averages_and_reported_rows(runs):
    scores, _ = collect([runs], aliases={"tuned": "x-tuned"})
    tables = build_tables(scores)
    match = table(tables, "XQuAD: match (x-LLM)")
    assert match.columns == ["ar", "zh", "en"]
    base = next(r for r in match.rows if r.label == "base")
    assert base.values == {"ar": 0.2, "zh": 0.4, "en": 0.9}  # the newest run wins
    assert base.average == pytest.approx(0.3)  # English is left out of the paper's averages
    tuned = next(r for r in match.rows if r.label == "x-tuned")
    assert tuned.values["zh"] is None and tuned.average == 0.5
    reported = [r for r in match.rows if r.reported]
    assert [r.label for r in reported][-1] == "x-LLaMA-7B (reported, Table 6)"
    assert reported[-1].values["ar"] == 0.49 and reported[-1].average == pytest.approx(
        (0.49 + 0.56 + 0.59 + 0.61 + 0.54 + 0.53) / 6
    )
    judge = table(tables, "XQuAD: judge accuracy")
    assert next(r for r in judge.rows if not r.reported).values["ar"] == 0.75
    assert any("Table 2" in r.label for r in judge.rows)
    comet = table(tables, "FLORES-101: COMET (x100)")
    assert comet.columns == ["en-ar", "ar-en"] and comet.rows[0].average == pytest.approx(75.0)
    spbleu = table(tables, "FLORES-101: spBLEU")
    assert spbleu.rows[0].average == pytest.approx(16.5)
    assert any(r.reported and r.average == 34.40 for r in spbleu.rows)


def test_cli_writes_markdown_csv_html(runs, tmp_path, capsys):
    assert main(["leaderboard", str(runs), "-o", str(tmp_path / "lb")]) == 0
    out = capsys.readouterr().out
    assert "### XQuAD: match (x-LLM)" in out and "| base | 0.200 | 0.400 | 0.900 | 0.300 |" in out
    rows = list(csv.DictReader((tmp_path / "lb" / "leaderboard.csv").open()))
    avg = [r for r in rows if r["table"] == "XQuAD: F1" and r["model"] == "base" and r["column"] == "Avg"]
    assert float(avg[0]["value"]) == pytest.approx(0.4)


def test_cli_errors(tmp_path, capsys):
    assert main(["leaderboard", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["leaderboard", str(tmp_path / "empty")]) == 2
    assert "no results found" in capsys.readouterr().err
    assert main(["leaderboard", str(tmp_path), "--name", "nonsense"]) == 2
    assert "expected OLD=NEW" in capsys.readouterr().err


class _Cells(HTMLParser):
    """Collect table cells and chart bars (with data-value) from the rendered DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[dict[str, str]] = []
        self.bars: list[dict[str, str]] = []
        self.rendered = False
        self._table = ""
        self._model: str | None = None
        self._in_first_td = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "body" and a.get("data-rendered") == "yes":
            self.rendered = True
        if tag == "table":
            self._table = a.get("data-table", "")
        if tag == "tr":
            self._model = None
        if tag == "td":
            if self._model is None:
                self._in_first_td = True
            elif "data-column" in a:
                self.cells.append(
                    {
                        "table": self._table,
                        "model": self._model,
                        "column": a["data-column"],
                        "value": a.get("data-value", ""),
                    }
                )
        if tag == "rect" and "bar" in (a.get("class") or ""):
            self.bars.append(a)

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


def test_html_renders_in_headless_chromium_and_matches_csv(runs, tmp_path):
    binary = chromium()
    assert main(["leaderboard", str(runs), "-o", str(tmp_path / "lb")]) == 0
    page = (tmp_path / "lb" / "leaderboard.html").resolve()
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [binary, *flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    parsed = _Cells()
    parsed.feed(dom.stdout)
    assert parsed.rendered, "the page's script did not run"
    rows = list(csv.DictReader((tmp_path / "lb" / "leaderboard.csv").open()))
    assert len(parsed.cells) == len(rows)
    for cell, row in zip(parsed.cells, rows, strict=True):
        assert (cell["table"], cell["model"], cell["column"]) == (row["table"], row["model"], row["column"])
        assert cell["value"] == row["value"]  # exact values, not just the rounded display
    csv_avgs = [(r["model"], float(r["value"])) for r in rows if r["column"] == "Avg" and r["value"]]
    assert [
        (b["data-model"], float(b["data-value"])) for b in parsed.bars
    ] == csv_avgs  # JS prints 82, Python 82.0
    shot = tmp_path / "shot.png"
    subprocess.run(
        [binary, *flags, f"--screenshot={shot}", "--window-size=1200,2000", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 10_000


def test_mi_eval_pairwise_table(tmp_path, capsys):
    """Win/tie/loss of A against B per language from `xllm judge pairwise` output; `all` is not averaged."""
    (tmp_path / "judge_pairwise_2026-01-01T00-00-00.json").write_text(
        json.dumps(
            {
                "models": {"a": "/m/x-llama", "b": "/m/alpaca"},
                "results": {
                    "zh": {"win": 6, "tie": 2, "loss": 2},
                    "ar": {"win": 1, "tie": 1, "loss": 2},
                    "all": {"win": 7, "tie": 3, "loss": 4},
                },
            }
        )
    )
    assert main(["leaderboard", str(tmp_path), "--no-reported"]) == 0
    out = capsys.readouterr().out
    assert (
        "| x-llama vs alpaca | 0.250 | 0.250 | 0.500 | 0.600 | 0.200 | 0.200 | 0.500 | 0.214 | 0.286 | 0.425 |"
        in out
    )
