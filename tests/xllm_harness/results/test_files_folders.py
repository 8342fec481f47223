"""Whole folders or none: ``atomic_dir``, ``replace_dir``, ``move_files`` and the removal of what a
killed writer left (``remove_leftovers``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from xllm_harness.results import files


def test_a_folder_written_in_a_block_that_fails_leaves_the_previous_folder(tmp_path):
    target = tmp_path / "step-3"
    with files.atomic_dir(target) as tmp:
        (tmp / "state.json").write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), files.atomic_dir(target) as tmp:
        (tmp / "state.json").write_text("new, half", encoding="utf-8")
        raise RuntimeError("killed")
    assert (target / "state.json").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["step-3"]
    with files.atomic_dir(target) as tmp:
        (tmp / "state.json").write_text("new", encoding="utf-8")
    assert (target / "state.json").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["step-3"]  # the old folder is gone too


def test_move_files_puts_the_named_file_last(tmp_path):
    built, dest = tmp_path / ".model.tmp", tmp_path / "out"
    built.mkdir()
    dest.mkdir()
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        (built / name).write_text(name, encoding="utf-8")
    (dest / "train_log.jsonl").write_text("kept", encoding="utf-8")
    moved = files.move_files(built, dest, last=("config.json",))
    assert [p.name for p in moved] == ["model.safetensors", "tokenizer.json", "config.json"]
    assert sorted(p.name for p in dest.iterdir()) == [
        "config.json", "model.safetensors", "tokenizer.json", "train_log.jsonl",
    ]  # fmt: skip
    assert not built.exists()


def test_a_killed_writer_leaves_only_a_temporary_that_the_next_writer_removes(tmp_path):
    """A real process killed inside ``atomic_path``: the target keeps its old content, the hidden
    temporary stays until ``remove_leftovers`` runs for that target (and only for it)."""
    target = tmp_path / "coit.jsonl"
    files.write_text(target, "old\n")
    other = tmp_path / "other.jsonl"
    files.write_text(other, "x\n")
    code = (
        "import os, sys, time\nfrom xllm_harness.results import files\n"
        "with files.atomic_path(sys.argv[1]) as tmp:\n"
        "    open(tmp, 'w').write('half')\n    print('inside', flush=True)\n    time.sleep(60)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "inside"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert target.read_text() == "old\n"
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert len(left) == 1 and left[0].startswith(".coit.jsonl.") and left[0].endswith(".tmp")
    assert files.remove_leftovers(other) == []
    assert [p.name for p in files.remove_leftovers(target)] == left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["coit.jsonl", "other.jsonl"]


def test_checking_without_creating_leaves_nothing_behind(tmp_path):
    from xllm_harness.errors import InputError

    assert files.check_writable(tmp_path / "a" / "b", create=False) == tmp_path / "a" / "b"
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match=rf"{tmp_path / 'file' / 'run'} cannot be written"):
        files.check_writable(tmp_path / "file" / "run", create=False)
