"""Shared plumbing of the model-based metrics (COMET, BLEURT, spBLEU's tokenizer model).

One device per process (CUDA when present, ``XLLM_METRIC_DEVICE`` overrides), an offline switch, and
:class:`MissingMetricModelError`, whose message says what to install or fetch and where it must go.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from xllm_harness.errors import MissingDependencyError


class MissingMetricModelError(MissingDependencyError, FileNotFoundError):
    """A metric backend or model is not available; the message names the fix and the exact path."""

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix
        """One shell command that installs what is missing, where there is one (for one-line notices)."""


def offline() -> bool:
    """True when downloads must not be attempted (``HF_HUB_OFFLINE`` or ``XLLM_OFFLINE``)."""
    return any(
        os.environ.get(v, "").lower() in ("1", "true", "yes") for v in ("HF_HUB_OFFLINE", "XLLM_OFFLINE")
    )


def metric_device(requested: str | None = None) -> str:
    """The one device a metric model runs on: ``requested``, ``XLLM_METRIC_DEVICE``, else cuda:0 or cpu."""
    choice = requested or os.environ.get("XLLM_METRIC_DEVICE")
    if choice:
        return choice
    import torch

    return "cuda:0" if torch.cuda.is_available() else "cpu"


def to_device(batch, device):
    """Move tensors in a (nested) dict / list / tuple to ``device``."""
    import torch

    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, dict):
        return type(batch)({k: to_device(v, device) for k, v in batch.items()})
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


def spm_url(tokenize: str = "flores101") -> str:
    """Where sacrebleu downloads the SentencePiece model of its tokenizer ``tokenize`` (its own table)."""
    from sacrebleu.tokenizers import tokenizer_spm

    return tokenizer_spm.SPM_MODELS[tokenize]["url"]


def spm_model_path(tokenize: str = "flores101") -> Path:
    """Where sacrebleu looks for that model: ``$SACREBLEU/models/<last part of the URL>`` (its own logic;
    FLORES-101 is spBLEU's default, ``flores200`` and ``spBLEU-1K`` are sacrebleu 2.6's others)."""
    from sacrebleu.tokenizers import tokenizer_spm

    return Path(tokenizer_spm.SACREBLEU_DIR) / "models" / os.path.basename(spm_url(tokenize))


def token_budget_batches(lengths: Sequence[int], max_tokens: int, max_items: int) -> list[list[int]]:
    """Indices sorted by length (stable), cut so that each batch's padded size ``n * longest`` stays within
    ``max_tokens`` and ``n`` within ``max_items``; an item longer than the budget is alone. The batching
    of every model-based metric (COMET, BLEURT)."""
    batches: list[list[int]] = []
    current: list[int] = []
    for i in sorted(range(len(lengths)), key=lengths.__getitem__):
        if current and (lengths[i] * (len(current) + 1) > max_tokens or len(current) >= max_items):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches
