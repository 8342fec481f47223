"""Instruction-data sources for CoIT/MuIT: Alpaca-style JSON and translation data from parallel text.

A source is registered through the ``xllm_train_sources`` hook and answers to a *kind*, the part of a
spec item before the first ``_``: ``alpaca_zh`` is kind ``alpaca`` with argument ``zh``,
``translation_en-zh`` is kind ``translation`` with argument ``en-zh``. A third-party plugin adds a
kind by returning another :class:`TrainSource`.

Malformed records never stop a build silently: each is reported as ``file:line: what is wrong``
and skipped.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path

from xllm_harness.data import MissingDataError, data_dir, resolve
from xllm_harness.errors import InputError, unknown_name
from xllm_harness.results.jsonio import read_jsonl
from xllm_harness.text.prompts import PIVOT

DIRECTIONS = ("en-x", "x-en", "both")

# Training-time paraphrases of the translation instruction, rotated over the examples (x-LLM
# rotated 33 of its own; these are ours). The first one is the fixed test prompt.
PARAPHRASES = (
    "Translate the following sentences from {source} to {target}.",
    "Please translate this {source} text into {target}.",
    "Render the following {source} passage in {target}.",
    "Convert the text below from {source} into {target}.",
    "What is the {target} translation of the following {source} text?",
    "Translate from {source} to {target}.",
    "Give a {target} version of the {source} sentence below.",
    "Express the following {source} text in {target}.",
    "Provide a faithful {target} translation of this {source} input.",
    "Rewrite this {source} sentence in {target}, keeping its meaning.",
    "Translate the {source} input into fluent {target}.",
    "How would you say the following {source} sentence in {target}?",
    "I need this {source} text translated into {target}.",
    "Turn the following {source} sentences into {target}.",
    "Produce the {target} equivalent of the {source} text below.",
    "Can you translate this from {source} into {target}?",
    "Translate into {target}; the source is in {source}.",
    "The input is written in {source}. Translate it to {target}.",
    "Write the given {source} text in {target}.",
    "Translate the text that follows from {source} into {target}.",
    "Give me the {target} translation of this {source} sentence.",
    "Carry the following {source} sentence over into {target}.",
    "Translate this passage, written in {source}, into {target}.",
    "Please provide the {target} rendering of the following {source} text.",
)


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
    """For translation items that name one language (``translation_zh``): en-x, x-en or both."""
    instructions: str = "rotate"
    """``rotate`` the training paraphrases, or ``test``: always the fixed test prompt."""
    language_names: str = "english"
    """``english`` ("Greek") or ``iso639`` (x-LLM's "Modern Greek (1453-)")."""
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
        """Examples for ``<kind>_<arg>`` in file order, from ``paths`` or the default location."""


# --------------------------------------------------------------------------- Alpaca-style JSON


def _line_of(text: str, offset: int, cache: dict[str, list[int]]) -> int:
    import bisect

    starts = cache.get("starts")
    if starts is None:
        starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
        cache["starts"] = starts
    return bisect.bisect_right(starts, offset)


def read_records(path: Path) -> list[tuple[int, object]]:
    """``(line, record)`` pairs of a JSON array file or a JSON Lines file."""
    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    if not stripped.startswith("["):  # JSON Lines
        return read_jsonl(path, text)
    decoder = json.JSONDecoder()
    cache: dict[str, list[int]] = {}
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
            out.append((_line_of(text, pos, cache), record))
            pos = end
    except json.JSONDecodeError as err:
        raise InputError(f"{path}:{err.lineno}: not valid JSON ({err.msg})") from None
    return out


def record_to_example(record: object, source: str) -> Example | str:
    """An :class:`Example` from an Alpaca record, or what is wrong with the record."""
    if not isinstance(record, dict):
        return f"record is a {type(record).__name__}, not an object"
    bad = [
        key
        for key in ("instruction", "output")
        if not isinstance(record.get(key), str) or not record[key].strip()
    ]
    inp = record.get("input") or ""
    if not isinstance(inp, str):
        bad.append("input")
    if bad:
        return f"field(s) {', '.join(bad)} missing, empty or not a string; skipped"
    return Example(record["instruction"], inp, record["output"], str(record.get("source") or source))


def alpaca_examples(path: Path, source: str, problems: list[Problem]) -> list[Example]:
    """Validated Alpaca records (``instruction``, optional ``input``, ``output``) of one file."""
    out = []
    for line, record in read_records(path):
        if isinstance(record, dict):
            record = {k: v for k, v in record.items() if k != "source"}  # the spec item names the source
        example = record_to_example(record, source)
        if isinstance(example, str):
            problems.append(Problem(str(path), line, example))
        else:
            out.append(example)
    return out


class AlpacaSource(TrainSource):
    """``alpaca_<lang>``: Alpaca-style JSON (English or translated); default ``alpaca/alpaca_<lang>.json``."""

    kind = "alpaca"
    description = "Alpaca-style JSON/JSONL records; default location alpaca/alpaca_<lang>.json"
    location = "alpaca/alpaca_{lang}.json"

    def load(self, arg: str, paths: list[Path] | None, options: LoadOptions) -> list[Example]:
        if not arg:
            raise InputError("alpaca_<lang>: name the language, e.g. alpaca_zh")
        if not paths:
            self._check_known(arg)
        files = paths or [resolve(self.location, lang=arg)]
        out: list[Example] = []
        for path in files:
            out.extend(alpaca_examples(path, f"alpaca_{arg}", options.problems))
        return out

    def _check_known(self, arg: str) -> None:
        """A code that is no registered language (``alpaca_enn``) is named with the files that do exist;
        a real language without its file gets the missing-file message."""
        from xllm_harness.languages import get_languages

        if arg in get_languages():
            return
        folder = data_dir() / Path(self.location).parent
        have = (
            sorted({p.name.split(".")[0] for p in folder.glob("alpaca_*.json*")}) if folder.is_dir() else []
        )
        if have and f"alpaca_{arg}" not in have:
            raise unknown_name("instruction data", f"alpaca_{arg}", have, f"Files are looked up in {folder}.")


# --------------------------------------------------------------------------- translation


def read_aligned(src_path: Path, tgt_path: Path) -> tuple[list[str], list[str]]:
    """Two line-aligned files (one sentence per line); raises if their line counts differ."""
    sides = []
    for path in (src_path, tgt_path):
        lines = Path(path).read_text(encoding="utf-8").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        sides.append([line.rstrip("\r") for line in lines])
    if len(sides[0]) != len(sides[1]):
        raise InputError(
            f"parallel files are not line-aligned: {src_path} has {len(sides[0])} lines, "
            f"{tgt_path} has {len(sides[1])}"
        )
    return sides[0], sides[1]


def _pairs(arg: str, direction: str) -> list[tuple[str, str]]:
    if "-" in arg:
        src, _, tgt = arg.partition("-")
        if not src or not tgt or src == tgt:
            raise InputError(f"translation_{arg}: expected translation_<src>-<tgt>, e.g. translation_en-zh")
        return [(src, tgt)]
    if direction not in DIRECTIONS:
        raise InputError(f"direction {direction!r}: use one of {', '.join(DIRECTIONS)}")
    if arg == PIVOT:
        raise InputError("translation_en: name the other language, e.g. translation_zh or translation_en-zh")
    return {"en-x": [(PIVOT, arg)], "x-en": [(arg, PIVOT)], "both": [(PIVOT, arg), (arg, PIVOT)]}[direction]


def default_parallel_files(a: str, b: str) -> tuple[Path, Path]:
    """``parallel/<a>-<b>.<a>`` and ``.<b>`` under the data dir (either pair order), as (a file, b file)."""
    for x, y in ((a, b), (b, a)):
        folder = data_dir() / "parallel"
        first, second = folder / f"{x}-{y}.{a}", folder / f"{x}-{y}.{b}"
        if first.is_file() and second.is_file():
            return first, second
    raise MissingDataError(
        f"No parallel {a}-{b} data: put line-aligned files at {data_dir() / 'parallel'}/{a}-{b}.{a} and "
        f".{b} (data directory: {data_dir()}, set XLLM_DATA_DIR to change it), or name them in the spec: "
        f"translation_{a}-{b}=SRC_FILE,TGT_FILE"
    )


class TranslationSource(TrainSource):
    """``translation_<src>-<tgt>`` or ``translation_<lang>`` (direction from the options) from parallel text.

    Explicit paths come in the order of the languages in the name (``translation_en-zh=EN,ZH``); for
    ``translation_<lang>`` the English file comes first.
    """

    kind = "translation"
    description = "translation instructions from line-aligned parallel files; default parallel/<a>-<b>.<a|b>"

    def load(self, arg: str, paths: list[Path] | None, options: LoadOptions) -> list[Example]:
        from xllm_harness.languages import get_language
        from xllm_harness.text.prompts import INSTRUCTION, language_name

        pairs = _pairs(arg, options.direction)
        a, b = (PIVOT, arg) if "-" not in arg else pairs[0]
        if paths is not None and len(paths) != 2:
            raise InputError(f"translation_{arg}=...: give two comma-separated files ({a} file, {b} file)")
        a_path, b_path = (paths[0], paths[1]) if paths else default_parallel_files(a, b)
        a_lines, b_lines = read_aligned(a_path, b_path)
        names = {code: language_name(get_language(code), options.language_names) for code in (a, b)}
        out: list[Example] = []
        # pair by pair, so that with direction "both" a [:N] slice keeps both directions of N/2 pairs
        for index, sides in enumerate(zip(a_lines, b_lines, strict=True)):
            empty = [str(p) for p, v in zip((a_path, b_path), sides, strict=True) if not v.strip()]
            if empty:
                options.problems.extend(Problem(p, index + 1, "empty sentence; pair skipped") for p in empty)
                continue
            sentence = dict(zip((a, b), (v.strip() for v in sides), strict=True))
            for src, tgt in pairs:
                template = (
                    INSTRUCTION if options.instructions == "test" else PARAPHRASES[index % len(PARAPHRASES)]
                )
                instruction = template.format(source=names[src], target=names[tgt])
                out.append(Example(instruction, sentence[src], sentence[tgt], f"translation_{src}-{tgt}"))
        return out
