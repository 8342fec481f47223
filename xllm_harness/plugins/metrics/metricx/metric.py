"""The ``metricx`` (reference-based) and ``metricx_qe`` (quality estimation) metrics.

Both use a MetricX-24 hybrid checkpoint (one model does both modes). Segment scores are Google's
0–25 error scores, **lower is better** (``higher_is_better = False``); the corpus score is their
mean. Both need the source segments: MetricX-24's reference-based input contains the source too
(Google's README: pass empty strings when there is none, which the caller does explicitly here).

Options (constructor, else environment): ``model`` (``XLLM_METRICX_MODEL``; a size, hub id or folder;
default ``google/metricx-24-hybrid-large-v2p6``), ``tokenizer`` (default: ``google/mt5-<size>`` as
Google's README pairs them), ``dtype`` (``XLLM_METRICX_DTYPE``: ``auto``/``fp32``/``bf16``),
``batch_size`` (``XLLM_METRICX_BATCH_SIZE``, 8), ``device``, ``device_map`` (``XLLM_METRICX_DEVICE_MAP``,
e.g. ``auto`` to shard over GPUs), ``max_input_length`` (1536).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib.metadata import version

from xllm_harness.metrics import Metric, MetricResult, NotComputable, Signature
from xllm_harness.plugins.metrics.metricx.checkpoints import (
    DEFAULT_MODEL,
    default_tokenizer,
    model_folder,
    model_id,
    tokenizer_folder,
)
from xllm_harness.plugins.metrics.metricx.inputs import MAX_INPUT_LENGTH, input_text
from xllm_harness.plugins.metrics.metricx.languages import MT5_LANGUAGES, MT5_SOURCE


class MetricX(Metric):
    """MetricX-24, reference-based: source, hypothesis and reference."""

    name = "metricx"
    title = "MetricX"
    loads_model = True
    model_env = "XLLM_METRICX_MODEL"
    needs_sources = True
    higher_is_better = False
    qe = False
    languages = MT5_LANGUAGES
    languages_source = MT5_SOURCE

    def __init__(
        self,
        model: str | None = None,
        tokenizer: str | None = None,
        batch_size: int | None = None,
        device: str | None = None,
        dtype: str | None = None,
        device_map: str | None = None,
        max_input_length: int = MAX_INPUT_LENGTH,
        progress: bool = True,
    ) -> None:
        self.model = model_id(self.configured_model(model) or DEFAULT_MODEL)
        self.tokenizer = tokenizer
        self.batch_size = int(batch_size or os.environ.get("XLLM_METRICX_BATCH_SIZE") or 8)
        self.device = device
        self.dtype = dtype or os.environ.get("XLLM_METRICX_DTYPE") or "auto"
        self.device_map = device_map or os.environ.get("XLLM_METRICX_DEVICE_MAP") or None
        self.max_input_length = max_input_length
        self.progress = progress

    def _resolved(self) -> tuple:
        folder = model_folder(self.model)
        return folder, tokenizer_folder(self.tokenizer or default_tokenizer(self.model))

    def check_available(self) -> None:
        self._resolved()

    def signature(self) -> Signature:
        tokenizer = self.tokenizer or default_tokenizer(self.model)
        return Signature.of(
            ("model", self.model), ("tokenizer", tokenizer), ("mode", "qe" if self.qe else "ref"), ("nrefs", 1),
            ("dtype", self.dtype), ("max_len", self.max_input_length), ("range", "0-25,lower-is-better"),
            ("version", f"xllm-harness-{version('xllm-harness')},transformers-{version('transformers')}"),
        )  # fmt: skip

    def _check(self, hypotheses, references, sources: Sequence[str] | None, lang) -> None:
        if sources is None:
            what = (
                "a quality-estimation metric: it scores a translation against its source"
                if self.qe
                else "reference-based, and its input holds the source too (pass empty strings to leave it out)"
            )
            raise NotComputable(f"{self.name} is {what}; these outputs have no source segments")
        super()._check(hypotheses, references, sources, lang)

    def texts(self, hypotheses: list[str], references: list[list[str]], sources: Sequence[str]) -> list[str]:
        """The model inputs (first reference of each segment in reference-based mode)."""
        return [
            input_text(src, hyp, None if self.qe else refs[0])
            for src, hyp, refs in zip(sources, hypotheses, references, strict=True)
        ]

    def segment_statistics(self, hypotheses, references, sources, lang) -> list[float]:
        """Segment scores, 0–25, lower is better (their mean is the corpus score)."""
        from xllm_harness.plugins.metrics.metricx import model as backend

        folder, tokenizer = self._resolved()
        loaded = backend.load(folder, tokenizer, self.dtype, self.device, self.device_map)
        texts = self.texts(hypotheses, references, sources)
        return backend.predict(loaded, texts, self.max_input_length, self.batch_size, self.progress)

    def _result_from_statistics(self, stats, lang) -> MetricResult:
        result = super()._result_from_statistics(stats, lang)
        result.extra["higher_is_better"] = False
        return result


class MetricXQE(MetricX):
    """MetricX-24, quality estimation: source and hypothesis only (references are ignored)."""

    name = "metricx_qe"
    qe = True
