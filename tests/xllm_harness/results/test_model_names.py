"""The one naming rule: shortest distinguishing path suffix, differing model_args, renames."""

from __future__ import annotations

import pytest

from xllm_harness.errors import InputError
from xllm_harness.results.lm_eval import identity_from, named_identity
from xllm_harness.results.model_names import parse_aliases, readable_names


def hf(path: str, **args: str):
    extra = "".join(f",{k}={v}" for k, v in args.items())
    return identity_from("hf", f"pretrained={path}{extra}")


def test_last_path_part_unless_it_is_shared():
    ids = [hf("/runs/a/ckpt/checkpoint-900"), hf("/runs/b/ckpt/checkpoint-900"), hf("/models/alpaca-7b/")]
    naming = readable_names(ids)
    assert [naming.names[i.key] for i in ids] == [
        "a/ckpt/checkpoint-900",
        "b/ckpt/checkpoint-900",
        "alpaca-7b",
    ]
    (note,) = naming.notes
    assert (
        "2 different models are named 'checkpoint-900'" in note
        and "pretrained=/runs/a/ckpt/checkpoint-900" in note
    )


def test_same_path_other_arguments_and_renames():
    ids = [hf("/m/tiny", dtype="float32"), hf("/m/tiny", dtype="bfloat16"), named_identity("system-a")]
    names = readable_names(ids).names
    assert [names[i.key] for i in ids] == ["tiny (dtype=float32)", "tiny (dtype=bfloat16)", "system-a"]
    renamed = readable_names(ids, {"tiny (dtype=bfloat16)": "bf16", "system-a": "A"}).names
    assert [renamed[i.key] for i in ids] == ["tiny (dtype=float32)", "bf16", "A"]
    with pytest.raises(KeyError, match="did you mean 'system-a'"):
        readable_names(ids, {"system-b": "B"})


def test_parse_aliases():
    assert parse_aliases(["a=b", "/x/y=z"]) == {"a": "b", "/x/y": "z"}
    with pytest.raises(InputError, match="expected OLD=NEW"):
        parse_aliases(["nonsense"])
