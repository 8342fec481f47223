"""Reading our JSON inputs with errors that name the file (and line), shared by every reader.

A file that cannot be read, is not UTF-8 or is not JSON is an :class:`~xllm_harness.errors.InputError`
(or :class:`~xllm_harness.errors.MissingFileError`) naming the file and, for JSONL, the line.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from xllm_harness.errors import InputError, MissingFileError


def read_text(path: str | Path, what: str = "file") -> str:
    """The UTF-8 text of ``path``, the one way every reader opens a text file: a missing or unreadable
    file, or bytes that are not UTF-8, raise naming the file (and the line and column)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MissingFileError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"{what} {path} is a folder, not a file") from None
    except OSError as err:
        raise InputError(f"{path}: cannot read {what} ({err.strerror or err})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data.count(b"\n", 0, err.start) + 1
        column = err.start - (data.rfind(b"\n", 0, err.start) + 1) + 1
        raise InputError(
            f"{path}:{line}:{column}: byte 0x{data[err.start]:02x} (line {line}, column {column}) is not "
            f"UTF-8 text; save the {what} as UTF-8 (e.g. iconv -t UTF-8)"
        ) from None


def read_jsonl(path: str | Path, text: str | None = None) -> list[tuple[int, Any]]:
    """``(line number, record)`` for every non-blank line; a bad line raises naming ``path:line``."""
    if text is None:
        text = read_text(path)
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
        return json.loads(read_text(path, what))
    except json.JSONDecodeError as err:
        raise InputError(f"{what} {path}: not valid JSON ({err})") from None


def read_json_object(path: str | Path, what: str, shape: str) -> dict[str, Any]:
    """A JSON file that holds one object (else an error naming the file and the ``shape`` expected)."""
    try:
        data = json.loads(read_text(path, what))
    except ValueError as err:
        raise InputError(f"{path}: not valid JSON ({err}); expected {shape}") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: a JSON {type(data).__name__}, expected {shape}")
    return data


def is_number(value: Any) -> bool:
    """A JSON number (not a boolean) that is finite."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def is_int(value: Any) -> bool:
    """A JSON integer (not a boolean)."""
    return isinstance(value, int) and not isinstance(value, bool)
