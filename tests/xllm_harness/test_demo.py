"""The README's main job: `xllm demo` trains, evaluates both models through lm-eval and prints the leaderboard."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_demo_end_to_end(tmp_path, subprocess_env):
    subprocess_env["XLLM_CACHE_DIR"] = str(tmp_path / "cache")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "xllm_harness.cli",
            "demo",
            "-o",
            str(tmp_path / "demo"),
            "--limit",
            "2",
            "--max-steps",
            "4",
        ],
        cwd=tmp_path,
        env=subprocess_env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert out.returncode == 0, out.stderr[-4000:]
    for stage in ("[1/4]", "[2/4]", "[3/4]", "[4/4]"):
        assert stage in out.stderr  # progress is shown
    assert "### XQuAD: match (x-LLM)" in out.stdout and "### FLORES-101: chrF++" in out.stdout
    assert (tmp_path / "demo" / "tiny-coit" / "config.json").exists()  # the trainer saved an HF model
    rows = list(csv.DictReader((tmp_path / "demo" / "leaderboard" / "leaderboard.csv").open()))
    measured = {r["model"] for r in rows if r["reported"] == "no"}
    assert measured == {"tiny-untrained", "tiny-coit"}
    flores = [r for r in rows if r["family"] == "flores" and r["column"] == "en-zh" and r["reported"] == "no"]
    assert len(flores) == 2 and all(r["value"] != "" for r in flores)
    assert (tmp_path / "demo" / "leaderboard" / "leaderboard.html").stat().st_size > 2000
