"""``xllm score``: failed metrics recorded with their reason and said on screen; a metric that was missing
from the lm-eval run is added to the same folder and the leaderboard shows it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xllm_harness.cli import main
from xllm_harness.leaderboard.board import build_tables, collect

STAMP = "2026-01-01T00-00-00.000001"


def flores_run(folder: Path) -> Path:
    """An lm-eval run whose spBLEU was recorded as missing (its SentencePiece model was absent)."""
    folder.mkdir(parents=True)
    docs = [
        {
            "source": "The cat sat on the mat.",
            "target": "Le chat était assis sur le tapis.",
            "src_lang": "en",
            "tgt_lang": "zh",
        },
        {
            "source": "It rained all day.",
            "target": "Il a plu toute la journée.",
            "src_lang": "en",
            "tgt_lang": "zh",
        },
    ]
    lines = [{"doc_id": i, "doc": d, "filtered_resps": [d["target"][:-3]]} for i, d in enumerate(docs)]
    (folder / f"samples_flores_xllm_en-zh_{STAMP}.jsonl").write_text(
        "".join(json.dumps(x) + "\n" for x in lines)
    )
    results = {
        "flores_xllm_en-zh": {"chrf,none": 50.0, "spbleu_signature,none": "missing: no SentencePiece model"}
    }
    config = {"model": "hf", "model_args": "pretrained=/m/tiny"}
    (folder / f"results_{STAMP}.json").write_text(json.dumps({"results": results, "config": config}))
    return folder


def spbleu_cell(root: Path):
    (table,) = [t for t in build_tables(collect([root]).scores) if t.title == "FLORES-101: spBLEU"]
    return next(r for r in table.rows if r.label == "tiny").cells["en-zh"]


def test_failed_metric_is_an_error_on_screen_and_in_the_file(tmp_path, capsys):
    folder = flores_run(tmp_path / "out" / "m")
    code = main(
        [
            "score",
            str(tmp_path / "out"),
            "--metrics",
            "chrf,comet",
            "--comet-model",
            str(tmp_path / "nowhere"),
        ]
    )
    captured = capsys.readouterr()
    assert code == 1
    assert "comet not scored (flores_xllm_en-zh)" in captured.err and "nowhere" in captured.err
    (written,) = folder.glob("xllm_scores_*.json")
    out = json.loads(written.read_text())
    assert (
        "nowhere" in out["errors"]["flores_xllm_en-zh"]["comet"]
        and "chrf" in out["results"]["flores_xllm_en-zh"]
    )


def test_score_fills_in_a_missing_metric_for_the_leaderboard(tmp_path, use_sacrebleu_home, capsys):
    flores_run(tmp_path / "out" / "m")
    before = spbleu_cell(tmp_path / "out")
    assert before.value is None and before.missing == "no SentencePiece model"
    assert main(["score", str(tmp_path / "out"), "--metrics", "spbleu"]) == 0
    after = spbleu_cell(tmp_path / "out")
    assert after.value is not None and after.value > 0 and after.source.endswith(".json")
    assert "xllm_scores_" in after.source and after.stats is not None
    capsys.readouterr()
    assert main(["leaderboard", str(tmp_path / "out"), "--no-reported"]) == 0
    out = capsys.readouterr().out
    assert "### FLORES-101: spBLEU" in out and f"| tiny | {after.value:.2f} |" in out


def test_a_default_metric_that_cannot_run_is_a_note_not_a_failure(tmp_path, capsys):
    # offline, the default COMET model (Unbabel/wmt22-comet-da) is not in the cache
    flores_run(tmp_path / "out" / "m")
    code = main(["score", str(tmp_path / "out"), "--tasks", "flores_xllm_en-zh"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "xllm score: note: comet not scored (flores_xllm_en-zh)" in err and "error:" not in err


def xllm_score(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "xllm_harness.cli", "score", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(
    ("args", "code", "line"),
    [
        # a default metric (COMET: its model is not in the offline cache) is a note: exit 0
        (["--tasks", "flores_xllm_en-zh"], 0, "xllm score: note: comet not scored"),
        # a metric asked for by name that cannot run: exit 1, the others are written
        (["--metrics", "chrf,comet", "--comet-model", "nowhere"], 1, "xllm score: error: comet not scored"),
        # nothing at all could be scored: exit 2, one line, no file left
        (["--metrics", "comet", "--comet-model", "nowhere"], 2, "xllm score: error: nothing scored"),
        # bad input: an unknown metric
        (["--metrics", "chrff"], 2, "xllm score: error: unknown metric (--metrics) 'chrff'"),
    ],
)
def test_exit_codes_as_documented(tmp_path, subprocess_env, args, code, line):
    """docs/exit-codes.md, run as a user types it."""
    folder = flores_run(tmp_path / "out" / "m")
    done = xllm_score([str(tmp_path / "out"), *args], tmp_path, subprocess_env)
    assert done.returncode == code, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert any(x.startswith(line) for x in done.stderr.splitlines()), done.stderr[-3000:]
    assert bool(list(folder.glob("xllm_scores_*.json"))) == (code != 2)


def test_the_exit_code_table_names_every_code_a_command_returns(repo_root):
    """The one table lists each code the CLI returns (0, 1, 2, 130) and the pages that mention exit
    codes link to it."""
    table = (repo_root / "docs" / "exit-codes.md").read_text(encoding="utf-8")
    rows = {line.split("|")[1].strip() for line in table.splitlines() if line.startswith("| ")}
    assert {"0", "1", "2", "130"} <= rows
    for page in ("leaderboard.md", "translation.md", "judges.md", "plugins.md", "architecture.md"):
        assert "(exit-codes.md)" in (repo_root / "docs" / page).read_text(encoding="utf-8"), page


def test_interrupted_is_130_without_a_traceback(tmp_path, subprocess_env):
    """Ctrl-C while ``xllm score`` reads its samples (a named pipe nobody finishes writing)."""
    folder = tmp_path / "out" / "m"
    folder.mkdir(parents=True)
    fifo = folder / f"samples_flores_xllm_en-zh_{STAMP}.jsonl"
    os.mkfifo(fifo)
    cmd = [sys.executable, "-m", "xllm_harness.cli", "score", str(tmp_path / "out"), "--metrics", "chrf"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=subprocess_env, stderr=subprocess.PIPE, text=True)
    writer = os.open(fifo, os.O_WRONLY)  # returns once the command has opened the pipe to read it
    os.write(writer, b'{"doc_id": 0, ')
    proc.send_signal(signal.SIGINT)
    # the signal may land on another thread of the command (numpy's), which does not end the blocked
    # read; the end of the pipe does, and Python raises KeyboardInterrupt as soon as the read returns
    time.sleep(0.5)
    os.close(writer)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "interrupted" and "Traceback" not in err
