"""COMET (Rei et al.), default ``Unbabel/wmt22-comet-da``, as the paper scores FLORES.

- ``model``: a COMET hub id (``Unbabel/wmt22-comet-da``), a checkpoint folder
  (``<dir>/checkpoints/model.ckpt`` + ``<dir>/hparams.yaml``) or the ``.ckpt`` file itself.
- Loaded once per process (module-level cache keyed by checkpoint path; ``LOADS`` counts loads).
- Half precision by default, as the ``comet-score`` CLI runs models (``model.half()``), so our scores
  equal its; ``precision="fp32"`` (``XLLM_COMET_PRECISION``) gives the Python API's float32 scores.
- Scored by our own inference loop on ONE device (CUDA when present): batches sorted by source length
  exactly as COMET's ``predict`` does, no Lightning trainer, so never ``gpus>1`` (COMET's DDP path calls
  ``exit()`` on non-zero ranks, which would kill an lm-eval run).
- The system score is the mean segment score, reported ×100 like the paper's tables.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from xllm_harness.errors import InputError
from xllm_harness.hookspecs import hookimpl
from xllm_harness.metric_models import MissingMetricModelError, metric_device, offline, require, to_device
from xllm_harness.metrics import Metric, MetricResult

DEFAULT_MODEL = "Unbabel/wmt22-comet-da"
LAYOUT = "<folder>/checkpoints/model.ckpt and <folder>/hparams.yaml"

PRECISIONS = ("fp16", "fp32")

_MODELS: dict[tuple[str, str, str], Any] = {}
LOADS: list[str] = []
"""Checkpoint paths loaded in this process, in order (the benchmark and tests count them)."""


def _hf_cache() -> str:
    try:
        from huggingface_hub import constants

        return str(constants.HF_HUB_CACHE)
    except Exception:  # pragma: no cover - very old huggingface_hub
        return "~/.cache/huggingface/hub"


def resolve_checkpoint(model: str) -> Path:
    """The ``model.ckpt`` of a hub id, checkpoint folder or ``.ckpt`` path; a clear error when absent."""
    path = Path(model).expanduser()
    if path.suffix == ".ckpt" or path.is_dir() or path.is_absolute() or model.startswith("."):
        ckpt = path if path.suffix == ".ckpt" else path / "checkpoints" / "model.ckpt"
        if not ckpt.is_file():
            raise MissingMetricModelError(
                f"COMET checkpoint {ckpt} does not exist. A local COMET model is a folder laid out as "
                f"{LAYOUT} (what `comet.download_model` or `huggingface-cli download {DEFAULT_MODEL}` "
                "writes); see docs/offline-models.md."
            )
        if not (ckpt.parents[1] / "hparams.yaml").is_file():
            raise MissingMetricModelError(
                f"COMET checkpoint {ckpt} has no {ckpt.parents[1] / 'hparams.yaml'}; expected layout: {LAYOUT}."
            )
        return ckpt
    require("comet", "comet", "unbabel-comet")
    from huggingface_hub import snapshot_download

    try:
        folder = snapshot_download(repo_id=model, local_files_only=offline())
    except Exception as err:
        raise MissingMetricModelError(
            f"COMET model {model!r} is not in the Hugging Face cache ({_hf_cache()}) and could not be "
            f"downloaded ({type(err).__name__}). Online, run `huggingface-cli download {model}` "
            f"(and `huggingface-cli download xlm-roberta-large --exclude '*.bin' '*.safetensors' '*.h5' '*.msgpack' '*.onnx'` "
            f"for its encoder's tokenizer and config); offline, copy a checkpoint folder ({LAYOUT}) "
            "and pass its path as the model. See docs/offline-models.md."
        ) from None
    return Path(folder) / "checkpoints" / "model.ckpt"


def load_model(model: str = DEFAULT_MODEL, device: str | None = None, precision: str = "fp16"):
    """The COMET model for ``model`` on ``device``, loaded at most once per process."""
    if precision not in PRECISIONS:
        raise InputError(f"COMET precision={precision!r}: use one of {', '.join(PRECISIONS)}")
    comet = require("comet", "comet", "unbabel-comet")
    ckpt = resolve_checkpoint(model)
    device = metric_device(device)
    key = (str(ckpt.resolve()), device, precision)
    if key not in _MODELS:
        try:
            loaded = comet.load_from_checkpoint(str(ckpt), local_files_only=offline())
        except OSError as err:
            raise MissingMetricModelError(
                f"COMET checkpoint {ckpt} loaded, but its encoder could not: {err}. The encoder named by "
                f"`pretrained_model` in {ckpt.parents[1] / 'hparams.yaml'} needs its tokenizer and config "
                f"in the Hugging Face cache ({_hf_cache()}), or a local folder path there. "
                "See docs/offline-models.md."
            ) from None
        loaded.eval()
        if precision == "fp16":
            loaded.half()
        loaded.to(device)
        _MODELS[key] = loaded
        LOADS.append(key[0])
    return _MODELS[key]


def predict(model, samples: list[dict[str, str]], batch_size: int = 16, progress: bool = True) -> list[float]:
    """Segment scores for ``samples`` ({src, mt, ref}) in input order; batches sorted by source length."""
    import numpy as np
    import torch
    from tqdm.auto import tqdm

    key = "src" if samples and "src" in samples[0] else "ref"
    order = np.argsort([len(s[key]) for s in samples]).tolist()  # COMET's own order (same batches)
    device = next(model.parameters()).device
    scores = [0.0] * len(samples)
    starts = range(0, len(order), batch_size)
    bar = tqdm(starts, desc="COMET", unit="batch", file=sys.stderr, disable=not progress, leave=False)
    with torch.inference_mode():
        for start in bar:
            ids = order[start : start + batch_size]
            batch = to_device(model.prepare_for_inference([samples[i] for i in ids]), device)
            out = model.predict_step(batch)
            for i, score in zip(ids, out["scores"].float().view(-1).tolist(), strict=True):
                scores[i] = score
    return scores


class Comet(Metric):
    """Corpus COMET: mean segment score (×100) of a COMET model with source, hypothesis and reference."""

    name = "comet"
    needs_sources = True

    def __init__(
        self,
        model: str | None = None,
        batch_size: int | None = None,
        device: str | None = None,
        precision: str | None = None,
    ) -> None:
        self.model = model or os.environ.get("XLLM_COMET_MODEL") or DEFAULT_MODEL
        self.batch_size = int(batch_size or os.environ.get("XLLM_COMET_BATCH_SIZE") or 16)
        self.device = device
        self.precision = precision or os.environ.get("XLLM_COMET_PRECISION") or "fp16"

    def signature(self) -> str:
        from importlib.metadata import version

        return (
            f"model:{self.model}|nrefs:1|precision:{self.precision}|scale:100"
            f"|version:comet-{version('unbabel-comet')}"
        )

    def check_available(self) -> None:
        require("comet", "comet", "unbabel-comet")
        resolve_checkpoint(self.model)

    def _segment_scores(self, hypotheses, references, sources) -> list[float]:
        """Raw COMET segment scores (0–1 scale) from one batched prediction."""
        model = load_model(self.model, self.device, self.precision)
        # outer whitespace removed, as comet-score reads its files (some FLORES lines end in spaces)
        samples = [
            {"src": s.strip(), "mt": h.strip(), "ref": refs[0].strip()}
            for s, h, refs in zip(sources, hypotheses, references, strict=True)
        ]
        return predict(model, samples, self.batch_size)

    def segment_statistics(self, hypotheses, references, sources, lang) -> list[float]:
        """Segment scores ×100 (their mean is the corpus score)."""
        return [100 * s for s in self._segment_scores(hypotheses, references, sources)]

    def _result_from_statistics(self, stats, lang) -> MetricResult:
        result = super()._result_from_statistics(stats, lang)
        result.extra["segments"] = (stats[:, 0] / 100).tolist()  # the backend's own 0-1 segment scores
        return result


@hookimpl
def xllm_metrics() -> list[type[Metric]]:
    return [Comet]
