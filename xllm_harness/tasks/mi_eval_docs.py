"""MI-Eval (the paper's multilingual instruction set): x-LLM's ``{lang}.jsonl`` files.

Each line is ``{"instruction": ..., "input": ...}`` (x-LLM's ``data/mieval`` format; ``input`` may be
empty or absent). The prompt is the Alpaca wrapper; there is no reference answer: the generations are
scored afterwards by ``xllm judge pairwise`` against another system's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xllm_harness.data import resolve
from xllm_harness.errors import InputError
from xllm_harness.languages import get_language
from xllm_harness.results.jsonio import read_jsonl
from xllm_harness.text.prompts import alpaca_prompt


def read_mi_eval(path: Path, lang: str) -> list[dict[str, Any]]:
    """One document per line of an MI-Eval jsonl file."""
    docs = []
    for number, record in read_jsonl(path):
        instruction = record.get("instruction") if isinstance(record, dict) else None
        if not isinstance(instruction, str) or not instruction.strip():
            raise InputError(f"{path}:{number}: field 'instruction' is missing or empty")
        extra = record.get("input") or ""
        if not isinstance(extra, str):
            raise InputError(f"{path}:{number}: field 'input' must be a string")
        docs.append(
            {
                "id": str(record.get("id", len(docs))),
                "instruction": instruction,
                "input": extra,
                "lang": lang,
                "prompt": alpaca_prompt(instruction, extra or None),
                "output": "",
            }
        )
    if not docs:
        raise InputError(f"{path}: no MI-Eval items")
    return docs


def load_dataset(lang: str):
    """The MI-Eval items of ``lang`` as a ``datasets`` test split."""
    import datasets

    language = get_language(lang)
    if not language.mi_eval:
        raise InputError(f"Language {lang!r} declares no mi_eval data location")
    docs = read_mi_eval(resolve(language.mi_eval), lang)
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})
