"""QA correctness judging (the paper's Table 2): YES/NO per answer, over lm-eval samples.

The first ``limit`` questions of each xquad/mlqa task (100, as in the paper) are judged with the
"Evaluating Answer Quality" prompt. The judge sees the question as the model saw it (the language's
QA template) and the model's answer. An empty answer is NO without a call (x-LLM). With k samples the
verdict is the majority of the parsed replies (a tie counts as NO). Unparseable replies are re-asked,
then counted and left out of the accuracy; so are requests that failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xllm_harness.errors import InputError
from xllm_harness.judging.backend import ChatRequest
from xllm_harness.judging.client import JudgeClient
from xllm_harness.judging.prompts import parse_yes_no, qa_messages
from xllm_harness.judging.rounds import Outcome, judge_all
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
    parse: Callable[[str], bool | None] = parse_yes_no,
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Per-task results and per-item details (``parse``: the verdict parser, see ``QA_PARSERS``)."""
    items = load_qa_items(folder, limit, tasks)
    k = client.settings.k
    requests = {
        (task, item.doc_id, s): ChatRequest(qa_messages(item.context, item.answer), sample=s)
        for task, task_items in items.items()
        for item in task_items
        if item.answer.strip()
        for s in range(k)
    }
    outcomes = judge_all(client, list(requests.values()), parse, parse_retries, desc="judge qa")
    results: dict[str, dict[str, Any]] = {}
    details: list[dict[str, Any]] = []
    for task, task_items in items.items():
        tally = _Tally()
        for item in task_items:
            outs = (
                [outcomes[requests[(task, item.doc_id, s)]] for s in range(k)] if item.answer.strip() else []
            )
            details.append(_judge_item(task, item, outs, tally))
        results[task] = tally.result(limit)
    return results, details


@dataclass
class _Tally:
    """Counts of one task's items."""

    yes: int = 0
    judged: int = 0
    unparseable: int = 0
    failed: int = 0
    empty: int = 0
    retried: int = 0
    agree: dict[str, list[int]] = field(default_factory=lambda: {"exact_match": [0, 0], "match": [0, 0]})

    def verdict(self, item: QAItem, verdict: bool) -> None:
        self.judged += 1
        self.yes += verdict
        for metric, value in (("exact_match", item.exact_match), ("match", item.match)):
            if value is not None:
                self.agree[metric][0] += verdict == (float(value) >= 1.0)
                self.agree[metric][1] += 1

    def result(self, limit: int | None) -> dict[str, Any]:
        def share(metric: str) -> float | None:
            agreed, total = self.agree[metric]
            return agreed / total if total else None

        return {
            "judge_accuracy": self.yes / self.judged if self.judged else None,
            "n": self.judged,
            "agreement_exact_match": share("exact_match"),
            "agreement_match": share("match"),
            "unparseable": self.unparseable,
            "failed": self.failed,
            "empty_answers": self.empty,
            "reasked_after_unparseable": self.retried,
            "limit": limit,
        }


def _judge_item(task: str, item: QAItem, outs: list[Outcome], tally: _Tally) -> dict[str, Any]:
    """One item's detail line; its verdict (majority of the parsed replies, a tie is NO) is tallied."""
    detail: dict[str, Any] = {"task": task, "doc_id": item.doc_id, "answer": item.answer}
    if not item.answer.strip():
        tally.empty += 1
        tally.verdict(item, False)
        detail["note"] = "empty answer: NO without a judge call"
        detail["verdict"] = "NO"
        return detail
    tally.retried += sum(o.tries - 1 for o in outs if o.tries > 1)
    votes = [o.value for o in outs if o.value is not None]
    detail["replies"] = [o.reply for o in outs]
    errors = [o.error for o in outs if o.error]
    if errors and not votes:
        tally.failed += 1
        detail["error"] = errors[0]
    elif not votes:
        tally.unparseable += 1
        detail["note"] = "unparseable replies: not scored"
    else:
        verdict = sum(votes) > len(votes) - sum(votes)
        tally.verdict(item, verdict)
        detail["verdict"] = "YES" if verdict else "NO"
    return detail
