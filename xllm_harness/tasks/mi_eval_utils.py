"""lm-eval code of the ``mi_eval_xllm_<lang>`` tasks (``tasks/mi_eval_xllm/``).

Generation only: the answers are judged afterwards by ``xllm judge pairwise``. lm-eval reports
``nonempty`` (the share of non-empty answers) and ``off_target`` (the share of answers not in the
instruction's language).
"""

from __future__ import annotations

from typing import Any

from xllm_harness.metric_inputs import document_segment
from xllm_harness.taskgen import family_task_metrics, get_family
from xllm_harness.tasks import mi_eval_docs as mi_eval
from xllm_harness.tasks import task_metrics

HINT = "off_target is the only metric of MI-Eval in lm-eval; the judge scores the answers"


@task_metrics.one_line_errors
def load_dataset(lang: str, **metadata: Any):
    """lm-eval ``custom_dataset``: the MI-Eval items of ``lang``, metric plan checked first."""
    task_metrics.reproduce(metadata)
    names = family_task_metrics(get_family("mi_eval_xllm"))  # the family's list (off_target)
    fields = task_metrics.plan(f"mi_eval_xllm_{lang}", names, {}, HINT)
    return mi_eval.load_dataset(lang).map(lambda _: fields)


def process_results(doc: dict[str, Any], results: list[str]) -> dict[str, Any]:
    """``nonempty`` per answer, and the answer for ``off_target`` (in the instruction's language)."""
    segment = document_segment(doc, results, where=f"task {doc.get('task')} document")
    return {
        "nonempty": float(bool(segment.hypothesis.strip())),
        **task_metrics.document_results(doc, segment),
    }


__getattr__ = task_metrics.aggregations_by_name
