"""Built-in instruction-data sources for ``xllm data build`` / ``xllm train``: ``alpaca_*`` and ``translation_*``.

The contract (:class:`~xllm_harness.train_sources.TrainSource`) and the record format live in the
core; these are its two built-in kinds. Malformed records never stop a build silently: each is
reported as ``file:line: what is wrong`` and skipped; a file that is not UTF-8 or not JSON is an error
naming the file and line.
"""

from __future__ import annotations

from pathlib import Path

from xllm_harness.data import MissingDataError, data_dir, resolve
from xllm_harness.errors import InputError, unknown_name
from xllm_harness.hookspecs import hookimpl
from xllm_harness.results.jsonio import read_text
from xllm_harness.text.prompts import PIVOT
from xllm_harness.train_sources import (
    DIRECTIONS,
    Example,
    LoadOptions,
    Problem,
    TrainSource,
    read_records,
    record_to_example,
)

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


# --------------------------------------------------------------------------- Alpaca-style JSON


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


def read_lines(path: Path) -> list[str]:
    """The sentences of a one-sentence-per-line file: UTF-8 checked, no NUL bytes (a binary file)."""
    text = read_text(path, "training data file")
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise InputError(f"{path}:{line}: NUL byte: not a text file of one sentence per line")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.rstrip("\r") for line in lines]


def read_aligned(src_path: Path, tgt_path: Path) -> tuple[list[str], list[str]]:
    """Two line-aligned files (one sentence per line); raises if their line counts differ."""
    sides = [read_lines(Path(path)) for path in (src_path, tgt_path)]
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


@hookimpl
def xllm_train_sources() -> list[TrainSource]:
    return [AlpacaSource(), TranslationSource()]
