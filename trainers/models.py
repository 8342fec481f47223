"""Which model ``--model`` names, checked before anything heavy starts.

A name is a local folder when it exists or looks like a path (``/``-rooted, ``./``, ``~``, more than
one ``/``, a backslash); otherwise (``gpt2``, ``org/name``) it is a Hugging Face hub id. A folder must
hold a ``config.json`` (what ``save_pretrained`` writes); a hub id must be in the local cache when
the hub is offline (``HF_HUB_OFFLINE=1``).
"""

from __future__ import annotations

import re
from pathlib import Path

from xllm_harness.errors import MissingFileError

HUB_ID = re.compile(r"^[A-Za-z0-9_][\w.-]*(/[A-Za-z0-9_][\w.-]*)?$")


def looks_like_hub_id(name: str) -> bool:
    """``name`` or ``org/name`` with no other path separators (``./x``, ``/x``, ``~/x``, ``a/b/c`` are paths)."""
    return bool(HUB_ID.match(name)) and ".." not in name


def check_model(name: str, option: str = "--model") -> None:
    """Raise :class:`MissingFileError` (one line naming ``name`` and what is missing) unless ``name``
    is a model folder with a ``config.json`` or a hub id that can be fetched (or is cached, offline)."""
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise MissingFileError(
                f"{option} {name}: is a file; give the model's folder (with config.json) or a Hugging Face model id"
            )
        if not (path / "config.json").is_file():
            raise MissingFileError(
                f"{option} {name}: the folder has no config.json, so it is not a Hugging Face model folder; "
                "give the folder that save_pretrained wrote (config.json, weights, tokenizer files)"
            )
        return
    if not looks_like_hub_id(name):
        raise MissingFileError(f"{option} {name}: no such folder")
    _check_hub_model(name, option)


def _check_hub_model(repo_id: str, option: str) -> None:
    from huggingface_hub import constants, try_to_load_from_cache

    if isinstance(try_to_load_from_cache(repo_id, "config.json"), str):
        return
    if constants.HF_HUB_OFFLINE:
        raise MissingFileError(
            f"{option} {repo_id}: no such folder here, and as a Hugging Face model id it is not in the local "
            f"cache ({constants.HF_HUB_CACHE}) while the hub is offline (HF_HUB_OFFLINE=1); download it "
            f"first (`hf download {repo_id}`) or give a local folder"
        )
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(repo_id)  # config.json only: light, and it names what is wrong
    except OSError as err:  # transformers' error for a model that cannot be found or fetched
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise MissingFileError(f"{option} {repo_id}: cannot be loaded: {reason}") from None
