"""x-LLM's prompts: the Alpaca wrapper used for every task and for training, and the translation
instruction shared by the FLORES tasks and the trainer's translation data."""

from __future__ import annotations

from xllm_harness.errors import InputError
from xllm_harness.languages import Language

PROMPT_WITH_INPUT = (
    "Below is an instruction that describes a task, paired with an input that provides further context. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Input:\n{input}\n\n### Response:"
)
PROMPT_NO_INPUT = (
    "Below is an instruction that describes a task. "
    "Write a response that appropriately completes the request.\n\n"
    "### Instruction:\n{instruction}\n\n### Response:"
)


def alpaca_prompt(instruction: str, input: str | None = None) -> str:
    """Wrap an instruction (and optional input) in the Alpaca template."""
    if input:
        return PROMPT_WITH_INPUT.format(instruction=instruction, input=input)
    return PROMPT_NO_INPUT.format(instruction=instruction)


INSTRUCTION = "Translate the following sentences from {source} to {target}."
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
