"""The README's main job: `xllm demo` trains, evaluates both models through lm-eval, writes the
leaderboard, and says what moved (loss, chrF++) and why QA did not, on one screen without noise."""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from xllm_harness.demo import FLORES_TASKS, QA_TASKS, Scores, summary

NOISE = ("Custom kwargs", "fatal: not a git repository", "pkg_resources", "malformed record", "Traceback")
SCREEN_LINES = 40


def newest_results(folder: Path) -> dict:
    files = sorted(folder.rglob("results_*.json"))
    assert files, folder
    return json.loads(files[-1].read_text(encoding="utf-8"))["results"]


@pytest.mark.slow
def test_demo_end_to_end(tmp_path, subprocess_env):
    subprocess_env["XLLM_CACHE_DIR"] = str(tmp_path / "cache")
    demo = tmp_path / "demo"
    argv = [
        sys.executable,
        "-m",
        "xllm_harness.cli",
        "demo",
        "-o",
        str(demo),
        "--limit",
        "2",
        "--max-steps",
        "4",
    ]
    out = subprocess.run(argv, cwd=tmp_path, env=subprocess_env, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-4000:]
    for stage in ("[1/4]", "[2/4]", "[3/4]", "[4/4]"):  # one line per stage, with its time
        assert re.search(rf"^{re.escape(stage)} .+ \.\.\. \d+\.\d s$", out.stderr, re.M), out.stderr
    page = (demo / "leaderboard" / "leaderboard.html").resolve().as_uri()
    assert page in out.stderr.splitlines()[-1]  # it ends by naming the page
    screen = out.stdout + out.stderr
    assert len(screen.splitlines()) <= SCREEN_LINES, screen
    assert not [n for n in NOISE if n in screen], screen
    assert "\r" not in screen
    for log in (demo / "logs").glob("*.log"):  # each step's own output is kept, without redraws
        text = log.read_text(encoding="utf-8")
        assert "\r" not in text and "malformed record" not in text, log

    # what moved: the loss of the trainer's own log, chrF++ of lm-eval's own results files
    losses = [
        json.loads(line)["loss"]
        for line in (demo / "tiny-coit" / "train_log.jsonl").open()
        if '"loss"' in line
    ]
    assert f"{losses[0]:.2f} -> {losses[-1]:.2f} over {len(losses)} steps" in out.stdout
    for name, label in (("tiny-untrained", "untrained"), ("tiny-coit", "trained")):
        results = newest_results(demo / "results" / name)
        chrf = sum(results[t]["chrf,none"] for t in FLORES_TASKS) / len(FLORES_TASKS)
        assert re.search(rf"{label}\s+{chrf:.1f}\b", out.stdout), (label, chrf, out.stdout)
        assert all(t in results for t in QA_TASKS)
    assert "xllm eval --model hf --model_args pretrained=MODEL" in out.stdout  # where to go next

    assert (demo / "tiny-coit" / "config.json").exists()  # the trainer saved an HF model
    rows = list(csv.DictReader((demo / "leaderboard" / "leaderboard.csv").open()))
    measured = {r["model"] for r in rows if r["reported"] == "no"}
    assert measured == {"tiny-untrained", "tiny-coit"}
    flores = [
        r for r in rows if r["family"] == "flores_xllm" and r["column"] == "en-zh" and r["reported"] == "no"
    ]
    assert len(flores) == 2 and all(r["value"] != "" for r in flores)
    markdown = (demo / "leaderboard" / "leaderboard.md").read_text(encoding="utf-8")
    assert "### XQuAD: match (x-LLM)" in markdown and "### FLORES-101: chrF++" in markdown
    assert (demo / "leaderboard" / "leaderboard.html").stat().st_size > 2000


def test_summary_explains_zero_qa_and_says_what_moved(tmp_path):
    text = summary([6.9, 5.0, 4.2], Scores(1.5, 0.0, 0.0), Scores(9.25, 0.0, 0.01), tmp_path, steps=3)
    assert "6.90 -> 4.20 over 3 steps" in text
    assert re.search(r"untrained\s+1\.5\s+trained\s+9\.2", text)
    assert "QA stays at about 0" in text and "trained for 3 steps" in text
    assert len(text.splitlines()) < 20


def test_summary_does_not_claim_zero_when_qa_moved(tmp_path):
    text = summary([2.0], Scores(1.0, 0.0, 0.0), Scores(2.0, 0.3, 0.4), tmp_path, steps=1)
    assert "QA stays at about 0" not in text
    assert "trained 0.30 / 0.40" in text


def test_missing_metric_is_said_not_invented(tmp_path):
    text = summary([], Scores(None, None, None), Scores(None, None, None), tmp_path, steps=0)
    assert "missing" in text and "not logged" in text
