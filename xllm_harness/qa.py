"""XQuAD / MLQA documents: SQuAD-format JSON, one document per question, with x-LLM's QA prompt.

Shared by the lm-eval tasks (``tasks/qa_utils.py``) and the QA judge.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from xllm_harness.data import resolve
from xllm_harness.errors import InputError
from xllm_harness.languages import Language, get_language
from xllm_harness.prompts import alpaca_prompt


def qa_prompt(lang: Language, context: str, question: str) -> str:
    """x-LLM's QA prompt: the language's instruction and template inside the Alpaca wrapper."""
    assert lang.qa_instruction and lang.qa_template
    body = lang.qa_template.format(context=context.strip(), question=question.strip())
    return alpaca_prompt(lang.qa_instruction, body)


def read_squad_json(path: Path, lang: Language) -> list[dict[str, Any]]:
    """Flatten a SQuAD v1.1 JSON file into one document per question."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))["data"]
    except (ValueError, KeyError) as err:
        raise InputError(f"{path}: not SQuAD v1.1 JSON ({err}); expected {{'data': [...]}}") from None
    docs = []
    for article in data:
        for paragraph in article["paragraphs"]:
            context = paragraph["context"]
            for qa in paragraph["qas"]:
                answers = list(dict.fromkeys(a["text"] for a in qa["answers"]))
                if not answers:
                    raise InputError(f"{path}: question {qa.get('id')!r} has no answers")
                docs.append(
                    {
                        "id": qa["id"],
                        "title": article.get("title", ""),
                        "context": context,
                        "question": qa["question"],
                        "answers": answers,
                        "lang": lang.code,
                        "prompt": qa_prompt(lang, context, qa["question"]),
                    }
                )
    return docs


def load_dataset(lang: str, benchmark: str):
    """The ``benchmark`` (xquad/mlqa) questions of ``lang`` as a ``datasets`` test split."""
    import datasets

    language = get_language(lang)
    location = getattr(language, benchmark, None)
    if not location:
        raise InputError(f"Language {lang!r} declares no {benchmark} data location")
    docs = read_squad_json(resolve(location), language)
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})
