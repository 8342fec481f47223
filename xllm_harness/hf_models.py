"""Checks on a Hugging Face model reference before anything heavy loads it.

A reference is a local folder (``save_pretrained`` output, with a ``config.json``) or a Hub id
(``org/name``). :func:`check_pretrained` turns the usual mistakes (a path that does not exist, a folder
without a config, a Hub id that offline mode cannot reach) into one :class:`MissingFileError` naming
the path and what is missing, instead of a long traceback from deep inside transformers.
"""

from __future__ import annotations

import os
from pathlib import Path

from xllm_harness.errors import MissingFileError

CONFIG_FILE = "config.json"
OFFLINE_VALUES = {"1", "ON", "YES", "TRUE"}


def looks_like_path(reference: str) -> bool:
    """A reference that can only mean a local path (a Hub id is ``name`` or ``org/name``)."""
    return (
        reference.startswith(("/", "./", "../", "~", ".\\")) or reference.count("/") > 1 or "\\" in reference
    )


def hub_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").upper() in OFFLINE_VALUES


def check_pretrained(reference: str, option: str = "pretrained", revision: str | None = None) -> None:
    """Raise :class:`MissingFileError` if ``reference`` cannot be a loadable model; ``option`` names the
    option that gave it (in the message)."""
    path = Path(reference).expanduser()
    if path.is_dir():
        if not (path / CONFIG_FILE).is_file():
            raise MissingFileError(
                f"{option}={reference}: the folder has no {CONFIG_FILE}, so it is not a Hugging Face model "
                "folder (a model saved with save_pretrained has one; point to that folder)"
            )
        return
    if path.exists():
        raise MissingFileError(
            f"{option}={reference}: is a file; give the model's folder (with {CONFIG_FILE})"
        )
    if looks_like_path(reference):
        raise MissingFileError(f"{option}={reference}: no such folder (check the path to the model)")
    if hub_offline() and not _in_hub_cache(reference, revision):
        raise MissingFileError(
            f"{option}={reference}: not a local folder, and not in the Hugging Face cache while "
            "HF_HUB_OFFLINE=1 forbids downloading it (give a local model folder, or download it first)"
        )


def _in_hub_cache(repo_id: str, revision: str | None) -> bool:
    from huggingface_hub import try_to_load_from_cache
    from huggingface_hub.errors import HFValidationError

    try:
        found = try_to_load_from_cache(repo_id, CONFIG_FILE, revision=revision)
    except HFValidationError:  # not a valid repo id either: let the loader say what it makes of it
        return True
    return isinstance(found, str)
