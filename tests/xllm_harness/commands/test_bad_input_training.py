"""Bad input to ``xllm data build``, ``xllm train`` and ``xllm eval``, by class: files that are not UTF-8
or of the wrong shape, numeric options out of range, output locations that cannot be written, a
training run that diverges, lm-eval failing to save. Each case is the real command line in a
subprocess: exit 2, one line naming the file, line, field or option, no traceback, nothing half-written.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_bad_input import assert_user_error, xllm


@pytest.fixture
def env(subprocess_env, samples_dir) -> dict[str, str]:
    return {**subprocess_env, "XLLM_DATA_DIR": str(samples_dir)}


def visible_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


# --- data files: encoding and shape ---------------------------------------------------------------


def test_alpaca_file_that_is_not_utf8_names_file_and_line(tmp_path, env):
    bad = tmp_path / "alpaca.jsonl"
    bad.write_bytes(b'{"instruction": "a", "output": "b"}\n{"instruction": "caf\xe9", "output": "b"}\n')
    done = xllm(["data", "build", f"alpaca_fr={bad}", "-o", "out.jsonl"], tmp_path, env)
    assert_user_error(done, "data", f"{bad}:2:", "0xe9", "not UTF-8")
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (b"one\ntwo\n\xff\xfe\n", (":3:", "not UTF-8")),
        (b"one\ntw\x00o\nthree\n", (":2:", "NUL byte")),
    ],
)
def test_parallel_file_that_is_not_text_names_file_and_line(tmp_path, env, content, named):
    (tmp_path / "x.en").write_text("one\ntwo\nthree\n", encoding="utf-8")
    (tmp_path / "x.ar").write_bytes(content)
    spec = f"translation_en-ar={tmp_path / 'x.en'},{tmp_path / 'x.ar'}"
    done = xllm(["data", "build", spec, "-o", "out.jsonl"], tmp_path, env)
    assert_user_error(done, "data", str(tmp_path / "x.ar"), *named)
    assert not (tmp_path / "out.jsonl").exists()


def test_alpaca_array_with_text_after_it(tmp_path, env):
    bad = tmp_path / "alpaca.json"
    bad.write_text('[{"instruction": "a", "output": "b"}]\n{"instruction": "c"}\n', encoding="utf-8")
    done = xllm(["data", "build", f"alpaca_en={bad}", "-o", "out.jsonl"], tmp_path, env)
    assert_user_error(done, "data", f"{bad}:2:", "after the closing ']'")


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"instruction": "a", "input": 3, "output": "b", "source": "alpaca_en"}, "input"),
        ({"instruction": "a", "input": "", "output": ["b"], "source": "alpaca_en"}, "output"),
        ({"instruction": "a", "input": "", "output": "b", "source": 7}, "source"),
    ],
)
def test_built_file_with_a_field_of_the_wrong_type_stops_training(tmp_path, env, tiny_model, record, field):
    """A built .jsonl is ours: a wrong record is an error naming file, line and field, not a skip."""
    good = {"instruction": "a", "input": "", "output": "b", "source": "alpaca_en"}
    built = tmp_path / "coit.jsonl"
    built.write_text(json.dumps(good) + "\n" + json.dumps(record) + "\n", encoding="utf-8")
    args = ["train", "--model", str(tiny_model), "-o", "run", "--data", str(built), "--no-progress"]
    done = xllm(args, tmp_path, env)
    assert_user_error(done, "train", f"{built}:2:", field)
    assert not (tmp_path / "run" / "train_log.jsonl").exists()


@pytest.mark.parametrize("spec", ["alpaca_en[5:2]", "alpaca_en[:0]", "alpaca_en[3:3]"])
def test_empty_spec_slice(tmp_path, env, spec):
    assert_user_error(xllm(["data", "build", spec, "-o", "o.jsonl"], tmp_path, env), "data", spec, "empty")


# --- numeric options ------------------------------------------------------------------------------

TRAIN_OPTIONS = [
    ("--lr", "0"),
    ("--lr", "-2e-5"),
    ("--lr", "nan"),
    ("--learning-rate", "inf"),
    ("--epochs", "0"),
    ("--max-steps", "0"),
    ("--warmup-ratio", "1.5"),
    ("--warmup-ratio", "-0.1"),
    ("--weight-decay", "-1"),
    ("--effective-batch", "0"),
    ("--micro-batch", "-2"),
    ("--max-length", "1"),
    ("--max-grad-norm", "nan"),
    ("--save-every", "-1"),
    ("--keep-checkpoints", "0"),
    ("--seed", "-1"),
    ("--seed", str(2**32)),
]


@pytest.mark.parametrize(("option", "value"), TRAIN_OPTIONS)
def test_train_numeric_option_out_of_range(tmp_path, env, option, value):
    """Checked first: no model is loaded (the model named does not even exist) and nothing is written."""
    args = ["train", "--model", "no-such-model", "-o", "run", "--data", "alpaca_en", option, value]
    shown = "--learning-rate" if option == "--lr" else option
    assert_user_error(xllm(args, tmp_path, env), "train", shown)
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["data", "build", "alpaca_en", "-o", "o.jsonl", "--seed", "-3"], "--seed"),
        (["data", "fetch", "xquad", "--retries", "-1"], "--retries"),
    ],
)
def test_data_numeric_option_out_of_range(tmp_path, env, args, named):
    assert_user_error(xllm(args, tmp_path, env), "data", named)
    assert visible_files(tmp_path) == []


# --- output locations -----------------------------------------------------------------------------


def test_data_build_output_that_cannot_be_written_is_named_before_reading(tmp_path, env):
    (tmp_path / "file").write_text("a regular file", encoding="utf-8")
    # the spec names a file that does not exist: the output is checked first
    args = ["data", "build", f"alpaca_en={tmp_path / 'missing.json'}", "-o", "file/sub/coit.jsonl"]
    assert_user_error(xllm(args, tmp_path, env), "data", "file/sub", "cannot be written")
    (tmp_path / "folder").mkdir()
    assert_user_error(xllm(["data", "build", "alpaca_en", "-o", "folder"], tmp_path, env), "data", "folder")


def test_train_output_that_cannot_be_written_is_named_before_loading(tmp_path, env, tiny_model):
    (tmp_path / "file").write_text("a regular file", encoding="utf-8")
    args = ["train", "--model", str(tiny_model), "-o", "file/run", "--data", "alpaca_en[:8]"]
    assert_user_error(xllm(args, tmp_path, env), "train", "file/run", "cannot be written")
    args = ["train", "--model", str(tiny_model), "-o", "file", "--data", "alpaca_en[:8]"]
    assert_user_error(xllm(args, tmp_path, env), "train", "--output-dir file", "is a file")


def test_eval_output_path_that_cannot_be_written_is_named_before_the_model(tmp_path, env):
    (tmp_path / "file").write_text("a regular file", encoding="utf-8")
    (tmp_path / "model").mkdir()  # no config.json: loading it would fail, but the output is checked first
    args = ["eval", "--model_args", "pretrained=model", "--tasks", "xquad_xllm_ar", "-o", "file/res"]
    assert_user_error(xllm(args, tmp_path, env), "eval", "file/res", "cannot be written")


@pytest.mark.slow
def test_eval_exits_2_when_lm_eval_cannot_save_its_results(tmp_path, env, tiny_model):
    """lm-eval only warns when it cannot write; the generations are gone, so the run must fail."""
    (tmp_path / "model").symlink_to(tiny_model)
    out = tmp_path / "res"
    out.mkdir()
    (out / "model").write_text("lm-eval's model folder is taken by a file", encoding="utf-8")
    args = ["eval", "--model_args", "pretrained=model,dtype=float32", "--device", "cpu", "--tasks",
            "xquad_xllm_ar", "--limit", "1", "--gen_kwargs", "max_gen_toks=2", "-o", "res", "--log_samples"]  # fmt: skip
    done = xllm(args, tmp_path, env)
    assert_user_error(done, "eval", "could not save its results under --output_path res")
    assert "xllm score" not in done.stderr  # no closing note sending the user to samples that do not exist


# --- training that diverges -----------------------------------------------------------------------


@pytest.mark.slow
def test_a_mistyped_learning_rate_stops_training_naming_the_step(tmp_path, env, tiny_model):
    """``--lr 2e5`` for ``2e-5``: the loss stops being a number; the run ends with exit 2 naming the
    step and the likely cause, saves no model, and keeps the checkpoint written before it."""
    args = ["train", "--model", str(tiny_model), "-o", "run", "--data", "alpaca_en[:32]", "--no-progress",
            "--effective-batch", "4", "--micro-batch", "2", "--max-length", "384", "--warmup-ratio", "0",
            "--epochs", "1", "--save-every", "1", "--keep-checkpoints", "1", "--lr", "2e5"]  # fmt: skip
    done = xllm(args, tmp_path, env)
    assert_user_error(done, "train", "diverged at step", "did you mean 2e-5?", "--resume never")
    run = tmp_path / "run"
    assert not (run / "model.safetensors").exists() and not (run / "config.json").exists()
    log = [json.loads(line) for line in (run / "train_log.jsonl").read_text().splitlines()]
    stop = log[-1]
    assert stop["event"] == "diverged" and f"step {stop['step']}:" in done.stderr
    steps = [r["step"] for r in log if "loss" in r]
    assert steps == list(range(1, stop["step"])), "every finite step is logged once, the bad one not"
    checkpoints = sorted((run / "checkpoints").glob("step-*"))
    if stop["step"] > 2:  # a checkpoint was due before the bad step: the last good one stays
        assert [p.name for p in checkpoints] == [f"step-{stop['step'] - 1:08d}"]
        assert "the last good checkpoint" in done.stderr
