"""QA correctness judging (the paper's Table 2): YES/NO per answer, over lm-eval samples.

The first ``limit`` questions of each xquad/mlqa task (100, as in the paper) are judged with the
"Evaluating Answer Quality" prompt. The judge sees the question as the model saw it (the language's
QA template) and the model's answer. An empty answer is NO without a call (x-LLM). With k samples the
verdict is the majority of the parsed replies (a tie counts as NO). Unparseable replies are re-asked,
then counted and left out of the accuracy; so are requests that failed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xllm_harness.errors import InputError
from xllm_harness.judging.batch import judge_all
from xllm_harness.judging.client import ChatRequest, JudgeClient
from xllm_harness.judging.prompts import parse_yes_no, qa_messages
from xllm_harness.languages import get_language
from xllm_harness.lm_eval_outputs import read_sample_lines, response, sample_files

QA_DOC_KEYS = ("context", "question", "answers", "lang")


@dataclass
class QAItem:
    task: str
    doc_id: int
    context: str
    """The question as the model saw it: the language's QA template with context and question."""
    answer: str
    exact_match: float | None
    match: float | None


def load_qa_items(
    folder: str | Path, limit: int | None = 100, tasks: list[str] | None = None
) -> dict[str, list[QAItem]]:
    """The first ``limit`` items (by doc_id) of every QA task in an lm-eval samples folder."""
    items: dict[str, list[QAItem]] = {}
    for task, path in sorted(sample_files(folder).items()):
        if tasks and task not in tasks:
            continue
        records = read_sample_lines(path)
        if not records or not all(k in records[0]["doc"] for k in QA_DOC_KEYS):
            continue  # not a QA task (MI-Eval, FLORES...)
        chosen = []
        for record in records[:limit] if limit else records:
            doc = record["doc"]
            lang = get_language(doc["lang"])
            if not lang.qa_template:
                raise InputError(f"{path}: language {lang.code!r} has no qa_template to show the judge")
            context = lang.qa_template.format(
                context=doc["context"].strip(), question=doc["question"].strip()
            )
            chosen.append(
                QAItem(
                    task,
                    record["doc_id"],
                    context,
                    response(record),
                    record.get("exact_match"),
                    record.get("match"),
                )
            )
        items[task] = chosen
    if tasks:
        missing = sorted(set(tasks) - set(items))
        if missing:
            raise InputError(f"--tasks: no QA samples for {', '.join(missing)} in {folder}")
    if not items:
        raise InputError(
            f"{folder}: no QA samples (docs with {', '.join(QA_DOC_KEYS)}); judge qa reads xquad/mlqa"
        )
    return items


def judge_qa(
    folder: str | Path,
    client: JudgeClient,
    limit: int | None = 100,
    tasks: list[str] | None = None,
    parse_retries: int = 2,
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Per-task results and per-item details."""
    items = load_qa_items(folder, limit, tasks)
    k = client.settings.k
    requests = {
        (task, item.doc_id, s): ChatRequest(qa_messages(item.context, item.answer), sample=s)
        for task, task_items in items.items()
        for item in task_items
        if item.answer.strip()
        for s in range(k)
    }
    outcomes = judge_all(client, list(requests.values()), parse_yes_no, parse_retries, desc="judge qa")
    results: dict[str, dict[str, Any]] = {}
    details: list[dict[str, Any]] = []
    for task, task_items in items.items():
        yes = judged = unparseable = failed = empty = 0
        agree = {"exact_match": [0, 0], "match": [0, 0]}
        retried = 0
        for item in task_items:
            detail: dict[str, Any] = {"task": task, "doc_id": item.doc_id, "answer": item.answer}
            if not item.answer.strip():
                verdict: bool | None = False
                empty += 1
                detail["note"] = "empty answer: NO without a judge call"
            else:
                outs = [outcomes[requests[(task, item.doc_id, s)]] for s in range(k)]
                retried += sum(o.tries - 1 for o in outs if o.tries > 1)
                votes = [o.value for o in outs if o.value is not None]
                detail["replies"] = [o.reply for o in outs]
                errors = [o.error for o in outs if o.error]
                if errors and not votes:
                    failed += 1
                    detail["error"] = errors[0]
                    details.append(detail)
                    continue
                if not votes:
                    unparseable += 1
                    detail["note"] = "unparseable replies: not scored"
                    details.append(detail)
                    continue
                verdict = sum(votes) > len(votes) - sum(votes)
            judged += 1
            yes += verdict
            detail["verdict"] = "YES" if verdict else "NO"
            for metric, value in (("exact_match", item.exact_match), ("match", item.match)):
                if value is not None:
                    agree[metric][0] += verdict == (float(value) >= 1.0)
                    agree[metric][1] += 1
            details.append(detail)
        results[task] = {
            "judge_accuracy": yes / judged if judged else None,
            "n": judged,
            "agreement_exact_match": agree["exact_match"][0] / agree["exact_match"][1]
            if agree["exact_match"][1]
            else None,
            "agreement_match": agree["match"][0] / agree["match"][1] if agree["match"][1] else None,
            "unparseable": unparseable,
            "failed": failed,
            "empty_answers": empty,
            "reasked_after_unparseable": retried,
            "limit": limit,
        }
    return results, details
