"""Whole files or none: the atomic writer and the output-folder check."""

from __future__ import annotations

import json
import math

import pytest

from xllm_harness.errors import InputError
from xllm_harness.results import files


def test_a_write_that_fails_midway_leaves_the_previous_file_and_no_temporary(tmp_path):
    target = tmp_path / "scores.json"
    files.write_json(target, {"chrf": 1.0})
    with pytest.raises(RuntimeError), files.atomic_path(target) as tmp:
        tmp.write_text('{"chrf": 2', encoding="utf-8")  # half a file, then the writer dies
        raise RuntimeError("killed")
    assert json.loads(target.read_text()) == {"chrf": 1.0}
    assert [p.name for p in tmp_path.iterdir()] == ["scores.json"]


def test_jsonl_round_trips_and_non_finite_numbers_are_refused(tmp_path):
    records = [{"doc_id": i, "text": "ŝ"} for i in range(3)]
    files.write_jsonl(tmp_path / "a.jsonl", records)
    assert [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()] == records
    with pytest.raises(ValueError):
        files.write_json(tmp_path / "b.json", {"score": math.nan})
    assert not (tmp_path / "b.json").exists()


def test_an_unwritable_output_folder_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match=str(blocker / "out")):
        files.check_writable(blocker / "out")
    assert files.check_writable(tmp_path / "new" / "dir").is_dir()
    assert list((tmp_path / "new" / "dir").iterdir()) == []


def test_the_timestamp_sorts_in_time_order_and_has_no_colons():
    import datetime as dt

    a = files.timestamp(dt.datetime(2026, 12, 7, 9, 5, 3, 0))
    b = files.timestamp(dt.datetime(2026, 12, 7, 10, 0, 0, 1))
    assert a == "2026-12-07T09-05-03.000000" and a < b and ":" not in b


def test_a_full_disk_is_one_line_naming_the_file_and_the_old_file_stays(tmp_path):
    """/dev/full refuses every write with ENOSPC, as a full disk does."""
    target = tmp_path / "scores.json"
    files.write_json(target, {"chrf": 1.0})
    with pytest.raises(InputError, match=rf"cannot write {target} \(No space left on device\)"):  # noqa: SIM117
        with files.atomic_path(target), open("/dev/full", "wb") as full:
            full.write(b"x" * 65536)
            full.flush()
    assert json.loads(target.read_text()) == {"chrf": 1.0}
    assert [p.name for p in tmp_path.iterdir()] == ["scores.json"]
