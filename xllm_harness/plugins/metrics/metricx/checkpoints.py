"""Which MetricX-24 checkpoint and tokenizer to load, and where they are (no torch import here).

A model is a size (``large``, ``xl``, ``xxl``), a hub id (``google/metricx-24-hybrid-xl-v2p6``, the
``-bfloat16`` variants included) or a local folder holding ``config.json`` and the weights. The
MetricX repositories hold no tokenizer: Google's README pairs each size with ``google/mt5-<size>``
(the mT5 SentencePiece model, the same file for every size); a local folder with its own
``spiece.model`` is its own tokenizer.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from xllm_harness.errors import InputError
from xllm_harness.models.metric_models import MissingMetricModelError, offline

SIZES = ("large", "xl", "xxl")
MODELS = {size: f"google/metricx-24-hybrid-{size}-v2p6" for size in SIZES}
TOKENIZERS = {size: f"google/mt5-{size}" for size in SIZES}
DEFAULT_MODEL = MODELS["large"]
SUPPORTED_CLASSES = ("MT5ForRegression",)
"""``architectures`` in a MetricX-24 ``config.json`` (Google's class; we load its weights into our mT5)."""
TOKENIZER_FILES = ("spiece.model", "tokenizer_config.json", "special_tokens_map.json", "config.json")
SUPPORTED_LIST = (
    f"sizes {', '.join(SIZES)}; hub ids google/metricx-24-hybrid-{{{','.join(SIZES)}}}-v2p6[-bfloat16]; "
    "or a local folder with config.json and the weights"
)


def model_id(model: str) -> str:
    """A size alias → its hub id; anything else unchanged."""
    return MODELS.get(model.lower(), model)


def default_tokenizer(model: str) -> str:
    """The tokenizer of ``model``: a local folder with its own ``spiece.model`` is its own, else the
    ``google/mt5-<size>`` Google's README pairs with the size in the name."""
    folder = Path(model).expanduser()
    if (folder / "spiece.model").is_file() or (folder / "tokenizer.json").is_file():
        return str(folder)
    found = re.search(r"metricx-24-hybrid-(large|xl|xxl)-", model_id(model) + "-")
    if not found:
        raise InputError(
            f"MetricX model {model!r}: no tokenizer in that folder and no size in the name; "
            "pass tokenizer= (google/mt5-large, google/mt5-xl or google/mt5-xxl)"
        )
    return TOKENIZERS[found.group(1)]


def _hub_folder(repo_id: str, what: str, allow: list[str] | None = None) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo_id=repo_id, local_files_only=offline(), allow_patterns=allow))
    except Exception as err:
        files = " ".join(allow or [])
        raise MissingMetricModelError(
            f"MetricX {what} {repo_id!r} is not in the Hugging Face cache and could not be downloaded "
            f"({type(err).__name__}). Online, run `huggingface-cli download {repo_id} {files}`; offline, "
            "copy the folder and pass its path. See docs/offline-models.md."
        ) from None


def model_folder(model: str) -> Path:
    """The local folder of ``model`` (a hub snapshot when it is a hub id), its class checked."""
    if model.lower().startswith("google/metricx-23") or "metricx-23" in Path(model).name.lower():
        raise InputError(
            f"MetricX model {model!r} is MetricX-23, whose input format differs; supported: {SUPPORTED_LIST}"
        )
    path = Path(model).expanduser()
    if path.is_dir():
        folder = path
    elif path.is_absolute() or model.startswith(".") or model.count("/") != 1:
        raise MissingMetricModelError(
            f"MetricX model {model!r}: no such folder; supported: {SUPPORTED_LIST}. See docs/offline-models.md."
        )
    else:
        folder = _hub_folder(model_id(model), "model")
    check_config(folder)
    return folder


def check_config(folder: Path) -> dict:
    """``config.json`` of a MetricX-24 checkpoint; an error naming the supported classes otherwise."""
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise MissingMetricModelError(f"MetricX model folder {folder} has no config.json")
    config = json.loads(config_file.read_text(encoding="utf-8"))
    classes = config.get("architectures") or []
    if config.get("model_type") != "mt5" or not set(classes) & set(SUPPORTED_CLASSES):
        raise InputError(
            f"MetricX model {folder}: config.json names model_type {config.get('model_type')!r}, "
            f"architectures {classes}; supported: model_type 'mt5' with {', '.join(SUPPORTED_CLASSES)} "
            f"(MetricX-24: {SUPPORTED_LIST})"
        )
    return config


def tokenizer_folder(tokenizer: str) -> str:
    """A local tokenizer folder, or the hub id resolved to its cached snapshot (tokenizer files only)."""
    path = Path(tokenizer).expanduser()
    if path.is_dir():
        return str(path)
    if path.is_absolute() or tokenizer.startswith(".") or tokenizer.count("/") != 1:
        raise MissingMetricModelError(f"MetricX tokenizer {tokenizer!r}: no such folder")
    return str(_hub_folder(tokenizer, "tokenizer", list(TOKENIZER_FILES)))
