"""Find and check a BLEURT checkpoint in the layout bleurt-pytorch writes (``save_pretrained``).

A checkpoint is a folder (or a Hugging Face hub id such as ``lucadiliello/BLEURT-20``) holding
``config.json`` (``model_type: bleurt``), the weights (``model.safetensors`` or ``pytorch_model.bin``)
and the tokenizer: ``spm.model`` (SentencePiece, the BLEURT-20 family) or ``tokenizer.json`` /
``vocab.txt`` (WordPiece, the older BLEURT checkpoints), with ``tokenizer_config.json`` beside them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xllm_harness.errors import InputError
from xllm_harness.models.metric_models import MissingMetricModelError, offline

DEFAULT_MODEL = "lucadiliello/BLEURT-20"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "spm.model")
"""In bleurt-pytorch's order of preference: its ``BleurtTokenizer`` tries WordPiece files before ``spm.model``."""
HUB_FILES = [
    "config.json",
    *WEIGHT_FILES,
    *TOKENIZER_FILES,
    "tokenizer_config.json",
    "special_tokens_map.json",
]
LAYOUT = (
    "config.json (model_type bleurt), the weights (model.safetensors or pytorch_model.bin) and the "
    "tokenizer (spm.model for the BLEURT-20 family, tokenizer.json or vocab.txt for older BLEURT)"
)
CONFIG_FIELDS = (
    "vocab_size",
    "hidden_size",
    "num_hidden_layers",
    "num_attention_heads",
    "intermediate_size",
    "max_position_embeddings",
)
IGNORED_KEYS = ("bleurt.embeddings.position_ids", "bleurt.embeddings.token_type_ids")
"""Buffers some checkpoints carry (``arange`` / zeros), not weights."""


class BadCheckpointError(InputError, MissingMetricModelError):
    """A folder that is not a BLEURT checkpoint as bleurt-pytorch writes it."""


@dataclass(frozen=True)
class Checkpoint:
    """The located files of one BLEURT checkpoint and its parsed ``config.json``."""

    folder: Path
    config: dict[str, Any]
    weights: Path
    tokenizer: Path
    hub_id: str | None

    @property
    def tokenizer_config(self) -> dict[str, Any]:
        path = self.folder / "tokenizer_config.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _hint(model: str) -> str:
    return (
        f"Online, run `huggingface-cli download {model}`; offline, copy such a folder to the machine and "
        f"pass its path ({LAYOUT}). See docs/offline-models.md."
    )


def _from_hub(model: str) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id=model, allow_patterns=HUB_FILES, local_files_only=offline()))
    except Exception as err:
        reason = (
            "not in the Hugging Face cache and offline mode is on"
            if offline()
            else f"download failed: {type(err).__name__}"
        )
        raise MissingMetricModelError(
            f"BLEURT model {model!r} is not available ({reason}). {_hint(model)}"
        ) from None


def _read_config(path: Path) -> dict[str, Any]:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise BadCheckpointError(f"{path}: not a readable JSON BLEURT config ({err})") from None
    if not isinstance(config, dict) or config.get("model_type") != "bleurt":
        found = config.get("model_type") if isinstance(config, dict) else type(config).__name__
        raise BadCheckpointError(
            f"{path}: model_type is {found!r}, expected 'bleurt' (a BLEURT checkpoint as bleurt-pytorch "
            f"writes it, e.g. {DEFAULT_MODEL})"
        )
    missing = [f for f in CONFIG_FIELDS if not isinstance(config.get(f), int)]
    if missing:
        raise BadCheckpointError(f"{path}: missing or non-integer field {missing[0]!r} of a BLEURT config")
    if config.get("num_labels", len(config.get("id2label") or [0])) != 1:
        raise BadCheckpointError(f"{path}: BLEURT predicts one score; this config declares several labels")
    return config


def locate(model: str) -> Checkpoint:
    """The checkpoint for a hub id or folder; a one-line error naming the file when it is not one."""
    path = Path(model).expanduser()
    local = path.is_dir() or path.is_absolute() or model.startswith(".")
    hub_id = None if local else model
    folder = path.resolve() if local else _from_hub(model)
    if not (folder / "config.json").is_file():
        if hub_id:
            raise MissingMetricModelError(
                f"BLEURT model {hub_id!r}: the downloaded snapshot {folder} has no config.json. {_hint(hub_id)}"
            )
        raise MissingMetricModelError(
            f"BLEURT model folder {folder} has no config.json. A local BLEURT model is a folder with {LAYOUT}, "
            f"e.g. `huggingface-cli download {DEFAULT_MODEL} --local-dir <folder>`; see docs/offline-models.md."
        )
    config = _read_config(folder / "config.json")
    weights = next((folder / f for f in WEIGHT_FILES if (folder / f).is_file()), None)
    if weights is None:
        raise BadCheckpointError(
            f"BLEURT checkpoint {folder} has no weights: expected {' or '.join(WEIGHT_FILES)} beside config.json"
        )
    tokenizer = next((folder / f for f in TOKENIZER_FILES if (folder / f).is_file()), None)
    if tokenizer is None:
        source = hub_id or _named_hub_id(config) or DEFAULT_MODEL
        raise MissingMetricModelError(
            f"BLEURT checkpoint {folder} has no tokenizer ({', '.join(TOKENIZER_FILES)}). Download it from "
            f"the hub id {source!r} (`huggingface-cli download {source} --include 'spm.model' 'vocab.txt' "
            f"'tokenizer*.json' 'special_tokens_map.json' --local-dir {folder}`) and put it beside config.json."
        )
    return Checkpoint(folder, config, weights, tokenizer, hub_id)


def _named_hub_id(config: dict[str, Any]) -> str | None:
    """The hub id a config names as its origin (``_name_or_path``), when it looks like one."""
    name = str(config.get("_name_or_path") or "")
    return name if name.count("/") == 1 and not name.startswith((".", "/", "~")) else None


def load_state_dict(weights: Path) -> dict[str, Any]:
    """The tensors of ``model.safetensors`` or ``pytorch_model.bin`` (never unpickles code)."""
    import torch

    try:
        if weights.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(weights))
        return torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as err:
        raise BadCheckpointError(
            f"{weights}: cannot read the BLEURT weights ({type(err).__name__}: {err})"
        ) from None


def check_keys(weights: Path, state: dict[str, Any], expected: dict[str, tuple[int, ...]]) -> dict[str, Any]:
    """``state`` without ignorable buffers, after checking it has exactly the ``expected`` shapes.

    The error names the first key (in the architecture's order) that is missing or has another shape,
    else the first unexpected key.
    """
    state = {k: v for k, v in state.items() if k not in IGNORED_KEYS}
    for key, shape in expected.items():
        if key not in state:
            raise BadCheckpointError(
                f"{weights}: weight {key!r} is missing; the architecture declared by config.json "
                f"(beside it) needs it with shape {list(shape)}"
            )
        if tuple(state[key].shape) != shape:
            raise BadCheckpointError(
                f"{weights}: weight {key!r} has shape {list(state[key].shape)}, but config.json (beside it) "
                f"declares an architecture where it is {list(shape)}"
            )
    extra = [k for k in state if k not in expected]
    if extra:
        raise BadCheckpointError(
            f"{weights}: unexpected weight {extra[0]!r} for the architecture declared by config.json "
            "(beside it); is this a BleurtForSequenceClassification checkpoint?"
        )
    return state
