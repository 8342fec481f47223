"""The OpenAI Batch-API file format, as OpenAI's ``/v1/batches`` and vLLM's ``run_batch`` read and write it.

Input line: ``{"custom_id": KEY, "method": "POST", "url": "/v1/chat/completions", "body": {...}}`` where
``KEY`` is the request's cache key. Output and error lines:
``{"id": ..., "custom_id": KEY, "response": {"status_code": 200, "request_id": ..., "body": {chat
completion}}, "error": null}``; a failed request has a non-200 ``status_code`` or an ``error`` object.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xllm_harness.errors import InputError, MissingFileError
from xllm_harness.results.files import write_bytes

MAX_REQUESTS_PER_FILE = 50_000
MAX_BYTES_PER_FILE = 200 * 1024 * 1024
"""OpenAI's limits for one batch input file."""


def request_line(custom_id: str, url: str, body: dict[str, Any]) -> bytes:
    """One input line (UTF-8 JSON and a newline)."""
    line = {"custom_id": custom_id, "method": "POST", "url": url, "body": body}
    return (json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def split_lines(
    lines: list[tuple[str, bytes]],
    max_requests: int = MAX_REQUESTS_PER_FILE,
    max_bytes: int = MAX_BYTES_PER_FILE,
) -> list[list[tuple[str, bytes]]]:
    """``(key, line)`` pairs cut, in order, into files of at most ``max_requests`` lines and ``max_bytes``."""
    if max_requests < 1 or max_bytes < 1:
        raise InputError(f"batch file limits must be >= 1, got {max_requests} requests / {max_bytes} bytes")
    chunks: list[list[tuple[str, bytes]]] = []
    size = 0
    for key, line in lines:
        if len(line) > max_bytes:
            raise InputError(
                f"one batch request is {len(line)} bytes, over --batch-max-bytes {max_bytes}; raise the limit"
            )
        if not chunks or len(chunks[-1]) >= max_requests or size + len(line) > max_bytes:
            chunks.append([])
            size = 0
        chunks[-1].append((key, line))
        size += len(line)
    return chunks


@dataclass(frozen=True)
class ResultLine:
    """One line of an output or error file: the completion body, or why there is none."""

    custom_id: str
    body: dict[str, Any] | None
    error: str | None


def _error_text(line: dict[str, Any]) -> str | None:
    response = line.get("response")
    error = line.get("error")
    if error:
        if isinstance(error, dict):
            return f"{error.get('code') or 'error'}: {error.get('message') or ''}".strip()
        return str(error)
    if not isinstance(response, dict):
        return "no response"
    status = response.get("status_code")
    if status != 200:
        body = response.get("body")
        inner = body.get("error") if isinstance(body, dict) else None
        message = inner.get("message") if isinstance(inner, dict) else ""
        return f"HTTP {status}: {message}".strip(": ")
    if not isinstance(response.get("body"), dict):
        return "response without a body"
    return None


@dataclass
class LineCounts:
    """What a batch output or error file held besides the answers (counted in the summary)."""

    lines: int = 0
    used: int = 0
    duplicate: int = 0
    """Further lines for a ``custom_id`` already answered: the first line wins."""
    foreign: int = 0
    """Lines whose ``custom_id`` is no request of this job."""
    malformed: int = 0
    """Lines that are not JSON objects with a string ``custom_id``."""
    undecodable: int = 0
    """Lines that are not UTF-8."""
    problems: list[str] = field(default_factory=list, repr=False)
    """``line N: what is wrong`` for each malformed or undecodable line (not in :meth:`to_dict`)."""

    def add(self, other: LineCounts) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def to_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__ if name != "problems"}


def parse_result_lines(data: bytes) -> tuple[list[ResultLine], LineCounts]:
    """The lines of an output or error file, in order, and the count of lines that did not parse."""
    results: list[ResultLine] = []
    counts = LineCounts()
    for number, raw in enumerate(data.splitlines(), start=1):
        if not raw.strip():
            continue
        counts.lines += 1
        try:
            line = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as err:
            counts.undecodable += 1
            counts.problems.append(f"line {number}: byte 0x{raw[err.start]:02x} is not UTF-8")
            continue
        except ValueError as err:
            counts.malformed += 1
            counts.problems.append(f"line {number}: not JSON ({err})")
            continue
        if not isinstance(line, dict) or not isinstance(line.get("custom_id"), str):
            counts.malformed += 1
            what = "custom_id is not a string" if isinstance(line, dict) else "not a JSON object"
            counts.problems.append(f"line {number}: {what}")
            continue
        error = _error_text(line)
        body = None if error else line["response"]["body"]
        results.append(ResultLine(line["custom_id"], body, error))
    return results, counts


def select_lines(
    lines: list[ResultLine], wanted: Collection[str], counts: LineCounts
) -> dict[str, ResultLine]:
    """The one rule for result lines (``--batch`` and ``--import-batch`` alike): the first line of a
    ``custom_id`` wins and later ones are counted as duplicates; a ``custom_id`` that is no request of
    this job is counted as foreign. Feed output-file lines before error-file lines."""
    chosen: dict[str, ResultLine] = {}
    for line in lines:
        if line.custom_id not in wanted:
            counts.foreign += 1
        elif line.custom_id in chosen:
            counts.duplicate += 1
        else:
            chosen[line.custom_id] = line
            counts.used += 1
    return chosen


def read_result_file(path: str | Path) -> tuple[list[ResultLine], LineCounts]:
    """:func:`parse_result_lines` of a local output file (``--import-batch``)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise MissingFileError(f"--import-batch {path}: no such file") from None
    except OSError as err:
        raise MissingFileError(f"--import-batch {path}: cannot read ({err.strerror})") from None
    lines, counts = parse_result_lines(data)
    if not lines:
        first = f" ({counts.problems[0]})" if counts.problems else ""
        raise InputError(
            f"--import-batch {path}: no Batch-API output lines (JSON objects with custom_id and response){first}"
        )
    for problem in counts.problems:
        print(f"warning: --import-batch {path} {problem}: line skipped", file=sys.stderr)
    return lines, counts


def write_request_file(path: str | Path, lines: Iterable[bytes]) -> int:
    """Write a Batch-API input file whole (:mod:`xllm_harness.results.files`); return the number of lines."""
    data = list(lines)
    write_bytes(path, b"".join(data))
    return len(data)
