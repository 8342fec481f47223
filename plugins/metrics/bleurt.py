"""BLEURT (Sellam et al.), default BLEURT-20, through the PyTorch port ``bleurt-pytorch``.

- ``model``: a hub id (``lucadiliello/BLEURT-20``, the port of Google's BLEURT-20 checkpoint) or a
  local folder holding ``config.json``, the weights and the tokenizer files (as ``save_pretrained``
  writes them).
- As the original: the reference is the first segment and the candidate the second; pairs are
  truncated to 512 tokens; batched, sorted by length, one device (CUDA when present).
- Loaded once per process; the system score is the mean segment score ×100 (the paper's scale).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from xllm_harness.hookspecs import hookimpl
from xllm_harness.metric_models import MissingMetricModelError, metric_device, offline, require
from xllm_harness.metrics import Metric, MetricResult

DEFAULT_MODEL = "lucadiliello/BLEURT-20"
MAX_LENGTH = 512

_MODELS: dict[tuple[str, str], Any] = {}
LOADS: list[str] = []


def _not_available(model: str, reason: str) -> MissingMetricModelError:
    return MissingMetricModelError(
        f"BLEURT model {model!r} is not available ({reason}). Online, run "
        f"`huggingface-cli download {model}`; offline, copy such a folder to the machine and pass "
        "its path (config.json + weights + tokenizer files). See docs/offline-models.md."
    )


def locate(model: str) -> tuple[str, bool]:
    """(what to load, whether it is a local folder); a clear error when it cannot be there."""
    path = Path(model).expanduser()
    if path.is_dir() or path.is_absolute() or model.startswith("."):
        if not (path / "config.json").is_file():
            raise MissingMetricModelError(
                f"BLEURT model folder {path} has no config.json. A local BLEURT model is a folder with "
                "config.json, the weights (model.safetensors or pytorch_model.bin) and the tokenizer files "
                f"(vocab.txt, or spm.model for BLEURT-20), e.g. `huggingface-cli download {DEFAULT_MODEL} "
                "--local-dir <folder>`; see docs/offline-models.md."
            )
        return str(path.resolve()), True
    if offline():
        from huggingface_hub import try_to_load_from_cache

        if not isinstance(try_to_load_from_cache(model, "config.json"), str):
            raise _not_available(model, "not in the Hugging Face cache and offline mode is on")
    return model, False


def load_model(model: str = DEFAULT_MODEL, device: str | None = None):
    """(model, tokenizer) for ``model`` on ``device``, loaded at most once per process."""
    bleurt = require("bleurt_pytorch", "bleurt", "bleurt-pytorch")
    device = metric_device(device)
    name, _ = locate(model)
    key = (name, device)
    if key not in _MODELS:
        try:
            net = bleurt.BleurtForSequenceClassification.from_pretrained(name, local_files_only=offline())
            tokenizer = bleurt.BleurtTokenizer.from_pretrained(name, local_files_only=offline())
        except OSError as err:
            raise _not_available(model, str(err).splitlines()[0]) from None
        net.eval()
        net.to(device)
        _MODELS[key] = (net, tokenizer)
        LOADS.append(key[0])
    return _MODELS[key]


def predict(
    net, tokenizer, references: list[str], candidates: list[str], batch_size: int = 16, progress: bool = True
) -> list[float]:
    """Segment scores in input order; the reference is the first segment of each pair."""
    import torch
    from tqdm.auto import tqdm

    order = sorted(range(len(candidates)), key=lambda i: len(references[i]) + len(candidates[i]))
    device = next(net.parameters()).device
    scores = [0.0] * len(candidates)
    starts = range(0, len(order), batch_size)
    with torch.inference_mode():
        for start in tqdm(
            starts, desc="BLEURT", unit="batch", file=sys.stderr, disable=not progress, leave=False
        ):
            ids = order[start : start + batch_size]
            inputs = tokenizer(
                [references[i] for i in ids],
                [candidates[i] for i in ids],
                padding="longest",
                truncation=True,
                max_length=MAX_LENGTH,
                return_tensors="pt",
            ).to(device)
            logits = net(**inputs).logits.float().view(-1).tolist()
            for i, score in zip(ids, logits, strict=True):
                scores[i] = score
    return scores


class Bleurt(Metric):
    """Corpus BLEURT: mean segment score (×100), references first, truncated to 512 tokens."""

    name = "bleurt"

    def __init__(
        self, model: str | None = None, batch_size: int | None = None, device: str | None = None
    ) -> None:
        self.model = model or os.environ.get("XLLM_BLEURT_MODEL") or DEFAULT_MODEL
        self.batch_size = int(batch_size or os.environ.get("XLLM_BLEURT_BATCH_SIZE") or 16)
        self.device = device

    def signature(self) -> str:
        from importlib.metadata import version

        return (
            f"model:{self.model}|nrefs:1|max_length:{MAX_LENGTH}|scale:100"
            f"|version:bleurt-pytorch-{version('bleurt-pytorch')}"
        )

    def check_available(self) -> None:
        require("bleurt_pytorch", "bleurt", "bleurt-pytorch")
        locate(self.model)

    def _segment_scores(self, hypotheses, references) -> list[float]:
        """Raw BLEURT segment scores from one batched prediction (first reference of each)."""
        net, tokenizer = load_model(self.model, self.device)
        return predict(net, tokenizer, [refs[0] for refs in references], hypotheses, self.batch_size)

    def segment_statistics(self, hypotheses, references, sources, lang) -> list[float]:
        """Segment scores ×100 (their mean is the corpus score)."""
        return [100 * s for s in self._segment_scores(hypotheses, references)]

    def _result_from_statistics(self, stats, lang) -> MetricResult:
        result = super()._result_from_statistics(stats, lang)
        result.extra["segments"] = (stats[:, 0] / 100).tolist()  # the backend's own 0-1 segment scores
        return result


@hookimpl
def xllm_metrics() -> list[type[Metric]]:
    return [Bleurt]
