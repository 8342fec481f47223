"""The representation analyzers' shared start: bad models and languages are one line, exit 2."""

from __future__ import annotations

import pytest

from xllm_harness.analysis.representations import model_label
from xllm_harness.cli import main


@pytest.mark.parametrize("analyzer", ["similarity", "alignment"])
def test_a_model_that_cannot_load_is_named_before_any_work(tmp_path, capsys, analyzer):
    base = ["analyze", analyzer, "--languages", "ar", "-o", str(tmp_path / "out")]
    assert main([*base, "--model", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [err] and f"--model {tmp_path / 'missing'}: no such folder" in err
    (tmp_path / "empty").mkdir()
    assert main([*base, "--model", str(tmp_path / "empty")]) == 2
    assert "has no config.json" in capsys.readouterr().err
    assert not (tmp_path / "out" / f"{analyzer}.json").exists()


def test_unknown_language_suggests_a_registered_one(tiny_model, samples_dir, tmp_path, capsys):
    args = ["analyze", "similarity", "--model", str(tiny_model), "--data-dir", str(samples_dir)]
    assert main([*args, "--languages", "ar,zhh", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown language 'zhh'" in err and "did you mean 'zh'" in err


def test_model_label_never_shows_a_local_path(tmp_path):
    assert model_label(str(tmp_path / "runs" / "tiny-coit")) == "tiny-coit"
    assert model_label("./runs/tiny-coit") == "tiny-coit"
    assert model_label("meta-llama/Llama-2-7b-hf") == "meta-llama/Llama-2-7b-hf"
