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
from xllm_harness.text.prompts import alpaca_prompt


def qa_prompt(lang: Language, context: str, question: str) -> str:
    """x-LLM's QA prompt: the language's instruction and template inside the Alpaca wrapper."""
    assert lang.qa_instruction and lang.qa_template
    body = lang.qa_template.format(context=context.strip(), question=question.strip())
    return alpaca_prompt(lang.qa_instruction, body)


def _field(record: Any, key: str, kind: type, path: Path, where: str) -> Any:
    """``record[key]`` of type ``kind``, or an error naming the file, the record and the field."""
    value = record.get(key) if isinstance(record, dict) else None
    if not isinstance(value, kind):
        found = (
            "missing" if not isinstance(record, dict) or key not in record else f"a {type(value).__name__}"
        )
        raise InputError(
            f"{path}: {where}: field {key!r} is {found}, expected a {kind.__name__} (SQuAD v1.1 format: "
            "data[].paragraphs[].qas[] with id, question, answers[].text)"
        )
    return value


def read_squad_json(path: Path, lang: Language) -> list[dict[str, Any]]:
    """Flatten a SQuAD v1.1 JSON file into one document per question."""
    try:
        root = json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError as err:
        raise InputError(f"{path}: not valid JSON ({err}); expected SQuAD v1.1 {{'data': [...]}}") from None
    docs = []
    for a, article in enumerate(_field(root, "data", list, path, "top level")):
        for p, paragraph in enumerate(_field(article, "paragraphs", list, path, f"data[{a}]")):
            where = f"data[{a}].paragraphs[{p}]"
            context = _field(paragraph, "context", str, path, where)
            for q, qa in enumerate(_field(paragraph, "qas", list, path, where)):
                qid = qa.get("id") if isinstance(qa, dict) else None
                at = f"question {qid!r}" if qid is not None else f"{where}.qas[{q}]"
                answers = [_field(ans, "text", str, path, f"{at} answer {k}") for k, ans in
                           enumerate(_field(qa, "answers", list, path, at))]  # fmt: skip
                answers = list(dict.fromkeys(answers))
                if not answers:
                    raise InputError(
                        f"{path}: {at}: field 'answers' is empty (each question needs a gold answer)"
                    )
                question = _field(qa, "question", str, path, at)
                docs.append(
                    {
                        "id": str(qid) if qid is not None else f"{a}-{p}-{q}",
                        "title": article.get("title", ""),
                        "context": context,
                        "question": question,
                        "answers": answers,
                        "lang": lang.code,
                        "prompt": qa_prompt(lang, context, question),
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
