"""``xllm leaderboard`` on the command line: files written, options, bad input (exit 2, one line)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from xllm_harness.cli import main

STAMP = "2026-01-01T00-00-00.000001"


def write_results(folder: Path, pretrained: str, results: dict[str, dict[str, float]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"results_{STAMP}.json"
    payload = {
        "results": {t: {f"{k},none": v for k, v in m.items()} for t, m in results.items()},
        "config": {"model": "hf", "model_args": f"pretrained={pretrained}"},
    }
    path.write_text(json.dumps(payload))
    return path


@pytest.fixture
def runs(tmp_path) -> Path:
    write_results(tmp_path / "runs" / "a", "/a/tiny-coit", {"xquad_xllm_ar": {"match": 0.2, "f1": 0.3}})
    write_results(tmp_path / "runs" / "b", "/b/tiny-coit", {"xquad_xllm_ar": {"match": 0.6, "f1": 0.7}})
    return tmp_path / "runs"


def test_writes_markdown_csv_html_with_one_naming_rule(runs, tmp_path, capsys):
    assert main(["leaderboard", str(runs), "-o", str(tmp_path / "lb"), "--name", "b/tiny-coit=CoIT"]) == 0
    captured = capsys.readouterr()
    assert "| a/tiny-coit | 0.200 | 0.200 |" in captured.out and "| CoIT | 0.600 | 0.600 |" in captured.out
    assert (
        "2 different models are named 'tiny-coit': CoIT = hf pretrained=/b/tiny-coit; a/tiny-coit = hf"
        in captured.out
    )
    rows = list(csv.DictReader((tmp_path / "lb" / "leaderboard.csv").open()))
    f1 = [r for r in rows if r["table"] == "XQuAD: F1" and r["column"] == "avg" and r["reported"] == "no"]
    assert {(r["model"], float(r["value"])) for r in f1} == {("a/tiny-coit", 0.3), ("CoIT", 0.7)}
    assert (tmp_path / "lb" / "leaderboard.html").read_text().count("<svg") >= 2
    assert "wrote" in captured.err


def test_bad_files_warn_and_strict_refuses(runs, capsys):
    bad = runs / "a" / f"xllm_scores_{STAMP}.json"
    bad.write_text(json.dumps(["not", "an", "object"]))
    assert main(["leaderboard", str(runs), "--no-reported"]) == 0
    err = capsys.readouterr().err
    assert f"warning: {bad}: skipped, a JSON list, expected xllm score's output" in err
    assert main(["leaderboard", str(runs), "--strict"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and str(bad) in err[0] and "--strict" in err[0] and "Traceback" not in err[0]


def test_errors_are_one_line_with_exit_2(runs, tmp_path, capsys):
    cases = [
        (["leaderboard", str(tmp_path / "missing")], "does not exist"),
        (["leaderboard", str(runs), "--name", "nonsense"], "expected OLD=NEW"),
        (["leaderboard", str(runs), "--name", "a/tiny-cot=X"], "did you mean 'a/tiny-coit'"),
        (["leaderboard", str(runs), "--baseline", "b/tiny-coi"], "did you mean 'b/tiny-coit'"),
        (["leaderboard", str(runs), "--alpha", "5"], "--alpha 5.0"),
        (["leaderboard", str(runs), "--baseline", "a/tiny-coit", "--no-intervals"], "drop --no-intervals"),
    ]
    (tmp_path / "empty").mkdir()
    cases.append((["leaderboard", str(tmp_path / "empty")], "no results found"))
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, (argv, err)
