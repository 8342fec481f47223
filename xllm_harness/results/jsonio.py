"""Reading our JSON inputs with errors that name the file (and line), shared by every reader."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from xllm_harness.errors import InputError, MissingFileError


def read_jsonl(path: str | Path, text: str | None = None) -> list[tuple[int, Any]]:
    """``(line number, record)`` for every non-blank line; a bad line raises naming ``path:line``."""
    if text is None:
        text = Path(path).read_text(encoding="utf-8")
    out = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            out.append((number, json.loads(line)))
        except json.JSONDecodeError as err:
            raise InputError(
                f"{path}:{number}: not valid JSON ({err.msg}); expected one record per line"
            ) from None
    return out


def read_json(path: str | Path, what: str, hint: str = "") -> Any:
    """A whole JSON file; a missing or malformed file raises naming ``what`` (and ``hint``: how to make one)."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(f"{what} {path} not found" + (f" ({hint})" if hint else ""))
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise InputError(f"{what} {path}: not valid JSON ({err})") from None
