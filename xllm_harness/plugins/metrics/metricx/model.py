"""MetricX-24 scoring on transformers' mT5 (our code; Google's ``MT5ForRegression`` is the reference).

The score of a segment is what Google's model computes: encode the input, run ONE decoder step from
token 0, take the output logit of token 250089 (``<extra_id_10>``), clip it to [0, 25]. Lower is
better (an MQM-like error score). We load the checkpoint's encoder and decoder into transformers'
``MT5Model`` and read only row 250089 of ``lm_head.weight`` from the weights files: the full output
matrix (250,112 rows; 4 GB in fp32 for XXL) is never held in memory.

Attention is transformers' ``eager`` implementation, the arithmetic of Google's code: with batch size
1 our scores equal Google's within 1e-5. Batches pad to the longest input, and float32 sums in a
different order then move scores by up to ~2e-4 on the (deliberately sensitive) test models.

Precision: ``auto`` keeps the checkpoint's dtype (as Google's ``torch_dtype="auto"``), ``fp32`` or
``bf16`` convert. ``device_map`` (e.g. ``auto``) shards the model over the visible GPUs (accelerate).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from xllm_harness.errors import InputError
from xllm_harness.models.metric_models import MissingMetricModelError, metric_device
from xllm_harness.plugins.metrics.metricx.checkpoints import check_config
from xllm_harness.plugins.metrics.metricx.inputs import length_buckets, match_reference_tokenizer, token_ids

PREDICTION_ID = 250089
"""``<extra_id_10>``: the logit MetricX regresses (Google's ``metricx24/models.py``)."""
MIN_SCORE, MAX_SCORE = 0.0, 25.0
DTYPES = {"auto": "auto", "fp32": "float32", "bf16": "bfloat16"}
SUPPORTED_TOKENIZERS = ("T5Tokenizer", "T5TokenizerFast", "MT5Tokenizer", "MT5TokenizerFast")

LOADS: list[str] = []
"""Model folders loaded in this process, in order (tests and the benchmark count them)."""
_MODELS: dict[tuple, Any] = {}


def _torch_dtype(dtype: str):
    import torch

    if dtype not in DTYPES:
        raise InputError(f"MetricX dtype={dtype!r}: use one of {', '.join(DTYPES)}")
    return "auto" if dtype == "auto" else getattr(torch, DTYPES[dtype])


def _weight_files(folder: Path) -> dict[str, Path]:
    """Tensor name → the weights file holding it (sharded safetensors index, or the single file)."""
    for index in ("model.safetensors.index.json", "pytorch_model.bin.index.json"):
        if (folder / index).is_file():
            weight_map = json.loads((folder / index).read_text(encoding="utf-8"))["weight_map"]
            return {name: folder / file for name, file in weight_map.items()}
    for single in ("model.safetensors", "pytorch_model.bin"):
        if (folder / single).is_file():
            return {"lm_head.weight": folder / single}
    raise MissingMetricModelError(
        f"MetricX model folder {folder} has no model.safetensors or pytorch_model.bin"
    )


def prediction_row(folder: Path):
    """Row ``PREDICTION_ID`` of ``lm_head.weight``, read without loading the whole matrix when possible."""
    import torch

    path = _weight_files(folder).get("lm_head.weight")
    if path is None:
        raise MissingMetricModelError(f"MetricX model folder {folder}: no lm_head.weight in its weights")
    if path.suffix == ".safetensors":
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as handle:
            matrix = handle.get_slice("lm_head.weight")
            rows = matrix.get_shape()[0]
            if rows <= PREDICTION_ID:
                raise InputError(_vocab_error(folder, rows))
            return matrix[PREDICTION_ID : PREDICTION_ID + 1][0].clone()
    matrix = torch.load(path, map_location="cpu", weights_only=True)["lm_head.weight"]
    if matrix.shape[0] <= PREDICTION_ID:
        raise InputError(_vocab_error(folder, matrix.shape[0]))
    return matrix[PREDICTION_ID].clone()


def _vocab_error(folder: Path, rows: int) -> str:
    return f"MetricX model {folder}: lm_head has {rows} rows; MetricX reads row {PREDICTION_ID} (mT5's vocabulary)"


def _without_output_layer(base):
    """``MT5Model`` that expects the checkpoint's ``lm_head.weight`` to stay unread (no load warning)."""
    unexpected = [r"^lm_head\.weight$", *(base._keys_to_ignore_on_load_unexpected or [])]
    return type("MetricXEncoderDecoder", (base,), {"_keys_to_ignore_on_load_unexpected": unexpected})


class MetricXModel:
    """A loaded MetricX-24 model: tokenizer, mT5 encoder-decoder and the prediction row."""

    def __init__(self, folder: Path, tokenizer: str, dtype: str, device: str | None, device_map: str | None):
        import torch
        from transformers import AutoTokenizer, MT5Config, MT5Model

        self.tokenizer = AutoTokenizer.from_pretrained(tokenizer)
        name = type(self.tokenizer).__name__
        if name not in SUPPORTED_TOKENIZERS:
            raise InputError(
                f"MetricX tokenizer {tokenizer}: loads as {name}; supported: {', '.join(SUPPORTED_TOKENIZERS)} "
                "(the mT5 SentencePiece tokenizer, google/mt5-<size>)"
            )
        match_reference_tokenizer(self.tokenizer)
        config = MT5Config.from_pretrained(folder)
        config.use_cache = False
        placement = {"device_map": device_map} if device_map else {}
        self.model = (
            _without_output_layer(MT5Model)
            .from_pretrained(
                folder, config=config, dtype=_torch_dtype(dtype), attn_implementation="eager", **placement
            )
            .eval()
        )
        if not device_map:
            self.model.to(metric_device(device))
        # Google's forward rescales before the output layer when the config ties the embeddings. Read
        # config.json itself: transformers 5's MT5Config forces tie_word_embeddings=True on load, while
        # the MetricX configs say false (and transformers 4's MT5Config defaults to false).
        tied = bool(check_config(folder).get("tie_word_embeddings", False))
        self.scale = config.d_model**-0.5 if tied else 1.0
        last = self.model.decoder.final_layer_norm.weight
        self.row = prediction_row(folder).to(device=last.device, dtype=last.dtype)
        self.input_device = self.model.shared.weight.device
        self.pad_id = self.tokenizer.pad_token_id or 0
        self.dtype = last.dtype
        self.torch = torch

    def scores(self, batch: list[list[int]]) -> list[float]:
        """Scores of one batch of token-id lists (right-padded here, padding masked)."""
        torch = self.torch
        width = max(1, max(len(ids) for ids in batch))
        ids = torch.full((len(batch), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for i, row in enumerate(batch):
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
            mask[i, : len(row)] = 1
        ids, mask = ids.to(self.input_device), mask.to(self.input_device)
        with torch.inference_mode():
            encoded = self.model.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            start = torch.zeros((len(batch), 1), dtype=torch.long, device=self.input_device)
            decoded = self.model.decoder(
                input_ids=start, encoder_hidden_states=encoded, encoder_attention_mask=mask, use_cache=False
            ).last_hidden_state[:, 0]
            decoded = decoded.to(self.row.device)
            if self.scale != 1.0:
                decoded = decoded * self.scale
            logits = decoded @ self.row
            return torch.clamp(logits, MIN_SCORE, MAX_SCORE).float().tolist()


def load(
    folder: Path, tokenizer: str, dtype: str, device: str | None, device_map: str | None
) -> MetricXModel:
    """The model for these settings, loaded at most once per process."""
    key = (str(folder.resolve()), tokenizer, dtype, device, device_map)
    if key not in _MODELS:
        _MODELS[key] = MetricXModel(folder, tokenizer, dtype, device, device_map)
        LOADS.append(key[0])
    return _MODELS[key]


def predict(
    model: MetricXModel, texts: list[str], max_input_length: int, batch_size: int, progress: bool
) -> list[float]:
    """Scores of ``texts`` in input order, computed in length-bucketed batches."""
    from tqdm.auto import tqdm

    ids = token_ids(model.tokenizer, texts, max_input_length)
    scores = [0.0] * len(ids)
    batches = length_buckets([len(x) for x in ids], batch_size)
    bar = tqdm(batches, desc="MetricX", unit="batch", file=sys.stderr, disable=not progress, leave=False)
    for batch in bar:
        for i, score in zip(batch, model.scores([ids[i] for i in batch]), strict=True):
            scores[i] = score
    return scores
