"""A model reference that cannot be loaded: one line naming the option, the path and what is missing;
through ``xllm train``: exit 2 and nothing started (no output folder), for a missing folder, a folder
without config.json, a file, and a hub id that is not cached while offline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from xllm_harness.errors import MissingFileError
from xllm_harness.models.hf import check_pretrained, looks_like_hub_id


@pytest.mark.parametrize(
    ("name", "hub"),
    [
        ("gpt2", True),
        ("meta-llama/Llama-2-7b-hf", True),
        ("huggyllama/llama-7b", True),
        ("/models/llama", False),
        ("./llama", False),
        ("../llama", False),
        ("~/llama", False),
        ("runs/x/checkpoint-900", False),
        ("org/..", False),
        ("C:\\models\\llama", False),
    ],
)
def test_hub_ids_and_paths(name, hub):
    assert looks_like_hub_id(name) is hub


def test_a_model_folder_passes(tiny_model):
    check_pretrained(str(tiny_model))


def test_key_inside_an_option_is_named_with_equals():
    with pytest.raises(MissingFileError, match=r"^--model_args pretrained=/no/such: no such folder"):
        check_pretrained("/no/such", "--model_args pretrained")


def test_missing_things_are_named(tmp_path, monkeypatch):
    with pytest.raises(
        MissingFileError, match=r"^--model /no/such/model: no such folder \(check the path to the model\)$"
    ):
        check_pretrained("/no/such/model")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(MissingFileError, match=rf"^--model {empty}: the folder has no config.json"):
        check_pretrained(str(empty))
    weights = tmp_path / "model.safetensors"
    weights.write_bytes(b"")
    with pytest.raises(MissingFileError, match="is a file"):
        check_pretrained(str(weights))


def train_cmd(model: str, out: Path) -> list[str]:
    return [sys.executable, "-m", "xllm_harness.cli", "train", "--model", model, "-o", str(out),
            "--data", "alpaca_en[:8]", "--no-progress"]  # fmt: skip


@pytest.mark.parametrize("kind", ["missing", "no-config", "hub-id"])
def test_xllm_train_one_line_exit_2_before_anything_starts(kind, tmp_path, subprocess_env, samples_dir):
    model = {
        "missing": str(tmp_path / "runs" / "nothing-here"),
        "no-config": str(tmp_path),
        "hub-id": "some-org/not-downloaded-model",
    }[kind]
    env = {**subprocess_env, "HF_HOME": str(tmp_path / "hf_home"), "XLLM_DATA_DIR": str(samples_dir)}
    out = tmp_path / "out"
    proc = subprocess.run(train_cmd(model, out), env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"xllm train: error: --model {model}: ")
    expected = {
        "missing": "no such folder",
        "no-config": "has no config.json",
        "hub-id": "not in the Hugging Face cache",
    }[kind]
    assert expected in lines[0]
    assert "Repo id" not in proc.stderr and not out.exists()


def test_a_typo_in_a_model_path_suggests_the_sibling_folders(tmp_path, monkeypatch):
    for name in ("tiny-coit", "tiny-muit", "tiny-untrained"):
        (tmp_path / "demo_out" / name).mkdir(parents=True)
    (tmp_path / "demo_out" / "tiny-coit.log").write_text("a file is not a model folder")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(MissingFileError) as err:
        check_pretrained("./demo_out/tiny-coitt", "--model_args pretrained")
    assert "no such folder (did you mean './demo_out/tiny-coit'" in str(err.value)
    assert "tiny-coit.log" not in str(err.value) and "tiny-untrained" not in str(err.value)
    # the same typo without ./ reads like a Hub id (org/name): the local folders still come first
    with pytest.raises(MissingFileError, match=r"\(did you mean 'demo_out/tiny-coit'"):
        check_pretrained("demo_out/tiny-coitt")
    with pytest.raises(MissingFileError) as far:
        check_pretrained(str(tmp_path / "demo_out" / "completely-else"))
    assert "did you mean" not in str(far.value)  # nothing close: no guess


def test_an_uncached_hub_id_suggests_the_nearest_cached_one(tmp_path, monkeypatch):
    from huggingface_hub import constants

    for folder in ("models--EleutherAI--pythia-70m", "models--gpt2", "datasets--org--pythia-70m"):
        (tmp_path / "hub" / folder).mkdir(parents=True)
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(MissingFileError) as err:
        check_pretrained("EleutherAI/pythia-70n")
    assert "(did you mean 'EleutherAI/pythia-70m'?)" in str(err.value)
