"""BLEURT (Sellam et al.), default BLEURT-20, computed by our own network code on transformers 5's stack.

- ``model``: a hub id of a checkpoint in the format bleurt-pytorch reads (``lucadiliello/BLEURT-20``,
  ``-D12``, ``-D6``, ``-D3``; the older WordPiece ones such as ``lucadiliello/bleurt-base-512`` too) or a
  local folder with that layout (see :mod:`.checkpoint`).
- As bleurt-pytorch 0.0.1 scores it, and proven equal to it within 1e-5 per segment (fp32) on checkpoints
  it built (tests/fixtures/bleurt/, scripts/parity/bleurt_fixtures.py): the reference is the first
  segment and the candidate the second; pairs are truncated to 512 tokens.
- Batches bucketed by length and sized by tokens (``max_tokens`` padded tokens, at most ``batch_size``
  pairs); one device (CUDA when present), or several (``device="cuda:0,cuda:1"`` or
  ``XLLM_BLEURT_DEVICES=all``: one process per device, results gathered in input order).
- ``precision``: ``fp32`` (default, the parity setting), ``bf16`` or ``fp16`` (GPU speed; recorded in
  the signature).
- Loaded once per process; the system score is the mean segment score x100 (the paper's scale).
"""

from __future__ import annotations

import os
from typing import Any

from xllm_harness.errors import InputError
from xllm_harness.hookspecs import hookimpl
from xllm_harness.metrics import SCALE_FIELD, Metric, MetricResult, Signature
from xllm_harness.models.metric_models import metric_device

from .checkpoint import DEFAULT_MODEL, locate
from .predict import DTYPES, MAX_LENGTH

_REMBERT_CODES = """
    af am ar az be bg bn bs ca ceb co cs cy da de el en eo es et eu fa fi fil fr fy ga gd gl gu ha haw
    he hi hmn hr ht hu hy id ig is it ja jv ka kk km kn ko ku ky la lb lo lt lv mg mi mk ml mn mr ms mt
    my ne nl no ny pa pl ps pt ro ru sd si sk sl sm sn so sq sr st su sv sw ta te tg th tr uk ur uz vi
    xh yi yo zh zu
"""
REMBERT_LANGUAGES = frozenset(_REMBERT_CODES.split())
"""The languages of RemBERT, BLEURT-20's encoder. Source: Chung et al. 2021, "Rethinking Embedding
Coupling in Pre-trained Language Models" (110 languages of Wikipedia and mC4), as the ISO codes of the
``google/rembert`` model card (its ``iw`` written ``he``; script variants count once)."""

IMPLEMENTATION = "xllm-bleurt-1"
"""Names our BLEURT code in signatures; bump it when a change could move a score."""

_MODELS: dict[tuple[str, str, str], Any] = {}
LOADS: list[str] = []
"""Checkpoint folders loaded in this process, in order (tests and the benchmark count them)."""


def load_model(model: str = DEFAULT_MODEL, device: str | None = None, precision: str = "fp32"):
    """(network, pair encoder) for ``model`` on ``device`` in ``precision``, loaded at most once per process."""
    import torch

    from .model import build
    from .tokenize import pair_encoder

    if precision not in DTYPES:
        raise InputError(f"BLEURT precision={precision!r}: use one of {', '.join(DTYPES)}")
    checkpoint = locate(model)
    device = metric_device(device)
    key = (str(checkpoint.folder), device, precision)
    if key not in _MODELS:
        net = build(checkpoint).to(device=device, dtype=getattr(torch, DTYPES[precision]))
        _MODELS[key] = (net, pair_encoder(checkpoint))
        LOADS.append(key[0])
    return _MODELS[key]


def _devices(device: str | None) -> list[str]:
    """The devices to score on: ``device`` (comma-separated for several), ``XLLM_BLEURT_DEVICES``
    (``all``: every visible GPU), else the one metric device."""
    choice = device or os.environ.get("XLLM_BLEURT_DEVICES")
    if choice == "all":
        import torch

        return [f"cuda:{i}" for i in range(torch.cuda.device_count())] or [metric_device(None)]
    if choice and "," in choice:
        return [d.strip() for d in choice.split(",") if d.strip()]
    return [metric_device(choice)]


class Bleurt(Metric):
    """Corpus BLEURT: mean segment score (x100), references first, truncated to 512 tokens."""

    name = "bleurt"
    title = "BLEURT (x100)"
    table_scale = 100.0
    loads_model = True
    model_env = "XLLM_BLEURT_MODEL"
    languages = REMBERT_LANGUAGES
    languages_source = "RemBERT's 110 languages, Chung et al. 2021"

    def __init__(
        self,
        model: str | None = None,
        batch_size: int | None = None,
        device: str | None = None,
        max_tokens: int | None = None,
        precision: str | None = None,
    ) -> None:
        self.model = self.configured_model(model) or DEFAULT_MODEL
        self.batch_size = int(batch_size or os.environ.get("XLLM_BLEURT_BATCH_SIZE") or 128)
        self.max_tokens = int(max_tokens or os.environ.get("XLLM_BLEURT_MAX_TOKENS") or 16384)
        self.precision = precision or os.environ.get("XLLM_BLEURT_PRECISION") or "fp32"
        if self.precision not in DTYPES:
            raise InputError(f"BLEURT precision={self.precision!r}: use one of {', '.join(DTYPES)}")
        self.device = device

    def signature(self) -> Signature:
        return Signature.of(
            ("model", self.model), ("nrefs", 1), ("max_length", MAX_LENGTH), (SCALE_FIELD, 100),
            ("precision", self.precision), ("impl", IMPLEMENTATION),
        )  # fmt: skip

    def check_available(self) -> None:
        locate(self.model)

    def _segment_scores(self, hypotheses: list[str], references: list[list[str]]) -> list[float]:
        """Raw BLEURT segment scores (first reference of each), in input order."""
        from .predict import score_data_parallel, score_pairs

        refs = [r[0] for r in references]
        devices = _devices(self.device)
        if len(devices) > 1:
            folder = str(locate(self.model).folder)
            return score_data_parallel(
                folder,
                devices,
                self.precision,
                refs,
                hypotheses,
                max_tokens=self.max_tokens,
                max_pairs=self.batch_size,
            )
        net, encoder = load_model(self.model, devices[0], self.precision)
        return score_pairs(
            net, encoder, refs, hypotheses, max_tokens=self.max_tokens, max_pairs=self.batch_size
        )

    def segment_statistics(self, hypotheses, references, sources, lang) -> list[float]:
        """Segment scores x100 (their mean is the corpus score)."""
        return [100 * s for s in self._segment_scores(hypotheses, references)]

    def _result_from_statistics(self, stats, lang) -> MetricResult:
        result = super()._result_from_statistics(stats, lang)
        result.extra["segments"] = (stats[:, 0] / 100).tolist()  # BLEURT's own segment scores
        return result


@hookimpl
def xllm_metrics() -> list[type[Metric]]:
    return [Bleurt]
