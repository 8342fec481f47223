"""Checks on a Hugging Face model reference before anything heavy loads it.

A reference is a local folder (``save_pretrained`` output, with a ``config.json``) or a Hub id
(``name`` or ``org/name``). :func:`check_pretrained` turns the usual mistakes (a path that does not
exist, a folder without a config, a file, a Hub id that is not cached while offline or cannot be
fetched) into one :class:`MissingFileError` naming the option, the path and what is missing, with the
nearest existing sibling folders or cached Hub ids ("did you mean"), instead of a long traceback from
deep inside transformers. ``xllm eval``, ``xllm train`` and the analyzers
use it.
"""

from __future__ import annotations

import re
from pathlib import Path

from xllm_harness.errors import MissingFileError, did_you_mean

CONFIG_FILE = "config.json"
HUB_ID = re.compile(r"^[A-Za-z0-9_][\w.-]*(/[A-Za-z0-9_][\w.-]*)?$")


def looks_like_hub_id(reference: str) -> bool:
    """``name`` or ``org/name`` with no other path separators (``./x``, ``/x``, ``~/x``, ``a/b/c`` are paths)."""
    return bool(HUB_ID.match(reference)) and ".." not in reference


def _label(option: str, reference: str) -> str:
    """``--model /x`` for a command-line option, ``--model_args pretrained=/x`` for a key inside one."""
    return (
        f"{option} {reference}" if option.startswith("--") and " " not in option else f"{option}={reference}"
    )


def check_pretrained(reference: str, option: str = "--model", revision: str | None = None) -> None:
    """Raise :class:`MissingFileError` unless ``reference`` is a model folder with a ``config.json`` or a
    Hub id that is cached (offline) or can be fetched; ``option`` names where the reference came from."""
    label = _label(option, reference)
    path = Path(reference).expanduser()
    if path.is_dir():
        if not (path / CONFIG_FILE).is_file():
            raise MissingFileError(
                f"{label}: the folder has no {CONFIG_FILE}, so it is not a Hugging Face model folder; give "
                "the folder that save_pretrained wrote (config.json, weights, tokenizer files)"
            )
        return
    if path.exists():
        raise MissingFileError(f"{label}: is a file; give the model's folder (with {CONFIG_FILE})")
    if not looks_like_hub_id(reference):
        raise MissingFileError(f"{label}: no such folder{_siblings(reference)} (check the path to the model)")
    _check_hub_model(reference, label, revision)


def _siblings(reference: str) -> str:
    """ " (did you mean ...)" for the existing folders beside ``reference`` whose names are closest,
    written with the user's own prefix (``./demo_out/tiny-coitt`` → ``./demo_out/tiny-coit``)."""
    name = reference.rstrip("/").rsplit("/", 1)[-1]
    prefix = reference.rstrip("/")[: -len(name)] if name else ""
    parent = Path(prefix or ".").expanduser()
    if not name or not parent.is_dir():
        return ""
    try:
        folders = [child.name for child in parent.iterdir() if child.is_dir()]
    except OSError:  # unreadable folder: no suggestion
        return ""
    return did_you_mean(name, folders, prefix=prefix)


def _cached_hub_ids(cache: str) -> list[str]:
    """The model ids in the Hugging Face cache (its folders are named ``models--org--name``)."""
    root = Path(cache)
    if not root.is_dir():
        return []
    return [p.name[len("models--") :].replace("--", "/") for p in root.glob("models--*") if p.is_dir()]


def _check_hub_model(repo_id: str, label: str, revision: str | None) -> None:
    from huggingface_hub import constants, try_to_load_from_cache

    if isinstance(try_to_load_from_cache(repo_id, CONFIG_FILE, revision=revision), str):
        return
    if constants.HF_HUB_OFFLINE:
        near = _siblings(repo_id) or did_you_mean(repo_id, _cached_hub_ids(constants.HF_HUB_CACHE))
        raise MissingFileError(
            f"{label}: not a local folder, and not in the Hugging Face cache ({constants.HF_HUB_CACHE}){near} "
            f"while HF_HUB_OFFLINE=1 forbids downloading it; download it first (`hf download {repo_id}`) "
            "or give a local model folder"
        )
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(repo_id, revision=revision)  # config.json only: light, names what is wrong
    except OSError as err:  # transformers' error for a model that cannot be found or fetched
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise MissingFileError(f"{label}: cannot be loaded: {reason}") from None
