"""Tokenization (paper eq. 1) and padding-efficient batching.

Each example becomes ``alpaca_prompt(instruction, input)`` followed by ``output + EOS``; the prompt
tokens get label −100, so the loss covers the response only. Prompt and response are tokenized
separately, so the mask boundary is exact; the concatenation is cut at ``max_length``.

Batching works on *units*: one example (``group``: length grouping) or several examples packed into
one row of at most ``max_length`` tokens (``pack``). Each optimizer step takes a global batch of
``world × micro × accumulation`` units from a seeded permutation, sorts them by length and deals
them out as micro-batches, so every micro-batch holds similar lengths (little padding) while the set
of units per step is exactly that of an unsorted run. Packed examples never attend to each other:
every example restarts its ``position_ids`` at 0 and transformers builds a block-diagonal causal mask
from them (no ``attention_mask`` is passed for packed rows; rows of one example get the plain padding
mask). Padding is a segment of its own with label −100.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from xllm_harness.errors import InputError
from xllm_harness.text.prompts import alpaca_prompt
from xllm_harness.train_sources import Example

IGNORE_INDEX = -100
BATCHING = ("group", "pack", "none")


@dataclass(frozen=True)
class Encoded:
    """Token ids and labels of one example (labels −100 on the prompt)."""

    input_ids: list[int]
    labels: list[int]

    def __len__(self) -> int:
        return len(self.input_ids)


@dataclass
class EncodeStats:
    """Per source (``Example.source``): examples seen, cut at ``max_length``, and dropped because the
    prompt alone fills ``max_length`` (no response token left to learn from)."""

    seen: Counter[str] = field(default_factory=Counter)
    truncated_by_source: Counter[str] = field(default_factory=Counter)
    dropped_by_source: Counter[str] = field(default_factory=Counter)

    @property
    def examples(self) -> int:
        return sum(self.seen.values())

    @property
    def truncated(self) -> int:
        return sum(self.truncated_by_source.values())

    @property
    def dropped(self) -> int:
        return sum(self.dropped_by_source.values())


def _assemble(prompt: list[int], target: list[int], max_length: int) -> Encoded | None:
    ids = (prompt + target)[:max_length]
    if len(prompt) >= len(ids):
        return None
    return Encoded(ids, [IGNORE_INDEX] * len(prompt) + ids[len(prompt) :])


def encode(tokenizer, example: Example, max_length: int) -> Encoded | None:
    """Prompt + ``output`` + EOS with the prompt masked; ``None`` if nothing of the response fits."""
    prompt = tokenizer(alpaca_prompt(example.instruction, example.input), add_special_tokens=True)[
        "input_ids"
    ]
    target = tokenizer(example.output, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return _assemble(prompt, target, max_length)


def encode_all(
    tokenizer, examples: Sequence[Example], max_length: int, progress: bool = True, chunk: int = 2048
):
    """Encode every example (batched through the fast tokenizer); returns the encodings and what was
    truncated or dropped."""
    from xllm_harness.console import progress_bar

    if tokenizer.eos_token_id is None:
        raise InputError("the tokenizer has no EOS token: the target is output + EOS (paper eq. 1)")
    stats = EncodeStats()
    out = []
    bar = progress_bar(desc="tokenizing", total=len(examples), unit="example", enabled=progress)
    for start in range(0, len(examples), chunk):
        part = examples[start : start + chunk]
        prompts = tokenizer([alpaca_prompt(e.instruction, e.input) for e in part], add_special_tokens=True)
        targets = tokenizer([e.output for e in part], add_special_tokens=False)
        for example, prompt, target in zip(part, prompts["input_ids"], targets["input_ids"], strict=True):
            stats.seen[example.source] += 1
            enc = _assemble(prompt, [*target, tokenizer.eos_token_id], max_length)
            if enc is None:
                stats.dropped_by_source[example.source] += 1
                continue
            if len(prompt) + len(target) + 1 > max_length:
                stats.truncated_by_source[example.source] += 1
            out.append(enc)
        bar.update(len(part))
    bar.close()
    return out, stats


def pack(
    lengths: Sequence[int], order: Sequence[int], max_length: int, window: int = 1024
) -> list[list[int]]:
    """Pack examples (in ``order``) into rows of ≤ ``max_length`` tokens: first-fit decreasing per window."""
    rows: list[list[int]] = []
    for start in range(0, len(order), window):
        chunk = sorted(order[start : start + window], key=lambda i: -lengths[i])
        bins: list[list[int]] = []
        room: list[int] = []
        for i in chunk:
            for b, free in enumerate(room):
                if lengths[i] <= free:
                    bins[b].append(i)
                    room[b] -= lengths[i]
                    break
            else:
                bins.append([i])
                room.append(max_length - lengths[i])
        rows.extend(bins)
    return rows


@dataclass
class Plan:
    """Every optimizer step's micro-batches: ``steps[s][a][r]`` = units (lists of example indices) for
    accumulation step ``a`` on rank ``r``."""

    steps: list[list[list[list[list[int]]]]]
    epoch_of_step: list[int]
    steps_per_epoch: list[int]
    padded_slots: int
    real_tokens: int

    @property
    def padding_waste(self) -> float:
        """Padding tokens / all token slots over the whole plan."""
        total = self.padded_slots + self.real_tokens
        return self.padded_slots / total if total else 0.0


def make_plan(
    lengths: Sequence[int],
    *,
    epochs: int,
    seed: int,
    world_size: int,
    micro_batch: int,
    accumulation: int,
    max_length: int,
    batching: str = "group",
) -> Plan:
    """The deterministic schedule of all epochs (same on every rank)."""
    if batching not in BATCHING:
        raise InputError(f"--batching {batching!r}: use one of {', '.join(BATCHING)}")
    per_step = world_size * micro_batch * accumulation
    steps, epoch_of_step, per_epoch = [], [], []
    padded = real = 0
    for epoch in range(epochs):
        order = list(range(len(lengths)))
        random.Random(seed * 1000 + epoch).shuffle(order)
        units = pack(lengths, order, max_length) if batching == "pack" else [[i] for i in order]
        if batching == "pack":
            random.Random(seed * 1000 + epoch).shuffle(units)
        n_steps = len(units) // per_step
        per_epoch.append(n_steps)
        for s in range(n_steps):
            batch = units[s * per_step : (s + 1) * per_step]
            if batching != "none":  # length grouping inside the global batch
                batch = sorted(batch, key=lambda u: -sum(lengths[i] for i in u))
            micro = [batch[k * micro_batch : (k + 1) * micro_batch] for k in range(world_size * accumulation)]
            for mb in micro:
                row_lengths = [sum(lengths[i] for i in unit) for unit in mb]
                padded += max(row_lengths) * len(mb) - sum(row_lengths)
                real += sum(row_lengths)
            steps.append([micro[a * world_size : (a + 1) * world_size] for a in range(accumulation)])
            epoch_of_step.append(epoch)
    if not steps:
        raise InputError(
            f"not one optimizer step: {len(lengths)} examples, but one step takes {per_step} units "
            f"(world size {world_size} × micro-batch {micro_batch} × accumulation {accumulation}); "
            "lower --effective-batch or add data"
        )
    return Plan(steps, epoch_of_step, per_epoch, padded, real)


def collate(encoded: Sequence[Encoded], units: Sequence[Sequence[int]], pad_token_id: int):
    """Tensors for one micro-batch: ``input_ids``, ``labels``, ``position_ids`` (restarting per example)."""
    import torch

    rows = []
    for unit in units:
        ids, labels, positions = [], [], []
        for i in unit:
            ids += encoded[i].input_ids
            labels += encoded[i].labels
            positions += list(range(len(encoded[i])))
        rows.append((ids, labels, positions))
    width = max(len(r[0]) for r in rows)
    batch_ids, batch_labels, batch_pos = [], [], []
    for ids, labels, positions in rows:
        pad = width - len(ids)
        batch_ids.append(ids + [pad_token_id] * pad)
        batch_labels.append(labels + [IGNORE_INDEX] * pad)
        batch_pos.append(positions + list(range(pad)))  # padding: a segment of its own, never a target
    batch = {
        "input_ids": torch.tensor(batch_ids, dtype=torch.long),
        "labels": torch.tensor(batch_labels, dtype=torch.long),
        "position_ids": torch.tensor(batch_pos, dtype=torch.long),
    }
    if all(len(unit) == 1 for unit in units):  # nothing packed: the plain padding mask is cheaper
        mask = [[1] * len(ids) + [0] * (width - len(ids)) for ids, _, _ in rows]
        batch["attention_mask"] = torch.tensor(mask, dtype=torch.long)
    return batch


def label_tokens(encoded: Sequence[Encoded], units: Sequence[Sequence[int]]) -> int:
    """Number of target (non −100) tokens in these units."""
    return sum(len(encoded[i]) - encoded[i].labels.count(IGNORE_INDEX) for unit in units for i in unit)
