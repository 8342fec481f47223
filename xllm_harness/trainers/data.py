"""The CoIT/MuIT data builder: spec strings and allocation files → one shuffled list of examples.

Spec grammar (x-LLM's, plus explicit files)::

    SPEC  := ITEM ("+" ITEM)*
    ITEM  := KIND "_" ARG [ "[" [START] ":" [END] "]" ] [ "=" PATH ("," PATH)* ]

``alpaca_en+alpaca_zh+translation_en-zh[:100000]`` mixes English and Chinese Alpaca with the first
100,000 English→Chinese pairs. ``alpaca_zh=/d/part-00.json,/d/part-01.json`` reads those files instead
of the default location. An allocation file (``{"budget": C, "allocation": {lang: n}}``, written by
``xllm analyze allocator``) adds ``translation_<lang>[:n]`` for each language, in the default direction.
The result is shuffled with the seed: the same spec, files and seed give the same list.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from xllm_harness.console import progress_bar
from xllm_harness.errors import InputError, MissingFileError
from xllm_harness.registry import collect
from xllm_harness.results import files
from xllm_harness.train_sources import (
    DIRECTIONS,
    INSTRUCTIONS,
    LANGUAGE_NAMES,
    Example,
    LoadOptions,
    Problem,
    TrainSource,
    example_records,
    read_records,
    record_to_example,
)

ITEM_RE = re.compile(
    r"^(?P<kind>[A-Za-z0-9]+)_(?P<arg>[A-Za-z0-9_\-]+)(?:\[(?P<start>\d*):(?P<end>\d*)\])?(?:=(?P<paths>.+))?$"
)


@dataclass(frozen=True)
class SpecItem:
    """One ``+``-separated part of a spec."""

    kind: str
    arg: str
    start: int | None = None
    end: int | None = None
    paths: tuple[Path, ...] | None = None

    @property
    def name(self) -> str:
        return f"{self.kind}_{self.arg}"


@dataclass(frozen=True)
class DataOptions:
    """What to build: the options ``xllm data build`` and ``xllm train`` share."""

    spec: str | None = None
    """``alpaca_en+translation_en-zh[:1000]``... (see the module docstring)."""
    allocation: str | Path | None = None
    """An allocator file adding ``translation_<lang>[:n]`` items."""
    seed: int = 42
    direction: str = "en-x"
    instructions: str = "rotate"
    language_names: str = "english"


@dataclass
class BuildResult:
    """The built examples, how many each source gave, and the malformed records skipped."""

    examples: list[Example]
    counts: dict[str, int]
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return summary(self.counts, self.problems, self.notes)


SHOWN_PROBLEMS = 5
"""Malformed records listed by file and line (the rest are counted)."""


def summary(
    counts: Mapping[str, int],
    problems: Sequence[Problem] = (),
    notes: Sequence[str] = (),
    *,
    truncated: Mapping[str, int] | None = None,
    dropped: Mapping[str, int] | None = None,
    max_length: int | None = None,
) -> str:
    """Examples per source and in total; with the tokenization counts (``truncated``, ``dropped``
    per source, at ``max_length``) two more columns and a warning when more than half are dropped;
    then the notes and the malformed records skipped (a count, the first :data:`SHOWN_PROBLEMS` listed
    with file and line)."""
    width = max((len(k) for k in counts), default=6)
    tokenized = truncated is not None and dropped is not None
    rows = [(name, n) for name, n in sorted(counts.items())] + [("total", sum(counts.values()))]
    lines = []
    if tokenized:
        lines.append(f"{'source':{width}s} {'examples':>9s} {'truncated':>9s} {'dropped':>9s}")
    for name, n in rows:
        line = f"{name:{width}s} {n:>9,d}"
        if tokenized:
            cut, gone = (
                (sum(truncated.values()), sum(dropped.values()))
                if name == "total"
                else (truncated.get(name, 0), dropped.get(name, 0))
            )
            line += f" {cut:>9,d} {gone:>9,d}"
        lines.append(line)
    if tokenized:
        lines.append(
            f"truncated: cut at --max-length {max_length}; dropped: the prompt alone fills it "
            "(no response token to learn from)"
        )
        seen, gone = sum(counts.values()), sum(dropped.values())
        if gone * 2 > seen:
            lines.append(
                f"warning: --max-length {max_length} drops {gone:,} of the {seen:,} examples (more than half); "
                "raise --max-length"
            )
    lines.extend(f"note: {n}" for n in notes)
    if problems:
        lines.append(
            f"{len(problems)} malformed record(s) skipped, the first {min(len(problems), SHOWN_PROBLEMS)}:"
        )
        lines.extend(f"  {p}" for p in problems[:SHOWN_PROBLEMS])
        if len(problems) > SHOWN_PROBLEMS:
            lines.append(f"  ... and {len(problems) - SHOWN_PROBLEMS:,} more")
    return "\n".join(lines)


def get_train_sources() -> dict[str, TrainSource]:
    """Registered sources by kind (``xllm_train_sources`` hook)."""
    table: dict[str, TrainSource] = {}
    for source in collect("xllm_train_sources"):
        if source.kind in table and type(table[source.kind]) is not type(source):
            raise InputError(f"training source kind {source.kind!r} is registered twice by different plugins")
        table[source.kind] = source
    return table


def parse_spec(spec: str) -> list[SpecItem]:
    """Parse ``alpaca_en+translation_en-zh[:1000]=a.en,a.zh`` into items (clear error on bad syntax)."""
    items = []
    for raw in (part.strip() for part in spec.split("+")):
        match = ITEM_RE.match(raw)
        if not raw or match is None:
            raise InputError(
                f"data spec item {raw!r} in {spec!r}: expected KIND_ARG[START:END][=FILE,...], "
                "e.g. alpaca_en, translation_en-zh[:100000], alpaca_zh=/data/zh.json"
            )
        start, end = match["start"], match["end"]
        if end and int(end) <= int(start or 0):
            raise InputError(
                f"data spec item {raw!r}: the slice [{start}:{end}] is empty; END must be larger than START"
            )
        paths = tuple(Path(p).expanduser() for p in match["paths"].split(",")) if match["paths"] else None
        items.append(
            SpecItem(
                match["kind"],
                match["arg"],
                int(start) if start else None,
                int(end) if end else None,
                paths,
            )
        )
    return items


def allocation_items(path: str | Path) -> tuple[list[SpecItem], int | None]:
    """``translation_<lang>[:n]`` items from an allocator file, and its budget."""
    from xllm_harness.analysis.allocation import read_allocation

    allocation = read_allocation(path)
    budget = json.loads(Path(path).read_text(encoding="utf-8")).get("budget")
    items = [SpecItem("translation", lang, None, int(n)) for lang, n in allocation.items() if int(n) > 0]
    return items, budget


def build(
    spec: str | None,
    *,
    allocation: str | Path | None = None,
    seed: int = 42,
    direction: str = "en-x",
    instructions: str = "rotate",
    language_names: str = "english",
    shuffle: bool = True,
) -> BuildResult:
    """Build the instruction data of ``spec`` (and/or an allocation file), shuffled by ``seed``."""
    if direction not in DIRECTIONS:
        raise InputError(f"--direction {direction!r}: use one of {', '.join(DIRECTIONS)}")
    if instructions not in INSTRUCTIONS:
        raise InputError(f"--instructions {instructions!r}: use one of {', '.join(INSTRUCTIONS)}")
    if language_names not in LANGUAGE_NAMES:
        raise InputError(f"--language-names {language_names!r}: use one of {', '.join(LANGUAGE_NAMES)}")
    check_seed(seed)
    items = parse_spec(spec) if spec else []
    notes = []
    if allocation is not None:
        extra, budget = allocation_items(allocation)
        items += extra
        notes.append(
            f"allocation {allocation}: budget {budget}, " + ", ".join(f"{i.arg}={i.end}" for i in extra)
        )
    if not items:
        raise InputError("no data: give a spec (e.g. alpaca_en+translation_en-zh) and/or an allocation file")
    sources = get_train_sources()
    options = LoadOptions(direction=direction, instructions=instructions, language_names=language_names)
    examples: list[Example] = []
    for item in progress_bar(items, desc="reading data", unit="source"):
        if item.kind not in sources:
            raise InputError(
                f"data spec item {item.name!r}: unknown kind {item.kind!r}; registered: {', '.join(sorted(sources))} "
                "(plugins add kinds through the xllm_train_sources hook)"
            )
        for path in item.paths or ():
            if not path.is_file():
                raise MissingFileError(f"data spec item {item.name!r}: file {path} does not exist")
        loaded = sources[item.kind].load(item.arg, list(item.paths) if item.paths else None, options)
        part = loaded[item.start : item.end]
        if item.end is not None and item.end - (item.start or 0) > len(part):
            notes.append(
                f"{item.name}: asked for {item.end - (item.start or 0):,} examples, only {len(part):,} available"
            )
        examples.extend(part)
    if not examples:
        raise InputError(
            f"data spec {spec!r} produced no examples ({len(options.problems)} malformed records)"
        )
    if shuffle:
        random.Random(seed).shuffle(examples)
    counts = dict(Counter(ex.source for ex in examples))
    return BuildResult(examples, counts, options.problems, notes)


def build_from(options: DataOptions, shuffle: bool = True) -> BuildResult:
    """:func:`build` with the shared data options (the one call of both ``xllm data build`` and the trainer)."""
    return build(
        options.spec,
        allocation=options.allocation,
        seed=options.seed,
        direction=options.direction,
        instructions=options.instructions,
        language_names=options.language_names,
        shuffle=shuffle,
    )


def check_seed(seed: int) -> None:
    """A seed numpy and torch accept: 0 ≤ seed < 2**32."""
    if not 0 <= seed < 2**32:
        raise InputError(f"--seed {seed}: use a whole number from 0 to {2**32 - 1}")


def write_jsonl(examples: list[Example], path: str | Path) -> Path:
    """Write examples as JSON Lines (``instruction``, ``input``, ``output``, ``source``), whole."""
    return files.write_jsonl(path, example_records(examples))


def read_jsonl(path: str | Path) -> list[Example]:
    """Read a file written by :func:`write_jsonl` (or ``xllm data build``); malformed records raise."""
    path = Path(path)
    out = []
    for line, record in read_records(path):
        example = record_to_example(record, path.name)
        if isinstance(example, str):
            raise InputError(f"{path}:{line}: {example}")
        out.append(example)
    return out
