"""Tokenization (loss on the response only, eq. 1) and padding-efficient batching."""

from __future__ import annotations

import pytest

from xllm_harness.text.prompts import alpaca_prompt
from xllm_harness.train_sources import Example
from xllm_harness.trainers.tokenize import (
    IGNORE_INDEX,
    collate,
    encode,
    encode_all,
    label_tokens,
    make_plan,
    pack,
)
from xllm_harness.trainers.train import accumulation_steps


@pytest.fixture(scope="module")
def tokenizer(tiny_model):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model)


EX = Example(
    "Translate the following sentences from English to Arabic.",
    "and along with a fever",
    "وبالإضافة إلى الحمى",
    "t",
)


def test_prompt_is_masked_and_target_is_output_plus_eos(tokenizer):
    enc = encode(tokenizer, EX, 10_000)
    prompt = tokenizer(alpaca_prompt(EX.instruction, EX.input))["input_ids"]
    target = tokenizer(EX.output, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    assert enc.input_ids == prompt + target
    assert enc.labels == [IGNORE_INDEX] * len(prompt) + target
    no_input = encode(tokenizer, Example("Say hi.", "", "hi", "a"), 10_000)
    assert tokenizer.decode(no_input.input_ids).startswith(alpaca_prompt("Say hi."))


def test_truncation_and_dropping(tokenizer):
    full = encode(tokenizer, EX, 10_000)
    n_prompt = full.labels.count(IGNORE_INDEX)
    cut = encode(tokenizer, EX, n_prompt + 2)
    assert len(cut) == n_prompt + 2 and cut.labels[-2:] == full.labels[n_prompt : n_prompt + 2]
    assert encode(tokenizer, EX, n_prompt) is None  # no response token left
    encoded, stats = encode_all(tokenizer, [EX, EX], n_prompt + 2, progress=False)
    assert encoded == [cut, cut] and stats.truncated == 2 and stats.dropped == 0
    other = Example("Say hi.", "", "hi", "a")
    batched, stats = encode_all(tokenizer, [EX, other, EX], 10_000, progress=False, chunk=2)
    assert batched == [full, encode(tokenizer, other, 10_000), full] and stats.truncated == 0
    _, stats = encode_all(tokenizer, [EX], n_prompt, progress=False)
    assert stats.dropped == 1


LENGTHS = [5, 17, 9, 30, 3, 12, 8, 21, 14, 6, 11, 25, 4, 19, 7, 10]


def _units_per_step(plan):
    return [sorted(tuple(u) for a in step for r in a for u in r) for step in plan.steps]


def test_plan_same_units_per_step_for_any_split_and_less_padding():
    kw = dict(epochs=2, seed=7, max_length=64)
    one = make_plan(LENGTHS, world_size=1, micro_batch=2, accumulation=4, **kw)
    two = make_plan(LENGTHS, world_size=2, micro_batch=2, accumulation=2, **kw)
    big = make_plan(LENGTHS, world_size=1, micro_batch=8, accumulation=1, **kw)
    assert len(one.steps) == 4 and one.steps_per_epoch == [2, 2]
    assert _units_per_step(one) == _units_per_step(two) == _units_per_step(big)
    assert all(len(step) == 2 and len(step[0]) == 2 and len(step[0][0]) == 2 for step in two.steps)
    assert (
        make_plan(LENGTHS, world_size=1, micro_batch=2, accumulation=4, **{**kw, "seed": 8}).steps
        != one.steps
    )
    plain = make_plan(LENGTHS, world_size=1, micro_batch=2, accumulation=4, batching="none", **kw)
    assert _units_per_step(plain) == _units_per_step(one)
    assert one.padding_waste < plain.padding_waste
    with pytest.raises(ValueError, match="not one optimizer step"):
        make_plan(LENGTHS, world_size=1, micro_batch=32, accumulation=1, **kw)


def test_pack_rows_fit_and_cover_every_example():
    rows = pack(LENGTHS, list(range(len(LENGTHS))), 32)
    assert sorted(i for row in rows for i in row) == list(range(len(LENGTHS)))
    assert all(sum(LENGTHS[i] for i in row) <= 32 for row in rows)
    assert len(rows) < len(LENGTHS)
    plan = make_plan(
        LENGTHS, epochs=1, seed=0, world_size=1, micro_batch=2, accumulation=1, max_length=32, batching="pack"
    )
    assert plan.padding_waste < 0.25


def test_accumulation_from_effective_batch():
    assert accumulation_steps(128, 8, 4) == 4
    assert accumulation_steps(128, 1, 4) == 32
    with pytest.raises(ValueError, match=r"--effective-batch 128 .* world size 3 × --micro-batch 4 = 12"):
        accumulation_steps(128, 3, 4)


def test_packed_examples_do_not_attend_to_each_other(tokenizer, tiny_model):
    """Per-token losses of two packed examples equal those of each example alone."""
    import torch
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32).eval()
    a = encode(tokenizer, EX, 10_000)
    b = encode(tokenizer, Example("Say hi.", "", "hi there", "a"), 10_000)
    encoded = [a, b]

    def token_losses(units):
        batch = collate(encoded, units, tokenizer.pad_token_id)
        with torch.no_grad():
            logits = model(**{k: v for k, v in batch.items() if k != "labels"}, use_cache=False).logits
        labels = batch["labels"][:, 1:]
        loss = torch.nn.functional.cross_entropy(logits[:, :-1].transpose(1, 2), labels, reduction="none")
        return loss[labels != IGNORE_INDEX]

    packed = token_losses([[0, 1]])
    alone = torch.cat([token_losses([[0]]), token_losses([[1]])])
    assert label_tokens(encoded, [[0, 1]]) == packed.numel() == alone.numel()
    torch.testing.assert_close(packed, alone, rtol=1e-4, atol=1e-5)
    padded = token_losses([[1], [0]])  # b padded to a's length in one micro-batch
    torch.testing.assert_close(torch.sort(padded).values, torch.sort(alone).values, rtol=1e-4, atol=1e-5)
