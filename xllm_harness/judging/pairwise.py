"""MI-Eval pairwise judging of system A against system B (the paper's Figure 4).

Per item (A and B aligned as ``xllm compare`` aligns them: by ``doc_id``, refused when they differ):

1. Language gate (x-LLM): each answer's language is identified (:mod:`xllm_harness.text.langid`) and
   compared with the task's language (``gate_by="question"``: with the question's detected language, as
   x-LLM did). An answer identified as another language loses without a judge call; when both are off,
   it is a tie. An answer too short to identify (a number, a name) is not gated: the judge decides.
2. Otherwise the "Comparing Response Quality" prompt is sent with A as Assistant 1 and, by default,
   again with B as Assistant 1 (k samples each). Scores are mapped back to A and B and averaged.
3. Outcome from A's side: ``win`` when A's mean score is higher, ``loss`` when lower, else ``tie``.
   (x-LLM's script labels these from the other side; here "win" always means A won.)

A verdict "flips" when the two orders disagree on who is better (ties included): the position-bias
rate is flips / items judged in both orders. Unparseable replies are re-asked, then counted and not
scored; failed requests likewise.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xllm_harness.analysis.compare import align, as_run
from xllm_harness.errors import InputError
from xllm_harness.judging import langgate
from xllm_harness.judging.backend import ChatRequest
from xllm_harness.judging.client import JudgeClient
from xllm_harness.judging.prompts import pairwise_messages, parse_scores
from xllm_harness.judging.rounds import Outcome, judge_all
from xllm_harness.metric_inputs import document_kind
from xllm_harness.results.lm_eval import OUTCOMES, Run, read_sample_lines


@dataclass
class PairItem:
    task: str
    lang: str
    doc_id: int
    question: str
    answer_a: str
    answer_b: str


def _question(doc: dict[str, Any]) -> str:
    instruction, extra = doc["instruction"], doc.get("input") or ""
    return f"{instruction}\n{extra}" if extra else instruction


def load_pairs(
    dir_a: Run | str | Path,
    dir_b: Run | str | Path,
    limit: int | None = None,
    tasks: list[str] | None = None,
    filter_name: str | None = None,
) -> list[PairItem]:
    """Aligned items of every instruction task (docs with ``instruction``) present in both folders.

    A and B are aligned as ``xllm compare`` aligns them (:func:`xllm_harness.analysis.compare.align`: by
    ``doc_id``, the filter ``xllm score`` reads, refused when a document is missing from one side or
    differs); ``limit`` then takes the first documents of each task."""
    run_a, run_b = as_run(dir_a, "A"), as_run(dir_b, "B")
    files_a, files_b = run_a.samples, run_b.samples
    common = sorted(set(files_a) & set(files_b))
    if tasks:
        missing = sorted(set(tasks) - set(common))
        if missing:
            raise InputError(
                f"--tasks: {', '.join(missing)} not in both --a {run_a.folder} and --b {run_b.folder}"
            )
        common = [t for t in common if t in tasks]
    instruction_tasks = [
        task
        for task in common
        if (rows := read_sample_lines(files_a[task])) and document_kind(rows[0]["doc"]) == "instruction"
    ]
    pairs: list[PairItem] = []
    for task_pair in align(run_a, run_b, instruction_tasks, filter_name) if instruction_tasks else []:
        docs = {row["doc_id"]: row["doc"] for row in read_sample_lines(task_pair.a.path)}
        rows = list(zip(task_pair.a.doc_ids, task_pair.a.hypotheses, task_pair.b.hypotheses, strict=True))
        for doc_id, answer_a, answer_b in rows[:limit] if limit else rows:
            doc = docs[doc_id]
            lang = doc.get("lang") or task_pair.task.rsplit("_", 1)[-1]
            pairs.append(PairItem(task_pair.task, lang, doc_id, _question(doc), answer_a, answer_b))
    if not pairs:
        raise InputError(
            f"no instruction samples (docs with 'instruction') common to --a {run_a.folder} and --b {run_b.folder}; "
            "run the mi_eval_xllm tasks with --log_samples for both systems"
        )
    return pairs


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


@dataclass(frozen=True)
class Gate:
    """The language gate's decision for one item."""

    expected: str
    """The language both answers must be in (the task's, or the question's detected one)."""
    ok_a: bool
    ok_b: bool
    question_lang: str

    @property
    def passed(self) -> bool:
        return self.ok_a and self.ok_b

    @property
    def outcome(self) -> str:
        """The outcome when the gate decides: the answer in the right language wins; both off: a tie."""
        return "win" if self.ok_a else "loss" if self.ok_b else "tie"


def judge_pairwise(
    dir_a: Run | str | Path,
    dir_b: Run | str | Path,
    client: JudgeClient,
    limit: int | None = None,
    tasks: list[str] | None = None,
    both_orders: bool = True,
    parse_retries: int = 2,
    gate_by: str = "task",
    filter_name: str | None = None,
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Per-language results (plus ``"all"``) and per-item details.

    ``gate_by="task"`` expects answers in the task's language; ``"question"`` in the language detected
    for the question (x-LLM's rule, which misfires on short questions, e.g. Chinese read as Japanese).
    """
    if gate_by not in ("task", "question"):
        raise InputError(f"--gate-by must be 'task' or 'question', got {gate_by!r}")
    pairs = load_pairs(dir_a, dir_b, limit, tasks, filter_name)
    orders = ("ab", "ba") if both_orders else ("ab",)
    gates = [gate(pair, gate_by) for pair in pairs]
    requests = pair_requests(pairs, gates, orders, client.settings.k)
    outcomes = judge_all(client, list(requests.values()), parse_scores, parse_retries, desc="judge pairwise")
    replies: dict[int, dict[tuple[str, int], Outcome]] = {}
    for (index, order, s), request in requests.items():
        replies.setdefault(index, {})[(order, s)] = outcomes[request]
    stats: dict[str, dict[str, Any]] = {}
    details = []
    for index, (pair, decision) in enumerate(zip(pairs, gates, strict=True)):
        row = stats.setdefault(pair.lang, _empty_stats())
        details.append(_judge_pair(pair, decision, replies.get(index, {}), orders, row))
    stats["all"] = {key: sum(row[key] for row in stats.values()) for key in _empty_stats()}
    return {lang: _finish(row) for lang, row in stats.items()}, details


def gate(pair: PairItem, gate_by: str) -> Gate:
    """Detect the languages of the question and both answers."""
    question_lang = langgate.detect(pair.question)
    expected = pair.lang if gate_by == "task" else question_lang
    return Gate(
        expected,
        langgate.passes(pair.answer_a, expected),
        langgate.passes(pair.answer_b, expected),
        question_lang,
    )


def pair_requests(
    pairs: list[PairItem], gates: list[Gate], orders: tuple[str, ...], k: int
) -> dict[tuple[int, str, int], ChatRequest]:
    """The judge requests of the items that passed the gate: (item index, order, sample) -> request."""
    requests = {}
    for index, (pair, decision) in enumerate(zip(pairs, gates, strict=True)):
        if not decision.passed:
            continue
        for order in orders:
            first, second = (
                (pair.answer_a, pair.answer_b) if order == "ab" else (pair.answer_b, pair.answer_a)
            )
            for s in range(k):
                requests[(index, order, s)] = ChatRequest(
                    pairwise_messages(pair.question, first, second), sample=s
                )
    return requests


def _judge_pair(
    pair: PairItem,
    decision: Gate,
    replies: dict[tuple[str, int], Outcome],
    orders: tuple[str, ...],
    row: dict[str, int],
) -> dict[str, Any]:
    """One item's outcome (tallied in ``row``) and its detail line."""
    row["items"] += 1
    row["a_in_language"] += decision.ok_a
    row["b_in_language"] += decision.ok_b
    row["question_detected_as_task_language"] += decision.question_lang == pair.lang
    detail: dict[str, Any] = {
        "task": pair.task, "lang": pair.lang, "doc_id": pair.doc_id, "question_language": decision.question_lang,
        "a_in_language": decision.ok_a, "b_in_language": decision.ok_b,
    }  # fmt: skip
    if decision.passed:
        outcome = _scored_outcome(replies, orders, row, detail)
    else:
        outcome = decision.outcome
        row["gated"] += 1
        row["gated_" + ("b_off" if decision.ok_a else "a_off" if decision.ok_b else "both_off")] += 1
        detail["note"] = f"language gate (expected {decision.expected!r}): no judge call"
    detail["outcome"] = outcome
    if outcome is not None:
        row[outcome] += 1
    return detail


def _scored_outcome(
    replies: dict[tuple[str, int], Outcome],
    orders: tuple[str, ...],
    row: dict[str, int],
    detail: dict[str, Any],
) -> str | None:
    """Win/tie/loss from the mean scores over both orders, or ``None`` (failed or unparseable)."""
    per_order: dict[str, list[tuple[float, float]]] = {}
    errors = []
    skips = []
    for (order, _sample), out in sorted(replies.items()):
        row["reasked_after_unparseable"] += max(0, out.tries - 1)
        if out.skipped:
            skips.append(out.skipped)
        if out.error:
            errors.append(out.error)
        elif out.value is not None:
            s1, s2 = out.value
            per_order.setdefault(order, []).append((s1, s2) if order == "ab" else (s2, s1))
    scores = [pair_ for order_scores in per_order.values() for pair_ in order_scores]
    detail["scores_a_b"] = {o: per_order[o] for o in orders if o in per_order}
    if skips:  # a half-judged item is not scored: a rerun completes it
        row["skipped"] += 1
        row[f"skipped_{skips[0]}"] += 1
        detail["skipped"] = skips[0]
        detail["error"] = errors[0]
        return None
    if not scores:
        if errors:
            row["failed"] += 1
            detail["error"] = errors[0]
        else:
            row["unparseable"] += 1
            detail["note"] = "unparseable replies: not scored"
        return None
    mean_a = sum(a for a, _ in scores) / len(scores)
    mean_b = sum(b for _, b in scores) / len(scores)
    detail["mean_a"], detail["mean_b"] = mean_a, mean_b
    row["judged"] += 1
    if len(per_order) == 2:
        row["both_orders"] += 1
        signs = [_sign(sum(a - b for a, b in per_order[o]) / len(per_order[o])) for o in ("ab", "ba")]
        if signs[0] != signs[1]:
            row["position_flips"] += 1
            detail["position_flip"] = True
    return OUTCOMES[1 - _sign(mean_a - mean_b)]


def _empty_stats() -> dict[str, int]:
    keys = ("items", "win", "tie", "loss", "gated", "judged", "unparseable", "failed", "a_in_language",
            "b_in_language", "question_detected_as_task_language", "both_orders", "position_flips",
            "reasked_after_unparseable", "gated_a_off", "gated_b_off", "gated_both_off", "skipped",
            "skipped_budget", "skipped_interrupted", "skipped_pending")  # fmt: skip
    return dict.fromkeys(keys, 0)


def _finish(row: dict[str, int]) -> dict[str, Any]:
    scored = row["win"] + row["tie"] + row["loss"]
    items = row["items"]
    out: dict[str, Any] = dict(row)
    out["n"] = scored
    for outcome in OUTCOMES:
        out[f"{outcome}_rate"] = row[outcome] / scored if scored else None
    for side in ("a", "b"):
        out[f"{side}_in_language"] = row[f"{side}_in_language"] / items if items else None
    out["question_detected_as_task_language"] = (
        row["question_detected_as_task_language"] / items if items else None
    )
    out["position_bias_rate"] = row["position_flips"] / row["both_orders"] if row["both_orders"] else None
    return out
