"""Unbabel's COMET checkpoint format, read without unbabel-comet or Lightning.

A COMET model is a folder ``<dir>/checkpoints/model.ckpt`` + ``<dir>/hparams.yaml`` (what
``comet.download_model`` and the Hugging Face repos ``Unbabel/*`` hold). As ``comet.load_from_checkpoint``
does, ``hparams.yaml`` names the class (``class_identifier``) and the checkpoint's own
``hyper_parameters`` give the settings; the encoder is built from the config and tokenizer that
``pretrained_model`` names (a hub id, or a folder: absolute, or relative to the model folder).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xllm_harness.errors import InputError
from xllm_harness.models.metric_models import MissingMetricModelError, offline

LAYOUT = "<folder>/checkpoints/model.ckpt and <folder>/hparams.yaml"

_BASE = {
    "encoder_model": "XLM-RoBERTa",
    "pretrained_model": "xlm-roberta-large",
    "pool": "avg",
    "layer": "mix",
    "layer_transformation": "softmax",
    "layer_norm": True,
    "hidden_sizes": [3072, 1024],
    "activations": "Tanh",
    "final_activation": None,
}
_UNIFIED = {
    **_BASE,
    "pretrained_model": "microsoft/infoxlm-large",
    "sent_layer": "mix",
    "layer_transformation": "sparsemax",
    "word_layer": 24,
    "input_segments": ["mt", "src", "ref"],
    "word_level_training": False,
    "error_labels": ["minor", "major"],
}
CLASS_DEFAULTS: dict[str, dict[str, Any]] = {
    "regression_metric": _BASE,
    "referenceless_regression_metric": _BASE,
    "unified_metric": _UNIFIED,
    "xcomet_metric": {
        **_UNIFIED,
        "encoder_model": "XLM-RoBERTa-XL",
        "pretrained_model": "facebook/xlm-roberta-xl",
        "layer_norm": False,
        "word_layer": 36,
        "hidden_sizes": [2560, 1280],
        "word_level_training": True,
        "error_labels": ["minor", "major", "critical"],
    },
}
"""unbabel-comet 2.2.7's constructor defaults per class (a checkpoint normally states them all)."""

SUPPORTED_CLASSES = tuple(CLASS_DEFAULTS)
SUPPORTED_ENCODERS = ("XLM-RoBERTa", "XLM-RoBERTa-XL")

_IGNORED_PREFIXES = (
    "layerwise_attention.dropout_",  # training-time layer dropout buffers
    "sentloss.",
    "wordloss.",  # the loss's class weights
    "train_metrics.",
    "val_metrics.",
    "train_corr.",
    "val_corr.",
    "train_mcc.",
    "val_mcc.",
    "encoder.model.pooler.",
)
_IGNORED_SUFFIXES = ("embeddings.position_ids", "embeddings.token_type_ids")  # older transformers' buffers
_LIGHTNING_DICTS = (
    "pytorch_lightning.utilities.parsing.AttributeDict",
    "lightning_fabric.utilities.data.AttributeDict",
    "lightning.fabric.utilities.data.AttributeDict",
)


class CheckpointError(InputError):
    """A file that is not a COMET checkpoint this code can score with."""


class _AttributeDict(dict):
    """Stands in for Lightning's ``AttributeDict`` (a dict) when unpickling hyper-parameters."""


def _hf_cache() -> str:
    from huggingface_hub import constants

    return str(constants.HF_HUB_CACHE)


def resolve_checkpoint(model: str) -> Path:
    """The ``model.ckpt`` of a hub id, checkpoint folder or ``.ckpt`` path; a clear error when absent."""
    path = Path(model).expanduser()
    if path.suffix == ".ckpt" or path.is_dir() or path.is_absolute() or model.startswith("."):
        ckpt = path if path.suffix == ".ckpt" else path / "checkpoints" / "model.ckpt"
        if not ckpt.is_file():
            raise MissingMetricModelError(
                f"COMET checkpoint {ckpt} does not exist. A local COMET model is a folder laid out as "
                f"{LAYOUT} (what `huggingface-cli download Unbabel/wmt22-comet-da` writes); "
                "see docs/offline-models.md."
            )
        if not (ckpt.parents[1] / "hparams.yaml").is_file():
            raise MissingMetricModelError(
                f"COMET checkpoint {ckpt} has no {ckpt.parents[1] / 'hparams.yaml'}; expected layout: {LAYOUT}."
            )
        return ckpt
    from huggingface_hub import snapshot_download

    try:
        folder = snapshot_download(repo_id=model, local_files_only=offline())
    except Exception as err:
        raise MissingMetricModelError(
            f"COMET model {model!r} is not in the Hugging Face cache ({_hf_cache()}) and could not be "
            f"downloaded ({type(err).__name__}). Online, run `huggingface-cli download {model}` "
            "(and the same for the encoder its hparams.yaml names in `pretrained_model`, e.g. "
            "xlm-roberta-large, without its weights); offline, copy a checkpoint folder "
            f"({LAYOUT}) and pass its path as the model. See docs/offline-models.md."
        ) from None
    ckpt = Path(folder) / "checkpoints" / "model.ckpt"
    if not ckpt.is_file():
        raise CheckpointError(
            f"{model} ({folder}) is not a COMET model: no checkpoints/model.ckpt ({LAYOUT})"
        )
    return ckpt


@dataclass
class CometCheckpoint:
    """A COMET checkpoint's class, settings and weights."""

    path: Path
    class_identifier: str
    hparams: dict[str, Any]
    state_dict: dict[str, Any]

    @property
    def folder(self) -> Path:
        return self.path.parents[1]

    @property
    def sparsemax(self) -> bool:
        """Whether the layer mix uses sparsemax (``sparsemax_patch``, unbabel-comet's 2.2.4 fix, is softmax)."""
        return self.hparams["layer_transformation"] == "sparsemax"

    def encoder_source(self) -> str:
        """``pretrained_model`` as a folder (absolute or relative to the model folder) or a hub id."""
        name = str(self.hparams["pretrained_model"])
        local = self.folder / name
        return str(local.resolve()) if not Path(name).is_absolute() and local.is_dir() else name


def read_hparams(ckpt: Path) -> dict[str, Any]:
    import yaml

    hparams_file = ckpt.parents[1] / "hparams.yaml"
    try:
        hparams = yaml.safe_load(hparams_file.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as err:
        raise CheckpointError(f"{hparams_file}: not a readable COMET hparams.yaml ({err})") from None
    if not isinstance(hparams, dict) or "class_identifier" not in hparams:
        raise CheckpointError(f"{hparams_file}: no `class_identifier` (expected a COMET hparams.yaml)")
    return hparams


def _torch_load(ckpt: Path) -> dict[str, Any]:
    """The checkpoint's contents through torch's safe (weights-only) unpickler; Lightning's hyper-parameter
    dict class is read as a plain dict, anything else that is not data is refused."""
    import torch

    stubs = [(_AttributeDict, name) for name in _LIGHTNING_DICTS]
    try:
        with torch.serialization.safe_globals(stubs):
            try:
                return torch.load(ckpt, map_location="cpu", weights_only=True, mmap=True)
            except RuntimeError as err:
                if "mmap" not in str(err):
                    raise
                return torch.load(ckpt, map_location="cpu", weights_only=True)  # legacy (non-zip) format
    except (pickle.UnpicklingError, EOFError, OSError, RuntimeError) as err:
        lines = [line.strip() for line in str(err).splitlines() if line.strip()] or [type(err).__name__]
        reason = next((line for line in lines if "Unsupported" in line), lines[0])[:200]
        raise CheckpointError(f"{ckpt}: not a COMET checkpoint torch can read safely ({reason})") from None


def read_checkpoint(ckpt: Path) -> CometCheckpoint:
    """Read ``ckpt`` and its ``hparams.yaml``; refuse classes and encoders this code does not implement."""
    yaml_hparams = read_hparams(ckpt)
    identifier = yaml_hparams["class_identifier"]
    hparams_file = ckpt.parents[1] / "hparams.yaml"
    if identifier not in CLASS_DEFAULTS:
        raise CheckpointError(
            f"{hparams_file}: class_identifier {identifier!r} is not supported; "
            f"supported: {', '.join(SUPPORTED_CLASSES)}"
        )
    data = _torch_load(ckpt)
    if not isinstance(data, dict) or not isinstance(data.get("state_dict"), dict):
        raise CheckpointError(f"{ckpt}: no `state_dict` (expected a COMET Lightning checkpoint)")
    hparams = {**CLASS_DEFAULTS[identifier], **dict(data.get("hyper_parameters") or yaml_hparams)}
    if yaml_hparams.get("layer_transformation") == "sparsemax_patch":
        hparams["layer_transformation"] = "softmax"  # what unbabel-comet >= 2.2.4 loads it as
    if identifier == "xcomet_metric":
        hparams["input_segments"], hparams["word_level_training"] = ["mt", "src", "ref"], True
    if hparams["encoder_model"] not in SUPPORTED_ENCODERS:
        raise CheckpointError(
            f"{hparams_file}: encoder_model {hparams['encoder_model']!r} is not supported; "
            f"supported: {', '.join(SUPPORTED_ENCODERS)}"
        )
    return CometCheckpoint(ckpt, identifier, hparams, data["state_dict"])


def ignorable(key: str) -> bool:
    """A checkpoint entry that holds no inference weight (training state, old buffers)."""
    return key.startswith(_IGNORED_PREFIXES) or key.endswith(_IGNORED_SUFFIXES)


def check_keys(ckpt: Path, expected: dict[str, tuple[int, ...]], found: dict[str, Any]) -> None:
    """Refuse weights that do not fit the declared architecture, naming the first mismatching key."""
    for key, shape in expected.items():
        if key not in found:
            raise CheckpointError(f"{ckpt}: weight {key!r} of the declared architecture is missing")
        if tuple(found[key].shape) != shape:
            raise CheckpointError(
                f"{ckpt}: weight {key!r} has shape {tuple(found[key].shape)}, the declared architecture "
                f"(hparams and encoder config) needs {shape}"
            )
    for key in found:
        if key not in expected and not ignorable(key):
            raise CheckpointError(f"{ckpt}: weight {key!r} does not belong to the declared architecture")


def _encoder_file(source: str, name: str) -> Path | None:
    """``name`` from the encoder's folder or hub repo (cache only when offline), or None if it has none."""
    if Path(source).is_dir():
        path = Path(source) / name
        return path if path.is_file() else None
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    try:
        return Path(hf_hub_download(source, name, local_files_only=offline()))
    except EntryNotFoundError:
        return None


def load_encoder_files(ckpt: CometCheckpoint):
    """The encoder's transformers config and tokenizer that ``pretrained_model`` names (no weights)."""
    from transformers import XLMRobertaConfig, XLMRobertaXLConfig

    from .tokenizer import tokenizer_from_files

    source = ckpt.encoder_source()
    config_class = (
        XLMRobertaXLConfig if ckpt.hparams["encoder_model"] == "XLM-RoBERTa-XL" else XLMRobertaConfig
    )
    try:
        config = config_class.from_pretrained(source, local_files_only=offline())
        tokenizer_json = _encoder_file(source, "tokenizer.json")
        spm = None if tokenizer_json else _encoder_file(source, "sentencepiece.bpe.model")
    except Exception as err:
        if not isinstance(err, OSError) and "LocalEntryNotFound" not in type(err).__name__:
            raise
        spm, tokenizer_json, config = None, None, None
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
    else:
        reason = "neither tokenizer.json nor sentencepiece.bpe.model"
    if config is None or not (tokenizer_json or spm):
        raise MissingMetricModelError(
            f"COMET model {ckpt.folder}: the config and tokenizer of its encoder {source!r} (hparams.yaml "
            f"`pretrained_model`) are not available ({reason}). Online, run "
            f"`huggingface-cli download {source} --exclude '*.bin' '*.safetensors' '*.h5' '*.msgpack' "
            f"'*.onnx'` (the weights are not needed: the checkpoint holds them); offline, copy that cache "
            f"folder ({_hf_cache()}). See docs/offline-models.md."
        ) from None
    config._attn_implementation = "sdpa"
    return config, tokenizer_from_files(tokenizer_json, spm)
