"""QA correctness judging (the paper's Table 2): YES/NO per answer, over lm-eval samples.

The first ``limit`` questions of each xquad/mlqa task (100, as in the paper) are judged with the
"Evaluating Answer Quality" prompt. The judge sees the question as the model saw it (the language's
QA template) and the model's answer; the answer is the one of lm-eval's filter that ``xllm score``
reads (:func:`xllm_harness.scoring.read_samples`: ``--filter``, else ``none``, else the first). An
empty answer is NO without a call. With k samples the verdict is the majority of the parsed replies (a
tie counts as NO). Unparseable replies are re-asked, then counted and left out of the accuracy; so
are requests that failed, and requests not sent (spend cap, Ctrl-C), which are counted apart.

``xllm_tally=True`` (``--parser x-llm``) reproduces x-LLM's ``eval/xquad.eval.py`` instead: each
reply is asked once and becomes one line of its log, the first case-sensitive ``YES``/``NO`` or
``NO(Error)`` (counted as a NO); an empty answer writes a ``NO`` line and is then sent to the judge
all the same (the script has no ``continue``), so it adds two lines; the accuracy is the share of
``YES`` lines.
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
from xllm_harness.metric_inputs import sample_response
from xllm_harness.results.lm_eval import Run, choose_run, read_sample_lines
from xllm_harness.scoring import read_samples

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


def chosen_filter_lines(path: Path, filter_name: str | None = None) -> list[dict[str, Any]]:
    """The sample lines of the lm-eval filter ``xllm score`` reads (one per doc_id, by doc_id).

    :func:`~xllm_harness.scoring.read_samples` chooses the filter and gives its answers; the line of
    each doc_id carrying that answer is taken (two filters with the same answer have the same scores)."""
    records = read_sample_lines(path)
    chosen = read_samples(path, filter_name=filter_name)
    by_doc: dict[int, list[dict[str, Any]]] = {}
    for record in records:
        by_doc.setdefault(record["doc_id"], []).append(record)
    lines = []
    for doc_id, answer in zip(chosen.doc_ids, chosen.hypotheses, strict=True):
        lines.append(
            next(r for r in by_doc[doc_id] if sample_response(r, f"{path}: doc_id {doc_id}") == answer)
        )
    return lines


def load_qa_items(
    run: Run | str | Path,
    limit: int | None = 100,
    tasks: list[str] | None = None,
    filter_name: str | None = None,
) -> dict[str, list[QAItem]]:
    """The first ``limit`` items (by doc_id) of every QA task of one run (a :class:`Run`, or a folder
    holding one run, or its ``results_<ts>.json``)."""
    if not isinstance(run, Run):
        run = choose_run(run, None, "--run", "samples")
    items: dict[str, list[QAItem]] = {}
    for task, path in sorted(run.samples.items()):
        if tasks and task not in tasks:
            continue
        records = read_sample_lines(path)
        if not records or not all(k in records[0]["doc"] for k in QA_DOC_KEYS):
            continue  # not a QA task (MI-Eval, FLORES...)
        records = chosen_filter_lines(path, filter_name)
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
                    sample_response(record, f"{path}: doc_id {record['doc_id']}"),
                    record.get("exact_match"),
                    record.get("match"),
                )
            )
        items[task] = chosen
    if tasks:
        missing = sorted(set(tasks) - set(items))
        if missing:
            raise InputError(f"--tasks: no QA samples for {', '.join(missing)} in {run.folder}")
    if not items:
        raise InputError(
            f"{run.folder}: no QA samples (docs with {', '.join(QA_DOC_KEYS)}); judge qa reads xquad/mlqa"
        )
    return items


def judge_qa(
    run: Run | str | Path,
    client: JudgeClient,
    limit: int | None = 100,
    tasks: list[str] | None = None,
    parse_retries: int = 2,
    parse: Callable[[str], bool | None] = parse_yes_no,
    filter_name: str | None = None,
    xllm_tally: bool = False,
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Per-task results and per-item details (``parse``: the verdict parser, see ``QA_PARSERS``;
    ``xllm_tally``: x-LLM's tally, see the module docstring)."""
    items = load_qa_items(run, limit, tasks, filter_name)
    k = client.settings.k
    if xllm_tally:
        parse_retries = 0
    requests = {
        (task, item.doc_id, s): ChatRequest(qa_messages(item.context, item.answer), sample=s)
        for task, task_items in items.items()
        for item in task_items
        if item.answer.strip() or xllm_tally
        for s in range(k)
    }
    outcomes = judge_all(client, list(requests.values()), parse, parse_retries, desc="judge qa")
    results: dict[str, dict[str, Any]] = {}
    details: list[dict[str, Any]] = []
    for task, task_items in items.items():
        tally = _Tally()
        for item in task_items:
            keys = [(task, item.doc_id, s) for s in range(k)]
            outs = [outcomes[requests[key]] for key in keys if key in requests]
            judge_item = _judge_item_xllm if xllm_tally else _judge_item
            details.append(judge_item(task, item, outs, tally))
        results[task] = tally.result(limit, xllm_tally)
    return results, details


@dataclass
class _Tally:
    """Counts of one task's items."""

    yes: int = 0
    judged: int = 0
    unparseable: int = 0
    failed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
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

    def result(self, limit: int | None, xllm_tally: bool = False) -> dict[str, Any]:
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
            "skipped": sum(self.skipped.values()),
            "skipped_by_reason": dict(self.skipped),
            "empty_answers": self.empty,
            "reasked_after_unparseable": self.retried,
            "limit": limit,
            "tally": "x-llm (n counts log lines; NO(Error) is a NO)" if xllm_tally else "default",
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
    skips = [o.skipped for o in outs if o.skipped]
    if skips and not votes:
        tally.skipped[skips[0]] = tally.skipped.get(skips[0], 0) + 1
        detail["skipped"] = skips[0]
        detail["error"] = errors[0]
    elif errors and not votes:
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


def _judge_item_xllm(task: str, item: QAItem, outs: list[Outcome], tally: _Tally) -> dict[str, Any]:
    """x-LLM's log lines for one item: an empty answer's ``NO``, then the judge's first ``YES``/``NO``
    or ``NO(Error)``; each line is tallied. A request that failed or was not sent adds no line."""
    detail: dict[str, Any] = {"task": task, "doc_id": item.doc_id, "answer": item.answer}
    lines = []
    if not item.answer.strip():
        tally.empty += 1
        lines.append("NO")
    detail["replies"] = [o.reply for o in outs]
    skips = [o.skipped for o in outs if o.skipped]
    errors = [o.error for o in outs if o.error]
    if skips:
        tally.skipped[skips[0]] = tally.skipped.get(skips[0], 0) + 1
        detail["skipped"], detail["error"] = skips[0], errors[0]
    elif errors:
        tally.failed += 1
        detail["error"] = errors[0]
    else:
        for out in outs:
            lines.append("NO(Error)" if out.value is None else "YES" if out.value else "NO")
    for line in lines:
        tally.verdict(item, line == "YES")
    detail["xllm_lines"] = lines
    if lines:
        detail["verdict"] = "YES" if lines[-1] == "YES" else "NO"
    return detail
