"""FLORES-101 translation documents: x-LLM's test prompt, the line-aligned files, the cleaned output.

The prompt is x-LLM's test prompt inside the Alpaca wrapper:
``Translate the following sentences from {source} to {target}.`` with the source sentence as input.
The lm-eval task code (options, metrics) is ``tasks/flores_utils.py``; this module holds what the
tasks, ``xllm score`` and the trainer's translation data share.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xllm_harness.data import resolve
from xllm_harness.errors import InputError
from xllm_harness.languages import Language, get_language
from xllm_harness.prompts import alpaca_prompt

INSTRUCTION = "Translate the following sentences from {source} to {target}."
TEST_SPLIT = "devtest"
FEWSHOT_SPLIT = "dev"
LANGUAGE_NAME_STYLES = ("english", "iso639")
PIVOT = "en"


def language_name(lang: Language, style: str = "english") -> str:
    """The name used in the prompt: plain English (default) or x-LLM's ``iso-639`` spelling."""
    if style not in LANGUAGE_NAME_STYLES:
        raise InputError(f"language_names={style!r}: use one of {', '.join(LANGUAGE_NAME_STYLES)}")
    if style == "iso639":
        return lang.iso639_name or lang.name
    return lang.name


def translation_prompt(source: Language, target: Language, sentence: str, names: str = "english") -> str:
    """x-LLM's test-time translation prompt in the Alpaca wrapper."""
    instruction = INSTRUCTION.format(source=language_name(source, names), target=language_name(target, names))
    return alpaca_prompt(instruction, sentence.strip())


def read_lines(path: Path) -> list[str]:
    """One sentence per line (FLORES ``<code>.<split>`` files), trailing newline ignored."""
    text = Path(path).read_text(encoding="utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _flores_path(lang: Language, split: str) -> Path:
    if not lang.flores:
        raise InputError(f"Language {lang.code!r} declares no flores location (Language.flores)")
    return resolve(lang.flores, split=split)


def build_docs(src: str, tgt: str, split: str, names: str = "english") -> list[dict[str, Any]]:
    """The documents of one direction and split (line-aligned FLORES files)."""
    source, target = get_language(src), get_language(tgt)
    src_path, tgt_path = _flores_path(source, split), _flores_path(target, split)
    src_lines, tgt_lines = read_lines(src_path), read_lines(tgt_path)
    if len(src_lines) != len(tgt_lines):
        raise InputError(
            f"FLORES files are not parallel: {src_path} has {len(src_lines)} lines, {tgt_path} has "
            f"{len(tgt_lines)}; re-fetch with `xllm data fetch flores101 --force`."
        )
    return [
        {
            "id": i,
            "src_lang": src,
            "tgt_lang": tgt,
            "source": s,
            "target": t,
            "prompt": translation_prompt(source, target, s, names),
        }
        for i, (s, t) in enumerate(zip(src_lines, tgt_lines, strict=True))
    ]


def clean_hypothesis(text: str) -> str:
    """The generated translation as scored: surrounding whitespace removed."""
    return text.strip()
