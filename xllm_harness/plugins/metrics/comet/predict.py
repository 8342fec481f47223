"""COMET inference: unbabel-comet 2.2.7's input formatting, batched by length under a token budget.

Every encoder input is one job: a sentence (regression models embed source, translation and reference
separately) or a concatenation ``<s> mt </s></s> src </s>[</s> ref </s>]`` (unified models). Jobs are
deduplicated, sorted by length and cut into batches of at most ``max_tokens`` padded tokens (and
``batch_size`` sequences); results go back to the input order. With ``distributed=True`` under
``torchrun`` (``WORLD_SIZE`` > 1; the ``python -m xllm_harness.plugins.metrics.comet`` command) each
process scores every ``WORLD_SIZE``-th batch on its own GPU and all processes receive every result, in
input order (no process exits, unlike COMET's multi-GPU path). Off by default: inside a multi-process
lm-eval run only one rank scores, and a collective call there would wait forever.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from xllm_harness.models.metric_models import token_budget_batches

from .model import CometNet

UNIFIED_SPAN_WEIGHTS = (0.1667, 0.3333, 0.5)
"""Weights of the [mt:src], [mt:ref], [mt:src:ref] tag probabilities (unbabel-comet's defaults)."""
XCOMET_SCORE_WEIGHTS = (0.12, 0.33, 0.33, 0.22)
"""XCOMET's final score: weights of the three regression scores and of the MQM score from the spans."""
MQM_PENALTY = {"minor": 1, "major": 5, "critical": 10}


@dataclass
class Scorer:
    """A loaded COMET network with its tokenizer, on one device."""

    net: CometNet
    tokenizer: Any
    device: torch.device
    max_positions: int  # encoder positions minus 2, as COMET counts them

    @property
    def reference_free(self) -> bool:
        """Whether the model scores without references (QE): referenceless, and unified with a source."""
        if self.net.kind == "referenceless_regression_metric":
            return True
        return self.net.unified and "src" in self.net.input_segments


def _tokenize(scorer: Scorer, texts: Sequence[str], offsets: bool = False) -> tuple[list[list[int]], list]:
    enc = scorer.tokenizer(
        list(texts),
        truncation=True,
        max_length=scorer.max_positions - 2,
        return_offsets_mapping=offsets,
        add_special_tokens=True,
    )
    return enc["input_ids"], (enc["offset_mapping"] if offsets else [])


def _concat(scorer: Scorer, parts: list[list[int]]) -> list[int]:
    """COMET's ``concat_sequences`` for XLM-R: ``<s> a </s></s> b </s>``..., cut at ``max_positions``."""
    cls_id, sep_id = scorer.tokenizer.cls_token_id, scorer.tokenizer.sep_token_id
    seq = parts[0]
    for other in parts[1:]:
        seq = [cls_id, *seq[1:-1], sep_id, sep_id, *other[1:-1], sep_id]
    if sum(len(p) - 2 for p in parts) > scorer.max_positions - (1 + 2 * len(parts)):
        seq = seq[: scorer.max_positions]
    return seq


def _world(distributed: bool) -> tuple[int, int]:
    """(rank, world size) of the data-parallel group; (0, 1) unless asked for and under torchrun."""
    world = int(os.environ.get("WORLD_SIZE", "1")) if distributed else 1
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    if world > 1:
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def run_jobs(
    scorer: Scorer,
    jobs: list[list[int]],
    compute: Callable[[torch.Tensor, torch.Tensor], list[Any]],
    max_tokens: int,
    batch_size: int,
    progress: bool,
    distributed: bool = False,
) -> list[Any]:
    """``compute(ids, mask)`` (one result per row) over every job, batched; results in job order."""
    from xllm_harness.console import progress_bar

    rank, world = _world(distributed)
    pad = scorer.tokenizer.pad_token_id
    batches = token_budget_batches([len(j) for j in jobs], max_tokens, batch_size)
    mine = batches[rank::world]
    results: dict[int, Any] = {}
    bar = progress_bar(mine, desc="COMET", unit="batch", enabled=progress and not rank, leave=False)
    with torch.inference_mode():
        for batch in bar:
            width = max(len(jobs[i]) for i in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            for row, i in enumerate(batch):
                ids[row, : len(jobs[i])] = torch.tensor(jobs[i], dtype=torch.long)
            mask = torch.arange(width)[None, :] < torch.tensor([len(jobs[i]) for i in batch])[:, None]
            out = compute(ids.to(scorer.device), mask.to(scorer.device))
            results.update(zip(batch, out, strict=True))
    if world > 1:
        gathered: list[dict[int, Any]] = [{} for _ in range(world)]
        torch.distributed.all_gather_object(gathered, results)
        results = {k: v for part in gathered for k, v in part.items()}
    return [results[i] for i in range(len(jobs))]


def _dedupe(items: list[Any]) -> tuple[list[Any], list[int]]:
    """Unique items and, per item, the index of its unique copy."""
    index: dict[Any, int] = {}
    where = [
        index.setdefault(item if not isinstance(item, list) else tuple(item), len(index)) for item in items
    ]
    unique: list[Any] = [None] * len(index)
    for item, i in zip(items, where, strict=True):
        unique[i] = item
    return unique, where


def predict(
    scorer: Scorer,
    samples: list[dict[str, str]],
    max_tokens: int = 16384,
    batch_size: int = 256,
    progress: bool = True,
    distributed: bool = False,
) -> dict[str, list[Any]]:
    """Segment scores for ``samples`` (``src``, ``mt`` and, optionally, ``ref``) in input order; for
    models with word-level tags also ``error_spans`` (XCOMET: and ``mqm_scores``)."""
    if not samples:
        return {"scores": []}
    net = scorer.net
    if net.unified:
        return _predict_unified(scorer, samples, max_tokens, batch_size, progress, distributed)
    keys = ["src", "mt"] + (["ref"] if net.kind == "regression_metric" else [])
    texts, where = _dedupe([str(s[k]) for k in keys for s in samples])
    ids, _ = _tokenize(scorer, texts)
    pad = scorer.tokenizer.pad_token_id

    def embed(batch_ids: torch.Tensor, mask: torch.Tensor) -> list[torch.Tensor]:
        return list(net.sentence_embedding(batch_ids, mask, pad).cpu())

    embeddings = run_jobs(scorer, ids, embed, max_tokens, batch_size, progress, distributed)
    n = len(samples)
    stacked = {
        k: torch.stack([embeddings[where[j * n + i]] for i in range(n)]).to(scorer.device)
        for j, k in enumerate(keys)
    }
    scores = []
    with torch.inference_mode():
        for start in range(0, n, batch_size):
            part = {k: v[start : start + batch_size] for k, v in stacked.items()}
            scores += net.regression_scores(part["src"], part["mt"], part.get("ref")).tolist()
    return {"scores": scores}


def _predict_unified(scorer, samples, max_tokens, batch_size, progress, distributed) -> dict[str, list[Any]]:
    net = scorer.net
    segments = net.input_segments
    mt_ids, mt_offsets = _tokenize(scorer, [str(s["mt"]) for s in samples], offsets=net.word_level)
    use = [k for k in ("src", "ref") if k in samples[0] and k in segments]
    other = {k: _tokenize(scorer, [str(s[k]) for s in samples])[0] for k in use}
    combos = [["src"], ["ref"], ["src", "ref"]] if len(use) == 2 else [use]  # 3 inputs: mt:src, mt:ref, all
    jobs = []
    for i in range(len(samples)):
        for combo in combos:
            jobs.append(_concat(scorer, [mt_ids[i], *(other[k][i] for k in combo)]))
    unique, where = _dedupe(jobs)
    mt_len = [len(m) for m in mt_ids]

    def forward(ids: torch.Tensor, mask: torch.Tensor) -> list[tuple[float, torch.Tensor | None]]:
        score, logits = net.unified_forward(ids, mask)
        probs = torch.softmax(logits, dim=2).cpu() if logits is not None else None
        return [(s, probs[r] if probs is not None else None) for r, s in enumerate(score.cpu())]

    outputs = run_jobs(scorer, unique, forward, max_tokens, batch_size, progress, distributed)
    k = len(combos)
    result: dict[str, list[Any]] = {"scores": []}
    spans_all, mqm_all = [], []
    xcomet = net.kind == "xcomet_metric"
    for i in range(len(samples)):
        outs = [outputs[where[i * k + c]] for c in range(k)]
        scores = [o[0] for o in outs]
        spans = None
        if net.word_level:
            probs = [o[1][: mt_len[i]] for o in outs]
            if k == 3:
                probs = torch.stack(
                    [p * w for p, w in zip(probs, torch.tensor(UNIFIED_SPAN_WEIGHTS), strict=True)]
                )
                mixed = probs.sum(dim=0)
            else:
                mixed = probs[0]
            spans = _decode(scorer, net.labels, mixed, jobs[i * k][: mt_len[i]], mt_offsets[i])
            spans_all.append(spans)
        if xcomet:
            mqm = _mqm(spans)
            mqm_all.append(mqm)
            w = XCOMET_SCORE_WEIGHTS
            if k == 3:
                clipped = torch.stack(
                    [torch.where(s > 1.0, 1.0, s) * wi for s, wi in zip(scores, w[:3], strict=True)]
                )
                total = clipped.sum(dim=0) + torch.tensor(mqm) * w[3]
            else:
                total = torch.where(scores[0] > 1.0, 1.0, scores[0]) * sum(w[:3]) + torch.tensor(mqm) * w[3]
            result["scores"].append(float(total))
        elif k == 3:
            result["scores"].append(float(torch.stack(scores).mean(dim=0)))
        else:
            result["scores"].append(float(scores[0]))
    if net.word_level:
        result["error_spans"] = spans_all
    if xcomet:
        result["mqm_scores"] = mqm_all
    return result


def _mqm(spans: list[dict[str, Any]]) -> float:
    """XCOMET's MQM score from error spans: minor 1, major 5, critical 10, capped at 25, scaled to [0, 1]."""
    penalty = min(sum(MQM_PENALTY.get(span["severity"], 0) for span in spans), 25)
    return float(torch.tensor(penalty * -1 + 25) / 25)


def _decode(scorer, labels: list[str], probs: torch.Tensor, ids: list[int], offsets) -> list[dict[str, Any]]:
    """COMET's ``UnifiedMetric.decode`` (argmax labels): runs of error-labelled subwords become spans;
    a run still open at the end of the translation is dropped, as COMET drops it."""
    spans, current = [], None
    for token_id, p, offset in zip(ids, probs, offsets, strict=False):
        value, label_id = torch.topk(p, 1)
        label = labels[int(label_id[0])]
        if label.startswith("I"):
            if current is None:
                current = {"tokens": [token_id], "severity": label.split("-")[1], "offset": list(offset)}
                current["confidence"] = [value]
            else:
                current["tokens"].append(token_id)
                current["confidence"].append(value)
                current["offset"][1] = offset[1]
        elif current is not None:
            spans.append(current)
            current = None
    return [
        {
            "text": scorer.tokenizer.decode(span["tokens"]),
            "confidence": torch.concat(span["confidence"]).mean().item(),
            "severity": span["severity"],
            "start": span["offset"][0],
            "end": span["offset"][1],
        }
        for span in spans
    ]
