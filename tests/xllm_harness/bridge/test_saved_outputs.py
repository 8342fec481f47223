"""``check_saved``: a run's results file and, with samples, one whole samples file per task, in the
layout lm-eval writes (``<output>/<model>/results_<date>.json`` or ``<stem>_<date>.json``)."""

from __future__ import annotations

import json

import pytest

from xllm_harness.bridge.saved_outputs import NotSavedError, check_saved, saved_files

DATE = "2026-12-07T17-00-00.123456"


def write_run(folder, tasks: dict[str, int], lines: dict[str, int], results_name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    counts = {task: {"original": n, "effective": n} for task, n in tasks.items()}
    (folder / results_name).write_text(json.dumps({"n-samples": counts}), encoding="utf-8")
    for task, n in lines.items():
        text = "".join(json.dumps({"doc_id": i}) + "\n" for i in range(n))
        (folder / f"samples_{task}_{DATE}.jsonl").write_text(text, encoding="utf-8")


def test_a_whole_run_passes_and_an_old_run_does_not_count(tmp_path):
    out = tmp_path / "res"
    write_run(out / "m", {"a": 3}, {"a": 3}, f"results_{DATE}.json")
    assert check_saved(out, True, set()) == out / "m" / f"results_{DATE}.json"
    with pytest.raises(NotSavedError, match=rf"could not save its results under --output_path {out}"):
        check_saved(out, True, saved_files(out))  # nothing new since the snapshot


def test_a_missing_or_short_samples_file_is_named(tmp_path):
    out = tmp_path / "res"
    write_run(out / "m", {"a": 3, "b": 5}, {"a": 3, "b": 4}, f"results_{DATE}.json")
    with pytest.raises(NotSavedError, match=r"saved 4 of the 5 samples of b in .*samples_b_"):
        check_saved(out, True, set())
    assert check_saved(out, False, set())  # without --log_samples only the results file counts
    (out / "m" / f"samples_a_{DATE}.jsonl").unlink()
    with pytest.raises(NotSavedError, match=r"could not save the samples of a to .*samples_a_"):
        check_saved(out, True, set())


def test_an_output_path_ending_in_json(tmp_path):
    target = tmp_path / "runs" / "mine.json"
    write_run(target.parent, {"a": 2}, {"a": 2}, f"mine_{DATE}.json")
    assert check_saved(target, True, set()).name == f"mine_{DATE}.json"
