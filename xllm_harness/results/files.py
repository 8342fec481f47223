"""Writing the project's files whole: a temporary file in the same folder, then one rename.

Every output of every command goes through here, so a killed or failed run leaves either the previous
file or the new one, never a shorter valid one. ``check_writable`` tests an output folder before any
expensive work starts. ``timestamp`` is the one time stamp in our file names (lm-eval's own form).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from xllm_harness.errors import InputError


def timestamp(now: dt.datetime | None = None) -> str:
    """``2026-12-07T16-43-37.123456``: lm-eval's ``results_<timestamp>.json`` form, microseconds always."""
    return (now or dt.datetime.now()).strftime("%Y-%m-%dT%H-%M-%S.%f")


def check_writable(folder: str | Path, what: str = "output folder") -> Path:
    """Create ``folder`` if needed and prove a file can be written in it; raise naming it otherwise."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".xllm-write-check-"):
            pass
    except OSError as err:
        reason = err.strerror or str(err)
        raise InputError(
            f"{what} {folder} cannot be written ({reason}); choose a writable location"
        ) from None
    return folder


def check_creatable(folder: str | Path, what: str = "output folder") -> Path:
    """Prove ``folder`` can be created (or written, if it exists) without creating it: a file can be
    written in its nearest existing ancestor, which is a folder; raise naming ``folder`` otherwise."""
    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if not existing.is_dir():
        raise InputError(
            f"{what} {folder} cannot be written ({existing} is not a folder); choose a writable location"
        )
    if existing == folder:
        return check_writable(folder, what)
    try:
        with tempfile.NamedTemporaryFile(dir=existing, prefix=".xllm-write-check-"):
            pass
    except OSError as err:
        reason = err.strerror or str(err)
        raise InputError(
            f"{what} {folder} cannot be written ({reason}); choose a writable location"
        ) from None
    return folder


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path``; renamed onto ``path`` when the block ends without an error.

    For writers that need a file name of their own (``torch.save``, ``savefig``). On an error the
    temporary file is removed and ``path`` is left as it was.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` whole (flushed to disk before the rename)."""
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return path


def write_text(path: str | Path, text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` whole."""
    return write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, obj: Any, indent: int | None = 2) -> Path:
    """Write ``obj`` as JSON whole; a value JSON cannot hold (NaN, infinity) is a bug, not a file."""
    return write_text(path, json.dumps(obj, indent=indent, ensure_ascii=False, allow_nan=False) + "\n")


def write_jsonl(path: str | Path, records: Iterable[Any]) -> Path:
    """Write one JSON record per line, whole."""
    lines = [json.dumps(r, ensure_ascii=False, allow_nan=False) for r in records]
    return write_text(path, "".join(line + "\n" for line in lines))


def json_safe(value: Any) -> Any:
    """A JSON-safe copy of ``value``: NaN and infinities become ``None`` (a number is right or absent),
    numpy values Python ones, paths strings."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value
