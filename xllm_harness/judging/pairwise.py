"""MI-Eval pairwise judging of system A against system B (the paper's Figure 4).

Per item (aligned by ``doc_id``, same instruction and input in both folders):

1. Language gate (x-LLM): each answer's language is detected with lid.176 and compared with the
   task's language (``gate_by="question"``: with the question's detected language, as x-LLM did). An
   answer in another language loses without a judge call; when both are off, it is a tie.
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

from xllm_harness.errors import InputError
from xllm_harness.judging import langgate
from xllm_harness.judging.batch import judge_all
from xllm_harness.judging.client import ChatRequest, JudgeClient
from xllm_harness.judging.prompts import pairwise_messages, parse_scores
from xllm_harness.lm_eval_outputs import read_sample_lines, response, sample_files

OUTCOMES = ("win", "tie", "loss")


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
    dir_a: str | Path, dir_b: str | Path, limit: int | None = None, tasks: list[str] | None = None
) -> list[PairItem]:
    """Aligned items of every instruction task (docs with ``instruction``) present in both folders."""
    files_a, files_b = sample_files(dir_a), sample_files(dir_b)
    common = sorted(set(files_a) & set(files_b))
    if tasks:
        missing = sorted(set(tasks) - set(common))
        if missing:
            raise InputError(f"--tasks: {', '.join(missing)} not in both --a {dir_a} and --b {dir_b}")
        common = [t for t in common if t in tasks]
    pairs: list[PairItem] = []
    for task in common:
        rows_a, rows_b = read_sample_lines(files_a[task]), read_sample_lines(files_b[task])
        if not rows_a or "instruction" not in rows_a[0]["doc"]:
            continue
        by_id_b = {r["doc_id"]: r for r in rows_b}
        selected = rows_a[:limit] if limit else rows_a
        for row in selected:
            other = by_id_b.get(row["doc_id"])
            if other is None:
                raise InputError(
                    f"{files_b[task]}: doc_id {row['doc_id']} missing (present in {files_a[task]})"
                )
            doc = row["doc"]
            if _question(doc) != _question(other["doc"]):
                raise InputError(
                    f"task {task} doc_id {row['doc_id']}: the instruction/input differ between "
                    f"{files_a[task]} and {files_b[task]}; both runs must use the same MI-Eval data"
                )
            lang = doc.get("lang") or task.rsplit("_", 1)[-1]
            pairs.append(PairItem(task, lang, row["doc_id"], _question(doc), response(row), response(other)))
    if not pairs:
        raise InputError(
            f"no instruction samples (docs with 'instruction') common to --a {dir_a} and --b {dir_b}; "
            "run the mi_eval_xllm tasks with --log_samples for both systems"
        )
    return pairs


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def judge_pairwise(
    dir_a: str | Path,
    dir_b: str | Path,
    client: JudgeClient,
    limit: int | None = None,
    tasks: list[str] | None = None,
    both_orders: bool = True,
    parse_retries: int = 2,
    gate_by: str = "task",
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    """Per-language results (plus ``"all"``) and per-item details.

    ``gate_by="task"`` expects answers in the task's language; ``"question"`` in the language detected
    for the question (x-LLM's rule, which misfires on short questions, e.g. Chinese read as Japanese).
    """
    if gate_by not in ("task", "question"):
        raise InputError(f"--gate-by must be 'task' or 'question', got {gate_by!r}")
    pairs = load_pairs(dir_a, dir_b, limit, tasks)
    k = client.settings.k
    orders = ("ab", "ba") if both_orders else ("ab",)
    gate: dict[int, tuple[str, bool, bool]] = {}
    requests: dict[tuple[int, str, int], ChatRequest] = {}
    for index, pair in enumerate(pairs):
        expected = pair.lang if gate_by == "task" else langgate.detect(pair.question)
        ok_a = langgate.detect(pair.answer_a) == expected
        ok_b = langgate.detect(pair.answer_b) == expected
        gate[index] = (expected, ok_a, ok_b)
        if ok_a and ok_b:
            for order in orders:
                first, second = (
                    (pair.answer_a, pair.answer_b) if order == "ab" else (pair.answer_b, pair.answer_a)
                )
                for s in range(k):
                    requests[(index, order, s)] = ChatRequest(
                        pairwise_messages(pair.question, first, second), sample=s
                    )
    outcomes = judge_all(client, list(requests.values()), parse_scores, parse_retries, desc="judge pairwise")

    stats: dict[str, dict[str, Any]] = {}
    details: list[dict[str, Any]] = []
    for index, pair in enumerate(pairs):
        expected, ok_a, ok_b = gate[index]
        row = stats.setdefault(pair.lang, _empty_stats())
        row["items"] += 1
        row["a_in_language"] += ok_a
        row["b_in_language"] += ok_b
        question_lang = langgate.detect(pair.question)
        row["question_detected_as_task_language"] += question_lang == pair.lang
        detail: dict[str, Any] = {
            "task": pair.task, "lang": pair.lang, "doc_id": pair.doc_id, "question_language": question_lang,
            "a_in_language": ok_a, "b_in_language": ok_b,
        }  # fmt: skip
        outcome: str | None
        if not (ok_a and ok_b):
            outcome = "win" if ok_a else "loss" if ok_b else "tie"
            row["gated"] += 1
            detail["note"] = "language gate: no judge call"
        else:
            per_order: dict[str, list[tuple[float, float]]] = {}
            errors = []
            for order in orders:
                for s in range(k):
                    out = outcomes[requests[(index, order, s)]]
                    row["reasked_after_unparseable"] += max(0, out.tries - 1)
                    if out.error:
                        errors.append(out.error)
                    elif out.value is not None:
                        s1, s2 = out.value
                        per_order.setdefault(order, []).append((s1, s2) if order == "ab" else (s2, s1))
            scores = [pair_ for order_scores in per_order.values() for pair_ in order_scores]
            detail["scores_a_b"] = {o: v for o, v in per_order.items()}
            if not scores:
                outcome = None
                if errors:
                    row["failed"] += 1
                    detail["error"] = errors[0]
                else:
                    row["unparseable"] += 1
                    detail["note"] = "unparseable replies: not scored"
            else:
                mean_a = sum(a for a, _ in scores) / len(scores)
                mean_b = sum(b for _, b in scores) / len(scores)
                detail["mean_a"], detail["mean_b"] = mean_a, mean_b
                outcome = OUTCOMES[1 - _sign(mean_a - mean_b)]
                row["judged"] += 1
                if len(per_order) == 2:
                    row["both_orders"] += 1
                    signs = [
                        _sign(sum(a - b for a, b in per_order[o]) / len(per_order[o])) for o in ("ab", "ba")
                    ]
                    if signs[0] != signs[1]:
                        row["position_flips"] += 1
                        detail["position_flip"] = True
        detail["outcome"] = outcome
        if outcome is not None:
            row[outcome] += 1
        details.append(detail)
    stats["all"] = _empty_stats()
    for lang, row in list(stats.items()):
        if lang != "all":
            for key, value in row.items():
                stats["all"][key] += value
    return {lang: _finish(row) for lang, row in stats.items()}, details


def _empty_stats() -> dict[str, int]:
    keys = ("items", "win", "tie", "loss", "gated", "judged", "unparseable", "failed", "a_in_language",
            "b_in_language", "question_detected_as_task_language", "both_orders", "position_flips",
            "reasked_after_unparseable")  # fmt: skip
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
