"""Scoring pairs: batches bucketed by length and sized by tokens, input order restored; one process per
device when several are given (data parallelism, results gathered in input order)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from xllm_harness.models.metric_models import token_budget_batches

from .tokenize import Encoded, PairEncoder

MAX_LENGTH = 512
"""Pairs are truncated to 512 tokens (or the model's position table, when shorter), as the former
bleurt-pytorch plugin did."""

DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


def _tensors(encoded: list[Encoded], pad_id: int, device: Any):
    """Right-padded input ids, token type ids and attention mask of a batch, on ``device``."""
    import torch

    width = max(len(ids) for ids, _ in encoded)
    ids = torch.tensor([tok + [pad_id] * (width - len(tok)) for tok, _ in encoded])
    types = torch.tensor([typ + [0] * (width - len(typ)) for _, typ in encoded])
    mask = torch.tensor([[1] * len(tok) + [0] * (width - len(tok)) for tok, _ in encoded])
    return ids.to(device), types.to(device), mask.to(device)


def score_pairs(
    net,
    encoder: PairEncoder,
    references: Sequence[str],
    candidates: Sequence[str],
    *,
    max_tokens: int = 16384,
    max_pairs: int = 128,
    progress: bool = True,
) -> list[float]:
    """BLEURT scores of (reference, candidate) pairs, in input order, on the device and dtype of ``net``."""
    import torch

    from xllm_harness.console import progress_bar

    if not references:
        return []
    parameter = next(net.parameters())
    max_length = min(MAX_LENGTH, net.bleurt.embeddings.position_embeddings.num_embeddings)
    encoded = encoder.encode_pairs(list(references), list(candidates), max_length)
    batches = token_budget_batches([len(ids) for ids, _ in encoded], max_tokens, max_pairs)
    scores = [0.0] * len(encoded)
    with torch.inference_mode():
        for batch in progress_bar(batches, desc="BLEURT", unit="batch", enabled=progress, leave=False):
            inputs = _tensors([encoded[i] for i in batch], encoder.pad_id, parameter.device)
            for i, score in zip(batch, net(*inputs).float().tolist(), strict=True):
                scores[i] = score
    return scores


def _score_shard(task: tuple[str, str, str, list[str], list[str], int, int]) -> list[float]:
    """One data-parallel worker: load the model on its device and score its share (spawned process)."""
    from . import load_model

    folder, device, precision, refs, cands, max_tokens, max_pairs = task
    net, encoder = load_model(folder, device, precision)
    return score_pairs(net, encoder, refs, cands, max_tokens=max_tokens, max_pairs=max_pairs, progress=False)


def score_data_parallel(
    folder: str,
    devices: Sequence[str],
    precision: str,
    references: Sequence[str],
    candidates: Sequence[str],
    *,
    max_tokens: int,
    max_pairs: int,
) -> list[float]:
    """Scores with one process per device; each takes every n-th pair by length, so loads are even."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    n = len(devices)
    order = sorted(range(len(references)), key=lambda i: len(references[i]) + len(candidates[i]))
    shards = [order[k::n] for k in range(n)]
    tasks = [
        (
            folder,
            devices[k],
            precision,
            [references[i] for i in s],
            [candidates[i] for i in s],
            max_tokens,
            max_pairs,
        )
        for k, s in enumerate(shards)
    ]
    scores = [0.0] * len(references)
    with ProcessPoolExecutor(max_workers=n, mp_context=multiprocessing.get_context("spawn")) as pool:
        for shard, result in zip(shards, pool.map(_score_shard, tasks), strict=True):
            for i, score in zip(shard, result, strict=True):
                scores[i] = score
    return scores
