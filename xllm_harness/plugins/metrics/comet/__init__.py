"""COMET (Rei et al.) by our own code on transformers 5, default ``Unbabel/wmt22-comet-da``.

- ``model``: a COMET hub id, a checkpoint folder (``<dir>/checkpoints/model.ckpt`` + ``<dir>/hparams.yaml``)
  or the ``.ckpt`` file itself. Classes: regression (``Unbabel/wmt22-comet-da``, wmt20/21), referenceless
  regression (wmt21 QE), unified (``Unbabel/wmt22-cometkiwi-da``, ``wmt23-cometkiwi-da-xl/xxl``) and
  XCOMET (``Unbabel/XCOMET-XL/XXL``); XLM-R and XLM-R-XL encoders. unbabel-comet and Lightning are not
  imported: :mod:`.checkpoint` reads the files, :mod:`.model` holds the networks, :mod:`.predict` the
  input formatting and batching. Scores equal unbabel-comet 2.2.7's in float32 (``tests/fixtures/comet``).
- Loaded once per process (cache keyed by checkpoint, device, precision; ``LOADS`` counts loads).
- ``precision``: ``fp32`` (default on CPU, and the parity setting), ``bf16``/``fp16`` for the encoder
  (default ``bf16`` on CUDA); the layer mix and heads always run in float32.
- Reference-free models (CometKiwi, XCOMET) score without references when given none
  (``references`` of empty strings); XCOMET's error spans are kept per segment in ``extra``.
- The system score is the mean segment score, reported ×100 like the paper's tables.
- Three metric names over this one loader: ``comet`` (``XLLM_COMET_MODEL``, default
  ``Unbabel/wmt22-comet-da``), ``cometkiwi`` (quality estimation: never given the references;
  ``XLLM_COMETKIWI_MODEL``, default ``Unbabel/wmt22-cometkiwi-da``) and ``xcomet`` (``XLLM_XCOMET_MODEL``,
  default ``Unbabel/XCOMET-XL``; its error spans and MQM score per segment are :meth:`Comet.segment_details`).
- Declared languages: XLM-R's (:mod:`.languages`); others are scored with a coverage warning.

Importing this module imports no torch: everything heavy loads on first use.
"""

from __future__ import annotations

import os
from typing import Any

from xllm_harness.errors import InputError
from xllm_harness.hookspecs import hookimpl
from xllm_harness.metrics import SCALE_FIELD, Metric, MetricResult, Signature
from xllm_harness.models.metric_models import metric_device

from .checkpoint import LAYOUT, resolve_checkpoint  # noqa: F401  (LAYOUT: part of the error texts' API)
from .languages import XLMR_LANGUAGES, XLMR_SOURCE

DEFAULT_MODEL = "Unbabel/wmt22-comet-da"
PRECISIONS = ("fp32", "bf16", "fp16")
IMPLEMENTATION = "xllm-comet-1"
"""Names this implementation in signatures; bump when a change can move a score."""

_SCORERS: dict[tuple[str, str, str], Any] = {}
LOADS: list[str] = []
"""Checkpoint paths loaded in this process, in order (the benchmark and tests count them)."""


def default_precision(device: str) -> str:
    return "bf16" if device.startswith("cuda") else "fp32"


def load_model(model: str = DEFAULT_MODEL, device: str | None = None, precision: str | None = None):
    """The COMET :class:`~.predict.Scorer` for ``model`` on ``device``, loaded at most once per process."""
    device = metric_device(device)
    precision = precision or default_precision(device)
    if precision not in PRECISIONS:
        raise InputError(f"COMET precision={precision!r}: use one of {', '.join(PRECISIONS)}")
    ckpt_path = resolve_checkpoint(model)
    key = (str(ckpt_path.resolve()), device, precision)
    if key not in _SCORERS:
        import torch

        from .checkpoint import load_encoder_files, read_checkpoint
        from .model import build
        from .predict import Scorer

        ckpt = read_checkpoint(ckpt_path)
        config, tokenizer = load_encoder_files(ckpt)
        net = build(ckpt, config)
        del ckpt
        if precision != "fp32":
            net.encoder.to({"bf16": torch.bfloat16, "fp16": torch.float16}[precision])
        net.to(device)
        _SCORERS[key] = Scorer(net, tokenizer, torch.device(device), config.max_position_embeddings - 2)
        LOADS.append(key[0])
    return _SCORERS[key]


class Comet(Metric):
    """Corpus COMET: mean segment score (×100) of a COMET model with source, hypothesis and reference."""

    name = "comet"
    title = "COMET (x100)"
    table_scale = 100.0
    loads_model = True
    needs_sources = True
    languages = XLMR_LANGUAGES
    languages_source = XLMR_SOURCE
    default_model: str = DEFAULT_MODEL
    model_env = "XLLM_COMET_MODEL"
    reference_free: bool = False
    """Quality estimation: the references are never given to the model (``nrefs:0``)."""

    def __init__(
        self,
        model: str | None = None,
        batch_size: int | None = None,
        device: str | None = None,
        precision: str | None = None,
        max_tokens: int | None = None,
        distributed: bool = False,
    ) -> None:
        self.model = self.configured_model(model) or self.default_model
        self.batch_size = int(batch_size or os.environ.get("XLLM_COMET_BATCH_SIZE") or 256)
        self.max_tokens = int(max_tokens or os.environ.get("XLLM_COMET_MAX_TOKENS") or 16384)
        self.device = device
        self.precision = precision or os.environ.get("XLLM_COMET_PRECISION") or None
        self.distributed = distributed  # data parallel under torchrun (the __main__ command only)

    def _precision(self) -> str:
        return self.precision or default_precision(metric_device(self.device))

    def signature(self) -> Signature:
        nrefs = 0 if self.reference_free else 1
        return Signature.of(
            ("model", self.model), ("nrefs", nrefs), ("precision", self._precision()), (SCALE_FIELD, 100),
            ("version", IMPLEMENTATION),
        )  # fmt: skip

    def check_available(self) -> None:
        resolve_checkpoint(self.model)

    def predict(self, hypotheses, references, sources) -> dict[str, list[Any]]:
        """The model's raw output: ``scores`` (0–1 scale) and, for XCOMET, ``error_spans``/``mqm_scores``.

        Segments lose their outer whitespace, as ``comet-score`` reads its files. A segment whose
        reference is empty is scored without references when the model can (CometKiwi, XCOMET).
        """
        from .predict import predict

        scorer = load_model(self.model, self.device, self.precision)
        if self.reference_free:
            if not scorer.reference_free:
                raise InputError(
                    f"{self.name}: model {self.model} ({scorer.net.kind}) needs references; give a quality-"
                    "estimation model (e.g. Unbabel/wmt22-cometkiwi-da) or use the `comet` metric"
                )
            references = [""] * len(hypotheses)
        refs = [r[0].strip() if isinstance(r, (list, tuple)) else str(r).strip() for r in references]
        samples = [{"src": s.strip(), "mt": h.strip()} for s, h in zip(sources, hypotheses, strict=True)]
        if all(refs) or not scorer.reference_free:
            for sample, ref in zip(samples, refs, strict=True):
                sample["ref"] = ref
        elif any(refs):
            raise InputError(
                f"COMET {self.model}: some segments have references and some do not; score them separately"
            )
        return predict(scorer, samples, self.max_tokens, self.batch_size, distributed=self.distributed)

    def segment_statistics(self, hypotheses, references, sources, lang) -> list[float]:
        """Segment scores ×100 (their mean is the corpus score)."""
        self._last = self.predict(hypotheses, references, sources)
        return [100 * s for s in self._last["scores"]]

    def _result_from_statistics(self, stats, lang) -> MetricResult:
        result = super()._result_from_statistics(stats, lang)
        result.extra["segments"] = (stats[:, 0] / 100).tolist()  # the model's own 0-1 segment scores
        last = getattr(self, "_last", None)
        if last is not None and len(last["scores"]) == len(stats):
            result.extra.update({k: v for k, v in last.items() if k != "scores"})
        self._last = None
        return result

    def segment_details(self, result: MetricResult) -> list[dict[str, Any]] | None:
        """Per segment, what the model says beyond its score: XCOMET's ``error_spans`` (text, severity,
        confidence, character ``start``/``end`` in the translation) and ``mqm_score``; ``None`` without."""
        spans, mqm = result.extra.get("error_spans"), result.extra.get("mqm_scores")
        if spans is None and mqm is None:
            return None
        n = len(result.extra["segments"])
        return [
            {
                **({"error_spans": spans[i]} if spans is not None else {}),
                **({"mqm_score": mqm[i]} if mqm is not None else {}),
            }
            for i in range(n)
        ]


class CometKiwi(Comet):
    """CometKiwi quality estimation (Rei et al. 2022): source and translation only, references unused."""

    name = "cometkiwi"
    title = "CometKiwi (x100)"
    default_model = "Unbabel/wmt22-cometkiwi-da"
    model_env = "XLLM_COMETKIWI_MODEL"
    reference_free = True


class XComet(Comet):
    """XCOMET (Guerreiro et al. 2024): a score with the reference, and the error spans behind it."""

    name = "xcomet"
    title = "XCOMET (x100)"
    default_model = "Unbabel/XCOMET-XL"
    model_env = "XLLM_XCOMET_MODEL"


@hookimpl
def xllm_metrics() -> list[type[Metric]]:
    return [Comet, CometKiwi, XComet]
