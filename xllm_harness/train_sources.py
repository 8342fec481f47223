"""The instruction-data contract: :class:`TrainSource` (the ``xllm_train_sources`` hook) and its records.

A source answers to a *kind*, the part of a spec item before the first ``_``: ``alpaca_zh`` is kind
``alpaca`` with argument ``zh``, ``translation_en-zh`` is kind ``translation`` with argument
``en-zh``. It turns its argument into :class:`Example` records (Alpaca fields). The built-in kinds
live in ``xllm_harness/plugins/train_sources.py``; a third-party plugin adds a kind by returning
another :class:`TrainSource`.

The record format is defined here too, because the data builder writes it and the trainer reads it
back: one JSON object per line with the string fields ``instruction``, ``input``, ``output`` and
``source``. Readers check what they read: text that is not UTF-8, a field of the wrong type, a
record that is no object are errors naming the file, the line and the field.
"""

from __future__ import annotations

import bisect
import json
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from xllm_harness.errors import InputError
from xllm_harness.results.jsonio import read_jsonl, read_text

DIRECTIONS = ("en-x", "x-en", "both")
"""Directions of a ``translation_<lang>`` item: English to the language, back, or both."""

INSTRUCTIONS = ("rotate", "test")
"""Translation instructions: rotate the training paraphrases, or the fixed test prompt."""

LANGUAGE_NAMES = ("english", "iso639")
"""Language names in translation instructions: ``Greek`` or x-LLM's ``Modern Greek (1453-)``."""


@dataclass(frozen=True)
class Example:
    """One instruction-tuning record (Alpaca fields) and the spec item it came from."""

    instruction: str
    input: str
    output: str
    source: str


@dataclass(frozen=True)
class Problem:
    """A malformed record: where it is and what is wrong with it."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class LoadOptions:
    """Options every source receives from the data builder."""

    direction: str = "en-x"
    """For translation items that name one language (``translation_zh``): one of :data:`DIRECTIONS`."""
    instructions: str = "rotate"
    """One of :data:`INSTRUCTIONS`."""
    language_names: str = "english"
    """One of :data:`LANGUAGE_NAMES`."""
    problems: list[Problem] = field(default_factory=list)


class TrainSource(ABC):
    """A kind of spec item (``alpaca``, ``translation``...) that turns an argument into examples."""

    kind: str
    description: str

    @property
    def name(self) -> str:
        """How ``xllm plugins`` lists it: the spec items it answers to."""
        return f"{self.kind}_*"

    @abstractmethod
    def load(self, arg: str, paths: list[Path] | None, options: LoadOptions) -> list[Example]:
        """Examples for ``<kind>_<arg>`` in file order, from ``paths`` or the default location.

        A malformed record is appended to ``options.problems`` and skipped; a file that cannot be read
        at all raises :class:`~xllm_harness.errors.InputError` naming it.
        """


# --------------------------------------------------------------------------- reading files


def _line_of(starts: list[int], offset: int) -> int:
    return bisect.bisect_right(starts, offset)


def read_records(path: Path) -> list[tuple[int, object]]:
    """``(line, record)`` pairs of a JSON array file or a JSON Lines file (checked UTF-8 and JSON)."""
    text = read_text(path, "training data file")
    stripped = text.lstrip()
    if not stripped.startswith("["):  # JSON Lines
        return read_jsonl(path, text)
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    decoder = json.JSONDecoder()
    pos = text.index("[") + 1
    out = []
    try:
        while True:
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(text):
                raise json.JSONDecodeError("unterminated array", text, pos)
            if text[pos] == "]":
                break
            record, end = decoder.raw_decode(text, pos)
            out.append((_line_of(starts, pos), record))
            pos = end
    except json.JSONDecodeError as err:
        raise InputError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
    trailing = text[pos + 1 :].strip()
    if trailing:
        line = _line_of(starts, pos + 1 + text[pos + 1 :].index(trailing[0]))
        raise InputError(f"{path}:{line}: text after the closing ']' of the JSON array")
    return out


def record_to_example(record: object, source: str) -> Example | str:
    """An :class:`Example` from an Alpaca record, or what is wrong with the record (naming the fields).

    ``instruction`` and ``output`` must be non-empty strings, ``input`` a string (or absent/null),
    ``source`` a non-empty string when present (else ``source`` is used).
    """
    if not isinstance(record, dict):
        return f"record is a {type(record).__name__}, not an object"
    bad = [
        key
        for key in ("instruction", "output")
        if not isinstance(record.get(key), str) or not record[key].strip()
    ]
    inp = record.get("input")
    if inp is not None and not isinstance(inp, str):
        bad.append("input")
    named = record.get("source")
    if named is not None and (not isinstance(named, str) or not named.strip()):
        bad.append("source")
    if bad:
        return f"field(s) {', '.join(bad)} missing, empty or not a string; skipped"
    return Example(record["instruction"], inp or "", record["output"], named or source)


def example_records(examples: list[Example]) -> list[dict[str, Any]]:
    """The records of ``examples`` as the data builder writes them (one JSON object per line)."""
    return [asdict(ex) for ex in examples]
